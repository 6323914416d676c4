"""A tokenizer's segmentation of a text, drawn: in a terminal (alternating background colours, or plain
text with ``|`` between tokens when the output is not a terminal) and in HTML (alternating colours), with
unknown tokens and, when a vocabulary of seen words is given, words never seen in training marked.

The text drawn is always the original text: each token covers the characters up to the end of its
offsets, so tokens that share a character (bytes or jamo of one character) are drawn as one segment that
lists them all.
"""

from __future__ import annotations

import html
from collections.abc import Container, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from .tokenizer import Tokenizer


@dataclass
class Segment:
    """Characters ``text`` of the original text (from ``start``), the tokens drawn on them, whether one of
    them is the unknown token, and whether they lie in a word never seen in training."""

    start: int
    text: str
    tokens: list[str]
    unknown: bool = False
    unseen: bool = False


def segments(tok: Tokenizer, text: str, seen_words: Optional[Container[str]] = None) -> list[Segment]:
    """``text`` cut where ``tok``'s tokens end (special tokens of the pipeline left out). With
    ``seen_words``, a segment inside a whitespace-separated word not in it is marked ``unseen``."""
    enc = tok.encode(text, add_special_tokens=False)
    unk_id = unknown_id(tok)
    out: list[Segment] = []
    pending: list[str] = []
    pending_unk = False
    pos = 0
    for token, token_id, (start, end) in zip(enc.tokens, enc.ids, enc.offsets):
        pending.append(token)
        pending_unk = pending_unk or token_id == unk_id
        if end > pos:
            if start > pos and len(pending) == 1:
                out.append(Segment(pos, text[pos:start], []))  # characters between tokens (spaces)
                pos = start
            out.append(Segment(pos, text[pos:end], pending, pending_unk))
            pending, pending_unk, pos = [], False, end
    if pending and out:
        out[-1].tokens += pending
        out[-1].unknown = out[-1].unknown or pending_unk
    if pos < len(text):  # characters no token covers (removed by a normalizer)
        out.append(Segment(pos, text[pos:], []))
    if seen_words is not None:
        unseen = _unseen_chars(text, seen_words)
        for seg in out:
            seg.unseen = any(unseen[seg.start : seg.start + len(seg.text)])
    return out


def unknown_id(tok: Tokenizer) -> Optional[int]:
    """The id of ``tok``'s unknown token, or None when its model has none."""
    model = tok.model
    if hasattr(model, "unk_id"):
        return model.unk_id
    unk = getattr(model, "unk_token", None)
    return tok.token_to_id(unk) if unk else None


def _unseen_chars(text: str, seen_words: Container[str]) -> list[bool]:
    flags = [False] * len(text)
    pos = 0
    for word in text.split(" "):
        if word and word not in seen_words:
            flags[pos : pos + len(word)] = [True] * len(word)
        pos += len(word) + 1
    return flags


# ---------------------------------------------------------------------------------------------------------
# Terminal
# ---------------------------------------------------------------------------------------------------------
_BACKGROUNDS = ("\x1b[48;5;153m\x1b[30m", "\x1b[48;5;223m\x1b[30m")  # light blue, light orange; black text
_UNKNOWN = "\x1b[41m\x1b[97m"  # white on red
_UNSEEN = "\x1b[4m"  # underlined
_RESET = "\x1b[0m"


def to_terminal(segs: Sequence[Segment], color: bool) -> str:
    """One line: coloured tokens (``color``), else the text with ``|`` between adjacent tokens and each
    unknown one as ``<unk:text>``; characters between tokens (spaces a word-level model drops) as they are."""
    parts = []
    k = 0  # token segments so far: the colours alternate over them, not over the gaps between
    after_token = False
    for s in segs:
        if not s.tokens:
            parts.append(s.text)
        elif color:
            style = _UNKNOWN if s.unknown else _BACKGROUNDS[k % 2]
            parts.append(f"{style}{_UNSEEN if s.unseen else ''}{s.text}{_RESET}")
        else:
            parts.append(("|" if after_token else "") + (f"<unk:{s.text}>" if s.unknown else s.text))
        k += bool(s.tokens)
        after_token = bool(s.tokens)
    return "".join(parts)


# ---------------------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------------------
STYLE = """
.seg { font-family: ui-monospace, Menlo, Consolas, "Noto Sans Mono CJK KR", "Noto Sans CJK KR", "Malgun Gothic",
  "Apple SD Gothic Neo", monospace; white-space: pre-wrap; line-height: 1.9; }
.seg span { padding: 1px 0; border-radius: 2px; }
.seg .a { background: #cfe3ff; } .seg .b { background: #ffe0b8; }
.seg .unk { background: #d62728; color: #fff; box-shadow: inset -2px 0 #fff; }
.seg .unseen { text-decoration: underline wavy #7b1fa2; text-underline-offset: 4px; }
.legend span { padding: 0 4px; }
"""


def to_html(segs: Sequence[Segment]) -> str:
    """The segments as one ``<div class="seg">``, each a span (classes a/b alternating, unk, unseen) whose
    title lists its tokens."""
    spans = []
    k = 0
    for s in segs:
        if not s.tokens:
            spans.append(html.escape(s.text))
            continue
        classes = ["unk" if s.unknown else "ab"[k % 2]] + (["unseen"] if s.unseen else [])
        title = html.escape(" ".join(s.tokens), quote=True)
        spans.append(f'<span class="{" ".join(classes)}" title="{title}">{html.escape(s.text)}</span>')
        k += 1
    return f'<div class="seg">{"".join(spans)}</div>'


LEGEND = (
    '<p class="legend seg">tokens: <span class="a">one</span><span class="b">next</span> '
    '<span class="unk">unknown</span> <span class="a unseen">word never seen in training</span> '
    "(hover a token to see its pieces)</p>"
)


def page(title: str, body: str) -> str:
    """A self-contained HTML page (no external resource)."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}{PAGE_STYLE}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


PAGE_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1250px; padding: 0 1em; color: #222; }
.wide { overflow-x: auto; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: 0.92em; }
th, td { padding: 3px 9px; border-bottom: 1px solid #ddd; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
td.label { color: #555; text-align: left; padding-right: 1em; white-space: nowrap; vertical-align: top; }
img { max-width: 100%; }
.note { color: #555; font-size: 0.92em; }
"""


def segmentation_page(rows: Sequence[tuple[str, Sequence[Segment]]]) -> str:
    """A page with one segmentation per row (label, segments), for ``subtok show --html``."""
    body = "<h1>Segmentation</h1>\n" + LEGEND + "\n<table>\n"
    body += "".join(f'<tr><td class="label">{html.escape(label)}</td><td>{to_html(s)}</td></tr>\n' for label, s in rows)
    return page("subtok show", body + "</table>")
