"""SentencePiece models: the ``.model`` reader and writer, and Unigram encoding identical to the
sentencepiece library (the test oracle, in the [test] extra) on SentencePiece's own test model and on models
it trains here with varied options, on both backends; the lattice algorithms against brute force."""

from __future__ import annotations

import io
import itertools
import json
import math
import random
import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from subtok import SubtokError, Tokenizer, TokenizerFileError
from subtok import sentencepiece_model as spm_model
from subtok.models import SentencePieceBPE, Unigram
from subtok.models import unigram_core as core
from subtok.normalizers import SentencePieceNormalizer
from subtok.pre_tokenizers import Whole

from .conftest import SAMPLE_TEXTS

HARD = [
    "",
    " ",
    "   Hello   world.  ",
    "ＡＢＣ ﬁ ① ﾊﾝｶｸ",
    "tab\there\nnew line\r\n",
    "x\u0301y\u0300 e\u0301",
    "🙂🙃 👩‍👩‍👧 <s> </s> <unk> <sep> @@ a@@b",
    "日本語のテキストと한국어 텍스트",
    "\u2581 \u2581\u2581 already escaped",
    "\x00\x01 control \ufeff bom",
    "12345 3.14 1,000,000",
    "a" * 300,
]


def _lines(shared_data, n: int = 400) -> list[str]:
    text = (shared_data / "tinyshakespeare" / "input.txt").read_text(encoding="utf-8")[:150_000].splitlines()
    korean = (shared_data / "korean" / "nsmc_raw_sample.tsv").read_text(encoding="utf-8").splitlines()[1:3000]
    korean = [line.split("\t")[1] for line in korean if line.count("\t") >= 2]
    rng = random.Random(0)
    picked = rng.sample(text, n // 2) + rng.sample(korean, n // 2)
    return picked + HARD + SAMPLE_TEXTS[:6]


TRAINED = {
    "nmt_nfkc": dict(vocab_size=2500),
    "bytes_user": dict(
        vocab_size=1200,
        byte_fallback=True,
        character_coverage=0.98,
        user_defined_symbols=["<sep>", "@@", "ab"],
        control_symbols=["<cls>"],
    ),
    "identity_raw": dict(
        vocab_size=2500, normalization_rule_name="identity", remove_extra_whitespaces=False, add_dummy_prefix=False
    ),
    "suffix_cf": dict(vocab_size=2500, treat_whitespace_as_suffix=True, normalization_rule_name="nmt_nfkc_cf"),
}


@pytest.fixture(scope="module")
def spm():
    return pytest.importorskip("sentencepiece")


def _train_models(spm, shared_data, out, configs: dict, model_type: str) -> dict:
    """Models the sentencepiece library trains on the test lines, by name: (path, processor)."""
    corpus = _lines(shared_data, 3000)[:3000]
    models = {}
    for name, options in configs.items():
        buffer = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(corpus), model_writer=buffer, model_type=model_type, num_threads=1,
            minloglevel=2, **options,
        )  # fmt: skip
        path = out / f"{name}.model"
        path.write_bytes(buffer.getvalue())
        models[name] = (path, spm.SentencePieceProcessor(model_file=str(path)))
    return models


@pytest.fixture(scope="module")
def trained(spm, shared_data, tmp_path_factory):
    """Unigram models the sentencepiece library trains here, by name: (path, processor)."""
    return _train_models(spm, shared_data, tmp_path_factory.mktemp("spm"), TRAINED, "unigram")


@pytest.fixture(scope="module")
def test_model(spm, shared_data):
    path = shared_data.parent / "tokenizers" / "sentencepiece" / "test_model.model"
    if not path.is_file():
        pytest.skip("SentencePiece's test model not found")
    return path, spm.SentencePieceProcessor(model_file=str(path))


