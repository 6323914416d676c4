"""Normalizers: each keeps an exact alignment to the original text; the registry reads and writes them."""

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from subtok.errors import SubtokError
from subtok.normalizers import (
    NORMALIZERS,
    BertNormalizer,
    Lowercase,
    StripAccents,
    UnicodeForm,
    make_normalizers,
    normalize,
    normalize_str,
)
from subtok.text import Normalized

NORMALIZER_SETS = [
    ["NFC"],
    ["NFD"],
    ["NFKC"],
    ["NFKD"],
    ["lowercase"],
    ["strip_accents"],
    ["NFKC", "lowercase", "strip_accents"],
]


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
    norm = UnicodeForm("NFC").normalize(Normalized(text))
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


def test_strip_accents_matches_bert_rule():
    text = "Ångström façade"
    expected = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    assert StripAccents().normalize_str(text) == expected


CASES = [UnicodeForm("NFKD"), Lowercase(), StripAccents(), BertNormalizer(strip_accents=True, lowercase=False)]


@pytest.mark.parametrize("normalizer", CASES)
def test_registry_round_trips_ours_and_hf(normalizer):
    again = NORMALIZERS.from_dict(normalizer.to_dict())
    assert type(again) is type(normalizer) and again.to_dict() == normalizer.to_dict()
    from_hf = NORMALIZERS.from_hf(normalizer.to_hf())
    assert from_hf.to_dict() == normalizer.to_dict()


def test_registry_names_unknown_types():
    with pytest.raises(SubtokError, match="unknown normalizer type 'nope'"):
        NORMALIZERS.from_dict({"type": "nope"})
    with pytest.raises(SubtokError, match="unknown HF normalizer type 'Precompiled'"):
        NORMALIZERS.from_hf({"type": "Precompiled"})
    with pytest.raises(SubtokError, match="string 'type'"):
        NORMALIZERS.from_dict(["NFC"])
