"""Named corpora: the generated default corpus, downloads with checksums, the cache, $SUBTOK_DATA."""

from pathlib import Path

import pytest

from subtok import CorpusError, datasets


def test_default_corpus_is_deterministic_and_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("SUBTOK_CACHE", str(tmp_path))
    path = datasets.load("default")
    assert path.parent == Path(tmp_path)
    text = path.read_text(encoding="utf-8")
    assert len(text) > 500_000 and "Return" in text
    assert datasets.default_corpus_text() == text
    with pytest.raises(CorpusError, match="unknown corpus"):
        datasets.load("no-such-corpus")


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


def _remote(data: bytes, url: str, **kw) -> datasets.RemoteFile:
    import hashlib

    kept = data.replace(b"\r", b"") if kw.get("transform") == "strip-cr" else data
    return datasets.RemoteFile("x/file.txt", url, hashlib.sha256(kept).hexdigest(), len(kept), **kw)


def test_download_verifies_and_caches(web, tmp_path, monkeypatch):
    root, base = web
    monkeypatch.setenv("SUBTOK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SUBTOK_DATA", str(tmp_path / "no-data-here"))
    data = b"line one\r\nline two\r\n" * 1000
    (root / "file.txt").write_bytes(data)
    remote = _remote(data, f"{base}/file.txt", transform="strip-cr")
    path = datasets.corpus_path(remote, show_progress=False)
    assert path == tmp_path / "cache" / "corpora" / "x" / "file.txt"
    assert path.read_bytes() == data.replace(b"\r", b"")
    (root / "file.txt").unlink()  # the second time comes from the cache
    assert datasets.corpus_path(remote) == path


def test_damaged_download_leaves_nothing(web, tmp_path, monkeypatch):
    root, base = web
    monkeypatch.setenv("SUBTOK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SUBTOK_DATA", str(tmp_path / "no-data-here"))
    (root / "file.txt").write_bytes(b"tampered\n")
    with pytest.raises(CorpusError, match="does not match the expected"):
        datasets.corpus_path(_remote(b"original\n", f"{base}/file.txt"))
    with pytest.raises(CorpusError, match="9 bytes, not the expected 5"):
        datasets.corpus_path(_remote(b"short", f"{base}/file.txt"))
    (root / "huge.txt").write_bytes(b"x" * (3 << 20))  # a server that sends far more than the file's size
    with pytest.raises(CorpusError, match="sent more than"):
        datasets.corpus_path(_remote(b"short", f"{base}/huge.txt"))
    with pytest.raises(CorpusError, match="could not download .*missing.txt"):
        datasets.corpus_path(_remote(b"x", f"{base}/missing.txt"))
    assert not any((tmp_path / "cache").rglob("*.*"))  # no partial or damaged file left
    with pytest.raises(CorpusError, match="no public download"):
        datasets.corpus_path(_remote(b"x", None))


def test_named_corpora_come_from_subtok_data_with_checksums(shared_data, tmp_path, monkeypatch):
    assert datasets.load("ptb", "test").name == "ptb.test.txt"
    texts = datasets.load_texts("nsmc")
    assert len(texts["all"]) == 47443 and "\t" not in texts["all"][0]  # the document column
    with pytest.raises(CorpusError, match="no split 'dev'"):
        datasets.load("ptb", "dev")
    with pytest.raises(CorpusError, match="unknown corpus 'ptb2'; known: default, ptb"):
        datasets.load("ptb2")
    fake = tmp_path / "data"
    (fake / "lee").mkdir(parents=True)
    (fake / "lee" / "lee_background.cor").write_bytes(b"x" * 360082)  # the right size, not the right text
    monkeypatch.setenv("SUBTOK_DATA", str(fake))
    with pytest.raises(CorpusError, match="lee_background.cor: sha256 .* does not match"):
        datasets.load("lee")
