"""Normalizers, the pipeline's first stage: one small class per step, each keeping, for every character
it outputs, the span of the original text it came from (:class:`subtok.text.Normalized`), with HF
tokenizers' alignment rules, so encodings report the offsets HF reports.

``NORMALIZERS`` maps each JSON "type" (ours and HF's) to its class. Our own files use "NFC", "NFD",
"NFKC", "NFKD", "lowercase", "strip_accents" (decompose, then drop nonspacing marks) and "bert"; the
other steps keep HF's names. A normalizer has two paths that give the same text: ``normalize_str``
(training's fast path) and ``normalize`` (with alignment, for encoding).
"""

from __future__ import annotations

import unicodedata
from array import array
from collections.abc import Sequence
from functools import lru_cache
from typing import Optional, Union

import regex

from . import hangul
from ._unicode_case import LOWER_FROM
from ._unicode_data import CONTROL, INSIDE_NFD, NONSPACING
from .charsmap import CharsMap
from .errors import SubtokError
from .registry import Registry, require
from .text import (
    Change,
    Normalized,
    bytes_to_unicode,
    hf_control,
    hf_mark,
    hf_nonspacing,
    lowercase,
    pattern_regex,
)
from .unicode_forms import decomposition, normalize_edits

NORMALIZERS = Registry("normalizer")

# Unicode's White_Space property (Rust's char::is_whitespace, which HF uses; str.isspace differs)
WHITE_SPACE = frozenset(
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)


class Normalizer:
    """One normalization step. ``type`` names it in our JSON, ``hf_type`` in HF's."""

    type = ""
    hf_type = ""

    def normalize_str(self, text: str) -> str:
        """The normalized text alone (training's fast path; the same text as ``normalize``)."""
        return self.normalize(Normalized(text)).text

    def normalize(self, norm: Normalized) -> Normalized:
        raise NotImplementedError

    def leaves(self, text: str) -> bool:
        """Whether this step leaves ``text``, and every piece of it, as it is, by a cheap test (False when
        it cannot tell): such a text may take an encoder that knows no normalizer."""
        return False

    def to_dict(self) -> dict:
        return {"type": self.type}

    def to_hf(self) -> list[dict]:
        """This step as HF normalizers (a list: a step may need several)."""
        return [{**self.to_dict(), "type": self.hf_type}]

    @classmethod
    def from_dict(cls, d: dict) -> Normalizer:
        return cls()

    @classmethod
    def from_hf(cls, d: dict) -> Normalizer:
        return cls.from_dict({**d, "type": cls.type})


@NORMALIZERS.register(types=("NFC", "NFKC", "NFD", "NFKD"), hf=("NFC", "NFKC", "NFD", "NFKD"))
class UnicodeForm(Normalizer):
    """NFC, NFKC, NFD or NFKD with HF's Unicode 9.0 tables (``unicode_forms``: characters assigned later are
    left alone), aligned as HF aligns it: a decomposition's extra characters take their source's span, a
    composition the span of its first part."""

    def __init__(self, form: str) -> None:
        if form not in ("NFC", "NFKC", "NFD", "NFKD"):
            raise SubtokError(f"unknown Unicode normalization form {form!r}")
        self.form = self.type = self.hf_type = form

    def normalize_str(self, text: str) -> str:
        if unicodedata.is_normalized(self.form, text):
            return text
        parts, pos = [], 0
        for start, end, changes in normalize_edits(self.form, text):
            parts += [text[pos:start], "".join(c for c, _ in changes)]
            pos = end
        return "".join(parts) + text[pos:]

    def normalize(self, norm: Normalized) -> Normalized:
        if unicodedata.is_normalized(self.form, norm.text):
            return norm
        return norm.splice(normalize_edits(self.form, norm.text))

    def leaves(self, text: str) -> bool:
        # normalization is local: a normalized text's pieces are normalized too
        return unicodedata.is_normalized(self.form, text)

    @classmethod
    def from_dict(cls, d: dict) -> UnicodeForm:
        return cls(d["type"])

    from_hf = from_dict


