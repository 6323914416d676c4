"""The BPE merge loop and word encoder: the pure-Python reference that ``subtok._native`` mirrors.

Symbols are small ints. Training works on unique words (symbol lists) with their counts; encoding works
on one word's symbols. Both are written as a few flat functions so a reader can hold this file beside
``csrc/bpe_train.c`` and ``csrc/bpe_encode.c`` and check them line by line.

Training tie-break: the pair with the highest count is merged first; among equal counts, the pair whose
left token's key (bytes) sorts first, then the right token's key. Keys are a token's raw bytes for
byte-level BPE and its vocabulary string in UTF-8 otherwise, so the order never depends on hashing or
insertion order.

Encoding rule (as HF tokenizers and tiktoken): repeatedly merge the adjacent pair with the lowest merge
rank, the leftmost one when a pair occurs several times, until no adjacent pair has a rank.
"""

from __future__ import annotations

import heapq
from array import array
from collections import defaultdict
from collections.abc import Callable
from itertools import chain
from typing import Any, Optional, Union

import numpy as np
import regex

from ..added_tokens import SPACES_AT_END, SPACES_AT_START, alternation
from ..text import SCANNED_PATTERNS, split_lines
from .batch_core import TextBatches

Pair = tuple[int, int]

# Words shorter than this are encoded by repeated linear scans; longer ones with a heap (n log n).
HEAP_MIN_SYMBOLS = 48
CACHE_SIZE = 1 << 16  # words an encoder's cache holds before it is emptied
CACHE_MAX_WORD = 256  # longer words (bytes, or characters) are not cached: the cache's memory stays bounded


def count_pairs(words: list[list[int]], counts: list[int]) -> tuple[dict[Pair, int], dict[Pair, set[int]]]:
    """Count of every adjacent pair over all words (weighted by word count), and the words holding it."""
    pair_counts: dict[Pair, int] = defaultdict(int)
    where: dict[Pair, set[int]] = defaultdict(set)
    for w, (symbols, c) in enumerate(zip(words, counts)):
        for pair in zip(symbols, symbols[1:]):
            pair_counts[pair] += c
            where[pair].add(w)
    return pair_counts, where


def merge_word(
    symbols: list[int],
    a: int,
    b: int,
    z: int,
    count: int,
    w: int,
    changes: dict[Pair, int],
    where: dict[Pair, set[int]],
) -> list[int]:
    """``symbols`` (word ``w``, seen ``count`` times) with each non-overlapping (a, b), left to right,
    replaced by z.

    Adds to ``changes`` the count change of the neighbouring pairs: (prev, a) and (b, next) disappear,
    (prev, z) and (z, next) appear (and are indexed in ``where``). The pair (a, b) itself is the
    caller's business.
    """
    out: list[int] = []
    i, n = 0, len(symbols)
    while i < n:
        if i + 1 < n and symbols[i] == a and symbols[i + 1] == b:
            if out:
                prev = out[-1]
                changes[(prev, a)] -= count
                changes[(prev, z)] += count
                where[(prev, z)].add(w)
            if i + 2 < n:
                nxt = symbols[i + 2]
                changes[(b, nxt)] -= count
                changes[(z, nxt)] += count
                where[(z, nxt)].add(w)
            out.append(z)
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return out


def train_merges(
    words: list[Union[list[int], bytes, str]],
    counts: list[int],
    keys: list[bytes],
    strip: int,
    max_tokens: int,
    min_frequency: int,
    blocked: frozenset = frozenset(),
    on_merge: Optional[Callable[[int], None]] = None,
) -> list[tuple[int, int, int]]:
    """Learn merges until there are ``max_tokens`` distinct tokens or no pair reaches ``min_frequency``.

    ``keys[i]`` identifies token i (and orders ties); a merge of (a, b) makes the token whose key is
    ``keys[a] + keys[b][strip:]`` (``strip`` drops a continuing-subword prefix from the right part, which
    must leave something: a right part's key is longer than ``strip``, as the trainers' symbols are). When
    that key already names a token, the merge is recorded and reuses its id (as HF does), and the
    number of tokens does not grow. A pair whose merged key is in ``blocked`` (the special tokens'
    spellings) is never merged. A word given as bytes has its byte values for symbols, one given as a str
    the bytes of its UTF-8 ("surrogatepass"), as byte-level training wants them (keys[i] is bytes([i]));
    being immutable, they are left as they are. Words given as lists and ``keys`` are updated in place.
    Returns (a, b, merged id) per merge in order.
    """
    given, words = words, [_symbols(w) for w in words]
    key_to_id = {k: i for i, k in enumerate(keys)}
    pair_counts, where = count_pairs(words, counts)
    heap = [(-c, keys[a], keys[b], a, b) for (a, b), c in pair_counts.items() if c > 0]
    heapq.heapify(heap)
    merges: list[tuple[int, int, int]] = []
    while len(keys) < max_tokens and heap:
        neg, _, _, a, b = heapq.heappop(heap)
        live = pair_counts.get((a, b), 0)
        if live != -neg:  # stale entry: counts only fall for existing pairs, so re-queue at the live count
            if live > 0:
                heapq.heappush(heap, (-live, keys[a], keys[b], a, b))
            continue
        if live < min_frequency:
            break
        z = new_token(keys, key_to_id, a, b, strip, blocked)
        if z is None:
            continue
        merges.append((a, b, z))
        changes, _ = merge_everywhere(words, counts, where, a, b, z)
        for pair, new in apply_changes(pair_counts, (a, b), changes):
            heapq.heappush(heap, (-new, keys[pair[0]], keys[pair[1]], pair[0], pair[1]))
        if on_merge is not None:
            on_merge(len(keys))
    for w, word in enumerate(given):  # the merged lists go back in place; bytes and str stay as given
        if isinstance(word, list):
            given[w] = words[w]
    return merges


