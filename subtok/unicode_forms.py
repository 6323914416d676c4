"""Unicode normalization forms (NFC, NFD, NFKC, NFKD) that say where each output character came from.

The text is what ``unicodedata.normalize`` gives with Unicode 9.0's data, which HF tokenizers' tables hold:
a character Unicode 9.0 had not assigned is left as it is (class 0, no decomposition, no composition), so
text with newer characters normalizes as HF normalizes it. Besides the text, each output character carries a change, as
HF tokenizers' alignment-keeping fork of the unicode-normalization crate reports it, so that offsets after
normalization equal HF's: the first character of a decomposition replaces its source (0), the others are
inserted (+1); combining marks are then put in canonical order, their changes travelling with them; a
composition of n characters replaces the first and removes n - 1 (a change of -(n - 1) in total).
``Normalized.transform`` turns the changes into spans of the original text.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Optional

import regex

from . import _unicode_data
from .text import Change, assigned_v9, ranges_class

# Hangul syllables: composed and decomposed by arithmetic, not by table
S_BASE, L_BASE, V_BASE, T_BASE = 0xAC00, 0x1100, 0x1161, 0x11A7
L_COUNT, V_COUNT, T_COUNT = 19, 21, 28
N_COUNT = V_COUNT * T_COUNT
S_COUNT = L_COUNT * N_COUNT


@lru_cache(maxsize=65536)
def decomposition(ch: str, compatibility: bool = False) -> str:
    """The full (canonical or compatibility) decomposition of one character, by Unicode 9.0's data."""
    if ch <= "\x7f" or not assigned_v9(ch):
        return ch
    return unicodedata.normalize("NFKD" if compatibility else "NFD", ch)


def _combining(ch: str) -> int:
    """Canonical combining class, 0 for a character Unicode 9.0 had not assigned."""
    return unicodedata.combining(ch) if assigned_v9(ch) else 0


@lru_cache(maxsize=1)
def _composition_table() -> dict[tuple[str, str], str]:
    """Primary composites: (a, b) -> c for each c whose canonical mapping is the pair <a, b> and that
    composition recreates (the composition exclusions never come back from NFC), by Unicode 9.0."""
    triples = _unicode_data.COMPOSITIONS
    return {(chr(a), chr(b)): chr(c) for a, b, c in zip(triples[0::3], triples[1::3], triples[2::3])}


def _compose(a: str, b: str) -> Optional[str]:
    sa, sb = ord(a), ord(b)
    if L_BASE <= sa < L_BASE + L_COUNT and V_BASE <= sb < V_BASE + V_COUNT:
        return chr(S_BASE + ((sa - L_BASE) * V_COUNT + (sb - V_BASE)) * T_COUNT)
    if S_BASE <= sa < S_BASE + S_COUNT and (sa - S_BASE) % T_COUNT == 0 and T_BASE < sb < T_BASE + T_COUNT:
        return chr(sa + (sb - T_BASE))
    return _composition_table().get((a, b))


def decompose(text: str, compatibility: bool) -> list[Change]:
    """NFD (NFKD with ``compatibility``) of ``text`` with each character's change."""
    out: list[Change] = []
    pending: list[tuple[int, str, int]] = []  # (combining class, char, change) since the last starter
    for ch in text:
        for k, d in enumerate(decomposition(ch, compatibility)):
            ccc = _combining(d)
            if ccc == 0:  # a starter: the marks before it are complete, put them in canonical order
                pending.sort(key=lambda item: item[0])
                out.extend((c, change) for _, c, change in pending)
                pending.clear()
            pending.append((ccc, d, 0 if k == 0 else 1))
    pending.sort(key=lambda item: item[0])
    out.extend((c, change) for _, c, change in pending)
    return out


def compose(decomposed: list[Change]) -> list[Change]:
    """Canonical composition of a decomposed sequence, carrying the changes (the crate's state machine:
    a starter absorbs each following mark it composes with, unless a mark of the same or higher class
    stands between them)."""
    out: list[Change] = []
    composee: Optional[Change] = None
    last_class: Optional[int] = None
    held: list[Change] = []  # marks that did not compose, waiting behind the composee
    for ch, change in decomposed:
        ccc = _combining(ch)
        if composee is None:
            if ccc != 0:
                out.append((ch, change))
            else:
                composee = (ch, change)
            continue
        if last_class is not None and last_class >= ccc:  # blocked
            if ccc == 0:
                out.append(composee)
                out.extend(held)
                held.clear()
                composee, last_class = (ch, change), None
            else:
                held.append((ch, change))
                last_class = ccc
            continue
        composed = _compose(composee[0], ch)
        if composed is not None:
            composee = (composed, composee[1] + change - 1)
        elif ccc == 0 and last_class is None:
            out.append(composee)
            composee = (ch, change)
        else:
            held.append((ch, change))
            last_class = ccc
    if composee is not None:
        out.append(composee)
    out.extend(held)
    return out


@lru_cache(maxsize=4)
def _segments(form: str) -> regex.Pattern:
    """A character that starts a segment (any, or none at the text's start) and the run after it of
    characters the form may change or join to the one before them (``_unicode_data.INSIDE_<form>``):
    text outside such matches is left alone by the form."""
    return regex.compile(rf"(?s:.?{ranges_class(getattr(_unicode_data, 'INSIDE_' + form))}+)")


def normalize_edits(form: str, text: str) -> list[tuple[int, int, list[Change]]]:
    """``text`` in normalization ``form``, as the segments that change: (start, end, the segment's
    characters with their changes). Normalization is local: the rest of the text stays as it is."""
    edits = []
    for m in _segments(form).finditer(text):
        segment = m.group()
        if unicodedata.is_normalized(form, segment):  # by this Python's data; only its first character
            continue  # can be newer than Unicode 9.0, which would count it a starter: normalized too
        changes = (_segment_changes if len(segment) <= 64 else _segment_changes.__wrapped__)(form, segment)
        if changes is not None:
            edits.append((m.start(), m.end(), changes))
    return edits


@lru_cache(maxsize=4096)
def _segment_changes(form: str, segment: str) -> Optional[list[Change]]:
    """A segment's characters in ``form`` with their changes, or None where the form leaves it as it is
    (short ones cached: text repeats its clusters of marks, and the tables are walked in Python)."""
    decomposed = decompose(segment, form in ("NFKC", "NFKD"))
    changes = compose(decomposed) if form in ("NFC", "NFKC") else decomposed
    return changes if "".join(c for c, _ in changes) != segment else None
