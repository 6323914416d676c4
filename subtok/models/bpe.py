"""Byte-pair encoding: the model (merges + vocabulary), its trainer and its word encoder.

Byte-level BPE starts from the 256 byte values, so no input is ever unknown; its vocabulary strings use
GPT-2's byte <-> unicode table. Character-level BPE starts from the corpus's characters (the
``limit_alphabet`` most frequent), marks non-initial symbols with ``continuing_subword_prefix`` and/or
the last one with ``end_of_word_suffix``, and maps characters outside its alphabet to ``unk_token`` or,
with ``byte_fallback``, to byte tokens ``<0x41>``. The merge loop itself lives in ``bpe_core``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from itertools import chain, groupby
from operator import add
from typing import Optional, Union

import regex

from .. import _backend
from ..decoders import ByteLevel, CharBPE, Decoder, byte_fallback_token, is_byte_fallback_token
from ..encoding import TextEncoder, TextWords
from ..errors import SubtokError, TokenizerFileError, TrainingError, warn_caller
from ..pre_tokenizers import GPT2, PreTokenizer, WhitespaceRuns
from ..progress import Silent, progress_bar
from ..registry import require
from ..text import SCANNED_PATTERNS, bytes_to_token, bytes_to_tokens, token_to_bytes
from ..vocab import Vocab
from . import bpe_core
from .base import UNSET, Trainer, char_alphabet, char_symbol_words, check_word_counts, encode_each

DEFAULT_SPECIAL_TOKENS = ("<unk>", "<pad>", "<bos>", "<eos>")
# byte-level spelling -> the Latin-1 character of each byte, so that .encode("latin-1") gives the bytes
_SPACE_RUNS = regex.compile("\u2581*[^\u2581]+|\u2581+")  # a run of ▁ and the characters after it
_SPACE_AFTER_CHAR = regex.compile("[^\u2581]\u2581")


def as_vocab(tokens: Union[Vocab, Sequence[Optional[str]]], unk: Optional[str]) -> Vocab:
    """``tokens`` as a Vocab whose unknown token is ``unk`` (the same object when it already is one)."""
    if isinstance(tokens, Vocab) and tokens.unk == unk:
        return tokens
    return Vocab(list(tokens), unk=unk)


class BPE:
    """A trained BPE model: ``vocab`` (specials first) and ``merges`` (pairs of token strings, by rank)."""

    type = "bpe"
    strips_specials = True  # the byte-level whole-text encoder takes added tokens' lstrip and rstrip

    def __init__(
        self,
        vocab: Union[Vocab, Sequence[Optional[str]]],
        merges: Sequence[tuple[str, str]],
        byte_level: bool = True,
        unk_token: Optional[str] = None,
        byte_fallback: bool = False,
        continuing_subword_prefix: Optional[str] = None,
        end_of_word_suffix: Optional[str] = None,
        fuse_unk: bool = False,
        ignore_merges: bool = False,
        dropout: Optional[float] = None,
    ) -> None:
        require(
            "BPE model",
            unk_token=(unk_token, "str?"),
            continuing_subword_prefix=(continuing_subword_prefix, "str?"),
            end_of_word_suffix=(end_of_word_suffix, "str?"),
        )
        self.vocab = as_vocab(vocab, unk_token)
        self.merges = [tuple(m) for m in merges]
        self.byte_level = byte_level
        self.unk_token = unk_token
        self.byte_fallback = byte_fallback
        self.prefix = continuing_subword_prefix or ""
        self.suffix = end_of_word_suffix or ""
        self.fuse_unk = bool(fuse_unk)
        self.ignore_merges = bool(ignore_merges)
        if dropout is not None and not (isinstance(dropout, (int, float)) and 0.0 <= dropout <= 1.0):
            raise SubtokError(f"BPE dropout must be between 0 and 1, not {dropout!r}")
        self.dropout = dropout
        self._check_and_index()
        self._cache: dict[str, list[int]] = {}
        self._whole: Optional[tuple[dict, dict]] = None
        self._table_backend = ""
        self._table = None
        self._encoder = None

    def _check_and_index(self) -> None:
        """Validate the vocabulary and merges and build the encoder's tables."""
        tid = self.vocab.word_to_id
        self.byte_ids: list[Optional[int]] = []
        if self.byte_level:  # a byte the vocabulary lacks (UTF-8 never produces some) is unknown
            self.byte_ids = [tid.get(c) for c in bytes_to_token(bytes(range(256)))]
        elif self.byte_fallback:
            self.byte_ids = [tid.get(byte_fallback_token(b)) for b in range(256)]
        elif self.unk_token is None:
            raise SubtokError("character-level BPE needs unk_token or byte_fallback")
        # the whole-word and whole-text encoders (native) need every byte and the plain rules
        self.plain_bytes = self.byte_level and None not in self.byte_ids and not (self.prefix or self.suffix)
        # byte-level with an end-of-word suffix (CLIP's): each byte's token with the suffix, for a word's last
        self._suffixed_bytes = (
            [tid.get(c + self.suffix) for c in bytes_to_token(bytes(range(256)))]
            if self.byte_level and self.suffix and not self.prefix and None not in self.byte_ids
            else None
        )
        # character-level BPE with byte fallback: each character's token, else its bytes' (encode_chars)
        self._chars = (
            {c: i for c, i in tid.items() if len(c) == 1}
            if self.byte_fallback
            and not self.byte_level
            and None not in self.byte_ids
            and not self.suffix
            and not self.prefix
            else None
        )
        chars = self._chars
        self._reference_chars = bpe_core.make_char_table(chars, self.byte_ids) if chars is not None else None
        self._index_merges(tid)
        # Files converted from SentencePiece (Llama-2's) have no pre-tokenizer: a whole line is one word. Where no
        # merge makes a token with ▁ after another character, no merge crosses the start of a run of ▁, and
        # a long word is encoded run by run, each run cached (the same ids: merges inside a run see only it)
        self._space_cuts = None
        if self._chars is not None:
            made = (self.vocab.id_to_word[r] for r in self.results)
            if not any(t is None or _SPACE_AFTER_CHAR.search(t) for t in made):
                self._space_cuts = _SPACE_RUNS

    def _index_merges(self, tid: Mapping[str, int]) -> None:
        """``ranks`` ((left id, right id) -> rank; a repeated pair: the later rank wins, as in HF's merge map)
        and ``results`` (the merged token's id by rank), each merge checked (whole columns at a time)."""
        merges, strip = self.merges, len(self.prefix)
        left_words, right_words = zip(*merges) if set(map(len, merges)) == {2} else ((), ())
        if len(left_words) != len(merges) or not set(map(type, left_words)) | set(map(type, right_words)) <= {str}:
            for rank, merge in enumerate(merges):  # (the columns' check failed: find the merge, if any)
                if len(merge) != 2 or not all(isinstance(p, str) for p in merge):
                    raise SubtokError(f"merge {rank} is not a pair of strings: {merge!r}")
        lefts, rights = list(map(tid.get, left_words)), list(map(tid.get, right_words))
        merged = map(add, left_words, right_words) if not strip else (a + b[strip:] for a, b in merges)
        self.results: list[int] = list(map(tid.get, merged))  # (the right part loses the prefix, as HF's)
        if None in lefts or None in rights or None in self.results:
            rank = next(k for k, ids in enumerate(zip(lefts, rights, self.results)) if None in ids)
            left, right = merges[rank]
            raise SubtokError(f"merge {rank} ({left!r}, {right!r}) uses or makes a token not in the vocabulary")
        self.ranks: dict[tuple[int, int], int] = dict(zip(zip(lefts, rights), range(len(merges))))

    @cached_property
    def nbytes(self) -> list[int]:
        """Byte length of each token in the original text, for offsets (unknown-token length varies)."""
        return [0 if t is None else self._token_nbytes(t) for t in self.vocab]

    def _token_nbytes(self, token: str) -> int:
        """How many bytes of the original text the token stands for (its affixes are not text)."""
        if self.byte_fallback and not self.byte_level and is_byte_fallback_token(token):
            return 1
        core = token[len(self.prefix) :] if self.prefix and token.startswith(self.prefix) else token
        core = core[: -len(self.suffix)] if self.suffix and core.endswith(self.suffix) else core
        if self.byte_level:
            try:
                return len(token_to_bytes(core))
            except ValueError:
                return len(core.encode("utf-8"))  # a special token
        return len(core.encode("utf-8"))

    # -- encoding ----------------------------------------------------------------------------------------
    def symbols(self, word: str, spelled: bool = False) -> list[tuple[int, int, int]]:
        """(id, first byte, length in bytes) of a word's symbols before any merge, as HF's BPE makes them:
        each character (each byte at the byte level), with ``continuing_subword_prefix`` when not first and
        ``end_of_word_suffix`` when last; one missing from the vocabulary becomes its byte-fallback tokens,
        else the unknown token (consecutive ones fused with ``fuse_unk``), else nothing. A ``spelled`` word
        is in byte-level spelling already (one character per byte)."""
        if spelled:
            units = word
            lengths = [1] * len(units)
        elif self.byte_level:
            units = bytes_to_token(word.encode("utf-8", "surrogatepass"))
            lengths = [1] * len(units)
        else:
            units = word
            lengths = [len(c.encode("utf-8", "surrogatepass")) for c in word]
        tid = self.vocab.word_to_id
        unk_id = self.vocab.unk_id
        out: list[tuple[int, int, int]] = []
        unk_start = unk_len = 0  # unknown symbols not yet written
        pos = 0
        last = len(units) - 1
        for i, unit in enumerate(units):
            n = lengths[i]
            s = (self.prefix if i else "") + unit + (self.suffix if i == last else "")
            t = tid.get(s)
            if t is not None:
                if unk_len:
                    out.append((unk_id, unk_start, unk_len))
                    unk_len = 0
                out.append((t, pos, n))
            elif (
                self.byte_fallback
                and not self.byte_level
                and None not in (fallback := [self.byte_ids[b] for b in unit.encode("utf-8", "surrogatepass")])
            ):
                out.extend((f, pos + j, 1) for j, f in enumerate(fallback))
            elif unk_id is not None:
                if unk_len and not self.fuse_unk:
                    out.append((unk_id, unk_start, unk_len))
                    unk_len = 0
                if not unk_len:
                    unk_start = pos
                unk_len += n
            pos += n
        if unk_len:
            out.append((unk_id, unk_start, unk_len))
        return out

    def initial_symbols(self, word: str) -> list[int]:
        """The ids of a word's symbols before any merge."""
        if self.plain_bytes:
            ids = self.byte_ids
            return [ids[b] for b in word.encode("utf-8", "surrogatepass")]
        if self._suffixed_bytes is not None and word:  # CLIP's: every byte, the last with the suffix
            data = word.encode("utf-8", "surrogatepass")
            last = self._suffixed_bytes[data[-1]]
            if last is not None:
                ids = self.byte_ids
                return [ids[b] for b in data[:-1]] + [last]
        if self.byte_level or self.prefix or self.suffix:
            return [t for t, _, _ in self.symbols(word)]
        ids = list(map(self.vocab.word_to_id.get, word))  # characters the vocabulary has: their ids
        if None not in ids:
            return ids
        if self._chars is not None:  # every other character: its bytes' tokens
            return bpe_core.char_symbols(word, self._reference_chars)
        out = []  # the others as ``symbols`` makes them: byte fallback, else the unknown token,
        unk_id, pending = self.vocab.unk_id, False  # which waits for the next known character (HF's order)
        for c, t in zip(word, ids):
            if t is not None:
                if pending:
                    out.append(unk_id)
                    pending = False
                out.append(t)
                continue
            if self.byte_fallback:
                fallback = [self.byte_ids[b] for b in c.encode("utf-8", "surrogatepass")]
                if None not in fallback:
                    out += fallback
                    continue
            if unk_id is not None:
                if pending and not self.fuse_unk:
                    out.append(unk_id)
                pending = True
        if pending:
            out.append(unk_id)
        return out

    def _compile(self) -> None:
        """Build the encoder's tables for the backend in use (again if the backend switches)."""
        if self._table_backend != _backend.name:
            self._table = _backend.pick(bpe_core.make_merge_table)(self.ranks, self.results)
            self._encode_symbols = _backend.pick(bpe_core.encode_symbols)
            self._encode_chars = _backend.pick(bpe_core.encode_chars)
            encoder = _backend.pick(bpe_core.ByteLevelEncoder)
            top = len(self.vocab) - 1  # whole words (ignore_merges) can be any token
            if self.plain_bytes:
                self._encoder = encoder(self.byte_ids, self._table, [], top)
            elif self._suffixed_bytes is not None and not self.ignore_merges:  # CLIP's: the last byte suffixed
                unk = self.vocab.unk_id if self.vocab.unk_id is not None else -1  # (symbols' rule where one lacks it)
                last = [unk if t is None else t for t in self._suffixed_bytes]
                self._encoder = encoder(self.byte_ids, self._table, [], top, 0, None, False, last)
            else:
                self._encoder = None
            if self._chars is not None:
                make = _backend.pick(bpe_core.make_char_table)
                native = make is not bpe_core.make_char_table
                self._char_table = make(self._chars, self.byte_ids) if native else self._reference_chars
            self._text_encoders: dict = {}
            self._cache.clear()
            self._table_backend = _backend.name

    def encode_word(self, word: str, dropout: Optional[float] = None, rng=None) -> list[int]:
        """Token ids of one pre-tokenized word (cached). With ``dropout`` (BPE-dropout: each merge is skipped
        with that probability, drawn from ``rng``) the word is encoded afresh."""
        self._compile()
        if self.ignore_merges and word:  # a word the vocabulary has is that token (HF's ignore_merges)
            t = self.vocab.word_to_id.get(bytes_to_token(word.encode("utf-8")) if self.byte_level else word)
            if t is not None:
                return [t]
        if dropout:
            return bpe_core.encode_with_dropout(self.initial_symbols(word), self.ranks, self.results, dropout, rng)
        if self._encoder is not None:
            return self._encoder.encode_word(word)
        ids = self._cache.get(word)
        if ids is None:
            if self._space_cuts is not None and len(word) > 32:  # a line: its runs repeat, the line does not
                return self._encode_space_runs(word)
            if self._chars is not None:
                ids = self._encode_chars(word, self._char_table, self._table)
            else:
                ids = self._encode_symbols(self.initial_symbols(word), self._table)
            if len(word) <= bpe_core.CACHE_MAX_WORD:
                if len(self._cache) >= bpe_core.CACHE_SIZE:
                    self._cache.clear()
                self._cache[word] = ids
        return ids

    def _encode_space_runs(self, word: str) -> list[int]:
        """A word of more than 32 characters (a whole line, in files converted from SentencePiece) run by run
        of ▁ and the characters after it, each run through the word cache: no merge crosses the start of a
        run (``_space_cuts``)."""
        cache = self._cache
        pieces = self._space_cuts.findall(word)
        found = list(map(cache.get, pieces))  # the cached runs in one pass; the others encoded and cached
        for k in [k for k, got in enumerate(found) if got is None]:
            piece = pieces[k]
            found[k] = self._encode_chars(piece, self._char_table, self._table)
            if len(piece) <= bpe_core.CACHE_MAX_WORD:
                if len(cache) >= bpe_core.CACHE_SIZE:
                    cache.clear()
                cache[piece] = found[k]
        return list(chain.from_iterable(found))

    def encode_words(self, words: list[str], spelled: bool = False) -> tuple[list[int], list[int]]:
        """The ids of ``words`` one after the other and how many each has: one native call for plain
        byte-level words (a word the vocabulary has is looked up first with ``ignore_merges``)."""
        self._compile()
        if self._encoder is None:
            if spelled and words and isinstance(words[0], bytes):  # spelled words given as their bytes
                words = [bytes_to_token(w) for w in words]
            if spelled or self.ignore_merges:
                return encode_each(self.encode_spelled if spelled else self.encode_word, words)
            ids: list[int] = []  # the cache first, as encode_word does, without a call per cached word
            counts: list[int] = []
            cache, encode_word = self._cache, self.encode_word
            for word in words:
                word_ids = cache.get(word) or encode_word(word)
                ids += word_ids
                counts.append(len(word_ids))
            return ids, counts
        if spelled and words and isinstance(words[0], str):  # the bytes each word spells (a character a byte)
            words = [token_to_bytes(w) for w in words]
        return self._encoder.encode_words(words, self._whole_words(spelled) if self.ignore_merges else None)

    def _whole_words(self, spelled: bool = False) -> dict:
        """``ignore_merges``' lookup: the text of each token whose bytes are UTF-8 -> its id (each token's
        bytes -> its id for words in byte-level spelling, which arrive as their bytes)."""
        if self._whole is None:
            text: dict[str, int] = {}
            raw: dict[bytes, int] = {}
            for i, t in enumerate(self.vocab.id_to_word):
                try:
                    data = token_to_bytes(t) if t is not None else None
                except ValueError:
                    continue
                if data is not None:
                    raw.setdefault(data, i)
                    try:
                        text.setdefault(data.decode("utf-8"), i)
                    except UnicodeDecodeError:
                        pass
            self._whole = (text, raw)
        return self._whole[1] if spelled else self._whole[0]

    def encode_spelled(self, word: str, dropout: Optional[float] = None, rng=None) -> list[int]:
        """Token ids of a byte-level word already in byte-level spelling (a pre-tokenizer whose ByteLevel
        step has others after it, as Falcon's), as ``encode_word`` encodes the text it spells."""
        self._compile()
        if self.ignore_merges and word and (t := self.vocab.word_to_id.get(word)) is not None:
            return [t]
        if dropout:
            initial = [t for t, _, _ in self.symbols(word, spelled=True)]
            return bpe_core.encode_with_dropout(initial, self.ranks, self.results, dropout, rng)
        key = ("spelled", word)
        ids = self._cache.get(key)
        if ids is None:
            ids = self._encode_symbols([t for t, _, _ in self.symbols(word, spelled=True)], self._table)
            if len(word) <= bpe_core.CACHE_MAX_WORD:
                if len(self._cache) >= bpe_core.CACHE_SIZE:
                    self._cache.clear()
                self._cache[key] = ids
        return ids

    def text_encoder(
        self, normalizers: Sequence, pre_tokenizer: PreTokenizer, specials: list[tuple[str, int]]
    ) -> Optional[TextEncoder]:
        """Byte-level BPE with a scanned pattern (``text.SCANNED_PATTERNS``: GPT-2's, Llama-3's, Qwen2's,
        cl100k's, StarCoder's digits then GPT-2's) and no normalizer splits and encodes whole texts in one call
        (``bpe_core.ByteLevelEncoder`` or its native twin), ignore_merges included; other pipelines have no
        such encoder."""
        pattern, prefix_space = getattr(pre_tokenizer, "pattern", None), getattr(pre_tokenizer, "prefix_space", False)
        if prefix_space and pattern != SCANNED_PATTERNS[0]:
            return None  # HF's add_prefix_space comes with GPT-2's pattern
        missing = None in self.byte_ids  # bytes the vocabulary lacks: dropped as HF drops them without unk
        plain = self.byte_level and not (self.prefix or self.suffix) and (not missing or self.unk_token is None)
        if not plain or normalizers or pattern not in SCANNED_PATTERNS:
            return None
        self._compile()
        key = tuple(specials)
        enc = self._text_encoders.get(key)
        if enc is None:
            whole = {w: t for w, t in self._whole_words(spelled=True).items() if w} if self.ignore_merges else None
            byte_ids = [-1 if t is None else t for t in self.byte_ids]
            scanner = SCANNED_PATTERNS.index(pattern)
            core = _backend.pick(bpe_core.ByteLevelEncoder)(
                byte_ids, self._table, list(specials), len(self.vocab) - 1, scanner, whole, prefix_space
            )
            enc = self._text_encoders[key] = TextEncoder(core, self, TextWords)
        return enc

    def word_offsets(self, word: str, ids: Sequence[int], spelled: bool = False) -> list[tuple[int, int]]:
        """Character span within ``word`` of each token in ``ids`` (a token that covers part of a
        character spans the whole character; a ``spelled`` word has one character per byte)."""
        if spelled:
            byte_to_char = list(range(len(word) + 1))
        else:
            byte_to_char = [i for i, ch in enumerate(word) for _ in ch.encode("utf-8", "surrogatepass")]
            byte_to_char.append(len(word))
        if self.ignore_merges and len(ids) == 1 and self.symbols(word, spelled) and ids[0] != self.vocab.unk_id:
            return [(0, len(word))]
        spans = []
        if self.plain_bytes:  # every byte is a symbol: each token covers the next nbytes bytes
            pos = 0
            for t in ids:
                n = self.nbytes[t]
                spans.append((byte_to_char[pos], byte_to_char[pos + n - 1] + 1) if n else (pos, pos))
                pos += n
            return spans
        symbols = self.symbols(word, spelled)
        k = 0
        for t in ids:  # a token covers whole initial symbols: the unknown token one, others their bytes' worth
            if k >= len(symbols):
                spans.append((len(word), len(word)))
                continue
            start = symbols[k][1]
            want = symbols[k][2] if t == self.vocab.unk_id else self.nbytes[t]
            covered = 0
            while k < len(symbols) and (covered < want or not covered):
                covered += symbols[k][2]
                end = symbols[k][1] + symbols[k][2]
                k += 1
            spans.append((byte_to_char[start], byte_to_char[end - 1] + 1))
        return spans

    def default_pre_tokenizer(self) -> PreTokenizer:
        return GPT2() if self.byte_level else WhitespaceRuns()

    def decoder(self) -> Decoder:
        if self.byte_level:
            return ByteLevel()
        return CharBPE(self.byte_fallback, self.prefix, self.suffix)

    # -- persistence -------------------------------------------------------------------------------------
    def extended(self, word_counts: Mapping[str, int], n_new: int, first_id: int, min_frequency: int = 2) -> BPE:
        """This model with up to ``n_new`` merges learned on ``word_counts`` after its own (each word as
        this model encodes it, then BPE training on from there), their tokens at ids ``first_id`` and up
        (past the tokenizer's added tokens): every old id and merge stays. A merge that would make a token
        the vocabulary has is not learned, so ranks keep following ids (tiktoken's reading of a vocabulary
        gives HF's merges)."""
        if self.dropout or self.ignore_merges or (self.byte_fallback and not self.byte_level):
            raise TrainingError("extend: BPE with dropout, ignore_merges or byte fallback is not supported")
        ids = [i for i, t in enumerate(self.vocab.id_to_word) if t is not None]
        key_of = (lambda t: token_to_bytes(t)) if self.byte_level else (lambda t: t.encode("utf-8"))
        try:
            keys = [key_of(self.vocab.id_to_word[i]) for i in ids]
        except ValueError as e:
            raise TrainingError(f"extend: the vocabulary has a token that spells no bytes ({e})") from None
        index = {i: k for k, i in enumerate(ids)}
        words, counts = [], []
        unk = self.vocab.unk_id
        for word, count in word_counts.items():
            encoded = self.encode_word(word)
            pieces = [encoded]
            if unk is not None and unk in encoded:  # an unknown character cuts the word: no pair spans it
                pieces = [list(g) for is_unk, g in groupby(encoded, key=lambda t: t == unk) if not is_unk]
            for piece in pieces:
                if len(piece) > 1:
                    words.append([index[t] for t in piece])
                    counts.append(count)
        old = len(keys)
        merges = _backend.pick(bpe_core.train_merges)(
            words, counts, keys, len(self.prefix.encode("utf-8")), old + n_new, min_frequency, frozenset(keys)
        )
        names = [self.vocab.id_to_word[i] for i in ids] + [
            bytes_to_token(k) if self.byte_level else k.decode("utf-8") for k in keys[old:]
        ]
        end = first_id + len(keys) - old  # the new tokens' ids: first_id up to end
        tokens: list[Optional[str]] = list(self.vocab.id_to_word) + [None] * (end - len(self.vocab))
        tokens[first_id:end] = names[old:]
        new_merges = [(names[a], names[b]) for a, b, _ in merges]
        return BPE(
            tokens,
            self.merges + new_merges,
            byte_level=self.byte_level,
            unk_token=self.unk_token,
            continuing_subword_prefix=self.prefix or None,
            end_of_word_suffix=self.suffix or None,
            fuse_unk=self.fuse_unk,
        )

    def to_dict(self) -> dict:
        """Our JSON; the options only other files set (fuse_unk, ignore_merges, dropout) only when set."""
        d = {
            "type": self.type,
            "byte_level": self.byte_level,
            "unk_token": self.unk_token,
            "byte_fallback": self.byte_fallback,
            "continuing_subword_prefix": self.prefix or None,
            "end_of_word_suffix": self.suffix or None,
            "vocab": list(self.vocab),
            "merges": [list(m) for m in self.merges],
        }
        extra = {"fuse_unk": self.fuse_unk, "ignore_merges": self.ignore_merges, "dropout": self.dropout}
        d.update((k, v) for k, v in extra.items() if v)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> BPE:
        vocab, merges = d.get("vocab"), d.get("merges")
        if not isinstance(vocab, list) or not all(t is None or isinstance(t, str) for t in vocab):
            raise TokenizerFileError("model.vocab must be a list of strings (null for an unused id)")
        if not isinstance(merges, list):
            raise TokenizerFileError("model.merges must be a list of [left, right] pairs")
        return cls(
            vocab,
            merges,
            byte_level=bool(d.get("byte_level", True)),
            unk_token=d.get("unk_token"),
            byte_fallback=bool(d.get("byte_fallback", False)),
            continuing_subword_prefix=d.get("continuing_subword_prefix"),
            end_of_word_suffix=d.get("end_of_word_suffix"),
            fuse_unk=bool(d.get("fuse_unk", False)),
            ignore_merges=bool(d.get("ignore_merges", False)),
            dropout=d.get("dropout"),
        )


