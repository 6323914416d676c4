"""subtok.text: the byte <-> unicode table and the character classes the native scanners read."""

import regex
from hypothesis import given
from hypothesis import strategies as st

from subtok.text import (
    CLASS_LETTER,
    CLASS_NUMBER,
    CLASS_PUNCT,
    CLASS_SPACE,
    bytes_to_token,
    bytes_to_unicode,
    char_classes,
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
