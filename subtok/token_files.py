"""Token files: the ids of many texts streamed to disk, a batch at a time, in layouts training loops read
directly (``subtok encode --format``).

Formats (``FORMATS``):

- "ids": text, one line of space-separated ids per text;
- "npy": one flat array in NumPy's .npy format, uint16 where every id of the vocabulary fits, else uint32;
- "bin": the same values as raw little-endian integers, with a JSON sidecar ``<file>.json`` that gives
  their dtype, count and how documents are marked (for ``np.memmap`` or any reader);
- "parquet": one row per text, a list column "ids" (needs pyarrow: ``pip install subtok[parquet]``).

In "npy" and "bin" each text is a document: with ``eos_id`` that id follows each one; without it, where
each document starts goes to ``<file>.offsets.npy`` (int64, one more than there are documents, the last
the total), so the flat array can be cut per text either way.

Every file is written into a temporary file beside its path and renamed into place once all is written:
an error or an interrupt leaves whatever was there before, and a symlink, FIFO or device is never
replaced ("ids" may be written through a FIFO or device, the others need a regular file).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any, Optional

import numpy as np

from ._io import AtomicFile, PathLike, aborted_on_error
from .errors import InputError

FORMATS = ("ids", "npy", "bin", "parquet")
NPY_HEADER = 128  # bytes kept for the .npy header, written last (when the length is known)
SYNC_EVERY = 64 << 20  # the ids' bytes written between two starts of AtomicFile.sync_behind


def token_dtype(vocab_size: int) -> np.dtype:
    """uint16 where every id (0 .. vocab_size - 1) fits, else uint32."""
    return np.dtype("<u2") if vocab_size <= 1 << 16 else np.dtype("<u4")


def npy_header(dtype: np.dtype, count: int) -> bytes:
    """The .npy (version 1.0) header of a flat array of ``count`` values, padded to ``NPY_HEADER`` bytes."""
    text = f"{{'descr': '{dtype.str}', 'fortran_order': False, 'shape': ({count},), }}"
    body = text.encode("latin-1").ljust(NPY_HEADER - 10 - 1) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(body).to_bytes(2, "little") + body


class TokenFileWriter:
    """Writes batches of encoded texts (``write``: one flat id array and its row splits, as
    ``encode_batch(..., return_tensors="flat")`` gives them) to ``path`` in ``fmt``; ``close`` puts the
    files in place, ``abort`` (or an exception inside ``with``) leaves what was there. ``meta`` goes into
    the "bin" format's sidecar."""

    def __init__(
        self, path: PathLike, fmt: str, vocab_size: int, eos_id: Optional[int] = None, meta: Optional[dict] = None
    ) -> None:
        if fmt not in FORMATS:
            raise InputError(f"unknown token file format {fmt!r}; choose from {', '.join(FORMATS)}")
        if eos_id is not None and not 0 <= eos_id < vocab_size:
            raise InputError(f"eos id {eos_id} is outside the vocabulary (0 to {vocab_size - 1})")
        self.path, self.fmt, self.eos_id = Path(path), fmt, eos_id
        self.dtype = token_dtype(vocab_size)
        self.meta = dict(meta or {})
        self.count = self.documents = self._unsynced = 0
        self.parts: list[AtomicFile] = []
        self._parquet: Any = None
        try:
            self.data = self._open(self.path, streams=fmt == "ids")  # (the others seek or have sidecars)
            self.offsets = None
            if fmt in ("npy", "bin") and eos_id is None:
                self.offsets = self._open(_beside(self.path, ".offsets.npy"))
                self.offsets.file.write(b"\0" * NPY_HEADER)
                self.offsets.file.write(np.zeros(1, dtype="<i8").tobytes())  # the first document starts at 0
            if fmt == "npy":
                self.data.file.write(b"\0" * NPY_HEADER)
            if fmt == "bin":
                self.sidecar = self._open(_beside(self.path, ".json"))
            if fmt == "parquet":
                self._parquet = _parquet_writer(self.data.file, self.dtype)
        except BaseException:
            self.abort()
            raise

    def _open(self, path: Path, streams: bool = False) -> AtomicFile:
        part = AtomicFile(path, streams)
        self.parts.append(part)
        return part

    def write(self, ids: np.ndarray, row_splits: np.ndarray) -> None:
        """One batch: ``ids[row_splits[k]:row_splits[k + 1]]`` are the ids of its k-th text."""
        n = len(row_splits) - 1
        if self.fmt == "ids":
            values, bounds = ids.tolist(), row_splits.tolist()
            lines = (" ".join(map(str, values[a:b])) for a, b in zip(bounds, bounds[1:]))
            self.data.file.write("".join(line + "\n" for line in lines).encode("ascii"))
        elif self.fmt == "parquet":
            self._parquet.write(ids.astype(self.dtype), row_splits)
        else:
            flat = ids.astype(self.dtype)
            if self.eos_id is not None:  # each document followed by the eos id
                flat = np.insert(flat, row_splits[1:], self.eos_id).astype(self.dtype)
            else:
                self.offsets.file.write((row_splits[1:] + self.count).astype("<i8"))
            self.data.file.write(flat)
            self.count += len(flat)
            self._unsynced += flat.nbytes
            if self._unsynced >= SYNC_EVERY:
                self.data.sync_behind()
                self._unsynced = 0
        self.documents += n

    def close(self) -> None:
        """Finish the headers and sidecars and put every file in place."""
        with aborted_on_error(self.abort, self.path):
            if self.fmt == "npy":
                self.data.file.seek(0)
                self.data.file.write(npy_header(self.dtype, self.count))
            if self.offsets is not None:
                self.offsets.file.seek(0)
                self.offsets.file.write(npy_header(np.dtype("<i8"), self.documents + 1))
            if self.fmt == "bin":
                sidecar = {
                    "format": "subtok-tokens",
                    "version": 1,
                    "dtype": self.dtype.name,
                    "byteorder": "little",
                    "count": self.count,
                    "documents": self.documents,
                    "eos_id": self.eos_id,
                    "offsets": _beside(self.path, ".offsets.npy").name if self.offsets is not None else None,
                    **self.meta,
                }
                self.sidecar.file.write((json.dumps(sidecar, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
            if self._parquet is not None:
                self._parquet.close()
            for part in self.parts:
                part.commit()

    def abort(self) -> None:
        """Remove what was written; the files at the paths stay as they were."""
        for part in self.parts:
            part.abort()

    def __enter__(self) -> TokenFileWriter:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


def _beside(path: Path, suffix: str) -> Path:
    """A sidecar's path: ``path`` with ``suffix`` added to its name."""
    return path.with_name(path.name + suffix)


class _ParquetRows:
    """Rows of ids into a Parquet file through pyarrow's writer (a list column "ids")."""

    def __init__(self, file: IO[bytes], dtype: np.dtype) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.pa = pa
        self.value_type = pa.uint16() if dtype.itemsize == 2 else pa.uint32()
        self.schema = pa.schema([("ids", pa.list_(self.value_type))])
        self.writer = pq.ParquetWriter(file, self.schema)

    def write(self, values: np.ndarray, row_splits: np.ndarray) -> None:
        pa = self.pa
        column = pa.ListArray.from_arrays(pa.array(row_splits.astype(np.int32)), pa.array(values, self.value_type))
        self.writer.write_table(pa.Table.from_arrays([column], schema=self.schema))

    def close(self) -> None:
        self.writer.close()


def _parquet_writer(file: IO[bytes], dtype: np.dtype) -> _ParquetRows:
    try:
        return _ParquetRows(file, dtype)
    except ImportError:
        raise InputError("the parquet format needs pyarrow: pip install 'subtok[parquet]'") from None
