"""Normalizers, the pipeline's first stage: one small class per step (Unicode forms, lowercase, accent
stripping, BERT's normalizer), each keeping, for every character it outputs, the span of the original text
it came from (:class:`subtok.text.Normalized`), so encodings report offsets into the caller's text.

``NORMALIZERS`` maps each JSON "type" (ours and HF's) to its class.
"""

from __future__ import annotations

import unicodedata
from array import array
from collections.abc import Sequence
from functools import lru_cache
from typing import Optional, Union

from .errors import SubtokError
from .registry import Registry
from .text import Normalized

NORMALIZERS = Registry("normalizer")


class Normalizer:
    """One normalization step. ``normalize_str`` is the fast path used in training; ``normalize`` keeps
    alignment for encoding; both give the same text. ``type`` names it in JSON (``hf_type`` in HF's)."""

    type = ""
    hf_type = ""

    def normalize_str(self, text: str) -> str:
        raise NotImplementedError

    def normalize(self, norm: Normalized) -> Normalized:
        raise NotImplementedError

    def to_dict(self) -> dict:
        return {"type": self.type}

    def to_hf(self) -> dict:
        return {"type": self.hf_type}

    @classmethod
    def from_dict(cls, d: dict) -> Normalizer:
        return cls()

    @classmethod
    def from_hf(cls, d: dict) -> Normalizer:
        return cls()


_HANGUL_JAMO_NONINITIAL = ((0x1160, 0x11FF), (0xD7B0, 0xD7FF))


def _starts_cluster(ch: str) -> bool:
    if unicodedata.combining(ch):
        return False
    cp = ord(ch)
    return not any(lo <= cp <= hi for lo, hi in _HANGUL_JAMO_NONINITIAL)


@NORMALIZERS.register(types=("NFC", "NFKC", "NFD", "NFKD"), hf=("NFC", "NFKC", "NFD", "NFKD"))
class UnicodeForm(Normalizer):
    """NFC, NFKC, NFD or NFKD. Characters compose or decompose within a cluster (a starter and the marks
    that follow it), so each output character maps back to its cluster's span."""

    def __init__(self, form: str) -> None:
        if form not in ("NFC", "NFKC", "NFD", "NFKD"):
            raise SubtokError(f"unknown Unicode normalization form {form!r}")
        self.form = self.type = self.hf_type = form

    def normalize_str(self, text: str) -> str:
        return unicodedata.normalize(self.form, text)

    @classmethod
    def from_dict(cls, d: dict) -> UnicodeForm:
        return cls(d["type"])

    from_hf = from_dict

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


@NORMALIZERS.register(types=("lowercase",), hf=("Lowercase",))
class Lowercase(Normalizer):
    """Unicode lowercasing: ``str.lower`` of the whole text (its final-sigma rule included) when that keeps
    every character's length, else character by character so the alignment stays exact."""

    type, hf_type = "lowercase", "Lowercase"

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


@NORMALIZERS.register(types=("strip_accents",), hf=("StripAccents",))
class StripAccents(Normalizer):
    """Decompose each character (NFD) and drop the nonspacing marks (category Mn), as BERT does."""

    type, hf_type = "strip_accents", "StripAccents"

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


@NORMALIZERS.register(types=("bert",), hf=("BertNormalizer",))
class BertNormalizer(Normalizer):
    """BERT's normalizer, step by step as HF's BertNormalizer: clean_text (drop NUL, U+FFFD and control
    characters other than tab/newline/return; every whitespace becomes a space), handle_chinese_chars (a
    space on both sides of each CJK ideograph), strip_accents (NFD, drop nonspacing marks; None follows
    ``lowercase``), lowercase (character by character). Each step maps one character to a string, so the
    alignment to the original text is kept exactly."""

    type, hf_type = "bert", "BertNormalizer"
    OPTIONS = ("clean_text", "handle_chinese_chars", "strip_accents", "lowercase")

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
        return {"type": self.type, **{k: getattr(self, k) for k in self.OPTIONS}}

    def to_hf(self) -> dict:
        return {**self.to_dict(), "type": self.hf_type}

    @classmethod
    def from_dict(cls, d: dict) -> BertNormalizer:
        return cls(**{k: d[k] for k in cls.OPTIONS if k in d})

    from_hf = from_dict


_BERT_TABLES: dict = {}


def _build_bert_table(normalizer: BertNormalizer) -> tuple[bytes, bytes]:
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


def make_normalizers(spec: Sequence[Union[str, dict, Normalizer]]) -> list[Normalizer]:
    """Normalizers from names ("NFC", "lowercase", ...), dicts or Normalizer objects."""
    out = []
    for item in spec:
        if isinstance(item, Normalizer):
            out.append(item)
        else:
            out.append(NORMALIZERS.from_dict({"type": item} if isinstance(item, str) else item))
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