def _same(tok: Tokenizer, sp, lines: list[str]) -> None:
    for line in lines:
        ours = tok.encode(line)
        theirs = sp.encode_as_offset_mapping(line)
        assert ours.ids == theirs["ids"], line
        assert ours.offsets == theirs["offsets"], line
        assert tok.decode(ours.ids) == sp.decode(ours.ids), line
    assert tok.encode_ordinary_batch(lines, num_threads=2) == sp.encode(lines)  # the library's form: id lists


def test_test_model_ids_offsets_and_decodes(test_model, shared_data, backend):
    path, sp = test_model
    _same(Tokenizer.from_sentencepiece(path), sp, _lines(shared_data))


@pytest.mark.parametrize("name", sorted(TRAINED))
def test_trained_models_match_sentencepiece(trained, shared_data, name, backend):
    path, sp = trained[name]
    tok = Tokenizer.from_sentencepiece(path)
    _same(tok, sp, _lines(shared_data, 200))
    rng = random.Random(1)
    ids = [rng.randrange(tok.vocab_size) for _ in range(400)]  # any ids: control, bytes, unknown
    for k in range(0, 400, 20):
        assert tok.decode(ids[k : k + 20]) == sp.decode(ids[k : k + 20])


def test_round_trip_is_byte_identical(test_model, trained, tmp_path):
    for path in [test_model[0], *(p for p, _ in trained.values())]:
        tok = Tokenizer.from_sentencepiece(path)
        tok.save_sentencepiece(tmp_path / "again.model")
        assert (tmp_path / "again.model").read_bytes() == path.read_bytes(), path
        tok.save(tmp_path / "ours.json")  # and through our own JSON
        again = Tokenizer.load(tmp_path / "ours.json")
        assert again.encode(HARD[2] + HARD[3]).ids == tok.encode(HARD[2] + HARD[3]).ids


def test_a_model_we_build_loads_in_sentencepiece(spm, tmp_path, backend):
    letters = list("abcdefgh")
    pieces = ["<unk>", "<s>", "</s>", "\u2581", *letters, "\u2581ab", "cd", "\u2581abcd", "efg", "<x>"]
    kinds = ["unknown", "control", "control", *["normal"] * (len(pieces) - 4), "user_defined"]
    rng = random.Random(3)
    scores = [0.0, 0.0, 0.0] + [-rng.uniform(1, 9) for _ in pieces[3:]]
    model = Unigram(pieces, scores, kinds)
    tok = Tokenizer(model, [SentencePieceNormalizer(user_defined=["<x>"])], Whole(), decoder=model.decoder())
    tok.save_sentencepiece(tmp_path / "ours.model")
    sp = spm.SentencePieceProcessor(model_file=str(tmp_path / "ours.model"))
    for text in ["abcd efg", " abcdefgh  hgfedcba", "xyz ab<x>cd", "", "<s> abc </s>"]:
        assert tok.encode(text).ids == sp.encode(text), text
        assert tok.decode(tok.encode(text).ids) == sp.decode(sp.encode(text))


def _field(number: int, wire: int, payload: bytes) -> bytes:
    key = bytes([number << 3 | wire])
    return key + (bytes([len(payload)]) + payload if wire == 2 else payload)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\x0a\x05\x0a\x03ab", "are left"),  # truncated inside a piece
        (_field(1, 0, b"\x01"), "wire type 0, expected 2"),  # pieces as a varint
        (_field(2, 2, _field(3, 0, b"\x03")) + _field(1, 2, _field(1, 2, b"<unk>") + _field(3, 0, b"\x02")), "WORD"),
        (_field(1, 2, _field(1, 2, b"a")), "no piece has the unknown type"),
        (
            _field(1, 2, _field(1, 2, b"<unk>") + _field(3, 0, b"\x02"))
            + _field(1, 2, _field(1, 2, b"<0x41>") + _field(3, 0, b"\x06")),
            "byte_fallback",
        ),  # fmt: skip
        (_field(1, 2, _field(1, 2, b"\xff") + _field(3, 0, b"\x02")), "not UTF-8"),
        (_field(1, 2, _field(1, 2, b"<unk>") + _field(3, 0, b"\x09")), "unknown type 9"),
        (b"\x0f", "wire type 7"),
        (b"", "no pieces"),
    ],
)
def test_bad_model_files_get_clear_errors(tmp_path, data, message):
    path = tmp_path / "bad.model"
    path.write_bytes(data)
    with pytest.raises(TokenizerFileError) as err:
        Tokenizer.from_sentencepiece(path)
    assert str(path) in str(err.value) and message.lower() in str(err.value).lower()


