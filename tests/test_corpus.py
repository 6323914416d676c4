from collections import Counter
from pathlib import Path

import pytest

from subtok import CorpusError, corpus
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


def test_parallel_counts_equal_serial(tmp_path, monkeypatch, shared_data):
    src = shared_data / "tinyshakespeare" / "input.txt"
    serial = count_words(src, GPT2, num_workers=1)
    monkeypatch.setattr(corpus, "CHUNK_SIZE", 50_000)
    monkeypatch.setattr(corpus, "PARALLEL_MIN_BYTES", 0)
    parallel = count_words([src, src], GPT2, num_workers=2)
    assert parallel == Counter({w: 2 * c for w, c in serial.items()})


def test_special_tokens_are_not_counted_as_words():
    splitter = WordSplitter([], {"type": "whitespace"}, ["<eos>"])
    counts = count_words(["a b<eos>c <eos>"], splitter)
    assert counts == Counter({"a": 1, "b": 1, "c": 1})


def test_default_corpus_is_deterministic_and_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("SUBTOK_CACHE", str(tmp_path))
    path = corpus.load("default")
    assert path.parent == Path(tmp_path)
    text = path.read_text(encoding="utf-8")
    assert len(text) > 500_000 and "Return" in text
    assert corpus.default_corpus_text() == text
    with pytest.raises(CorpusError, match="unknown corpus"):
        corpus.load("no-such-corpus")


# ---------------------------------------------------------------------------------------------------------
# Named corpora: download with checksum, cache, $SUBTOK_DATA
# ---------------------------------------------------------------------------------------------------------
@pytest.fixture
def web(tmp_path):
    """A local HTTP server over a folder: a stand-in for the corpora's hosts."""
    import functools
    import http.server
    import threading

    root = tmp_path / "web"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _remote(data: bytes, url: str, **kw) -> corpus.RemoteFile:
    import hashlib

    kept = data.replace(b"\r", b"") if kw.get("transform") == "strip-cr" else data
    return corpus.RemoteFile("x/file.txt", url, hashlib.sha256(kept).hexdigest(), len(kept), **kw)


def test_download_verifies_and_caches(web, tmp_path, monkeypatch):
    root, base = web
    monkeypatch.setenv("SUBTOK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SUBTOK_DATA", str(tmp_path / "no-data-here"))
    data = b"line one\r\nline two\r\n" * 1000
    (root / "file.txt").write_bytes(data)
    remote = _remote(data, f"{base}/file.txt", transform="strip-cr")
    path = corpus.corpus_path(remote, show_progress=False)
    assert path == tmp_path / "cache" / "corpora" / "x" / "file.txt"
    assert path.read_bytes() == data.replace(b"\r", b"")
    (root / "file.txt").unlink()  # the second time comes from the cache
    assert corpus.corpus_path(remote) == path


def test_damaged_download_leaves_nothing(web, tmp_path, monkeypatch):
    root, base = web
    monkeypatch.setenv("SUBTOK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SUBTOK_DATA", str(tmp_path / "no-data-here"))
    (root / "file.txt").write_bytes(b"tampered\n")
    with pytest.raises(CorpusError, match="does not match the expected"):
        corpus.corpus_path(_remote(b"original\n", f"{base}/file.txt"))
    with pytest.raises(CorpusError, match="9 bytes, not the expected 5"):
        corpus.corpus_path(_remote(b"short", f"{base}/file.txt"))
    with pytest.raises(CorpusError, match="could not download .*missing.txt"):
        corpus.corpus_path(_remote(b"x", f"{base}/missing.txt"))
    assert not any((tmp_path / "cache").rglob("*.*"))  # no partial or damaged file left
    with pytest.raises(CorpusError, match="no public download"):
        corpus.corpus_path(_remote(b"x", None))


def test_named_corpora_come_from_subtok_data_with_checksums(shared_data, tmp_path, monkeypatch):
    assert corpus.load("ptb", "test").name == "ptb.test.txt"
    texts = corpus.load_texts("nsmc")
    assert len(texts["all"]) == 47443 and "\t" not in texts["all"][0]  # the document column
    with pytest.raises(CorpusError, match="no split 'dev'"):
        corpus.load("ptb", "dev")
    with pytest.raises(CorpusError, match="unknown corpus 'ptb2'; known: default, ptb"):
        corpus.load("ptb2")
    fake = tmp_path / "data"
    (fake / "lee").mkdir(parents=True)
    (fake / "lee" / "lee_background.cor").write_bytes(b"x" * 360082)  # the right size, not the right text
    monkeypatch.setenv("SUBTOK_DATA", str(fake))
    with pytest.raises(CorpusError, match="lee_background.cor: sha256 .* does not match"):
        corpus.load("lee")