def lower_changes(text: str) -> list[Change]:
    """Each character lowercased on its own (Rust's char::to_lowercase, as HF: no final-sigma rule), the
    extra characters of a longer lowercase inserted."""
    return [(c, 1 if k else 0) for ch in text for k, c in enumerate(lowercase(ch))]


@NORMALIZERS.register(types=("lowercase",), hf=("Lowercase",))
class Lowercase(Normalizer):
    """Unicode lowercasing, character by character (Σ is always σ, as in HF)."""

    type, hf_type = "lowercase", "Lowercase"

    def normalize_str(self, text: str) -> str:
        return lowercase(text)

    def leaves(self, text: str) -> bool:
        return self.normalize_str(text) == text  # character by character: the pieces too

    def normalize(self, norm: Normalized) -> Normalized:
        low = self.normalize_str(norm.text)
        if len(low) == len(norm.text):
            return Normalized(low, norm.starts, norm.ends, norm.offset)
        return norm.transform(lower_changes(norm.text))


@lru_cache(maxsize=65536)
def _strip_char(ch: str) -> str:
    """BERT's accent stripping of one character: its NFD (HF's tables) without the nonspacing marks."""
    return "".join(c for c in decomposition(ch) if not hf_nonspacing(c))


@NORMALIZERS.register(types=("strip_accents",))
class DecomposeStripAccents(Normalizer):
    """Ours: decompose each character (NFD) and drop the nonspacing marks (Mn), as BERT does. In HF terms
    this is a BertNormalizer that only strips accents (HF's StripAccents alone does not decompose and
    drops every mark, Mc and Me too)."""

    type = "strip_accents"

    def normalize_str(self, text: str) -> str:
        if text.isascii():
            return text
        return "".join(map(_strip_char, text))

    def normalize(self, norm: Normalized) -> Normalized:
        if norm.text.isascii():
            return norm
        return norm.remap([(i, i + 1, _strip_char(c)) for i, c in enumerate(norm.text)])

    def to_hf(self) -> list[dict]:
        return BertNormalizer(False, False, True, False).to_hf()


def filter_changes(text: str, keep) -> tuple[list[Change], int]:
    """HF's NormalizedString.filter: the kept characters, each removing the dropped ones after it, and how
    many are dropped before the first kept one (the transform's initial offset)."""
    changes: list[Change] = []
    removed = removed_start = 0
    last: Optional[str] = None
    for c in text:
        if keep(c):
            if last is not None:
                changes.append((last, -removed))
            else:
                removed_start = removed
            last, removed = c, 0
        else:
            removed += 1
    if last is not None:
        changes.append((last, -removed))
    return changes, removed_start


@NORMALIZERS.register(types=("StripAccents",), hf=("StripAccents",))
class StripAccents(Normalizer):
    """HF's StripAccents: drops every combining mark (Mn, Mc, Me); it does not decompose (put NFD first)."""

    type = hf_type = "StripAccents"

    def normalize(self, norm: Normalized) -> Normalized:
        if norm.text.isascii():
            return norm
        changes, start = filter_changes(norm.text, lambda c: not hf_mark(c))
        return norm.transform(changes, start)


