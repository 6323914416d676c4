"""Byte-pair encoding: the model (merges + vocabulary), its trainer and its word encoder.

Byte-level BPE starts from the 256 byte values, so no input is ever unknown; its vocabulary strings use
GPT-2's byte <-> unicode table. Character-level BPE starts from the corpus's characters (the
``limit_alphabet`` most frequent), marks non-initial symbols with ``continuing_subword_prefix`` and/or
the last one with ``end_of_word_suffix``, and maps characters outside its alphabet to ``unk_token`` or,
with ``byte_fallback``, to byte tokens ``<0x41>``. The merge loop itself lives in ``bpe_core``.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from typing import Optional

from .. import _backend
from ..errors import TokenizerFileError, TrainingError
from ..progress import progress_bar
from ..text import bytes_to_token, token_to_bytes
from .bpe_core import CACHE_SIZE


def _byte_fallback_token(b: int) -> str:
    return f"<0x{b:02X}>"


class BPE:
    """A trained BPE model: ``vocab`` (list of token strings, specials first) and ``merges`` (pairs of token
    strings, by rank). Ids are positions in ``vocab``."""

    type = "bpe"
    piece_separator = ""

    def __init__(
        self,
        vocab: Sequence[str],
        merges: Sequence[tuple[str, str]],
        byte_level: bool = True,
        unk_token: Optional[str] = None,
        byte_fallback: bool = False,
        continuing_subword_prefix: Optional[str] = None,
        end_of_word_suffix: Optional[str] = None,
        source: str = "BPE model",
    ) -> None:
        self.vocab = list(vocab)
        self.merges = [tuple(m) for m in merges]
        self.byte_level = byte_level
        self.unk_token = unk_token
        self.byte_fallback = byte_fallback
        self.prefix = continuing_subword_prefix or ""
        self.suffix = end_of_word_suffix or ""
        self.token_to_id = {t: i for i, t in enumerate(self.vocab)}
        if len(self.token_to_id) != len(self.vocab):
            dup = next(t for t, c in Counter(self.vocab).items() if c > 1)
            raise TokenizerFileError(f"{source}: duplicate vocabulary entry {dup!r}")
        self._check_and_index(source)
        self._cache: dict[str, list[int]] = {}
        self._table_backend = ""
        self._table = None
        self._encoder = None

    def _check_and_index(self, source: str) -> None:
        """Validate the vocabulary and merges and build the encoder's tables."""
        tid = self.token_to_id
        if self.unk_token is not None and self.unk_token not in tid:
            raise TokenizerFileError(f"{source}: unk_token {self.unk_token!r} is not in the vocabulary")
        if self.byte_level:
            table = bytes_to_token(bytes(range(256)))
            missing = [c for c in table if c not in tid]
            if missing:
                raise TokenizerFileError(f"{source}: byte-level vocabulary lacks byte tokens {missing[:5]}")
            self.byte_ids = [tid[c] for c in table]
        elif self.byte_fallback:
            missing = [b for b in range(256) if _byte_fallback_token(b) not in tid]
            if missing:
                raise TokenizerFileError(f"{source}: byte_fallback needs <0x..> tokens; lacks {missing[:5]}")
            self.byte_ids = [tid[_byte_fallback_token(b)] for b in range(256)]
        elif self.unk_token is None:
            raise TokenizerFileError(f"{source}: character-level BPE needs unk_token or byte_fallback")
        self.ranks: dict[tuple[int, int], int] = {}
        self.results: list[int] = []
        strip = len(self.prefix)
        for rank, merge in enumerate(self.merges):
            if len(merge) != 2 or not all(isinstance(p, str) for p in merge):
                raise TokenizerFileError(f"{source}: merge {rank} is not a pair of strings: {merge!r}")
            left, right = merge
            merged = left + (right[strip:] if strip and right.startswith(self.prefix) else right)
            ids = (tid.get(left), tid.get(right), tid.get(merged))
            if None in ids:
                raise TokenizerFileError(
                    f"{source}: merge {rank} ({left!r}, {right!r}) uses or makes a token not in the vocabulary"
                )
            self.ranks.setdefault((ids[0], ids[1]), len(self.results))
            if self.ranks[(ids[0], ids[1])] == len(self.results):
                self.results.append(ids[2])
        # Byte length of each token in the original text, for offsets (unknown-token length varies).
        self.nbytes = [self._token_nbytes(t) for t in self.vocab]

    def _token_nbytes(self, token: str) -> int:
        if self.byte_level:
            try:
                return len(token_to_bytes(token))
            except ValueError:
                return len(token.encode("utf-8"))  # a special token
        if self.byte_fallback and len(token) == 6 and token.startswith("<0x") and token.endswith(">"):
            return 1
        core = token[len(self.prefix) :] if self.prefix and token.startswith(self.prefix) else token
        core = core[: -len(self.suffix)] if self.suffix and core.endswith(self.suffix) else core
        return len(core.encode("utf-8"))

    # -- encoding ----------------------------------------------------------------------------------------
    def initial_symbols(self, word: str) -> list[int]:
        """The ids of a word's symbols before any merge."""
        if self.byte_level:
            ids = self.byte_ids
            return [ids[b] for b in word.encode("utf-8", "surrogatepass")]
        out: list[int] = []
        tid = self.token_to_id
        last = len(word) - 1
        for i, ch in enumerate(word):
            sym = (self.prefix if i else "") + ch + (self.suffix if i == last else "")
            t = tid.get(sym)
            if t is not None:
                out.append(t)
            elif self.byte_fallback:
                out.extend(self.byte_ids[b] for b in ch.encode("utf-8", "surrogatepass"))
            else:
                out.append(tid[self.unk_token])
        return out

    def _compile(self) -> None:
        """Build the encoder's tables for the backend in use (again if the backend switches)."""
        if self._table_backend != _backend.name:
            self._table = _backend.make_merge_table(self.ranks, self.results)
            self._encoder = _backend.ByteLevelEncoder(self.byte_ids, self._table) if self.byte_level else None
            self._text_encoders: dict = {}
            self._cache.clear()
            self._table_backend = _backend.name

    def encode_word(self, word: str) -> list[int]:
        """Token ids of one pre-tokenized word (cached)."""
        self._compile()
        if self._encoder is not None:
            return self._encoder.encode_word(word)
        ids = self._cache.get(word)
        if ids is None:
            ids = _backend.encode_symbols(self.initial_symbols(word), self._table)
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            self._cache[word] = ids
        return ids

    def text_encoder(self, specials: list[tuple[str, int]]):
        """Byte-level BPE with GPT-2's pre-tokenizer and these special tokens, as one encoder that splits
        and encodes whole texts (``bpe_core.ByteLevelEncoder`` or its native twin)."""
        self._compile()
        key = tuple(specials)
        enc = self._text_encoders.get(key)
        if enc is None:
            enc = self._text_encoders[key] = _backend.ByteLevelEncoder(self.byte_ids, self._table, list(specials))
        return enc

    def word_offsets(self, word: str, ids: Sequence[int]) -> list[tuple[int, int]]:
        """Character span within ``word`` of each token in ``ids`` (a token that covers part of a
        character spans the whole character)."""
        data = word.encode("utf-8", "surrogatepass")
        if len(data) == len(word):
            byte_to_char = None
        else:
            byte_to_char = []
            for i, ch in enumerate(word):
                byte_to_char.extend([i] * len(ch.encode("utf-8", "surrogatepass")))
        unk_id = self.token_to_id.get(self.unk_token) if self.unk_token is not None else None
        spans = []
        pos = 0
        for t in ids:
            if t == unk_id and not self.byte_level:
                char = byte_to_char[pos] if byte_to_char else pos
                n = len(word[char].encode("utf-8", "surrogatepass"))
            else:
                n = self.nbytes[t]
            if byte_to_char is None:
                spans.append((pos, pos + n))
            else:
                spans.append((byte_to_char[pos], byte_to_char[pos + n - 1] + 1) if n else (pos, pos))
            pos += n
        return spans

    # -- decoding ----------------------------------------------------------------------------------------
    def decode_tokens(self, tokens: Sequence[str]) -> str:
        """The text of a sequence of (non-special) tokens."""
        if self.byte_level:
            data = b"".join(token_to_bytes(t) for t in tokens)
            return _decode_bytes(data)
        pieces: list[str] = []
        pending = bytearray()
        for t in tokens:
            if self.byte_fallback and len(t) == 6 and t.startswith("<0x") and t.endswith(">"):
                pending.append(int(t[3:5], 16))
                continue
            if pending:
                pieces.append(_decode_bytes(bytes(pending)))
                pending.clear()
            if self.suffix:
                pieces.append(t.replace(self.suffix, " "))
            elif self.prefix:
                pieces.append(t[len(self.prefix) :] if t.startswith(self.prefix) else (" " + t if pieces else t))
            else:
                pieces.append(t)
        if pending:
            pieces.append(_decode_bytes(bytes(pending)))
        text = "".join(pieces)
        return text.rstrip(" ") if self.suffix else text

    # -- persistence -------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "type": self.type,
            "byte_level": self.byte_level,
            "unk_token": self.unk_token,
            "byte_fallback": self.byte_fallback,
            "continuing_subword_prefix": self.prefix or None,
            "end_of_word_suffix": self.suffix or None,
            "vocab": self.vocab,
            "merges": [list(m) for m in self.merges],
        }

    @classmethod
    def from_dict(cls, d: dict, source: str) -> BPE:
        vocab, merges = d.get("vocab"), d.get("merges")
        if not isinstance(vocab, list) or not all(isinstance(t, str) for t in vocab):
            raise TokenizerFileError(f"{source}: model.vocab must be a list of strings")
        if not isinstance(merges, list):
            raise TokenizerFileError(f"{source}: model.merges must be a list of [left, right] pairs")
        return cls(
            vocab,
            merges,
            byte_level=bool(d.get("byte_level", True)),
            unk_token=d.get("unk_token"),
            byte_fallback=bool(d.get("byte_fallback", False)),
            continuing_subword_prefix=d.get("continuing_subword_prefix"),
            end_of_word_suffix=d.get("end_of_word_suffix"),
            source=source,
        )


