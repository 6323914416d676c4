"""Pre-tokenizers, the pipeline's second stage: they split (normalized) text into words; the model then
encodes each word alone. A word is a :class:`subtok.text.Normalized`, so it knows its span of the
original text however the steps before changed it.

Every pre-tokenizer follows HF tokenizers' semantics: it refines a list of pieces, each step splitting
each piece with a pattern (a regex, or a character class) and a behaviour for the delimiters (removed,
isolated, merged with the previous or next piece, or contiguous runs), and empty pieces are dropped.
Our own files name three built-ins: "gpt2" (GPT-2's pattern, every character kept), "whitespace" (runs of
non-space) and "bert" (whitespace, then each punctuation character alone), plus "regex" (any pattern's
matches). The others keep HF's names; ``PRE_TOKENIZERS`` maps each JSON "type" (ours and HF's) to its class.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from functools import cache
from itertools import accumulate, compress
from typing import Any, Optional, Union

import regex

from . import _backend, _unicode_data
from .errors import SubtokError
from .registry import ByteLevelOptions, Registry
from .text import (
    BERT_PATTERN,
    BERT_PUNCT,
    CLASS_ASCII_DIGIT,
    CLASS_NUMBER,
    CLASS_PUNCT,
    CLASS_SPACE,
    DIGITS_THEN_GPT2_PATTERN,
    GPT2_PATTERN,
    SCANNED_PATTERNS,
    SPACE_GAPPED,
    WHITESPACE_PATTERN,
    BoundedPattern,
    Normalized,
    Spelled,
    bytes_to_unicode,
    char_classes,
    pattern_regex,
    script_v9,
)

PRE_TOKENIZERS = Registry("pre-tokenizer")

Span = tuple[int, int]
Match = tuple[Span, bool]  # a span of the piece and whether it is a delimiter (a match)
BEHAVIORS = ("Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous")

# Rust's regex classes, which HF's built-in pre-tokenizers use: \w and \s by Unicode properties
WORD = r"[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]"
NOT_WORD_NOR_SPACE = r"[^\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}\p{White_Space}]"
_WHITE = regex.compile(r"\p{White_Space}")
_NUMERIC = regex.compile(r"\p{N}")
_PUNCT = regex.compile(BERT_PUNCT)  # ASCII punctuation or P*, by HF's Unicode data


def tiling_spans(pattern: regex.Pattern, text: str, start: int = 0) -> Optional[list[Span]]:
    """The spans (offset by ``start``) of ``pattern``'s matches in ``text`` where they tile it, from
    ``findall`` and the running sum of the lengths, in C (the published patterns' matches do); else None,
    and a ``BoundedPattern`` remembers that its matches leave text out (``tiles``), so it is not tried again."""
    if pattern.groups or not getattr(pattern, "tiles", True):
        return None
    words = pattern.findall(text)
    ends = list(accumulate(map(len, words), initial=start))
    if ends[-1] == start + len(text) and "" not in words:
        return list(zip(ends, ends[1:]))
    if isinstance(pattern, BoundedPattern):
        pattern.tiles = False
    return None


def match_spans(pattern: regex.Pattern, text: str) -> tuple[list[Span], bool]:
    """The spans of ``pattern``'s non-empty matches in ``text``, and whether they tile it (``tiling_spans``
    first)."""
    spans = tiling_spans(pattern, text)
    if spans is not None:
        return spans, True
    spans = [m.span() for m in pattern.finditer(text) if m.end() > m.start()]
    return spans, sum(e - s for s, e in spans) == len(text)


def class_spans(pattern: regex.Pattern, text: str, behavior: str) -> list[Span]:
    """``behavior_spans`` of ``pattern``'s matches, with the common case first: a text it does not match
    at all is one piece (under every behaviour)."""
    if pattern.search(text) is None:
        return [(0, len(text))] if text else []
    return behavior_spans(regex_matches(pattern, text), behavior)


def regex_matches(pattern: regex.Pattern, text: str) -> list[Match]:
    """HF's find_matches for a regex: the matches and the text between them, covering ``text``. A pattern
    of one character class gives HF's find_matches for a character predicate: each matching character
    alone, and the runs between."""
    if not text:
        return [((0, 0), False)]
    out: list[Match] = []
    prev = 0
    for m in pattern.finditer(text):
        s, e = m.span()
        if prev != s:
            out.append(((prev, s), False))
        out.append(((s, e), True))
        prev = e
    if prev != len(text):
        out.append(((prev, len(text)), False))
    return out


def behavior_spans(matches: list[Match], behavior: str) -> list[Span]:
    """HF's NormalizedString.split on spans: the non-empty pieces ``behavior`` keeps."""
    spans: list[list] = []  # [start, end, remove]
    previous = False
    if behavior == "Isolated":
        return [(s, e) for (s, e), _ in matches if e > s]
    if behavior == "Removed":
        return [(s, e) for (s, e), is_match in matches if not is_match and e > s]
    if behavior == "Contiguous":
        for (s, e), is_match in matches:
            if is_match == previous and spans:
                spans[-1][1] = e
            else:
                spans.append([s, e])
            previous = is_match
    elif behavior == "MergedWithPrevious":
        for (s, e), is_match in matches:
            if is_match and not previous and spans:
                spans[-1][1] = e
            else:
                spans.append([s, e])
            previous = is_match
    elif behavior == "MergedWithNext":
        for (s, e), is_match in reversed(matches):
            if is_match and not previous and spans:
                spans[-1][0] = s
            else:
                spans.append([s, e])
            previous = is_match
        spans.reverse()
    else:
        raise SubtokError(f"unknown split behavior {behavior!r}; choose from {', '.join(BEHAVIORS)}")
    return [(s, e) for s, e in spans if e > s]


