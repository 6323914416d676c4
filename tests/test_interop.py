"""Interchange: our tokenizers through HF's tokenizer.json, GPT-2's vocab.json + merges.txt, BERT's vocab.txt
and tiktoken's ranks give the same ids. Round trips need no peer; where HF tokenizers or tiktoken is
installed (the test extra), they are the oracles for ids and offsets."""

from __future__ import annotations

import json
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from subtok import InputError, SubtokError, Tokenizer, TokenizerFileError, interop

from .conftest import SAMPLE_TEXTS

TEXTS = [*SAMPLE_TEXTS[:6], "", " ", "a\n\nb", "<eos> and <unk> inside", "don't stop-me now!!"]
any_text = st.text(st.characters(codec="utf-8"), max_size=120)
# characters this Python's Unicode database knows (BERT's normalizer drops the others, where HF's newer tables
# may not: the reliability issue's business)
assigned_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cn"]), max_size=120)
fixture_ok = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])

CONFIGS = {
    "byte-bpe": dict(model="bpe", vocab_size=500),
    "char-bpe-suffix": dict(model="bpe", byte_level=False, vocab_size=320),
    "char-bpe-prefix": dict(
        model="bpe", byte_level=False, vocab_size=400, continuing_subword_prefix="##", end_of_word_suffix=None
    ),
    "char-bpe-fallback": dict(
        model="bpe", byte_level=False, vocab_size=600, byte_fallback=True, unk_token=None, end_of_word_suffix=None
    ),
    "wordpiece": dict(model="wordpiece", vocab_size=400),
    "word": dict(model="word", vocab_size=80),
}


def _train(name: str) -> Tokenizer:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the small corpus runs out of pairs in some configurations
        return Tokenizer.train(SAMPLE_TEXTS, min_frequency=1, **CONFIGS[name])


TOKENIZERS = {}


@pytest.fixture(params=sorted(CONFIGS))
def trained(request):
    if request.param not in TOKENIZERS:
        TOKENIZERS[request.param] = _train(request.param)
    return TOKENIZERS[request.param]


def test_huggingface_round_trip_keeps_the_ids(backend, trained, tmp_path):
    trained.save_huggingface(tmp_path / "tokenizer.json")
    back = Tokenizer.from_huggingface(tmp_path / "tokenizer.json")
    for text in TEXTS:
        ours, again = trained.encode(text), back.encode(text)
        assert again.ids == ours.ids and again.offsets == ours.offsets
        if trained.model.type != "wordpiece":  # the file's WordPiece decoder cleans up token by token (HF)
            assert back.decode(ours.ids) == trained.decode(ours.ids)
    back.save_huggingface(tmp_path / "again.json")
    assert (tmp_path / "again.json").read_text() == (tmp_path / "tokenizer.json").read_text()


@fixture_ok
@given(text=assigned_text)
def test_huggingface_tokenizers_gives_our_ids_and_offsets(trained, tmp_path_factory, text):
    hf = pytest.importorskip("tokenizers")
    path = tmp_path_factory.mktemp("hf") / "tokenizer.json"
    trained.save_huggingface(path)
    theirs = hf.Tokenizer.from_file(str(path)).encode(text, add_special_tokens=False)
    ours = trained.encode(text, add_special_tokens=False)
    assert theirs.ids == ours.ids
    if trained.model.type == "bpe" and trained.model.byte_level and text.isascii():
        assert theirs.offsets == ours.offsets  # HF counts offsets in bytes at the byte level: ASCII only


