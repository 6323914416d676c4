"""The tokenizer pipeline: special tokens -> normalize -> pre-tokenize -> model -> post-process.

``Tokenizer`` ties the stages together, trains them from a corpus, encodes and decodes, and saves the
whole pipeline as one versioned JSON document that is validated when it is loaded.
"""

from __future__ import annotations

import gc
import json
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Optional, Union

import regex

from . import interop
from ._io import PathLike, atomic_write_json
from .corpus import Corpus, WordSplitter, count_words
from .errors import SubtokError, TokenizerFileError, TrainingError
from .models.bpe import BPE, train_bpe
from .models.bpe_core import char_classes
from .models.word import WordLevel, train_word
from .models.wordpiece import DEFAULT_SPECIAL_TOKENS as WORDPIECE_SPECIAL_TOKENS
from .models.wordpiece import WordPiece, train_wordpiece
from .text import GPT2_PATTERN, BertNormalizer, Normalized, Normalizer, PreTokenizer, make_normalizers, normalize
from .vocab import Vocab

FORMAT = "subtok-tokenizer"
FORMAT_VERSION = 1
DEFAULT_SPECIAL_TOKENS = ("<unk>", "<pad>", "<bos>", "<eos>")
MODELS = {"bpe": BPE, "wordpiece": WordPiece, "word": WordLevel}

Model = Union[BPE, WordPiece, WordLevel]


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


class Encoding:
    """The result of encoding one text: ``ids`` at once; ``tokens`` and character ``offsets`` into the
    text on first use (so ``tok.encode(text).ids`` costs about what the ids alone cost)."""

    __slots__ = ("ids", "_tokenizer", "_text", "_parts", "_n_real", "_offsets", "type_ids", "special_tokens_mask")

    def __init__(self, ids: list[int], tokenizer: Tokenizer, text: str, parts) -> None:
        self.ids = ids
        self._tokenizer = tokenizer
        self._text = text
        # per segment: (start, end, None, None) for a special token, else (start, end, Normalized or None,
        # words) with words a flat sequence of (word start, word end, number of ids; -1 for a special token)
        # in the segment's text. The one-call encoder's int32 bytes stand for the whole text as one segment.
        self._parts = parts
        self._n_real = -1  # ids past this are padding; -1: none
        self._offsets: Optional[list[tuple[int, int]]] = None
        self.type_ids: list[int] = [0] * len(ids)  # 1 for the second sequence of a pair
        self.special_tokens_mask: list[int] = [0] * len(ids)  # 1 for tokens the post-processor added

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        return f"Encoding(n_tokens={len(self.ids)}, ids={self.ids[:8]}{'...' if len(self.ids) > 8 else ''})"

    @property
    def tokens(self) -> list[str]:
        vocab = self._tokenizer.model.vocab
        return [vocab[i] for i in self.ids]

    @property
    def n_real(self) -> int:
        """How many ids are real tokens (the rest are padding)."""
        return len(self.ids) if self._n_real < 0 else self._n_real

    @property
    def attention_mask(self) -> list[int]:
        return [1] * self.n_real + [0] * (len(self.ids) - self.n_real)

    @property
    def offsets(self) -> list[tuple[int, int]]:
        if self._offsets is None:
            self._offsets = self._compute_offsets()
        return self._offsets

    def _compute_offsets(self) -> list[tuple[int, int]]:
        model = self._tokenizer.model
        spans: list[tuple[int, int]] = []
        pos = 0
        parts = self._parts
        if isinstance(parts, bytes) and model.type == "wordpiece":  # the one-call encoder's (start, end) pairs
            flat = memoryview(parts).cast("i")
            spans = list(zip(flat[0::2], flat[1::2]))
            parts = []
        elif isinstance(parts, bytes):
            parts = [(0, len(self._text), None, parts)]
        elif isinstance(parts, tuple):  # post-processed: the sequences' encodings and added specials (None)
            for item in parts[1]:
                spans.extend(item.offsets if item is not None else [(0, 0)])
            parts = []
        for start, end, norm, words in parts:
            if words is None:  # a special token
                spans.append((start, end))
                pos += 1
                continue
            seg_text = norm.text if norm is not None else self._text[start:end]
            if isinstance(words, bytes):
                words = memoryview(words).cast("i")
            for k in range(0, len(words), 3):
                ws, we, n = words[k], words[k + 1], words[k + 2]
                if n < 0:  # a special token matched inside the text by the one-call encoder
                    spans.append((start + ws, start + we))
                    pos += 1
                    continue
                for s, e in model.word_offsets(seg_text[ws:we], self.ids[pos : pos + n]):
                    if norm is not None:
                        s, e = norm.original_span(ws + s, ws + e)
                    else:
                        s, e = ws + s, ws + e
                    spans.append((start + s, start + e))
                pos += n
        spans = spans[: self.n_real]
        return spans + [(0, 0)] * (len(self.ids) - len(spans))

    def _resize(self, length: int, pad_id: Optional[int]) -> None:
        """Truncate to ``length``, or pad up to it with ``pad_id``."""
        offsets = self.offsets
        n_real = self.n_real
        if len(self.ids) > length:
            self.ids = self.ids[:length]
            self._n_real = min(n_real, length)
            self._offsets = offsets[:length]
            self.type_ids = self.type_ids[:length]
            self.special_tokens_mask = self.special_tokens_mask[:length]
        elif len(self.ids) < length:
            extra = length - len(self.ids)
            self.ids = self.ids + [pad_id] * extra
            self._n_real = n_real
            self._offsets = offsets + [(0, 0)] * extra
            self.type_ids = self.type_ids + [0] * extra
            self.special_tokens_mask = self.special_tokens_mask + [1] * extra