class PreTokenizer:
    """One pre-tokenization step: ``split`` turns one piece into pieces (HF's split function).

    ``byte_level`` is True for HF's ByteLevel step, after which the model sees text as UTF-8 bytes (our
    byte-level BPE does that mapping itself). ``spelled`` is True when the pieces come out in byte-level
    spelling already (a Sequence whose ByteLevel step has others after it, which see that spelling, as in
    Falcon's). ``pattern`` is set when the whole pre-tokenizer is one regex whose matches are the words,
    which the native encoders may recognise; with ``prefix_space`` the regex runs on each piece with a space
    put before it unless it starts with one (HF's ByteLevel ``add_prefix_space``).
    """

    type = ""
    hf_type = ""
    byte_level = False
    spelled = False
    pattern: Optional[str] = None
    prefix_space = False

    def split_spans(self, text: str) -> Optional[list[Span]]:
        """The non-empty pieces of ``text`` as spans of it, for a step that keeps the text as it is; None
        for one that changes it (a prefix space, ▁ for spaces), which has ``word_spans`` instead."""
        return None

    def word_spans(self, piece: Normalized) -> Optional[tuple[Normalized, list[Span]]]:
        """The non-empty words of ``piece`` as spans of one text: the piece itself, or the piece once this
        step has changed it (which the words' alignment then follows). None where the words are not
        substrings of one text (such pre-tokenizers use ``pre_tokenize``)."""
        spans = self.split_spans(piece.text)
        return None if spans is None else (piece, spans)

    def split(self, piece: Normalized) -> list[Normalized]:
        """HF's split function: ``piece`` cut into pieces, each a slice of it (or of it changed)."""
        got = self.word_spans(piece)
        if got is None:
            raise NotImplementedError
        text, spans = got
        return [text.slice(s, e) for s, e in spans]

    def pre_tokenize(self, pieces: Iterable[Normalized]) -> list[Normalized]:
        """Each piece split, empty pieces dropped (HF's PreTokenizedString.split)."""
        return [p for piece in pieces for p in self.split(piece) if p.text]

    def words(self, text: str) -> list[str]:
        """The words of ``text`` (training's counting)."""
        return [p.text for p in self.pre_tokenize([Normalized(text)])]

    def iter_words(self, text: str) -> Iterable[str]:
        """``words`` one at a time, for a long text (a line of many MB) whose list of words would take many
        times its size; pre-tokenizers that find words by a regex's matches yield them as found."""
        return self.words(text)

    def to_dict(self) -> dict:
        return {"type": self.type}

    def to_hf(self) -> Optional[dict]:
        return {**self.to_dict(), "type": self.hf_type}

    @classmethod
    def from_dict(cls, d: dict) -> PreTokenizer:
        return cls()

    @classmethod
    def from_hf(cls, d: dict) -> PreTokenizer:
        return cls.from_dict({**d, "type": cls.type})


class _Matches(PreTokenizer):
    """The words are the matches of ``pattern``; the text between them is dropped (our own built-ins)."""

    def __init__(self, pattern: str) -> None:
        self.regex = BoundedPattern(pattern, "pre-tokenizer") if pattern != GPT2_PATTERN else regex.compile(pattern)
        self.pattern = pattern

    def split_spans(self, text: str) -> list[Span]:
        return match_spans(self.regex, text)[0]

    def words(self, text: str) -> list[str]:
        return self.regex.findall(text)

    def iter_words(self, text: str) -> Iterable[str]:
        bounded = isinstance(self.regex, BoundedPattern)
        if (bounded and self.regex.bounded) or self.regex.groups:  # (a time limit needs the whole search)
            return self.words(text)
        return (m.group() for m in (self.regex.compiled if bounded else self.regex).finditer(text))