def test_unknown_fields_and_negative_ints_round_trip():
    msg = spm_model.Message("TrainerSpec", pad_id=-1, vocab_size=300)
    msg.unknown.append((200, 0, 7))
    data = spm_model.encode(msg)
    assert spm_model.decode(data, "TrainerSpec") == msg
    assert spm_model.decode(data, "TrainerSpec")["pad_id"] == -1


# -- the lattice against brute force -------------------------------------------------------------------------
def _segmentations(table: core.PieceTable, text: str):
    """Every path through the lattice of ``text``: (nodes, score in double)."""
    lattice = table.lattice(text)

    def walk(pos):
        if pos == len(text):
            yield [], 0.0
            return
        for end, i, score in lattice[pos]:
            for rest, total in walk(end):
                yield [(pos, end, i), *rest], score + total

    return list(walk(0))


VOCAB = ["<unk>", "a", "b", "ab", "ba", "aba", "c", "bc", "abc", "\u2581", "\u2581a", "ca"]


@st.composite
def lattices(draw):
    scores = [0.0] + [draw(st.floats(-12, -0.5)) for _ in VOCAB[1:]]
    drop = draw(st.sets(st.sampled_from(VOCAB[1:]), max_size=4))
    kinds = ["unknown"] + ["unused" if p in drop else "normal" for p in VOCAB[1:]]
    text = draw(st.text(alphabet="abcd\u2581", min_size=1, max_size=9))
    return Unigram(VOCAB, scores, kinds), text


@given(lattices())
def test_viterbi_is_the_best_segmentation(case):
    model, text = case
    paths = _segmentations(model.table, text)
    best = max(score for _, score in paths)
    found = model.viterbi(text)
    got = next(total for path, total in paths if path == found)
    assert got == pytest.approx(best, abs=1e-4)


@given(lattices(), st.integers(1, 6))
def test_nbest_are_the_k_best(case, k):
    model, text = case
    paths = sorted(_segmentations(model.table, text), key=lambda p: -p[1])
    got = core.nbest(model.table, text, k)
    assert len(got) == min(k, len(paths))
    assert [s for _, s in got] == pytest.approx([s for _, s in paths[: len(got)]], abs=1e-4)
    assert len({tuple(p) for p, _ in got}) == len(got)


def test_sampling_matches_the_lattice_distribution():
    """10,000 samples of one text at alpha 0.1 against the exact probabilities (chi-square, fixed seed)."""
    scores = [0.0, -2.0, -2.5, -3.0, -3.2, -4.0, -2.2, -3.5, -5.0, -1.0, -2.8, -3.9]
    model = Unigram(VOCAB, scores, unk_id=0)
    text = "\u2581abcaba"
    paths = _segmentations(model.table, text)
    weights = [math.exp(0.1 * s) for _, s in paths]
    z = sum(weights)
    expected = {tuple(p): 10_000 * w / z for (p, _), w in zip(paths, weights)}
    rng = random.Random(12345)
    seen = dict.fromkeys(expected, 0)
    for _ in range(10_000):
        seen[tuple(model.sample(text, 0.1, -1, rng))] += 1
    chi2 = sum((seen[p] - e) ** 2 / e for p, e in expected.items())
    dof = len(expected) - 1
    assert chi2 < dof + 5 * math.sqrt(2 * dof)  # far beyond the 99.9th percentile of chi2(dof)


def test_unigram_refuses_bad_models():
    with pytest.raises(SubtokError, match="exactly one unknown"):
        Unigram(["a", "b"], [0.0, -1.0])
    with pytest.raises(SubtokError, match="kind"):
        Unigram(["<unk>", "a"], [0.0, -1.0], ["unknown", "weird"])
    with pytest.raises(SubtokError, match="byte pieces"):
        Unigram(["<unk>", "a"], [0.0, -1.0], byte_fallback=True, unk_id=0)


