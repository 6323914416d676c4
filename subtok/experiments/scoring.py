"""Scoring a tokenized text by words and characters, so that models with different segmentations are
compared on one denominator (Mielke 2019, "Can you compare perplexity across different segmentations?").

The scored text is a list of lines, each a run of words joined by single spaces and ended by a newline.
Every model turns each line into tokens plus one end-of-line token; a token belongs to the word holding
its last character (an empty one, as SentencePiece's dummy prefix, to the word at its place), a space
counting with the word after it (GPT-2-style tokens carry the space before
a word), and the end-of-line token to the line's newline, counted as one more word (as PTB's ``<eos>``). A model's
negative log-likelihood (NLL) of the text is the sum over its tokens, plus, for each unknown token, the
spelling charge of the text it stands for. Then

    word_ppl = exp(total NLL / n_words)        bpc = total NLL / (ln 2 x n_chars)

with n_words and n_chars counted once on the text, for every model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from ..errors import SubtokError


@dataclass
class Layout:
    """Where the words of a text are, the text being "line\\n" for each line: ``word_of_char[p]`` is the
    word that character p belongs to. The space between two words belongs to the word after it (GPT-2's
    tokens carry it there) and each line's newline is a word of its own (``is_eol``)."""

    words: list[str]
    word_of_char: np.ndarray
    is_eol: np.ndarray
    line_starts: np.ndarray
    n_chars: int

    @classmethod
    def of(cls, lines: Sequence[str]) -> Layout:
        words, widths, is_eol, line_starts = [], [], [], []
        pos = 0
        for line in lines:
            line_starts.append(pos)
            for k, word in enumerate(line.split(" ")):
                words.append(word)
                widths.append(len(word) + (k > 0))  # with the space before it
                is_eol.append(False)
            words.append("\n")
            widths.append(1)
            is_eol.append(True)
            pos += len(line) + 1
        word_of_char = np.repeat(np.arange(len(words)), widths)
        return cls(words, word_of_char, np.asarray(is_eol), np.asarray(line_starts, dtype=np.int64), pos)

    @property
    def n_words(self) -> int:
        return len(self.words)


@dataclass
class Segmentation:
    """One model's tokens of a text: ``ids`` (end-of-line tokens included), the word each token belongs
    to, and the unknown tokens with the text each stands for."""

    ids: np.ndarray
    word_of_token: np.ndarray
    unk_positions: np.ndarray
    unk_texts: list[str]


def segment(
    encodings: Sequence, layout: Layout, eol_id: int, unk_id: Optional[int], lines: Sequence[str]
) -> Segmentation:
    """Join per-line encodings (objects with ``ids`` and ``offsets`` in characters of their line) into
    one token stream with an end-of-line token after each line."""
    ids, ends, unk_positions, unk_texts = [], [], [], []
    for enc, line, base in zip(encodings, lines, layout.line_starts.tolist()):
        for i, (start, end) in zip(enc.ids, enc.offsets):
            if i == unk_id:
                unk_positions.append(len(ids))
                unk_texts.append(line[start:end])
            ids.append(i)
            ends.append(base + max(end, start + 1))  # an empty token (a dummy prefix) goes with what follows
        ids.append(eol_id)
        ends.append(base + len(line) + 1)  # the newline
    word_of_token = layout.word_of_char[np.asarray(ends, dtype=np.int64) - 1]  # where its last character is
    return Segmentation(
        np.asarray(ids, dtype=np.int64), word_of_token, np.asarray(unk_positions, dtype=np.int64), unk_texts
    )


def word_nll(
    token_nll: np.ndarray, seg: Segmentation, layout: Layout, spelling_log_prob: Optional[Callable[[str], float]]
) -> np.ndarray:
    """The NLL of every word (end-of-line words included): the sum over its tokens, plus the spelling
    charge -log p_spell(text) for each unknown token in it."""
    out = np.bincount(seg.word_of_token, weights=token_nll, minlength=layout.n_words)
    if len(seg.unk_positions):
        if spelling_log_prob is None:
            raise SubtokError("a model that emits unknown tokens needs a spelling model")
        charge = np.array([-spelling_log_prob(t) for t in seg.unk_texts])
        np.add.at(out, seg.word_of_token[seg.unk_positions], charge)
    return out


def word_ppl(total_nll: float, n_words: int) -> float:
    """Per-word perplexity: exp of the mean NLL per word (natural log)."""
    return math.exp(total_nll / n_words)


def bits_per_char(total_nll: float, n_chars: int) -> float:
    """Bits per character: the total NLL in bits over the characters."""
    return total_nll / (math.log(2) * n_chars)
