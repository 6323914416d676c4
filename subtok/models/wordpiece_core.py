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
matches nothing, the whole word is the unknown token. LinMaxMatch (``WordTrie``'s failure links and pops)
gives the same tokens reading each character once: linear in the word's length for any vocabulary.
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


class WordTrie:
    """A WordPiece vocabulary as a character trie with two roots: node 0 for a word's first token (every
    token, spelled in full: HF looks a word's start up as it is) and node 1 for the tokens after it (those
    that start with the prefix, without it). ``children[v]`` maps a character to a node, ``token[v]`` is the
    id of the token ending at v (-1: none; the first of duplicate spellings).

    LinMaxMatch's links (Song et al. 2021, "Fast WordPiece Tokenization"), per node v: where matching goes
    on when the next character has no edge from v (``fail[v]``; -1: nowhere, the word is unknown) and the
    tokens that are then certain, each (id, length in characters) (``pops[v]``). A node with a token fails
    to node 1 after popping that token; any other to where its parent's failure leads on by the same
    character, popping what each failure on the way pops. Links are computed shallow nodes first (a
    failure always leads to a shallower node). A vocabulary whose pops would hold more than 8 entries per
    node (long tokens with no shorter ones along them, which no published vocabulary has) is left without
    links (``linked`` False), and the greedy walk serves it."""

    def __init__(self, vocab: list[str], prefix: str) -> None:
        self.children: list[dict[str, int]] = [{}, {}]
        self.token, self.parent, self.char, self.depth = [-1, -1], [-1, -1], ["", ""], [0, 0]
        for i, token in enumerate(vocab):
            self._add(0, token, i)
            if prefix and token.startswith(prefix) and len(token) > len(prefix):
                self._add(1, token[len(prefix) :], i)
        self.linked = self._link()

    def _add(self, node: int, text: str, token_id: int) -> None:
        for ch in text:
            child = self.children[node].get(ch)
            if child is None:
                child = len(self.children)
                self.children[node][ch] = child
                self.children.append({})
                self.token.append(-1)
                self.parent.append(node)
                self.char.append(ch)
                self.depth.append(self.depth[node] + 1)
            node = child
        if self.token[node] < 0:
            self.token[node] = token_id

    def _link(self) -> bool:
        n = len(self.children)
        self.fail, self.pops = [-1] * n, [()] * n
        budget = 8 * n
        for v in sorted(range(2, n), key=self.depth.__getitem__):  # shallow nodes first (stable: by creation)
            if self.token[v] >= 0:
                self.fail[v], self.pops[v] = 1, ((self.token[v], self.depth[v]),)
            else:
                u, ch = self.parent[v], self.char[v]
                z, pops = self.fail[u], self.pops[u]
                while z >= 0 and ch not in self.children[z]:
                    pops += self.pops[z]
                    z = self.fail[z]
                self.fail[v], self.pops[v] = (self.children[z][ch] if z >= 0 else -1), pops
            budget -= len(self.pops[v])
            if budget < 0:
                self.fail, self.pops = [], []
                return False
        return True


def make_trie(vocab: list[str], prefix: str) -> WordTrie:
    """The vocabulary's ``WordTrie`` (continuation tokens start with ``prefix``)."""
    return WordTrie(vocab, prefix)


def longest_match(word: str, trie: WordTrie) -> Optional[list[tuple[int, int]]]:
    """BERT's greedy longest-match-first: (id, end) of each token from left to right, or None when some
    position matches no token; by LinMaxMatch's links where the trie has them (each character read once),
    else by ``greedy_match``."""
    if not trie.linked:
        return greedy_match(word, trie)
    children, fail = trie.children, trie.fail
    out: list[tuple[int, int]] = []
    node = end = 0
    for ch in word:
        while (child := children[node].get(ch)) is None:
            if fail[node] < 0:
                return None
            node, end = _pop(trie, node, end, out)
        node = child
    while node > 1:  # the word's end: what is pending pops
        if fail[node] < 0:
            return None
        node, end = _pop(trie, node, end, out)
    return out


def _pop(trie: WordTrie, node: int, end: int, out: list[tuple[int, int]]) -> tuple[int, int]:
    """``node``'s pops appended to ``out`` (each (id, end)); its failure and the last token's end."""
    for tid, length in trie.pops[node]:
        end += length
        out.append((tid, end))
    return trie.fail[node], end


def greedy_match(word: str, trie: WordTrie) -> Optional[list[tuple[int, int]]]:
    """``longest_match`` by walking the trie from each token's start: O(word length x longest token)."""
    out: list[tuple[int, int]] = []
    start, n = 0, len(word)
    children, token = trie.children, trie.token
    while start < n:
        node = 0 if start == 0 else 1
        best_id, best_end = -1, start
        i = start
        while i < n:
            node = children[node].get(word[i], -1)
            if node < 0:
                break
            i += 1
            if token[node] >= 0:
                best_id, best_end = token[node], i
        if best_id < 0:
            return None
        out.append((best_id, best_end))
        start = best_end
    return out


def encode_longest_match(word: str, tries: WordTrie, unk_id: int, max_chars: int) -> list[int]:
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