def test_ties_break_as_sentencepiece_does(spm, tmp_path, backend):
    """Paths whose scores tie (exactly, or only in float32): SentencePiece keeps the first found."""
    a = struct.unpack("<f", struct.pack("<f", -1.1))[0]
    model = Unigram(
        ["<unk>", "\u2581", "x", "xx", "xxx", "y", "xy", "yx"], [0.0, -1.0, a, 2 * a, 3 * a, a, 2 * a, 2 * a], unk_id=0
    )
    tok = Tokenizer(model, [SentencePieceNormalizer()], Whole(), decoder=model.decoder())
    tok.save_sentencepiece(tmp_path / "ties.model")
    sp = spm.SentencePieceProcessor(model_file=str(tmp_path / "ties.model"))
    for text in ["".join(t) for n in range(1, 7) for t in itertools.product("xy", repeat=n)]:
        assert tok.encode(text).ids == sp.encode(text), text


# Characters that exercise the normalizer's fast paths: letters that start NFKC rules only with a following
# mark (a, е, α, か, jamo), the marks themselves, characters rules rewrite, user symbols, surrogates, emoji
TRICKY_TEXT = st.text(
    alphabet=st.sampled_from(
        list("\n\r\u3000\u2028 ab cd\u2581ＡＢ①ﬁ<sep>@\t\u0301é한국е\u0308αβ\u0342か\u3099\u1100\u1161\u11a8")
        + ["\ud800", "🙂", "\U0001d400", "\U0001f1e6"]  # (a mathematical letter NFKC rewrites; a regional flag)
    ),
    max_size=40,
)


@given(TRICKY_TEXT)
def test_native_encoder_equals_the_reference(trained_models_for_hypothesis, text):
    """The native SentencePieceEncoder gives the reference's ids and offsets (surrogates, user symbols,
    charsmap rules, byte fallback), one text at a time and as flat batches."""
    from subtok import _backend

    if _backend._native is None:
        pytest.skip("native extension not built")
    for tok in trained_models_for_hypothesis:
        with _backend.using("python"):
            want = tok.encode(text)
            want = (want.ids, want.offsets, tok.encode_batch([text, "", text], return_tensors="flat"))
        with _backend.using("native"):
            got = tok.encode(text)
            got = (got.ids, got.offsets, tok.encode_batch([text, "", text], num_threads=2, return_tensors="flat"))
            assert tok.encode_ordinary_batch([text, "", text], num_threads=2) == [want[0], [], want[0]]
        assert got[:2] == want[:2]
        assert all(np.array_equal(got[2][k], want[2][k]) for k in ("input_ids", "row_splits"))


@pytest.fixture(scope="module")
def trained_models_for_hypothesis(trained, trained_bpe, test_model):
    paths = (test_model[0], *(p for p, _ in trained.values()), *(p for p, _ in trained_bpe.values()))
    return [Tokenizer.from_sentencepiece(p) for p in paths]


def test_nbest_equals_sentencepiece(test_model):
    path, sp = test_model
    tok = Tokenizer.from_sentencepiece(path)
    for text in ["hello world", "Tokenization is fun", "ＡＢＣ naïve", "I saw a girl with a telescope."]:
        normalized = tok.normalizers[0].normalize_str(text)
        assert [ids for ids, _ in tok.model.nbest(normalized, 5)] == sp.nbest_encode_as_ids(text, 5), text


# ---------------------------------------------------------------------------------------------------------
# Subword regularization at encode time
# ---------------------------------------------------------------------------------------------------------
@given(TRICKY_TEXT,
       st.integers(0, 2**64 - 1), st.sampled_from([0.1, 0.5, 1.0]))  # fmt: skip