@NORMALIZERS.register(types=("Strip",), hf=("Strip",))
class Strip(Normalizer):
    """White space removed from the left and/or the right end (Unicode White_Space)."""

    hf_fields = ("strip_left", "strip_right")

    type = hf_type = "Strip"

    def __init__(self, left: bool = True, right: bool = True) -> None:
        self.left, self.right = bool(left), bool(right)

    def normalize(self, norm: Normalized) -> Normalized:
        text = norm.text
        lead = len(text) - len(text.lstrip("".join(WHITE_SPACE))) if self.left else 0
        trail = len(text) - len(text.rstrip("".join(WHITE_SPACE))) if self.right else 0
        if lead == len(text):  # all white space: HF strips from the left only
            trail = 0
        if not lead and not trail:
            return norm
        kept = text[lead : len(text) - trail]
        changes = [(c, 0) for c in kept]
        if changes:
            changes[-1] = (changes[-1][0], -trail)
        return norm.transform(changes, lead)

    def to_dict(self) -> dict:
        return {"type": self.type, "strip_left": self.left, "strip_right": self.right}

    @classmethod
    def from_dict(cls, d: dict) -> Strip:
        return cls(d.get("strip_left", True), d.get("strip_right", True))


@NORMALIZERS.register(types=("Replace",), hf=("Replace",))
class Replace(Normalizer):
    """Every match of a pattern (a literal string or a regex) replaced by ``content``. As in HF, the new
    characters take the span of the last character they replace."""

    hf_fields = ("pattern", "content")

    type = hf_type = "Replace"

    def __init__(self, pattern: dict, content: str) -> None:
        if not isinstance(content, str):
            raise SubtokError(f"Replace: content must be a string, not {content!r}")
        self.pattern, self.content = pattern, content
        self.regex = pattern_regex(pattern, "Replace")
        self._template = content.replace("\\", "\\\\")  # the content, literally, as a regex replacement
        self._changes = _run_changes(pattern.get("Regex"), content)

    def normalize_str(self, text: str) -> str:
        if "String" in self.pattern:
            return text.replace(self.pattern["String"], self.content)
        if self._changes is not None and self._changes.search(text) is None:
            return text
        return self.regex.sub(self._template, text)

    def normalize(self, norm: Normalized) -> Normalized:
        text = norm.text
        literal = self.pattern.get("String")
        if literal is not None and len(literal) == len(self.content) == 1:  # one character for one: same spans
            return Normalized(text.replace(literal, self.content), norm.starts, norm.ends, norm.offset)
        content = self.content
        if len(content) == 1 and self.normalize_str(text) == text:  # every match one character, itself
            return norm  # (``_run_changes`` tells without replacing, for the patterns it knows)
        matches = [m.span() for m in self.regex.finditer(text)]
        if len(content) == 1:  # a character replaced by itself keeps its span: such matches change nothing
            matches = [(s, e) for s, e in matches if e - s != 1 or text[s] != content]
        if not matches:
            return norm
        starts0, ends0 = norm.arrays()
        pieces_text: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        last = 0
        n = len(self.content)
        for s, e in matches:
            pieces_text += (text[last:s], self.content)
            starts += starts0[last:s]
            ends += ends0[last:s]
            # inserted after the removed match: its last character's span
            starts += [starts0[e - 1] if e > 0 else 0] * n
            ends += [ends0[e - 1] if e > 0 else 0] * n
            last = e
        pieces_text.append(text[last:])
        starts += starts0[last:]
        ends += ends0[last:]
        return Normalized("".join(pieces_text), starts, ends, norm.offset)

    def to_dict(self) -> dict:
        return {"type": self.type, "pattern": self.pattern, "content": self.content}

    @classmethod
    def from_dict(cls, d: dict) -> Replace:
        return cls(d.get("pattern"), d.get("content"))


_ONE_CLASS_RUN = regex.compile(r"(\\[sdw]|\\p\{\w+\}|\[(?:[^\]\\]|\\.)+\])\+")


def _run_changes(source: Optional[str], content: str) -> Optional[regex.Pattern]:
    """For a Replace of a pattern that is one character class repeated (``\\s+``, CLIP's) by one character
    of that class: a regex found exactly where the replacement changes the text (a character of the class
    other than the content, or the content twice), so a text it is not found in needs no replacing."""
    m = _ONE_CLASS_RUN.fullmatch(source) if source else None
    if m is None or len(content) != 1 or not regex.fullmatch(m.group(1), content):
        return None
    c = regex.escape(content)
    return regex.compile(f"(?:(?!{c}){m.group(1)})|{c}{c}")


