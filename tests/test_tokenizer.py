"""The Tokenizer pipeline: save/load and its validation, batches, the word-level model."""

import json

import numpy as np
import pytest

from subtok import SubtokError, Tokenizer, TokenizerFileError, TrainingError
from subtok import text as text_module
from subtok.processors import check_padding, check_truncation

from .conftest import SAMPLE_TEXTS


@pytest.fixture(scope="module")
def tok():
    return Tokenizer.train(SAMPLE_TEXTS, vocab_size=420, min_frequency=1)


def test_save_load_roundtrip(backend, tok, tmp_path):
    path = tmp_path / "tok.json"
    tok.save(path)
    loaded = Tokenizer.load(path)
    assert loaded.to_dict() == tok.to_dict()
    for text in SAMPLE_TEXTS[:6]:
        assert loaded.encode(text).ids == tok.encode(text).ids
    assert not list(tmp_path.glob("*.tmp"))


def _corrupt(d, how):
    d = json.loads(json.dumps(d))
    if how == "version":
        d["version"] = 3
    elif how == "format":
        d["format"] = "something-else"
    elif how == "merge":
        d["model"]["merges"].append(["no-such", "token"])
    elif how == "bytes":
        d["model"]["vocab"].remove("Ġ")
    elif how == "special":
        d["special_tokens"].append("<missing>")
    elif how == "vocab_type":
        d["model"]["vocab"] = {"a": 1}
    elif how == "dup":
        d["model"]["vocab"].append(d["model"]["vocab"][10])
    elif how == "model":
        d["model"]["type"] = "unigram"
    elif how == "normalizer":
        d["normalizers"] = [{"type": "bogus"}]
    return d


@pytest.mark.parametrize(
    "how, match",
    [
        ("version", "version 3"),
        ("format", "not a subtok tokenizer"),
        ("merge", "merge .* not in the vocabulary"),
        ("bytes", "merge .* not in the vocabulary"),  # a byte may be missing (HF's rule), not one merges use
        ("special", "special tokens"),
        ("vocab_type", "list of strings"),
        ("dup", "duplicate"),
        ("model", "model"),
        ("normalizer", "unknown normalizer"),
    ],
)
def test_load_rejects_bad_documents(tok, tmp_path, how, match):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(_corrupt(tok.to_dict(), how)))
    with pytest.raises(TokenizerFileError, match=match):
        Tokenizer.load(path)


