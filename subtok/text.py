"""Facts about characters that every stage of the pipeline shares: the published pre-tokenizer patterns,
a class table per code point (letter, number, space, punctuation) for the native scanners, GPT-2's byte
<-> unicode table, and :class:`Normalized`, text that remembers where each of its characters came from.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from functools import cache, lru_cache
from itertools import accumulate
from typing import Optional

import numpy as np
import regex

from . import _char_classes_data, _unicode_case, _unicode_data
from .errors import InputError, SubtokError

# GPT-2's pre-tokenizer pattern, as used by HF's ByteLevel pre-tokenizer and tiktoken's "gpt2" encoding.
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""

# The published patterns by name, as tiktoken and the models' own files give them ("gpt2" is GPT-2's release
# form, which tiktoken's r50k/p50k patterns equal). Possessive quantifiers need the ``regex`` module.
PATTERNS = {
    "gpt2": GPT2_PATTERN,
    "r50k": GPT2_PATTERN,
    "p50k": GPT2_PATTERN,
    "cl100k": r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",  # noqa: E501
    "o200k": "|".join(
        [
            r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
            r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
            r"""\p{N}{1,3}""",
            r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
            r"""\s*[\r\n]+""",
            r"""\s+(?!\S)""",
            r"""\s+""",
        ]
    ),
    "llama3": r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""",  # noqa: E501
    "qwen2": r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""",  # noqa: E501
}


# The patterns the native core scans by hand (csrc/gpt2_split.c), by the index it knows them by: a pre-tokenizer
# with one of these, spelled exactly so, gets the whole-text encoder (byte-level BPE); the regex module stays
# the reference, and tests hold each scanner equal to its regex on any str.
# StarCoder's pre-tokenizer (HF's Digits with individual_digits, then GPT-2's pattern on each piece) as one
# regex: every number character alone, and a run of spaces before one ends where the piece ends.
DIGITS_THEN_GPT2_PATTERN = r"""\p{N}|'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?[^\s\p{L}\p{N}]+|\s+(?=\p{N})|\s+(?!\S)|\s+"""
# CLIP's pattern (its matches are the words) leaves white space alone between its matches, and its matches
# hold none: with the runs of white space as a last alternative its matches tile every text.
CLIP_PATTERN = r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""
SPACE_GAPPED = {CLIP_PATTERN: CLIP_PATTERN + r"|\s+"}
SCANNED_PATTERNS = (
    GPT2_PATTERN,
    PATTERNS["llama3"],
    PATTERNS["qwen2"],
    PATTERNS["cl100k"],
    DIGITS_THEN_GPT2_PATTERN,
    PATTERNS["o200k"],
    SPACE_GAPPED[CLIP_PATTERN],
)


def named_pattern(pattern: str) -> str:
    """``pattern`` itself, or the published pattern it names (a key of ``PATTERNS``)."""
    if not isinstance(pattern, str) or not pattern:
        raise SubtokError(f"a pattern is a regex or one of {', '.join(PATTERNS)}, not {pattern!r}")
    return PATTERNS.get(pattern, pattern)


WHITESPACE_PATTERN = r"\S+"


# ---------------------------------------------------------------------------------------------------------
# Characters as HF tokenizers sees them (its Unicode data is older than Python's: _unicode_data)
# ---------------------------------------------------------------------------------------------------------
def _in_ranges(ranges: Sequence[int], cp: int) -> bool:
    """Whether ``cp`` is in one of the flat (first, last) pairs of ``ranges``."""
    k = bisect_right(ranges, cp)
    return k % 2 == 1 or (k > 0 and ranges[k - 1] == cp)


def script_v9(ch: str) -> int:
    """The Unicode 9.0 script of ``ch`` (an index into ``_unicode_data.SCRIPTS``); -1 when Unicode 9.0 has
    not assigned it (HF's UnicodeScripts calls such characters "Any") or gives it none of its scripts."""
    cp = ord(ch)
    k = bisect_right(_unicode_data.RUN_STARTS, cp) - 1
    return _unicode_data.RUN_SCRIPTS[k] if k >= 0 and cp <= _unicode_data.RUN_ENDS[k] else -1


@lru_cache(maxsize=65536)
def assigned_v9(ch: str) -> bool:
    """Whether Unicode 9.0 assigns ``ch`` (HF's normalization tables are Unicode 9.0's)."""
    cp = ord(ch)
    k = bisect_right(_unicode_data.RUN_STARTS, cp) - 1
    return k >= 0 and cp <= _unicode_data.RUN_ENDS[k]


