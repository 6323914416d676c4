"""Special tokens in text: matched before any other stage, longest first, and never split.

A special token such as ``<eos>`` or ``[CLS]`` spelled in the input is that token (as HF tokenizers does);
the text between special tokens goes through the normalizers, the pre-tokenizer and the model. Where
several tokens match at one position, the longest wins; among tokens of one length, the first listed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Optional

import regex

from .errors import SubtokError


def longest_first(tokens: Sequence[str]) -> list[str]:
    """``tokens`` without repeats, longest first (ties keep their order): the order special tokens are tried in."""
    return sorted(dict.fromkeys(tokens), key=len, reverse=True)


def alternation(tokens: Sequence[str]) -> Optional[regex.Pattern]:
    """A regex matching any of ``tokens`` literally, tried in the order given (the leftmost match, then the
    first listed); None for no tokens. The pure-Python cores take their special tokens in this form."""
    return regex.compile("|".join(regex.escape(t) for t in tokens)) if tokens else None


class SpecialTokens:
    """A tokenizer's special tokens with their ids: where they are in a text, and the pieces between them."""

    def __init__(self, tokens: Sequence[str], token_to_id: Mapping[str, int]) -> None:
        self.tokens = list(tokens)
        missing = [t for t in self.tokens if t not in token_to_id]
        if missing:
            raise SubtokError(f"special tokens {missing} are not in the model's vocabulary")
        self.by_length = longest_first(self.tokens)
        self.id_of = {t: token_to_id[t] for t in self.tokens}
        self.ids = frozenset(self.id_of.values())
        self.regex = alternation(self.by_length)

    def __len__(self) -> int:
        return len(self.tokens)

    def with_ids(self) -> list[tuple[str, int]]:
        """(token, id) pairs longest first, as the whole-text encoders take them."""
        return [(t, self.id_of[t]) for t in self.by_length]

    def segments(self, text: str) -> list[tuple[int, int, bool]]:
        """(start, end, is_special) pieces that tile ``text``."""
        if self.regex is None:
            return [(0, len(text), False)]
        out, pos = [], 0
        for m in self.regex.finditer(text):
            if m.start() > pos:
                out.append((pos, m.start(), False))
            out.append((m.start(), m.end(), True))
            pos = m.end()
        if pos < len(text):
            out.append((pos, len(text), False))
        return out

    def pieces(self, text: str) -> list[str]:
        """The text between the special tokens (what training counts words in)."""
        return self.regex.split(text) if self.regex is not None else [text]
