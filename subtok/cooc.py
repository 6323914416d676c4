"""Count-based word vectors (the book's chapter 2), sparse: co-occurrence counts, PPMI, truncated SVD,
cosine similarity, nearest words and analogies.

Everything works on ids from any tokenizer (words from ``preprocess`` or a word-level Tokenizer, or
subword ids) and on the nonzeros only, so a vocabulary of 100,000 fits in memory. ``subtok.book`` has the
book's own function names on top of these.
"""

from __future__ import annotations

from typing import Optional, Union

import numpy as np

from .errors import SubtokError
from .sparse import CSR, group_by_row
from .vectors import KeyedVectors, cos_similarity
from .vocab import Vocab

__all__ = ["analogy", "co_matrix", "cos_similarity", "most_similar", "ppmi", "svd"]


def _check_ids(ids, vocab_size: int) -> np.ndarray:
    ids = np.asarray(ids)
    if ids.ndim != 1 or (ids.size and not np.issubdtype(ids.dtype, np.integer)):
        raise SubtokError(f"ids must be a 1-D array of integers, not shape {ids.shape} of {ids.dtype}")
    ids = ids.astype(np.int64, copy=False)
    if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
        bad = int(ids[(ids < 0) | (ids >= vocab_size)][0])
        raise SubtokError(f"id {bad} is outside the vocabulary of size {vocab_size}")
    return ids


def co_matrix(
    ids,
    vocab_size: int,
    window_size: int = 1,
    weighting: Optional[str] = None,
    segments=None,
    direction: str = "both",
) -> CSR:
    """Co-occurrence counts: C[w, c] = how often c occurs within ``window_size`` tokens of w.

    Counted with array operations, one pass per distance. ``weighting="harmonic"`` counts a pair at
    distance d as 1/d (as GloVe). ``segments`` (one label per token, e.g. sentence or document numbers)
    keeps windows inside a segment. ``direction``: "both" (symmetric, the default), "left" or "right".
    With the defaults it equals the book's ``create_co_matrix`` exactly.
    """
    ids = _check_ids(ids, vocab_size)
    if not isinstance(window_size, (int, np.integer)) or window_size < 1:
        raise SubtokError(f"window_size must be a positive integer, not {window_size!r}")
    if weighting not in (None, "harmonic"):
        raise SubtokError(f"weighting must be None or 'harmonic', not {weighting!r}")
    if direction not in ("both", "left", "right"):
        raise SubtokError(f"direction must be 'both', 'left' or 'right', not {direction!r}")
    if segments is not None:
        segments = np.asarray(segments)
        if segments.shape != ids.shape:
            raise SubtokError(f"segments has shape {segments.shape}; ids have {ids.shape}")
    rows, cols, vals = [], [], []
    for d in range(1, window_size + 1):
        if d >= len(ids):
            break
        left, right = ids[:-d], ids[d:]
        if segments is not None:
            same = segments[:-d] == segments[d:]
            left, right = left[same], right[same]
        pairs = {"right": [(left, right)], "left": [(right, left)], "both": [(left, right), (right, left)]}
        for w, c in pairs[direction]:  # (word, its context at distance d)
            rows.append(w)
            cols.append(c)
            vals.append(np.full(len(w), 1.0 / d if weighting == "harmonic" else 1.0))
    n = vocab_size
    if not rows or not any(len(w) for w in rows):
        return CSR(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(n + 1, np.int64), (n, n))
    if weighting is None:  # every pair counts 1: sort the cell keys and count runs, no values to carry
        keys = np.empty(sum(len(w) for w in rows), dtype=np.int64)
        pos = 0
        for w, c in zip(rows, cols):  # key = w * n + c, written in place: no per-distance temporaries
            part = keys[pos : pos + len(w)]
            np.multiply(w, n, out=part)
            part += c
            pos += len(w)
        keys.sort()
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        counts = np.diff(np.r_[starts, len(keys)])
        r, c = np.divmod(keys[starts], n)
        return CSR(counts, c, group_by_row(r, n), (n, n))
    return CSR.from_coo(np.concatenate(rows), np.concatenate(cols), np.concatenate(vals), (n, n))


