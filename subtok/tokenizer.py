"""The tokenizer pipeline: special tokens -> normalize -> pre-tokenize -> model -> post-process.

``Tokenizer`` ties the stages together, trains them from a corpus, encodes and decodes, and saves the
whole pipeline as one versioned JSON document that is validated when it is loaded. The stages live in
their own modules (``normalizers``, ``pre_tokenizers``, ``added_tokens``, ``models``, ``processors``,
``decoders``), the result of an encoding in ``encoding``, other libraries' formats in ``interop``.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Literal, Optional, Union, overload

import numpy as np

from . import _backend, interop
from ._io import PathLike, atomic_write_json, check_header, read_json
from .added_tokens import SpecialTokens
from .corpus import Corpus, WordSplitter, count_words
from .decoders import Decoder
from .encoding import Encoding, TextEncoder, WordSpans
from .errors import InputError, SubtokError, TokenizerFileError, TrainingError
from .models import TRAINERS, Model, Trainer, model_from_dict
from .normalizers import Normalizer, make_normalizers, normalize
from .pre_tokenizers import PRE_TOKENIZERS, PreTokenizer, make_pre_tokenizer
from .processors import PROCESSORS, BertPostProcessor, join_pair, pad, truncate_longest_first
from .text import Normalized
from .vocab import Vocab

if TYPE_CHECKING:
    import tiktoken

FORMAT = "subtok-tokenizer"
FORMAT_VERSION = 1

__all__ = ["Encoding", "Tokenizer"]


@contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector (when it was on) while a batch's results are built."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class Tokenizer:
    """A trained tokenizer: normalizers, a pre-tokenizer (default: the model's own, as its trainer's), a model
    (BPE, WordPiece or word-level), special tokens and an optional post-processor (BERT's [CLS] ... [SEP])."""

    def __init__(
        self,
        model: Model,
        normalizers: Sequence[Union[str, dict, Normalizer]] = (),
        pre_tokenizer: Union[str, dict, PreTokenizer, None] = None,
        special_tokens: Sequence[str] = (),
        post_processor: Optional[BertPostProcessor] = None,
    ) -> None:
        self.model = model
        self.post_processor = post_processor
        self.normalizers = make_normalizers(normalizers)
        self.pre_tokenizer = (
            make_pre_tokenizer(pre_tokenizer) if pre_tokenizer is not None else model.default_pre_tokenizer()
        )
        self.specials = SpecialTokens(special_tokens, model.vocab.word_to_id)
        self.decoder: Decoder = model.decoder()
        if post_processor is not None:
            absent = [t for t in post_processor.tokens if t not in model.vocab]
            if absent:
                raise SubtokError(f"post-processor tokens {absent} are not in the model's vocabulary")
        self._text_encoder: Optional[TextEncoder] = None
        self._text_encoder_backend = ""

    def _whole_text_encoder(self) -> Optional[TextEncoder]:
        """The model's encoder of whole texts for this pipeline (byte-level BPE with GPT-2's pattern, WordPiece
        with BERT's pre-tokenizer), which splits and encodes in one call, in the backend in use; or None."""
        if self._text_encoder_backend != _backend.name:
            self._text_encoder = self.model.text_encoder(self.normalizers, self.pre_tokenizer, self.specials.with_ids())
            self._text_encoder_backend = _backend.name
        return self._text_encoder

    @property
    def special_tokens(self) -> list[str]:
        return self.specials.tokens

    # -- training ----------------------------------------------------------------------------------------
    @classmethod
    def train(
        cls,
        corpus: Corpus,
        *,
        model: Union[str, Trainer] = "bpe",
        normalizers: Optional[Sequence[Union[str, dict, Normalizer]]] = None,
        pre_tokenizer: Union[str, dict, PreTokenizer, None] = None,
        show_progress: Optional[bool] = None,
        num_workers: Optional[int] = None,
        errors: str = "strict",
        **options,
    ) -> Tokenizer:
        """Learn a tokenizer from a corpus: a path, a list of paths, or any iterable of str.

        ``model`` is "bpe", "wordpiece" or "word" (or a trainer: ``models.BPETrainer(...)``); ``options``
        are its trainer's (``vocab_size``, ``min_frequency``, ``special_tokens`` for every model, then
        each model's own, such as ``byte_level`` for BPE or ``scoring`` for WordPiece), and an option the
        model does not take is an error naming it. Normalizers and the pre-tokenizer default to the
        model's (BPE: GPT-2's pattern, or whitespace for characters; WordPiece: BERT's; word: whitespace).
        The corpus is streamed into word counts (in parallel for large files); the vocabulary is exactly
        ``vocab_size`` unless the corpus runs out of pairs.
        """
        if isinstance(model, Trainer):
            if options:
                raise TrainingError(f"pass the options {sorted(options)} to the trainer, not to train()")
            trainer = model
        elif model in TRAINERS:
            trainer = TRAINERS[model].create({**options, "show_progress": show_progress})
        else:
            raise TrainingError(f"unknown model {model!r}; choose from {sorted(TRAINERS)}")
        norms = make_normalizers(normalizers) if normalizers is not None else trainer.default_normalizers()
        pre = make_pre_tokenizer(pre_tokenizer) if pre_tokenizer is not None else trainer.default_pre_tokenizer()
        splitter = WordSplitter([n.to_dict() for n in norms], pre.to_dict(), trainer.special_tokens)
        counts = count_words(corpus, splitter, num_workers=num_workers, errors=errors, show_progress=show_progress)
        trained = trainer.train(counts)
        return cls(trained, norms, pre, trainer.tokenizer_specials(trained), trainer.post_processor(trained))

    # -- lookups -----------------------------------------------------------------------------------------
    @property
    def vocab(self) -> Vocab:
        """The model's vocabulary (the same object)."""
        return self.model.vocab

    @property
    def vocab_size(self) -> int:
        return len(self.model.vocab)

    def token_to_id(self, token: str) -> Optional[int]:
        return self.model.vocab.word_to_id.get(token)

    def id_to_token(self, i: int) -> str:
        return self.model.vocab.token(i)

    # -- encoding ----------------------------------------------------------------------------------------
    def encode(self, text: str, pair: Optional[str] = None, add_special_tokens: bool = True) -> Encoding:
        """Ids of ``text`` (and of ``pair``, the second sequence, when given), with tokens and character
        offsets into each text available on the result. The post-processor, if any, adds its tokens
        ([CLS] ... [SEP]) unless ``add_special_tokens`` is False."""
        for arg in (text, pair) if pair is not None else (text,):
            if not isinstance(arg, str):
                raise InputError(f"encode takes a str, not {type(arg).__name__}")
        return self._encode_item(text if pair is None else (text, pair), add_special_tokens, None)

    def _encode_one(self, text: str) -> Encoding:
        whole = self._whole_text_encoder()
        if whole is not None:
            return whole.encode(text)
        ids: list[int] = []
        segments: list = []
        encode_word = self.model.encode_word
        for start, end, special in self.specials.segments(text):
            if special:
                ids.append(self.specials.id_of[text[start:end]])
                segments.append((start, end, None, None))
                continue
            piece = text[start:end]
            norm: Optional[Normalized] = None
            if self.normalizers:
                norm = normalize(self.normalizers, piece)
                piece = norm.text
            words = []
            for m in self.pre_tokenizer.regex.finditer(piece):
                word_ids = encode_word(m.group())
                ids.extend(word_ids)
                words.extend((m.start(), m.end(), len(word_ids)))
            segments.append((start, end, norm, words))
        return Encoding(ids, self.model, text, WordSpans, segments)

    @overload
    def encode_batch(
        self,
        texts: Iterable[Union[str, tuple[str, str]]],
        num_threads: Optional[int] = ...,
        padding: Union[bool, str] = ...,
        truncation: bool = ...,
        max_length: Optional[int] = ...,
        return_tensors: None = ...,
        add_special_tokens: bool = ...,
    ) -> list[Encoding]: ...

    @overload
    def encode_batch(
        self,
        texts: Iterable[Union[str, tuple[str, str]]],
        num_threads: Optional[int] = ...,
        padding: Union[bool, str] = ...,
        truncation: bool = ...,
        max_length: Optional[int] = ...,
        return_tensors: Literal["np"] = ...,
        add_special_tokens: bool = ...,
    ) -> dict[str, np.ndarray]: ...

    def encode_batch(
        self,
        texts: Iterable[Union[str, tuple[str, str]]],
        num_threads: Optional[int] = None,
        padding: Union[bool, str] = False,
        truncation: bool = False,
        max_length: Optional[int] = None,
        return_tensors: Optional[str] = None,
        add_special_tokens: bool = True,
    ) -> Union[list[Encoding], dict[str, np.ndarray]]:
        """Encode many texts (or (text, pair) tuples).

        Where the model has a whole-text encoder (byte-level BPE with GPT-2's pattern, WordPiece with BERT's
        pipeline) the batch runs in it, in the native core over ``num_threads`` threads (default: all
        cores); otherwise ``num_threads`` > 1 is a thread pool. padding: True/"longest" pads to the
        longest, "max_length" to ``max_length``; truncation cuts to ``max_length``, from the longer sequence
        of a pair first and keeping the post-processor's tokens. ``return_tensors="np"`` returns a dict of
        int64 arrays ``input_ids``, ``attention_mask`` and ``token_type_ids`` (padding to the longest when
        the lengths differ).
        """
        items = list(texts)
        if truncation and max_length is None:
            raise InputError("truncation=True needs max_length")
        if padding == "max_length" and max_length is None:
            raise InputError("padding='max_length' needs max_length")
        if padding not in (False, True, "longest", "max_length", "do_not_pad"):
            raise InputError(f"padding must be True, 'longest' or 'max_length', not {padding!r}")
        if return_tensors not in (None, "np"):
            raise InputError(f"return_tensors must be None or 'np', not {return_tensors!r}")
        for i, item in enumerate(items):
            ok = isinstance(item, str) or (
                isinstance(item, tuple) and len(item) == 2 and all(isinstance(x, str) for x in item)
            )
            if not ok:
                raise InputError(f"encode_batch takes str or (str, str) items; item {i} is {type(item).__name__}")
        whole = self._whole_text_encoder()
        if whole is not None and not truncation and all(isinstance(item, str) for item in items):
            threads = num_threads or os.cpu_count() or 1
            post = self.post_processor if add_special_tokens else None
            with _gc_paused():  # millions of new small objects: no cycles among them to look for
                encodings = whole.encode_batch(items, threads)
                if post is not None:
                    encodings = [post.apply(e, None) for e in encodings]
        else:

            def one(item):
                return self._encode_item(item, add_special_tokens, max_length if truncation else None)

            if num_threads and num_threads > 1 and len(items) > 1:
                with ThreadPoolExecutor(num_threads) as pool:
                    encodings = list(pool.map(one, items, chunksize=max(1, len(items) // (8 * num_threads))))
            else:
                encodings = [one(item) for item in items]
        if padding == "do_not_pad":
            padding = False
        if return_tensors and not padding and len({len(e) for e in encodings}) > 1:
            padding = "longest"
        if padding:
            target = max_length if padding == "max_length" else max((len(e) for e in encodings), default=0)
            pad(encodings, target, self.pad_id)
        if return_tensors == "np":
            n, width = len(encodings), max((len(e) for e in encodings), default=0)
            return {
                "input_ids": np.array([e.ids for e in encodings], dtype=np.int64).reshape(n, width),
                "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64).reshape(n, width),
                "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64).reshape(n, width),
            }
        return encodings

    def _encode_item(self, item, add_special_tokens: bool, max_length: Optional[int]) -> Encoding:
        text, pair = (item, None) if isinstance(item, str) else item
        first = self._encode_one(text)
        second = self._encode_one(pair) if pair is not None else None
        post = self.post_processor if add_special_tokens else None
        if max_length is not None:
            added = post.added(second is not None) if post is not None else 0
            truncate_longest_first(first, second, max_length - added)
        if post is not None:
            return post.apply(first, second)
        return first if second is None else join_pair(first, second)

    @property
    def pad_id(self) -> int:
        for name in ("<pad>", "[PAD]"):
            if name in self.model.vocab:
                return self.model.vocab.word_to_id[name]
        raise InputError("padding needs a '<pad>' token in the vocabulary")

    # -- decoding ----------------------------------------------------------------------------------------
    def decode(self, ids: Iterable[int], skip_special_tokens: bool = True) -> str:
        """The text of ``ids``. For byte-level BPE, ``decode(encode(s).ids) == s`` for every str.

        Runs of ids between special tokens are decoded by the model's decoder; the runs, and the special
        tokens unless skipped, are joined by its separator ("" for BPE, " " for WordPiece and words)."""
        vocab = self.model.vocab.id_to_word
        special_ids = self.specials.ids
        decode = self.decoder.decode
        pieces: list[str] = []
        run: list[str] = []
        for i in ids:
            i = int(i)
            if not 0 <= i < len(vocab):
                raise InputError(f"id {i} is outside the vocabulary of size {len(vocab)}")
            if i in special_ids:
                if run:
                    pieces.append(decode(run))
                    run = []
                if not skip_special_tokens:
                    pieces.append(vocab[i])
            else:
                run.append(vocab[i])
        if run:
            pieces.append(decode(run))
        return self.decoder.separator.join(pieces)

    # -- persistence -------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "normalizers": [n.to_dict() for n in self.normalizers],
            "pre_tokenizer": self.pre_tokenizer.to_dict(),
            "special_tokens": self.special_tokens,
            "post_processor": self.post_processor.to_dict() if self.post_processor is not None else None,
            "model": self.model.to_dict(),
        }

    def save(self, path: PathLike) -> None:
        """Write the tokenizer as one JSON document (atomically: no half-written file on failure)."""
        atomic_write_json(path, self.to_dict())

    @classmethod
    def from_dict(cls, d: Mapping, source: str = "tokenizer") -> Tokenizer:
        check_header(d, FORMAT, FORMAT_VERSION, source, "tokenizer")
        specials = d.get("special_tokens", [])
        if not isinstance(specials, list) or not all(isinstance(t, str) for t in specials):
            raise TokenizerFileError(f"{source}: 'special_tokens' must be a list of strings")
        try:
            model = model_from_dict(d.get("model"))
            norms = make_normalizers(d.get("normalizers") or [])
            pre_d = d.get("pre_tokenizer")
            pre = PRE_TOKENIZERS.from_dict(pre_d) if pre_d is not None else None  # None: the model's
            post = d.get("post_processor")
            return cls(model, norms, pre, specials, PROCESSORS.from_dict(post) if post is not None else None)
        except (SubtokError, TypeError, KeyError, AttributeError) as e:
            raise TokenizerFileError(f"{source}: {e}") from None

    @classmethod
    def load(cls, path: PathLike) -> Tokenizer:
        return cls.from_dict(read_json(path), source=str(path))

    # -- interop (subtok.interop) ------------------------------------------------------------------------
    def save_huggingface(self, path: PathLike) -> None:
        """Write an HF tokenizer.json that ``tokenizers.Tokenizer.from_file`` loads, giving the same ids."""
        interop.save_huggingface(self, path)

    @classmethod
    def from_huggingface(cls, path: PathLike) -> Tokenizer:
        """Read an HF tokenizer.json (BPE, byte- or character-level, WordPiece or WordLevel)."""
        return cls(**interop.read_huggingface(path))

    @classmethod
    def from_gpt2_files(
        cls, vocab_json: PathLike, merges_txt: PathLike, special_tokens: Sequence[str] = ()
    ) -> Tokenizer:
        """Read GPT-2-style vocab.json + merges.txt (byte-level BPE)."""
        return cls(**interop.read_gpt2_files(vocab_json, merges_txt, special_tokens))

    @classmethod
    def from_bert_vocab(cls, vocab_txt: PathLike, **options) -> Tokenizer:
        """BERT's WordPiece tokenizer from a vocab.txt; options: lowercase, strip_accents, clean_text,
        handle_chinese_chars, unk_token, cls_token, sep_token, max_input_chars_per_word."""
        return cls(**interop.read_bert_vocab(vocab_txt, **options))

    def save_bert_vocab(self, path: PathLike) -> None:
        """A WordPiece vocabulary as BERT's vocab.txt (one token per line)."""
        interop.save_bert_vocab(self, path)

    def mergeable_ranks(self) -> dict[bytes, int]:
        """Byte-level BPE: token bytes -> id, as tiktoken.Encoding takes them (same ids)."""
        return interop.mergeable_ranks(self)

    def to_tiktoken(self, name: str = "subtok") -> tiktoken.Encoding:
        """A tiktoken.Encoding with the same pattern, ranks and special tokens (needs tiktoken)."""
        return interop.to_tiktoken(self, name)