def test_native_sampling_equals_the_reference(trained_models_for_hypothesis, text, seed, alpha):
    """A drawn segmentation is the same on both backends for a seed (same lattice, sums and generator)."""
    from subtok import _backend

    if _backend._native is None:
        pytest.skip("native extension not built")
    for tok in trained_models_for_hypothesis:
        got = {}
        for name in ("python", "native"):
            with _backend.using(name):
                enc = tok.encode(text, sample=True, alpha=alpha, seed=seed)
                batch = tok.encode_batch([text, text], sample=True, alpha=alpha, seed=seed, num_threads=2)
                got[name] = (enc.ids, enc.offsets, [(e.ids, e.offsets) for e in batch])
        assert got["native"] == got["python"]
        assert got["native"][0] == got["native"][2][0][0]  # encode = the batch's first text


def test_whole_text_sampling_matches_the_lattice_distribution():
    """10,000 draws of one text at alpha 0.1 through the whole-text encoder (native when built) against the
    exact probabilities of its segmentations (chi-square, fixed seed)."""
    scores = [0.0, -2.0, -2.5, -3.0, -3.2, -4.0, -2.2, -3.5, -5.0, -1.0, -2.8, -3.9]
    model = Unigram(VOCAB, scores, unk_id=0)
    tok = Tokenizer(model, [SentencePieceNormalizer()], Whole(), decoder=model.decoder())
    paths = _segmentations(model.table, "\u2581abcaba")
    weights = [math.exp(0.1 * s) for _, s in paths]
    z = sum(weights)
    expected = {tuple(i for _, _, i in p): 10_000 * w / z for (p, _), w in zip(paths, weights)}
    seen = dict.fromkeys(expected, 0)
    for enc in tok.encode_batch(["abcaba"] * 10_000, sample=True, alpha=0.1, seed=7):
        seen[tuple(enc.ids)] += 1
    chi2 = sum((seen[p] - e) ** 2 / e for p, e in expected.items())
    dof = len(expected) - 1
    assert chi2 < dof + 5 * math.sqrt(2 * dof)


def test_sampling_options(test_model, backend):
    tok = Tokenizer.from_sentencepiece(test_model[0])
    text = "Subword regularization draws a different segmentation each time."
    best = tok.encode(text).ids
    draws = {tuple(tok.encode(text, sample=True, alpha=0.1, seed=s).ids) for s in range(20)}
    assert len(draws) > 10 and all(tok.decode(list(d)) == text for d in draws)
    assert tok.encode(text, sample=True, seed=3).ids == tok.encode(text, sample=True, seed=3).ids
    assert tok.encode(text, sample=True, nbest_size=1, seed=3).ids == best  # SentencePiece: no draw
    nbest = {tuple(ids) for ids, _ in tok.model.nbest(tok.normalizers[0].normalize_str(text), 4)}
    assert {tuple(tok.encode(text, sample=True, nbest_size=4, seed=s).ids) for s in range(30)} <= nbest
    batches = [[e.ids for e in tok.encode_batch([text] * 8, sample=True, seed=1, num_threads=n)] for n in (1, 2, 4)]
    assert batches[0] == batches[1] == batches[2]
    assert len({tuple(ids) for ids in batches[0]}) > 1
    with pytest.raises(SubtokError, match="dropout"):
        tok.encode(text, dropout=0.1)
    with pytest.raises(SubtokError, match="alpha"):
        tok.encode(text, sample=True, alpha=float("nan"))


def test_offsets_of_any_segmentation_come_from_its_ids(backend):
    """A word's spans are read off its ids (the best segmentation or a drawn one): pieces, fused unknown
    runs and byte pieces, as the path gives them."""
    for byte_fallback in (False, True):
        vocab = ["<unk>", "a", "b", "ab", "\u2581", "\u2581a", "ba"]
        kinds = ["unknown"] + ["normal"] * 6
        if byte_fallback:
            vocab += [f"<0x{b:02X}>" for b in range(256)]
            kinds += ["byte"] * 256
        model = Unigram(vocab, [0.0, -2, -2, -1.5, -1, -2.5, -3] + [0.0] * (len(vocab) - 7), kinds,
                        byte_fallback=byte_fallback)  # fmt: skip
        rng = random.Random(0)
        for word in ["\u2581abxyab", "xx", "\u2581a\u00e9\u00e9b", "ab\U0001f642", "bab"]:
            assert model.word_offsets(word, model.encode_word(word)) == model.path_spans(model.viterbi(word), word)
            for _ in range(20):
                path = model.sample(word, 0.5, -1, rng)
                assert model.word_offsets(word, model.path_ids(path, word)) == model.path_spans(path, word)


