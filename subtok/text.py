"""The text pipeline's first two stages: normalizers and pre-tokenizers, plus the GPT-2 byte table.

Normalizers rewrite text (Unicode forms, lowercase, accent stripping) and keep, for every character of
the result, the span of the original text it came from, so encodings report offsets into the caller's
text. Pre-tokenizers split (normalized) text into words, each with its character span. Every stage is a
small object that says itself as a dict (``to_dict``) and is rebuilt from one (``normalizer_from_dict``,
``pre_tokenizer_from_dict``), so a whole tokenizer saves as one JSON document.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Optional

import regex

from .errors import SubtokError

# GPT-2's pre-tokenizer pattern, as used by HF's ByteLevel pre-tokenizer and tiktoken's "gpt2" encoding.
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""

# BERT treats every ASCII symbol that is not a letter, digit or space as punctuation, plus Unicode P*.
BERT_PUNCT = r"[!-/:-@\[-`{-~\p{P}]"
BERT_PATTERN = rf"(?:(?!{BERT_PUNCT})[^\s])+|{BERT_PUNCT}"
WHITESPACE_PATTERN = r"\S+"


# ---------------------------------------------------------------------------------------------------------
# Byte <-> unicode table
# ---------------------------------------------------------------------------------------------------------
@cache
def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from the 256 byte values to printable characters.

    Printable Latin-1 bytes map to themselves; the rest (controls, space, soft hyphen...) map to
    U+0100 onwards in byte order. Byte-level vocabularies store tokens as strings of these characters.
    """
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    printable += list(range(ord("®"), ord("ÿ") + 1))
    table, extra = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


@cache
def unicode_to_bytes() -> dict[str, int]:
    return {c: b for b, c in bytes_to_unicode().items()}


def bytes_to_token(data: bytes) -> str:
    """The byte-level vocabulary string of a byte sequence."""
    table = bytes_to_unicode()
    return "".join(table[b] for b in data)


def token_to_bytes(token: str) -> bytes:
    """The bytes a byte-level vocabulary string stands for (ValueError when it is not one)."""
    table = unicode_to_bytes()
    try:
        return bytes(table[c] for c in token)
    except KeyError as e:
        raise ValueError(f"{token!r} is not a byte-level token (character {e.args[0]!r})") from None


# ---------------------------------------------------------------------------------------------------------
# Normalization with alignment
# ---------------------------------------------------------------------------------------------------------
@dataclass
class Normalized:
    """Normalized text and, for each of its characters, the span of the original text it came from.

    ``starts``/``ends`` of None mean the identity alignment (nothing changed lengths).
    """

    text: str
    starts: Optional[list[int]] = None
    ends: Optional[list[int]] = None

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original-text span of normalized characters ``[start, end)``."""
        if self.starts is None:
            return start, end
        if start >= end:  # an empty piece sits where its neighbour starts
            pos = self.starts[start] if start < len(self.starts) else (self.ends[-1] if self.ends else 0)
            return pos, pos
        return self.starts[start], self.ends[end - 1]

    def remap(self, pieces: Sequence[tuple[int, int, str]]) -> Normalized:
        """A new Normalized from pieces (start, end, replacement) that tile this text in order."""
        starts: list[int] = []
        ends: list[int] = []
        out = []
        for s, e, rep in pieces:
            os_, oe = self.original_span(s, e)
            out.append(rep)
            starts.extend([os_] * len(rep))
            ends.extend([oe] * len(rep))
        return Normalized("".join(out), starts, ends)


class Normalizer:
    """One normalization step. ``normalize_str`` is the fast path used in training; ``normalize`` keeps
    alignment for encoding; both give the same text."""

    name = ""

    def normalize_str(self, text: str) -> str:
        raise NotImplementedError

    def normalize(self, norm: Normalized) -> Normalized:
        raise NotImplementedError

    def to_dict(self) -> dict:
        return {"type": self.name}


_HANGUL_JAMO_NONINITIAL = ((0x1160, 0x11FF), (0xD7B0, 0xD7FF))


def _starts_cluster(ch: str) -> bool:
    if unicodedata.combining(ch):
        return False
    cp = ord(ch)
    return not any(lo <= cp <= hi for lo, hi in _HANGUL_JAMO_NONINITIAL)


class UnicodeForm(Normalizer):
    """NFC, NFKC, NFD or NFKD. Characters compose or decompose within a cluster (a starter and the marks
    that follow it), so each output character maps back to its cluster's span."""

    def __init__(self, form: str) -> None:
        if form not in ("NFC", "NFKC", "NFD", "NFKD"):
            raise SubtokError(f"unknown Unicode normalization form {form!r}")
        self.form = self.name = form

    def normalize_str(self, text: str) -> str:
        return unicodedata.normalize(self.form, text)

    def normalize(self, norm: Normalized) -> Normalized:
        text = norm.text
        if unicodedata.is_normalized(self.form, text):
            return norm
        bounds = [i for i, ch in enumerate(text) if i == 0 or _starts_cluster(ch)] + [len(text)]
        clusters = [(bounds[k], bounds[k + 1]) for k in range(len(bounds) - 1)]
        # Rare compositions across starters (some Indic vowel signs): join clusters that interact.
        pieces: list[tuple[int, int, str]] = []
        for s, e in clusters:
            if pieces:
                ps, _, prep = pieces[-1]
                joined = unicodedata.normalize(self.form, text[ps:e])
                if joined != prep + unicodedata.normalize(self.form, text[s:e]):
                    pieces[-1] = (ps, e, joined)
                    continue
            pieces.append((s, e, unicodedata.normalize(self.form, text[s:e])))
        return norm.remap(pieces)