@NORMALIZERS.register(types=("Prepend",), hf=("Prepend",))
class Prepend(Normalizer):
    """``prepend`` before a non-empty text; its characters take the span of the text's first character."""

    hf_fields = ("prepend",)

    type = hf_type = "Prepend"

    def __init__(self, prepend: str) -> None:
        if not isinstance(prepend, str):
            raise SubtokError(f"Prepend: prepend must be a string, not {prepend!r}")
        self.prepend = prepend

    def normalize(self, norm: Normalized) -> Normalized:
        return norm.prepend(self.prepend)

    def to_dict(self) -> dict:
        return {"type": self.type, "prepend": self.prepend}

    @classmethod
    def from_dict(cls, d: dict) -> Prepend:
        return cls(d.get("prepend"))


_NMT_DROP = frozenset([*range(0x01, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F, 0x8F, 0x9F])
_NMT_SPACE = frozenset([0x09, 0x0A, 0x0C, 0x0D, 0x1680, *range(0x200B, 0x2010), 0x2028, 0x2029, 0x2581, 0xFEFF, 0xFFFD])


@NORMALIZERS.register(types=("Nmt",), hf=("Nmt",))
class Nmt(Normalizer):
    """SentencePiece's nmt_nfkc cleanup without the NFKC: some control characters dropped, some spaces and
    U+2581 made plain spaces."""

    type = hf_type = "Nmt"

    def normalize(self, norm: Normalized) -> Normalized:
        text = norm.text
        if not any(ord(c) in _NMT_DROP or ord(c) in _NMT_SPACE for c in text):
            return norm
        changes, start = filter_changes(text, lambda c: ord(c) not in _NMT_DROP)
        changes = [(" " if ord(c) in _NMT_SPACE else c, change) for c, change in changes]
        return norm.transform(changes, start)


_GRAPHEME = regex.compile(r"\X", regex.DOTALL)


@NORMALIZERS.register(types=("Precompiled",), hf=("Precompiled",))
class Precompiled(Normalizer):
    """SentencePiece's precompiled character map, applied as HF applies it: each grapheme cluster under 6
    bytes is looked up whole; otherwise, or when it has no rule, each character; a rule is the shortest key
    that is a prefix of what is looked up, and it replaces all of it."""

    hf_fields = ("precompiled_charsmap",)

    type = hf_type = "Precompiled"

    def __init__(self, charsmap: Union[CharsMap, str]) -> None:
        self.charsmap = CharsMap.from_base64(charsmap) if isinstance(charsmap, str) else charsmap

    def normalize(self, norm: Normalized) -> Normalized:
        changes: list[Change] = []
        modified = False
        first = self.charsmap.first
        for grapheme in _GRAPHEME.findall(norm.text):
            if len(grapheme.encode("utf-8")) < 6:
                new = first(grapheme)
                if new is not None:
                    modified = True
                    _replace(changes, grapheme, new)
                    continue
            for c in grapheme:
                new = first(c)
                if new is None:
                    changes.append((c, 0))
                else:
                    modified = True
                    _replace(changes, c, new)
        return norm.transform(changes) if modified else norm

    def to_dict(self) -> dict:
        return {"type": self.type, "precompiled_charsmap": self.charsmap.to_base64()}

    @classmethod
    def from_dict(cls, d: dict) -> Precompiled:
        blob = d.get("precompiled_charsmap")
        if not isinstance(blob, str):
            raise SubtokError("Precompiled: precompiled_charsmap must be a base64 string")
        return cls(blob)


def _replace(changes: list[Change], old: str, new: str) -> None:
    """HF's Precompiled bookkeeping: ``new`` replaces ``old``; extra characters are inserted at the end, a
    shorter replacement removes the rest (through the change of the last character written)."""
    diff = len(new) - len(old)
    changes.extend((c, 0) for c in new)
    if diff > 0:
        for k in range(len(changes) - diff, len(changes)):
            changes[k] = (changes[k][0], 1)
    elif diff < 0 and changes:
        changes[-1] = (changes[-1][0], changes[-1][1] + diff)


@NORMALIZERS.register(types=("ByteLevel",), hf=("ByteLevel",))
class ByteLevel(Normalizer):
    """Each character as GPT-2's byte-level characters of its UTF-8 bytes."""

    type = hf_type = "ByteLevel"

    def normalize(self, norm: Normalized) -> Normalized:
        table = bytes_to_unicode()
        changes = [
            (table[b], 1 if k else 0) for ch in norm.text for k, b in enumerate(ch.encode("utf-8", "surrogatepass"))
        ]
        return norm.transform(changes)


@NORMALIZERS.register(types=("hangul_jamo",))
class HangulJamo(Normalizer):
    """Hangul syllables as their conjoining jamo (``subtok.hangul``: 한 -> ᄒ ᅡ ᆫ), so subwords can share a
    syllable's consonant or vowel; every jamo keeps its syllable's span, so offsets stay in the original
    text. Lossless: the tokenizer's decoder composes them back (``decoders.Recomposed``). subtok's own
    step: HF and SentencePiece have none like it, so a tokenizer with it is not written in their formats."""

    type = "hangul_jamo"

    def normalize_str(self, text: str) -> str:
        return hangul.decompose(text)

    def normalize(self, norm: Normalized) -> Normalized:
        # each replacement's first character takes the replaced one's place, the rest are inserted after
        # it: all keep its span
        edits = [
            (start, end, [(c, 1 if k else 0) for k, c in enumerate(out)])
            for start, end, out in hangul.decompose_pieces(norm.text)
        ]
        return norm.splice(edits)

    def leaves(self, text: str) -> bool:
        return not hangul.TOUCHED.search(text)

    def to_hf(self) -> list[dict]:
        raise SubtokError("the hangul_jamo normalizer is subtok's own: HF tokenizers has no such step")


# BERT's "Chinese characters": the CJK Unified Ideographs blocks (not Hangul, Hiragana or Katakana), as
# (first, last) pairs; 0x2B920 as HF (BERT's Python had 0x2B820)
_CJK = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B920, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)