class BertPostProcessor:
    """BERT's template: [CLS] A [SEP] for one sequence, [CLS] A [SEP] B [SEP] for a pair, with type id 0
    for the first part and 1 for B and its [SEP]. Added tokens have offsets (0, 0)."""

    type = "bert"

    def __init__(self, cls_token: str = "[CLS]", sep_token: str = "[SEP]") -> None:
        self.cls_token, self.sep_token = cls_token, sep_token

    def added(self, pair: bool) -> int:
        return 3 if pair else 2

    def apply(self, tok: Tokenizer, first: Encoding, second: Optional[Encoding]) -> Encoding:
        cls_id, sep_id = tok.model.token_to_id[self.cls_token], tok.model.token_to_id[self.sep_token]
        ids = [cls_id, *first.ids, sep_id]
        items: list = [None, first, None]
        type_ids = [0] * len(ids)
        if second is not None:
            ids += [*second.ids, sep_id]
            items += [second, None]
            type_ids += [1] * (len(second.ids) + 1)
        enc = Encoding(ids, tok, first._text, ("post", items))
        enc.type_ids = type_ids
        mask = [1] + [0] * len(first.ids) + [1]
        enc.special_tokens_mask = mask + ([0] * len(second.ids) + [1] if second is not None else [])
        return enc

    def to_dict(self) -> dict:
        return {"type": self.type, "cls": self.cls_token, "sep": self.sep_token}

    @classmethod
    def from_dict(cls, d: dict) -> BertPostProcessor:
        if not isinstance(d, dict) or d.get("type") != "bert":
            raise TokenizerFileError(f"unknown post_processor {d!r}")
        return cls(d.get("cls", "[CLS]"), d.get("sep", "[SEP]"))


def _truncate_longest_first(first: Encoding, second: Optional[Encoding], budget: int) -> None:
    """Cut tokens from the longer sequence until both fit ``budget`` (HF's "longest_first")."""
    budget = max(budget, 0)
    if second is None:
        if len(first) > budget:
            first._resize(budget, None)
        return
    while len(first) + len(second) > budget:
        longer = first if len(first) >= len(second) else second
        longer._resize(len(longer) - 1, None)