class Lowercase(Normalizer):
    """Unicode lowercasing (final sigma included when no character changes length)."""

    name = "lowercase"

    def normalize_str(self, text: str) -> str:
        low = text.lower()
        return low if len(low) == len(text) else "".join(c.lower() for c in text)

    def normalize(self, norm: Normalized) -> Normalized:
        text = norm.text
        low = text.lower()
        if len(low) == len(text):
            return Normalized(low, norm.starts, norm.ends)
        return norm.remap([(i, i + 1, c.lower()) for i, c in enumerate(text)])


@lru_cache(maxsize=65536)
def _strip_char(ch: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", ch) if unicodedata.category(c) != "Mn")


class StripAccents(Normalizer):
    """Decompose each character (NFD) and drop the nonspacing marks (category Mn), as BERT does."""

    name = "strip_accents"

    def normalize_str(self, text: str) -> str:
        if text.isascii():
            return text
        return "".join(map(_strip_char, text))

    def normalize(self, norm: Normalized) -> Normalized:
        text = norm.text
        if text.isascii():
            return norm
        return norm.remap([(i, i + 1, _strip_char(c)) for i, c in enumerate(text)])


def _is_cjk(cp: int) -> bool:
    """BERT's "Chinese character": the CJK Unified Ideographs blocks (not Hangul, Hiragana or Katakana)."""
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F
        or 0x2B820 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


class BertNormalizer(Normalizer):
    """BERT's normalizer, step by step as HF's BertNormalizer: clean_text (drop NUL, U+FFFD and control
    characters other than tab/newline/return; every whitespace becomes a space), handle_chinese_chars (a
    space on both sides of each CJK ideograph), strip_accents (NFD, drop nonspacing marks; None follows
    ``lowercase``), lowercase (character by character). Each step maps one character to a string, so the
    alignment to the original text is kept exactly."""

    name = "bert"

    def __init__(
        self,
        clean_text: bool = True,
        handle_chinese_chars: bool = True,
        strip_accents: Optional[bool] = None,
        lowercase: bool = True,
    ) -> None:
        self.clean_text = clean_text
        self.handle_chinese_chars = handle_chinese_chars
        self.strip_accents = strip_accents
        self.lowercase = lowercase
        self._map = lru_cache(maxsize=65536)(self._map_char)

    def _map_char(self, ch: str) -> str:
        out = ch
        if self.clean_text:
            if ch in "\x00\ufffd" or (ch not in "\t\n\r" and unicodedata.category(ch).startswith("C")):
                return ""
            if ch in " \t\n\r" or unicodedata.category(ch) in ("Zs", "Zl", "Zp"):  # White_Space
                out = " "
        if self.handle_chinese_chars and _is_cjk(ord(ch)):
            out = " " + out + " "
        if self.strip_accents if self.strip_accents is not None else self.lowercase:
            out = "".join(c for c in unicodedata.normalize("NFD", out) if unicodedata.category(c) != "Mn")
        if self.lowercase:
            out = "".join(c.lower() for c in out)
        return out

    def normalize_str(self, text: str) -> str:
        return "".join(map(self._map, text))

    def normalize(self, norm: Normalized) -> Normalized:
        return norm.remap([(i, i + 1, self._map(c)) for i, c in enumerate(norm.text)])

    def table(self) -> tuple[bytes, bytes]:
        """This normalizer as a per-code-point table, for the native core: int32 per code point, -1 for
        unchanged, -2 for dropped, else (offset << 4 | length) into the second array of int32 code points."""
        key = (self.clean_text, self.handle_chinese_chars, self.strip_accents, self.lowercase)
        if key not in _BERT_TABLES:
            _BERT_TABLES[key] = _build_bert_table(self)
        return _BERT_TABLES[key]

    def to_dict(self) -> dict:
        return {
            "type": self.name,
            "clean_text": self.clean_text,
            "handle_chinese_chars": self.handle_chinese_chars,
            "strip_accents": self.strip_accents,
            "lowercase": self.lowercase,
        }


_BERT_TABLES: dict = {}


def _build_bert_table(normalizer: BertNormalizer) -> tuple[bytes, bytes]:
    from array import array

    table = array("i", [-1]) * 0x110000
    repl = array("i")
    categories = list(map(unicodedata.category, map(chr, range(0x110000))))
    for cp, cat in enumerate(categories):
        if normalizer.clean_text and cat[0] == "C" and cp not in (9, 10, 13):
            table[cp] = -2  # what _map_char returns for it: dropped
            continue
        ch = chr(cp)
        out = normalizer._map_char(ch)
        if out == ch:
            continue
        if not out:
            table[cp] = -2
        else:
            table[cp] = (len(repl) << 4) | len(out)
            repl.extend(ord(c) for c in out)
    return table.tobytes(), repl.tobytes()


def normalizer_from_dict(d: dict) -> Normalizer:
    kind = d.get("type") if isinstance(d, dict) else None
    if kind == "bert":
        opts = {k: d[k] for k in ("clean_text", "handle_chinese_chars", "strip_accents", "lowercase") if k in d}
        return BertNormalizer(**opts)
    if kind in ("NFC", "NFKC", "NFD", "NFKD"):
        return UnicodeForm(kind)
    if kind == "lowercase":
        return Lowercase()
    if kind == "strip_accents":
        return StripAccents()
    raise SubtokError(f"unknown normalizer {d!r}")


def make_normalizers(spec: Sequence) -> list[Normalizer]:
    """Normalizers from names ("NFC", "lowercase", ...), dicts or Normalizer objects."""
    out = []
    for item in spec:
        if isinstance(item, Normalizer):
            out.append(item)
        elif isinstance(item, str):
            out.append(normalizer_from_dict({"type": item}))
        else:
            out.append(normalizer_from_dict(item))
    return out


def normalize_str(normalizers: Sequence[Normalizer], text: str) -> str:
    for n in normalizers:
        text = n.normalize_str(text)
    return text


def normalize(normalizers: Sequence[Normalizer], text: str) -> Normalized:
    norm = Normalized(text)
    for n in normalizers:
        norm = n.normalize(norm)
    return norm


# ---------------------------------------------------------------------------------------------------------
# Pre-tokenizers
# ---------------------------------------------------------------------------------------------------------
class PreTokenizer:
    """Splits text into words with a regex: every match is a word; text between matches is dropped.

    ``kind`` names the built-in patterns: "gpt2" (GPT-2's, keeps every character, so byte-level BPE
    is lossless), "whitespace" (runs of non-space) and "bert" (whitespace, then each punctuation
    character on its own); "regex" takes any ``pattern``.
    """

    PATTERNS = {"gpt2": GPT2_PATTERN, "whitespace": WHITESPACE_PATTERN, "bert": BERT_PATTERN}

    def __init__(self, kind: str = "gpt2", pattern: Optional[str] = None) -> None:
        if kind == "regex":
            if not pattern:
                raise SubtokError("a 'regex' pre-tokenizer needs a pattern")
        elif kind in self.PATTERNS:
            pattern = self.PATTERNS[kind]
        else:
            raise SubtokError(f"unknown pre-tokenizer {kind!r}; choose from {sorted(self.PATTERNS)} or 'regex'")
        try:
            self.regex = regex.compile(pattern)
        except regex.error as e:
            raise SubtokError(f"bad pre-tokenizer pattern {pattern!r}: {e}") from None
        self.kind = kind
        self.pattern = pattern

    def words(self, text: str) -> list[str]:
        """The words of ``text`` (training's fast path)."""
        return self.regex.findall(text)

    def split(self, text: str) -> list[tuple[int, int]]:
        """Character spans of the words of ``text``."""
        return [m.span() for m in self.regex.finditer(text)]

    def to_dict(self) -> dict:
        d = {"type": self.kind}
        if self.kind == "regex":
            d["pattern"] = self.pattern
        return d

    @classmethod
    def from_dict(cls, d: dict) -> PreTokenizer:
        if not isinstance(d, dict) or "type" not in d:
            raise SubtokError(f"bad pre-tokenizer {d!r}")
        return cls(d["type"], d.get("pattern"))


# ---------------------------------------------------------------------------------------------------------
# The book's preprocess
# ---------------------------------------------------------------------------------------------------------
def preprocess(text: str):
    """The book's preprocess: lowercase, "." -> " .", split on single spaces; ids by first appearance.

    Returns ``(ids, vocab)`` with ids as an ``np.ndarray`` of int64 and a :class:`Vocab` without an
    unknown token (every word of ``text`` is in it).
    """
    from .vocab import Vocab

    words = text.lower().replace(".", " .").split(" ")
    word_to_id: dict[str, int] = {}
    for w in words:
        if w not in word_to_id:
            word_to_id[w] = len(word_to_id)
    import numpy as np

    ids = np.fromiter((word_to_id[w] for w in words), dtype=np.int64, count=len(words))
    return ids, Vocab(list(word_to_id), unk=None)
