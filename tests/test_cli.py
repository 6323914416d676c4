"""The command line: train, encode, decode and their errors (one line, no traceback, exit 1)."""

import subprocess
import sys

import pytest

from subtok import Tokenizer
from subtok.cli import main

from .conftest import SAMPLE_TEXTS


@pytest.fixture
def corpus_file(tmp_path):
    p = tmp_path / "corpus.txt"
    p.write_text("\n".join(SAMPLE_TEXTS) + "\n", encoding="utf-8")
    return p


def test_train_encode_decode_roundtrip(backend, tmp_path, corpus_file, capsys):
    tok = tmp_path / "tok.json"
    assert main(["train", str(corpus_file), "--vocab-size", "400", "--min-frequency", "1", "-o", str(tok), "-q"]) == 0
    ids_file = tmp_path / "ids.txt"
    assert main(["encode", "-t", str(tok), str(corpus_file), "-o", str(ids_file)]) == 0
    lines = ids_file.read_text().splitlines()
    assert len(lines) == len(corpus_file.read_text().splitlines())
    assert all(x.isdigit() for x in lines[0].split())
    out = tmp_path / "back.txt"
    assert main(["decode", "-t", str(tok), str(ids_file), "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == corpus_file.read_text(encoding="utf-8")
    assert main(["encode", "-t", str(tok), str(corpus_file), "--tokens"]) == 0
    assert "Ġbrown" in capsys.readouterr().out
    hf = tmp_path / "tokenizer.json"  # an HF tokenizer.json serves the commands too
    Tokenizer.load(tok).save_huggingface(hf)
    assert main(["encode", "-t", str(hf), str(corpus_file), "-o", str(tmp_path / "hf_ids.txt")]) == 0
    assert (tmp_path / "hf_ids.txt").read_text() == ids_file.read_text()
    assert main(["decode", "-t", str(hf), str(ids_file), "-o", str(tmp_path / "hf_back.txt")]) == 0
    assert (tmp_path / "hf_back.txt").read_text(encoding="utf-8") == corpus_file.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "model_args",
    [
        ["--model", "word"],
        ["--no-byte-level"],
        ["--model", "wordpiece"],
        ["--model", "wordpiece", "--scoring", "frequency"],
    ],
)
def test_train_other_models(tmp_path, corpus_file, model_args):
    tok = tmp_path / "tok.json"
    assert (
        main(
            [
                "train",
                str(corpus_file),
                "--vocab-size",
                "400",
                "--min-frequency",
                "1",
                "-o",
                str(tok),
                "-q",
                *model_args,
            ]
        )
        == 0
    )
    assert tok.exists()


def test_unigram_and_sentencepiece_models(tmp_path, corpus_file, capsys):
    model = tmp_path / "u.model"
    assert main(["train", str(corpus_file), "--model", "unigram", "--vocab-size", "400", "-o", str(model), "-q",
                 "--user-defined-symbols", "<sep>", "--byte-fallback"]) == 0  # fmt: skip
    assert Tokenizer.from_sentencepiece(model).vocab_size == 400
    ids_file = tmp_path / "ids.txt"
    assert main(["encode", "-t", str(model), str(corpus_file), "-o", str(ids_file)]) == 0
    out = tmp_path / "back.txt"
    assert main(["decode", "-t", str(model), str(ids_file), "-o", str(out)]) == 0
    lines = corpus_file.read_text(encoding="utf-8").splitlines()
    assert out.read_text(encoding="utf-8").splitlines() == [" ".join(w for w in t.split(" ") if w) for t in lines]
    drawn = [tmp_path / f"drawn{seed}.txt" for seed in (1, 1, 2)]
    for path, seed in zip(drawn, (1, 1, 2)):
        assert (
            main(["encode", "-t", str(model), str(corpus_file), "--sample", "--seed", str(seed), "-o", str(path)]) == 0
        )
    assert drawn[0].read_text() == drawn[1].read_text() != drawn[2].read_text()
    assert main(["encode", "-t", str(model), str(corpus_file), "--dropout", "0.1"]) == 1
    assert "dropout" in capsys.readouterr().err


def _run_error(args, capsys):
    code = main(args)
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" not in err and err.startswith("subtok: error:")
    return err


def test_errors_are_one_line_and_leave_nothing_behind(tmp_path, corpus_file, capsys):
    out = tmp_path / "tok.json"
    assert "not found" in _run_error(["train", str(tmp_path / "nope.txt"), "-o", str(out)], capsys)
    assert "directory" in _run_error(["train", str(tmp_path), "-o", str(out)], capsys)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok\n\xc3\x28 broken\n")
    err = _run_error(["train", str(bad), "-o", str(out)], capsys)
    assert "bad.txt" in err and "byte offset 3" in err
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n")
    assert "empty" in _run_error(["train", str(empty), "--model", "word", "-o", str(out)], capsys)
    assert "below the alphabet" in _run_error(
        ["train", str(corpus_file), "--vocab-size", "100", "-o", str(out)], capsys
    )
    assert not out.exists() and not list(tmp_path.glob(".*tmp"))
    trunc = tmp_path / "trunc.json"
    trunc.write_text('{"format": "subtok-tokenizer", "version": 1, "model": {"type": "bpe", "vocab": [')
    assert "truncated" in _run_error(["encode", "-t", str(trunc), str(corpus_file)], capsys)
    other = tmp_path / "v2.json"
    other.write_text('{"format": "subtok-tokenizer", "version": 7}')
    assert "version 7" in _run_error(["decode", "-t", str(other)], capsys)


def test_decode_reports_line_of_bad_ids(tmp_path, corpus_file, capsys):
    tok = tmp_path / "tok.json"
    main(["train", str(corpus_file), "--vocab-size", "300", "-o", str(tok), "-q"])
    ids = tmp_path / "ids.txt"
    ids.write_text("1 2 3\n4 x 5\n")
    out = tmp_path / "out.txt"
    assert "line 2" in _run_error(["decode", "-t", str(tok), str(ids), "-o", str(out)], capsys)
    ids.write_text("1 2 3\n99999\n")
    assert "line 2" in _run_error(["decode", "-t", str(tok), str(ids), "-o", str(out)], capsys)
    assert not out.exists()


def test_python_dash_m_and_help():
    res = subprocess.run([sys.executable, "-m", "subtok", "--help"], capture_output=True, text=True)
    assert res.returncode == 0 and "train" in res.stdout
    for cmd in ("train", "encode", "decode", "demo"):
        res = subprocess.run([sys.executable, "-m", "subtok", cmd, "--help"], capture_output=True, text=True)
        assert res.returncode == 0 and "usage" in res.stdout
