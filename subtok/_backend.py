"""Picks the implementation of the hot loops: the compiled ``subtok._native`` when it is built and
allowed, else the pure-Python references (``models.bpe_core``, ``models.wordpiece_core``, ``sparse``),
every function as a whole set: never some of each. ``SUBTOK_NO_NATIVE=1`` forces pure Python. Both
give identical output; the tests and benchmarks switch with :func:`use`."""

from __future__ import annotations

import os

from . import sparse
from .models import bpe_core, wordpiece_core

_native = None
if os.environ.get("SUBTOK_NO_NATIVE", "") in ("", "0"):
    try:
        from . import _native  # type: ignore[no-redef]
    except ImportError:
        _native = None

FUNCTIONS = {
    bpe_core: ("train_merges", "make_merge_table", "encode_symbols", "split_gpt2", "count_gpt2", "ByteLevelEncoder"),
    wordpiece_core: ("train_likelihood", "make_trie", "encode_longest_match", "BertEncoder"),
    sparse: ("csr_dot",),
}
name = "python"


def use(backend: str) -> None:
    """Route the hot loops to "native" or "python" (ValueError when native is not built)."""
    global name
    if backend == "native" and _native is None:
        raise ValueError("the native extension is not built (pip install . with a C compiler)")
    if backend not in ("native", "python"):
        raise ValueError(f"unknown backend {backend!r}")
    for module, names in FUNCTIONS.items():
        for fn in names:
            impl = _native if backend == "native" else module
            globals()[fn] = getattr(impl, fn)
    name = backend


def native_available() -> bool:
    """True when the compiled core is loaded and in use."""
    return name == "native"


use("python" if _native is None else "native")