def _is_cjk(cp: int) -> bool:
    return any(first <= cp <= last for first, last in _CJK)


@NORMALIZERS.register(types=("bert",), hf=("BertNormalizer",))
class BertNormalizer(Normalizer):
    """BERT's normalizer, step by step as HF's BertNormalizer: clean_text (drop NUL, U+FFFD and control
    characters other than tab/newline/return; every whitespace becomes a space), handle_chinese_chars (a
    space on both sides of each CJK ideograph), strip_accents (NFD, drop nonspacing marks; None follows
    ``lowercase``), lowercase (character by character). Each step maps one character to a string, so the
    alignment to the original text is kept exactly."""

    hf_fields = ("clean_text", "handle_chinese_chars", "strip_accents", "lowercase")

    type, hf_type = "bert", "BertNormalizer"
    OPTIONS = ("clean_text", "handle_chinese_chars", "strip_accents", "lowercase")

    def __init__(
        self,
        clean_text: bool = True,
        handle_chinese_chars: bool = True,
        strip_accents: Optional[bool] = None,
        lowercase: bool = True,
    ) -> None:
        require(
            "BertNormalizer",
            clean_text=(clean_text, "bool"),
            handle_chinese_chars=(handle_chinese_chars, "bool"),
            strip_accents=(strip_accents, "bool?"),
            lowercase=(lowercase, "bool"),
        )
        self.clean_text = clean_text
        self.handle_chinese_chars = handle_chinese_chars
        self.strip_accents = strip_accents
        self.lowercase = lowercase
        self._map = lru_cache(maxsize=65536)(self._map_char)
        self._translation = _Translation(self._map_char)

    def _map_char(self, ch: str) -> str:
        out = ch
        if self.clean_text:
            if ch in "\x00\ufffd" or hf_control(ch):
                return ""
            if ch in WHITE_SPACE:  # the controls among them were dropped above, as HF drops them
                out = " "
        if self.handle_chinese_chars and _is_cjk(ord(ch)):
            out = " " + out + " "
        if self.strip_accents if self.strip_accents is not None else self.lowercase:
            out = "".join(map(_strip_char, out))
        if self.lowercase:
            out = lowercase(out)
        return out

    def normalize_str(self, text: str) -> str:
        return text.translate(self._translation)

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

    @classmethod
    def from_dict(cls, d: dict) -> BertNormalizer:
        return cls(**{k: d[k] for k in cls.OPTIONS if k in d})

    from_hf = from_dict


