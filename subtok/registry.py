"""One table per kind of pipeline component (normalizer, pre-tokenizer, post-processor, decoder) from the
"type" of its JSON form to its class, for our own format and for HF's tokenizer.json, so that saving,
loading and interchange go through the table instead of chains of ifs.

A registered class says itself as a dict (``to_dict``; ``to_hf`` for HF's form) and is rebuilt from one
(the classmethods ``from_dict`` and ``from_hf``); ``hf_fields`` lists the fields of HF's form it reads, and
any other field is an error that names it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Callable, TypeVar

from .errors import SubtokError

T = TypeVar("T", bound=type)


class Registry:
    """JSON type name -> component class, for one kind of component."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.types: dict[str, type] = {}
        self.hf_types: dict[str, type] = {}

    def register(self, types: Sequence[str] = (), hf: Sequence[str] = ()) -> Callable[[T], T]:
        """A class decorator: the class reads our JSON types ``types`` and HF's types ``hf``."""

        def add(cls: T) -> T:
            for name in types:
                self.types[name] = cls
            for name in hf:
                self.hf_types[name] = cls
            return cls

        return add

    def _lookup(self, d: Any, table: dict[str, type], where: str) -> type:
        if not isinstance(d, dict) or not isinstance(d.get("type"), str):
            raise SubtokError(f"a {self.kind} must be an object with a string 'type', not {d!r}")
        cls = table.get(d["type"])
        if cls is None:
            raise SubtokError(f"unknown {where}{self.kind} type {d['type']!r}; known: {', '.join(sorted(table))}")
        return cls

    def from_dict(self, d: Any) -> Any:
        """The component our JSON ``d`` describes."""
        return self._lookup(d, self.types, "").from_dict(d)

    def from_hf(self, d: Any) -> Any:
        """The component HF's JSON ``d`` describes; a field the class does not read (``hf_fields``) is an
        error naming it, so nothing in a file is silently ignored."""
        cls = self._lookup(d, self.hf_types, "HF ")
        unknown = sorted(set(d) - {"type"} - set(getattr(cls, "hf_fields", ())))
        if unknown:
            raise SubtokError(f"{d['type']}: field {', '.join(unknown)} is not supported")
        return cls.from_hf(d)


class ByteLevelOptions:
    """HF's ByteLevel options, one struct that HF uses as pre-tokenizer, post-processor and decoder; each
    role's class takes them from here, and reads and writes them in both formats."""

    hf_fields = ("add_prefix_space", "trim_offsets", "use_regex")
    type = hf_type = "ByteLevel"

    def __init__(self, add_prefix_space: bool = True, trim_offsets: bool = True, use_regex: bool = True) -> None:
        self.add_prefix_space, self.trim_offsets = bool(add_prefix_space), bool(trim_offsets)
        self.use_regex = bool(use_regex)

    def to_dict(self) -> dict:
        return {
            "type": self.type,
            "add_prefix_space": self.add_prefix_space,
            "trim_offsets": self.trim_offsets,
            "use_regex": self.use_regex,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Any:
        return cls(d.get("add_prefix_space", True), d.get("trim_offsets", True), d.get("use_regex", True))


_KINDS = {"bool": (bool,), "str": (str,), "bool?": (bool, type(None)), "str?": (str, type(None))}


def require(where: str, **values: tuple[Any, str]) -> None:
    """Each option ``name=(value, kind)`` has its kind ("bool", "str", or "bool?"/"str?" allowing None), or
    an error names the component and the option (a file's wrong type never reaches the code that uses it)."""
    for name, (value, kind) in values.items():
        if not isinstance(value, _KINDS[kind]):
            want = {"bool": "true or false", "str": "a string"}[kind.rstrip("?")] + (" or null" if "?" in kind else "")
            raise SubtokError(f"{where}: {name} must be {want}, not {value!r}")
