"""The jamo normalizer and its decoder: lossless on every str, offsets into the original text, and
jamo-level tokenizers that decode to the text they were given on both backends."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from subtok import Tokenizer, hangul
from subtok.errors import SubtokError
from subtok.normalizers import HangulJamo
from subtok.text import Normalized

SYLLABLES = st.integers(0xAC00, 0xD7A3).map(chr)
CONJOINING = st.integers(0x1100, 0x11FF).map(chr)  # leading, vowel and trailing jamo, modern and old
COMPATIBILITY = st.integers(0x3131, 0x318E).map(chr)  # ㄱ ㅏ ...: not conjoining, left alone
HANGUL_TEXT = st.lists(
    st.one_of(SYLLABLES, CONJOINING, COMPATIBILITY, st.just(hangul.ESCAPE), st.sampled_from(" a1.東é\n")),
    max_size=40,
).map("".join)
ANY_TEXT = st.one_of(
    HANGUL_TEXT, st.text(max_size=40), st.lists(st.one_of(HANGUL_TEXT, st.text()), max_size=4).map("".join)
)


@given(ANY_TEXT)
def test_compose_inverts_decompose_for_every_str(text):
    jamo = hangul.decompose(text)
    assert hangul.compose(jamo) == text
    assert not any(0xAC00 <= ord(c) <= 0xD7A3 for c in jamo)  # no syllable is left whole


@given(ANY_TEXT)
def test_offsets_slice_the_original(text):
    norm = HangulJamo().normalize(Normalized(text))
    assert norm.text == HangulJamo().normalize_str(text) == hangul.decompose(text)
    spans = norm.spans()
    assert len(spans) == len(norm.text)
    # each output character comes from one original character, in order; composing what came from each
    # original character gives it back
    groups: dict[tuple[int, int], str] = {}
    for ch, span in zip(norm.text, spans):
        assert span[1] - span[0] == 1
        groups[span] = groups.get(span, "") + ch
    assert [s for s, _ in sorted(groups)] == list(range(len(text)))
    assert (
        "".join(
            hangul.compose(g) if g != hangul.ESCAPE + hangul.ESCAPE else hangul.ESCAPE
            for _, g in sorted(groups.items())
        )
        == text
    )


def test_decomposition_is_unicodes():
    # without characters that need the escape, the jamo are NFD's, and composing is NFC's
    text = "한국어 문장입니다, 값 ㄱㄴ 뷁"
    assert hangul.decompose(text) == unicodedata.normalize("NFD", text)
    assert hangul.compose(hangul.decompose(text)) == unicodedata.normalize("NFC", hangul.decompose(text))


def test_escapes():
    L, V, T = "\u1100", "\u1161", "\u11a8"  # ᄀ ᅡ ᆨ: together 각
    assert hangul.decompose(L + V) == L + hangul.ESCAPE + V  # apart in the text: kept apart
    assert hangul.decompose("가" + T) == L + V + hangul.ESCAPE + T
    assert hangul.decompose("각" + T) == L + V + T + T  # a syllable with its T takes no more
    assert hangul.decompose(hangul.ESCAPE) == hangul.ESCAPE * 2
    for text in (L + V, "가" + T, L + V + T, hangul.ESCAPE + L + V, L + hangul.ESCAPE + V):
        assert hangul.compose(hangul.decompose(text)) == text


KOREAN = [
    "영화가 정말 재미있었어요 배우들 연기도 좋고",
    "이 영화 최고 입니다 강추합니다",
    "스토리가 너무 지루했다 ㅋㅋ 다시는 안 봄",
    "배우들 연기가 좋았어요 음악도 좋았고",
] * 30


@pytest.mark.parametrize("model", ["bpe", "unigram"])
def test_jamo_tokenizers_decode_to_the_text(backend, model, tmp_path):
    norms = ["hangul_jamo"] if model == "bpe" else ["hangul_jamo", {"type": "SentencePiece"}]
    size = 320 if model == "bpe" else 50
    tok = Tokenizer.train(KOREAN, model=model, vocab_size=size, normalizers=norms, show_progress=False)
    pieces = [tok.decoder.inner.decode([t]) for t in tok.get_vocab()]  # the tokens as jamo text
    assert not any(0xAC00 <= ord(c) <= 0xD7A3 for p in pieces for c in p)
    assert sum(any(0x1100 <= ord(c) <= 0x11FF for c in p) for p in pieces) >= 40
    for text in ["영화가 정말 재미있었어요", "새로운 단어 뷁 꿿 그리고 ㄱ", "mixed 한글 text 東京"]:
        enc = tok.encode(text)
        if model == "bpe" or tok.model.unk_id not in enc.ids:
            assert tok.decode(enc.ids) == text
        assert all(0 <= start <= end <= len(text) for start, end in enc.offsets)
        # a token that is whole syllables covers exactly their characters in the original text
        pieces = [hangul.compose(t.replace("\u2581", "")) for t in enc.tokens]
        for piece, (start, end) in zip(pieces, enc.offsets):
            if piece and all(0xAC00 <= ord(c) <= 0xD7A3 for c in piece):
                assert text[start:end].strip() == piece
    path = tmp_path / "tok.json"
    tok.save(path)
    again = Tokenizer.load(path)
    text = "스토리가 너무 지루했다"
    assert again.encode(text).ids == tok.encode(text).ids and again.decode(tok.encode(text).ids) == tok.decode(
        tok.encode(text).ids
    )
    with pytest.raises(SubtokError, match="hangul_jamo"):
        tok.save_huggingface(tmp_path / "hf.json")
