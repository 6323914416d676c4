"""Which implementation runs the hot loops: the compiled ``subtok._native`` when it is built and allowed,
else the pure-Python references (``models.bpe_core``, ``models.wordpiece_core``, ``sparse``). Both give
identical output.

A call site names the reference and gets its twin: ``_backend.pick(bpe_core.train_merges)(...)`` runs the
native ``train_merges`` when the native backend is in use and the reference otherwise, so each call says
where its native twin is, and the choice is made per call, never frozen at import. ``native(name)`` hands
out the kernels that have no Python twin (word2vec's ``sgns_train``). ``SUBTOK_NO_NATIVE=1`` forces pure
Python; tests switch with :func:`using`.

The extension is loaded only when it is this package's own build (beside this file, its ``ABI`` matching),
so a stale, foreign or half-built one never runs; a source folder can never stand in for it (the C sources
live in ``csrc/``).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable, TypeVar

from .text import char_classes

ABI = 8  # the native module's SUBTOK_ABI this package is written against (csrc/module.c)

F = TypeVar("F", bound=Callable[..., Any])


def _load_native():
    if os.environ.get("SUBTOK_NO_NATIVE", "") not in ("", "0"):
        return None
    try:
        from . import _native
    except ImportError:
        return None
    where = getattr(_native, "__file__", None) or "?"
    if getattr(_native, "ABI", None) != ABI:
        problem = "it is another version's build (reinstall subtok to rebuild it)"
    elif os.path.dirname(os.path.abspath(where)) != os.path.dirname(os.path.abspath(__file__)):
        problem = "it is not this package's own (another copy of subtok is installed)"
    else:
        return _native
    warnings.warn(f"subtok: ignoring the compiled core at {where}: {problem}; running pure Python", stacklevel=2)
    return None


_native = _load_native()
name = "native" if _native is not None else "python"
_classes_installed = False


def use(backend: str) -> None:
    """Route the hot loops to "native" or "python" (ValueError when native is not built)."""
    global name
    if backend not in ("native", "python"):
        raise ValueError(f"unknown backend {backend!r}")
    if backend == "native" and _native is None:
        raise ValueError("the native extension is not built (pip install . with a C compiler)")
    name = backend


@contextmanager
def using(backend: str) -> Iterator[None]:
    """Run a block on ``backend``, then restore the one before."""
    previous = name
    use(backend)
    try:
        yield
    finally:
        use(previous)


def native_available() -> bool:
    """True when the compiled core is loaded and in use."""
    return name == "native"


def native(function: str) -> Callable[..., Any]:
    """A native kernel that has no Python twin (ValueError when the extension is not built)."""
    if _native is None:
        raise ValueError(f"{function} needs the native extension (pip install . with a C compiler)")
    _install_classes()
    return getattr(_native, function)


def pick(reference: F) -> F:
    """``reference`` itself on the Python backend; on the native backend, its twin of the same name."""
    if name == "python":
        return reference
    _install_classes()
    return getattr(_native, reference.__name__)


def _install_classes() -> None:
    """Give the native scanners the character classes, once per process (on first native use, since the
    table takes a moment to build)."""
    global _classes_installed
    if not _classes_installed:
        _native.set_char_classes(char_classes())
        _classes_installed = True