def _symbols(word: Union[list[int], bytes, str]) -> list[int]:
    """A word's symbols as ``train_merges`` reads them: a list as it is, bytes as their values, a str as
    the bytes of its UTF-8."""
    if isinstance(word, str):
        return list(word.encode("utf-8", "surrogatepass"))
    return list(word) if isinstance(word, bytes) else word


def new_token(
    keys: list[bytes], key_to_id: dict[bytes, int], a: int, b: int, strip: int, blocked: frozenset
) -> Optional[int]:
    """The id of the token that merging (a, b) makes: its key is ``keys[a] + keys[b][strip:]``; a new id
    (appended to ``keys``) unless the key names a token already. None when the key is ``blocked``."""
    key = keys[a] + keys[b][strip:]
    if key in blocked:
        return None
    z = key_to_id.get(key)
    if z is None:
        z = len(keys)
        keys.append(key)
        key_to_id[key] = z
    return z


def merge_everywhere(
    words: list[list[int]], counts: list[int], where: dict[Pair, set[int]], a: int, b: int, z: int
) -> tuple[dict[Pair, int], int]:
    """Merge (a, b) into z in every word that holds it: the neighbouring pairs' count changes, and how many
    occurrences were merged (weighted by word count)."""
    changes: dict[Pair, int] = defaultdict(int)
    merged = 0
    for w in where.pop((a, b)):
        before = len(words[w])
        words[w] = merge_word(words[w], a, b, z, counts[w], w, changes, where)
        merged += (before - len(words[w])) * counts[w]
    return changes, merged


def apply_changes(pair_counts: dict[Pair, int], merged_pair: Pair, changes: dict[Pair, int]) -> list[tuple[Pair, int]]:
    """Apply a merge's count changes (the merged pair is gone); returns (pair, new count) of the pairs that
    grew, the only ones a lazy heap must hear about."""
    del pair_counts[merged_pair]
    grew = []
    for pair, d in changes.items():
        if d == 0:
            continue
        new = pair_counts.get(pair, 0) + d
        if new:
            pair_counts[pair] = new
        else:
            pair_counts.pop(pair, None)
        if d > 0:
            grew.append((pair, new))
    return grew


def _encode_scan(symbols: list[int], ranks: dict[Pair, int], results: list[int]) -> list[int]:
    """Short words: find the lowest-rank (leftmost) pair, merge it, repeat."""
    symbols = list(symbols)
    while len(symbols) > 1:
        best_rank = -1
        best = -1
        for i in range(len(symbols) - 1):
            r = ranks.get((symbols[i], symbols[i + 1]))
            if r is not None and (best < 0 or r < best_rank):
                best_rank, best = r, i
        if best < 0:
            break
        symbols[best : best + 2] = [results[best_rank]]
    return symbols