@PRE_TOKENIZERS.register(types=("regex",))
class RegexSplit(_Matches):
    """Any pattern: its matches are the words (HF: a Split with behaviour Removed, inverted)."""

    type, hf_type = "regex", "Split"

    def __init__(self, pattern: str) -> None:
        if not isinstance(pattern, str) or not pattern:
            raise SubtokError("a 'regex' pre-tokenizer needs a pattern")
        super().__init__(pattern)

    def to_dict(self) -> dict:
        return {"type": self.type, "pattern": self.pattern}

    def to_hf(self) -> dict:
        return {"type": "Split", "pattern": {"Regex": self.pattern}, "behavior": "Removed", "invert": True}

    @classmethod
    def from_dict(cls, d: dict) -> RegexSplit:
        return cls(d.get("pattern"))


@PRE_TOKENIZERS.register(types=("gpt2",))
class GPT2(RegexSplit):
    """GPT-2's pattern (HF's ByteLevel pre-tokenizer and tiktoken's "gpt2"): every character is in a word."""

    type = "gpt2"

    def __init__(self) -> None:
        super().__init__(GPT2_PATTERN)

    def to_dict(self) -> dict:
        return {"type": self.type}

    @classmethod
    def from_dict(cls, d: dict) -> GPT2:
        return cls()


@PRE_TOKENIZERS.register(types=("whitespace",))
class WhitespaceRuns(_Matches):
    """Ours: runs of non-whitespace characters (the same pieces as HF's WhitespaceSplit)."""

    type, hf_type = "whitespace", "WhitespaceSplit"

    def __init__(self) -> None:
        super().__init__(WHITESPACE_PATTERN)


@PRE_TOKENIZERS.register(types=("bert",))
class BertWords(_Matches):
    """Ours: BERT's, whitespace then each punctuation character alone (the same pieces as HF's
    BertPreTokenizer)."""

    type, hf_type = "bert", "BertPreTokenizer"

    def __init__(self) -> None:
        super().__init__(BERT_PATTERN)

    def split_spans(self, text: str) -> list[Span]:
        return bert_spans(text) if _backend.name == "native" else super().split_spans(text)

    def words(self, text: str) -> list[str]:
        if _backend.name == "native":  # (the pattern's class of HF's punctuation is slow in the regex module)
            return [text[s:e] for s, e in bert_spans(text)]
        return super().words(text)


@PRE_TOKENIZERS.register(types=("none",))
class Whole(PreTokenizer):
    """No pre-tokenizer: the text between added tokens is one word (HF's null pre_tokenizer)."""

    type = "none"

    def split_spans(self, text: str) -> list[Span]:
        return [(0, len(text))] if text else []

    def to_hf(self) -> None:
        return None