class Tokenizer:
    """A trained tokenizer: normalizers, a pre-tokenizer, a model (BPE, WordPiece or word-level), special
    tokens and an optional post-processor (BERT's [CLS] ... [SEP])."""

    def __init__(
        self,
        model: Model,
        normalizers: Sequence[Union[str, dict, Normalizer]] = (),
        pre_tokenizer: Optional[PreTokenizer] = None,
        special_tokens: Sequence[str] = (),
        post_processor: Optional[BertPostProcessor] = None,
    ) -> None:
        self.model = model
        self.post_processor = post_processor
        self.normalizers = make_normalizers(normalizers)
        self.pre_tokenizer = pre_tokenizer or PreTokenizer("gpt2")
        self.special_tokens = list(special_tokens)
        missing = [t for t in self.special_tokens if t not in model.token_to_id]
        if missing:
            raise TokenizerFileError(f"special tokens {missing} are not in the model's vocabulary")
        if post_processor is not None:
            absent = [t for t in (post_processor.cls_token, post_processor.sep_token) if t not in model.token_to_id]
            if absent:
                raise TokenizerFileError(f"post-processor tokens {absent} are not in the model's vocabulary")
        self._special_ids = {model.token_to_id[t] for t in self.special_tokens}
        self._special_re = (
            regex.compile("|".join(regex.escape(t) for t in sorted(self.special_tokens, key=len, reverse=True)))
            if self.special_tokens
            else None
        )
        self._vocab: Optional[Vocab] = None
        # byte-level BPE with GPT-2's pattern and no normalizer, or WordPiece with BERT's pre-tokenizer and
        # at most the BERT normalizer: split and encode whole texts in one call (in the native core)
        self._one_call = (
            getattr(model, "byte_level", False) and not self.normalizers and self.pre_tokenizer.pattern == GPT2_PATTERN
        ) or (
            model.type == "wordpiece"
            and self.pre_tokenizer.kind == "bert"
            and all(isinstance(n, BertNormalizer) for n in self.normalizers)
            and len(self.normalizers) <= 1
        )

    # -- training ----------------------------------------------------------------------------------------
    @classmethod
    def train(
        cls,
        corpus: Corpus,
        model: str = "bpe",
        vocab_size: int = 8000,
        min_frequency: int = 2,
        byte_level: bool = True,
        special_tokens: Optional[Sequence[str]] = None,
        show_progress: Optional[bool] = None,
        normalizers: Optional[Sequence[Union[str, dict, Normalizer]]] = None,
        pre_tokenizer: Union[str, PreTokenizer, None] = None,
        unk_token: Optional[str] = "<model default>",
        limit_alphabet: Optional[int] = None,
        byte_fallback: bool = False,
        continuing_subword_prefix: Optional[str] = None,
        end_of_word_suffix: Optional[str] = "</w>",
        scoring: str = "likelihood",
        max_input_chars_per_word: int = 100,
        num_workers: Optional[int] = None,
        errors: str = "strict",
    ) -> Tokenizer:
        """Learn a tokenizer from a corpus: a path, a list of paths, or any iterable of str.

        ``model``: "bpe" (byte-level by default; ``byte_level=False`` for characters, which uses
        ``unk_token`` or ``byte_fallback`` for unseen characters and ``end_of_word_suffix`` "</w>" by
        default), "wordpiece" (BERT: the BERT normalizer and pre-tokenizer, "##" continuation pieces,
        ``scoring`` "likelihood" or "frequency", [CLS] A [SEP] post-processing) or "word" (whole words,
        the rest ``unk_token``). Byte-level BPE splits text with GPT-2's pattern, character BPE and word
        models on whitespace. Special tokens default to <unk> <pad> <bos> <eos>, and to [PAD] [UNK] [CLS]
        [SEP] [MASK] for WordPiece. The corpus is streamed into word counts (in parallel for large files);
        the vocabulary is exactly ``vocab_size`` unless the corpus runs out of pairs. ``unk_token``
        defaults to "[UNK]" for WordPiece and "<unk>" otherwise (None: no unknown token, for character BPE
        with ``byte_fallback``).
        """
        if model not in MODELS:
            raise TrainingError(f"unknown model {model!r}; choose from {sorted(MODELS)}")
        if not isinstance(vocab_size, int) or vocab_size < 1:
            raise TrainingError(f"vocab_size must be a positive integer, not {vocab_size!r}")
        if min_frequency < 1:
            raise TrainingError(f"min_frequency must be at least 1, not {min_frequency!r}")
        wordpiece = model == "wordpiece"
        if isinstance(pre_tokenizer, str):
            pre_tokenizer = PreTokenizer(pre_tokenizer)
        if pre_tokenizer is None:
            default_pre = "bert" if wordpiece else "gpt2" if model == "bpe" and byte_level else "whitespace"
            pre_tokenizer = PreTokenizer(default_pre)
        if special_tokens is None:
            special_tokens = WORDPIECE_SPECIAL_TOKENS if wordpiece else DEFAULT_SPECIAL_TOKENS
        if unk_token == "<model default>":
            unk_token = "[UNK]" if wordpiece else "<unk>"
        if unk_token is None and model != "bpe":
            raise TrainingError(f"the {model} model needs an unk_token")
        specials = list(dict.fromkeys(special_tokens))
        norms = make_normalizers(normalizers if normalizers is not None else (["bert"] if wordpiece else ()))
        splitter = WordSplitter([n.to_dict() for n in norms], pre_tokenizer.to_dict(), specials)
        counts = count_words(corpus, splitter, num_workers=num_workers, errors=errors, show_progress=show_progress)
        trained: Model
        if model == "bpe":
            trained = train_bpe(
                counts,
                vocab_size,
                special_tokens=specials,
                min_frequency=min_frequency,
                byte_level=byte_level,
                limit_alphabet=limit_alphabet,
                unk_token=None if byte_level else unk_token,
                byte_fallback=byte_fallback,
                continuing_subword_prefix=continuing_subword_prefix,
                end_of_word_suffix=end_of_word_suffix,
                show_progress=show_progress,
            )
        elif wordpiece:
            trained = train_wordpiece(
                counts,
                vocab_size,
                special_tokens=specials,
                unk_token=unk_token,
                min_frequency=min_frequency,
                limit_alphabet=limit_alphabet,
                continuing_subword_prefix=continuing_subword_prefix or "##",
                scoring=scoring,
                max_input_chars_per_word=max_input_chars_per_word,
                show_progress=show_progress,
            )
        else:
            trained = train_word(counts, vocab_size, specials, unk_token, min_frequency)
        specials = [t for t in trained.vocab if t in set(specials) or t == unk_token]
        post = None
        if wordpiece and "[CLS]" in trained.token_to_id and "[SEP]" in trained.token_to_id:
            post = BertPostProcessor()
        return cls(trained, norms, pre_tokenizer, specials, post)

    # -- lookups -----------------------------------------------------------------------------------------
    @property
    def vocab(self) -> Vocab:
        if self._vocab is None:
            self._vocab = Vocab(self.model.vocab, unk=getattr(self.model, "unk_token", None))
        return self._vocab

    @property
    def vocab_size(self) -> int:
        return len(self.model.vocab)

    def token_to_id(self, token: str) -> Optional[int]:
        return self.model.token_to_id.get(token)

    def id_to_token(self, i: int) -> str:
        return self.vocab.token(i)

    # -- encoding ----------------------------------------------------------------------------------------
    def _segments(self, text: str) -> list[tuple[int, int, bool]]:
        """(start, end, is_special) pieces of ``text``: special tokens are matched first, never split."""
        if self._special_re is None:
            return [(0, len(text), False)]
        out, pos = [], 0
        for m in self._special_re.finditer(text):
            if m.start() > pos:
                out.append((pos, m.start(), False))
            out.append((m.start(), m.end(), True))
            pos = m.end()
        if pos < len(text):
            out.append((pos, len(text), False))
        return out

    def _one_call_encoder(self):
        """The encoder that splits and encodes whole texts, specials included."""
        tid = self.model.token_to_id
        specials = [(t, tid[t]) for t in sorted(self.special_tokens, key=len, reverse=True)]
        if self.model.type == "wordpiece":
            return self.model.text_encoder(self.normalizers[0] if self.normalizers else None, specials)
        return self.model.text_encoder(specials)

    def encode(self, text: str, pair: Optional[str] = None, add_special_tokens: bool = True) -> Encoding:
        """Ids of ``text`` (and of ``pair``, the second sequence, when given), with tokens and character
        offsets into each text available on the result. The post-processor, if any, adds its tokens
        ([CLS] ... [SEP]) unless ``add_special_tokens`` is False."""
        for arg in (text, pair) if pair is not None else (text,):
            if not isinstance(arg, str):
                raise SubtokError(f"encode takes a str, not {type(arg).__name__}")
        return self._encode_item(text if pair is None else (text, pair), add_special_tokens, None)

    def _encode_one(self, text: str) -> Encoding:
        if self._one_call:
            ids, words = self._one_call_encoder().encode_text(text, char_classes())
            return Encoding(ids, self, text, words)
        ids: list[int] = []
        parts: list = []
        encode_word = self.model.encode_word
        for start, end, special in self._segments(text):
            if special:
                ids.append(self.model.token_to_id[text[start:end]])
                parts.append((start, end, None, None))
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
            parts.append((start, end, norm, words))
        return Encoding(ids, self, text, parts)

    def encode_batch(
        self,
        texts: Iterable[Union[str, tuple[str, str]]],
        num_threads: Optional[int] = None,
        padding: Union[bool, str] = False,
        truncation: bool = False,
        max_length: Optional[int] = None,
        return_tensors: Optional[str] = None,
        add_special_tokens: bool = True,
    ):
        """Encode many texts (or (text, pair) tuples).

        Byte-level BPE runs the whole batch in the native core over ``num_threads`` threads (default: all
        cores); other models use ``num_threads`` > 1 as a thread pool. padding: True/"longest" pads to the
        longest, "max_length" to ``max_length``; truncation cuts to ``max_length``, from the longer sequence
        of a pair first and keeping the post-processor's tokens. ``return_tensors="np"`` returns a dict of
        int64 arrays ``input_ids``, ``attention_mask`` and ``token_type_ids`` (padding to the longest when
        the lengths differ).
        """
        items = list(texts)
        if truncation and max_length is None:
            raise SubtokError("truncation=True needs max_length")
        if padding == "max_length" and max_length is None:
            raise SubtokError("padding='max_length' needs max_length")
        if padding not in (False, True, "longest", "max_length", "do_not_pad"):
            raise SubtokError(f"padding must be True, 'longest' or 'max_length', not {padding!r}")
        if return_tensors not in (None, "np"):
            raise SubtokError(f"return_tensors must be None or 'np', not {return_tensors!r}")
        for i, item in enumerate(items):
            ok = isinstance(item, str) or (
                isinstance(item, tuple) and len(item) == 2 and all(isinstance(x, str) for x in item)
            )
            if not ok:
                raise SubtokError(f"encode_batch takes str or (str, str) items; item {i} is {type(item).__name__}")
        if self._one_call and not truncation and all(isinstance(item, str) for item in items):
            # split and encode in the core, over num_threads threads (default: all cores)
            threads = num_threads or os.cpu_count() or 1
            post = self.post_processor if add_special_tokens else None
            with _gc_paused():  # millions of new small objects: no cycles among them to look for
                results = self._one_call_encoder().encode_batch(items, char_classes(), threads)
                encodings = [Encoding(ids, self, t, w) for t, (ids, w) in zip(items, results)]
                if post is not None:
                    encodings = [post.apply(self, e, None) for e in encodings]
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
            pad_id = self.pad_id
            for e in encodings:
                if len(e) < target:
                    e._resize(target, pad_id)
        if return_tensors == "np":
            import numpy as np

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
            _truncate_longest_first(first, second, max_length - added)
        if post is not None:
            return post.apply(self, first, second)
        if second is None:
            return first
        joined = Encoding(first.ids + second.ids, self, text, ("post", [first, second]))
        joined.type_ids = [0] * len(first.ids) + [1] * len(second.ids)
        return joined

    @property
    def pad_id(self) -> int:
        for name in ("<pad>", "[PAD]"):
            if name in self.model.token_to_id:
                return self.model.token_to_id[name]
        raise SubtokError("padding needs a '<pad>' token in the vocabulary")

    # -- decoding ----------------------------------------------------------------------------------------
    def decode(self, ids: Iterable[int], skip_special_tokens: bool = True) -> str:
        """The text of ``ids``. For byte-level BPE, ``decode(encode(s).ids) == s`` for every str."""
        vocab = self.model.vocab
        pieces: list[str] = []
        run: list[str] = []
        for i in ids:
            i = int(i)
            if not 0 <= i < len(vocab):
                raise SubtokError(f"id {i} is outside the vocabulary of size {len(vocab)}")
            if i in self._special_ids:
                if run:
                    pieces.append(self.model.decode_tokens(run))
                    run = []
                if not skip_special_tokens:
                    pieces.append(vocab[i])
            else:
                run.append(vocab[i])
        if run:
            pieces.append(self.model.decode_tokens(run))
        return self.model.piece_separator.join(pieces)

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
    def from_dict(cls, d: dict, source: str = "tokenizer") -> Tokenizer:
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise TokenizerFileError(f'{source}: not a subtok tokenizer file (no "format": {FORMAT!r})')
        if d.get("version") != FORMAT_VERSION:
            raise TokenizerFileError(
                f"{source}: tokenizer format version {d.get('version')!r}; this subtok reads version {FORMAT_VERSION}"
            )
        model_d = d.get("model")
        if not isinstance(model_d, dict) or model_d.get("type") not in MODELS:
            raise TokenizerFileError(f"{source}: 'model' must be an object with type in {sorted(MODELS)}")
        specials = d.get("special_tokens", [])
        if not isinstance(specials, list) or not all(isinstance(t, str) for t in specials):
            raise TokenizerFileError(f"{source}: 'special_tokens' must be a list of strings")
        try:
            model = MODELS[model_d["type"]].from_dict(model_d, source)
            norms = make_normalizers(d.get("normalizers") or [])
            pre = PreTokenizer.from_dict(d.get("pre_tokenizer") or {"type": "gpt2"})
            post = d.get("post_processor")
            return cls(model, norms, pre, specials, BertPostProcessor.from_dict(post) if post is not None else None)
        except TokenizerFileError:
            raise
        except (SubtokError, TypeError, KeyError, AttributeError) as e:
            raise TokenizerFileError(f"{source}: {e}") from None

    @classmethod
    def load(cls, path: PathLike) -> Tokenizer:
        return cls.from_dict(read_json_file(path), source=str(path))

    # -- interop (subtok.interop) ------------------------------------------------------------------------
    def save_huggingface(self, path: PathLike) -> None:
        """Write an HF tokenizer.json that ``tokenizers.Tokenizer.from_file`` loads, giving the same ids."""
        interop.save_huggingface(self, path)

    @classmethod
    def from_huggingface(cls, path: PathLike) -> Tokenizer:
        """Read an HF tokenizer.json (BPE, byte- or character-level, or WordLevel)."""
        return interop.from_huggingface(path)

    @classmethod
    def from_gpt2_files(cls, vocab_json: PathLike, merges_txt: PathLike, special_tokens=()) -> Tokenizer:
        """Read GPT-2-style vocab.json + merges.txt (byte-level BPE)."""
        return interop.from_gpt2_files(vocab_json, merges_txt, special_tokens)

    @classmethod
    def from_bert_vocab(cls, vocab_txt: PathLike, **options) -> Tokenizer:
        """BERT's WordPiece tokenizer from a vocab.txt; options: lowercase, strip_accents, clean_text,
        handle_chinese_chars, unk_token, cls_token, sep_token, max_input_chars_per_word."""
        return interop.from_bert_vocab(vocab_txt, **options)

    def save_bert_vocab(self, path: PathLike) -> None:
        """A WordPiece vocabulary as BERT's vocab.txt (one token per line)."""
        interop.save_bert_vocab(self, path)

    def mergeable_ranks(self) -> dict[bytes, int]:
        """Byte-level BPE: token bytes -> id, as tiktoken.Encoding takes them (same ids)."""
        return interop.mergeable_ranks(self)

    def to_tiktoken(self, name: str = "subtok"):
        """A tiktoken.Encoding with the same pattern, ranks and special tokens (needs tiktoken)."""
        return interop.to_tiktoken(self, name)


def read_json_file(path: PathLike):
    """Parse a JSON file, turning every failure into an error that names the file and position."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise TokenizerFileError(f"file not found: {path}") from None
    except IsADirectoryError:
        raise TokenizerFileError(f"{path} is a directory, not a file") from None
    except UnicodeDecodeError as e:
        raise TokenizerFileError(f"{path}: not UTF-8 text (byte offset {e.start})") from None
    except json.JSONDecodeError as e:
        raise TokenizerFileError(
            f"{path}: malformed or truncated JSON at line {e.lineno}, column {e.colno}: {e.msg}"
        ) from None