def _decode_bytes(data: bytes) -> str:
    try:
        return data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace")


# ---------------------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------------------
def _char_alphabet(word_counts: Counter, limit_alphabet: Optional[int]) -> set[str]:
    chars: Counter = Counter()
    for w, c in word_counts.items():
        for ch in w:
            chars[ch] += c
    ranked = sorted(chars.items(), key=lambda kv: (-kv[1], kv[0]))
    if limit_alphabet is not None:
        ranked = ranked[:limit_alphabet]
    return {ch for ch, _ in ranked}


def _char_symbol_words(word_counts: Counter, alphabet: set[str], prefix: str, suffix: str) -> Counter:
    """Words as tuples of symbol strings; a character outside the alphabet cuts the word into pieces
    that are trained on separately (no pair spans an unknown character)."""
    out: Counter = Counter()
    for w, c in word_counts.items():
        last = len(w) - 1
        piece: list[str] = []
        for i, ch in enumerate(w):
            if ch not in alphabet:
                if piece:
                    out[tuple(piece)] += c
                piece = []
                continue
            piece.append((prefix if i else "") + ch + (suffix if i == last else ""))
        if piece:
            out[tuple(piece)] += c
    return out


def _special_key(token: str, byte_level: bool) -> Optional[bytes]:
    """The key a merged token would need to be spelled like ``token`` (None: it cannot be)."""
    if not byte_level:
        return token.encode("utf-8")
    try:
        return token_to_bytes(token)
    except ValueError:
        return None