def hf_control(ch: str) -> bool:
    """A character HF's BertNormalizer drops with clean_text (control, format and private-use ones, by its
    Unicode 8.0 data; NUL and U+FFFD are dropped besides)."""
    return _in_ranges(_unicode_data.CONTROL, ord(ch))


def hf_nonspacing(ch: str) -> bool:
    """A nonspacing mark (Mn) by HF's Unicode 8.0 data: what strip_accents drops after NFD."""
    return _in_ranges(_unicode_data.NONSPACING, ord(ch))


def hf_mark(ch: str) -> bool:
    """A combining mark (Mn, Mc, Me) by HF's Unicode 9.0 data: what HF's StripAccents drops."""
    return _in_ranges(_unicode_data.MARK, ord(ch))


@cache
def _lower_table() -> dict[int, str]:
    return dict(zip(_unicode_case.LOWER_FROM, _unicode_case.LOWER_TO))


def lowercase(text: str) -> str:
    """Each character's lowercase as HF's Lowercase gives it (Rust's char::to_lowercase, no final-sigma
    rule), from the table in ``_unicode_case``, so the result does not depend on the running Python's
    Unicode version (``str.lower`` of Python 3.11 leaves 55 newer characters as they are)."""
    return text.lower() if text.isascii() else text.translate(_lower_table())


def ranges_class(ranges: Sequence[int]) -> str:
    """A regex character class of flat (first, last) pairs."""
    return "[" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in zip(ranges[0::2], ranges[1::2])) + "]"


# BERT's punctuation as HF has it: ASCII symbols that are not letters, digits or space, and P* by HF's
# Unicode 8.0 data (BertPreTokenizer and Punctuation isolate these).
BERT_PUNCT = ranges_class(_unicode_data.PUNCT)
BERT_PATTERN = rf"(?:(?!{BERT_PUNCT})[^\s])+|{BERT_PUNCT}"


# ---------------------------------------------------------------------------------------------------------
# Character classes
# ---------------------------------------------------------------------------------------------------------
CLASS_LETTER, CLASS_NUMBER, CLASS_SPACE, CLASS_PUNCT = 1, 2, 4, 8
CLASS_UPPERISH, CLASS_LOWERISH = 16, 32  # o200k's two letter classes (marks in both)
CLASS_ASCII_DIGIT = 64  # [0-9] (Falcon's three-digit split)


@lru_cache(maxsize=1)
def char_classes() -> bytes:
    """The class table of ``compute_char_classes``: read from the runs stored in ``_char_classes_data`` where
    the installed ``regex`` is the version that wrote them (under a millisecond), computed otherwise (40-60
    ms, which every process that uses the native scanners would pay)."""
    if getattr(regex, "__version__", None) == _char_classes_data.REGEX_VERSION:
        return stored_char_classes()
    return compute_char_classes()


def stored_char_classes() -> bytes:
    """The table ``tools/gen_char_classes.py`` stored, expanded from its runs."""
    starts = np.array(_char_classes_data.RUN_STARTS + (0x110000,), dtype=np.int64)
    return np.repeat(np.array(_char_classes_data.RUN_CLASSES, dtype=np.uint8), np.diff(starts)).tobytes()


def compute_char_classes() -> bytes:
    """One byte per code point: CLASS_LETTER for \\p{L}, CLASS_NUMBER for \\p{N}, CLASS_SPACE for \\s,
    CLASS_PUNCT for BERT's punctuation (``BERT_PUNCT``) and o200k's classes, CLASS_UPPERISH for
    [\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}] and CLASS_LOWERISH for [\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}], CLASS_ASCII_DIGIT for
    [0-9] (the pre-tokenizer programs' class splits), as the installed ``regex`` module matches them (its
    Unicode version, not Python's), so the native pre-tokenizers and the regexes agree on every character."""
    table = np.zeros(0x110000, dtype=np.uint8)
    for first, last in zip(_unicode_data.PUNCT[0::2], _unicode_data.PUNCT[1::2]):  # BERT_PUNCT's own ranges
        table[first : last + 1] |= CLASS_PUNCT
    classes = (
        (CLASS_LETTER, r"\p{L}+"),
        (CLASS_NUMBER, r"\p{N}+"),
        (CLASS_SPACE, r"\s+"),
        (CLASS_UPPERISH, r"[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+"),
        (CLASS_LOWERISH, r"[\p{Ll}\p{Lm}\p{Lo}\p{M}]+"),
        (CLASS_ASCII_DIGIT, r"[0-9]+"),
    )
    assigned = regex.compile(r"[^\p{Cn}\p{Co}]")  # every class's characters (and more): one test, not six
    block = 0x10000  # a plane at a time: the regex engine's memory for all code points at once is ~100 MB
    for base in range(0, 0x110000, block):
        codes = np.arange(base, base + block, dtype="<u4")
        chars = codes.tobytes().decode("utf-32-le", "surrogatepass")  # the plane's code points, as one str
        if assigned.search(chars) is None:  # the unassigned and private-use planes: no class at all
            continue
        for bit, pattern in classes:
            for m in regex.finditer(pattern, chars):
                s, e = m.span()
                table[base + s : base + e] |= bit
    return table.tobytes()


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