def test_gpt2_files_round_trip(backend, tmp_path):
    tok = TOKENIZERS.get("byte-bpe") or _train("byte-bpe")
    vocab = {t: i for i, t in enumerate(tok.vocab)}
    (tmp_path / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    merges = "#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in tok.model.merges)
    (tmp_path / "merges.txt").write_text(merges, encoding="utf-8")
    specials = [*tok.special_tokens, "<not-in-vocab>"]
    back = Tokenizer.from_gpt2_files(tmp_path / "vocab.json", tmp_path / "merges.txt", special_tokens=specials)
    assert back.special_tokens == specials  # one the vocabulary lacks is added after it, as HF adds it
    assert back.token_to_id("<not-in-vocab>") == len(tok.vocab) and back.vocab_size == len(tok.vocab) + 1
    for text in TEXTS:
        assert back.encode(text).ids == tok.encode(text).ids
    assert back.encode("a<not-in-vocab>").ids[-1] == len(tok.vocab)
    (tmp_path / "merges.txt").write_text("#version: 0.2\nnot-a-pair\n", encoding="utf-8")
    with pytest.raises(TokenizerFileError, match="merge 0"):
        Tokenizer.from_gpt2_files(tmp_path / "vocab.json", tmp_path / "merges.txt")


@fixture_ok
@given(text=any_text)
def test_tiktoken_gives_our_ids(backend, text):
    pytest.importorskip("tiktoken")
    tok = TOKENIZERS.get("byte-bpe") or _train("byte-bpe")
    enc = tok.to_tiktoken()
    assert enc.encode(text, allowed_special="all") == tok.encode(text).ids
    assert set(tok.mergeable_ranks().values()).isdisjoint(tok.vocab.word_to_id[t] for t in tok.special_tokens)


def test_bert_vocab_round_trip(backend, tmp_path):
    tok = TOKENIZERS.get("wordpiece") or _train("wordpiece")
    tok.save_bert_vocab(tmp_path / "vocab.txt")
    back = Tokenizer.from_bert_vocab(tmp_path / "vocab.txt")
    for text in TEXTS:
        assert back.encode(text).ids == tok.encode(text).ids


def test_unsupported_components_are_refused_with_the_file_named(tmp_path):
    tok = TOKENIZERS.get("byte-bpe") or _train("byte-bpe")
    doc = interop.to_huggingface(tok)
    cases = {
        "normalizer": {"type": "Uppercase"},
        "pre_tokenizer": {"type": "Unicode"},
        "post_processor": {"type": "Reverse"},
        "decoder": {"type": "Unmangle"},
    }
    for field, value in cases.items():
        path = tmp_path / f"{field}.json"
        path.write_text(json.dumps({**doc, field: value}), encoding="utf-8")
        with pytest.raises(TokenizerFileError, match=f"{path.name}.*{value['type']}"):
            Tokenizer.from_huggingface(path)
    path = tmp_path / "model.json"
    unigram = {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0], ["a", -1.0]], "byte_fallback": False}
    path.write_text(json.dumps({**doc, "model": unigram}), encoding="utf-8")
    with pytest.raises(TokenizerFileError, match="model.json: a ByteLevel pre-tokenizer with a Unigram model"):
        Tokenizer.from_huggingface(path)
    path.write_text(json.dumps({**doc, "model": {**doc["model"], "continuing_subwords": "##"}}), encoding="utf-8")
    with pytest.raises(TokenizerFileError, match="model.json: BPE model: field continuing_subwords is not supported"):
        Tokenizer.from_huggingface(path)
    path.write_text(json.dumps({**doc, "pre_tokenizer": {"type": "Digits", "individual": True}}), encoding="utf-8")
    with pytest.raises(TokenizerFileError, match="Digits: field individual is not supported"):
        Tokenizer.from_huggingface(path)
    token = {"id": 0, "content": "<x>", "special": True, "strip_all": True}
    path.write_text(json.dumps({**doc, "added_tokens": [token]}), encoding="utf-8")
    with pytest.raises(TokenizerFileError, match="added token '<x>': field strip_all is not supported"):
        Tokenizer.from_huggingface(path)
    path.write_text(json.dumps({**doc, "truncation_side": "left"}), encoding="utf-8")
    with pytest.raises(TokenizerFileError, match="field truncation_side is not supported"):
        Tokenizer.from_huggingface(path)
    wordpiece = {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "a": 2}}
    path.write_text(json.dumps({**doc, "pre_tokenizer": None, "model": wordpiece}), encoding="utf-8")
    with pytest.raises(TokenizerFileError, match="WordPiece vocabularies whose ids leave gaps"):
        Tokenizer.from_huggingface(path)