@PRE_TOKENIZERS.register(types=("Split",), hf=("Split",))
class Split(PreTokenizer):
    """HF's Split: a pattern ({"String": ...} literal or {"Regex": ...}), a behaviour for its matches
    (Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous) and ``invert`` (the text between
    matches is the delimiter instead)."""

    hf_fields = ("pattern", "behavior", "invert")

    type = hf_type = "Split"

    def __init__(self, pattern: dict, behavior: str, invert: bool = False) -> None:
        if behavior not in BEHAVIORS:
            raise SubtokError(f"Split: unknown behavior {behavior!r}; choose from {', '.join(BEHAVIORS)}")
        self.pattern_spec, self.behavior, self.invert = pattern, behavior, bool(invert)
        self.regex = pattern_regex(pattern, "Split")
        # split() with the pattern as a group gives the matches and the text between them: all of them
        # (Isolated) or every other one (the matches: Removed, inverted)
        self.splitter = None
        self._matches_only = behavior == "Removed" and invert
        if (
            (behavior == "Isolated" and not invert or self._matches_only)
            and not self.regex.groups
            and not self.regex.bounded
        ):
            try:
                self.splitter = regex.compile(f"({self.regex.pattern})")
            except regex.error:  # global flags inside the group, say: the general path
                pass
        if behavior == "Isolated" and not invert and "Regex" in pattern and _covers_everything(self.regex):
            self.pattern = pattern["Regex"]
        # without lookaround, anchors or flags, a text with no match has none in any piece of it either
        self.context_free = not invert and not _CONTEXT.search(self.regex.pattern)

    def split_spans(self, text: str) -> list[Span]:
        if self.splitter is not None:
            return self.splitter_spans(text)
        if not self.invert:
            return class_spans(self.regex, text, self.behavior)
        if self.behavior == "Removed":  # the text between matches removed: the matches themselves
            return match_spans(self.regex, text)[0]
        matches = [(span, not is_match) for span, is_match in regex_matches(self.regex, text)]
        return behavior_spans(matches, self.behavior)

    def splitter_spans(self, text: str, start: int = 0) -> list[Span]:
        """The words (spans offset by ``start``) where the behaviour keeps the matches and maybe the text
        between them: from findall where the matches tile the text, else from split with the pattern as a
        group, whose parts alternate between the text between matches and the matches, all in C."""
        spans = tiling_spans(self.regex, text, start)
        if spans is not None:
            return spans
        parts = self.splitter.split(text)
        ends = list(accumulate(map(len, parts), initial=start))
        if self._matches_only:
            return list(compress(zip(ends[1::2], ends[2::2]), parts[1::2]))
        return list(compress(zip(ends, ends[1:]), parts))  # the non-empty parts

    def _matches_are_words(self) -> bool:
        """The words are the non-empty matches, found without a time limit (which needs the whole search)."""
        return self.behavior == "Removed" and self.invert and not self.regex.bounded and not self.regex.groups

    def words(self, text: str) -> list[str]:
        if self._matches_are_words():
            return [word for word in self.regex.compiled.findall(text) if word]
        return super().words(text)

    def iter_words(self, text: str) -> Iterable[str]:
        if self._matches_are_words():
            return (m.group() for m in self.regex.compiled.finditer(text) if m.end() > m.start())
        return self.words(text)

    def to_dict(self) -> dict:
        return {"type": self.type, "pattern": self.pattern_spec, "behavior": self.behavior, "invert": self.invert}

    @classmethod
    def from_dict(cls, d: dict) -> Split:
        return cls(d.get("pattern"), d.get("behavior"), d.get("invert", False))


_CONTEXT = regex.compile(r"\(\?|\\[bBAZzG0-9]|[$^]")  # a group with options, a boundary or backreference, an anchor


def _covers_everything(pattern: regex.Pattern) -> bool:
    """Whether ``pattern`` is one the native scanners know (``text.SCANNED_PATTERNS``), whose matches tile
    every text: there, isolating its matches and keeping only its matches give the same words."""
    return pattern.pattern in SCANNED_PATTERNS


@PRE_TOKENIZERS.register(types=("ByteLevel",), hf=("ByteLevel",))
class ByteLevel(ByteLevelOptions, PreTokenizer):
    """HF's ByteLevel: a space before each piece that does not start with one (``add_prefix_space``),
    GPT-2's pattern (``use_regex``), and the words seen as bytes by the model (byte-level BPE).
    ``trim_offsets`` belongs to the post-processor and the decoder; it is kept to be written back."""

    byte_level = True

    def __init__(self, add_prefix_space: bool = True, trim_offsets: bool = True, use_regex: bool = True) -> None:
        super().__init__(add_prefix_space, trim_offsets, use_regex)
        self.regex = regex.compile(GPT2_PATTERN)
        if self.use_regex:
            self.pattern, self.prefix_space = GPT2_PATTERN, bool(self.add_prefix_space)

    def split_spans(self, text: str) -> Optional[list[Span]]:
        if self.add_prefix_space:
            return None
        return match_spans(self.regex, text)[0] if self.use_regex else [(0, len(text))] if text else []

    def word_spans(self, piece: Normalized) -> tuple[Normalized, list[Span]]:
        if self.add_prefix_space and piece.text and not piece.text.startswith(" "):
            piece = piece.prepend(" ")
        if self.use_regex:
            return piece, match_spans(self.regex, piece.text)[0]
        return piece, [(0, len(piece.text))] if piece.text else []


