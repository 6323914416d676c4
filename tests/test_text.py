"""subtok.text: the byte <-> unicode table and the character classes the native scanners read."""

import pytest
import regex
from hypothesis import given
from hypothesis import strategies as st

from subtok import _char_classes_data, text
from subtok.text import (
    CLASS_LETTER,
    CLASS_NUMBER,
    CLASS_PUNCT,
    CLASS_SPACE,
    bytes_to_token,
    bytes_to_unicode,
    char_classes,
    compute_char_classes,
    stored_char_classes,
)
from subtok.text import token_to_bytes as to_bytes


def test_byte_table_is_a_bijection_onto_printable_chars():
    table = bytes_to_unicode()
    assert len(table) == 256 and len(set(table.values())) == 256
    assert table[ord("A")] == "A" and table[ord(" ")] == "Ġ" and table[ord("\n")] == "Ċ"
    assert all(c.isprintable() and not c.isspace() for c in table.values())


@given(st.binary())
def test_bytes_token_roundtrip(data):
    assert to_bytes(bytes_to_token(data)) == data


@given(st.characters())
def test_char_classes_follow_the_regex_module(ch):
    bits = char_classes()[ord(ch)]
    assert bool(bits & CLASS_LETTER) == bool(regex.match(r"\p{L}", ch))
    assert bool(bits & CLASS_NUMBER) == bool(regex.match(r"\p{N}", ch))
    assert bool(bits & CLASS_SPACE) == bool(regex.match(r"\s", ch))
    assert bool(bits & CLASS_PUNCT) == bool(regex.match(r"[!-/:-@\[-`{-~\p{P}]", ch))


def test_the_stored_class_table_is_the_one_the_installed_regex_computes():
    """The runs in _char_classes_data, expanded, are the computed table (rerun tools/gen_char_classes.py when
    the pinned regex version moves)."""
    if regex.__version__ != _char_classes_data.REGEX_VERSION:
        pytest.skip(f"the stored table is regex {_char_classes_data.REGEX_VERSION}'s; {regex.__version__} installed")
    assert stored_char_classes() == compute_char_classes() == char_classes()


def test_another_regex_version_computes_its_own_class_table(monkeypatch):
    def stored():
        raise AssertionError("read the table stored for another regex version")

    monkeypatch.setattr(_char_classes_data, "REGEX_VERSION", "0.0")
    monkeypatch.setattr(text, "stored_char_classes", stored)
    char_classes.cache_clear()
    try:
        assert char_classes() == compute_char_classes()
    finally:
        char_classes.cache_clear()
