"""Pre-tokenizers, the pipeline's second stage: they split (normalized) text into words, each with its
character span; the model then encodes each word alone.

Each is a regex whose matches are the words (text between matches is dropped): GPT-2's pattern, which
keeps every character so byte-level BPE is lossless; whitespace runs; BERT's (whitespace, then each
punctuation character alone); or any pattern. ``PRE_TOKENIZERS`` maps each JSON "type" (ours and HF's) to
its class.
"""

from __future__ import annotations

from typing import Union

import regex

from .errors import SubtokError
from .registry import Registry
from .text import BERT_PATTERN, GPT2_PATTERN, WHITESPACE_PATTERN

PRE_TOKENIZERS = Registry("pre-tokenizer")


class PreTokenizer:
    """Splits text into the matches of ``pattern``. ``type`` names it in JSON."""

    type = ""
    hf_type = ""
    pattern = ""

    def __init__(self) -> None:
        self.regex = regex.compile(self.pattern)

    def words(self, text: str) -> list[str]:
        """The words of ``text`` (training's fast path)."""
        return self.regex.findall(text)

    def split(self, text: str) -> list[tuple[int, int]]:
        """Character spans of the words of ``text``."""
        return [m.span() for m in self.regex.finditer(text)]

    def to_dict(self) -> dict:
        return {"type": self.type}

    def to_hf(self) -> dict:
        return {"type": self.hf_type}

    @classmethod
    def from_dict(cls, d: dict) -> PreTokenizer:
        return cls()

    @classmethod
    def from_hf(cls, d: dict) -> PreTokenizer:
        return cls()


@PRE_TOKENIZERS.register(types=("whitespace",), hf=("WhitespaceSplit",))
class WhitespaceSplit(PreTokenizer):
    """Runs of non-whitespace characters (HF's WhitespaceSplit)."""

    type, hf_type, pattern = "whitespace", "WhitespaceSplit", WHITESPACE_PATTERN


@PRE_TOKENIZERS.register(types=("bert",), hf=("BertPreTokenizer",))
class BertPreTokenizer(PreTokenizer):
    """BERT's: split on whitespace, then each punctuation character (text.BERT_PUNCT) is a word alone."""

    type, hf_type, pattern = "bert", "BertPreTokenizer", BERT_PATTERN


@PRE_TOKENIZERS.register(types=("regex",), hf=("Split",))
class RegexSplit(PreTokenizer):
    """Any pattern: its matches are the words."""

    type, hf_type = "regex", "Split"

    def __init__(self, pattern: str) -> None:
        if not isinstance(pattern, str) or not pattern:
            raise SubtokError("a 'regex' pre-tokenizer needs a pattern")
        try:
            self.regex = regex.compile(pattern)
        except regex.error as e:
            raise SubtokError(f"bad pre-tokenizer pattern {pattern!r}: {e}") from None
        self.pattern = pattern

    def to_dict(self) -> dict:
        return {"type": self.type, "pattern": self.pattern}

    def to_hf(self) -> dict:
        """HF's Split with the words as matches: the pattern's matches kept, the rest removed."""
        return {"type": "Split", "pattern": {"Regex": self.pattern}, "behavior": "Removed", "invert": True}

    @classmethod
    def from_dict(cls, d: dict) -> RegexSplit:
        return cls(d.get("pattern"))

    @classmethod
    def from_hf(cls, d: dict) -> RegexSplit:
        """HF's Split as this class reads it: a regex whose matches are kept (invert, behaviour Removed) or
        isolated (behaviour Isolated; the text between matches is dropped, so the pattern must match every
        character for the two to agree)."""
        pattern = (d.get("pattern") or {}).get("Regex")
        behavior, invert = d.get("behavior"), d.get("invert")
        if pattern is None or not ((behavior == "Removed" and invert) or (behavior == "Isolated" and not invert)):
            raise SubtokError(f"unsupported Split pre-tokenizer {d!r}")
        return cls(pattern)


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


BY_NAME = {cls.type: cls for cls in (GPT2, WhitespaceSplit, BertPreTokenizer)}


def make_pre_tokenizer(spec: Union[str, dict, PreTokenizer]) -> PreTokenizer:
    """A pre-tokenizer from a name ("gpt2", "whitespace", "bert"), a dict, or a PreTokenizer."""
    if isinstance(spec, PreTokenizer):
        return spec
    if isinstance(spec, str):
        if spec not in BY_NAME:
            raise SubtokError(f"unknown pre-tokenizer {spec!r}; choose from {sorted(BY_NAME)} or a dict with a pattern")
        return BY_NAME[spec]()
    return PRE_TOKENIZERS.from_dict(spec)
