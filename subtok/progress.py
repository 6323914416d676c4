"""Progress bars: tqdm on an interactive stderr, nothing otherwise (or when the caller says quiet)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Optional


class Silent:
    """What ``progress_bar`` yields when there is no bar: updates are ignored."""

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, s: str) -> None:
        pass


@contextmanager
def progress_bar(
    total: Optional[int] = None, desc: str = "", unit: str = "it", enabled: Optional[bool] = None
) -> Iterator[Any]:
    """A tqdm bar when ``enabled`` (None: when stderr is a terminal), else an object that ignores updates."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield Silent()
        return
    try:
        from tqdm import tqdm
    except ImportError:
        yield Silent()
        return
    with tqdm(total=total, desc=desc, unit=unit, unit_scale=True, leave=False, file=sys.stderr) as bar:
        yield bar