# str.translate tables between bytes (as the characters below 256 of their latin-1 decoding) and their
# byte-level spelling; a character below 256 that spells no byte goes above 255, so encoding fails on it
_BYTE_SPELLING = {b: c for b, c in bytes_to_unicode().items() if chr(b) != c}
_BYTE_OF_SPELLING = {**{b: 0x100 for b in range(256)}, **{ord(c): b for b, c in bytes_to_unicode().items()}}


def bytes_to_token(data: bytes) -> str:
    """The byte-level vocabulary string of a byte sequence."""
    return data.decode("latin-1").translate(_BYTE_SPELLING)


def split_lines(text: str) -> list[str]:
    """``text`` cut after each "\n" (kept); only "\n" ends a line, as in HF tokenizers' file reading."""
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    if not lines[-1]:
        lines.pop()
    return lines


def file_lines(text: str) -> list[str]:
    """The lines of ``text`` as a file has them: each ended by "\n" (only "\n"), the newline dropped, the
    last one perhaps by the end of the text; an empty text has none."""
    lines = text.split("\n")
    if not lines[-1]:
        lines.pop()
    return lines


def bytes_to_tokens(keys: Sequence[bytes]) -> list[str]:
    """``bytes_to_token`` of each of ``keys``, spelled in one pass over them all (a vocabulary's worth)."""
    spelled = b"".join(keys).decode("latin-1").translate(_BYTE_SPELLING)
    ends = list(accumulate(map(len, keys)))
    return [spelled[start:end] for start, end in zip([0, *ends], ends)]


def token_to_bytes(token: str) -> bytes:
    """The bytes a byte-level vocabulary string stands for (ValueError when it is not one)."""
    try:  # each spelling character -> its byte as a character below 256; any other -> one above
        return token.translate(_BYTE_OF_SPELLING).encode("latin-1")
    except UnicodeEncodeError:
        bad = next(c for c in token if c not in unicode_to_bytes())
        raise ValueError(f"{token!r} is not a byte-level token (character {bad!r})") from None


def may_backtrack(source: str) -> bool:
    """Whether a regex has a repeated group that itself repeats or alternates (``(a+)+``, ``(a|aa)*``,
    ``(?:x|y){2,}``): the shape of catastrophic backtracking. The published pre-tokenizer patterns have none
    (their groups are not repeated, or only optional)."""
    stack: list[bool] = []  # per open group: whether it holds a repetition or an alternation
    k, n = 0, len(source)
    while k < n:
        c = source[k]
        if c == "\\":
            k += 2
            continue
        if c == "[":  # a class: skip to its end (a "]" right after "[" or "[^" is literal)
            k += 2 if source.startswith("[^", k) else 1
            k += 1 if k < n and source[k] == "]" else 0
            while k < n and source[k] != "]":
                k += 2 if source[k] == "\\" else 1
        elif c == "(":
            stack.append(False)
        elif c == "|" and stack:
            stack[-1] = True
        elif c in "*+{" and stack:
            stack[-1] = True
        elif c == ")" and stack:
            inner = stack.pop()
            repeated = k + 1 < n and source[k + 1] in "*+{"
            if repeated and inner:
                return True
            if stack:
                stack[-1] = stack[-1] or inner or repeated
        k += 1
    return False


