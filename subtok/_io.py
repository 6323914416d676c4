"""Small file helpers shared by everything that reads or writes: atomic writes (a crash never leaves half a
file; a symlink or device is never replaced), JSON reading whose errors name the file and position, and the
check of our formats' headers."""

from __future__ import annotations

import contextlib
import json
import math
import os
import stat
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Callable, Optional, Union

import numpy as np

from .errors import FileFormatError, OutputError, TokenizerFileError

PathLike = Union[str, "os.PathLike[str]"]


def _umask() -> int:
    """The process's umask, read without changing it where Linux says it (else set and restored)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_output(path: PathLike) -> Path:
    """``path`` as a place to write a file: its folder exists and the path is a regular file or nothing yet;
    a FIFO or character device is written through (not replaced); anything else is an ``OutputError``."""
    if not isinstance(path, (str, os.PathLike)):
        raise OutputError(f"an output path must be a str or a path, not {path!r}")
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise OutputError(f"cannot write {path}: the folder {directory} does not exist")
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as e:
        raise OutputError(f"cannot write {path}: {e.strerror}") from None
    if mode is not None and not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)):
        what = "a symlink" if stat.S_ISLNK(mode) else "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise OutputError(f"refusing to write {path}: it is {what}, which the write would replace")
    if not os.access(directory, os.W_OK):
        raise OutputError(f"cannot write {path}: the folder {directory} is not writable")
    return path


class AtomicFile:
    """A file written whole or not at all (``atomic_write_bytes``, the token files): a temporary file beside
    ``path``, with the mode ``open`` would give (an existing file's, else 0o666 less the umask), renamed into
    place by ``commit``; ``abort`` removes it, leaving what was at ``path``. A FIFO or character device is
    written through (``stream`` True) where ``streams`` allows, else refused; a symlink, directory or
    missing folder is an ``OutputError`` (``check_output``), as is any failure, naming the path."""

    def __init__(self, path: PathLike, streams: bool = True) -> None:
        self.path, self.tmp = check_output(path), None
        self._syncing: Optional[threading.Thread] = None
        self._sync_error: Optional[OSError] = None
        try:
            mode: Optional[int] = self.path.stat().st_mode
        except OSError:
            mode = None
        self.stream = mode is not None and (stat.S_ISFIFO(mode) or stat.S_ISCHR(mode))
        if self.stream and not streams:
            raise OutputError(f"cannot write {self.path}: it is a stream, and this file needs a regular one")
        try:
            if self.stream:
                self.file = open(self.path, "wb")  # noqa: SIM115 (closed by commit or abort)
            else:
                fd, self.tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
                self.file = os.fdopen(fd, "w+b")
                os.fchmod(fd, stat.S_IMODE(mode) if mode is not None else 0o666 & ~_umask())
        except OSError as e:
            self.abort()
            raise OutputError(f"cannot write {self.path}: {e.strerror or e}") from None

    def sync_behind(self) -> None:
        """Start putting what is written so far on disk, on a thread of its own (``fdatasync``), unless the
        last such sync still runs: a large file's ``commit`` then waits only for the rest (for 923 MB of
        tokens the final sync had taken 0.27-0.4 s at the end of the run). Its error, if any, is
        ``commit``'s: the kernel reports a failed write once."""
        if self.tmp is None or (self._syncing is not None and self._syncing.is_alive()):
            return
        self.file.flush()
        self._syncing = threading.Thread(target=self._sync, args=(self.file.fileno(),), daemon=True)
        self._syncing.start()

    def _sync(self, fd: int) -> None:
        try:
            getattr(os, "fdatasync", os.fsync)(fd)
        except OSError as e:
            self._sync_error = e

    def _join_sync(self) -> None:
        """Wait for ``sync_behind``'s thread (the file is not closed under it); raise what it met."""
        if self._syncing is not None:
            self._syncing.join()
            self._syncing = None
        error, self._sync_error = self._sync_error, None
        if error is not None:
            raise error

    def commit(self) -> None:
        """Flush, sync and rename into place (a writer that took the file may have closed it already)."""
        try:
            self._join_sync()
            if not self.file.closed:
                self.file.flush()
                if self.tmp is not None:
                    os.fsync(self.file.fileno())
                self.file.close()
            if self.tmp is not None:
                os.replace(self.tmp, self.path)
                self.tmp = None
        except OSError as e:
            self.abort()
            raise OutputError(f"cannot write {self.path}: {e.strerror or e}") from None

    def abort(self) -> None:
        if getattr(self, "_syncing", None) is not None:
            self._syncing.join()
            self._syncing = None
        if getattr(self, "file", None) is not None:
            self.file.close()
        if self.tmp is not None and os.path.exists(self.tmp):
            os.unlink(self.tmp)
        self.tmp = None


