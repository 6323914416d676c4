"""SentencePiece's BPE model (``bpe::Model``), read from ``.model`` files (Llama-2-style tokenizers): the
pieces of a Unigram model (the same kinds, scores, unknown and byte handling, normalizer and decoder), but a
text is segmented by merging, not by a lattice.

The text starts as characters, a user-defined symbol as one frozen symbol. While some adjacent pair spells
a piece (normal, user-defined or unused), the pair whose piece scores highest is merged (ties: the leftmost
pair). A piece of kind "unused" is then split back into the two symbols it was merged from, recursively.
A symbol no piece spells is unknown (fused with its unknown neighbours, or its bytes with byte fallback).
Sampling is BPE-dropout as SentencePiece does it: each merge is skipped with probability ``alpha``.
"""

from __future__ import annotations

import heapq
import random
from typing import Optional

from ..errors import SubtokError
from .base import encode_each
from .unigram import Path, Unigram


class SentencePieceBPE(Unigram):
    """A SentencePiece BPE model: ``Unigram``'s pieces, segmented by score-ordered merges."""

    type = "sentencepiece_bpe"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.flavor != "sentencepiece":
            raise SubtokError("a SentencePiece BPE model has the sentencepiece flavor only")
        mergeable = ("normal", "user_defined", "unused")
        self._merge_ids = {p: i for i, (p, k) in enumerate(zip(self.vocab, self.kinds)) if k in mergeable}
        self._user = sorted((p for p, k in zip(self.vocab, self.kinds) if k == "user_defined"), key=len, reverse=True)

    def viterbi(self, text: str) -> Path:
        """The segmentation SentencePiece's BPE gives ``text`` (its merges; the name is the Model
        protocol's, shared with Unigram)."""
        return self._merge(text, 0.0, None)

    def sample(self, text: str, alpha: float, nbest_size: int, rng: random.Random) -> Path:
        """BPE-dropout: each merge skipped with probability ``alpha`` (``nbest_size`` is not used)."""
        return self._merge(text, alpha, rng)

    def nbest(self, text: str, k: int) -> list[tuple[list[int], float]]:
        raise SubtokError("a BPE model has one segmentation per text, not a k-best list")

    def _merge(self, text: str, dropout: float, rng: Optional[random.Random]) -> Path:
        n = len(text)
        starts: list[int] = []
        frozen: list[bool] = []
        pos = 0
        while pos < n:  # characters; a user-defined symbol (the longest that starts here) whole and frozen
            match = next((u for u in self._user if text.startswith(u, pos)), None)
            starts.append(pos)
            frozen.append(match is not None)
            pos += len(match) if match else 1
        if not starts:
            return []
        count = len(starts)
        end = starts[1:] + [n]  # end[k]: where symbol k ends (symbols are named by their first index)
        nxt = list(range(1, count)) + [-1]
        prv = list(range(-1, count - 1))
        alive = [True] * count
        ids, scores = self._merge_ids, self.scores
        heap: list[tuple[float, int, int, int]] = []
        rev: dict[str, tuple[str, str]] = {}

        def offer(a: int, b: int) -> None:
            if a < 0 or b < 0 or frozen[a] or frozen[b]:
                return
            piece = text[starts[a] : end[b]]
            i = ids.get(piece)
            if i is None:
                return
            heapq.heappush(heap, (-scores[i], a, b, end[b] - starts[a]))
            if self.kinds[i] == "unused":
                rev[piece] = (text[starts[a] : end[a]], text[starts[b] : end[b]])

        for k in range(1, count):
            offer(k - 1, k)
        while heap:
            _, a, b, size = heapq.heappop(heap)
            if not (alive[a] and alive[b]) or end[b] - starts[a] != size or nxt[a] != b:
                continue  # stale: one side has merged since
            if dropout and (dropout >= 1 or rng.random() < dropout):
                continue
            end[a] = end[b]
            alive[b] = False
            nxt[a] = nxt[b]
            if nxt[b] >= 0:
                prv[nxt[b]] = a
            offer(prv[a], a)
            offer(a, nxt[a])
        path: Path = []
        k = 0
        while k >= 0:
            self._resegment(text, starts[k], end[k], rev, path)
            k = nxt[k]
        return path

    def _resegment(self, text: str, start: int, stop: int, rev: dict[str, tuple[str, str]], path: Path) -> None:
        """Append the piece text[start:stop] to ``path``, an unused one as the two it was merged from."""
        piece = text[start:stop]
        i = self.vocab.word_to_id.get(piece, -1)
        if i >= 0 and self.kinds[i] == "unused" and piece in rev:
            left, _ = rev[piece]
            self._resegment(text, start, start + len(left), rev, path)
            self._resegment(text, start + len(left), stop, rev, path)
            return
        path.append((start, stop, i if i >= 0 and self.kinds[i] != "unknown" else -1))

    def encode_words(self, words: list[str]) -> tuple[list[int], list[int]]:
        return encode_each(self.encode_word, words)

    def text_encoder(self, normalizers, pre_tokenizer, specials):
        """None yet: texts go through the normalizer, then ``encode_word`` on the whole text."""
        return None
