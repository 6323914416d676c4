"""The array module a model runs on: numpy, or cupy on an NVIDIA GPU. Chosen per model (``backend=``),
never by a global flag; layers find it from their own arrays."""

from __future__ import annotations

import numpy as np

from ..errors import SubtokError
from .layers import scatter_add


def get_xp(name: str):
    if name == "numpy":
        return np
    if name == "cupy":
        try:
            import cupy
        except ImportError:
            raise SubtokError("backend='cupy' needs CuPy and an NVIDIA GPU: pip install cupy-cuda12x") from None
        return cupy
    raise SubtokError(f"backend must be 'numpy' or 'cupy', not {name!r}")


def xp_of(a):
    """numpy or cupy, whichever ``a`` belongs to."""
    if type(a).__module__.startswith("cupy"):
        import cupy

        return cupy
    return np


def to_numpy(a) -> np.ndarray:
    return a.get() if type(a).__module__.startswith("cupy") else np.asarray(a)


def index_add(target, index, values) -> None:
    """target[index[i]] += values[i], repeated indices accumulating, on either array module."""
    if xp_of(target) is np:
        scatter_add(target, index, values)
    else:
        import cupyx

        cupyx.scatter_add(target, index.ravel(), values.reshape(index.size, *target.shape[1:]))
