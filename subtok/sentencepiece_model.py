"""SentencePiece's ``.model`` file: the ModelProto protobuf message, read and written on the protobuf wire
format directly (no protobuf dependency).

A message is a ``Message``: its schema and the fields the file has (proto2 keeps presence, so a field the
file leaves out reads as its default and is not written back). Fields are written in field-number order, as
protobuf's own serializer does, and fields the schema does not know are kept as they came and written
after the known ones, so reading and writing a file SentencePiece wrote gives the same bytes. Every length
and type is checked: a damaged file is an error naming the message and field, never a crash.

The schema is SentencePiece's ``sentencepiece_model.proto`` (ModelProto, TrainerSpec, NormalizerSpec,
SelfTestData).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any, Optional

from ._io import PathLike, atomic_write_bytes
from .errors import TokenizerFileError

# piece types (ModelProto.SentencePiece.Type)
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6
PIECE_TYPES = {NORMAL: "normal", UNKNOWN: "unknown", CONTROL: "control", USER_DEFINED: "user_defined",
               UNUSED: "unused", BYTE: "byte"}  # fmt: skip
MODEL_TYPES = {1: "unigram", 2: "bpe", 3: "word", 4: "char"}

# kind -> wire type; "message:<Name>" fields hold a nested Message
_WIRE = {"string": 2, "bytes": 2, "bool": 0, "int32": 0, "uint64": 0, "enum": 0, "float": 5}


class Field:
    """One field of a schema: its name, kind, default and whether it repeats."""

    __slots__ = ("name", "kind", "default", "repeated")

    def __init__(self, name: str, kind: str, default: Any = None, repeated: bool = False) -> None:
        self.name, self.kind, self.default, self.repeated = name, kind, default, repeated

    @property
    def wire(self) -> int:
        return 2 if self.kind.startswith("message:") else _WIRE[self.kind]


SCHEMAS: dict[str, dict[int, Field]] = {
    "TrainerSpec": {
        1: Field("input", "string", repeated=True),
        7: Field("input_format", "string", ""),
        2: Field("model_prefix", "string", ""),
        3: Field("model_type", "enum", 1),
        4: Field("vocab_size", "int32", 8000),
        5: Field("accept_language", "string", repeated=True),
        6: Field("self_test_sample_size", "int32", 0),
        50: Field("enable_differential_privacy", "bool", False),
        51: Field("differential_privacy_noise_level", "float", 0.0),
        52: Field("differential_privacy_clipping_threshold", "uint64", 0),
        10: Field("character_coverage", "float", 0.9995),
        11: Field("input_sentence_size", "uint64", 0),
        19: Field("shuffle_input_sentence", "bool", True),
        12: Field("mining_sentence_size", "int32", 0),
        13: Field("training_sentence_size", "int32", 0),
        14: Field("seed_sentencepiece_size", "int32", 1000000),
        15: Field("shrinking_factor", "float", 0.75),
        18: Field("max_sentence_length", "int32", 4192),
        16: Field("num_threads", "int32", 16),
        17: Field("num_sub_iterations", "int32", 2),
        20: Field("max_sentencepiece_length", "int32", 16),
        21: Field("split_by_unicode_script", "bool", True),
        23: Field("split_by_number", "bool", True),
        22: Field("split_by_whitespace", "bool", True),
        24: Field("treat_whitespace_as_suffix", "bool", False),
        26: Field("allow_whitespace_only_pieces", "bool", False),
        25: Field("split_digits", "bool", False),
        53: Field("pretokenization_delimiter", "string", ""),
        30: Field("control_symbols", "string", repeated=True),
        31: Field("user_defined_symbols", "string", repeated=True),
        36: Field("required_chars", "string", ""),
        35: Field("byte_fallback", "bool", False),
        32: Field("vocabulary_output_piece_score", "bool", True),
        33: Field("hard_vocab_limit", "bool", True),
        34: Field("use_all_vocab", "bool", False),
        40: Field("unk_id", "int32", 0),
        41: Field("bos_id", "int32", 1),
        42: Field("eos_id", "int32", 2),
        43: Field("pad_id", "int32", -1),
        45: Field("unk_piece", "string", "<unk>"),
        46: Field("bos_piece", "string", "<s>"),
        47: Field("eos_piece", "string", "</s>"),
        48: Field("pad_piece", "string", "<pad>"),
        44: Field("unk_surface", "string", " \u2047 "),
        49: Field("train_extremely_large_corpus", "bool", False),
        54: Field("seed_sentencepieces_file", "string", ""),
    },
    "NormalizerSpec": {
        1: Field("name", "string", ""),
        2: Field("precompiled_charsmap", "bytes", b""),
        3: Field("add_dummy_prefix", "bool", True),
        4: Field("remove_extra_whitespaces", "bool", True),
        5: Field("escape_whitespaces", "bool", True),
        6: Field("normalization_rule_tsv", "string", ""),
    },
    "Sample": {1: Field("input", "string", ""), 2: Field("expected", "string", "")},
    "SelfTestData": {1: Field("samples", "message:Sample", repeated=True)},
    "SentencePiece": {
        1: Field("piece", "string", ""),
        2: Field("score", "float", 0.0),
        3: Field("type", "enum", NORMAL),
    },
    "ModelProto": {
        1: Field("pieces", "message:SentencePiece", repeated=True),
        2: Field("trainer_spec", "message:TrainerSpec"),
        3: Field("normalizer_spec", "message:NormalizerSpec"),
        4: Field("self_test_data", "message:SelfTestData"),
        5: Field("denormalizer_spec", "message:NormalizerSpec"),
    },
}
_BY_NAME = {schema: {f.name: (n, f) for n, f in fields.items()} for schema, fields in SCHEMAS.items()}


class Message:
    """A protobuf message of one of ``SCHEMAS``: the fields present (by name; repeated ones as lists) and
    the unknown fields as (number, wire type, raw value) in file order."""

    def __init__(self, schema: str, **values: Any) -> None:
        self.schema = schema
        self.values: dict[str, Any] = {}
        self.unknown: list[tuple[int, int, Any]] = []
        for name, value in values.items():
            self[name] = value

    def _field(self, name: str) -> Field:
        try:
            return _BY_NAME[self.schema][name][1]
        except KeyError:
            raise KeyError(f"{self.schema} has no field {name!r}") from None

    def __getitem__(self, name: str) -> Any:
        field = self._field(name)
        if name in self.values:
            return self.values[name]
        if field.repeated:
            return []
        if field.kind.startswith("message:"):
            return Message(field.kind[8:])
        return field.default

    def __setitem__(self, name: str, value: Any) -> None:
        self._field(name)
        self.values[name] = value

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and (self.schema, self.values, self.unknown) == (
            other.schema,
            other.values,
            other.unknown,
        )

    def __repr__(self) -> str:
        return f"Message({self.schema!r}, {self.values!r})"


# ---------------------------------------------------------------------------------------------------------
# The wire format
# ---------------------------------------------------------------------------------------------------------
def _varint(data: bytes, pos: int, where: str) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data):
            raise TokenizerFileError(f"{where}: the data ends inside a varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
        if shift >= 70:
            raise TokenizerFileError(f"{where}: a varint longer than 10 bytes")


def _raw_fields(data: bytes, where: str) -> Iterator[tuple[int, int, Any]]:
    """(field number, wire type, value) of each field of a message: an int for varints and fixed widths,
    bytes for length-delimited ones."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos, where)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise TokenizerFileError(f"{where}: field number 0 at byte {pos}")
        if wire == 0:
            value, pos = _varint(data, pos, where)
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            if pos + size > len(data):
                raise TokenizerFileError(f"{where}: the data ends inside field {number}")
            value, pos = data[pos : pos + size], pos + size
        elif wire == 2:
            length, pos = _varint(data, pos, where)
            if pos + length > len(data):
                raise TokenizerFileError(f"{where}: field {number} says {length} bytes, {len(data) - pos} are left")
            value, pos = data[pos : pos + length], pos + length
        else:
            raise TokenizerFileError(f"{where}: field {number} has wire type {wire}, which protobuf files do not use")
        yield number, wire, value


