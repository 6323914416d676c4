"""Hangul syllables to conjoining jamo and back, losslessly, for jamo-level subwords.

A precomposed syllable (U+AC00..U+D7A3) is its leading consonant L, vowel V and optional trailing
consonant T (Unicode's arithmetic decomposition, chapter 3.12): 한 -> ᄒ ᅡ ᆫ. Composing back turns every
L V (T) run into its syllable, which would also compose conjoining jamo that the original text held
apart (an L followed by a V, or a T after a syllable without one). So that every str comes back as it was,
``decompose`` puts U+034F COMBINING GRAPHEME JOINER (Unicode's character for blocking composition;
``ESCAPE``) before such a V or T, and doubles each U+034F the text held; ``compose`` composes only
adjacent L V (T), then reads a doubled U+034F as one and drops a single one. Every other character passes
through untouched, compatibility jamo (ㄱ, U+3131..) included.
"""

from __future__ import annotations

from collections.abc import Iterator

import regex

SYLLABLE_FIRST, SYLLABLE_LAST = 0xAC00, 0xD7A3
L_FIRST, V_FIRST, T_FIRST = 0x1100, 0x1161, 0x11A7  # T_FIRST + 0 stands for "no trailing consonant"
L_COUNT, V_COUNT, T_COUNT = 19, 21, 28
ESCAPE = "\u034f"

_SYLLABLES = {
    cp: chr(L_FIRST + i // (V_COUNT * T_COUNT))
    + chr(V_FIRST + i // T_COUNT % V_COUNT)
    + (chr(T_FIRST + i % T_COUNT) if i % T_COUNT else "")
    for i, cp in enumerate(range(SYLLABLE_FIRST, SYLLABLE_LAST + 1))
}
# what decompose touches: syllables, the escape, and the composable jamo it may have to escape
TOUCHED = regex.compile("[\uac00-\ud7a3\u034f\u1100-\u1112\u1161-\u1175\u11a8-\u11c2]")
_NEEDS_CONTEXT = regex.compile("[\u034f\u1100-\u1112\u1161-\u1175\u11a8-\u11c2]")
_COMPOSABLE = regex.compile("[\u1100-\u1112][\u1161-\u1175][\u11a8-\u11c2]?|\u034f\u034f?")


def _is_l(ch: str) -> bool:
    return L_FIRST <= ord(ch) < L_FIRST + L_COUNT


def _is_v(ch: str) -> bool:
    return V_FIRST <= ord(ch) < V_FIRST + V_COUNT


def _is_t(ch: str) -> bool:
    return T_FIRST < ord(ch) < T_FIRST + T_COUNT


def decompose_pieces(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, replacement) for each character of ``text`` that ``decompose`` changes, in order."""
    last = ""  # the last two characters written, to tell when an original V or T needs the escape
    pos = 0
    for m in TOUCHED.finditer(text):
        i, ch = m.start(), m.group()
        if i > pos:
            last = (last + text[max(pos, i - 2) : i])[-2:]
        if ch == ESCAPE:
            out = ESCAPE + ESCAPE
        elif SYLLABLE_FIRST <= ord(ch) <= SYLLABLE_LAST:
            out = _SYLLABLES[ord(ch)]
        elif (_is_v(ch) and last[-1:] and _is_l(last[-1])) or (
            _is_t(ch) and len(last) == 2 and _is_l(last[0]) and _is_v(last[1])
        ):
            out = ESCAPE + ch
        else:
            out = ch
        if out != ch:
            yield i, i + 1, out
        last = (last + out)[-2:]
        pos = i + 1


def decompose(text: str) -> str:
    """``text`` with every Hangul syllable as its conjoining jamo (escaped where composing back would
    change the text; see the module's docstring)."""
    if not _NEEDS_CONTEXT.search(text):
        return text.translate(_SYLLABLES)
    parts, pos = [], 0
    for start, end, out in decompose_pieces(text):
        parts += [text[pos:start], out]
        pos = end
    return "".join(parts) + text[pos:]


def _compose_match(m: regex.Match) -> str:
    s = m.group()
    if s[0] == ESCAPE:
        return ESCAPE if len(s) == 2 else ""
    index = (ord(s[0]) - L_FIRST) * V_COUNT + ord(s[1]) - V_FIRST
    trailing = ord(s[2]) - T_FIRST if len(s) == 3 else 0
    return chr(SYLLABLE_FIRST + index * T_COUNT + trailing)


def compose(text: str) -> str:
    """The inverse of ``decompose``: adjacent L V (T) as one syllable, a doubled U+034F as one, a single
    U+034F dropped. ``compose(decompose(s)) == s`` for every str ``s``."""
    return _COMPOSABLE.sub(_compose_match, text)
