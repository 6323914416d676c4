"""The tokenizer pipeline: special tokens -> normalize -> pre-tokenize -> model -> post-process.

``Tokenizer`` ties the stages together, trains them from a corpus, encodes and decodes, and saves the
whole pipeline as one versioned JSON document that is validated when it is loaded. The stages live in
their own modules (``normalizers``, ``pre_tokenizers``, ``added_tokens``, ``models``, ``processors``,
``decoders``), the result of an encoding in ``encoding``, other libraries' formats in ``interop``.
"""

from __future__ import annotations

import gc
import json
import math
import operator
import os
import random
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial, wraps
from itertools import islice
from typing import TYPE_CHECKING, Any, Literal, Optional, Union, overload

import numpy as np

from . import _backend, interop, sentencepiece_io
from ._io import PathLike, atomic_write_json, check_header, read_json
from .added_tokens import WHITE_SPACE_START, AddedToken, AddedVocabulary
from .corpus import Corpus, WordCounts, check_splitting, count_words, sample_lines, training_splitting
from .decoders import DECODERS, Decoder, Recomposed
from .encoding import Encoding, PieceRecord, Pieces, SpelledPieces, TextEncoder
from .errors import InputError, SubtokError, TokenizerFileError, TrainingError
from .models import TRAINERS, Model, Trainer, model_from_dict
from .models.base import check_word_counts, encode_each
from .models.unigram_core import SplitMix64
from .normalizers import HangulJamo, Normalizer, make_normalizers, normalize_str
from .pre_tokenizers import PRE_TOKENIZERS, PreTokenizer, make_pre_tokenizer
from .processors import (
    PROCESSORS,
    PostProcessor,
    check_padding,
    check_truncation,
    merge,
    pad,
    pad_batch,
    truncate_pair,
)
from .text import Spelled, file_lines
from .vocab import MAX_ID, Vocab

if TYPE_CHECKING:
    import tiktoken

FORMAT = "subtok-tokenizer"
FORMAT_VERSION = 1

__all__ = ["Encoding", "Tokenizer"]


class _UnigramDraw:
    """Segmentations drawn from a Unigram model (``encode(sample=True)``): per word with a
    ``random.Random(seed)``, or, from the whole lattice (``nbest_size`` < 0), by a whole-text encoder that
    samples, each text with the next seed of a SplitMix64 stream seeded with ``seed``."""

    def __init__(self, model, alpha: float, nbest_size: int, seed: Optional[int]) -> None:
        self.model, self.alpha, self.nbest_size = model, alpha, nbest_size
        self.whole_lattice = nbest_size < 0
        self.seeds = SplitMix64(seed if seed is not None else random.getrandbits(64))
        self._seed = seed
        self._rng: Optional[random.Random] = None

    def __call__(self, word: str, spelled: bool) -> list[int]:
        if self._rng is None:
            self._rng = random.Random(self._seed)
        return self.model.sample_word(word, self.alpha, self.nbest_size, self._rng)

    def next_seed(self) -> int:
        """The seed of the next text's draw on a whole-text encoder."""
        return self.seeds.next64()


def _from_json(document: str) -> Tokenizer:
    """A tokenizer from the JSON text of its ``to_dict`` (unpickling)."""
    return Tokenizer.from_dict(json.loads(document))


def _trainer(model: Union[str, Trainer], options: dict, show_progress: Optional[bool]) -> Trainer:
    """A trainer given, or the named model's made from ``options``."""
    if isinstance(model, Trainer):
        if options:
            raise TrainingError(f"pass the options {sorted(options)} to the trainer, not to train()")
        return model
    if model in TRAINERS:
        return TRAINERS[model].create({**options, "show_progress": show_progress})
    raise TrainingError(f"unknown model {model!r}; choose from {sorted(TRAINERS)}")


def _check_count(name: str, value: Optional[int], low: int) -> None:
    """An integer argument of at least ``low``, or None; else an error naming it."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < low):
        raise InputError(f"{name} must be an integer of at least {low} (or None), not {value!r}")


# encode_batch's keyword options that encode_iterable passes on
_STREAM_OPTIONS = frozenset(
    {"allowed_special", "disallowed_special", "dropout", "sample", "alpha", "nbest_size", "seed"}
)


@contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector (when it was on) while many objects that form no cycle are made: a
    batch's results, or a vocabulary read or trained (a 151k-token tokenizer.json loaded in 0.63 s, not 0.76
    s)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _pausing_gc(fn: Callable) -> Callable:
    """``fn`` with the collector paused around each call (``_gc_paused``); the wrapper is subtok's own, so a
    warning raised inside still names the caller's line (``errors.warn_caller``)."""

    @wraps(fn)
    def paused(*args, **kwargs):
        with _gc_paused():
            return fn(*args, **kwargs)

    return paused