def _decode_value(field: Field, value: Any, where: str) -> Any:
    kind = field.kind
    if kind.startswith("message:"):
        return decode(value, kind[8:], where)
    if kind == "bytes":
        return bytes(value)
    if kind == "string":
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise TokenizerFileError(f"{where}: {field.name} is not UTF-8") from None
    if kind == "float":
        return struct.unpack("<f", value)[0]
    if kind == "bool":
        return value != 0
    if kind == "int32":
        value &= 0xFFFFFFFF  # protobuf writes a negative int32 as its 64-bit two's complement
        return value - (1 << 32) if value >= 1 << 31 else value
    if kind == "uint64":
        return value & 0xFFFFFFFFFFFFFFFF
    return value  # enum


def decode(data: bytes, schema: str = "ModelProto", where: str = "") -> Message:
    """The ``schema`` message in ``data``; errors name ``where`` and the field."""
    message = Message(schema)
    fields = SCHEMAS[schema]
    for number, wire, value in _raw_fields(data, f"{where}{schema}"):
        field = fields.get(number)
        if field is None:
            message.unknown.append((number, wire, value))
            continue
        here = f"{where}{schema}.{field.name}"
        if wire != field.wire:
            raise TokenizerFileError(f"{here}: wire type {wire}, expected {field.wire} ({field.kind})")
        decoded = _decode_value(field, value, here + ": ")
        if field.repeated:
            message.values.setdefault(field.name, []).append(decoded)
        elif field.kind.startswith("message:") and field.name in message.values:
            raise TokenizerFileError(f"{here}: appears twice")
        else:
            message.values[field.name] = decoded
    return message