# ---------------------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------------------
def _special_key(token: str, byte_level: bool) -> Optional[bytes]:
    """The key a merged token would need to be spelled like ``token`` (None: it cannot be)."""
    if not byte_level:
        return token.encode("utf-8")
    try:
        return token_to_bytes(token)
    except ValueError:
        return None


class BPETrainer(Trainer):
    """BPE's options. ``byte_level`` (default): the 256 byte values are the alphabet, so no input is ever
    unknown, and text is split with GPT-2's pattern. Otherwise (characters, split on whitespace): the
    ``limit_alphabet`` most frequent characters, ``unk_token`` ("<unk>") or ``byte_fallback`` ("<0x41>"
    tokens) for the rest, ``end_of_word_suffix`` ("</w>") on each word's last symbol and/or
    ``continuing_subword_prefix`` on the others. The character options are refused with ``byte_level``."""

    model = "bpe"
    default_special_tokens = DEFAULT_SPECIAL_TOKENS

    def __init__(
        self,
        *,
        byte_level: bool = True,
        limit_alphabet: Optional[int] = None,
        unk_token: Optional[str] = UNSET,  # type: ignore[assignment]
        byte_fallback: bool = False,
        continuing_subword_prefix: Optional[str] = None,
        end_of_word_suffix: Optional[str] = UNSET,  # type: ignore[assignment]
        **common,
    ) -> None:
        super().__init__(**common)
        if byte_level:
            given = {
                "limit_alphabet": limit_alphabet is not None,
                "unk_token": unk_token is not UNSET,
                "byte_fallback": byte_fallback,
                "continuing_subword_prefix": continuing_subword_prefix is not None,
                "end_of_word_suffix": end_of_word_suffix is not UNSET,
            }
            refused = [k for k, v in given.items() if v]
            if refused:
                raise TrainingError(
                    f"{', '.join(refused)}: character-level BPE options; pass byte_level=False to use them "
                    "(byte-level BPE starts from the 256 bytes and has no unknown symbols)"
                )
        elif limit_alphabet is not None and (not isinstance(limit_alphabet, int) or limit_alphabet < 1):
            raise TrainingError(f"limit_alphabet must be a positive integer, not {limit_alphabet!r}")
        self.byte_level = byte_level
        self.limit_alphabet = limit_alphabet
        self.unk_token = None if byte_level else ("<unk>" if unk_token is UNSET else unk_token)
        self.byte_fallback = byte_fallback
        self.prefix = continuing_subword_prefix or ""
        self.suffix = "" if byte_level else ("</w>" if end_of_word_suffix is UNSET else end_of_word_suffix or "")

    def default_pre_tokenizer(self) -> PreTokenizer:
        return GPT2() if self.byte_level else WhitespaceRuns()

    def train(self, word_counts: Mapping[str, int]) -> BPE:
        """Learn a BPE model of exactly ``vocab_size`` tokens (specials included) from word counts.

        Stops early, with a warning, when no pair occurs ``min_frequency`` times any more.
        """
        check_word_counts(word_counts)
        prefix, suffix, byte_level = self.prefix, self.suffix, self.byte_level
        specials = list(self.special_tokens)
        if byte_level:
            keys = [bytes([b]) for b in range(256)]  # symbol id == byte value
            word_list = list(word_counts)  # (str words: the trainer reads their UTF-8)
            counts = list(word_counts.values())
            fallback: list[str] = []
            strip = 0
        else:
            if self.unk_token is None and not self.byte_fallback:
                raise TrainingError("character-level BPE needs unk_token (in special_tokens) or byte_fallback=True")
            if self.unk_token is not None and self.unk_token not in specials:
                specials.append(self.unk_token)
            alphabet = char_alphabet(word_counts, self.limit_alphabet)
            sym_words = char_symbol_words(word_counts, alphabet, prefix, suffix)
            keys = sorted({s.encode("utf-8") for word in sym_words for s in word})
            key_id = {k: i for i, k in enumerate(keys)}
            word_list = [[key_id[s.encode("utf-8")] for s in word] for word in sym_words]
            counts = list(sym_words.values())
            fallback = [byte_fallback_token(b) for b in range(256)] if self.byte_fallback else []
            strip = len(prefix.encode("utf-8"))
        reserved = len(specials) + len(fallback)
        if self.vocab_size < reserved + len(keys):
            raise TrainingError(
                f"vocab_size={self.vocab_size} is below the alphabet ({len(keys)} symbols) plus "
                f"{reserved} special/fallback tokens: use at least {reserved + len(keys)}"
            )
        max_tokens = self.vocab_size - reserved
        blocked = frozenset(_special_key(t, byte_level) for t in specials + fallback) - {None}
        with progress_bar(total=max_tokens - len(keys), desc="merges", enabled=self.show_progress) as bar:
            start = len(keys)

            def on_merge(n: int) -> None:
                bar.update(n - start - on_merge.done)
                on_merge.done = n - start

            on_merge.done = 0
            report = None if isinstance(bar, Silent) else on_merge  # (a call per merge costs 1 µs: none unasked)
            train_merges = _backend.pick(bpe_core.train_merges)
            merges = train_merges(word_list, counts, keys, strip, max_tokens, self.min_frequency, blocked, report)
        if len(keys) < max_tokens:
            warn_caller(
                f"BPE training ran out of pairs with min_frequency={self.min_frequency}: the vocabulary has "
                f"{reserved + len(keys)} tokens, not the vocab_size={self.vocab_size} asked for"
            )
        names = bytes_to_tokens(keys) if byte_level else [k.decode("utf-8") for k in keys]
        return BPE(
            specials + fallback + names,
            [(names[a], names[b]) for a, b, _ in merges],
            byte_level=byte_level,
            unk_token=self.unk_token,
            byte_fallback=self.byte_fallback and not byte_level,
            continuing_subword_prefix=prefix or None,
            end_of_word_suffix=suffix or None,
        )
