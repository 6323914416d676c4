"""Streaming encode: Tokenizer.encode_iterable, the token files of subtok.token_files and `subtok encode
--format`, which stream a corpus in bounded memory and write whole files or nothing."""

import itertools
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from subtok import InputError, SubtokError, Tokenizer
from subtok.cli import main
from subtok.token_files import FORMATS, TokenFileWriter, npy_header, token_dtype

from .conftest import SAMPLE_TEXTS

fixture_ok = hsettings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def tok():
    return Tokenizer.train(SAMPLE_TEXTS, vocab_size=400, min_frequency=1, special_tokens=["<eos>"])


@fixture_ok
@given(texts=st.lists(st.text(max_size=30), max_size=12), batch_size=st.integers(1, 5))
def test_encode_iterable_gives_each_texts_ids(backend, tok, texts, batch_size):
    expected = [e.ids for e in tok.encode_batch(texts, num_threads=1)]
    assert list(tok.encode_iterable(texts, batch_size=batch_size)) == [i for ids in expected for i in ids]
    flat = list(tok.encode_iterable(iter(texts), batch_size=batch_size, return_tensors="flat"))
    assert len(flat) == -(-len(texts) // batch_size)
    got = [b["input_ids"][s:e].tolist() for b in flat for s, e in zip(b["row_splits"], b["row_splits"][1:])]
    assert got == expected


def test_encode_iterable_takes_texts_as_it_goes(tok):
    """An endless stream: each batch is taken only when its ids are asked for."""
    taken = []

    def endless():
        for k in itertools.count():
            taken.append(k)
            yield f"text number {k}"

    per_text = len(tok.encode("text number 0").ids)
    first = list(itertools.islice(tok.encode_iterable(endless(), batch_size=10), 15 * per_text))
    assert first[:per_text] == tok.encode("text number 0").ids
    assert len(taken) <= 10 * (-(-15 * per_text // (10 * per_text)) + 1)  # the batches asked for, no more


def test_encode_iterable_reads_a_file_as_it_goes(tok, tmp_path):
    """An open file gives its lines (newlines kept); the ids are each line's, in order."""
    path = tmp_path / "t.txt"
    path.write_text("".join(t + "\n" for t in SAMPLE_TEXTS[:50]), encoding="utf-8")
    with open(path, encoding="utf-8", newline="") as f:
        got = list(tok.encode_iterable(f, batch_size=8))
    with open(path, encoding="utf-8", newline="") as f:
        lines = list(f)
    assert len(lines) > 50 and got == [i for line in lines for i in tok.encode(line).ids]


def test_encode_iterable_refuses_bad_arguments(tok):
    with pytest.raises(InputError, match="batch_size"):
        tok.encode_iterable(["a"], batch_size=0)
    with pytest.raises(InputError, match="not one str"):
        tok.encode_iterable("abc")
    with pytest.raises(InputError, match="padding"):
        tok.encode_iterable(["a"], padding=True)


def test_encode_iterable_draws_reproducibly(tok):
    texts = SAMPLE_TEXTS[:30]
    one = list(tok.encode_iterable(texts, batch_size=7, dropout=0.3, seed=5, return_tensors="flat"))
    two = list(tok.encode_iterable(texts, batch_size=7, dropout=0.3, seed=5, return_tensors="flat"))
    assert [b["input_ids"].tolist() for b in one] == [b["input_ids"].tolist() for b in two]
    assert list(tok.encode_iterable(texts, batch_size=7, dropout=0.3, seed=5)) != list(tok.encode_iterable(texts))


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "ids"])
@pytest.mark.parametrize("eos", [None, 3])
def test_token_files_hold_every_texts_ids(tmp_path, fmt, eos):
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    rows = [[5, 6, 7], [], [9], [1, 2, 3, 4]]
    path = tmp_path / f"out.{fmt}"
    if eos is not None and fmt == "parquet":
        eos = None
    with TokenFileWriter(path, fmt, 70_000 if fmt == "bin" else 500, eos, {"tokenizer": "t.json"}) as w:
        for batch in (rows[:2], rows[2:]):
            splits = np.cumsum([0] + [len(r) for r in batch])
            w.write(np.array([i for r in batch for i in r], dtype=np.int32), splits)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temporary left
    if fmt == "parquet":
        import pyarrow.parquet as pq

        assert pq.read_table(path).column("ids").to_pylist() == rows
        return
    if fmt == "npy":
        flat = np.load(path)
        assert flat.dtype == np.uint16
    else:
        meta = json.loads((tmp_path / "out.bin.json").read_text())
        assert meta["dtype"] == "uint32" and meta["documents"] == 4 and meta["tokenizer"] == "t.json"
        flat = np.fromfile(path, dtype=meta["dtype"])
        assert meta["count"] == len(flat)
    if eos is None:
        offsets = np.load(tmp_path / f"out.{fmt}.offsets.npy")
        assert [flat[a:b].tolist() for a, b in zip(offsets, offsets[1:])] == rows
    else:
        assert flat.tolist() == [i for r in rows for i in [*r, eos]]


def test_npy_header_reads_back_for_large_counts(tmp_path):
    for count in (0, 7, 10**15):
        header = npy_header(token_dtype(1 << 20), count)
        assert len(header) == 128
        (tmp_path / "h.npy").write_bytes(header)
        with open(tmp_path / "h.npy", "rb") as f:
            assert np.lib.format.read_magic(f) == (1, 0)
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        assert (shape, fortran, dtype) == ((count,), False, np.dtype("<u4"))


def test_a_failed_write_leaves_the_old_file(tmp_path):
    path = tmp_path / "out.npy"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with TokenFileWriter(path, "npy", 500) as w:
            w.write(np.array([1, 2], dtype=np.int32), np.array([0, 2]))
            raise RuntimeError("interrupted")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.npy"]
    with pytest.raises(InputError, match="outside the vocabulary"):
        TokenFileWriter(path, "npy", 500, eos_id=500)
    with pytest.raises(InputError, match="unknown token file format"):
        TokenFileWriter(path, "csv", 500)


def test_syncing_behind_the_writes_keeps_every_id_and_reports_a_failed_sync(tmp_path, monkeypatch):
    """The writer puts what it has written on disk on a thread every SYNC_EVERY bytes: the file holds every
    id all the same, and a sync that fails is the close's error (the kernel reports a failed write once,
    so the final sync would not see it), leaving the old file."""
    import os

    import subtok.token_files as token_files
    from subtok import OutputError

    monkeypatch.setattr(token_files, "SYNC_EVERY", 64)
    ids = np.arange(1000, dtype=np.int32) % 500
    path = tmp_path / "out.bin"
    with TokenFileWriter(path, "bin", 500, eos_id=3) as w:
        for k in range(0, 1000, 100):
            w.write(ids[k : k + 100], np.array([0, 50, 100]))
    want = np.insert(ids.reshape(10, 2, 50), 50, 3, axis=2).reshape(-1)
    assert np.array_equal(np.fromfile(path, dtype="<u2"), want)

    def failing(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fdatasync", failing, raising=False)
    monkeypatch.setattr(os, "fsync", lambda fd: None)  # only the sync behind fails
    with pytest.raises(OutputError, match="Input/output error"):
        with TokenFileWriter(path, "bin", 500, eos_id=3) as w:
            w.write(ids, np.array([0, 1000]))
    assert np.array_equal(np.fromfile(path, dtype="<u2"), want)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin", "out.bin.json"]


@pytest.fixture
def tok_file(tmp_path, tok):
    path = tmp_path / "tok.json"
    tok.save(path)
    return path


def test_cli_encode_streams_lines_split_on_newline_only(backend, tmp_path, tok, tok_file, capsys):
    """A form feed, U+2028 and a lone carriage return stay in their line; several files are one stream."""
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_bytes("one\u2028two\x0cthree\r\nfour\n".encode())
    b.write_bytes(b"five\n\nsix")
    lines = ["one\u2028two\x0cthree\r", "four", "five", "", "six"]
    assert main(["encode", "-t", str(tok_file), str(a), str(b), "--batch-size", "2"]) == 0
    assert capsys.readouterr().out.splitlines() == [" ".join(map(str, tok.encode(t).ids)) for t in lines]
    out = tmp_path / "out.npy"
    assert (
        main(["encode", "-t", str(tok_file), str(a), str(b), "--format", "npy", "--eos", "<eos>", "-o", str(out)]) == 0
    )
    eos = tok.token_to_id("<eos>")
    assert np.load(out).tolist() == [i for t in lines for i in [*tok.encode(t).ids, eos]]
    assert "encoded 5 lines" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--format", "npy"], "give one with -o"),
        (["--format", "bin", "--tokens", "-o", "x.bin"], "--format ids only"),
        (["--format", "npy", "--eos", "<nope>", "-o", "x.npy"], "not a token"),
        (["--batch-size", "0"], "at least 1"),
    ],
)
def test_cli_encode_refuses_bad_options(tmp_path, tok_file, capsys, args, message, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.txt").write_text("a b\n")
    assert main(["encode", "-t", str(tok_file), "in.txt", *args]) == 1
    assert message in capsys.readouterr().err


def test_cli_encode_error_mid_stream_keeps_the_old_output(tmp_path, tok_file, capsys):
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text("fine text\n" * 3000)
    bad.write_bytes(b"ok\n\xff\xfe broken\n")
    out = tmp_path / "out.bin"
    out.write_bytes(b"old")
    assert main(["encode", "-t", str(tok_file), str(good), str(bad), "--format", "bin", "-o", str(out)]) == 1
    assert "not valid UTF-8" in capsys.readouterr().err
    assert out.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.txt", "good.txt", "out.bin", "tok.json"]
    link = tmp_path / "link.npy"
    link.symlink_to(out)
    assert main(["encode", "-t", str(tok_file), str(good), "--format", "npy", "-o", str(link)]) == 1
    assert "symlink" in capsys.readouterr().err


def test_cli_encode_reads_stdin(tmp_path, tok, tok_file):
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-m", "subtok", "encode", "-t", str(tok_file)],
        input=b"hello world\nsecond line\n",
        capture_output=True,
        check=True,
    )
    got = run.stdout.decode().splitlines()
    assert got == [" ".join(map(str, tok.encode(t).ids)) for t in ("hello world", "second line")]


def test_line_batches_split_on_newline_only(tmp_path, monkeypatch):
    from subtok import corpus

    monkeypatch.setattr(corpus, "BLOCK_SIZE", 7)  # lines longer than a block, and blocks cut anywhere
    lines = ["first \u2028 line\r", "", "a much longer line than one block of seven bytes", "é" * 9, "last"]
    path = tmp_path / "t.txt"
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode("utf-8"))
    batches = list(corpus.read_line_batches(path, size=2))
    assert [len(b) for b in batches] == [2, 2, 1] and [x for b in batches for x in b] == lines
    path.write_bytes(b"ok\nbad \xff here\n")
    with pytest.raises(SubtokError, match="byte offset 7"):
        list(corpus.read_line_batches(path))
