"""Picks the implementation of the hot loops: the compiled ``subtok._native`` when it is built and
allowed, else the pure-Python reference in ``subtok.models.bpe_core``. ``SUBTOK_NO_NATIVE=1`` forces
pure Python. Both give identical output; the tests and benchmarks switch with :func:`use`."""

from __future__ import annotations

import os

from .models import bpe_core

_native = None
if os.environ.get("SUBTOK_NO_NATIVE", "") in ("", "0"):
    try:
        from . import _native  # type: ignore[no-redef]
    except ImportError:
        _native = None

FUNCTIONS = ("train_merges", "make_merge_table", "encode_symbols", "split_gpt2", "count_gpt2", "ByteLevelEncoder")
name = "python"


def use(backend: str) -> None:
    """Route the hot loops to "native" or "python" (ValueError when native is not built)."""
    global name
    if backend == "native":
        if _native is None:
            raise ValueError("the native extension is not built (pip install . with a C compiler)")
        impl = _native
    elif backend == "python":
        impl = bpe_core
    else:
        raise ValueError(f"unknown backend {backend!r}")
    for fn in FUNCTIONS:
        globals()[fn] = getattr(impl, fn)
    name = backend


def native_available() -> bool:
    """True when the compiled core is loaded and in use."""
    return name == "native"


use("python" if _native is None else "native")