def train_bpe(
    word_counts: Counter,
    vocab_size: int,
    special_tokens: Sequence[str] = (),
    min_frequency: int = 2,
    byte_level: bool = True,
    limit_alphabet: Optional[int] = None,
    unk_token: Optional[str] = None,
    byte_fallback: bool = False,
    continuing_subword_prefix: Optional[str] = None,
    end_of_word_suffix: Optional[str] = None,
    show_progress: Optional[bool] = None,
) -> BPE:
    """Learn a BPE model of exactly ``vocab_size`` tokens (specials included) from word counts.

    Stops early, with a warning, when no pair occurs ``min_frequency`` times any more.
    """
    prefix, suffix = continuing_subword_prefix or "", end_of_word_suffix or ""
    specials = list(dict.fromkeys(special_tokens))
    if byte_level:
        keys = [bytes([b]) for b in range(256)]  # symbol id == byte value
        word_list = [list(w.encode("utf-8", "surrogatepass")) for w in word_counts]
        counts = list(word_counts.values())
        fallback: list[str] = []
        strip = 0
    else:
        if unk_token is None and not byte_fallback:
            raise TrainingError("character-level BPE needs unk_token (in special_tokens) or byte_fallback=True")
        if unk_token is not None and unk_token not in specials:
            specials.append(unk_token)
        alphabet = _char_alphabet(word_counts, limit_alphabet)
        sym_words = _char_symbol_words(word_counts, alphabet, prefix, suffix)
        keys = sorted({s.encode("utf-8") for word in sym_words for s in word})
        key_id = {k: i for i, k in enumerate(keys)}
        word_list = [[key_id[s.encode("utf-8")] for s in word] for word in sym_words]
        counts = list(sym_words.values())
        fallback = [_byte_fallback_token(b) for b in range(256)] if byte_fallback else []
        strip = len(prefix.encode("utf-8"))
    reserved = len(specials) + len(fallback)
    if vocab_size < reserved + len(keys):
        raise TrainingError(
            f"vocab_size={vocab_size} is below the alphabet ({len(keys)} symbols) plus "
            f"{reserved} special/fallback tokens: use at least {reserved + len(keys)}"
        )
    max_tokens = vocab_size - reserved
    blocked = frozenset(_special_key(t, byte_level) for t in specials + fallback) - {None}
    with progress_bar(total=max_tokens - len(keys), desc="merges", enabled=show_progress) as bar:
        start = len(keys)

        def on_merge(n: int) -> None:
            bar.update(n - start - on_merge.done)
            on_merge.done = n - start

        on_merge.done = 0
        merges = _backend.train_merges(word_list, counts, keys, strip, max_tokens, min_frequency, blocked, on_merge)
    if len(keys) < max_tokens:
        warnings.warn(
            f"BPE training ran out of pairs with min_frequency={min_frequency}: the vocabulary has "
            f"{reserved + len(keys)} tokens, not the vocab_size={vocab_size} asked for",
            stacklevel=3,
        )
    if byte_level:
        names = [bytes_to_token(k) for k in keys]
    else:
        names = [k.decode("utf-8") for k in keys]
    vocab = specials + fallback + names
    merge_pairs = [(names[a], names[b]) for a, b, _ in merges]
    return BPE(
        vocab,
        merge_pairs,
        byte_level=byte_level,
        unk_token=None if byte_level else unk_token,
        byte_fallback=byte_fallback and not byte_level,
        continuing_subword_prefix=None if byte_level else continuing_subword_prefix,
        end_of_word_suffix=None if byte_level else end_of_word_suffix,
    )
