"""WordPiece's hot loops, pure Python: the likelihood-scored merge loop and the longest-match encoder.

Training scores a pair by count(ab) / (count(a) * count(b)): how much more often a and b occur together
than their own frequencies predict. Scores are compared exactly, as fractions (by cross-multiplying the
integer counts), never as floats. Ties: the higher pair count, then the pair whose left token's key
(UTF-8 bytes) sorts first, then the right token's.

Merging (a, b) lowers count(a) and count(b), which raises the score of every other pair holding a or b.
A lazy heap only notices scores that fell, so those pairs are pushed again with their new scores (an
index token -> pairs finds them); pairs whose scores fell are re-queued when popped.

Encoding is BERT's greedy longest-match-first: from the start of the word take the longest vocabulary
token that matches (continuation tokens carry the "##" prefix), then go on from its end; if some position
matches nothing, the whole word is the unknown token. A trie walk makes each step cost at most the
longest token's length, so a word costs O(length x longest token), linear in its length.
"""

from __future__ import annotations

import heapq
from array import array
from collections import defaultdict
from collections.abc import Callable
from typing import Optional

import regex

from ..added_tokens import alternation
from ..text import BERT_PATTERN, Normalized
from .batch_core import TextBatches
from .bpe_core import Pair, apply_changes, count_pairs, merge_everywhere, new_token

_BERT_RE = regex.compile(BERT_PATTERN)


class _Score:
    """A heap key: max score (a fraction compared by cross-multiplying), then max pair count, then min keys."""

    __slots__ = ("pair_count", "denominator", "left", "right")

    def __init__(self, pair_count: int, denominator: int, left: bytes, right: bytes) -> None:
        self.pair_count = pair_count
        self.denominator = denominator
        self.left = left
        self.right = right

    def __lt__(self, other: _Score) -> bool:  # "pops first"
        lhs = self.pair_count * other.denominator
        rhs = other.pair_count * self.denominator
        if lhs != rhs:
            return lhs > rhs
        if self.pair_count != other.pair_count:
            return self.pair_count > other.pair_count
        return (self.left, self.right) < (other.left, other.right)


def token_counts(words: list[list[int]], counts: list[int]) -> dict[int, int]:
    """How often each symbol occurs over all words (weighted by word count)."""
    out: dict[int, int] = defaultdict(int)
    for symbols, c in zip(words, counts):
        for s in symbols:
            out[s] += c
    return out


def train_likelihood(
    words: list[list[int]],
    counts: list[int],
    keys: list[bytes],
    strip: int,
    max_tokens: int,
    min_frequency: int,
    blocked: frozenset = frozenset(),
    on_merge: Optional[Callable[[int], None]] = None,
) -> list[tuple[int, int, int]]:
    """Learn merges by likelihood until there are ``max_tokens`` tokens or no pair with at least
    ``min_frequency`` occurrences is left. Same inputs and outputs as ``bpe_core.train_merges``."""
    key_to_id = {k: i for i, k in enumerate(keys)}
    pair_counts, where = count_pairs(words, counts)
    unigram = token_counts(words, counts)
    token_pairs: dict[int, set[Pair]] = defaultdict(set)
    for a, b in pair_counts:
        token_pairs[a].add((a, b))
        token_pairs[b].add((a, b))

    def entry(pair: Pair):
        a, b = pair
        return (_Score(pair_counts[pair], unigram[a] * unigram[b], keys[a], keys[b]), a, b)

    heap = [entry(p) for p, c in pair_counts.items() if c >= min_frequency]
    heapq.heapify(heap)
    merges: list[tuple[int, int, int]] = []
    while len(keys) < max_tokens and heap:
        score, a, b = heapq.heappop(heap)
        live = pair_counts.get((a, b), 0)
        if live < min_frequency:
            continue  # a pair's count never grows back: drop it for good
        if live != score.pair_count or unigram[a] * unigram[b] != score.denominator:
            heapq.heappush(heap, entry((a, b)))  # stale: its score changed since it was pushed
            continue
        z = new_token(keys, key_to_id, a, b, strip, blocked)
        if z is None:
            continue
        merges.append((a, b, z))
        changes, merged = merge_everywhere(words, counts, where, a, b, z)
        unigram[a] -= merged
        unigram[b] -= merged
        unigram[z] += merged
        rescore: set[Pair] = set()
        for pair, _ in apply_changes(pair_counts, (a, b), changes):
            token_pairs[pair[0]].add(pair)
            token_pairs[pair[1]].add(pair)
            rescore.add(pair)
        for t in (a, b, z):  # their counts changed: so did the score of every pair holding them
            alive = {p for p in token_pairs[t] if pair_counts.get(p, 0) >= min_frequency}
            token_pairs[t] = alive
            rescore |= alive
        for pair in rescore:
            if pair_counts.get(pair, 0) >= min_frequency:
                heapq.heappush(heap, entry(pair))
        if on_merge is not None:
            on_merge(len(keys))
    return merges


