"""Just enough of SentencePiece's model protobuf for the tests: the precompiled charsmap of its normalizer
(ModelProto field 3, NormalizerSpec; NormalizerSpec field 2, bytes)."""

from __future__ import annotations


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def _fields(data: bytes):
    """(field number, wire type, value) of a message: ints for varints and fixed widths, bytes for the rest."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 1:
            value, pos = int.from_bytes(data[pos : pos + 8], "little"), pos + 8
        elif wire == 5:
            value, pos = int.from_bytes(data[pos : pos + 4], "little"), pos + 4
        elif wire == 2:
            length, pos = _varint(data, pos)
            value, pos = data[pos : pos + length], pos + length
        else:
            raise ValueError(f"wire type {wire} at byte {pos}")
        yield number, wire, value


def precompiled_charsmap(model: bytes) -> bytes:
    spec = next(v for n, w, v in _fields(model) if n == 3 and w == 2)
    return next(v for n, w, v in _fields(spec) if n == 2 and w == 2)
