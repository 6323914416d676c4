"""SentencePiece's precompiled character map: the normalization rules a SentencePiece model (and HF's
Precompiled normalizer, which most SentencePiece-derived tokenizer.json files carry) ships as bytes.

The blob is a little-endian u32 giving the size in bytes of a double-array trie (darts-clone's layout:
u32 units), the trie, then the replacement strings, each ended by a NUL. A key is a UTF-8 byte string; a
match's value is the offset of its replacement. Read from the format's description (SentencePiece's
normalizer and darts-clone), every index checked, so a damaged blob is an error, never a crash.
"""

from __future__ import annotations

import base64
import binascii
import struct
from typing import Optional

from .errors import SubtokError


class CharsMap:
    """A parsed precompiled charsmap: prefix lookups of UTF-8 keys in its double-array trie."""

    def __init__(self, blob: bytes) -> None:
        if len(blob) < 4:
            raise SubtokError("precompiled charsmap: shorter than its 4-byte header")
        (trie_size,) = struct.unpack_from("<I", blob, 0)
        if trie_size % 4 or 4 + trie_size > len(blob) or trie_size == 0:
            raise SubtokError(f"precompiled charsmap: trie size {trie_size} does not fit the {len(blob)} bytes")
        self.blob = bytes(blob)
        self.units = struct.unpack_from(f"<{trie_size // 4}I", blob, 4)
        self.pool = bytes(blob[4 + trie_size :])

    @classmethod
    def from_base64(cls, text: str) -> CharsMap:
        try:
            return cls(base64.b64decode(text, validate=True))
        except (binascii.Error, ValueError, TypeError):
            raise SubtokError("precompiled_charsmap is not base64") from None

    def to_base64(self) -> str:
        return base64.b64encode(self.blob).decode("ascii")

    def prefixes(self, key: bytes):
        """(length in bytes, value) of each key in the trie that is a prefix of ``key``, shortest first."""
        units = self.units
        n = len(units)

        def offset(unit: int) -> int:
            return (unit >> 10) << ((unit & (1 << 9)) >> 6)

        pos = offset(units[0])
        for i, c in enumerate(key):
            if c == 0:
                return
            pos ^= c
            if pos >= n:
                return
            unit = units[pos]
            if unit & ((1 << 31) | 0xFF) != c:  # the label of the unit must be the byte
                return
            pos ^= offset(unit)
            if (unit >> 8) & 1:  # has a leaf: the value sits in the unit at pos
                if pos >= n:
                    return
                yield i + 1, units[pos] & ((1 << 31) - 1)

    def replacement(self, value: int) -> str:
        """The NUL-ended replacement string at offset ``value`` of the pool."""
        if value >= len(self.pool):
            raise SubtokError(f"precompiled charsmap: replacement offset {value} is outside the pool")
        end = self.pool.find(b"\0", value)
        try:
            return self.pool[value : end if end >= 0 else len(self.pool)].decode("utf-8")
        except UnicodeDecodeError:
            raise SubtokError(f"precompiled charsmap: the replacement at {value} is not UTF-8") from None

    def first(self, chunk: str) -> Optional[str]:
        """The replacement of the shortest key that is a prefix of ``chunk`` (HF's lookup), or None."""
        for _, value in self.prefixes(chunk.encode("utf-8")):
            return self.replacement(value)
        return None

    def longest(self, data: bytes) -> Optional[tuple[int, str]]:
        """(length, replacement) of the longest key that is a prefix of ``data`` (SentencePiece's), or None."""
        best = None
        for length, value in self.prefixes(data):
            best = (length, value)
        return None if best is None else (best[0], self.replacement(best[1]))