_BERT_TABLES: dict = {}


class _Translation(dict):
    """Code point -> what a per-character mapping makes of it, filled as str.translate meets them (a
    character already seen costs a dict lookup in C, not a Python call); at most 2^17 entries kept."""

    def __init__(self, mapping) -> None:
        super().__init__()
        self.mapping = mapping

    def __missing__(self, cp: int) -> str:
        if len(self) >= 1 << 17:
            self.clear()
        out = self[cp] = self.mapping(chr(cp))
        return out


def _bert_candidates(normalizer: BertNormalizer) -> set[int]:
    """The code points ``normalizer`` may change (``_map_char``'s steps, each by its own data): whitespace,
    CJK ideographs, characters NFD changes or nonspacing marks, characters with a lowercase; every other
    code point maps to itself."""
    ranges: list[tuple[int, int]] = []
    if normalizer.clean_text:
        ranges += [(0, 0), (0xFFFD, 0xFFFD)] + [(ord(c), ord(c)) for c in WHITE_SPACE]
    if normalizer.handle_chinese_chars:
        ranges += _CJK
    if normalizer.strip_accents if normalizer.strip_accents is not None else normalizer.lowercase:
        for flat in (INSIDE_NFD, NONSPACING):
            ranges += zip(flat[0::2], flat[1::2])
    if normalizer.lowercase:
        ranges += [(cp, cp) for cp in LOWER_FROM]
    return {cp for first, last in ranges for cp in range(first, last + 1)}


def _build_bert_table(normalizer: BertNormalizer) -> tuple[bytes, bytes]:
    table = array("i", [-1]) * 0x110000
    repl = array("i")
    control = normalizer.clean_text and CONTROL
    for first, last in zip(control[0::2], control[1::2]) if control else ():
        table[first : last + 1] = array("i", [-2]) * (last + 1 - first)  # what _map_char returns: dropped
    for cp in sorted(_bert_candidates(normalizer)):
        if table[cp] == -2 or 0xD800 <= cp <= 0xDFFF:
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


def normalizers_from_hf(d: Optional[dict], depth: int = 0) -> list[Normalizer]:
    """HF's normalizer (None, one, or a Sequence, nested or not) as our list of steps."""
    if d is None:
        return []
    if depth > 32:
        raise SubtokError("normalizer Sequences nested more than 32 deep")
    if isinstance(d, dict) and d.get("type") == "Sequence":
        steps = d.get("normalizers")
        if not isinstance(steps, list):
            raise SubtokError("normalizer Sequence: 'normalizers' must be a list")
        return [n for step in steps for n in normalizers_from_hf(step, depth + 1)]
    return [NORMALIZERS.from_hf(d)]


def normalizers_to_hf(normalizers: Sequence[Normalizer]) -> Optional[dict]:
    """Our steps as one HF normalizer: None, the step, or a Sequence."""
    steps = [d for n in normalizers for d in n.to_hf()]
    if not steps:
        return None
    return steps[0] if len(steps) == 1 else {"type": "Sequence", "normalizers": steps}