def _put_varint(out: bytearray, value: int) -> None:
    value &= 0xFFFFFFFFFFFFFFFF
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _put(out: bytearray, number: int, field: Field, value: Any) -> None:
    _put_varint(out, number << 3 | field.wire)
    kind = field.kind
    if kind.startswith("message:"):
        body = encode(value)
    elif kind in ("string", "bytes"):
        body = value.encode("utf-8") if kind == "string" else bytes(value)
    elif kind == "float":
        out += struct.pack("<f", value)
        return
    else:
        _put_varint(out, int(value))
        return
    _put_varint(out, len(body))
    out += body


def encode(message: Message) -> bytes:
    """The wire bytes of ``message``: known fields in field-number order, then the unknown ones."""
    out = bytearray()
    for number, field in sorted(SCHEMAS[message.schema].items()):
        if field.name not in message.values:
            continue
        value = message.values[field.name]
        for item in value if field.repeated else (value,):
            _put(out, number, field, item)
    for number, wire, value in message.unknown:
        _put_varint(out, number << 3 | wire)
        if wire == 0:
            _put_varint(out, value)
        elif wire == 2:
            _put_varint(out, len(value))
            out += value
        else:
            out += value
    return bytes(out)


# ---------------------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------------------
def read_model(path: PathLike) -> Message:
    """The ModelProto of a ``.model`` file, checked: pieces non-empty and unique per SentencePiece's rules,
    types known, one unknown piece, a model type we read."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise TokenizerFileError(f"{path}: cannot read: {e.strerror}") from None
    model = decode(data, where=f"{path}: ")
    check_model(model, str(path))
    return model


def check_model(model: Message, where: str) -> None:
    """SentencePiece's own checks on loading (``ModelInterface::InitializePieces``), as errors naming
    ``where``."""
    pieces = model["pieces"]
    if not pieces:
        raise TokenizerFileError(f"{where}: the model has no pieces")
    seen: dict[tuple[bool, str], int] = {}
    unk: Optional[int] = None
    for i, p in enumerate(pieces):
        text, kind = p["piece"], p["type"]
        if kind not in PIECE_TYPES:
            raise TokenizerFileError(f"{where}: piece {i} ({text!r}) has unknown type {kind}")
        if not text:
            raise TokenizerFileError(f"{where}: piece {i} is empty")
        key = (kind in (NORMAL, USER_DEFINED, UNUSED), text)
        if key in seen:
            raise TokenizerFileError(f"{where}: piece {text!r} appears twice (ids {seen[key]} and {i})")
        seen[key] = i
        if kind == UNKNOWN:
            if unk is not None:
                raise TokenizerFileError(f"{where}: two unknown pieces (ids {unk} and {i})")
            unk = i
        if kind == BYTE and not model["trainer_spec"]["byte_fallback"]:
            raise TokenizerFileError(f"{where}: byte piece {text!r} although byte_fallback is false")
    if unk is None:
        raise TokenizerFileError(f"{where}: no piece has the unknown type")
    model_type = model["trainer_spec"]["model_type"]
    if model_type not in (1, 2):
        name = MODEL_TYPES.get(model_type, str(model_type))
        raise TokenizerFileError(f"{where}: model type {name} is not supported (unigram and bpe are)")


def write_model(model: Message, path: PathLike) -> None:
    """Write ``model`` as a ``.model`` file (temp file + rename)."""
    atomic_write_bytes(path, encode(model))