def _encode_heap(symbols: list[int], ranks: dict[Pair, int], results: list[int]) -> list[int]:
    """Long words: the same rule with a heap of (rank, position) over a linked list, O(n log n)."""
    n = len(symbols)
    sym: list[int] = list(symbols)
    alive = [True] * n
    nxt = list(range(1, n + 1))
    prev = list(range(-1, n - 1))
    heap = []
    for i in range(n - 1):
        r = ranks.get((sym[i], sym[i + 1]))
        if r is not None:
            heap.append((r, i))
    heapq.heapify(heap)
    while heap:
        r, i = heapq.heappop(heap)
        j = nxt[i]
        if not alive[i] or j >= n or ranks.get((sym[i], sym[j])) != r:
            continue  # stale: the pair at i changed since this entry was pushed
        sym[i] = results[r]
        alive[j] = False
        nxt[i] = nxt[j]
        if nxt[j] < n:
            prev[nxt[j]] = i
        p = prev[i]
        if p >= 0:
            rp = ranks.get((sym[p], sym[i]))
            if rp is not None:
                heapq.heappush(heap, (rp, p))
        k = nxt[i]
        if k < n:
            rk = ranks.get((sym[i], sym[k]))
            if rk is not None:
                heapq.heappush(heap, (rk, i))
    return [sym[i] for i in range(n) if alive[i]]


def encode_with_dropout(
    symbols: list[int], ranks: dict[Pair, int], results: list[int], dropout: float, rng
) -> list[int]:
    """BPE-dropout (Provilkov et al. 2020) as HF applies it: each candidate merge taken from the queue
    (lowest rank, then leftmost) is set aside with probability ``dropout`` (``rng.random()``); the set-aside
    ones go back to the queue when the next candidate is not dropped."""
    n = len(symbols)
    sym = list(symbols)
    alive = [True] * n
    nxt = list(range(1, n + 1))
    prev = list(range(-1, n - 1))
    heap = [(r, i) for i in range(n - 1) if (r := ranks.get((sym[i], sym[i + 1]))) is not None]
    heapq.heapify(heap)
    aside: list[tuple[int, int]] = []
    while heap:
        r, i = heapq.heappop(heap)
        if rng.random() < dropout:
            aside.append((r, i))
            continue
        for entry in aside:
            heapq.heappush(heap, entry)
        aside.clear()
        j = nxt[i]
        if not alive[i] or j >= n or ranks.get((sym[i], sym[j])) != r:
            continue  # stale
        sym[i] = results[r]
        alive[j] = False
        nxt[i] = nxt[j]
        if nxt[j] < n:
            prev[nxt[j]] = i
        for left in (prev[i], i):
            right = nxt[left] if left >= 0 else n
            if left >= 0 and right < n and (rl := ranks.get((sym[left], sym[right]))) is not None:
                heapq.heappush(heap, (rl, left))
    return [sym[i] for i in range(n) if alive[i]]


def make_merge_table(ranks: dict[Pair, int], results: list[int]) -> tuple[dict[Pair, int], list[int]]:
    """The encoder's lookup table: ``ranks[(a, b)]`` is a merge's rank, ``results[rank]`` the id it makes.
    (The native core compiles the same into a hash table.)"""
    return ranks, results


def encode_symbols(symbols: list[int], table: tuple[dict[Pair, int], list[int]]) -> list[int]:
    """Apply merges to one word's symbols."""
    ranks, results = table
    if len(symbols) < HEAP_MIN_SYMBOLS:
        return _encode_scan(symbols, ranks, results)
    return _encode_heap(symbols, ranks, results)


class CharSymbols(dict):
    """Character -> the ids of its initial symbols for character-level BPE with byte fallback (its token,
    else its UTF-8 bytes' tokens), filled as characters are met; at most ``LIMIT`` characters are kept
    (text of every script cannot grow it without bound). The native core's CharTable holds the same."""

    LIMIT = 1 << 16

    def __init__(self, chars: dict[str, int], byte_ids: list[int]) -> None:
        super().__init__()
        self.chars, self.byte_ids = chars, byte_ids

    def __missing__(self, char: str) -> tuple:
        t = self.chars.get(char)
        ids = (t,) if t is not None else tuple(self.byte_ids[b] for b in char.encode("utf-8", "surrogatepass"))
        if len(self) < self.LIMIT:
            self[char] = ids
        return ids


def make_char_table(chars: dict[str, int], byte_ids: list[int]) -> CharSymbols:
    """A vocabulary's one-character tokens (``chars``) and its 256 byte-fallback tokens, for encode_chars."""
    return CharSymbols(dict(chars), list(byte_ids))


def char_symbols(word: str, chars: CharSymbols) -> list[int]:
    """A word's initial symbols: each character's token, else its bytes' tokens (byte fallback)."""
    return list(chain.from_iterable(map(chars.__getitem__, word)))


def encode_chars(word: str, chars: CharSymbols, table) -> list[int]:
    """``encode_symbols`` of the word's ``char_symbols``: character-level BPE with byte fallback in one call."""
    return encode_symbols(char_symbols(word, chars), table)