# ---------------------------------------------------------------------------------------------------------
# HF tokenizer.json Unigram models (HF's semantics: the tokenizers library as the oracle)
# ---------------------------------------------------------------------------------------------------------
def _hf_unigram(sp_tok: Tokenizer, byte_fallback: bool = False):
    """An HF Unigram tokenizer with a SentencePiece model's pieces and charsmap, as transformers converts
    T5's and ALBERT's (Precompiled, Metaspace)."""
    tokenizers = pytest.importorskip("tokenizers")
    from tokenizers import Regex, decoders, models, normalizers, pre_tokenizers

    m = sp_tok.model
    hf = tokenizers.Tokenizer(models.Unigram(list(zip(m.vocab, m.scores)), m.unk_id, byte_fallback))
    steps = [normalizers.Replace(Regex(" {2,}"), " ")]
    if sp_tok.normalizers[0].charsmap is not None:
        steps.insert(0, normalizers.Precompiled(sp_tok.normalizers[0].charsmap.blob))
    hf.normalizer = normalizers.Sequence(steps)
    hf.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    dec = [decoders.ByteFallback()] if byte_fallback else []
    hf.decoder = decoders.Sequence([*dec, decoders.Metaspace(replacement="\u2581", prepend_scheme="always")])
    return hf


def test_hf_unigram_files_give_hf_ids_offsets_and_decodes(test_model, trained, shared_data, tmp_path, backend):
    lines = _lines(shared_data, 300) + ["<unk> <s> literal <0x41> pieces", "ＡＢＣ   wide"]
    cases = [(test_model[0], False), (trained["bytes_user"][0], True), (trained["identity_raw"][0], False)]
    for path, byte_fallback in cases:
        hf = _hf_unigram(Tokenizer.from_sentencepiece(path), byte_fallback)
        hf.save(str(tmp_path / "tokenizer.json"))
        tok = Tokenizer.from_huggingface(tmp_path / "tokenizer.json")
        assert tok.model.flavor == "hf"
        for line in lines:
            want, got = hf.encode(line), tok.encode(line)
            assert got.ids == want.ids, line
            assert got.offsets == want.offsets, line
            assert tok.decode(got.ids) == hf.decode(want.ids), line
        tok.save_huggingface(tmp_path / "again.json")  # out again: HF reads it with the same ids
        again = pytest.importorskip("tokenizers").Tokenizer.from_file(str(tmp_path / "again.json"))
        assert [again.encode(x).ids for x in lines[:50]] == [hf.encode(x).ids for x in lines[:50]]


def test_hf_unigram_refusals(tmp_path):
    base = {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0], ["a", -1.0]], "byte_fallback": False}
    for model, message in [
        ({**base, "unk_id": None}, "without an unknown piece"),
        ({**base, "alpha": 0.1}, "alpha"),
        ({**base, "vocab": [["a", "x"]]}, "piece, score"),
        ({**base, "byte_fallback": True}, "byte_fallback"),
    ]:
        (tmp_path / "t.json").write_text(json.dumps({"model": model}))
        with pytest.raises(TokenizerFileError, match=message):
            Tokenizer.from_huggingface(tmp_path / "t.json")
    spm_flavored = Unigram(["<unk>", "a"], [0.0, -1.0], unk_id=0)
    with pytest.raises(SubtokError, match="save_sentencepiece"):
        Tokenizer(spm_flavored).save_huggingface(tmp_path / "x.json")


