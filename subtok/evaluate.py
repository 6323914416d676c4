"""Evaluating word vectors: rank correlation with human similarity judgements (WordSim-353) and analogy
accuracy (Mikolov's questions-words), on numpy alone."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .errors import SubtokError


def ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks with ties given their average rank (as scipy.stats.rankdata)."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="stable")
    sorted_x = x[order]
    starts = np.flatnonzero(np.r_[True, sorted_x[1:] != sorted_x[:-1]])
    ends = np.r_[starts[1:], len(x)]
    average = (starts + ends + 1) / 2.0  # mean of ranks starts+1 .. ends
    out = np.empty(len(x))
    out[order] = np.repeat(average, ends - starts)
    return out


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(x) < 2:
        return float("nan")
    x, y = x - x.mean(), y - y.mean()
    denom = np.sqrt((x * x).sum() * (y * y).sum())
    return float((x * y).sum() / denom) if denom else float("nan")


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    return pearson(ranks(x), ranks(y))


def read_word_pairs(path) -> list[tuple[str, str, float]]:
    """(word, word, score) from a WordSim-353-style file: tab-separated, "#" lines are comments."""
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        try:
            out.append((parts[0], parts[1], float(parts[2])))
        except (IndexError, ValueError):
            raise SubtokError(f"{path}, line {n}: expected word<TAB>word<TAB>score: {line[:60]!r}") from None
    return out


def read_analogies(path) -> list[tuple[str, list[tuple[str, str, str, str]]]]:
    """Sections of a questions-words file: [(": section name", [(a, b, c, d), ...]), ...]."""
    sections: list[tuple[str, list]] = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith(":"):
            sections.append((line[1:].strip(), []))
        elif line.strip():
            words = line.split()
            if len(words) != 4 or not sections:
                raise SubtokError(f"{path}, line {n}: expected four words after a ': section' line")
            sections[-1][1].append(tuple(words))
    return sections