@PRE_TOKENIZERS.register(types=("Metaspace",), hf=("Metaspace",))
class Metaspace(PreTokenizer):
    """SentencePiece's whitespace convention: spaces become ``replacement`` (▁), which is put before the
    piece (``prepend_scheme`` "always"; "first": only before the text's first piece; "never"), and with
    ``split`` each ▁ starts a new piece."""

    hf_fields = ("replacement", "prepend_scheme", "split", "add_prefix_space", "str_rep")

    type = hf_type = "Metaspace"

    def __init__(self, replacement: str = "▁", prepend_scheme: str = "always", split: bool = True) -> None:
        if not isinstance(replacement, str) or len(replacement) != 1:
            raise SubtokError(f"Metaspace: replacement must be one character, not {replacement!r}")
        if prepend_scheme not in ("always", "first", "never"):
            raise SubtokError(f"Metaspace: prepend_scheme must be always, first or never, not {prepend_scheme!r}")
        self.replacement, self.prepend_scheme, self.do_split = replacement, prepend_scheme, bool(split)

    def word_spans(self, piece: Normalized) -> tuple[Normalized, list[Span]]:
        if " " in piece.text:  # one character for one: every span stays
            piece = Normalized(piece.text.replace(" ", self.replacement), piece.starts, piece.ends, piece.offset)
        starts_first = piece.original_span(0, 1)[0] == 0 if piece.text else False
        if (
            piece.text
            and not piece.text.startswith(self.replacement)
            and (self.prepend_scheme == "always" or (self.prepend_scheme == "first" and starts_first))
        ):
            piece = piece.prepend(self.replacement)
        if not self.do_split:
            return piece, [(0, len(piece.text))] if piece.text else []
        # each replacement starts a word that runs to the next one (HF's MergedWithNext on it), the text
        # before the first one a word of its own: the parts between replacements give the spans
        first, *rest = piece.text.split(self.replacement)
        ends = list(accumulate([len(part) + 1 for part in rest], initial=len(first)))
        return piece, ([(0, len(first))] if first else []) + list(zip(ends, ends[1:]))

    def to_dict(self) -> dict:
        return {
            "type": self.type,
            "replacement": self.replacement,
            "prepend_scheme": self.prepend_scheme,
            "split": self.do_split,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Metaspace:
        scheme = d.get("prepend_scheme", "always")
        if d.get("add_prefix_space") is False:  # the older field, as HF reads it
            if scheme != "never" and "prepend_scheme" in d:
                raise SubtokError("Metaspace: add_prefix_space does not match the declared prepend_scheme")
            scheme = "never"
        return cls(d.get("replacement", "▁"), scheme, d.get("split", True))


@PRE_TOKENIZERS.register(types=("WhitespaceSplit",), hf=("WhitespaceSplit",))
class WhitespaceSplit(PreTokenizer):
    """HF's WhitespaceSplit: split on white space, which is removed."""

    type = hf_type = "WhitespaceSplit"

    def split_spans(self, text: str) -> list[Span]:
        return class_spans(_WHITE, text, "Removed")


@PRE_TOKENIZERS.register(types=("Whitespace",), hf=("Whitespace",))
class Whitespace(PreTokenizer):
    """HF's Whitespace: runs of word characters, and runs of other non-space characters (\\w+|[^\\w\\s]+)."""

    type = hf_type = "Whitespace"
    _RE = regex.compile(rf"{WORD}+|{NOT_WORD_NOR_SPACE}+")

    def split_spans(self, text: str) -> list[Span]:
        return match_spans(self._RE, text)[0]


@PRE_TOKENIZERS.register(types=("BertPreTokenizer",), hf=("BertPreTokenizer",))
class BertPreTokenizer(PreTokenizer):
    """HF's BertPreTokenizer: split on white space, then each punctuation character alone."""

    type = hf_type = "BertPreTokenizer"

    def split_spans(self, text: str) -> list[Span]:
        if _backend.name == "native":
            return bert_spans(text)
        out = []
        for s, e in class_spans(_WHITE, text, "Removed"):
            if e > s:
                out.extend((s + a, s + b) for a, b in class_spans(_PUNCT, text[s:e], "Isolated"))
        return out


@PRE_TOKENIZERS.register(types=("Digits",), hf=("Digits",))
class Digits(PreTokenizer):
    """Numbers apart from the rest: each digit alone (``individual_digits``) or runs of them."""

    hf_fields = ("individual_digits",)

    type = hf_type = "Digits"

    def __init__(self, individual_digits: bool = False) -> None:
        self.individual_digits = bool(individual_digits)

    def split_spans(self, text: str) -> list[Span]:
        behavior = "Isolated" if self.individual_digits else "Contiguous"
        return class_spans(_NUMERIC, text, behavior)

    def to_dict(self) -> dict:
        return {"type": self.type, "individual_digits": self.individual_digits}

    @classmethod
    def from_dict(cls, d: dict) -> Digits:
        return cls(d.get("individual_digits", False))


_HAN = _unicode_data.SCRIPTS.index("Han")
_KANA = (_unicode_data.SCRIPTS.index("Hiragana"), _unicode_data.SCRIPTS.index("Katakana"))


def _script(c: str) -> int:
    """HF's UnicodeScripts script of a character (SentencePiece's rule): Unicode 9.0's, with Hiragana,
    Katakana and the prolonged sound mark (U+30FC) counted as Han, and a space or a character Unicode 9.0
    lacks as "any" (-1), which joins whatever surrounds it."""
    if c == " ":
        return -1
    if c == "\u30fc":
        return _HAN
    script = script_v9(c)
    return _HAN if script in _KANA else script


@PRE_TOKENIZERS.register(types=("UnicodeScripts",), hf=("UnicodeScripts",))
class UnicodeScripts(PreTokenizer):
    """A cut before the first character of a script other than the last one seen ("any" characters stay
    with the text before them). As in HF, the text before the first character of some script is dropped
    (leading spaces; a piece of spaces alone gives nothing)."""

    type = hf_type = "UnicodeScripts"

    def split_spans(self, text: str) -> list[Span]:
        bounds = []
        last: Optional[int] = None
        for i, c in enumerate(text):
            script = _script(c)
            if script != -1:
                if script != last:
                    bounds.append(i)
                last = script
        bounds.append(len(text))
        return list(zip(bounds, bounds[1:]))


@PRE_TOKENIZERS.register(types=("Punctuation",), hf=("Punctuation",))
class Punctuation(PreTokenizer):
    """Punctuation characters (ASCII and Unicode P*) apart, with a split ``behavior`` (default Isolated)."""

    hf_fields = ("behavior",)

    type = hf_type = "Punctuation"

    def __init__(self, behavior: str = "Isolated") -> None:
        if behavior not in BEHAVIORS:
            raise SubtokError(f"Punctuation: unknown behavior {behavior!r}; choose from {', '.join(BEHAVIORS)}")
        self.behavior = behavior

    def split_spans(self, text: str) -> list[Span]:
        return class_spans(_PUNCT, text, self.behavior)

    def to_dict(self) -> dict:
        return {"type": self.type, "behavior": self.behavior}

    @classmethod
    def from_dict(cls, d: dict) -> Punctuation:
        return cls(d.get("behavior", "Isolated"))


@PRE_TOKENIZERS.register(types=("CharDelimiterSplit",), hf=("CharDelimiterSplit",))
class CharDelimiterSplit(PreTokenizer):
    """Split on one character, which is removed."""

    hf_fields = ("delimiter",)

    type = hf_type = "CharDelimiterSplit"

    def __init__(self, delimiter: str) -> None:
        if not isinstance(delimiter, str) or len(delimiter) != 1:
            raise SubtokError(f"CharDelimiterSplit: delimiter must be one character, not {delimiter!r}")
        self.delimiter = delimiter
        self._delimiter = regex.compile(regex.escape(delimiter))

    def split_spans(self, text: str) -> list[Span]:
        return class_spans(self._delimiter, text, "Removed")

    def to_dict(self) -> dict:
        return {"type": self.type, "delimiter": self.delimiter}

    @classmethod
    def from_dict(cls, d: dict) -> CharDelimiterSplit:
        return cls(d.get("delimiter"))


@PRE_TOKENIZERS.register(types=("Sequence",), hf=("Sequence",))
class SequencePreTokenizer(PreTokenizer):
    """Several pre-tokenizers, each refining the pieces of the one before."""

    hf_fields = ("pretokenizers",)

    type = hf_type = "Sequence"

    def __init__(self, steps: Sequence[PreTokenizer]) -> None:
        self.steps = list(steps)
        byte_steps = [k for k, step in enumerate(self.steps) if step.byte_level]
        if len(byte_steps) > 1:
            raise SubtokError(f"pre-tokenizer Sequence: ByteLevel at steps {byte_steps}: more than one")
        self.byte_level = bool(byte_steps)
        # a ByteLevel step with others after it spells the pieces in bytes for them
        self._spell_after = byte_steps[0] if byte_steps and byte_steps[0] < len(self.steps) - 1 else None
        self.spelled = self._spell_after is not None or (bool(self.steps) and self.steps[-1].spelled)
        if self._spell_after is not None and self.steps[self._spell_after].spelled:
            self._spell_after = None  # a nested Sequence that spells its own pieces
        last_only = len(self.steps) == 1 or (len(self.steps) == 2 and _is_mapping_only(self.steps[1]))
        if self.steps and last_only:
            self.pattern, self.prefix_space = self.steps[0].pattern, self.steps[0].prefix_space
        if len(self.steps) == 2 and isinstance(self.steps[0], Digits) and self.steps[0].individual_digits:
            if self.steps[1].pattern == GPT2_PATTERN and not self.steps[1].prefix_space:  # StarCoder's: one regex
                self.pattern = DIGITS_THEN_GPT2_PATTERN
        self.program = compile_program(self.steps, self._spell_after)

    def split(self, piece: Normalized) -> list[Normalized]:
        return self.pre_tokenize([piece])

    def split_spans(self, text: str) -> Optional[list[Span]]:
        if self.spelled:
            return None
        if self.program is not None and _backend.name == "native":
            return _backend.native("split_program")(text, self.program, spelled_classes())
        spans = [(0, len(text))]
        for step in self.steps:
            spans = _refine(step, text, spans)
            if spans is None:
                return None
        return spans

    def word_spans(self, piece: Normalized) -> Optional[tuple[Normalized, list[Span]]]:
        """The first step may change the piece (a prefix space, ▁); the others refine its spans, in byte
        spelling after a ByteLevel step that has others after it. A program (``compile_program``) runs in
        one native call."""
        if self.program is not None and _backend.name == "native":
            spans = _backend.native("split_program")(piece.text, self.program, spelled_classes())
            return (Spelled(piece) if self._spell_after is not None else piece), spans
        spans: Optional[list[Span]] = [(0, len(piece.text))]
        for k, step in enumerate(self.steps):
            if k == 0:
                got = step.word_spans(piece)
                if got is None:
                    return None
                piece, spans = got
            else:
                spans = _refine(step, piece.text, spans)
                if spans is None:
                    return None
            if k == self._spell_after:
                if not piece.text.isascii():  # spans in characters -> in bytes
                    position = [0, *accumulate(len(c.encode("utf-8", "surrogatepass")) for c in piece.text)]
                    spans = [(position[s], position[e]) for s, e in spans]
                piece = Spelled(piece)
        return piece, spans

    def pre_tokenize(self, pieces: Iterable[Normalized]) -> list[Normalized]:
        pieces = list(pieces)
        for k, step in enumerate(self.steps):
            pieces = step.pre_tokenize(pieces)
            if k == self._spell_after:
                pieces = [Spelled(p) for p in pieces]
        return pieces

    def to_dict(self) -> dict:
        return {"type": self.type, "pretokenizers": [s.to_dict() for s in self.steps]}

    def to_hf(self) -> dict:
        return {"type": self.type, "pretokenizers": [s.to_hf() for s in self.steps]}

    @classmethod
    def from_dict(cls, d: dict) -> SequencePreTokenizer:
        return cls([PRE_TOKENIZERS.from_dict(s) for s in _steps(d)])

    @classmethod
    def from_hf(cls, d: dict) -> SequencePreTokenizer:
        return cls([PRE_TOKENIZERS.from_hf(s) for s in _steps(d)])


def _refine(step: PreTokenizer, text: str, spans: list[Span]) -> Optional[list[Span]]:
    """Each non-empty span of ``text`` cut by ``step`` (None when the step changes text)."""
    if _is_mapping_only(step):
        return spans
    out: list[Span] = []
    if isinstance(step, Split) and step.context_free and step.regex.search(text) is None:
        return spans  # nothing to split anywhere (CJK runs in a text without any), under every behaviour
    if isinstance(step, Split) and step.splitter is not None:  # spans in C
        for s, e in spans:
            out.extend(step.splitter_spans(text[s:e], s))
        return out
    for s, e in spans:
        sub = step.split_spans(text[s:e])
        if sub is None:
            return None
        out.extend((s + a, s + b) for a, b in sub)
    return out


# The native program's steps (csrc/pre_split.c): each a quintuple (op, a, b, c, d)
PROGRAM_SCAN, PROGRAM_MATCH, PROGRAM_SPELL = 1, 2, 3
# Split patterns that are one character class repeated, as (class bits, min, max): a program's match step
CLASS_RUNS = {
    "[0-9][0-9][0-9]": (CLASS_ASCII_DIGIT, 3, 3),
    r"\p{N}{1,3}": (CLASS_NUMBER, 1, 3),
    r"\p{N}": (CLASS_NUMBER, 1, 1),
}


def compile_program(steps: Sequence[PreTokenizer], spell_after: Optional[int]) -> Optional[bytes]:
    """The native program (csrc/pre_split.c's split_program) for a Sequence of ``steps`` every one of which
    it knows (character-class splits, the scanned patterns, byte-level spelling after step ``spell_after``),
    as int32 quintuples; None when some step is not one of those or changes the text."""
    ops: list[tuple[int, int, int, int, int]] = []
    for k, step in enumerate(steps):
        step_ops = _program_ops(step, spelled=spell_after is not None and k > spell_after)
        if step_ops is None:
            return None
        ops += step_ops
        if k == spell_after:
            ops.append((PROGRAM_SPELL, 0, 0, 0, 0))
    return array("i", [x for op in ops for x in op]).tobytes() if len(steps) > 1 else None


def _program_ops(step: PreTokenizer, spelled: bool) -> Optional[list[tuple[int, int, int, int, int]]]:
    """The program's steps doing what ``step`` does (after byte-level spelling when ``spelled``), or None."""

    def match(bits: int, behavior: str, lo: int = 1, hi: int = 1) -> tuple[int, int, int, int, int]:
        return (PROGRAM_MATCH, bits, lo, hi, BEHAVIORS.index(behavior))

    scan = None
    if isinstance(step, ByteLevel):
        if step.add_prefix_space:
            return None
        scan = GPT2_PATTERN if step.use_regex else None
        if scan is None:
            return []
    elif isinstance(step, Digits):
        return [match(CLASS_NUMBER, "Isolated" if step.individual_digits else "Contiguous")]
    elif isinstance(step, Punctuation):
        return [match(CLASS_PUNCT, step.behavior)]
    elif isinstance(step, WhitespaceSplit):
        return [match(CLASS_SPACE, "Removed")]
    elif isinstance(step, BertPreTokenizer):
        return [match(CLASS_SPACE, "Removed"), match(CLASS_PUNCT, "Isolated")]
    elif isinstance(step, Split) and "Regex" in step.pattern_spec:
        source = step.pattern_spec["Regex"]
        if (step.behavior, step.invert) in (("Isolated", False), ("Removed", True)) and source in SCANNED_PATTERNS:
            scan = source
        elif source in SPACE_GAPPED and not spelled:  # scanned with the white space between its matches
            scanned = (PROGRAM_SCAN, SCANNED_PATTERNS.index(SPACE_GAPPED[source]), 0, 0, 0)
            if (step.behavior, step.invert) == ("Isolated", False):
                return [scanned]
            if (step.behavior, step.invert) == ("Removed", True):  # the matches: the white space dropped
                return [scanned, match(CLASS_SPACE, "Removed", 1, 0)]
        elif source in CLASS_RUNS and not step.invert:
            bits, lo, hi = CLASS_RUNS[source]
            return [match(bits, step.behavior, lo, hi)]
    elif isinstance(step, RegexSplit) and step.pattern in SCANNED_PATTERNS:
        scan = step.pattern
    if scan is None or spelled:
        return None
    return [(PROGRAM_SCAN, SCANNED_PATTERNS.index(scan), 0, 0, 0)]


def bert_spans(text: str) -> list[Span]:
    """BERT's words (white space removed, each punctuation character alone) as spans of ``text``, by the
    native program of those two steps (the native backend's; the references are the regexes)."""
    return _backend.native("split_program")(text, _bert_program(), spelled_classes())


@cache
def _bert_program() -> bytes:
    return array("i", [x for op in _program_ops(BertPreTokenizer(), spelled=False) for x in op]).tobytes()


@cache
def spelled_classes() -> bytes:
    """The character classes (``text.char_classes``) of each byte's character in byte-level spelling."""
    classes = char_classes()
    return bytes(classes[ord(c)] for _, c in sorted(bytes_to_unicode().items()))


def _steps(d: dict) -> list:
    steps = d.get("pretokenizers")
    if not isinstance(steps, list):
        raise SubtokError("pre-tokenizer Sequence: 'pretokenizers' must be a list")
    return steps


def _is_mapping_only(step: PreTokenizer) -> bool:
    """A ByteLevel step that neither adds a space nor splits: it only marks the words as bytes."""
    return isinstance(step, ByteLevel) and not step.use_regex and not step.add_prefix_space


BY_NAME = {cls.type: cls for cls in (GPT2, WhitespaceRuns, BertWords)}


def make_pre_tokenizer(spec: Union[str, dict, PreTokenizer, Any]) -> PreTokenizer:
    """A pre-tokenizer from a name ("gpt2", "whitespace", "bert"), a dict, or a PreTokenizer."""
    if isinstance(spec, PreTokenizer):
        return spec
    if isinstance(spec, str):
        if spec not in BY_NAME:
            raise SubtokError(f"unknown pre-tokenizer {spec!r}; choose from {sorted(BY_NAME)} or a dict with a pattern")
        return BY_NAME[spec]()
    return PRE_TOKENIZERS.from_dict(spec)
