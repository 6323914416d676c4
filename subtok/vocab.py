"""Vocab: the one token <-> id table shared by tokenizers, preprocess, co-occurrence and neural models;
and the book's ``preprocess``, which builds one."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Optional

import numpy as np

from ._io import PathLike, atomic_write_json, check_header, read_json
from .errors import SubtokError, TokenizerFileError
from .text import lowercase

VOCAB_FORMAT = "subtok-vocab"
MAX_ID = 1 << 24  # a file's ids from here on are refused, never allocated for
VOCAB_VERSION = 1


class Vocab:
    """An ordered list of distinct tokens; a token's id is its position. An entry may be None: an id no token
    has (a gap, as cl100k's special tokens leave one between the merges' tokens and ``<|endoftext|>``);
    ``len`` counts ids, gaps included, and iteration yields None at a gap.

    ``unk`` names the token that unknown lookups map to (it must be in the list); with ``unk=None`` an
    unknown token raises ``KeyError``. ``counts`` optionally holds each token's training count.
    """

    def __init__(
        self,
        tokens: Iterable[Optional[str]],
        unk: Optional[str] = None,
        counts: Optional[Mapping[str, int]] = None,
    ) -> None:
        self._id_to_word: list[Optional[str]] = list(tokens)
        self._word_to_id: dict[str, int] = {}
        for i, t in enumerate(self._id_to_word):
            if t is None:
                continue
            if not isinstance(t, str):
                raise SubtokError(f"vocabulary entry {i} is {type(t).__name__}, not str")
            if t in self._word_to_id:
                raise SubtokError(f"duplicate vocabulary entry {t!r} at ids {self._word_to_id[t]} and {i}")
            self._word_to_id[t] = i
        if unk is not None and unk not in self._word_to_id:
            raise SubtokError(f"unknown token {unk!r} is not in the vocabulary")
        self.unk = unk
        self.counts: dict[str, Optional[int]] = {
            t: (None if counts is None else counts.get(t)) for t in self._word_to_id
        }

    @classmethod
    def from_ids(cls, token_to_id: Mapping[str, int], unk: Optional[str] = None) -> Vocab:
        """The vocabulary of a token -> id map whose ids may leave gaps (ids from 0 to ``MAX_ID``)."""
        bad = [(t, i) for t, i in token_to_id.items() if type(i) is not int or not 0 <= i < MAX_ID]
        if bad:
            raise SubtokError(
                f"bad vocabulary entry {bad[0][0]!r}: {bad[0][1]!r} (ids are integers from 0 to {MAX_ID})"
            )
        tokens: list[Optional[str]] = [None] * (max(token_to_id.values(), default=-1) + 1)
        for token, i in token_to_id.items():
            if tokens[i] is not None:
                raise SubtokError(f"id {i} is given to both {tokens[i]!r} and {token!r}")
            tokens[i] = token
        return cls(tokens, unk=unk)

    @classmethod
    def from_counts(
        cls,
        counts: Mapping[str, int],
        max_size: Optional[int] = None,
        min_freq: int = 1,
        specials: Sequence[str] = ("<unk>",),
        unk: Optional[str] = "<unk>",
    ) -> Vocab:
        """Specials first, then tokens by count descending, ties by token text (so the order is deterministic).

        ``max_size`` caps the whole vocabulary, specials included.
        """
        if max_size is not None and max_size < len(specials):
            raise SubtokError(f"max_size={max_size} is smaller than the {len(specials)} special tokens")
        special_set = set(specials)
        ranked = sorted(
            ((t, c) for t, c in counts.items() if c >= min_freq and t not in special_set),
            key=lambda tc: (-tc[1], tc[0]),
        )
        if max_size is not None:
            ranked = ranked[: max_size - len(specials)]
        return cls(list(specials) + [t for t, _ in ranked], unk=unk, counts=dict(ranked))

    # -- lookups ---------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._id_to_word)

    def __contains__(self, token: object) -> bool:
        return token in self._word_to_id

    def __iter__(self) -> Iterator[Optional[str]]:
        return iter(self._id_to_word)

    def __getitem__(self, token: str) -> int:
        i = self._word_to_id.get(token)
        if i is None:
            if self.unk is None:
                raise KeyError(token)
            return self._word_to_id[self.unk]
        return i

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and self._id_to_word == other._id_to_word and self.unk == other.unk

    def __repr__(self) -> str:
        return f"Vocab(size={len(self)}, unk={self.unk!r})"

    @property
    def unk_id(self) -> Optional[int]:
        return None if self.unk is None else self._word_to_id[self.unk]

    @property
    def word_to_id(self) -> Mapping[str, int]:
        return self._word_to_id

    @property
    def id_to_word(self) -> Sequence[Optional[str]]:
        return self._id_to_word

    @property
    def has_gaps(self) -> bool:
        """Whether some id below ``len(self)`` has no token."""
        return len(self._word_to_id) < len(self._id_to_word)

    def append(self, token: str) -> int:
        """Add a token at the end (a tokenizer's added token); returns its id."""
        if not isinstance(token, str):
            raise SubtokError(f"a vocabulary entry must be a str, not {type(token).__name__}")
        if token in self._word_to_id:
            raise SubtokError(f"{token!r} is in the vocabulary already")
        self._word_to_id[token] = len(self._id_to_word)
        self._id_to_word.append(token)
        self.counts[token] = None
        return self._word_to_id[token]

    def token(self, i: int) -> str:
        if not 0 <= i < len(self._id_to_word):
            raise IndexError(f"id {i} is outside the vocabulary of size {len(self)}")
        token = self._id_to_word[i]
        if token is None:
            raise IndexError(f"id {i} is a gap in the vocabulary: no token has it")
        return token

    def lookup_ids(self, tokens: Iterable[str]) -> np.ndarray:
        return np.fromiter((self[t] for t in tokens), dtype=np.int64)

    def lookup_tokens(self, ids: Iterable[int]) -> list[str]:
        return [self.token(int(i)) for i in ids]

    # -- persistence -----------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        d: dict = {"format": VOCAB_FORMAT, "version": VOCAB_VERSION, "unk": self.unk, "tokens": self._id_to_word}
        if any(c is not None for c in self.counts.values()):
            d["counts"] = [None if t is None else self.counts[t] for t in self._id_to_word]
        return d

    @classmethod
    def from_dict(cls, d: Mapping, source: str = "vocabulary") -> Vocab:
        check_header(d, VOCAB_FORMAT, VOCAB_VERSION, source, "vocabulary")
        tokens = d.get("tokens")
        if not isinstance(tokens, list):
            raise TokenizerFileError(f"{source}: 'tokens' must be a list of strings (null for an unused id)")
        counts = d.get("counts")
        if counts is not None and (not isinstance(counts, list) or len(counts) != len(tokens)):
            raise TokenizerFileError(f"{source}: 'counts' must be a list as long as 'tokens'")
        try:
            return cls(tokens, unk=d.get("unk"), counts=None if counts is None else dict(zip(tokens, counts)))
        except SubtokError as e:
            raise TokenizerFileError(f"{source}: {e}") from None

    def save(self, path: PathLike) -> None:
        atomic_write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: PathLike) -> Vocab:
        return cls.from_dict(read_json(path), source=str(path))


def preprocess(text: str) -> tuple[np.ndarray, Vocab]:
    """The book's preprocess: lowercase, "." -> " .", split on single spaces; ids by first appearance.

    Lowercase is :func:`subtok.text.lowercase` (a pinned table, character by character), so the words do
    not change with the running Python's Unicode version.

    Returns ``(ids, vocab)`` with ids as an ``np.ndarray`` of int64 and a :class:`Vocab` without an
    unknown token (every word of ``text`` is in it).
    """
    words = lowercase(text).replace(".", " .").split(" ")
    word_to_id: dict[str, int] = {}
    for w in words:
        if w not in word_to_id:
            word_to_id[w] = len(word_to_id)
    ids = np.fromiter((word_to_id[w] for w in words), dtype=np.int64, count=len(words))
    return ids, Vocab(list(word_to_id), unk=None)