@contextlib.contextmanager
def aborted_on_error(abort: Callable[[], None], path: PathLike) -> Iterator[None]:
    """Run the block; on any exception call ``abort`` (remove what was written) first, and turn an OSError
    into an OutputError naming ``path``."""
    try:
        yield
    except OSError as e:
        abort()
        raise OutputError(f"cannot write {path}: {e.strerror or e}") from None
    except BaseException:
        abort()
        raise


def atomic_write_bytes(path: PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all (``AtomicFile``); a FIFO or device is written through."""
    out = AtomicFile(path)
    with aborted_on_error(out.abort, out.path):
        out.file.write(data)
    out.commit()


def atomic_write_text(path: PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: PathLike, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, ensure_ascii=False, indent=1) + "\n")


def read_json(path: PathLike, error: type[FileFormatError] = TokenizerFileError) -> Any:
    """Parse a JSON file, turning every failure into ``error`` naming the file and position."""
    try:
        with open(path, encoding="utf-8-sig") as f:  # (a byte-order mark at the start is dropped)
            return json.load(f)
    except FileNotFoundError:
        raise error(f"file not found: {path}") from None
    except IsADirectoryError:
        raise error(f"{path} is a directory, not a file") from None
    except UnicodeDecodeError as e:
        raise error(f"{path}: not UTF-8 text (byte offset {e.start})") from None
    except json.JSONDecodeError as e:
        raise error(f"{path}: malformed or truncated JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None


def read_npz(path: PathLike, what: str) -> dict[str, np.ndarray]:
    """Every array of an .npz file (``np.savez``'s zip of .npy members; no pickles), each header checked
    against the member's size in the archive before its array is allocated, so a header that claims more
    than the file holds allocates nothing. Any damage (not a zip, bad CRC, truncated, unknown compression,
    an object array) is a ``FileFormatError`` naming the file and ``what`` it should be."""
    fmt = np.lib.format
    try:
        with zipfile.ZipFile(path) as archive:
            arrays = {}
            for info in archive.infolist():
                name = info.filename.removesuffix(".npy")
                with archive.open(info) as f:
                    version = fmt.read_magic(f)
                    header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
                    shape, _, dtype = header(f)
                if math.prod(shape) * dtype.itemsize > info.file_size:
                    raise FileFormatError(
                        f"{path}: {what}: array {name!r} claims shape {shape} but the file holds {info.file_size} bytes"
                    )
                with archive.open(info) as f:
                    arrays[name] = fmt.read_array(f, allow_pickle=False)
            return arrays
    except FileNotFoundError:
        raise FileFormatError(f"file not found: {path}") from None
    except (OSError, EOFError, ValueError, RuntimeError, NotImplementedError, zipfile.BadZipFile, zlib.error) as e:
        if isinstance(e, FileFormatError):
            raise
        raise FileFormatError(f"{path}: not {what} ({type(e).__name__}: {e})") from None


def check_header(
    d: Any, format: str, version: int, source: str, what: str, error: type[FileFormatError] = TokenizerFileError
) -> None:
    """Check that ``d`` is one of our documents: an object whose "format" is ``format`` and whose "version"
    is ``version``; else ``error`` naming ``source`` and ``what`` the file should have been."""
    if not isinstance(d, Mapping) or d.get("format") != format:
        raise error(f'{source}: not a subtok {what} file (no "format": {format!r})')
    if d.get("version") != version:
        raise error(f"{source}: {what} format version {d.get('version')!r}; this subtok reads version {version}")
