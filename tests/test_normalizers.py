"""Normalizers: each keeps an exact alignment to the original text; the registry reads and writes them."""

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from subtok.errors import SubtokError
from subtok.normalizers import (
    NORMALIZERS,
    BertNormalizer,
    DecomposeStripAccents,
    Lowercase,
    StripAccents,
    UnicodeForm,
    make_normalizers,
    normalize,
    normalize_str,
    normalizers_from_hf,
    normalizers_to_hf,
)
from subtok.text import Normalized, assigned_v9

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


v9_text = st.text(st.characters(codec="utf-8").filter(assigned_v9))


@pytest.mark.parametrize("form", ["NFC", "NFD", "NFKC", "NFKD"])
@given(text=v9_text)
def test_unicode_forms_equal_unicodedata_on_unicode_9_text(form, text):
    """Worked on segment by segment (normalization is local), each form gives what unicodedata gives for
    characters Unicode 9.0 had (newer ones HF's tables, and so ours, leave alone)."""
    assert normalize_str([UnicodeForm(form)], text) == unicodedata.normalize(form, text)
    assert normalize([UnicodeForm(form)], text).text == unicodedata.normalize(form, text)


def test_characters_newer_than_unicode_9_are_left_alone():
    """U+0EBA (Unicode 12, combining class 9 today) counts as a starter for HF, so nothing moves around it."""
    text = "\u0eb3\u0eca\u0eba"
    assert unicodedata.normalize("NFC", text) != text
    assert normalize_str([UnicodeForm("NFC")], text) == text


def test_nfc_composes_and_keeps_offsets_as_hf():
    text = "cafe\u0301 ok"
    norm = UnicodeForm("NFC").normalize(Normalized(text))
    assert norm.text == "café ok"
    assert norm.original_span(3, 4) == (3, 4)  # é takes the span of "e", its first part (HF's rule)
    assert norm.original_span(5, 7) == (6, 8)
    nfd = UnicodeForm("NFD").normalize(Normalized("é!"))
    assert nfd.text == "e\u0301!" and nfd.spans() == [(0, 1), (0, 1), (1, 2)]  # an inserted mark: its source


def test_lowercase_and_strip_accents():
    assert Lowercase().normalize_str("ÀB Σ") == "àb σ"
    assert Lowercase().normalize_str("ΑΣ Σ") == "ασ σ"  # each character alone, as HF: no final sigma
    assert DecomposeStripAccents().normalize_str("Héllo naïve") == "Hello naive"
    assert StripAccents().normalize_str("Héllo") == "Héllo"  # HF's does not decompose: NFD first
    assert normalize([UnicodeForm("NFD"), StripAccents()], "Héllo").text == "Hello"
    norm = normalize([DecomposeStripAccents()], "e\u0301x")
    assert norm.text == "ex" and norm.original_span(0, 2) == (0, 3)


def test_unicode_form_validation():
    with pytest.raises(ValueError):
        UnicodeForm("NFX")


def test_strip_accents_matches_bert_rule():
    text = "Ångström façade"
    expected = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    assert DecomposeStripAccents().normalize_str(text) == expected
    # in HF's terms it is the BERT normalizer that only strips accents
    assert normalizers_from_hf(normalizers_to_hf([DecomposeStripAccents()]))[0].normalize_str(text) == expected


CASES = [UnicodeForm("NFKD"), Lowercase(), StripAccents(), BertNormalizer(strip_accents=True, lowercase=False)]


@pytest.mark.parametrize("normalizer", CASES)
def test_registry_round_trips_ours_and_hf(normalizer):
    again = NORMALIZERS.from_dict(normalizer.to_dict())
    assert type(again) is type(normalizer) and again.to_dict() == normalizer.to_dict()
    (from_hf,) = normalizers_from_hf(normalizers_to_hf([normalizer]))
    assert from_hf.to_dict() == normalizer.to_dict()


def test_registry_names_unknown_types():
    with pytest.raises(SubtokError, match="unknown normalizer type 'nope'"):
        NORMALIZERS.from_dict({"type": "nope"})
    with pytest.raises(SubtokError, match="unknown HF normalizer type 'Uppercase'"):
        NORMALIZERS.from_hf({"type": "Uppercase"})
    with pytest.raises(SubtokError, match="precompiled_charsmap"):
        NORMALIZERS.from_hf({"type": "Precompiled", "precompiled_charsmap": "not base64!"})
    with pytest.raises(SubtokError, match="string 'type'"):
        NORMALIZERS.from_dict(["NFC"])