# ---------------------------------------------------------------------------------------------------------
# Byte-level text encoding: GPT-2 pre-tokenization and a cached word encoder
# ---------------------------------------------------------------------------------------------------------
_SCANNED_RES = [regex.compile(p) for p in SCANNED_PATTERNS]


def split_scanned(text: str, scanner: int) -> list[tuple[int, int]]:
    """Spans of the matches in ``text`` of ``text.SCANNED_PATTERNS[scanner]`` (0: GPT-2's). The reference is
    the regex itself; the native core scans the character classes (text.char_classes) by hand and must give
    the same spans."""
    return [m.span() for m in _SCANNED_RES[scanner].finditer(text)]


def split_gpt2(text: str) -> list[tuple[int, int]]:
    """Spans of GPT-2's pre-tokenizer pattern in ``text``."""
    return split_scanned(text, 0)


def count_gpt2(
    texts: list[str],
    specials: list[str],
    counts: Optional[dict[str, int]] = None,
    lines: bool = False,
    num_threads: int = 1,
) -> dict[str, int]:
    """Word -> count over ``texts`` split with GPT-2's pattern, each special token cut out first (leftmost,
    then the first listed; pass them longest first). Training's counting step for byte-level BPE.

    With ``lines`` each text is first cut after each "\n" (``text.split_lines``), the lines counted apart.
    The counts are added to ``counts`` (returned; a new dict when None), new words in the order they are
    first seen. ``num_threads``: the native core's worker threads (the result is the same for any number).
    """
    special_re = alternation(specials)
    counts = {} if counts is None else counts
    for text in texts:
        for line in split_lines(text) if lines else (text,):
            for piece in special_re.split(line) if special_re is not None else (line,):
                for s, e in split_gpt2(piece):
                    word = piece[s:e]
                    counts[word] = counts.get(word, 0) + 1
    return counts


def merge_count_tables(tables: list[tuple[Any, Any, Any]]) -> dict[str, int]:
    """Word -> count summed over serialized count tables, each ``(counts, offsets, blob)`` as
    ``WordCounts.to_bytes`` lays one out: int64 counts, int64 offsets (one more than the words, rising)
    into ``blob``, the words' UTF-8 (surrogates passed) one after the other. Words come in the order first
    met. A sum past 2**63 - 1 is an OverflowError; offsets that do not rise within the blob, or a count not
    above zero, a ValueError; bad UTF-8 a UnicodeDecodeError. Merging shards' counts on a driver
    (``distributed.count_words``) and reading a counts file."""
    bad = "a count table's offsets do not rise through its words, or a count is not positive"
    out: dict[str, int] = {}
    for counts, offsets, blob in tables:
        ends = np.frombuffer(offsets, dtype="<i8").tolist()
        data = bytes(blob)
        if not ends or ends[0] != 0 or ends[-1] != len(data) or any(a >= b for a, b in zip(ends, ends[1:])):
            raise ValueError(bad)
        numbers = np.frombuffer(counts, dtype="<i8", count=len(ends) - 1).tolist()
        if any(count <= 0 for count in numbers):
            raise ValueError(bad)
        for k, count in enumerate(numbers):
            word = data[ends[k] : ends[k + 1]].decode("utf-8", "surrogatepass")
            out[word] = out.get(word, 0) + count
    if out and max(out.values()) > (1 << 63) - 1:
        raise OverflowError("a word's counts sum past 2**63 - 1")
    return out