def normalize_str(normalizers: Sequence[Normalizer], text: str) -> str:
    for n in normalizers:
        text = n.normalize_str(text)
    return text


def normalize(normalizers: Sequence[Normalizer], text: Union[str, Normalized]) -> Normalized:
    """``text`` through each normalizer in turn, with its alignment to the original."""
    norm = Normalized(text) if isinstance(text, str) else text
    for n in normalizers:
        norm = n.normalize(norm)
    return norm


SPACE_SYMBOL = "\u2581"  # SentencePiece's escaped space, U+2581 LOWER ONE EIGHTH BLOCK
_SPACE_RUNS = regex.compile(" {2,}")


def no_surrogates(text: str) -> bool:
    """Whether ``text`` is valid UTF-8 as it is (no lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@NORMALIZERS.register(types=("SentencePiece",))
class SentencePieceNormalizer(Normalizer):
    """SentencePiece's own normalizer (``normalizer::Normalizer::Normalize``), for ``.model`` files: at each
    point the longest user-defined symbol is kept as it is, else the longest precompiled-charsmap rule over
    the UTF-8 bytes replaces its key, else one character is kept (a byte that is not UTF-8 becomes U+FFFD).
    With ``remove_extra_whitespaces`` leading, trailing and repeated spaces go; with ``escape_whitespaces``
    spaces become U+2581; ``add_dummy_prefix`` puts one before the text (after it with
    ``treat_whitespace_as_suffix``). Every output character spans from the start of the input it came from
    to the start of the next output character's input, as SentencePiece's offsets do (so a removed space
    belongs to the character before it).
    """

    type = "SentencePiece"
    OPTIONS = ("add_dummy_prefix", "remove_extra_whitespaces", "escape_whitespaces", "treat_whitespace_as_suffix")

    def __init__(
        self,
        charsmap: Union[CharsMap, str, None] = None,
        *,
        add_dummy_prefix: bool = True,
        remove_extra_whitespaces: bool = True,
        escape_whitespaces: bool = True,
        treat_whitespace_as_suffix: bool = False,
        user_defined: Sequence[str] = (),
    ) -> None:
        require(
            "SentencePiece normalizer",
            add_dummy_prefix=(add_dummy_prefix, "bool"),
            remove_extra_whitespaces=(remove_extra_whitespaces, "bool"),
            escape_whitespaces=(escape_whitespaces, "bool"),
            treat_whitespace_as_suffix=(treat_whitespace_as_suffix, "bool"),
        )
        if charsmap is not None and not isinstance(charsmap, (str, CharsMap)):
            raise SubtokError(f"SentencePiece normalizer: precompiled_charsmap must be base64 text, not {charsmap!r}")
        self.charsmap = CharsMap.from_base64(charsmap) if isinstance(charsmap, str) else charsmap
        self.add_dummy_prefix = bool(add_dummy_prefix)
        self.remove_extra_whitespaces = bool(remove_extra_whitespaces)
        self.escape_whitespaces = bool(escape_whitespaces)
        self.treat_whitespace_as_suffix = bool(treat_whitespace_as_suffix)
        self.user_defined = sorted({s.encode("utf-8") for s in user_defined if s})
        self._user_first = {s[0] for s in self.user_defined}

    def _prefix(self, data: bytes, pos: int) -> tuple[str, int]:
        """(replacement, bytes consumed) at byte ``pos`` (``NormalizePrefix``)."""
        if data[pos] in self._user_first:
            best = max((len(s) for s in self.user_defined if data.startswith(s, pos)), default=0)
            if best:
                return data[pos : pos + best].decode("utf-8"), best
        if self.charsmap is not None:
            found = self.charsmap.longest(data[pos : pos + 64])
            if found is not None:
                return found[1], found[0]
        lead = data[pos]
        size = 1 if lead < 0x80 else 2 if lead >> 5 == 6 else 3 if lead >> 4 == 14 else 4 if lead >> 3 == 30 else 0
        try:
            return (data[pos : pos + size].decode("utf-8"), size) if size else ("\ufffd", 1)
        except UnicodeDecodeError:
            return "\ufffd", 1

    def normalize_str(self, text: str) -> str:
        """Without a charsmap or user-defined symbols, and on text without surrogates, the whitespace
        rules alone, as str operations (training's fast path; the same text as ``normalize``)."""
        if self.charsmap is not None or self.user_defined or not (text.isascii() or no_surrogates(text)):
            return super().normalize_str(text)
        if self.remove_extra_whitespaces:
            text = _SPACE_RUNS.sub(" ", text).strip(" ")  # (no list of words: lines may be many MB)
        if not text:
            return ""
        if self.escape_whitespaces:
            text = text.replace(" ", SPACE_SYMBOL)
        if self.add_dummy_prefix:
            space = SPACE_SYMBOL if self.escape_whitespaces else " "
            text = text + space if self.treat_whitespace_as_suffix else space + text
        return text

    def normalize(self, norm: Normalized) -> Normalized:
        text = norm.text
        data = text.encode("utf-8", "surrogatepass")
        starts0, ends0 = norm.arrays()
        char_of = [i for i, ch in enumerate(text) for _ in ch.encode("utf-8", "surrogatepass")]
        char_of.append(len(text))
        end_of_text = ends0[-1] if text else norm.offset

        def orig(byte: int) -> int:  # where the input from byte ``byte`` on starts in the original text
            c = char_of[byte]
            return starts0[c] if c < len(text) else end_of_text

        space = SPACE_SYMBOL if self.escape_whitespaces else " "
        out: list[str] = []
        starts: list[int] = []
        consumed = 0
        size = len(data)
        if self.remove_extra_whitespaces:
            while consumed < size:
                piece, n = self._prefix(data, consumed)
                if piece != " ":
                    break
                consumed += n
        if consumed == size:
            return Normalized("", [], [], norm.offset)
        if self.add_dummy_prefix and not self.treat_whitespace_as_suffix:
            out.append(space)
            starts.append(orig(consumed))
        prev_space = self.remove_extra_whitespaces
        while consumed < size:
            piece, n = self._prefix(data, consumed)
            if prev_space:
                piece = piece.lstrip(" ")
            if piece:
                at = orig(consumed)
                for ch in piece:
                    out.append(space if ch == " " else ch)
                    starts.append(at)
                prev_space = piece.endswith(" ")
            consumed += n
            if not self.remove_extra_whitespaces:
                prev_space = False
        end = orig(consumed)
        if self.remove_extra_whitespaces:
            while out and out[-1] == space:
                end = starts.pop()
                out.pop()
        if self.add_dummy_prefix and self.treat_whitespace_as_suffix:
            out.append(space)
            starts.append(end)
        ends = starts[1:] + [end]
        return Normalized("".join(out), starts, ends, norm.offset)

    def to_dict(self) -> dict:
        d: dict = {"type": self.type, **{k: getattr(self, k) for k in self.OPTIONS}}
        d["precompiled_charsmap"] = self.charsmap.to_base64() if self.charsmap is not None else None
        d["user_defined"] = [s.decode("utf-8") for s in self.user_defined]
        return d

    def to_hf(self) -> list[dict]:
        raise SubtokError(
            "SentencePiece's normalizer has no HF equivalent (HF's conversion of it encodes some texts "
            "differently); save the tokenizer with save_sentencepiece or as our JSON"
        )

    @classmethod
    def from_dict(cls, d: dict) -> SentencePieceNormalizer:
        user = d.get("user_defined", [])
        if not isinstance(user, list) or not all(isinstance(s, str) for s in user):
            raise SubtokError("SentencePiece normalizer: user_defined must be a list of strings")
        return cls(d.get("precompiled_charsmap"), user_defined=user, **{k: d[k] for k in cls.OPTIONS if k in d})
