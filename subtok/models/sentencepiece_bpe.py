"""SentencePiece's BPE model (``bpe::Model``), read from ``.model`` files (Llama-2-style tokenizers): the
pieces of a Unigram model (the same kinds, scores, unknown and byte handling, normalizer and decoder), but a
text is segmented by merging, not by a lattice.

The text starts as characters, a user-defined symbol as one frozen symbol. While some adjacent pair spells
a piece (normal, user-defined or unused), the pair whose piece scores highest is merged (ties: the leftmost
pair). A piece of kind "unused" is then split back into the two symbols it was merged from, recursively.
A symbol no piece spells is unknown (fused with its unknown neighbours, or its bytes with byte fallback).
Sampling is BPE-dropout as SentencePiece does it: each merge is skipped with probability ``alpha``. The
merge loop is ``unigram_core.bpe_path``; whole texts go through ``SentencePieceEncoder`` (native when
built), as Unigram's do.
"""

from __future__ import annotations

import random

from ..errors import SubtokError
from . import unigram_core
from .unigram import Path, Unigram


class SentencePieceBPE(Unigram):
    """A SentencePiece BPE model: ``Unigram``'s pieces, segmented by score-ordered merges
    (``unigram_core.bpe_path``)."""

    type = "sentencepiece_bpe"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.flavor != "sentencepiece":
            raise SubtokError("a SentencePiece BPE model has the sentencepiece flavor only")
        pieces, kinds = list(self.vocab), self.kinds
        odd = [p for p, k in zip(pieces, kinds) if len(p) == 1 and k in ("unknown", "control", "byte")]
        if odd:  # SentencePiece would give a character that spells one its id: not supported
            raise SubtokError(f"a one-character {kinds[self.vocab.word_to_id[odd[0]]]} piece {odd[0]!r} in a BPE model")
        self._matchable = [k in ("normal", "user_defined", "unused") for k in kinds]  # mergeable
        self._bpe_unused = [k == "unused" for k in kinds]
        self._user = sorted((p for p, k in zip(pieces, kinds) if k == "user_defined"), key=len, reverse=True)
        self.table = unigram_core.PieceTable(
            pieces, self.scores, self._matchable, [k == "user_defined" for k in kinds], self.unk_id
        )

    def viterbi(self, text: str) -> Path:
        """The segmentation SentencePiece's BPE gives ``text`` (its merges; the name is the Model
        protocol's, shared with Unigram)."""
        return unigram_core.bpe_path(self.table, self._bpe_unused, self._user, text)

    def sample(self, text: str, alpha: float, nbest_size: int, rng: random.Random) -> Path:
        """BPE-dropout: each merge skipped with probability ``alpha`` (``nbest_size`` is not used)."""
        return unigram_core.bpe_path(self.table, self._bpe_unused, self._user, text, alpha, rng)

    def nbest(self, text: str, k: int) -> list[tuple[list[int], float]]:
        raise SubtokError("a BPE model has one segmentation per text, not a k-best list")
