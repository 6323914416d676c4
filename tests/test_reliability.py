"""Hostile and careless input (issue 16), one test per class: outputs that must not be clobbered, and
corpora that are named but missing."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subtok import CorpusError, OutputError, Tokenizer

from .conftest import SAMPLE_TEXTS


@pytest.fixture(scope="module")
def tok():
    return Tokenizer.train(SAMPLE_TEXTS * 2, vocab_size=300, min_frequency=1)


def test_outputs_are_written_whole_with_open_modes_and_never_replace_links_or_devices(tok, tmp_path):
    target = tmp_path / "target.json"
    target.write_text("precious")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    with pytest.raises(OutputError, match="symlink"):
        tok.save(link)
    assert link.is_symlink() and target.read_text() == "precious"
    with pytest.raises(OutputError, match="does not exist"):
        tok.save(tmp_path / "missing" / "tok.json")
    (tmp_path / "adir").mkdir()
    with pytest.raises(OutputError, match="directory"):
        tok.save(tmp_path / "adir")
    old = os.umask(0o022)
    try:
        tok.save(tmp_path / "new.json")
        assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o644  # as open() would make it
        (tmp_path / "new.json").chmod(0o640)
        tok.save(tmp_path / "new.json")
        assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o640  # an existing file keeps its mode
    finally:
        os.umask(old)
    assert Tokenizer.load(tmp_path / "new.json").encode(SAMPLE_TEXTS[0]).ids == tok.encode(SAMPLE_TEXTS[0]).ids
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    if os.path.exists("/dev/null"):
        tok.save("/dev/null")  # a device is written through, not replaced
        assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_cli_refuses_bad_outputs_before_any_work(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(SAMPLE_TEXTS) + "\n")
    link = tmp_path / "out.json"
    link.symlink_to(tmp_path / "elsewhere.json")
    for out, message in [(tmp_path / "missing" / "t.json", "does not exist"), (link, "symlink")]:
        res = subprocess.run(
            [sys.executable, "-m", "subtok", "train", str(corpus), "-o", str(out), "-q"], capture_output=True, text=True
        )
        assert res.returncode == 1 and message in res.stderr and "Traceback" not in res.stderr
    assert link.is_symlink() and not (tmp_path / "elsewhere.json").exists()
    if os.path.exists("/dev/full"):
        Tokenizer.train(SAMPLE_TEXTS * 2, vocab_size=300, min_frequency=1).save(tmp_path / "t.json")
        res = subprocess.run(
            [sys.executable, "-m", "subtok", "encode", "-t", str(tmp_path / "t.json"), str(corpus), "-o", "/dev/full"],
            capture_output=True,
            text=True,
        )
        assert res.returncode == 1 and "No space" in res.stderr and "Traceback" not in res.stderr
        assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_names_of_missing_files_are_not_trained_on_as_text(tmp_path):
    with pytest.raises(CorpusError, match="corpus.txt"):
        Tokenizer.train(["corpus.txt"], vocab_size=300)
    with pytest.raises(CorpusError, match="missing.txt"):
        Tokenizer.train([str(tmp_path / "missing.txt")], vocab_size=300)
    texts = ["corpus.txt is a name", "3.14 and 2.71"]  # texts, even with dots and names in them
    assert Tokenizer.train(texts, vocab_size=270, min_frequency=1).vocab_size > 256
    as_text = Tokenizer.train_from_iterator(["corpus.txt"] * 3, vocab_size=260, min_frequency=1)
    assert as_text.decode(as_text.encode("corpus.txt").ids) == "corpus.txt"


def test_a_runaway_regex_from_a_file_is_an_error_not_a_hang(tmp_path):
    """A pattern that backtracks catastrophically loads, encodes ordinary text, and stops with an error on
    the text that would make it run for hours."""
    import json
    import time

    from subtok import InputError

    vocab = {"<unk>": 0, "a": 1, "b": 2}
    for pipeline in (
        {"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(a|aa)+$"}, "behavior": "Isolated", "invert": False}},
        {"normalizer": {"type": "Replace", "pattern": {"Regex": "(a|aa)+$"}, "content": "b"}},
    ):
        path = tmp_path / "runaway.json"
        path.write_text(json.dumps({**pipeline, "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "<unk>"}}))
        tok = Tokenizer.from_huggingface(path)
        assert tok.encode("b a b").ids
        start = time.perf_counter()
        with pytest.raises(InputError, match="ran out of time"):
            tok.encode("a" * 64 + "b")
        assert time.perf_counter() - start < 30


def test_rates_that_are_not_finite_positive_numbers_are_refused():
    """NaN, infinite or negative learning rates trained garbage (and could crash the native kernel)."""
    import numpy as np

    from subtok import SubtokError, _backend
    from subtok.lm import RNNLM, LMTrainer
    from subtok.word2vec import Word2Vec

    for bad in (float("nan"), float("inf"), -0.1, 0.0):
        with pytest.raises(SubtokError, match="lr"):
            Word2Vec(vector_size=8, lr=bad)
        with pytest.raises(SubtokError, match="lr"):
            LMTrainer(RNNLM(10, 4, 4), lr=bad)
    with pytest.raises(SubtokError, match="max_grad"):
        LMTrainer(RNNLM(10, 4, 4), max_grad=float("nan"))
    if _backend._native is not None:
        syn = np.zeros((5, 4), np.float32)
        args = (syn, syn.copy(), np.arange(5, dtype=np.int64), np.array([5], dtype=np.int64), np.ones(5), 2, 2, 0)
        with pytest.raises(ValueError, match="learning rate"):
            _backend._native.sgns_train(*args, float("nan"), 0.0, 1)


def test_word_caches_do_not_keep_long_words(backend):
    """A stream of distinct long words (a text without spaces, base64, a DNA file) must not grow the encoder
    caches without bound: words over bpe_core.CACHE_MAX_WORD are encoded but not kept."""
    import random

    from subtok.models import bpe_core

    rng = random.Random(0)
    char_bpe = Tokenizer.train(SAMPLE_TEXTS * 3, vocab_size=300, min_frequency=1, byte_level=False)
    wordpiece = Tokenizer.train(SAMPLE_TEXTS * 3, model="wordpiece", vocab_size=300, min_frequency=1)
    for tok in (char_bpe, wordpiece):
        words = ["".join(rng.choice("abcdefgh") for _ in range(bpe_core.CACHE_MAX_WORD + 50)) for _ in range(20)]
        for word in words:
            assert tok.model.encode_word(word) == tok.model.encode_word(word)
        assert not any(w in tok.model._cache for w in words)
        tok.model.encode_word("short")
        assert "short" in tok.model._cache


def test_untrusted_text_cannot_become_special_ids(backend):
    """Under the recipe for untrusted text (``allowed_special=()``), text that spells a special token is
    ordinary text in encode and encode_batch, on the whole-text encoders and the general path alike."""
    from subtok import InputError

    bpe = Tokenizer.train(SAMPLE_TEXTS * 2, vocab_size=300, min_frequency=1, special_tokens=["<|endoftext|>"])
    bert = Tokenizer.train(SAMPLE_TEXTS * 2, model="wordpiece", vocab_size=300, min_frequency=1)
    for tok, special in ((bpe, "<|endoftext|>"), (bert, "[CLS]")):
        sid = tok.token_to_id(special)
        texts = [f"hello {special} world", special, ("pair", f"x{special}y")]
        assert sid in tok.encode(texts[0], add_special_tokens=False).ids  # the default (HF's): the special
        untrusted = dict(allowed_special=(), add_special_tokens=False)
        assert sid not in tok.encode(texts[0], **untrusted).ids
        assert sid not in tok.encode(*texts[2], **untrusted).ids
        assert all(sid not in e.ids for e in tok.encode_batch(texts, **untrusted))
        assert all(sid not in e.ids for e in tok.encode_batch(texts, num_threads=2, **untrusted))
        with pytest.raises(InputError, match="disallowed"):
            tok.encode_batch(texts, allowed_special=(), disallowed_special="all")


def test_one_tokenizer_shared_by_eight_threads_gives_single_thread_results(backend):
    """encode, encode_batch, decode and lazy offsets from 8 threads at once equal one thread's results."""
    from concurrent.futures import ThreadPoolExecutor

    texts = [t * (1 + k % 3) + f" {k}" for k, t in enumerate(SAMPLE_TEXTS * 3)]
    tokenizers = [
        Tokenizer.train(SAMPLE_TEXTS * 2, vocab_size=300, min_frequency=1),
        Tokenizer.train(SAMPLE_TEXTS * 2, model="wordpiece", vocab_size=300, min_frequency=1),
        Tokenizer.train(SAMPLE_TEXTS * 2, model="unigram", vocab_size=300),
    ]
    for tok in tokenizers:

        def work(k, tok=tok):
            text = texts[k % len(texts)]
            enc = tok.encode(text)
            batch = tok.encode_batch(texts[k % 7 :: 7], num_threads=2)
            return enc.ids, enc.offsets, tok.decode(enc.ids), [(e.ids, e.offsets) for e in batch]

        want = [work(k) for k in range(32)]
        fresh = Tokenizer.from_dict(tok.to_dict())  # cold caches, built under contention
        with ThreadPoolExecutor(8) as pool:
            got = list(pool.map(work, range(32), [fresh] * 32))
        assert got == want