def test_byte_fallback_with_affixes_is_refused_both_ways(tmp_path):
    """HF falls back on the bytes of the affixed symbol ("##0" -> <0x23> <0x23> <0x30>), subtok on the
    character's: rather than a file that encodes differently in the other library, an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tok = Tokenizer.train(
            SAMPLE_TEXTS,
            model="bpe",
            byte_level=False,
            vocab_size=600,
            byte_fallback=True,
            unk_token=None,
            continuing_subword_prefix="##",
            end_of_word_suffix=None,
            min_frequency=1,
        )
    with pytest.raises(SubtokError, match="byte_fallback with continuing_subword_prefix"):
        tok.save_huggingface(tmp_path / "t.json")
    doc = interop.to_huggingface(TOKENIZERS.get("char-bpe-fallback") or _train("char-bpe-fallback"))
    doc["model"]["end_of_word_suffix"] = "</w>"
    (tmp_path / "t.json").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(TokenizerFileError, match="t.json.*byte_fallback with .*end_of_word_suffix"):
        Tokenizer.from_huggingface(tmp_path / "t.json")


def _word_level_doc(added: list[dict], vocab: dict) -> dict:
    return {
        "version": "1.0",
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "WhitespaceSplit"},
        "post_processor": None,
        "decoder": None,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "a"},
    }


def _added(content: str, i: int) -> dict:
    return {
        "id": i,
        "content": content,
        "single_word": False,
        "lstrip": False,
        "rstrip": False,
        "normalized": False,
        "special": True,
    }


def test_added_token_ids_are_the_ones_hf_gives_with_a_warning_when_the_file_differs(tmp_path):
    """HF reads an added token's id from the model's vocabulary or gives it the next one, whatever the file
    says; subtok does the same and says so."""
    vocab = {c: i for i, c in enumerate("abcdefghij")}
    path = tmp_path / "t.json"
    path.write_text(json.dumps(_word_level_doc([_added("<A>", 12), _added("<B>", 15), _added("c", 7)], vocab)))
    with pytest.warns(UserWarning, match="3 added tokens get other ids.*'<A>' is 10, not 12") as caught:
        tok = Tokenizer.from_huggingface(path)
    assert caught[0].filename == __file__  # the warning names the caller's line, not subtok's
    assert tok.encode("a <A> <B> c").ids == [0, 10, 11, 2]
    hf = pytest.importorskip("tokenizers")
    assert hf.Tokenizer.from_file(str(path)).encode("a <A> <B> c").ids == [0, 10, 11, 2]


def test_an_id_hf_would_put_on_a_model_token_keeps_the_file_id(tmp_path):
    """A model whose ids leave gaps: HF would give the added token the id of a model token (two tokens on
    one id); subtok keeps the file's free id and warns."""
    vocab = {c: i + 2 for i, c in enumerate("abcdefghij")}  # ids 2..11, count 10: HF's next id 10 is 'i'
    path = tmp_path / "t.json"
    path.write_text(json.dumps(_word_level_doc([_added("<s>", 0), _added("</s>", 1)], vocab)))
    with pytest.warns(UserWarning, match="keep the file's ids.*'<s>' is 0; HF gives it 10, the id of 'i'"):
        tok = Tokenizer.from_huggingface(path)
    assert tok.encode("<s> i </s>").ids == [0, 10, 1]
    assert tok.decode([0, 10, 1], skip_special_tokens=False) == "<s> i </s>"
    path.write_text(json.dumps(_word_level_doc([_added("<s>", 5)], vocab)))
    with pytest.raises(TokenizerFileError, match="the file's id 5 is not free either"):
        Tokenizer.from_huggingface(path)


def test_ids_with_gaps_survive_hf_export(tmp_path):
    """Special tokens after a gap (cl100k's shape) go into the exported model vocabulary, where HF reads
    their ids; a gap id is an error to decode."""
    tok = TOKENIZERS.get("byte-bpe") or _train("byte-bpe")
    ranks = tok.mergeable_ranks()
    gapped = Tokenizer.from_tiktoken(ranks, "gpt2", {"<|endoftext|>": len(tok.vocab) + 3})
    assert gapped.vocab_size == len(tok.vocab) + 4 and gapped.vocab.has_gaps
    assert gapped.get_vocab()["<|endoftext|>"] == len(tok.vocab) + 3
    with pytest.raises(InputError, match="gap"):
        gapped.decode([len(tok.vocab) + 1])
    with pytest.raises(IndexError, match="gap"):
        gapped.id_to_token(len(tok.vocab) + 1)
    gapped.save_huggingface(tmp_path / "t.json")
    gapped.save(tmp_path / "ours.json")
    text = "hello <|endoftext|> world"
    assert Tokenizer.load(tmp_path / "ours.json").encode(text).ids == gapped.encode(text).ids
    assert Tokenizer.from_huggingface(tmp_path / "t.json").encode(text).ids == gapped.encode(text).ids
    hf = pytest.importorskip("tokenizers")
    assert hf.Tokenizer.from_file(str(tmp_path / "t.json")).encode(text).ids == gapped.encode(text).ids