# ---------------------------------------------------------------------------------------------------------
# SentencePiece BPE models
# ---------------------------------------------------------------------------------------------------------
TRAINED_BPE = {
    "bpe": dict(vocab_size=2000),
    "bpe_bytes_user": dict(
        vocab_size=1500,
        byte_fallback=True,
        character_coverage=0.98,
        user_defined_symbols=["<sep>", "@@", "ab"],
        control_symbols=["<cls>"],
    ),
    "bpe_identity_raw": dict(
        vocab_size=1200, normalization_rule_name="identity", remove_extra_whitespaces=False, add_dummy_prefix=False
    ),
}


@pytest.fixture(scope="module")
def trained_bpe(spm, shared_data, tmp_path_factory):
    """BPE models the sentencepiece library trains here, by name: (path, processor)."""
    return _train_models(spm, shared_data, tmp_path_factory.mktemp("spm_bpe"), TRAINED_BPE, "bpe")


@pytest.mark.parametrize("name", sorted(TRAINED_BPE))
def test_sentencepiece_bpe_models_match_sentencepiece(trained_bpe, shared_data, name, tmp_path, backend):
    path, sp = trained_bpe[name]
    tok = Tokenizer.from_sentencepiece(path)
    assert tok.model.type == "sentencepiece_bpe"
    lines = _lines(shared_data, 200)
    _same(tok, sp, lines)
    # batches and long texts (where the native core caches each word's merges): the library's ids and offsets
    document = " ".join(lines)
    batch = tok.encode_batch(lines + lines + [document], num_threads=2)
    theirs = [sp.encode_as_offset_mapping(t) for t in lines + lines + [document]]
    assert [e.ids for e in batch] == [t["ids"] for t in theirs]
    assert [e.offsets for e in batch] == [t["offsets"] for t in theirs]
    assert tok.encode(document).ids == theirs[-1]["ids"]
    assert tok.encode_ordinary_batch(lines + [document], num_threads=2) == sp.encode(lines + [document])
    tok.save_sentencepiece(tmp_path / "again.model")
    assert (tmp_path / "again.model").read_bytes() == path.read_bytes()
    tok.save(tmp_path / "ours.json")
    assert Tokenizer.load(tmp_path / "ours.json").encode(HARD[3]).ids == sp.encode(HARD[3])


def test_sentencepiece_bpe_unused_pieces_are_resegmented(spm, trained_bpe, shared_data, tmp_path):
    """Pieces marked unused are merged through and then split back, as the library does."""
    path, _ = trained_bpe["bpe"]
    model = Tokenizer.from_sentencepiece(path).model
    rng = random.Random(5)
    normal = [i for i, k in enumerate(model.kinds) if k == "normal" and len(model.vocab.id_to_word[i]) > 1]
    kinds = list(model.kinds)
    for i in rng.sample(normal, 300):
        kinds[i] = "unused"
    changed = SentencePieceBPE(list(model.vocab), model.scores, kinds, byte_fallback=model.byte_fallback)
    tok = Tokenizer.from_sentencepiece(path)
    tok = Tokenizer(changed, tok.normalizers, Whole(), decoder=tok.decoder)
    tok.save_sentencepiece(tmp_path / "unused.model")
    sp = spm.SentencePieceProcessor(model_file=str(tmp_path / "unused.model"))
    _same(tok, sp, _lines(shared_data, 200))


def test_sentencepiece_bpe_dropout(trained_bpe, backend):
    path, sp = trained_bpe["bpe"]
    tok = Tokenizer.from_sentencepiece(path)
    text = "Subword regularization draws a different segmentation each time."
    draws = {tuple(tok.encode(text, sample=True, alpha=0.2, seed=s).ids) for s in range(20)}
    assert len(draws) > 5 and all(tok.decode(list(d)) == text for d in draws)
    assert tok.encode(text, sample=True, alpha=0.0, seed=1).ids == sp.encode(text)
    chars = tok.encode(text, sample=True, alpha=1.0, seed=1).tokens  # every merge skipped: characters
    assert all(len(t) == 1 for t in chars)
