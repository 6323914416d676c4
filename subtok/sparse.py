"""A small sparse-matrix toolkit on numpy: a CSR type and ``nonzero``-style helpers.

Co-occurrence and PPMI matrices over a vocabulary of V words have V^2 cells but few nonzeros; holding
them densely costs V^2 floats (400 MB at V = 10,000, 40 GB at 100,000). Everything here works on the
nonzeros only and needs nothing beyond numpy (``to_scipy`` converts when scipy is installed).
"""

from __future__ import annotations

import os
from typing import Optional, Union

import numpy as np

from . import _backend
from .errors import SubtokError

# the reference product works this many nonzeros at a time, bounding its temporary memory
_CHUNK_NNZ = 1 << 16


class CSR:
    """A compressed sparse row matrix: row i holds ``indices[indptr[i]:indptr[i+1]]`` (sorted column
    indices, no duplicates) with values ``data[...]``."""

    def __init__(self, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, shape: tuple[int, int]) -> None:
        self.data = np.asarray(data)
        self.indices = np.asarray(indices, dtype=np.int64)
        self.indptr = np.asarray(indptr, dtype=np.int64)
        self.shape = (int(shape[0]), int(shape[1]))
        if len(self.indptr) != self.shape[0] + 1 or len(self.indices) != len(self.data):
            raise SubtokError(f"inconsistent CSR arrays for shape {self.shape}")

    # -- building -------------------------------------------------------------------------------------
    @classmethod
    def from_coo(cls, rows: np.ndarray, cols: np.ndarray, values: np.ndarray, shape: tuple[int, int]) -> CSR:
        """From (row, col, value) triples; duplicate cells are summed."""
        rows = np.asarray(rows, dtype=np.int64)
        cols = np.asarray(cols, dtype=np.int64)
        values = np.asarray(values)
        n_rows, n_cols = shape
        if len(rows) and (rows.min() < 0 or rows.max() >= n_rows or cols.min() < 0 or cols.max() >= n_cols):
            raise SubtokError(f"a (row, col) pair lies outside the shape {shape}")
        keys = rows * n_cols + cols
        order = np.argsort(keys, kind="stable")
        keys, values = keys[order], values[order]
        if len(keys):
            starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
            values = np.add.reduceat(values, starts)
            keys = keys[starts]
        r, c = np.divmod(keys, n_cols)
        indptr = np.zeros(n_rows + 1, dtype=np.int64)
        np.cumsum(np.bincount(r, minlength=n_rows), out=indptr[1:])
        return cls(values, c, indptr, shape)

    @classmethod
    def from_dense(cls, a: np.ndarray) -> CSR:
        a = np.asarray(a)
        rows, cols = np.nonzero(a)
        return cls.from_coo(rows, cols, a[rows, cols], a.shape)

    # -- views ----------------------------------------------------------------------------------------
    @property
    def nnz(self) -> int:
        return len(self.data)

    @property
    def dtype(self):
        return self.data.dtype

    def __repr__(self) -> str:
        return f"CSR(shape={self.shape}, nnz={self.nnz}, dtype={self.dtype})"

    def row_indices(self) -> np.ndarray:
        """The row of each stored value (the COO row array)."""
        return np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))

    def tocoo(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.row_indices(), self.indices.copy(), self.data.copy()

    def toarray(self) -> np.ndarray:
        out = np.zeros(self.shape, dtype=self.data.dtype)
        out[self.row_indices(), self.indices] = self.data
        return out

    def __getitem__(self, key: Union[int, slice]) -> CSR:
        """Rows: ``M[i]`` (a 1-row matrix) or ``M[a:b]``."""
        if isinstance(key, (int, np.integer)):
            i = int(key) + (self.shape[0] if key < 0 else 0)
            if not 0 <= i < self.shape[0]:
                raise IndexError(f"row {key} outside {self.shape[0]} rows")
            key = slice(i, i + 1)
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise SubtokError("CSR rows are taken by an int or a contiguous slice")
        start, stop, _ = key.indices(self.shape[0])
        stop = max(stop, start)
        lo, hi = self.indptr[start], self.indptr[stop]
        return CSR(
            self.data[lo:hi], self.indices[lo:hi], self.indptr[start : stop + 1] - lo, (stop - start, self.shape[1])
        )

    def row_sums(self) -> np.ndarray:
        return np.bincount(self.row_indices(), weights=self.data, minlength=self.shape[0])

    def col_sums(self) -> np.ndarray:
        return np.bincount(self.indices, weights=self.data, minlength=self.shape[1])

    def sum(self) -> float:
        return float(self.data.sum(dtype=np.float64))

    # -- arithmetic -----------------------------------------------------------------------------------
    @property
    def T(self) -> CSR:
        return self.transpose()

    def transpose(self) -> CSR:
        order = np.argsort(self.indices, kind="stable")  # rows stay sorted within each new row
        indptr = np.zeros(self.shape[1] + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.indices, minlength=self.shape[1]), out=indptr[1:])
        return CSR(self.data[order], self.row_indices()[order], indptr, (self.shape[1], self.shape[0]))

    def __matmul__(self, other: np.ndarray) -> np.ndarray:
        return self.dot(other)

    def dot(self, x: np.ndarray) -> np.ndarray:
        """This matrix times a dense vector or matrix (float64), in the native core when it is built."""
        x = np.asarray(x)
        if x.shape[0] != self.shape[1]:
            raise SubtokError(f"cannot multiply a {self.shape} matrix by one of shape {x.shape}")
        vector = x.ndim == 1
        x2 = np.ascontiguousarray(x[:, None] if vector else x, dtype=np.float64)
        out = np.empty((self.shape[0], x2.shape[1]), dtype=np.float64)
        data = np.ascontiguousarray(self.data, dtype=np.float64)
        _backend.pick(csr_dot)(self.indptr, self.indices, data, x2, out, os.cpu_count() or 1)
        return out[:, 0] if vector else out

    def to_scipy(self):
        """A ``scipy.sparse.csr_matrix`` of this matrix (needs scipy)."""
        try:
            from scipy.sparse import csr_matrix
        except ImportError:
            raise SubtokError("to_scipy needs scipy: pip install scipy") from None
        return csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)