class BoundedPattern:
    """A regex that came from a file. One that ``may_backtrack`` stops with an ``InputError`` instead of
    running away (such a pattern, ``(a|aa)+$`` on a long "aaa...b", must not freeze the service that loaded
    someone's tokenizer): each call may take 1 s plus 1 us per character of the text, through the ``regex``
    module's timeout (which costs time on every call, so the others run without it). ``tiles`` stays True
    while its matches have covered every text split with it (pre_tokenizers.match_spans then tries
    ``findall`` first)."""

    tiles = True

    def __init__(self, source: str, what: str) -> None:
        try:
            self.compiled = regex.compile(source)
        except regex.error as e:
            raise SubtokError(f"{what}: bad regex {source!r}: {e}") from None
        self.pattern, self.groups, self.what = source, self.compiled.groups, what
        self.bounded = may_backtrack(source)
        if not self.bounded:  # the compiled pattern's own methods, without a wrapper call per piece
            self.findall, self.search = self.compiled.findall, self.compiled.search

    def _run(self, method: str, text: str, *args):
        if not self.bounded:
            result = getattr(self.compiled, method)(*args, text)
            return list(result) if method == "finditer" else result
        try:
            result = getattr(self.compiled, method)(*args, text, timeout=1.0 + len(text) * 1e-6)
            return list(result) if method == "finditer" else result
        except TimeoutError:
            raise InputError(
                f"{self.what}: the regex {self.pattern!r} ran out of time on a text of {len(text):,} characters "
                "(it backtracks catastrophically on such text)"
            ) from None

    def findall(self, text: str) -> list:
        return self._run("findall", text)

    def finditer(self, text: str) -> list:
        return self._run("finditer", text)

    def search(self, text: str):
        return self._run("search", text)

    def sub(self, replacement: str, text: str) -> str:
        return self._run("sub", text, replacement)


def pattern_regex(pattern: dict, what: str) -> BoundedPattern:
    """HF's pattern object, {"String": s} (literal) or {"Regex": r}, as a ``BoundedPattern``."""
    if not isinstance(pattern, dict) or len(pattern) != 1:
        raise SubtokError(f"{what}: pattern must be {{'String': ...}} or {{'Regex': ...}}, not {pattern!r}")
    ((kind, value),) = pattern.items()
    if kind not in ("String", "Regex") or not isinstance(value, str):
        raise SubtokError(f"{what}: pattern must be {{'String': ...}} or {{'Regex': ...}}, not {pattern!r}")
    return BoundedPattern(regex.escape(value) if kind == "String" else value, what)


# ---------------------------------------------------------------------------------------------------------
# Normalization with alignment
# ---------------------------------------------------------------------------------------------------------
Change = tuple[str, int]  # an output character and how it relates to the input (see Normalized.transform)