def ppmi(C: Union[CSR, np.ndarray], eps: float = 1e-8, alpha: float = 1.0, shift: float = 1.0) -> CSR:
    """Positive pointwise mutual information of a co-occurrence matrix, on its nonzeros only (the PPMI of a
    zero count is zero): max(0, log2(C[w,c] N / (rows[w] cols[c]) + eps) - log2(shift)).

    ``alpha`` < 1 smooths the context distribution (cols[c] ** alpha, rescaled to the same total; Levy et
    al. 2015 use 0.75); ``shift`` = k gives shifted PPMI (log k subtracted, as word2vec with k negative
    samples). With the defaults it equals the book's ``ppmi`` on a symmetric matrix, in float32.
    """
    if not isinstance(C, CSR):
        C = CSR.from_dense(np.asarray(C))
    if C.shape[0] != C.shape[1]:
        raise SubtokError(f"a co-occurrence matrix is square, not {C.shape}")
    if shift <= 0:
        raise SubtokError(f"shift must be positive, not {shift}")
    total = C.sum()
    rows = C.row_sums()
    cols = C.col_sums()
    if alpha != 1.0:
        smoothed = cols**alpha
        cols = smoothed * (cols.sum() / smoothed.sum()) if smoothed.sum() else smoothed
    r = C.row_indices()
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = np.log2(C.data * total / (cols[C.indices] * rows[r]) + eps) - np.log2(shift)
    values = np.maximum(pmi, 0).astype(np.float32)
    keep = values > 0
    kept = CSR.from_coo(r[keep], C.indices[keep], values[keep], C.shape)
    return kept


def _orthonormal(Y: np.ndarray) -> np.ndarray:
    """An orthonormal basis of Y's columns by Cholesky QR, twice (CholQR2: cheap for tall, thin Y and as
    accurate as Householder QR once repeated); Householder QR when Y is too ill-conditioned for it."""
    try:
        for _ in range(2):
            L = np.linalg.cholesky(Y.T @ Y)
            Y = Y @ np.linalg.inv(L).T
        return Y
    except np.linalg.LinAlgError:
        return np.linalg.qr(Y)[0]


def svd(
    M: Union[CSR, np.ndarray],
    k: int = 100,
    seed: int = 0,
    n_iter: int = 5,
    oversample: int = 10,
    return_components: bool = False,
):
    """Truncated SVD by randomized range finding (Halko, Martinsson and Tropp 2011): M ~ U S Vt.

    Returns U (rows x k), the word vectors, as the book uses them; with ``return_components``,
    (U, S, Vt). Deterministic for a seed: the random test matrix comes from it and each singular vector's
    sign is fixed (its largest entry in U positive).
    """
    if not isinstance(M, CSR):
        M = np.asarray(M, dtype=np.float64)
    n_rows, n_cols = M.shape
    if not isinstance(k, (int, np.integer)) or k < 1 or k > min(n_rows, n_cols):
        raise SubtokError(f"k must be between 1 and {min(n_rows, n_cols)} for a {n_rows} x {n_cols} matrix, not {k}")
    rng = np.random.default_rng(seed)
    width = min(k + oversample, min(n_rows, n_cols))
    Mt = M.T
    Q = _orthonormal(M @ rng.standard_normal((n_cols, width)))
    for _ in range(n_iter):  # power iterations sharpen the spectrum
        Q = _orthonormal(Mt @ Q)
        Q = _orthonormal(M @ Q)
    Q = np.linalg.qr(Q)[0]
    B = (Mt @ Q).T  # (width, n_cols) = Q^T M
    Ub, S, Vt = np.linalg.svd(B, full_matrices=False)
    U = Q @ Ub[:, :k]
    S, Vt = S[:k], Vt[:k]
    flip = np.sign(U[np.argmax(np.abs(U), axis=0), np.arange(k)])
    flip[flip == 0] = 1
    U, Vt = U * flip, Vt * flip[:, None]
    return (U, S, Vt) if return_components else U


# ---------------------------------------------------------------------------------------------------------
# Similarity (the book's signatures, over subtok.vectors.KeyedVectors)
# ---------------------------------------------------------------------------------------------------------
def most_similar(word: str, vocab: Vocab, W: np.ndarray, top: int = 5) -> list[tuple[str, float]]:
    """The ``top`` words whose vectors have the highest cosine similarity to ``word``'s (itself excluded);
    ties by the smaller id."""
    return KeyedVectors(W, vocab).most_similar(word, topn=top)


def analogy(a: str, b: str, c: str, vocab: Vocab, W: np.ndarray, top: int = 5) -> list[tuple[str, float]]:
    """a : b = c : ?, the words closest (cosine) to b - a + c, a, b and c excluded (3CosAdd)."""
    return KeyedVectors(W, vocab).analogy(a, b, c, top=top)
