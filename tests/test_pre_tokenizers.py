"""Pre-tokenizers: GPT-2's pattern, whitespace, BERT's and any regex; the registry reads and writes them."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from subtok.pre_tokenizers import (
    GPT2,
    PRE_TOKENIZERS,
    BertPreTokenizer,
    RegexSplit,
    WhitespaceSplit,
    make_pre_tokenizer,
)
from subtok.text import GPT2_PATTERN


def test_gpt2_pretokenizer_covers_every_character():
    pre = make_pre_tokenizer("gpt2")
    text = "Hello, world!  It's 2024...\n\n  안녕 🙂"
    words = pre.words(text)
    assert "".join(words) == text
    assert words[:4] == ["Hello", ",", " world", "!"]
    assert pre.split(text)[0] == (0, 5)
    assert pre.pattern == GPT2_PATTERN


@given(st.text())
def test_gpt2_split_is_lossless(text):
    assert "".join(GPT2().words(text)) == text


def test_whitespace_and_bert_pretokenizers():
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


def test_custom_pattern_and_errors():
    pre = RegexSplit(r"\d+|\D+")
    assert pre.words("ab12cd") == ["ab", "12", "cd"]
    assert PRE_TOKENIZERS.from_dict(pre.to_dict()).pattern == pre.pattern
    with pytest.raises(ValueError, match="bad pre-tokenizer pattern"):
        RegexSplit("(")
    with pytest.raises(ValueError, match="unknown pre-tokenizer"):
        make_pre_tokenizer("nope")


@pytest.mark.parametrize("pre", [GPT2(), WhitespaceSplit(), BertPreTokenizer(), RegexSplit(r"\w+")])
def test_registry_round_trips(pre):
    again = PRE_TOKENIZERS.from_dict(pre.to_dict())
    assert type(again) is type(pre) and again.pattern == pre.pattern
    assert PRE_TOKENIZERS.from_hf(pre.to_hf()).pattern == pre.pattern


def test_hf_split_it_cannot_read_is_refused():
    with pytest.raises(ValueError, match="unsupported Split"):
        PRE_TOKENIZERS.from_hf({"type": "Split", "pattern": {"Regex": "a"}, "behavior": "Contiguous", "invert": False})
