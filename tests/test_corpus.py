from collections import Counter

import pytest

from subtok import CorpusError, _backend, corpus, datasets
from subtok.corpus import WordSplitter, corpus_files, count_words, iter_texts, read_lines

GPT2 = WordSplitter([], {"type": "gpt2"})


def test_sources(tmp_path):
    a = tmp_path / "a.txt"
    a.write_text("one\ntwo\n")
    b = tmp_path / "b.txt"
    b.write_text("three")
    assert corpus_files(str(a)) == [a]
    assert corpus_files([a, b]) == [a, b]
    assert corpus_files([str(a), str(b)]) == [a, b]
    assert corpus_files(["just some text", "more text"]) is None
    assert list(iter_texts([a, b])) == ["one\n", "two\n", "three"]
    assert list(iter_texts(t for t in ["x", "y"])) == ["x", "y"]


def test_missing_path_and_directory(tmp_path):
    with pytest.raises(CorpusError, match="not found"):
        list(iter_texts(str(tmp_path / "missing.txt")))
    with pytest.raises(CorpusError, match="directory"):
        list(iter_texts(tmp_path))
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(CorpusError, match="not found"):
        corpus_files([tmp_path / "a.txt", tmp_path / "no-such-file.txt"])
    # strings are files only when every one is a file: "/" alone is a (Korean review's) text
    assert corpus_files([str(tmp_path / "a.txt"), "/"]) is None


def test_non_utf8_names_file_and_byte_offset(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_bytes(b"good line\nsecond \xff line\n")
    with pytest.raises(CorpusError, match=r"bad\.txt: not valid UTF-8 at byte offset 17.*errors='replace'"):
        list(iter_texts(p))
    assert list(iter_texts(p, errors="replace"))[1] == "second \ufffd line\n"


def test_non_str_item():
    with pytest.raises(CorpusError, match="item 1 is int"):
        list(iter_texts(["ok", 3]))


def test_empty_corpus(tmp_path):
    p = tmp_path / "empty.txt"
    p.write_text("")
    with pytest.raises(CorpusError, match="empty"):
        count_words(p, GPT2)
    with pytest.raises(CorpusError, match="empty"):
        count_words([], GPT2)


def test_read_lines_streams_across_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus, "BLOCK_SIZE", 7)
    p = tmp_path / "t.txt"
    text = "first line\nsé\ncond\n\nlong line without newline at the end 안녕"
    p.write_text(text, encoding="utf-8")
    assert "".join(read_lines(p)) == text
    assert list(read_lines(p)) == text.splitlines(keepends=True)


def test_parallel_counts_equal_serial(tmp_path, monkeypatch, shared_data, backend):
    """Chunks counted on two worker processes (pure Python) or two native threads give the serial counts,
    and the native core's words come in the order a serial pass first sees them."""
    src = shared_data / "tinyshakespeare" / "input.txt"
    serial = count_words(src, GPT2, num_workers=1)
    monkeypatch.setattr(corpus, "CHUNK_SIZE", 50_000)
    monkeypatch.setattr(corpus, "THREADED_CHUNK_SIZE", 300_000)
    monkeypatch.setattr(corpus, "PARALLEL_MIN_BYTES", 0)
    parallel = count_words([src, src], GPT2, num_workers=2)
    assert parallel == Counter({w: 2 * c for w, c in serial.items()})
    if backend == "native":
        with _backend.using("python"):
            assert list(parallel) == list(count_words(src, GPT2, num_workers=1))


def test_special_tokens_are_not_counted_as_words():
    splitter = WordSplitter([], {"type": "whitespace"}, ["<eos>"])
    counts = count_words(["a b<eos>c <eos>"], splitter)
    assert counts == Counter({"a": 1, "b": 1, "c": 1})


def test_named_corpora_stay_reachable_from_corpus():
    assert corpus.load is datasets.load and corpus.load_texts is datasets.load_texts