class ByteLevelEncoder(TextBatches):
    """Byte-level text -> ids, with a cache of recent words (the native core has the same type).

    ``specials`` are (token, id) pairs, longest first: in ``encode_text`` they are matched before anything
    else (leftmost, then the first listed) and never split; (token, id, lstrip, rstrip) takes the white
    space before / after a match into it (HF's added-token flags; no token may start with white space).
    Between them the text is split with the pattern ``text.SCANNED_PATTERNS[scanner]`` (GPT-2's by
    default); with ``prefix_space`` (HF's ByteLevel add_prefix_space, GPT-2's pattern only) a piece that does
    not start with a space is split as if it did. Besides the ids, ``encode_text`` returns per word (start,
    end, number of ids) as int32 bytes, with -1 ids for a special token and -2 - n for a word that was given
    that space, from which offsets are computed only when asked for. ``whole`` (HF's ignore_merges) maps
    each token's bytes to its id: a word that is a token is that one id, merges or not. A byte id of -1 is a
    byte the vocabulary lacks (GPT-NeoX's and StarCoder's lack some UTF-8 can hold): it is dropped from its
    word, as HF drops it without an unknown token. ``last_ids`` (256 ids; every byte must have one) give a
    word's last byte its own token: the byte with an end-of-word suffix (CLIP's ``</w>``); -1 drops it.
    """

    def __init__(
        self,
        byte_ids: list[int],
        table,
        specials: list[tuple[str, int]] = (),
        top_id: int = 0,
        scanner: int = 0,
        whole: Optional[dict[bytes, int]] = None,
        prefix_space: bool = False,
        last_ids: Optional[list[int]] = None,
    ) -> None:
        if not 0 <= scanner < len(SCANNED_PATTERNS):
            raise ValueError("scanner must index text.SCANNED_PATTERNS")
        if last_ids is not None and (len(last_ids) != 256 or min(byte_ids) < 0 or min(last_ids) < -1):
            raise ValueError("last_ids need every byte to have an id")
        self.last_ids = last_ids
        if prefix_space and scanner != 0:
            raise ValueError("prefix_space goes with GPT-2's pattern only")
        self.prefix_space = prefix_space
        self.byte_ids = list(byte_ids)
        self.table = table
        self.special_ids = {t[0]: t[1] for t in specials}
        self.strips = {t[0]: (bool(t[2]), bool(t[3]) if len(t) > 3 else False) for t in specials if len(t) > 2}
        self.special_re = alternation([t[0] for t in specials])
        self.scanner = scanner
        self.whole = whole or {}
        self.cache: dict[bytes, list[int]] = {}

    def encode_word(self, word: str) -> list[int]:
        return self._encode_bytes(word.encode("utf-8", "surrogatepass"))

    def _encode_bytes(self, data: bytes) -> list[int]:
        if self.whole and (t := self.whole.get(data)) is not None:
            return [t]
        ids = self.cache.get(data)
        if ids is None:
            byte_ids = self.byte_ids  # -1: a byte the vocabulary lacks, dropped (HF without an unknown token)
            symbols = [byte_ids[b] for b in data if byte_ids[b] >= 0]
            if self.last_ids is not None and symbols:
                symbols[-1] = self.last_ids[data[-1]]
                if symbols[-1] < 0:
                    symbols.pop()
            ids = encode_symbols(symbols, self.table)
            if len(data) <= CACHE_MAX_WORD:
                if len(self.cache) >= CACHE_SIZE:
                    self.cache.clear()
                self.cache[data] = ids
        return ids

    def encode_words(self, words: list[Union[str, bytes]], whole: Optional[dict] = None) -> tuple[list[int], list[int]]:
        """The ids of ``words`` (a str's UTF-8, or bytes) one after the other, and how many each word has; a
        word that is a key of ``whole`` is its value, one id (HF's ignore_merges)."""
        ids: list[int] = []
        counts: list[int] = []
        for word in words:
            if whole is not None and (t := whole.get(word)) is not None:
                ids.append(t)
                counts.append(1)
                continue
            word_ids = self._encode_bytes(word if isinstance(word, bytes) else word.encode("utf-8", "surrogatepass"))
            ids += word_ids
            counts.append(len(word_ids))
        return ids, counts

    def _encode_segment(self, text: str, start: int, end: int, ids: list[int], words) -> None:
        piece = text[start:end]
        shift = 0
        if self.prefix_space and piece and piece[0] != " ":  # GPT-2's pattern on " " + the piece
            piece, shift = " " + piece, 1
        for s, e in split_scanned(piece, self.scanner):
            word_ids = self._encode_bytes(piece[s:e].encode("utf-8", "surrogatepass"))
            ids.extend(word_ids)
            if shift and s == 0:  # the word with the space before it: -2 - n ids
                words.extend((start, start + e - 1, -2 - len(word_ids)))
            else:
                words.extend((start + s - shift, start + e - shift, len(word_ids)))

    def encode_text(self, text: str) -> tuple[list[int], bytes]:
        ids: list[int] = []
        words = array("i")
        pos = 0
        for m in self.special_re.finditer(text) if self.special_re is not None else ():
            (start, end), (lstrip, rstrip) = m.span(), self.strips.get(m.group(), (False, False))
            if lstrip:  # the white space before it joins it (not past the last token)
                start = max(SPACES_AT_END.search(text, 0, start).start(), pos)
            if rstrip:
                end = SPACES_AT_START.match(text, end).end()
            self._encode_segment(text, pos, start, ids, words)
            ids.append(self.special_ids[m.group()])
            words.extend((start, end, -1))
            pos = end
        self._encode_segment(text, pos, len(text), ids, words)
        return ids, words.tobytes()