def test_load_truncated_and_missing(tok, tmp_path):
    path = tmp_path / "trunc.json"
    text = json.dumps(tok.to_dict())
    path.write_text(text[: len(text) // 2])
    with pytest.raises(TokenizerFileError, match=r"trunc\.json: malformed or truncated JSON at line 1"):
        Tokenizer.load(path)
    with pytest.raises(TokenizerFileError, match="not found"):
        Tokenizer.load(tmp_path / "missing.json")
    with pytest.raises(TokenizerFileError, match="directory"):
        Tokenizer.load(tmp_path)


def test_encode_batch_padding_truncation_and_numpy(backend, tok):
    texts = ["short", "a much longer text with many more words in it", ""]
    encs = tok.encode_batch(texts)
    assert [e.ids for e in encs] == [tok.encode(t).ids for t in texts]
    padded = tok.encode_batch(texts, padding=True)
    width = max(len(e) for e in encs)
    assert all(len(e) == width for e in padded)
    assert padded[0].ids[len(encs[0]) :] == [tok.pad_id] * (width - len(encs[0]))
    assert padded[0].attention_mask == [1] * len(encs[0]) + [0] * (width - len(encs[0]))
    assert padded[0].offsets[-1] == (0, 0)
    cut = tok.encode_batch(texts, truncation=True, max_length=3, padding="max_length")
    assert [len(e) for e in cut] == [3, 3, 3]
    assert cut[1].ids == encs[1].ids[:3] and cut[1].offsets == encs[1].offsets[:3]
    arrays = tok.encode_batch(texts, return_tensors="np")
    assert arrays["input_ids"].shape == (3, width) and arrays["input_ids"].dtype == np.int64
    assert arrays["attention_mask"].sum() == sum(len(e) for e in encs)
    threaded = tok.encode_batch(SAMPLE_TEXTS, num_threads=2)
    assert [e.ids for e in threaded] == [tok.encode(t).ids for t in SAMPLE_TEXTS]


@pytest.mark.parametrize("kind", ["byte_level", "wordpiece", "unigram", "char_bpe", "word_level"])
def test_encode_lines_splits_as_a_file_and_encodes_each_line(backend, kind):
    """encode_lines: the lines of a str as a file has them ("\n" alone ends one, the last may lack it, an
    empty text has none), each encoded as encode_batch's flat form encodes it: split by the core where the
    pipeline has a whole-text encoder (byte-level, WordPiece, Unigram), else through encode_batch."""
    options = {"wordpiece": {"model": "wordpiece"}, "unigram": {"model": "unigram"}, "word_level": {"model": "word"}}
    tok = Tokenizer.train(SAMPLE_TEXTS * 3, vocab_size=150 if kind == "unigram" else 300,
                          **options.get(kind, {"byte_level": kind == "byte_level"}))  # fmt: skip
    text = "\n".join(SAMPLE_TEXTS) + "\n\nhéllo 世界 😀\r\nform\x0cfeed\u2028kept\n"
    for block in (text, text.rstrip("\n"), "", "\n", "\n\n", "one line"):
        lines = text_module.file_lines(block)
        assert lines == (block[:-1] if block.endswith("\n") else block).split("\n") if block else lines == []
        for special in (True, False):
            want = tok.encode_batch(lines, return_tensors="flat", add_special_tokens=special)
            got = tok.encode_lines(block, num_threads=2, add_special_tokens=special)
            assert got["input_ids"].tolist() == want["input_ids"].tolist()
            assert got["row_splits"].tolist() == want["row_splits"].tolist()
    with pytest.raises(SubtokError, match="encode_lines takes a str"):
        tok.encode_lines([text])


@pytest.mark.parametrize("kind", ["byte_level", "wordpiece", "char_bpe"])
def test_encode_blocks_gives_each_blocks_encode_lines_in_order(backend, kind):
    """encode_blocks: encode_lines of each block, in the blocks' order, however many threads encode them at
    once (each block on one; blocks that take different times still come out in order), and a generator
    left early stops; a pipeline without a whole-text encoder (char-level BPE) encodes them in turn."""
    options = {"wordpiece": {"model": "wordpiece"}}
    tok = Tokenizer.train(SAMPLE_TEXTS * 3, vocab_size=300, **options.get(kind, {"byte_level": kind == "byte_level"}))
    blocks = ["\n".join(SAMPLE_TEXTS[k % len(SAMPLE_TEXTS) :] * (1 + 4 * (k % 3))) + "\n" for k in range(9)]
    blocks += ["", "no newline at the end"]
    want = [tok.encode_lines(block, num_threads=1) for block in blocks]
    for threads in (1, 2, 3):
        got = list(tok.encode_blocks(iter(blocks), num_threads=threads))
        assert [g["input_ids"].tolist() for g in got] == [w["input_ids"].tolist() for w in want]
        assert [g["row_splits"].tolist() for g in got] == [w["row_splits"].tolist() for w in want]
    plain = list(tok.encode_blocks(blocks[:2], num_threads=2, add_special_tokens=False))
    assert [p["input_ids"].tolist() for p in plain] == [
        tok.encode_lines(b, add_special_tokens=False)["input_ids"].tolist() for b in blocks[:2]
    ]
    first = next(tok.encode_blocks(iter(blocks), num_threads=2))
    assert first["input_ids"].tolist() == want[0]["input_ids"].tolist()


@pytest.mark.parametrize("kind", ["byte_level", "wordpiece", "unigram", "char_bpe"])
def test_flat_batches_hold_the_ids_encode_gives(backend, kind):
    """return_tensors="flat": every text's ids one after the other and the row splits, equal to encode's
    ids (post-processor tokens included: WordPiece's [CLS]/[SEP]), on one thread and two, for texts the
    whole-text encoders take (built in the core) and for pairs and truncation (through encodings)."""
    options = {"byte_level": {}, "wordpiece": {"model": "wordpiece"}, "unigram": {"model": "unigram"}}
    tok = Tokenizer.train(SAMPLE_TEXTS * 3, vocab_size=150 if kind == "unigram" else 300,
                          **options.get(kind, {"byte_level": False}))  # fmt: skip
    texts = SAMPLE_TEXTS + ["", "a", "<unk> [CLS] [SEP] x", "héllo 世界 😀"]

    def rows(flat, n):
        ids, splits = flat["input_ids"], flat["row_splits"]
        assert ids.dtype == np.int32 and splits.dtype == np.int64 and len(splits) == n + 1
        return [ids[splits[i] : splits[i + 1]].tolist() for i in range(n)]

    for special in (True, False):
        want = [tok.encode(t, add_special_tokens=special).ids for t in texts]
        for threads in (1, 2):
            flat = tok.encode_batch(texts, num_threads=threads, return_tensors="flat", add_special_tokens=special)
            assert rows(flat, len(texts)) == want
    pairs = list(zip(texts, texts[1:]))
    assert rows(tok.encode_batch(pairs, return_tensors="flat"), len(pairs)) == [e.ids for e in tok.encode_batch(pairs)]
    cut = [e.ids for e in tok.encode_batch(texts, truncation=True, max_length=4)]
    assert rows(tok.encode_batch(texts, truncation=True, max_length=4, return_tensors="flat"), len(texts)) == cut
    with pytest.raises(SubtokError, match="padding"):
        tok.encode_batch(texts, padding=True, return_tensors="flat")


@pytest.mark.parametrize("kind", ["byte_level", "wordpiece", "unigram", "char_bpe"])
def test_encode_ordinary_batch_is_encode_ordinary_of_each_text(backend, kind):
    """encode_ordinary_batch: one list of ids per text, encode_ordinary's, encode's ids (no special token matched,
    nothing added), on one thread and two; built in the core where a whole-text encoder runs, through
    encode_batch where the tokenizer truncates."""
    options = {"byte_level": {}, "wordpiece": {"model": "wordpiece"}, "unigram": {"model": "unigram"}}
    tok = Tokenizer.train(SAMPLE_TEXTS * 3, vocab_size=150 if kind == "unigram" else 300,
                          **options.get(kind, {"byte_level": False}))  # fmt: skip
    texts = SAMPLE_TEXTS + ["", "a", "<unk> [CLS] [SEP] x", "héllo 世界 😀"]
    want = [tok.encode(t, add_special_tokens=False, allowed_special=()).ids for t in texts]
    assert [tok.encode_ordinary(t) for t in texts] == want  # (the core's list where a whole-text encoder runs)
    for threads in (None, 1, 2):
        got = tok.encode_ordinary_batch(texts, num_threads=threads)
        assert got == want and all(type(row) is list and all(type(i) is int for i in row) for row in got)
    assert tok.encode_ordinary_batch(iter(texts[:2])) == want[:2] and tok.encode_ordinary_batch([]) == []
    assert tok.encode_ordinary_batch([type("Text", (str,), {})(texts[0])]) == want[:1]  # a str subclass is a str
    tok.padding = check_padding({"strategy": {"Fixed": 40}, "pad_id": 0, "pad_token": "<pad>"})  # (HF's form)
    padded = [tok.encode(t, add_special_tokens=False, allowed_special=()).ids for t in texts]
    assert tok.encode_ordinary_batch(texts) == [tok.encode_ordinary(t) for t in texts] == padded != want
    tok.padding = None
    tok.truncation = check_truncation({"max_length": 2})  # as a tokenizer.json's "truncation"
    assert tok.encode_ordinary_batch(texts) == [tok.encode_ordinary(t) for t in texts] == [w[:2] for w in want]
    with pytest.raises(SubtokError, match="item 1 is int"):
        tok.encode_ordinary_batch(["a", 3])
    with pytest.raises(SubtokError, match="not str"):
        tok.encode_ordinary_batch("one text")
    with pytest.raises(SubtokError, match="num_threads"):
        tok.encode_ordinary_batch(["a"], num_threads=0)


def test_encode_batch_bad_options(tok):
    with pytest.raises(SubtokError, match="max_length"):
        tok.encode_batch(["x"], truncation=True)
    with pytest.raises(SubtokError, match="padding"):
        tok.encode_batch(["x"], padding="sideways")


def test_decode_rejects_ids_out_of_range(tok):
    with pytest.raises(SubtokError, match="outside the vocabulary"):
        tok.decode([tok.vocab_size])
    with pytest.raises(SubtokError, match="str"):
        tok.encode(b"bytes")


def test_vocab_and_lookups(tok):
    assert tok.vocab_size == len(tok.vocab) == 420
    assert tok.id_to_token(tok.token_to_id("<eos>")) == "<eos>"
    assert tok.token_to_id("never-a-token") is None


def test_word_level_model(backend, tmp_path):
    texts = ["the cat sat on the mat", "the dog sat", "a cat"]
    tok = Tokenizer.train(texts, model="word", vocab_size=7, min_frequency=1)
    assert tok.vocab.id_to_word == ["<unk>", "<pad>", "<bos>", "<eos>", "the", "cat", "sat"]
    enc = tok.encode("the bird sat")
    assert enc.tokens == ["the", "<unk>", "sat"]
    assert enc.offsets == [(0, 3), (4, 8), (9, 12)]
    assert tok.decode(enc.ids, skip_special_tokens=False) == "the <unk> sat"
    assert tok.vocab.unk_id == 0 and tok.vocab["bird"] == 0
    tok.save(tmp_path / "w.json")
    assert Tokenizer.load(tmp_path / "w.json").encode("the bird sat").ids == enc.ids
    with pytest.raises(TrainingError, match="special"):
        Tokenizer.train(texts, model="word", vocab_size=2)


def test_normalizers_keep_offsets_into_the_original(backend):
    tok = Tokenizer.train(
        ["cafe café CAFÉ naïve"] * 5, vocab_size=300, min_frequency=1, normalizers=["NFD", "lowercase", "strip_accents"]
    )
    text = "CAFÉ Naïve"
    enc = tok.encode(text)
    assert tok.decode(enc.ids) == "cafe naive"
    assert enc.offsets[0][0] == 0 and enc.offsets[-1][1] == len(text)
    assert "".join(text[s:e] for s, e in enc.offsets).replace(" ", "") == "CAFÉNaïve"


def test_unknown_model_and_bad_sizes():
    with pytest.raises(TrainingError, match="unknown model"):
        Tokenizer.train(["x"], model="sentencepiece-bpe")
    with pytest.raises(TrainingError, match="vocab_size"):
        Tokenizer.train(["x"], vocab_size=0)


@pytest.mark.parametrize(
    "model, options, named",
    [
        ("bpe", {"scoring": "frequency"}, "scoring"),
        ("bpe", {"limit_alphabet": 50}, "limit_alphabet"),  # a character option on byte-level BPE
        ("bpe", {"byte_fallback": True}, "byte_fallback"),
        ("bpe", {"unk_token": "<unk>"}, "unk_token"),
        ("wordpiece", {"byte_level": False}, "byte_level"),
        ("wordpiece", {"end_of_word_suffix": "</w>"}, "end_of_word_suffix"),
        ("word", {"limit_alphabet": 10}, "limit_alphabet"),
        ("word", {"continuing_subword_prefix": "##"}, "continuing_subword_prefix"),
    ],
)
def test_an_option_the_model_does_not_take_is_refused_by_name(model, options, named):
    with pytest.raises(TrainingError, match=named):
        Tokenizer.train(SAMPLE_TEXTS, model=model, vocab_size=300, **options)


def test_training_is_keyword_only_and_takes_a_trainer():
    from subtok.models import BPETrainer, WordLevelTrainer

    with pytest.raises(TypeError):
        Tokenizer.train(SAMPLE_TEXTS, "bpe", 300)
    by_name = Tokenizer.train(SAMPLE_TEXTS, model="word", vocab_size=30, unk_token="<oov>")
    by_trainer = Tokenizer.train(SAMPLE_TEXTS, model=WordLevelTrainer(vocab_size=30, unk_token="<oov>"))
    assert by_trainer.to_dict() == by_name.to_dict() and by_name.vocab.unk == "<oov>"
    with pytest.raises(TrainingError, match="pass the options"):
        Tokenizer.train(SAMPLE_TEXTS, model=BPETrainer(), vocab_size=300)
    assert "byte_level" in BPETrainer.options() and "scoring" not in BPETrainer.options()


@pytest.mark.parametrize("collecting", [True, False])
def test_training_and_loading_leave_the_garbage_collector_as_they_found_it(collecting):
    """Training and loading pause the cyclic collector while the model's objects are made, and restore its
    state, whether they succeed or fail."""
    import gc

    (gc.enable if collecting else gc.disable)()
    try:
        tok = Tokenizer.train(SAMPLE_TEXTS, model="bpe", vocab_size=300)
        assert gc.isenabled() == collecting
        with pytest.raises(TrainingError):
            Tokenizer.train_from_counts({"ab": 2}, model="bpe", vocab_size=2)
        assert gc.isenabled() == collecting
        assert Tokenizer.from_dict(tok.to_dict()).to_dict() == tok.to_dict() and gc.isenabled() == collecting
        with pytest.raises(TokenizerFileError):
            Tokenizer.from_dict({**tok.to_dict(), "special_tokens": 3})
        assert gc.isenabled() == collecting
    finally:
        gc.enable()


@pytest.mark.parametrize("model", ["bpe", "wordpiece", "unigram"])
def test_a_short_vocabulary_warning_names_the_callers_line(model):
    """A trainer that runs out of pairs or pieces warns at the line that asked for training (train or
    train_from_counts), however many of subtok's calls lie between."""
    from subtok.corpus import WordCounts

    texts = ["ab ab ab cd"] * 3
    with pytest.warns(UserWarning, match="vocab") as caught:
        Tokenizer.train(texts, model=model, vocab_size=400)
    with pytest.warns(UserWarning, match="vocab") as caught_counts:
        Tokenizer.train_from_counts(WordCounts.from_corpus(texts, model=model), model=model, vocab_size=400)
    assert [w.filename for w in caught] == [w.filename for w in caught_counts] == [__file__]


def test_models_hold_the_tokenizers_vocab(tok):
    assert tok.vocab is tok.model.vocab and tok.vocab_size == len(tok.vocab)
    assert tok.model.vocab.word_to_id["<eos>"] == tok.token_to_id("<eos>")
