import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from subtok.text import (
    GPT2_PATTERN,
    Lowercase,
    PreTokenizer,
    StripAccents,
    UnicodeForm,
    bytes_to_token,
    bytes_to_unicode,
    make_normalizers,
    normalize,
    normalize_str,
    token_to_bytes,
)

NORMALIZER_SETS = [
    ["NFC"],
    ["NFD"],
    ["NFKC"],
    ["NFKD"],
    ["lowercase"],
    ["strip_accents"],
    ["NFKC", "lowercase", "strip_accents"],
]


def test_byte_table_is_a_bijection_onto_printable_chars():
    table = bytes_to_unicode()
    assert len(table) == 256 and len(set(table.values())) == 256
    assert table[ord("A")] == "A" and table[ord(" ")] == "Ġ" and table[ord("\n")] == "Ċ"
    assert all(c.isprintable() and not c.isspace() for c in table.values())


@given(st.binary())
def test_bytes_token_roundtrip(data):
    assert token_to_bytes(bytes_to_token(data)) == data


@pytest.mark.parametrize("names", NORMALIZER_SETS)
@given(text=st.text())
def test_aligned_normalization_matches_plain_and_maps_into_original(names, text):
    norms = make_normalizers(names)
    norm = normalize(norms, text)
    assert norm.text == normalize_str(norms, text)
    for i in range(len(norm.text)):
        s, e = norm.original_span(i, i + 1)
        assert 0 <= s <= e <= len(text)


def test_nfc_composes_and_keeps_offsets():
    text = "cafe\u0301 ok"
    norm = UnicodeForm("NFC").normalize(normalize([], text))
    assert norm.text == "café ok"
    assert norm.original_span(3, 4) == (3, 5)  # é came from "e" + combining acute
    assert norm.original_span(5, 7) == (6, 8)


def test_lowercase_and_strip_accents():
    assert Lowercase().normalize_str("ÀB Σ") == "àb σ"
    assert StripAccents().normalize_str("Héllo naïve") == "Hello naive"
    norm = normalize([StripAccents()], "e\u0301x")
    assert norm.text == "ex" and norm.original_span(0, 2) == (0, 3)


def test_unicode_form_validation():
    with pytest.raises(ValueError):
        UnicodeForm("NFX")


def test_gpt2_pretokenizer_covers_every_character():
    pre = PreTokenizer("gpt2")
    text = "Hello, world!  It's 2024...\n\n  안녕 🙂"
    words = pre.words(text)
    assert "".join(words) == text
    assert words[:4] == ["Hello", ",", " world", "!"]
    assert pre.split(text)[0] == (0, 5)
    assert pre.pattern == GPT2_PATTERN


@given(st.text())
def test_gpt2_split_is_lossless(text):
    assert "".join(PreTokenizer("gpt2").words(text)) == text


def test_whitespace_and_bert_pretokenizers():
    assert PreTokenizer("whitespace").words(" a  b\tc\n") == ["a", "b", "c"]
    assert PreTokenizer("bert").words("Hello, world! (x+y)=z's") == [
        "Hello",
        ",",
        "world",
        "!",
        "(",
        "x",
        "+",
        "y",
        ")",
        "=",
        "z",
        "'",
        "s",
    ]
    assert PreTokenizer("bert").words("“quoted”—dash") == ["“", "quoted", "”", "—", "dash"]


def test_custom_pattern_and_errors():
    pre = PreTokenizer("regex", r"\d+|\D+")
    assert pre.words("ab12cd") == ["ab", "12", "cd"]
    assert PreTokenizer.from_dict(pre.to_dict()).pattern == pre.pattern
    with pytest.raises(ValueError, match="bad pre-tokenizer pattern"):
        PreTokenizer("regex", "(")
    with pytest.raises(ValueError, match="unknown pre-tokenizer"):
        PreTokenizer("nope")


def test_strip_accents_matches_bert_rule():
    text = "Ångström façade"
    expected = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    assert StripAccents().normalize_str(text) == expected
