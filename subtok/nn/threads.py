"""The BLAS thread count behind numpy's matrix products, pinned while a model trains.

Why: a BLAS library splits a matrix product over threads in blocks whose partial sums it adds in an order
that depends on the thread count, so the same training gives other figures with 1 and 2 threads (and
OpenBLAS's threads cost more than they give on the small matrices of these LMs). ``pinned_blas_threads``
sets the count for the libraries numpy loaded (threadpoolctl finds them) and restores the previous
count afterwards; ``blas_description`` says what ran, for a report.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Optional

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from ..errors import SubtokError

DEFAULT_BLAS_THREADS = 1


def check_blas_threads(n: Optional[int]) -> None:
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise SubtokError(f"blas_threads must be None or a whole number of at least 1, not {n!r}")


@contextlib.contextmanager
def pinned_blas_threads(n: Optional[int]) -> Iterator[None]:
    """Run the block with ``n`` BLAS threads (None: leave the count as it is), then restore the count."""
    check_blas_threads(n)
    if n is None:
        yield
        return
    with threadpool_limits(limits=n, user_api="blas"):
        yield


def blas_description() -> dict:
    """numpy's version and, for each BLAS library loaded, its name, version, CPU kernels and threads now."""
    libraries = [
        {
            "library": info.get("internal_api"),
            "version": info.get("version"),
            "architecture": info.get("architecture"),
            "threading_layer": info.get("threading_layer"),
            "num_threads": info.get("num_threads"),
        }
        for info in threadpool_info()
        if info.get("user_api") == "blas"
    ]
    return {"numpy": np.__version__, "blas": libraries}
