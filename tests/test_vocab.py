import json

import numpy as np
import pytest

from subtok import SubtokError, TokenizerFileError, Vocab, preprocess


def test_from_counts_orders_specials_then_count_then_text():
    v = Vocab.from_counts({"b": 3, "a": 3, "c": 5, "d": 1}, specials=("<unk>", "<pad>"))
    assert list(v.id_to_word) == ["<unk>", "<pad>", "c", "a", "b", "d"]
    assert v["c"] == 2 and v.unk_id == 0 and v["zzz"] == 0
    assert v.counts["c"] == 5 and v.counts["<unk>"] is None


def test_from_counts_max_size_and_min_freq():
    v = Vocab.from_counts({"a": 5, "b": 4, "c": 1}, max_size=3, min_freq=2)
    assert list(v) == ["<unk>", "a", "b"]
    with pytest.raises(SubtokError, match="max_size"):
        Vocab.from_counts({"a": 1}, max_size=0)


def test_lookups():
    v = Vocab(["<unk>", "a", "b"], unk="<unk>")
    assert len(v) == 3 and "a" in v and "z" not in v
    assert v.token(2) == "b"
    assert v.lookup_ids(["a", "b", "q"]).tolist() == [1, 2, 0]
    assert v.lookup_ids(["a"]).dtype == np.int64
    assert v.lookup_tokens(np.array([2, 1])) == ["b", "a"]
    with pytest.raises(IndexError):
        v.token(3)


def test_without_unk_unknown_raises_keyerror():
    v = Vocab(["a", "b"])
    assert v.unk_id is None
    with pytest.raises(KeyError):
        v["c"]


def test_rejects_duplicates_and_missing_unk():
    with pytest.raises(SubtokError, match="duplicate"):
        Vocab(["a", "a"])
    with pytest.raises(SubtokError, match="not in the vocabulary"):
        Vocab(["a"], unk="<unk>")


def test_save_load_roundtrip(tmp_path):
    v = Vocab.from_counts({"x": 2, "y": 1})
    v.save(tmp_path / "v.json")
    w = Vocab.load(tmp_path / "v.json")
    assert w == v and w.counts == v.counts


@pytest.mark.parametrize(
    "content, match",
    [
        ('{"format": "subtok-vocab", "version": 1, "tokens": ["a"', "truncated"),
        ('{"format": "other"}', "not a subtok vocabulary"),
        ('{"format": "subtok-vocab", "version": 99, "tokens": []}', "version 99"),
        ('{"format": "subtok-vocab", "version": 1, "tokens": ["a", "a"]}', "duplicate"),
    ],
)
def test_load_bad_files(tmp_path, content, match):
    p = tmp_path / "v.json"
    p.write_text(content)
    with pytest.raises(TokenizerFileError, match=match):
        Vocab.load(p)


def test_load_missing_file(tmp_path):
    with pytest.raises(TokenizerFileError, match="not found"):
        Vocab.load(tmp_path / "nope.json")


def test_preprocess_book_semantics():
    ids, vocab = preprocess("You say goodbye and I say hello.")
    assert ids.tolist() == [0, 1, 2, 3, 4, 1, 5, 6]
    assert list(vocab.id_to_word) == ["you", "say", "goodbye", "and", "i", "hello", "."]
    assert isinstance(ids, np.ndarray)
    assert json.loads(json.dumps(vocab.to_dict()))["tokens"][0] == "you"


def test_gaps_in_ids(tmp_path):
    """An id no token has (cl100k's specials leave some) is a gap: counted by len, None when iterating,
    an error to look up, kept through save and load."""
    vocab = Vocab.from_ids({"a": 0, "b": 1, "<eot>": 4})
    assert len(vocab) == 5 and vocab.has_gaps and list(vocab) == ["a", "b", None, None, "<eot>"]
    assert vocab["<eot>"] == 4 and "c" not in vocab
    with pytest.raises(IndexError, match="gap"):
        vocab.token(2)
    vocab.save(tmp_path / "v.json")
    assert Vocab.load(tmp_path / "v.json") == vocab
    with pytest.raises(SubtokError, match="id 1 is given to both"):
        Vocab.from_ids({"a": 1, "b": 1})
    with pytest.raises(SubtokError, match="bad vocabulary entry 'a'"):
        Vocab.from_ids({"a": 1 << 40})
    assert not Vocab(["x", "y"]).has_gaps
