"""WordCounts: counted words saved, loaded and merged exactly, counted in bounded memory, and trained on
(Tokenizer.train_from_counts gives what Tokenizer.train gives)."""

import random
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from subtok import FileFormatError, InputError, Tokenizer, TrainingError
from subtok import corpus as corpus_module
from subtok.corpus import WordCounts

from .conftest import SAMPLE_TEXTS

TEXTS = SAMPLE_TEXTS + [f"line {k} with word{k % 17} and <eos> marks" for k in range(200)]


@pytest.mark.parametrize(
    "model, options",
    [
        ("bpe", {"vocab_size": 400, "min_frequency": 1}),
        ("bpe", {"vocab_size": 300, "byte_level": False, "special_tokens": ["<unk>"]}),
        ("wordpiece", {"vocab_size": 300}),
        ("word", {"vocab_size": 50}),
        ("unigram", {"vocab_size": 150}),
    ],
)
def test_training_from_counts_gives_what_training_gives(backend, model, options, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        direct = Tokenizer.train(TEXTS, model=model, show_progress=False, **options)
        counts = WordCounts.from_corpus(TEXTS, model=model, **options)
        path = tmp_path / "counts.bin"
        counts.save(path)
        again = Tokenizer.train_from_counts(WordCounts.load(path), model=model, show_progress=False, **options)
    assert again.get_vocab() == direct.get_vocab()
    assert [again.encode(t).ids for t in TEXTS[:20]] == [direct.encode(t).ids for t in TEXTS[:20]]


def test_counts_of_a_tokenizers_pipeline(tmp_path):
    tok = Tokenizer.train(TEXTS, model="wordpiece", vocab_size=300, show_progress=False)
    counts = WordCounts.from_corpus(TEXTS, tok)
    assert counts.splitting["normalizers"] == [n.to_dict() for n in tok.normalizers]
    assert counts["line"] == 200 and "<eos>" not in counts  # BERT's lowercasing; a special token is cut out


def test_shards_merge_exactly_in_any_order(tmp_path):
    shards = [WordCounts.from_corpus(TEXTS[k::3]) for k in range(3)]
    whole = WordCounts.from_corpus(TEXTS)
    orders = [shards[0].merge(shards[1], shards[2]), shards[2].merge(shards[0]).merge(shards[1])]
    for k, merged in enumerate(orders):
        assert merged == whole
        merged.save(tmp_path / f"m{k}.bin")
    assert (tmp_path / "m0.bin").read_bytes() == (tmp_path / "m1.bin").read_bytes()


surrogates = st.sampled_from("\ud800\udfff")
words_st = st.text(st.characters(blacklist_categories=("Cs",)) | surrogates, min_size=1, max_size=6)


@given(st.lists(st.dictionaries(words_st, st.integers(1, 2**40), max_size=12), min_size=1, max_size=4))
def test_messages_merge_as_the_counts_do(shards):
    """merge_bytes of to_bytes messages (the native core's table where built) equals merge of the objects
    and from_bytes of each, lone surrogates included, on both backends."""
    parts = [WordCounts(c, {"k": 1}) for c in shards]
    expected = parts[0].merge(*parts[1:])
    for name in ("python", "native"):
        if name == "native" and corpus_module._backend._native is None:
            continue
        with corpus_module._backend.using(name):
            merged = WordCounts.merge_bytes(p.to_bytes() for p in parts)
            assert merged == expected and merged.to_bytes() == expected.to_bytes()
            utf8 = lambda w: w.encode("utf-8", "surrogatepass")  # noqa: E731  (a message's words are sorted so)
            assert list(merged) == list(dict.fromkeys(w for c in shards for w in sorted(c, key=utf8)))  # first met
            unsorted = WordCounts.merge_bytes(p.to_bytes(sort=False) for p in parts)
            assert unsorted == expected and list(unsorted) == list(dict.fromkeys(w for c in shards for w in c))
            assert all(WordCounts.from_bytes(p.to_bytes()) == p for p in parts)


def test_messages_that_do_not_merge(backend):
    a, b = WordCounts({"a": 2**62, "b": 1}, None), WordCounts({"a": 2**62}, None)
    with pytest.raises(InputError, match="2\\*\\*63"):
        WordCounts.merge_bytes([a.to_bytes(), b.to_bytes()])
    with pytest.raises(InputError, match="shard 1's counts were made another way"):
        WordCounts.merge_bytes([a.to_bytes(), WordCounts({"a": 1}, {"k": 1}).to_bytes()])
    with pytest.raises(InputError, match="no shards"):
        WordCounts.merge_bytes([])
    good = WordCounts({"ab": 1, "\u00e9": 2}, None).to_bytes()
    with pytest.raises(FileFormatError, match="shard 1: .*not UTF-8"):
        WordCounts.merge_bytes([good, good[:-2] + b"\xff\xfe"])  # the last word's two bytes made bad
    with pytest.raises(FileFormatError, match="shard 0: .*version"):
        WordCounts.merge_bytes([good[:8] + b"\x09" + good[9:]])
    merge = corpus_module._backend.pick(corpus_module.bpe_core.merge_count_tables)  # the kernel's own checks
    ends = np.array([0, 2, 4], "<i8").tobytes()
    for counts, offsets in ((np.array([1, 0], "<i8"), ends), (np.array([1, 1], "<i8"), np.array([0, 3, 2], "<i8"))):
        with pytest.raises(ValueError, match="do not rise .* or a count is not positive"):
            merge([(counts.tobytes(), bytes(offsets), b"abcd")])


def test_counts_are_64_bit():
    big = WordCounts({"a": 2**62, "b": 1}, None)
    assert big.merge(WordCounts({"a": 2**62 - 1}, None))["a"] == 2**63 - 1
    with pytest.raises(InputError, match="2\\*\\*63"):
        big.merge(big)
    with pytest.raises(TrainingError, match="2\\*\\*52"):
        Tokenizer.train_from_counts(big, vocab_size=300)


def test_counts_made_another_way_do_not_mix():
    plain = WordCounts.from_corpus(TEXTS)
    other = WordCounts.from_corpus(TEXTS, special_tokens=["<eos>"])
    with pytest.raises(InputError, match="made another way"):
        plain.merge(other)
    with pytest.raises(TrainingError, match="special_tokens"):
        Tokenizer.train_from_counts(other, vocab_size=300)
    lowercase = WordCounts.from_corpus(TEXTS, model="wordpiece")
    with pytest.raises(TrainingError, match="normalizers"):
        Tokenizer.train_from_counts(lowercase, vocab_size=300)


@pytest.mark.parametrize("as_files", [False, True])
def test_a_memory_cap_spills_runs_and_counts_exactly(tmp_path, monkeypatch, as_files):
    """With a cap smaller than one word's cost, every check spills a run; the merge gives the same counts."""
    runs = []
    real_write = corpus_module._Spill._write
    monkeypatch.setattr(corpus_module._Spill, "_write", lambda self, c: runs.append(len(c)) or real_write(self, c))
    monkeypatch.setattr(corpus_module, "CHUNK_SIZE", 4096)
    monkeypatch.setattr(corpus_module, "THREADED_CHUNK_SIZE", 4096)
    monkeypatch.setattr(corpus_module, "PARALLEL_MIN_BYTES", 1)
    texts = [f"{random.Random(k).choice(['alpha', 'beta', 'gamma'])}{k % 500} and more" for k in range(30_000)]
    source = texts
    if as_files:
        source = tmp_path / "corpus.txt"
        source.write_text("\n".join(texts) + "\n", encoding="utf-8")
    capped = WordCounts.from_corpus(source, memory_cap=1, num_workers=2)
    assert len(runs) > 2
    assert capped == WordCounts.from_corpus(source, num_workers=1)
    with pytest.raises(InputError, match="memory_cap"):
        WordCounts.from_corpus(texts, memory_cap=0)


def test_damaged_files_are_refused(tmp_path):
    path = tmp_path / "c.bin"
    WordCounts.from_corpus(TEXTS).save(path)
    data = path.read_bytes()
    for damaged, what in [
        (b"nope" + data[4:], "magic"),
        (data[:8] + b"\x09" + data[9:], "version"),
        (data[:-1], "bytes where"),
        (data + b"x", "bytes where"),
    ]:
        path.write_bytes(damaged)
        with pytest.raises(FileFormatError, match=what):
            WordCounts.load(path)
    with pytest.raises(FileFormatError, match="cannot read"):
        WordCounts.load(tmp_path / "missing.bin")


@given(st.data())
def test_any_damage_gives_our_error_or_the_counts(data):
    good = WordCounts({"a": 3, "bb": 1, "ccc": 7, "\u2581x": 2}, {"k": 1})
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "c.bin"
        good.save(path)
        raw = bytearray(path.read_bytes())
        for _ in range(data.draw(st.integers(1, 4))):
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
        path.write_bytes(bytes(raw))
        try:
            loaded = WordCounts.load(path)
        except FileFormatError:
            return
        assert isinstance(loaded, WordCounts) and all(c > 0 for c in loaded.values())


OLD = [t for t in SAMPLE_TEXTS[:6]] * 5
NEW = [f"tokenization extends vocabularies: {w} {w}s {w}ing" for w in ("merge", "count", "shard", "spill")] * 20


@pytest.mark.parametrize("byte_level", [True, False])
def test_extend_keeps_every_old_id_and_merge_and_loads_in_hf(backend, tmp_path, byte_level):
    from tokenizers import Tokenizer as HF

    options = (
        {"vocab_size": 350} if byte_level else {"vocab_size": 300, "byte_level": False, "special_tokens": ["<unk>"]}
    )
    tok = Tokenizer.train(OLD, min_frequency=1, show_progress=False, **options)
    old_vocab, old_merges, n_old = tok.get_vocab(), list(tok.model.merges), tok.vocab_size
    before = [tok.encode(t).ids for t in OLD + NEW]
    assert tok.extend(NEW, 40) == 40
    assert tok.vocab_size == n_old + 40 and tok.model.merges[: len(old_merges)] == old_merges
    assert all(tok.get_vocab()[t] == i for t, i in old_vocab.items())
    after = [tok.encode(t).ids for t in OLD + NEW]
    for a, b in zip(before, after):  # where the encoding changed, a new token is in it
        assert a == b or max(b) >= n_old
    assert after != before
    tok.save_huggingface(tmp_path / "t.json")
    hf = HF.from_file(str(tmp_path / "t.json"))
    assert [hf.encode(t).ids for t in OLD + NEW] == after


def test_extend_gives_tiktoken_the_same_ranks():
    import tiktoken

    from subtok.text import GPT2_PATTERN

    tok = Tokenizer.train(OLD, vocab_size=350, min_frequency=1, special_tokens=[], show_progress=False)
    tok.extend(WordCounts.from_corpus(NEW, tok), 30)
    enc = tiktoken.Encoding("x", pat_str=GPT2_PATTERN, mergeable_ranks=tok.mergeable_ranks(), special_tokens={})
    assert [enc.encode_ordinary(t) for t in OLD + NEW] == [tok.encode(t).ids for t in OLD + NEW]


def test_extend_never_merges_across_an_unknown_character(backend):
    tok = Tokenizer.train(["abc"] * 20, vocab_size=6, min_frequency=1, byte_level=False,
                          special_tokens=["<unk>"], show_progress=False)  # fmt: skip
    n_old = tok.vocab_size
    assert tok.extend(["ababqq"] * 10, 5, min_frequency=1) > 0  # "q" is unknown: "abab" is learned, "ab<unk>" not
    new = [t for t, i in tok.get_vocab().items() if i >= n_old]
    assert "abab" in new and not any("<unk>" in t for t in new)


def test_extend_refuses_what_it_cannot_do():
    wp = Tokenizer.train(OLD, model="wordpiece", vocab_size=200, show_progress=False)
    with pytest.raises(TrainingError, match="wordpiece"):
        wp.extend(NEW, 10)
    tok = Tokenizer.train(OLD, vocab_size=350, min_frequency=1, show_progress=False)
    with pytest.raises(TrainingError, match="made another way"):
        tok.extend(WordCounts.from_corpus(NEW, model="wordpiece"), 10)
    with pytest.raises(InputError, match="n_new_tokens"):
        tok.extend(NEW, -1)
