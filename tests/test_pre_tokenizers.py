"""Pre-tokenizers: GPT-2's pattern, whitespace, BERT's and any regex; the registry reads and writes them."""

import pytest
import regex
from hypothesis import given
from hypothesis import strategies as st

from subtok import _backend
from subtok.pre_tokenizers import (
    GPT2,
    PRE_TOKENIZERS,
    BertPreTokenizer,
    BertWords,
    ByteLevel,
    Digits,
    Metaspace,
    RegexSplit,
    SequencePreTokenizer,
    Split,
    WhitespaceRuns,
    WhitespaceSplit,
    class_spans,
    make_pre_tokenizer,
)
from subtok.text import BERT_PATTERN, DIGITS_THEN_GPT2_PATTERN, GPT2_PATTERN, Normalized


def test_gpt2_pretokenizer_covers_every_character():
    pre = make_pre_tokenizer("gpt2")
    text = "Hello, world!  It's 2024...\n\n  안녕 🙂"
    words = pre.words(text)
    assert "".join(words) == text
    assert words[:4] == ["Hello", ",", " world", "!"]
    first = pre.pre_tokenize([Normalized(text)])[0]
    assert first.original_span(0, len(first.text)) == (0, 5)
    assert pre.pattern == GPT2_PATTERN


@given(st.text())
def test_gpt2_split_is_lossless(text):
    assert "".join(GPT2().words(text)) == text


@given(st.lists(st.one_of(st.sampled_from(list(" \t\n\xa0'sS1٣²ⅷa한!.")), st.characters()), max_size=40).map("".join))
def test_starcoder_pre_tokenizer_is_the_one_regex_its_scanner_follows(text):
    """HF's Digits (individual) then ByteLevel's GPT-2 pattern on each piece gives the matches of
    DIGITS_THEN_GPT2_PATTERN, the pattern the native scanner for StarCoder's files implements."""
    pre = SequencePreTokenizer([Digits(individual_digits=True), ByteLevel(add_prefix_space=False)])
    assert pre.pattern == DIGITS_THEN_GPT2_PATTERN
    assert pre.split_spans(text) == [m.span() for m in regex.finditer(DIGITS_THEN_GPT2_PATTERN, text)]


@given(st.text(st.sampled_from(["\u2581", " ", "a", "b", "\u3000"]), max_size=30))
def test_metaspace_split_gives_hf_merged_with_next_words(text):
    """Metaspace's split: each replacement starts a word (HF's MergedWithNext on it)."""
    expected_text = text.replace(" ", "\u2581")
    expected = class_spans(regex.compile("\u2581"), expected_text, "MergedWithNext")
    piece, spans = Metaspace(prepend_scheme="never", split=True).word_spans(Normalized(text))
    assert (piece.text, spans) == (expected_text, expected)


@pytest.mark.parametrize("pattern", [r"\p{N}{1,3}", "[一-龥]+", r"\s+(?!\S)|\s+|\S+", "x*", "(?i)ab"])
@given(st.text(st.sampled_from(list("12345 一二ab AB\nx")), max_size=30))
def test_isolated_splits_refine_as_their_matches_and_the_text_between(pattern, text):
    """A Sequence step's fast path (findall, or split with the pattern as a group) gives Split's own words."""
    step, first = Split({"Regex": pattern}, "Isolated"), WhitespaceSplit()
    for _ in range(2):  # the first text may teach it that the pattern leaves text between its matches
        spans = SequencePreTokenizer([first, step]).split_spans(text)
        pieces = [text[s:e] for s, e in first.split_spans(text)]
        assert [text[s:e] for s, e in spans] == [p[s:e] for p in pieces for s, e in step.split_spans(p)]


def test_whitespace_and_bert_pretokenizers(backend):
    assert make_pre_tokenizer("whitespace").words(" a  b\tc\n") == ["a", "b", "c"]
    assert make_pre_tokenizer("bert").words("Hello, world! (x+y)=z's") == [
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
    assert BertPreTokenizer().words("“quoted”—dash") == ["“", "quoted", "”", "—", "dash"]


@given(st.text(st.sampled_from(list(" \t\n\u3000\u2028\xa0.,!?;:-()«»¡¿$+^`|~\u0301٣a한国é\U0001f642")), max_size=40))
def test_bert_words_follow_the_pattern_on_both_backends(text):
    """BERT's words natively (a program over the character classes) are the BERT pattern's matches."""
    expected = regex.findall(BERT_PATTERN, text)
    for name in ("python", "native") if _backend._native is not None else ("python",):
        with _backend.using(name):
            assert BertWords().words(text) == expected
            assert [text[s:e] for s, e in BertPreTokenizer().split_spans(text)] == expected


def test_custom_pattern_and_errors():
    pre = RegexSplit(r"\d+|\D+")
    assert pre.words("ab12cd") == ["ab", "12", "cd"]
    assert PRE_TOKENIZERS.from_dict(pre.to_dict()).pattern == pre.pattern
    with pytest.raises(ValueError, match="pre-tokenizer: bad regex"):
        RegexSplit("(")
    with pytest.raises(ValueError, match="unknown pre-tokenizer"):
        make_pre_tokenizer("nope")


PRES = [GPT2(), WhitespaceRuns(), BertWords(), WhitespaceSplit(), BertPreTokenizer(), RegexSplit(r"\w+")]
TEXT = "Hello, world!  It's 2024...\n\n  안녕 🙂 a-b"


@pytest.mark.parametrize("pre", PRES)
def test_registry_round_trips(pre):
    again = PRE_TOKENIZERS.from_dict(pre.to_dict())
    assert type(again) is type(pre) and again.words(TEXT) == pre.words(TEXT)
    assert PRE_TOKENIZERS.from_hf(pre.to_hf()).words(TEXT) == pre.words(TEXT)  # HF's form splits the same


def test_a_behavior_it_does_not_know_is_refused():
    with pytest.raises(ValueError, match="unknown behavior 'Sideways'"):
        PRE_TOKENIZERS.from_hf({"type": "Split", "pattern": {"Regex": "a"}, "behavior": "Sideways", "invert": False})
    with pytest.raises(ValueError, match="unknown HF pre-tokenizer type 'UnicodeWords'"):
        PRE_TOKENIZERS.from_hf({"type": "UnicodeWords"})
