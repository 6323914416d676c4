"""Small file helpers shared by everything that reads or writes: atomic writes (a crash never leaves half a
file), JSON reading whose errors name the file and position, and the check of our formats' headers."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Union

from .errors import FileFormatError, TokenizerFileError

PathLike = Union[str, "os.PathLike[str]"]


def atomic_write_bytes(path: PathLike, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it into place."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: PathLike, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, ensure_ascii=False, indent=1) + "\n")


def read_json(path: PathLike, error: type[FileFormatError] = TokenizerFileError) -> Any:
    """Parse a JSON file, turning every failure into ``error`` naming the file and position."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise error(f"file not found: {path}") from None
    except IsADirectoryError:
        raise error(f"{path} is a directory, not a file") from None
    except UnicodeDecodeError as e:
        raise error(f"{path}: not UTF-8 text (byte offset {e.start})") from None
    except json.JSONDecodeError as e:
        raise error(f"{path}: malformed or truncated JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None


def check_header(
    d: Any, format: str, version: int, source: str, what: str, error: type[FileFormatError] = TokenizerFileError
) -> None:
    """Check that ``d`` is one of our documents: an object whose "format" is ``format`` and whose "version"
    is ``version``; else ``error`` naming ``source`` and ``what`` the file should have been."""
    if not isinstance(d, Mapping) or d.get("format") != format:
        raise error(f'{source}: not a subtok {what} file (no "format": {format!r})')
    if d.get("version") != version:
        raise error(f"{source}: {what} format version {d.get('version')!r}; this subtok reads version {version}")