def make_trie(vocab: list[str], prefix: str) -> tuple[dict, dict]:
    """Two character tries of the vocabulary: word-initial tokens, and continuation tokens without their
    prefix. A node is a dict char -> node; the key "" holds the id of the token ending there."""
    roots: tuple[dict, dict] = ({}, {})
    for i, token in enumerate(vocab):
        if prefix and token.startswith(prefix) and len(token) > len(prefix):
            node, text = roots[1], token[len(prefix) :]
        else:
            node, text = roots[0], token
        for ch in text:
            node = node.setdefault(ch, {})
        node.setdefault("", i)
    return roots


def longest_match(word: str, tries: tuple[dict, dict]) -> Optional[list[tuple[int, int]]]:
    """BERT's greedy longest-match-first: (id, end) of each token from left to right, or None when some
    position matches no token."""
    out: list[tuple[int, int]] = []
    start, n = 0, len(word)
    while start < n:
        node = tries[0] if start == 0 else tries[1]
        best_id, best_end = -1, start
        i = start
        while i < n:
            node = node.get(word[i])
            if node is None:
                break
            i += 1
            tid = node.get("")
            if tid is not None:
                best_id, best_end = tid, i
        if best_id < 0:
            return None
        out.append((best_id, best_end))
        start = best_end
    return out


def encode_longest_match(word: str, tries: tuple[dict, dict], unk_id: int, max_chars: int) -> list[int]:
    """Ids of a word by ``longest_match``, or [unk_id] when the word is longer than ``max_chars``
    characters or cannot be covered."""
    if len(word) > max_chars:
        return [unk_id]
    spans = longest_match(word, tries)
    return [unk_id] if spans is None else [t for t, _ in spans]


def normalize_by_table(text: str, table: Optional[tuple[bytes, bytes]]) -> Normalized:
    """``text`` through a per-code-point normalizer table (``BertNormalizer.table()``; None: unchanged),
    each output character aligned to the character it came from."""
    if table is None:
        return Normalized(text)
    codes, repl = memoryview(table[0]).cast("i"), memoryview(table[1]).cast("i")
    pieces = []
    for i, ch in enumerate(text):
        v = codes[ord(ch)]
        if v != -1:  # -2: dropped; else (offset << 4 | length) into repl
            ch = "" if v == -2 else "".join(map(chr, repl[v >> 4 : (v >> 4) + (v & 15)]))
        pieces.append((i, i + 1, ch))
    return Normalized(text).remap(pieces)


class BertEncoder(TextBatches):
    """BERT's whole pipeline for one text, in one call: special tokens matched first (leftmost, then the
    first listed: pass them longest first), the BERT normalizer as its per-code-point ``table``
    (``BertNormalizer.table()``, or None for no normalizer), the BERT pre-tokenizer (whitespace, and each
    punctuation character alone) and the longest-match encoder. Returns the ids and, per token, its
    (start, end) in the original text as int32 bytes. The native core has the same type."""

    def __init__(self, tries, unk_id: int, max_chars: int, table, specials: list[tuple[str, int]] = ()):
        self.tries = tries
        self.unk_id = unk_id
        self.max_chars = max_chars
        self.table = table
        self.split = _BERT_RE.finditer
        self.special_ids = dict(specials)
        self.special_re = alternation([t for t, _ in specials])

    def _encode_segment(self, text: str, start: int, end: int, ids: list[int], offsets) -> None:
        norm = normalize_by_table(text[start:end], self.table)
        for m in self.split(norm.text):
            word = m.group()
            spans = longest_match(word, self.tries) if len(word) <= self.max_chars else None
            if spans is None:
                ids.append(self.unk_id)
                s, e = norm.original_span(m.start(), m.end())
                offsets.extend((start + s, start + e))
                continue
            pos = m.start()
            for tid, end_in_word in spans:
                s, e = norm.original_span(pos, m.start() + end_in_word)
                ids.append(tid)
                offsets.extend((start + s, start + e))
                pos = m.start() + end_in_word

    def encode_text(self, text: str) -> tuple[list[int], bytes]:
        ids: list[int] = []
        offsets = array("i")
        pos = 0
        for m in self.special_re.finditer(text) if self.special_re is not None else ():
            self._encode_segment(text, pos, m.start(), ids, offsets)
            ids.append(self.special_ids[m.group()])
            offsets.extend((m.start(), m.end()))
            pos = m.end()
        self._encode_segment(text, pos, len(text), ids, offsets)
        return ids, offsets.tobytes()