class Normalized:
    """Normalized text and, for each of its characters, the span of the original text it came from.

    The alignment follows HF tokenizers' NormalizedString, so offsets equal HF's: a character that replaces
    one keeps that character's span; an inserted character takes the span of the character before it; a
    character that replaces several (a composition) keeps the first one's span. ``starts``/``ends`` of None
    mean the identity: character i came from original character ``offset + i``.
    """

    __slots__ = ("text", "starts", "ends", "offset")

    def __init__(
        self, text: str, starts: Optional[list[int]] = None, ends: Optional[list[int]] = None, offset: int = 0
    ) -> None:
        self.text = text
        self.starts = starts
        self.ends = ends
        self.offset = offset

    def __repr__(self) -> str:
        return f"Normalized({self.text!r}, {self.spans()})"

    def spans(self) -> list[tuple[int, int]]:
        """(start, end) in the original text of each character."""
        if self.starts is None:
            return [(self.offset + i, self.offset + i + 1) for i in range(len(self.text))]
        return list(zip(self.starts, self.ends))

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original-text span of normalized characters ``[start, end)`` (HF's: the first one's start to
        the last one's end)."""
        if self.starts is None:
            return self.offset + start, self.offset + end
        if start >= end:  # an empty piece sits where its neighbour starts
            pos = self.starts[start] if start < len(self.starts) else (self.ends[-1] if self.ends else self.offset)
            return pos, pos
        return self.starts[start], self.ends[end - 1]

    def slice(self, start: int, end: int) -> Normalized:
        """Characters ``[start, end)`` with their alignment."""
        if self.starts is None:
            return Normalized(self.text[start:end], offset=self.offset + start)
        return Normalized(self.text[start:end], self.starts[start:end], self.ends[start:end], self.offset)

    def transform(self, changes: Sequence[Change], initial_offset: int = 0) -> Normalized:
        """The text rebuilt from ``changes``, as HF's NormalizedString.transform: each (char, change) is an
        output character; a change of 0 or less consumes the next input character (and -change more after
        it) and keeps its span; a positive change inserts the character with the span of the character
        before it (the start of the text: (0, 0)). ``initial_offset`` input characters are dropped first."""
        starts0, ends0 = self.arrays()
        starts: list[int] = []
        ends: list[int] = []
        pos = initial_offset
        for _, change in changes:
            if change > 0:
                k = pos - 1
                starts.append(starts0[k] if k >= 0 else 0)
                ends.append(ends0[k] if k >= 0 else 0)
            else:
                starts.append(starts0[pos])
                ends.append(ends0[pos])
                pos += 1 - change
        return Normalized("".join(c for c, _ in changes), starts, ends, self.offset)

    def prepend(self, prefix: str) -> Normalized:
        """HF's NormalizedString.prepend: ``prefix`` before a non-empty text, its characters on the span of
        the text's first character."""
        if not self.text or not prefix:
            return self
        starts, ends = self.arrays()
        n = len(prefix)
        return Normalized(prefix + self.text, [starts[0]] * n + starts, [ends[0]] * n + ends, self.offset)

    def arrays(self) -> tuple[list[int], list[int]]:
        """The starts and ends of every character's span (built for an identity alignment)."""
        if self.starts is None:
            n = len(self.text)
            return list(range(self.offset, self.offset + n)), list(range(self.offset + 1, self.offset + n + 1))
        return self.starts, self.ends

    def splice(self, edits: Sequence[tuple[int, int, Sequence[Change]]]) -> Normalized:
        """The text with each (start, end, changes) segment, in order, rebuilt from its changes (``transform``
        of that slice; a segment's first change must not insert), the rest kept with its alignment."""
        if not edits:
            return self
        texts: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        pos = 0
        for start, end, changes in [*edits, (len(self.text), len(self.text), ())]:
            for part in (self.slice(pos, start), self.slice(start, end).transform(changes)):
                s, e = part.arrays()
                texts.append(part.text)
                starts += s
                ends += e
            pos = end
        return Normalized("".join(texts), starts, ends, self.offset)

    def remap(self, pieces: Sequence[tuple[int, int, str]]) -> Normalized:
        """A new Normalized from pieces (start, end, replacement) that tile this text in order: every character
        of a replacement takes the span of the piece it replaces (the empty string removes the piece)."""
        starts: list[int] = []
        ends: list[int] = []
        out = []
        for s, e, rep in pieces:
            os_, oe = self.original_span(s, e)
            out.append(rep)
            starts.extend([os_] * len(rep))
            ends.extend([oe] * len(rep))
        return Normalized("".join(out), starts, ends, self.offset)


class Spelled(Normalized):
    """A piece in byte-level spelling (one character per UTF-8 byte, GPT-2's table), as HF's ByteLevel step
    writes it when other steps follow: each byte's character keeps its source character's span. The bytes
    (``data``) are made at once, the spelled text and the alignment on first use, since byte-level models
    take the bytes and most encodings never ask for offsets."""

    __slots__ = ("source", "data", "_text", "_alignment")

    def __init__(self, source: Normalized) -> None:
        self.source = source
        self.data = source.text.encode("utf-8", "surrogatepass")
        self.offset = source.offset
        self._text: Optional[str] = None
        self._alignment: Optional[tuple[Optional[list[int]], Optional[list[int]]]] = None

    @property
    def text(self) -> str:  # type: ignore[override]
        if self._text is None:
            self._text = bytes_to_token(self.data)
        return self._text

    def _spans(self) -> tuple[Optional[list[int]], Optional[list[int]]]:
        if self._alignment is None:
            source = self.source
            if source.text.isascii():  # one byte per character: the alignment stays
                self._alignment = source.starts, source.ends
            else:
                sizes = [len(c.encode("utf-8", "surrogatepass")) for c in source.text]
                starts, ends = source.arrays()
                self._alignment = (
                    [s for s, n in zip(starts, sizes) for _ in range(n)],
                    [e for e, n in zip(ends, sizes) for _ in range(n)],
                )
        return self._alignment

    @property
    def starts(self) -> Optional[list[int]]:  # type: ignore[override]
        return self._spans()[0]

    @property
    def ends(self) -> Optional[list[int]]:  # type: ignore[override]
        return self._spans()[1]