def test_byte_order_marks_and_pipes(tmp_path, tok):
    """A byte-order mark at the start of a corpus, a tokenizer file or a vocab.txt is dropped, not glued to
    the first word; a corpus can be a pipe, read once front to back."""
    import threading

    bom = b"\xef\xbb\xbf"
    corpus = tmp_path / "bom.txt"
    corpus.write_bytes(bom + b"hello world\nhello there\n")
    words = Tokenizer.train(corpus, model="word", vocab_size=20, min_frequency=1)
    assert "hello" in words.vocab and "\ufeffhello" not in words.vocab
    tok.save(tmp_path / "t.json")
    (tmp_path / "bom.json").write_bytes(bom + (tmp_path / "t.json").read_bytes())
    assert Tokenizer.load(tmp_path / "bom.json").encode("hello").ids == tok.encode("hello").ids
    (tmp_path / "vocab.txt").write_bytes(bom + b"[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n")
    assert Tokenizer.from_bert_vocab(tmp_path / "vocab.txt").token_to_id("[PAD]") == 0
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(b"alpha beta\ngamma alpha\n"))
    writer.start()
    piped = Tokenizer.train(str(fifo), model="word", vocab_size=20, min_frequency=1)
    writer.join()
    assert {"alpha", "beta", "gamma"} <= set(piped.vocab)
    res = subprocess.run(
        [sys.executable, "-m", "subtok", "train", "/dev/stdin", "--model", "word", "--vocab-size", "20",
         "--min-frequency", "1", "-o", str(tmp_path / "w.json"), "-q"],
        input=b"alpha beta\ngamma alpha\n", capture_output=True,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "gamma" in Tokenizer.load(tmp_path / "w.json").vocab


def test_vectors_are_one_file_and_a_mismatched_pair_is_refused(tmp_path):
    """KeyedVectors.save writes one file (no crash between two writes can pair vectors with another save's
    words); an older pair whose vocabulary does not fit its vectors is an error, not a silent mix-up."""
    import numpy as np

    from subtok import FileFormatError, Vocab
    from subtok.vectors import KeyedVectors

    kv = KeyedVectors(np.arange(12, dtype=np.float32).reshape(3, 4), Vocab(["a", "b", "c"]))
    kv.save(tmp_path / "kv.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kv.npz"]
    again = KeyedVectors.load(tmp_path / "kv.npz")
    assert list(again.vocab) == ["a", "b", "c"] and np.array_equal(again.vectors, kv.vectors)
    np.savez(tmp_path / "old.npz", vectors=np.zeros((2, 4), np.float32))  # the older two-file form, mismatched
    Vocab(["a", "b", "c"]).save(tmp_path / "old.npz.json")
    with pytest.raises(FileFormatError, match="vocabulary of 3"):
        KeyedVectors.load(tmp_path / "old.npz")


def _documents():
    """Valid tokenizer documents, ours and HF's, for the mutation fuzz (trained once)."""
    from subtok import interop

    docs = []
    for options in (dict(), dict(model="wordpiece"), dict(model="word"), dict(model="unigram"), dict(byte_level=False)):
        tok = Tokenizer.train(SAMPLE_TEXTS * 2, vocab_size=300, min_frequency=1, **options)
        docs.append(("ours", tok.to_dict()))
        if options.get("model") != "unigram":
            docs.append(("hf", interop.to_huggingface(tok)))
    return docs


_DOCS: list = []
_VALUES = [None, True, -1, 0, 10**12, 2**70, 1.5, float("nan"), "", "x", "<unk>", [], {}, [1, 2], {"a": 1},
           [[1, 2]], ["a", "b"], [None], [[[[[[1]]]]]], {"type": "Sequence"}]  # fmt: skip


def _paths(x, prefix=()):
    yield prefix
    if isinstance(x, dict):
        for k, v in x.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(x, list):
        for i in sorted(set(range(min(4, len(x)))) | set(range(max(0, len(x) - 2), len(x)))):
            yield from _paths(x[i], prefix + (i,))


@settings(max_examples=250, deadline=None)
@given(st.data())
def test_mutated_tokenizer_files_give_our_error_or_a_working_tokenizer(data):
    """Fields dropped, retyped, duplicated or given huge values, in our JSON and HF's tokenizer.json: the
    library's error naming the problem, or a tokenizer that encodes and decodes; never another exception."""
    import copy

    from subtok import SubtokError, interop

    if not _DOCS:
        _DOCS.extend(_documents())
    kind, doc = data.draw(st.sampled_from(_DOCS))
    d = copy.deepcopy(doc)
    path = data.draw(st.sampled_from(list(_paths(d))[1:]))
    parent = d
    for key in path[:-1]:
        parent = parent[key]
    action = data.draw(st.sampled_from(["drop", "duplicate", "replace"]))
    if action == "drop" and isinstance(parent, dict):
        del parent[path[-1]]
    elif action == "duplicate" and isinstance(parent, list):
        parent.append(copy.deepcopy(parent[path[-1]]))
    else:
        parent[path[-1]] = copy.deepcopy(data.draw(st.sampled_from(_VALUES)))
    try:
        tok = Tokenizer.from_dict(d) if kind == "ours" else Tokenizer(**interop.components_from_huggingface(d))
        for text in SAMPLE_TEXTS[:3]:
            enc = tok.encode(text)
            assert len(enc.offsets) == len(enc.ids) == len(enc.tokens)
            tok.decode(enc.ids)
        tok.encode_batch(SAMPLE_TEXTS[:3], padding=True)
    except SubtokError:
        pass


_FILES: dict = {}


def _files(folder) -> dict:
    """Valid files of every other format we read, as bytes: GPT-2's vocab.json/merges.txt, BERT's vocab.txt,
    a tiktoken rank file, a SentencePiece .model, KeyedVectors and RNNLM .npz files."""
    import base64
    import json

    import numpy as np

    from subtok import Vocab, interop
    from subtok.lm import RNNLM
    from subtok.vectors import KeyedVectors

    byte_level = Tokenizer.train(SAMPLE_TEXTS * 2, vocab_size=300, min_frequency=1)
    hf = interop.to_huggingface(byte_level)
    merges = "\n".join(m if isinstance(m, str) else " ".join(m) for m in hf["model"]["merges"])
    ranks = byte_level.to_tiktoken()._mergeable_ranks if _has("tiktoken") else {}
    files = {
        "vocab.json": json.dumps(hf["model"]["vocab"]).encode(),
        "merges.txt": ("#version: 0.2\n" + merges + "\n").encode(),
        "r.tiktoken": b"".join(base64.b64encode(t) + b" %d\n" % r for t, r in ranks.items()),
    }
    Tokenizer.train(SAMPLE_TEXTS * 2, vocab_size=300, model="wordpiece").save_bert_vocab(folder / "vocab.txt")
    Tokenizer.train(SAMPLE_TEXTS * 3, vocab_size=150, model="unigram").save_sentencepiece(folder / "m.model")
    KeyedVectors(np.arange(12, dtype=np.float32).reshape(3, 4), Vocab(["a", "b", "c"])).save(folder / "kv.npz")
    RNNLM(vocab_size=20, wordvec_size=4, hidden_size=4).save(folder / "lm.npz")
    for name in ("vocab.txt", "m.model", "kv.npz", "lm.npz"):
        files[name] = (folder / name).read_bytes()
    return {name: data for name, data in files.items() if data}


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_damaged_files_of_every_other_format_give_our_error_or_a_working_object(tmp_path_factory, data):
    """Bytes cut, flipped, lines inserted, dropped or duplicated, numbers made huge or negative, in each
    format besides tokenizer JSON (which the test above mutates by field): the library's error or an object
    that works; never another exception (a damaged .npz was a raw BadZipFile, EOFError or
    NotImplementedError), and no array allocated from a size the file does not hold."""
    import re

    import numpy as np

    from subtok import SubtokError
    from subtok.lm import RNNLM
    from subtok.vectors import KeyedVectors

    folder = tmp_path_factory.mktemp("files") if not _FILES else _FILES["folder"]
    if not _FILES:
        _FILES.update(_files(folder), folder=folder)
    name = data.draw(st.sampled_from(sorted(k for k in _FILES if k != "folder")))
    blob = _FILES[name]
    action = data.draw(st.sampled_from(["cut", "flip", "insert", "drop", "duplicate", "number"]))
    lines = blob.split(b"\n")
    at = data.draw(st.integers(0, len(lines) - 1))
    if action == "cut":
        blob = blob[: data.draw(st.integers(0, len(blob)))]
    elif action == "flip":
        k = data.draw(st.integers(0, len(blob) - 1))
        blob = blob[:k] + bytes([data.draw(st.integers(0, 255))]) + blob[k + 1 :]
    elif action == "number":
        big = data.draw(st.sampled_from([b"99999999999999", b"-3", b"0", b"1e400"]))
        blob = re.sub(rb"\d+", lambda m: big, blob, count=data.draw(st.integers(1, 3)))
    else:
        nasty = data.draw(st.sampled_from([b"", b"\xff\xfe", b"a b c", b"\x00", b"-1", b"AA== -5", b"x" * 3000]))
        lines[at : at + 1] = {"insert": [nasty, lines[at]], "drop": [], "duplicate": [lines[at]] * 2}[action]
        blob = b"\n".join(lines)
    path = folder / f"damaged-{name}"
    path.write_bytes(blob)
    try:
        if name in ("vocab.json", "merges.txt"):
            pair = {"vocab.json": folder / "vocab.json", "merges.txt": folder / "merges.txt", name: path}
            for original in ("vocab.json", "merges.txt"):
                (folder / original).write_bytes(_FILES[original])
            tok = Tokenizer.from_gpt2_files(pair["vocab.json"], pair["merges.txt"])
        elif name.endswith(".npz"):
            loaded = KeyedVectors.load(path) if name == "kv.npz" else RNNLM.load(path)
            if name == "kv.npz":
                loaded.most_similar(loaded.vocab.id_to_word[0])
            else:
                loaded.predict(np.array([[1, 2]]))
            return
        else:
            load = {"vocab.txt": Tokenizer.from_bert_vocab, "m.model": Tokenizer.from_sentencepiece}.get(name)
            tok = load(path) if load else Tokenizer.from_tiktoken(path, pattern="gpt2")
        for text in SAMPLE_TEXTS[:3]:
            tok.decode(tok.encode(text).ids)
    except SubtokError:
        pass


def test_truncated_files_are_errors_naming_the_file(tmp_path, tok):
    from subtok import TokenizerFileError

    tok.save(tmp_path / "t.json")
    data = (tmp_path / "t.json").read_bytes()
    for cut in (1, len(data) // 3, len(data) - 2):
        (tmp_path / "cut.json").write_bytes(data[:cut])
        with pytest.raises(TokenizerFileError, match="cut.json"):
            Tokenizer.load(tmp_path / "cut.json")


def test_thousands_of_special_tokens_match_as_a_few_do(backend, tok):
    """Special tokens are matched through a trie (native and Python alike), so thousands that share a
    prefix are found as the longest at each point, exactly as a scan of the list would find them."""
    many = Tokenizer.from_dict(tok.to_dict())
    specials = [f"<|special_{k}|>" for k in range(3000)] + ["<|special_1", "<|spec"]
    many.add_special_tokens(specials)
    text = "a <|special_12|> b <|special_1 <|special_299|><|spec <|special_3000|> <|special_2999|>"
    ids = many.encode(text).ids
    found = [many.id_to_token(i) for i in ids if many.id_to_token(i) in set(specials)]
    assert found == ["<|special_12|>", "<|special_1", "<|special_299|>", "<|spec", "<|spec", "<|special_2999|>"]
    assert [e.ids for e in many.encode_batch([text] * 3)] == [ids] * 3


def test_a_saved_model_cannot_ask_for_enormous_layers(tmp_path):
    """An .npz whose config claims sizes its weights do not have, or whose array header claims more than
    the file holds, is refused before anything is allocated."""
    import io
    import zipfile

    import numpy as np

    from subtok import FileFormatError
    from subtok.lm import RNNLM
    from subtok.vectors import KeyedVectors

    model = RNNLM(10, 4, 4)
    model.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz") as data:
        arrays = {k: data[k] for k in data.files}
    for change in ({"hidden_size": 10**9}, {"vocab_size": 10**12}, {"num_layers": 10**6}, {"cell": "bogus"}):
        config = {**model.config, **change}
        np.savez(tmp_path / "bad.npz", **{**arrays, "config": np.array(repr(config))})
        with pytest.raises(FileFormatError, match="bad.npz"):
            RNNLM.load(tmp_path / "bad.npz")
    assert RNNLM.load(tmp_path / "m.npz").config == model.config
    member = io.BytesIO()  # an array header that claims 10^12 floats over 16 bytes: refused, nothing allocated
    np.lib.format.write_array_header_1_0(member, {"descr": "<f4", "fortran_order": False, "shape": (10**12,)})
    with zipfile.ZipFile(tmp_path / "huge.npz", "w") as archive:
        archive.writestr("vectors.npy", member.getvalue() + bytes(16))
    with pytest.raises(FileFormatError, match=r"huge.npz: .*'vectors' claims shape \(1000000000000,\)"):
        KeyedVectors.load(tmp_path / "huge.npz")


@pytest.mark.parametrize("model", ["bpe", "wordpiece", "word", "unigram"])
def test_word_counts_must_be_positive_integers(model):
    from subtok import TrainingError
    from subtok.models import TRAINERS

    trainer = TRAINERS[model](vocab_size=300)
    for counts in ({"hello": 2.5}, {"hello": -3}, {"hello": 0}, {"hello": True}, {"hello": "x"}, {3: 4}, ["hello"]):
        with pytest.raises(TrainingError):
            trainer.train(counts)


def test_bad_arguments_are_our_errors_naming_them(tok):
    """Arguments of the wrong type or range: an InputError (or OutputError) naming the argument, never a
    raw TypeError, and never a silent reading (a str allowed_special taken as its characters)."""
    from subtok import InputError, OutputError

    calls = {
        "ids must be integers": [lambda: tok.decode([1.5]), lambda: tok.decode(["a"])],
        "decode takes": [lambda: tok.decode(None)],
        "encode_batch takes": [lambda: tok.encode_batch(None)],
        "id_to_token takes": [lambda: tok.id_to_token("x")],
        "seed must be": [lambda: tok.encode("hi", dropout=0.1, seed=[1])],
        "num_threads must be": [
            lambda: tok.encode_batch(["a"], num_threads="x"),
            lambda: tok.encode_batch(["a"], num_threads=0),
        ],
        "max_length must be": [lambda: tok.encode_batch(["a"], truncation=True, max_length=-1)],
        "allowed_special must be": [lambda: tok.encode("hi", allowed_special="x")],
        "num_workers must be": [lambda: Tokenizer.train(["a b"], num_workers="x")],
    }  # fmt: skip
    for message, fns in calls.items():
        for fn in fns:
            with pytest.raises(InputError, match=message):
                fn()
    with pytest.raises(OutputError, match="output path"):
        tok.save(None)
    import numpy as np

    assert tok.decode(np.array(tok.encode("hello").ids)) == tok.decode(tok.encode("hello").ids)  # numpy ints do


@pytest.mark.parametrize("model, options", [("bpe", {}), ("bpe", {"byte_level": False}), ("word", {}),
                                            ("wordpiece", {}), ("unigram", {})])  # fmt: skip
def test_a_very_long_line_is_counted_word_by_word(monkeypatch, tmp_path, model, options):
    """A line of many MB is read in parts (cut between characters), cut between words where the words of
    both sides are the words of the whole, and its words counted as they are found (its list of words would
    take many times its size): the counts equal those of the usual path, which holds each line whole. Here
    the sizes are shrunk so that a line of a few kB is "long"."""
    from subtok import corpus
    from subtok.models import TRAINERS

    line = " ".join(t.replace("\n", " ") for t in SAMPLE_TEXTS * 3) + "  x   é€😀 y\tz <unk>\u3000w"
    path = tmp_path / "line.txt"
    path.write_text("short line\n" + line + "\n" + "€" * 300 + "\nend\n" + line, encoding="utf-8")
    trainer = TRAINERS[model](vocab_size=300, **options)
    pre = trainer.default_pre_tokenizer()
    count_pre, cut, strip = trainer.word_splitting(pre)
    splitter = corpus.WordSplitter(
        [n.to_dict() for n in trainer.default_normalizers()], count_pre.to_dict(), cut, strip
    )
    usual = corpus.count_words(path, splitter, num_workers=1)
    for name, value in (
        ("BLOCK_SIZE", 64),
        ("LONG_TEXT", 50),
        ("CHUNK_SIZE", 16),
        ("THREADED_CHUNK_SIZE", 16),
        ("LOOKAHEAD", 20),
    ):
        monkeypatch.setattr(corpus, name, value)
    parts = list(corpus.read_line_parts(path))
    assert "".join(text for text, _ in parts) == path.read_text(encoding="utf-8")
    assert sum(more for _, more in parts) > 100 and [more for _, more in parts][-1] is False
    assert corpus.count_words(path, splitter, num_workers=1) == usual


def test_two_trainings_at_once_give_what_each_gives_alone():
    """Training in two threads at the same time (BPE, WordPiece, Unigram) gives the models sequential runs
    give: the trainers share no state."""
    import json
    from concurrent.futures import ThreadPoolExecutor

    jobs = [dict(model="bpe"), dict(model="wordpiece"), dict(model="unigram"), dict(model="bpe", byte_level=False)]

    def train(options):
        tok = Tokenizer.train(SAMPLE_TEXTS * 3, vocab_size=300, **options)
        return json.dumps(tok.to_dict(), sort_keys=True)

    alone = [train(job) for job in jobs]
    with ThreadPoolExecutor(2) as pool:
        assert list(pool.map(train, jobs + jobs)) == alone + alone


def test_lowercase_comes_from_the_pinned_table_not_the_running_python():
    """Lowercasing (Lowercase, BertNormalizer, the book's preprocess) reads the table generated from HF's
    Lowercase, so it agrees with HF on every code point, newer characters included, whatever Unicode
    version the running Python has (Python 3.11's str.lower leaves U+A7CB alone; HF gives U+0264)."""
    from subtok.normalizers import BertNormalizer, Lowercase
    from subtok.vocab import preprocess

    assert Lowercase().normalize_str("\ua7cbΣΑΣ İ") == "\u0264σασ i\u0307"  # no final-sigma rule, as HF
    assert preprocess("\ua7cb .")[1].id_to_word == ["\u0264", "", "."]
    hf = pytest.importorskip("tokenizers").normalizers
    chars = "".join(chr(cp) for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF)
    assert Lowercase().normalize_str(chars) == hf.Lowercase().normalize_str(chars)
    ours = BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True)
    theirs = hf.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True)
    spaced = " ".join(chars[:0x1F800])  # planes 0-1, each character on its own (no mark moves across another)
    assert ours.normalize_str(spaced) == theirs.normalize_str(spaced)