class Tokenizer:
    """A tokenizer: normalizers, a pre-tokenizer (default: the model's own, as its trainer's), a model (BPE,
    WordPiece or word-level), added tokens (special or not), a post-processor, a decoder (default: the
    model's), and optionally truncation and padding that every encode applies, as HF's tokenizer.json says.

    ``special_tokens`` are tokens of the model's vocabulary matched in the raw text (our own tokenizers'
    form); ``added_tokens`` are (AddedToken, id) pairs with HF's flags, each either a token of the model's
    vocabulary (same id) or one of the tokenizer's own, at an id the model does not use. The tokenizer's
    ``vocab`` is the model's tokens and these; its ids may leave gaps (cl100k's special tokens do).
    """

    def __init__(
        self,
        model: Model,
        normalizers: Sequence[Union[str, dict, Normalizer]] = (),
        pre_tokenizer: Union[str, dict, PreTokenizer, None] = None,
        special_tokens: Sequence[str] = (),
        post_processor: Optional[PostProcessor] = None,
        *,
        added_tokens: Sequence[tuple[AddedToken, int]] = (),
        decoder: Optional[Decoder] = None,
        truncation: Optional[dict] = None,
        padding: Optional[dict] = None,
    ) -> None:
        self.model = model
        self.post_processor = post_processor
        self.normalizers = make_normalizers(normalizers)
        self.pre_tokenizer = (
            make_pre_tokenizer(pre_tokenizer) if pre_tokenizer is not None else model.default_pre_tokenizer()
        )
        if self.pre_tokenizer.spelled and not (model.type == "bpe" and model.byte_level):
            raise SubtokError("a pre-tokenizer with steps after its ByteLevel step needs a byte-level BPE model")
        token_to_id = model.vocab.word_to_id
        missing = [t for t in special_tokens if t not in token_to_id]
        if missing:
            raise SubtokError(f"special tokens {missing} are not in the model's vocabulary")
        self.added = AddedVocabulary([(AddedToken(t, special=True), token_to_id[t]) for t in special_tokens])
        for token, token_id in added_tokens:
            self._check_added_id(token, token_id)
            self.added.add(token, token_id)
        self._vocab = self._full_vocab()
        if decoder is None:
            decoder = model.decoder()
            if any(isinstance(n, HangulJamo) for n in self.normalizers):
                decoder = Recomposed(decoder)  # the decoder undoes the one normalizer that is lossless
        self.decoder: Decoder = decoder
        if post_processor is not None:
            absent = [t for t in getattr(post_processor, "tokens", ()) if t not in self._vocab]
            if absent:
                raise SubtokError(f"post-processor tokens {absent} are not in the vocabulary")
        self.truncation = check_truncation(truncation)
        self.padding = check_padding(padding)
        self._text_encoders: dict = {}
        self._text_encoder_backend = ""

    def _check_added_id(self, token: AddedToken, token_id: int) -> None:
        """An added token's id is its id in the model's vocabulary, or one neither the model nor another
        added token uses."""
        if type(token_id) is not int or not 0 <= token_id < MAX_ID:
            raise SubtokError(f"added token {token.content!r}: id {token_id!r} is not an integer from 0 to {MAX_ID}")
        model_ids, model_tokens = self.model.vocab.word_to_id, self.model.vocab.id_to_word
        holder = model_tokens[token_id] if token_id < len(model_tokens) else None
        holder = holder if holder is not None else self.added.by_id.get(token_id, token).content
        if holder != token.content or model_ids.get(token.content, token_id) != token_id:
            raise SubtokError(
                f"added token {token.content!r} cannot have id {token_id}: the vocabulary has "
                f"{holder!r} there or {token.content!r} elsewhere"
            )

    def _full_vocab(self) -> Vocab:
        """The model's vocabulary, and the added tokens it lacks at their ids (the model's own object when
        it has every one)."""
        model_vocab = self.model.vocab
        own = {
            i: t.content
            for i, t in self.added.by_id.items()
            if i >= len(model_vocab) or model_vocab.id_to_word[i] is None
        }
        if not own:
            return model_vocab
        tokens = list(model_vocab.id_to_word) + [None] * (max(own) + 1 - len(model_vocab))
        for i, content in own.items():
            tokens[i] = content
        return Vocab(tokens, unk=model_vocab.unk)

    @property
    def special_tokens(self) -> list[str]:
        """The special tokens, in the order they were given (added ones after)."""
        return self.added.specials

    def _whole_text_encoder(self, allowed: Optional[frozenset], identity: bool = False) -> Optional[TextEncoder]:
        """The model's encoder of whole texts for this pipeline (byte-level BPE with a scanned pattern,
        WordPiece with BERT's pre-tokenizer, SentencePiece), which splits and encodes in one call, in the
        backend in use; or None. With ``identity``, the encoder of the pipeline without its normalizers, for
        texts they leave as they are (``Normalizer.leaves``). It looks for the added tokens literally in the
        raw text, longest first, so it serves only where HF would find them so too: no single_word, lstrip
        and rstrip only where the model's encoder takes them (``strips_specials``), and one search (all
        looked for before normalization, or all after it, spelled as they are)."""
        if self._text_encoder_backend != _backend.name:
            self._text_encoders.clear()
            self._text_encoder_backend = _backend.name
        key = (allowed, identity)
        if key not in self._text_encoders:
            normalizers = () if identity else self.normalizers
            tokens = [t for t, _ in self.added.tokens]
            normalized = [t for t in tokens if t.normalized]
            strips = getattr(self.model, "strips_specials", False) and not any(
                WHITE_SPACE_START.match(t.content) for t in tokens
            )  # the model's encoder takes lstrip and rstrip, which need no token to start with white space
            plain = not any(t.single_word or (not strips and (t.lstrip or t.rstrip)) for t in tokens) and (
                not normalized
                or (
                    len(normalized) == len(tokens)
                    and all(normalize_str(self.normalizers, t.content) == t.content for t in normalized)
                    and not normalizers
                )
            )
            if identity and not (
                self.normalizers and all(type(n).leaves is not Normalizer.leaves for n in self.normalizers)
            ):
                plain = False  # no cheap test tells which texts the normalizers leave alone
            literals = self.added.literals(allowed, strips=strips)
            encoder = self.model.text_encoder(normalizers, self.pre_tokenizer, literals) if plain else None
            self._text_encoders[key] = encoder.with_vocab(self._vocab) if encoder is not None else None
        return self._text_encoders[key]

    def _fast_encoder(self, allowed: Optional[frozenset], text: str) -> Optional[TextEncoder]:
        """The whole-text encoder for ``text``: the pipeline's, else the one without normalizers when they
        leave ``text`` as it is (GPT-NeoX's NFC before GPT-2's pattern, on text already in NFC)."""
        whole = self._whole_text_encoder(allowed)
        if whole is None and self.normalizers and all(n.leaves(text) for n in self.normalizers):
            whole = self._whole_text_encoder(allowed, identity=True)
        return whole

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

        ``model`` is "bpe", "wordpiece", "word" or "unigram" (or a trainer: ``models.BPETrainer(...)``);
        ``options`` are its trainer's (``vocab_size``, ``min_frequency``, ``special_tokens`` for every model,
        then each model's own, such as ``byte_level`` for BPE, ``scoring`` for WordPiece or
        ``character_coverage`` for Unigram), and an option the model does not take is an error naming it.
        Normalizers and the pre-tokenizer default to the model's (BPE: GPT-2's pattern, or whitespace for
        characters; WordPiece: BERT's; word: whitespace; Unigram: SentencePiece's normalizer, none).
        The corpus is streamed into word counts (in parallel for large files); the vocabulary is exactly
        ``vocab_size`` unless the corpus runs out of pairs.
        """
        trainer = _trainer(model, options, show_progress)
        norms, pre, splitter = training_splitting(trainer, normalizers, pre_tokenizer)
        if trainer.input_sentence_size:
            corpus = sample_lines(corpus, trainer.input_sentence_size, trainer.seed)
        counts = count_words(corpus, splitter, num_workers=num_workers, errors=errors, show_progress=show_progress)
        return cls._from_trained(trainer, counts, norms, pre)

    @classmethod
    def train_from_counts(
        cls,
        counts: Mapping[str, int],
        *,
        model: Union[str, Trainer] = "bpe",
        normalizers: Optional[Sequence[Union[str, dict, Normalizer]]] = None,
        pre_tokenizer: Optional[Union[str, dict, PreTokenizer]] = None,
        show_progress: Optional[bool] = None,
        **options,
    ) -> Tokenizer:
        """``train`` on words already counted (``corpus.WordCounts``, from one machine or merged from many;
        or any mapping word -> count). Counts that say how they were counted must have been counted as this
        training would count them (the same normalizers, pre-tokenizer and special tokens): otherwise the
        error says what differs, since training on them would silently learn another vocabulary."""
        trainer = _trainer(model, options, show_progress)
        norms, pre, splitter = training_splitting(trainer, normalizers, pre_tokenizer)
        check_splitting(counts, splitter)
        check_word_counts(counts)
        return cls._from_trained(trainer, counts, norms, pre)

    @classmethod
    def _from_trained(cls, trainer: Trainer, counts: Mapping[str, int], norms, pre) -> Tokenizer:
        """The tokenizer that ``trainer`` learns from ``counts``, the cyclic garbage collector paused: the
        trainers make hundreds of thousands of small objects (merges, vocabulary entries, indexes), none of
        them in a cycle, and its passes over them took a tenth of a 32k BPE training's time."""
        with _gc_paused():
            trained = trainer.train(counts)
            return cls(trained, norms, pre, trainer.tokenizer_specials(trained), trainer.post_processor(trained))

    @classmethod
    def train_from_iterator(cls, texts: Iterable[str], **options) -> Tokenizer:
        """``train`` on texts as they are (each item one text, never a file name), as HF's method of that
        name; ``options`` are ``train``'s."""
        if isinstance(texts, (str, os.PathLike)):
            raise InputError("train_from_iterator takes an iterable of texts; a file goes to Tokenizer.train")
        return cls.train((t for t in texts), **options)

    def extend(
        self,
        corpus_or_counts: Union[Corpus, Mapping[str, int]],
        n_new_tokens: int,
        *,
        min_frequency: int = 2,
        num_workers: Optional[int] = None,
        show_progress: Optional[bool] = None,
    ) -> int:
        """Grow a BPE vocabulary on new text, in place: up to ``n_new_tokens`` merges learned on
        ``corpus_or_counts`` (a corpus, or ``WordCounts`` counted for this tokenizer) after the existing ones,
        their tokens at the next free ids. Every old id and merge stays, so old text encodes as before
        except where a new merge applies; a merge whose token the vocabulary already has is not learned,
        so the result saves for HF tokenizers and tiktoken alike. Merges only: a character-level
        vocabulary's unknown characters stay unknown (no pair spans one). Returns how many tokens were added
        (fewer than asked when no pair occurs ``min_frequency`` times any more)."""
        if self.model.type != "bpe":
            raise TrainingError(f"extend grows BPE vocabularies; this tokenizer's model is {self.model.type}")
        if isinstance(n_new_tokens, bool) or not isinstance(n_new_tokens, int) or n_new_tokens < 0:
            raise InputError(f"n_new_tokens must be a non-negative integer, not {n_new_tokens!r}")
        options = {"special_tokens": list(self.special_tokens), "byte_level": self.model.byte_level}
        if isinstance(corpus_or_counts, Mapping):
            counts = corpus_or_counts
            check_splitting(counts, training_splitting(TRAINERS["bpe"].create(options), tokenizer=self)[2])
            check_word_counts(counts)
        else:
            counts = WordCounts.from_corpus(
                corpus_or_counts, self, num_workers=num_workers, show_progress=show_progress, **options
            )
        before = len(self.model.merges)
        self.model = self.model.extended(counts, n_new_tokens, len(self._vocab), min_frequency)
        self._vocab = self._full_vocab()
        self._text_encoders.clear()
        return len(self.model.merges) - before

    # -- lookups -----------------------------------------------------------------------------------------
    @property
    def vocab(self) -> Vocab:
        """The tokenizer's vocabulary: the model's, with the added tokens the model lacks at their ids (the
        model's own object when there are none). Its ids may leave gaps; ``len`` counts them."""
        return self._vocab

    @property
    def vocab_size(self) -> int:
        """One more than the highest id (the rows an embedding table needs), added tokens included."""
        return len(self._vocab)

    def get_vocab(self) -> dict[str, int]:
        """Token -> id, added tokens included (HF's get_vocab)."""
        return dict(self._vocab.word_to_id)

    def token_to_id(self, token: str) -> Optional[int]:
        return self._vocab.word_to_id.get(token)

    def id_to_token(self, i: int) -> str:
        """The token with id ``i``; an id outside the vocabulary, or a gap in it, is an IndexError."""
        if isinstance(i, bool) or not hasattr(i, "__index__"):
            raise InputError(f"id_to_token takes an integer id, not {i!r}")
        return self._vocab.token(operator.index(i))

    # -- added tokens ------------------------------------------------------------------------------------
    def add_tokens(self, tokens: Sequence[Union[str, AddedToken]]) -> int:
        """Add tokens to the vocabulary (HF's add_tokens): a new one gets the next id, one the vocabulary has
        keeps its id; returns how many were new to the added tokens. They are matched in text before the
        pre-tokenizer, after normalization unless ``AddedToken(..., normalized=False)``."""
        return self._add([t if isinstance(t, AddedToken) else AddedToken(t) for t in tokens])

    def add_special_tokens(self, tokens: Sequence[Union[str, AddedToken]]) -> int:
        """Add special tokens (matched in the raw text, skipped by ``decode(skip_special_tokens=True)``)."""
        return self._add([t if isinstance(t, AddedToken) else AddedToken(t, special=True) for t in tokens])

    def _add(self, tokens: list[AddedToken]) -> int:
        """HF's add_tokens: ids by ``AddedVocabulary.assign_ids``; a token already added with the same flags
        is left alone. Returns how many tokens were added or changed."""
        known = set(t for t, _ in self.added.tokens)
        new = [t for t in tokens if t not in known]
        self.added.assign_ids(new, self.model.vocab)
        self._vocab = self._full_vocab()
        self._text_encoders.clear()
        return len(new)

    # -- encoding ----------------------------------------------------------------------------------------
    def encode(
        self,
        text: str,
        pair: Optional[str] = None,
        add_special_tokens: bool = True,
        *,
        allowed_special: Union[str, Collection[str]] = "all",
        disallowed_special: Union[str, Collection[str]] = (),
        dropout: Optional[float] = None,
        sample: bool = False,
        alpha: float = 0.1,
        nbest_size: int = -1,
        seed: Optional[int] = None,
    ) -> Encoding:
        """Ids of ``text`` (and of ``pair``, the second sequence, when given), with tokens and character
        offsets into each text available on the result. The post-processor, if any, adds its tokens
        ([CLS] ... [SEP]) unless ``add_special_tokens`` is False.

        Special tokens spelled in the text are those tokens, as in HF (the default, ``allowed_special``
        "all"). tiktoken's semantics: only the special tokens in ``allowed_special`` become tokens, the
        text of the others is encoded as ordinary text, and text that spells one of
        ``disallowed_special`` ("all": every special token not allowed) is an error. For untrusted text:
        ``encode(text, allowed_special=set())`` (or ``encode_ordinary``).

        Subword regularization, off by default and reproducible for a given ``seed``: with ``dropout`` a
        BPE model skips each merge with that probability (BPE-dropout, Provilkov et al. 2020); with
        ``sample`` a Unigram model draws the segmentation with probability proportional to
        P(segmentation)^``alpha``, from the whole lattice (``nbest_size`` -1) or from the ``nbest_size``
        best (SentencePiece's ``enable_sampling``; a SentencePiece BPE model skips each merge with
        probability ``alpha``, as the library does).
        """
        for arg in (text, pair) if pair is not None else (text,):
            if not isinstance(arg, str):
                raise InputError(f"encode takes a str, not {type(arg).__name__}")
        allowed = self._allowed(allowed_special, disallowed_special, (text, pair))
        draw = self._segmentation_sampler(dropout, sample, alpha, nbest_size, seed)
        return self._encode_item(text if pair is None else (text, pair), add_special_tokens, allowed, draw)

    def _segmentation_sampler(
        self, dropout: Optional[float], sample: bool, alpha: float, nbest_size: int, seed: Optional[int]
    ) -> Optional[Callable[[str, bool], list[int]]]:
        """None when encoding is deterministic, else word (, spelled) -> ids of a drawn segmentation."""
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise InputError(f"seed must be an integer or None, not {seed!r}")
        model = self.model
        if dropout:
            if not hasattr(model, "encode_spelled") or not isinstance(dropout, (int, float)) or not 0 < dropout <= 1:
                raise InputError(f"dropout takes a probability in (0, 1] and a BPE model, not {dropout!r} and "
                                 f"{model.type}")  # fmt: skip
            if sample:
                raise InputError("dropout and sample are two ways of drawing: choose one")
            rng = random.Random(seed)
            return lambda word, spelled: (model.encode_spelled if spelled else model.encode_word)(word, dropout, rng)
        if not sample:
            return None
        if not hasattr(model, "sample_word"):
            raise InputError(f"sample=True draws Unigram segmentations; a {model.type} model takes dropout= (BPE)")
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not math.isfinite(alpha):
            raise InputError(f"alpha must be a finite number, not {alpha!r}")
        if isinstance(nbest_size, bool) or not isinstance(nbest_size, int):
            raise InputError(f"nbest_size must be an integer, not {nbest_size!r}")
        if nbest_size in (0, 1):  # SentencePiece's rule: the best segmentation, nothing drawn
            return None
        return _UnigramDraw(model, float(alpha), nbest_size, seed)

    def encode_ordinary(self, text: str) -> list[int]:
        """tiktoken's encode_ordinary: the ids of ``text`` with no special token matched (added tokens that
        are not special still are: they are vocabulary) and nothing added around them. Where a whole-text
        encoder runs, the core builds the list without an Encoding (``encode_ordinary_batch``'s path)."""
        plain = isinstance(text, str) and not self.truncation and not self.padding
        whole = self._fast_encoder(frozenset(), text) if plain else None
        if whole is not None:
            return whole.encode_batch_ids([text], 1)[0]
        return self.encode(text, add_special_tokens=False, allowed_special=()).ids

    def _allowed(self, allowed_special, disallowed_special, texts) -> Optional[frozenset]:
        """The special tokens that may be matched (None: all), after tiktoken's check of disallowed ones."""
        for name, value in (("allowed_special", allowed_special), ("disallowed_special", disallowed_special)):
            if isinstance(value, str) and value != "all":  # a str would be taken as its characters
                raise InputError(f'{name} must be "all" or a collection of tokens, not {value!r}')
        specials = frozenset(self.added.specials)
        allowed = None if allowed_special == "all" else frozenset(allowed_special)
        if disallowed_special == "all":
            disallowed = specials - (allowed if allowed is not None else specials)
        else:
            disallowed = frozenset(disallowed_special)
        if disallowed:
            for text in texts:
                if text is not None:
                    self.added.check_disallowed(text, disallowed)
        return allowed

    def _encode_one(self, text: str, allowed: Optional[frozenset], draw=None) -> Encoding:
        """One text through the pipeline; ``draw`` (``_segmentation_sampler``'s) draws each word's ids."""
        on_whole = draw is None or getattr(draw, "whole_lattice", False)
        whole = self._fast_encoder(allowed, text) if on_whole else None
        if whole is not None and (draw is None or whole.can_sample):
            return whole.encode(text) if draw is None else whole.sample(text, draw.alpha, draw.next_seed())
        ids: list[int] = []
        record: PieceRecord = []
        spelled = self.pre_tokenizer.spelled  # words in byte-level spelling: a byte-level BPE's encode_spelled
        model = self.model
        if draw is not None:
            encode_words = partial(encode_each, lambda word: draw(word, spelled))
        else:
            encode_words = partial(model.encode_words, spelled=True) if spelled else model.encode_words
        word_spans, pre_tokenize = self.pre_tokenizer.word_spans, self.pre_tokenizer.pre_tokenize
        for piece in self.added.split(text, self.normalizers, allowed):
            if piece.token_id is not None:
                ids.append(piece.token_id)
                record.append((piece.norm, None, None))
                continue
            got = word_spans(piece.norm)
            # words that are not substrings of one text (rare pipelines): each word its own piece
            parts = [got] if got is not None else [(w, [(0, len(w.text))]) for w in pre_tokenize([piece.norm])]
            for norm, spans in parts:
                # words in byte-level spelling go to the model as the bytes they spell, where it has them
                ptext = norm.data if spelled and draw is None and isinstance(norm, Spelled) else norm.text
                word_ids, counts = encode_words([ptext[s:e] for s, e in spans])
                ids += word_ids
                record.append((norm, spans, counts))
        return Encoding(ids, self.model, self._vocab, text, SpelledPieces if spelled else Pieces, record)

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
        *,
        allowed_special: Union[str, Collection[str]] = ...,
        disallowed_special: Union[str, Collection[str]] = ...,
        dropout: Optional[float] = ...,
        sample: bool = ...,
        alpha: float = ...,
        nbest_size: int = ...,
        seed: Optional[int] = ...,
    ) -> list[Encoding]: ...

    @overload
    def encode_batch(
        self,
        texts: Iterable[Union[str, tuple[str, str]]],
        num_threads: Optional[int] = ...,
        padding: Union[bool, str] = ...,
        truncation: bool = ...,
        max_length: Optional[int] = ...,
        return_tensors: Literal["np", "flat"] = ...,
        add_special_tokens: bool = ...,
        *,
        allowed_special: Union[str, Collection[str]] = ...,
        disallowed_special: Union[str, Collection[str]] = ...,
        dropout: Optional[float] = ...,
        sample: bool = ...,
        alpha: float = ...,
        nbest_size: int = ...,
        seed: Optional[int] = ...,
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
        *,
        allowed_special: Union[str, Collection[str]] = "all",
        disallowed_special: Union[str, Collection[str]] = (),
        dropout: Optional[float] = None,
        sample: bool = False,
        alpha: float = 0.1,
        nbest_size: int = -1,
        seed: Optional[int] = None,
    ) -> Union[list[Encoding], dict[str, np.ndarray]]:
        """Encode many texts (or (text, pair) tuples).

        Where the model has a whole-text encoder (byte-level BPE with GPT-2's pattern, WordPiece with BERT's
        pipeline) the batch runs in it, in the native core over ``num_threads`` threads (default: all
        cores); otherwise ``num_threads`` > 1 is a thread pool. padding: True/"longest" pads to the
        longest, "max_length" to ``max_length``; truncation cuts to ``max_length``, from the longer sequence
        of a pair first and keeping the post-processor's tokens. Without these arguments, the truncation
        and padding the tokenizer carries (from its tokenizer.json) apply, as in HF. ``return_tensors="np"``
        returns a dict of int64 arrays ``input_ids``, ``attention_mask`` and ``token_type_ids`` (padding to
        the longest when the lengths differ); ``return_tensors="flat"`` a dict of ``input_ids``, every
        text's ids one after the other (int32), and ``row_splits`` (int64, one more than there are texts):
        text i's ids are ``input_ids[row_splits[i]:row_splits[i + 1]]`` (no padding applies); where a
        whole-text encoder runs, the native core builds them without a Python object per text.
        ``allowed_special`` and ``disallowed_special`` are ``encode``'s (for untrusted texts:
        ``allowed_special=()``). ``dropout``, ``sample``, ``alpha``, ``nbest_size`` and ``seed`` draw
        segmentations as ``encode`` does, one generator for the whole batch in order, so that a seed gives
        the same batch every time on any number of threads (a new seed per epoch, a new segmentation);
        Unigram sampling from the whole lattice runs in the whole-text encoder's threads, other draws on
        one thread.
        """
        if isinstance(texts, str):
            raise InputError("encode_batch takes a list of texts, not one str (use encode)")
        if not isinstance(texts, Iterable):
            raise InputError(f"encode_batch takes a list of texts, not {type(texts).__name__}")
        _check_count("num_threads", num_threads, 1)
        _check_count("max_length", max_length, 0)
        items = list(texts)
        if truncation and max_length is None:
            raise InputError("truncation=True needs max_length")
        if padding == "max_length" and max_length is None:
            raise InputError("padding='max_length' needs max_length")
        if padding not in (False, True, "longest", "max_length", "do_not_pad"):
            raise InputError(f"padding must be True, 'longest' or 'max_length', not {padding!r}")
        if return_tensors not in (None, "np", "flat"):
            raise InputError(f"return_tensors must be None, 'np' or 'flat', not {return_tensors!r}")
        flat = return_tensors == "flat"
        if flat and padding not in (False, "do_not_pad"):
            raise InputError("return_tensors='flat' gives each text's ids as they are: padding does not apply")
        all_str = set(map(type, items)) <= {str}  # (one pass at C speed; the common case)
        for i, item in enumerate(items if not all_str else ()):
            ok = isinstance(item, str) or (
                isinstance(item, tuple) and len(item) == 2 and all(isinstance(x, str) for x in item)
            )
            if not ok:
                raise InputError(f"encode_batch takes str or (str, str) items; item {i} is {type(item).__name__}")
        trunc = {**(self.truncation or {}), "max_length": max_length} if truncation else self.truncation
        texts_of = (x for item in items for x in ((item,) if isinstance(item, str) else item))
        allowed = self._allowed(allowed_special, disallowed_special, texts_of)
        draw = self._segmentation_sampler(dropout, sample, alpha, nbest_size, seed)
        whole = self._whole_text_encoder(allowed) if draw is None or getattr(draw, "whole_lattice", False) else None
        if draw is not None and whole is not None and not whole.can_sample:
            whole = None
        if draw is None and whole is None and self.normalizers and self._whole_text_encoder(allowed, identity=True):
            whole = self._whole_text_encoder(allowed, identity=True)  # for the texts the normalizers leave alone
            fast = [i for i, t in enumerate(items) if isinstance(t, str) and all(n.leaves(t) for n in self.normalizers)]
        else:
            fast = range(len(items))
        if whole is not None and not trunc and all_str:
            threads = num_threads or os.cpu_count() or 1
            post = self.post_processor if add_special_tokens else None
            if flat and draw is None and len(fast) == len(items):
                ids, row_splits = whole.encode_batch_flat(items, threads, self._flat_template(add_special_tokens))
                return {"input_ids": ids, "row_splits": row_splits}
            with _gc_paused():  # millions of new small objects: no cycles among them to look for
                texts = [items[i] for i in fast]
                template = None
                if post is not None and post.frames and draw is None and len(fast) == len(items):
                    template = post.template(whole.model, whole.vocab)  # put around each text by the core
                if draw is None:
                    encoded = whole.encode_batch(texts, threads, template)
                else:  # a seed per text, drawn in order: the same batch on any number of threads
                    encoded = whole.sample_batch(texts, draw.alpha, [draw.next_seed() for _ in texts], threads)
                if len(fast) == len(items):
                    encodings = encoded
                else:  # the others through the whole pipeline
                    encodings = [None] * len(items)
                    for i, enc in zip(fast, encoded):
                        encodings[i] = enc
                    encodings = [e if e is not None else self._encode_one(t, allowed) for e, t in zip(encodings, items)]
                if post is not None and template is None:
                    encodings = post.apply_batch(encodings)
        else:

            def one(item):
                return self._encode_item(item, add_special_tokens, allowed, draw, truncation=trunc, pad=False)

            with _gc_paused():  # each encoding keeps its pieces' records: many objects, no cycles among them
                if draw is None and num_threads and num_threads > 1 and len(items) > 1:
                    with ThreadPoolExecutor(num_threads) as pool:
                        encodings = list(pool.map(one, items, chunksize=max(1, len(items) // (8 * num_threads))))
                else:
                    encodings = [one(item) for item in items]
        if flat:
            lengths = np.fromiter(map(len, encodings), dtype=np.int64, count=len(encodings))
            row_splits = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(lengths)])
            ids = np.fromiter((i for e in encodings for i in e.ids), dtype=np.int32, count=int(row_splits[-1]))
            return {"input_ids": ids, "row_splits": row_splits}
        if padding == "do_not_pad":
            padding = False
        if return_tensors and not padding and not self.padding and len({len(e) for e in encodings}) > 1:
            padding = "longest"
        if padding:
            target = max_length if padding == "max_length" else max((len(e) for e in encodings), default=0)
            pad(encodings, target, self.pad_id)
        elif self.padding:
            pad_batch(encodings, self.padding)
        if return_tensors == "np":
            n, width = len(encodings), max((len(e) for e in encodings), default=0)
            return {
                "input_ids": np.array([e.ids for e in encodings], dtype=np.int64).reshape(n, width),
                "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64).reshape(n, width),
                "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64).reshape(n, width),
            }
        return encodings

    def encode_ordinary_batch(self, texts: Iterable[str], num_threads: Optional[int] = None) -> list[list[int]]:
        """tiktoken's encode_ordinary_batch: ``encode_ordinary`` of each text, a list of ids per text (the
        form tiktoken's batches and sentencepiece's ``encode(list)`` return). Where a whole-text encoder
        runs (SentencePiece, byte-level BPE with a scanned pattern, BERT's WordPiece) the native core builds
        the lists over ``num_threads`` threads (default: all cores) without an Encoding per text; otherwise
        (or where the tokenizer truncates or pads) it is ``encode_batch``'s ids."""
        if isinstance(texts, str) or not isinstance(texts, Iterable):
            raise InputError(f"encode_ordinary_batch takes a list of texts, not {type(texts).__name__}")
        _check_count("num_threads", num_threads, 1)
        items = list(texts)
        if not set(map(type, items)) <= {str}:  # (one pass at C speed; then a closer look, str subclasses allowed)
            for i, item in enumerate(items):
                if not isinstance(item, str):
                    raise InputError(f"encode_ordinary_batch takes str items; item {i} is {type(item).__name__}")
        whole = self._whole_text_encoder(frozenset())
        if whole is not None and not self.truncation and not self.padding:
            with _gc_paused():  # a list per text, none of them in a cycle: nothing for the collector to find
                return whole.encode_batch_ids(items, num_threads or os.cpu_count() or 1)
        encodings = self.encode_batch(items, num_threads, add_special_tokens=False, allowed_special=())
        return [e.ids for e in encodings]

    def encode_iterable(
        self,
        texts: Iterable[str],
        *,
        batch_size: int = 1000,
        num_threads: Optional[int] = None,
        add_special_tokens: bool = True,
        return_tensors: Optional[str] = None,
        **options: Any,
    ) -> Iterator[Union[int, dict[str, np.ndarray]]]:
        """The ids of ``texts``, each text encoded alone, one after the other, as a generator that takes
        and encodes ``batch_size`` texts at a time (``encode_batch``'s flat form): memory holds one batch
        however many texts come, so a corpus of any size streams through it (an open file gives its lines,
        newlines kept). With ``return_tensors="flat"`` it yields one ``{"input_ids", "row_splits"}`` per
        batch instead, which keeps where each text's ids start. ``options`` are ``encode_batch``'s keyword
        ones (``allowed_special``, ``dropout``, ...; a seed draws the same segmentations for the same texts
        and batch size)."""
        if isinstance(texts, str):
            raise InputError("encode_iterable takes an iterable of texts, not one str")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InputError(f"batch_size must be a positive integer, not {batch_size!r}")
        if return_tensors not in (None, "flat"):
            raise InputError(f"encode_iterable's return_tensors is None or 'flat', not {return_tensors!r}")
        unknown = set(options) - _STREAM_OPTIONS
        if unknown:
            raise InputError(f"encode_iterable does not take {', '.join(sorted(unknown))}")
        if options.get("seed") is not None and (options.get("dropout") or options.get("sample")):
            seeds = random.Random(options["seed"])  # one seed per batch, drawn in order
        else:
            seeds = None
        return self._stream(iter(texts), batch_size, num_threads, add_special_tokens, return_tensors, options, seeds)

    def encode_lines(
        self, text: str, num_threads: Optional[int] = None, add_special_tokens: bool = True
    ) -> dict[str, np.ndarray]:
        """The lines of ``text`` as a file has them (each ended by "\n", only "\n", the newline dropped; an
        empty text has none), each encoded alone, as ``encode_batch(lines, return_tensors="flat")`` gives
        them: ``{"input_ids", "row_splits"}``. Where the pipeline has a whole-text encoder the core splits
        the lines itself, with no str made per line (``subtok encode`` reads its files a block at a
        time this way)."""
        if not isinstance(text, str):
            raise InputError(f"encode_lines takes a str, not {type(text).__name__}")
        allowed = self._allowed("all", (), ())
        whole = self._whole_text_encoder(allowed)
        if whole is None or self.truncation:
            return self.encode_batch(file_lines(text), num_threads, add_special_tokens=add_special_tokens,
                                     return_tensors="flat")  # fmt: skip
        template = self._flat_template(add_special_tokens)
        ids, row_splits = whole.encode_lines_flat(text, num_threads or os.cpu_count() or 1, template)
        return {"input_ids": ids, "row_splits": row_splits}

    def encode_blocks(
        self, blocks: Iterable[str], num_threads: Optional[int] = None, add_special_tokens: bool = True
    ) -> Iterator[dict[str, np.ndarray]]:
        """``encode_lines`` of each block of lines in turn, as a generator, ``num_threads`` blocks at a time,
        each block's lines on one thread of its own: for a stream of blocks (``subtok encode`` reads its files
        this way), where one block on several threads would have them wait for each other at every block's
        end (200 MB of GPT-2's blocks read and encoded on two threads: 1.30-1.50 s, against 1.53-1.67 s with
        each block on both). Memory holds ``num_threads`` + 1 blocks and their ids. Without a native
        whole-text encoder (the blocks would run in Python, one thread at a time) they are encoded one after
        the other."""
        threads = num_threads or os.cpu_count() or 1
        whole = self._whole_text_encoder(self._allowed("all", (), ())) if _backend.name == "native" else None
        if threads == 1 or self.truncation or whole is None:
            for block in blocks:
                yield self.encode_lines(block, threads, add_special_tokens)
            return
        with ThreadPoolExecutor(threads) as pool:
            pending: deque = deque()
            for block in blocks:
                pending.append(pool.submit(self.encode_lines, block, 1, add_special_tokens))
                if len(pending) > threads:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()

    def _flat_template(self, add_special_tokens: bool) -> tuple[list[int], list[int]]:
        """The ids a flat batch puts before and after each text: the post-processor's, when it adds them."""
        post = self.post_processor if add_special_tokens else None
        if post is None:
            return [], []
        template = post.template(self.model, self._vocab)
        return template.before, template.after

    def _stream(self, texts, batch_size, num_threads, add_special_tokens, return_tensors, options, seeds):
        while batch := list(islice(texts, batch_size)):
            if seeds is not None:
                options = {**options, "seed": seeds.getrandbits(63)}
            flat = self.encode_batch(
                batch, num_threads, add_special_tokens=add_special_tokens, return_tensors="flat", **options
            )
            if return_tensors == "flat":
                yield flat
            else:
                yield from flat["input_ids"].tolist()

    def _encode_item(self, item, add_special_tokens: bool, allowed, draw=None, truncation="file", pad=True) -> Encoding:
        """One text or pair through the whole pipeline: encode, truncate, post-process, pad (HF's order)."""
        text, pair = (item, None) if isinstance(item, str) else item
        first = self._encode_one(text, allowed, draw)
        second = self._encode_one(pair, allowed, draw) if pair is not None else None
        if second is not None:
            second.type_ids = [1] * len(second.ids)
        post = self.post_processor
        trunc = self.truncation if truncation == "file" else truncation
        if trunc:
            added = post.added(second is not None) if post is not None and add_special_tokens else 0
            truncate_pair(first, second, trunc, added)
        if post is not None:
            enc = post.apply(first, second, add_special_tokens)
        else:
            enc = first if second is None else merge([first, second])
        if pad and self.padding:
            pad_batch([enc], self.padding)
        return enc

    @property
    def pad_id(self) -> int:
        if self.padding is not None:
            return self.padding.get("pad_id", 0)
        for name in ("<pad>", "[PAD]"):
            if name in self._vocab:
                return self._vocab.word_to_id[name]
        raise InputError("padding needs a '<pad>' token in the vocabulary")

    # -- decoding ----------------------------------------------------------------------------------------
    def decode(self, ids: Iterable[int], skip_special_tokens: bool = True) -> str:
        """The text of ``ids``. For byte-level BPE, ``decode(encode(s).ids) == s`` for every str.

        Special tokens are left out unless ``skip_special_tokens`` is False (HF's default). HF's decoders
        decode the whole list of tokens; our own tokenizers' decoders decode each run of ids between special
        tokens, and the runs and special tokens are joined by its separator ("" for BPE, " " for WordPiece
        and words)."""
        vocab = self._vocab.id_to_word
        special_ids = self.added.special_ids
        tokens: list[str] = []
        runs: list[str] = []
        run: list[str] = []
        if isinstance(ids, (str, bytes)) or not isinstance(ids, Iterable):
            raise InputError(f"decode takes a list of integer ids, not {type(ids).__name__}")
        for i in ids:
            try:
                i = operator.index(i)  # an int or a numpy integer; never a float or a str
            except TypeError:
                raise InputError(f"ids must be integers, not {i!r}") from None
            if not 0 <= i < len(vocab) or vocab[i] is None:
                where = "a gap in" if 0 <= i < len(vocab) else "outside"
                raise InputError(f"id {i} is {where} the vocabulary of size {len(vocab)}")
            if i in special_ids:
                if skip_special_tokens:
                    continue
                if self.decoder.per_run:
                    if run:
                        runs.append(self.decoder.decode(run))
                        run = []
                    runs.append(vocab[i])
                    continue
            (run if self.decoder.per_run else tokens).append(vocab[i])
        if not self.decoder.per_run:
            return self.decoder.decode(tokens)
        if run:
            runs.append(self.decoder.decode(run))
        return self.decoder.separator.join(runs)

    def decode_batch(self, batch: Iterable[Iterable[int]], skip_special_tokens: bool = True) -> list[str]:
        """``decode`` of each list of ids."""
        return [self.decode(ids, skip_special_tokens) for ids in batch]

    # -- persistence -------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Our JSON: version 1 for what our own trainers make, version 2 when the tokenizer carries what only
        other files give it (added tokens with HF's flags or the model lacks, another decoder, truncation or
        padding)."""
        d = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "normalizers": [n.to_dict() for n in self.normalizers],
            "pre_tokenizer": self.pre_tokenizer.to_dict(),
            "special_tokens": self.special_tokens,
            "post_processor": self.post_processor.to_dict() if self.post_processor is not None else None,
            "model": self.model.to_dict(),
        }
        model_ids = self.model.vocab.word_to_id
        plain = [
            t
            for t, i in self.added.tokens
            if t == AddedToken(t.content, special=True) and model_ids.get(t.content) == i
        ]
        extra = {
            "added_tokens": [t.to_hf(i) for t, i in self.added.tokens] if len(plain) < len(self.added) else None,
            "decoder": self.decoder.to_dict() if self.decoder.to_dict() != self.model.decoder().to_dict() else None,
            "truncation": self.truncation,
            "padding": self.padding,
        }
        extra = {k: v for k, v in extra.items() if v is not None}
        if extra:
            d["version"] = 2
            if "added_tokens" in extra:
                d["special_tokens"] = []
            d.update(extra)
        return d

    def __reduce__(self):
        """Pickled as its JSON document (what ``save`` writes): a worker process or machine rebuilds it from
        that, its native tables made on first use there."""
        return (_from_json, (json.dumps(self.to_dict(), ensure_ascii=False),))

    def save(self, path: PathLike) -> None:
        """Write the tokenizer as one JSON document (atomically: no half-written file on failure)."""
        atomic_write_json(path, self.to_dict())

    @classmethod
    @_pausing_gc
    def from_dict(cls, d: Mapping, source: str = "tokenizer") -> Tokenizer:
        version = d.get("version") if isinstance(d, Mapping) else None
        check_header(d, FORMAT, version if version in (1, 2) else FORMAT_VERSION, source, "tokenizer")
        specials = d.get("special_tokens", [])
        if not isinstance(specials, list) or not all(isinstance(t, str) for t in specials):
            raise TokenizerFileError(f"{source}: 'special_tokens' must be a list of strings")
        try:
            model = model_from_dict(d.get("model"))
            norms = make_normalizers(d.get("normalizers") or [])
            pre_d = d.get("pre_tokenizer")
            pre = PRE_TOKENIZERS.from_dict(pre_d) if pre_d is not None else None  # None: the model's
            post = d.get("post_processor")
            added = d.get("added_tokens") or []
            if not isinstance(added, list) or not all(isinstance(a, dict) for a in added):
                raise SubtokError("'added_tokens' must be a list of objects")
            decoder = d.get("decoder")
            return cls(
                model,
                norms,
                pre,
                specials,
                PROCESSORS.from_dict(post) if post is not None else None,
                added_tokens=[(AddedToken.from_hf(a), a.get("id")) for a in added],
                decoder=DECODERS.from_dict(decoder) if decoder is not None else None,
                truncation=d.get("truncation"),
                padding=d.get("padding"),
            )
        except (SubtokError, TypeError, KeyError, AttributeError) as e:
            raise TokenizerFileError(f"{source}: {e}") from None

    @classmethod
    @_pausing_gc
    def load(cls, path: PathLike) -> Tokenizer:
        return cls.from_dict(read_json(path), source=str(path))

    # -- interop (subtok.interop) ------------------------------------------------------------------------
    def save_huggingface(self, path: PathLike) -> None:
        """Write an HF tokenizer.json that ``tokenizers.Tokenizer.from_file`` loads, giving the same ids."""
        interop.save_huggingface(self, path)

    @classmethod
    @_pausing_gc
    def from_huggingface(cls, path: PathLike) -> Tokenizer:
        """Read an HF tokenizer.json (BPE, byte- or character-level, WordPiece or WordLevel)."""
        return cls(**interop.read_huggingface(path))

    @classmethod
    @_pausing_gc
    def from_gpt2_files(
        cls,
        vocab_json: PathLike,
        merges_txt: PathLike,
        special_tokens: Sequence[str] = (),
        *,
        pattern: str = "gpt2",
        normalizers: Sequence[Union[str, dict, Normalizer]] = (),
    ) -> Tokenizer:
        """Read GPT-2-style vocab.json + merges.txt (byte-level BPE). ``pattern`` is the model's pre-tokenizer
        regex or a published one by name (``subtok.text.PATTERNS``: "gpt2", "cl100k", "o200k", "llama3",
        "qwen2", ...); Qwen2's files, say, need ``pattern="qwen2", normalizers=["NFC"]``. ``special_tokens``
        the vocabulary lacks are added after it (HF's add_special_tokens)."""
        return cls(**interop.read_gpt2_files(vocab_json, merges_txt, special_tokens, pattern, normalizers))

    @classmethod
    @_pausing_gc
    def from_tiktoken(
        cls,
        ranks: Union[PathLike, Mapping[bytes, int]],
        pattern: str,
        special_tokens: Optional[Mapping[str, int]] = None,
    ) -> Tokenizer:
        """A tiktoken encoding: ``ranks`` (a ``.tiktoken`` file, or token bytes -> rank as
        ``tiktoken.load.load_tiktoken_bpe`` returns them), its ``pattern`` (a regex, or a name in
        ``subtok.text.PATTERNS``: "cl100k", "o200k", "llama3", ...) and its ``special_tokens`` (token -> id,
        gaps allowed, as cl100k's). Gives tiktoken's ids. tiktoken refuses special-token text by default;
        subtok, as HF, matches it: pass ``allowed_special=(), disallowed_special="all"`` to ``encode`` for
        tiktoken's default, or ``allowed_special=()`` alone to encode it as ordinary text."""
        return cls(**interop.read_tiktoken(ranks, pattern, special_tokens))

    @classmethod
    @_pausing_gc
    def from_sentencepiece(cls, path: PathLike) -> Tokenizer:
        """A SentencePiece ``.model`` file (Unigram), with SentencePiece's normalizer and decoder: the
        sentencepiece library's ids, pieces and decodes. Its control pieces (<s>, </s>) are not matched in
        text, as in SentencePiece."""
        return cls(**sentencepiece_io.read_sentencepiece(path))

    def save_sentencepiece(self, path: PathLike) -> None:
        """Write a SentencePiece ``.model`` file that the sentencepiece library loads, giving the same ids
        (a file read with ``from_sentencepiece`` and not changed is written back byte for byte)."""
        sentencepiece_io.save_sentencepiece(self, path)

    @classmethod
    @_pausing_gc
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