def csr_dot(
    indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, x: np.ndarray, out: np.ndarray, num_threads: int = 1
) -> None:
    """out = M @ x for M = (data, indices, indptr): the reference for the native kernel (which splits the
    rows over ``num_threads`` threads). Works a chunk of rows at a time so the (nonzeros x columns)
    temporary stays bounded."""
    out[:] = 0
    n_rows = len(indptr) - 1
    row = 0
    while row < n_rows:
        end = int(np.searchsorted(indptr, indptr[row] + _CHUNK_NNZ, side="right")) - 1
        end = min(max(end, row + 1), n_rows)
        lo, hi = indptr[row], indptr[end]
        if hi > lo:
            products = data[lo:hi, None] * x[indices[lo:hi]]
            nonempty = np.diff(indptr[row : end + 1]) > 0
            out[row:end][nonempty] = np.add.reduceat(products, (indptr[row:end] - lo)[nonempty], axis=0)
        row = end


# ---------------------------------------------------------------------------------------------------------
# nonzero-style helpers
# ---------------------------------------------------------------------------------------------------------
def nonzero(m: Union[CSR, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of the nonzero entries, row-major, like ``np.nonzero`` of a 2-D array."""
    if isinstance(m, CSR):
        keep = m.data != 0
        return m.row_indices()[keep], m.indices[keep]
    return np.nonzero(np.asarray(m))


def group_by_row(rows: np.ndarray, n_rows: int) -> np.ndarray:
    """For row indices sorted ascending, the ``indptr`` whose row i spans ``indptr[i]:indptr[i+1]``."""
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(np.asarray(rows, dtype=np.int64), minlength=n_rows), out=indptr[1:])
    return indptr


def top_k(scores: np.ndarray, k: int, exclude: Optional[np.ndarray] = None) -> np.ndarray:
    """Indices of the k largest scores, largest first; ties by the smaller index. Rows of a 2-D array are
    handled independently (one row of indices each). ``exclude`` indices are never chosen."""
    scores = np.array(scores, dtype=np.float64, copy=True)
    one = scores.ndim == 1
    s = scores[None, :] if one else scores
    if exclude is not None and len(exclude):
        s[:, np.asarray(exclude)] = -np.inf
    k = max(min(k, s.shape[1]), 0)
    order = np.argsort(-s, axis=1, kind="stable")[:, :k]  # stable: equal scores keep index order
    return order[0] if one else order


def top_k_per_row(m: CSR, k: int) -> tuple[np.ndarray, np.ndarray]:
    """For each row of a sparse matrix, its k largest stored values: (columns, values), each of shape
    (rows, k), padded with -1 and 0 where a row has fewer entries. Ties by the smaller column."""
    n = m.shape[0]
    cols = np.full((n, k), -1, dtype=np.int64)
    vals = np.zeros((n, k), dtype=m.data.dtype)
    rows = m.row_indices()
    order = np.lexsort((m.indices, -m.data, rows))  # by row, then value descending, then column
    rank = np.arange(len(order)) - m.indptr[rows[order]]
    keep = rank < k
    cols[rows[order][keep], rank[keep]] = m.indices[order][keep]
    vals[rows[order][keep], rank[keep]] = m.data[order][keep]
    return cols, vals
