"""Real published tokenizers (the shared data's GPT-2, Qwen2, StarCoder, Llama-2 SentencePiece BPE and BERT
files) give the ids HF transformers gave for their hard cases, on both backends; with HF tokenizers
installed, the same offsets and decodes too. Qwen2's vocab.json + merges.txt with its pattern give the ids
of its tokenizer.json, and tiktoken, given the same ranks, agrees with Tokenizer.from_tiktoken."""

from __future__ import annotations

import base64
import gzip
import json
import warnings

import pytest

from subtok import InputError, SubtokError, Tokenizer, TokenizerFileError
from subtok.text import PATTERNS

NAMES = ["gpt2", "qwen2", "starcoder", "llama-spm", "bert-bge"]
LOADED: dict = {}


@pytest.fixture(scope="module")
def shared_tokenizers(shared_data, tmp_path_factory):
    root = shared_data.parent / "tokenizers"
    if not root.is_dir():
        pytest.skip("shared tokenizers not found")
    out = tmp_path_factory.mktemp("published")
    for name in NAMES:
        (out / f"{name}.json").write_bytes(gzip.decompress((root / name / "tokenizer.json.gz").read_bytes()))
    return root, out


def _load(path) -> Tokenizer:
    if path not in LOADED:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # StarCoder's rebuilt file: ids HF would put on the model's
            LOADED[path] = Tokenizer.from_huggingface(path)
    return LOADED[path]


def _cases(root, name) -> list[dict]:
    lines = (root / name / "expected.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line]


@pytest.mark.parametrize("name", NAMES)
def test_published_tokenizers_give_the_expected_ids(backend, shared_tokenizers, name):
    root, files = shared_tokenizers
    tok = _load(files / f"{name}.json")
    cases = _cases(root, name)
    assert cases
    for case in cases:
        assert tok.encode(case["text"], add_special_tokens=False).ids == case["ids"], case["text"]
    batch = tok.encode_batch([c["text"] for c in cases], add_special_tokens=False)
    assert [e.ids for e in batch] == [c["ids"] for c in cases]


@pytest.mark.parametrize("name", NAMES)
def test_published_tokenizers_give_hf_offsets_and_decodes(backend, shared_tokenizers, name):
    hf = pytest.importorskip("tokenizers")
    root, files = shared_tokenizers
    tok, theirs = _load(files / f"{name}.json"), hf.Tokenizer.from_file(str(files / f"{name}.json"))
    for case in _cases(root, name):
        expected, got = theirs.encode(case["text"]), tok.encode(case["text"])
        assert got.ids == expected.ids and got.offsets == expected.offsets and got.tokens == expected.tokens
        assert tok.decode(got.ids) == theirs.decode(expected.ids)
        assert tok.decode(got.ids, skip_special_tokens=False) == theirs.decode(expected.ids, skip_special_tokens=False)


def test_qwen2_files_with_its_pattern_give_its_tokenizer_json_ids(backend, shared_tokenizers, tmp_path):
    root, files = shared_tokenizers
    for part in ("vocab.json", "merges.txt"):
        (tmp_path / part).write_bytes(gzip.decompress((root / "qwen2" / f"{part}.gz").read_bytes()))
    full = _load(files / "qwen2.json")
    specials = full.special_tokens[:3]
    tok = Tokenizer.from_gpt2_files(
        tmp_path / "vocab.json", tmp_path / "merges.txt", specials, pattern="qwen2", normalizers=["NFC"]
    )
    assert [tok.token_to_id(t) for t in specials] == [full.token_to_id(t) for t in specials]
    texts = [c["text"] for c in _cases(root, "qwen2")] + [f"a{specials[1]}b"]
    for text in texts:
        assert tok.encode(text).ids == full.encode(text).ids
    gpt2_pattern = Tokenizer.from_gpt2_files(tmp_path / "vocab.json", tmp_path / "merges.txt")
    assert any(gpt2_pattern.encode(t).ids != full.encode(t).ids for t in texts)  # the pattern matters


def _gpt2_ranks(files) -> tuple[dict[bytes, int], Tokenizer]:
    tok = _load(files / "gpt2.json")
    return tok.mergeable_ranks(), tok


def test_tiktoken_ranks_file_gives_tiktoken_ids(backend, shared_tokenizers, tmp_path):
    tiktoken = pytest.importorskip("tiktoken")
    root, files = shared_tokenizers
    ranks, _ = _gpt2_ranks(files)
    lines = [f"{base64.b64encode(t).decode()} {r}" for t, r in sorted(ranks.items(), key=lambda tr: tr[1])]
    (tmp_path / "r50k.tiktoken").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # cl100k's shape: special tokens after a gap
    specials = {"<|endoftext|>": len(ranks) + 1, "<|fim_prefix|>": len(ranks) + 2, "<|endofprompt|>": len(ranks) + 20}
    for pattern in ("gpt2", "cl100k", "o200k", "llama3"):
        ours = Tokenizer.from_tiktoken(tmp_path / "r50k.tiktoken", pattern, specials)
        theirs = tiktoken.Encoding("t", pat_str=PATTERNS[pattern], mergeable_ranks=ranks, special_tokens=specials)
        texts = ["Hello world", " 12345 tokens!!", "naïve café 東京 🙂", "  \n\n x", "it's DON'T", "end \n\n "]
        texts += [c["text"] for c in _cases(root, "gpt2")]
        for text in texts:
            assert ours.encode_ordinary(text) == theirs.encode_ordinary(text)
            assert ours.encode(text, allowed_special="all").ids == theirs.encode(text, allowed_special="all")
        mixed = "a<|endoftext|>b<|endofprompt|>"
        assert ours.encode(mixed).ids == theirs.encode(mixed, allowed_special="all")
        assert ours.decode(theirs.encode(mixed, allowed_special="all"), skip_special_tokens=False) == mixed
    assert ours.vocab_size == len(ranks) + 21 and ours.vocab.has_gaps
    with pytest.raises(InputError, match="gap"):
        ours.decode([len(ranks)])


def test_tiktoken_special_token_semantics(backend, shared_tokenizers):
    tiktoken = pytest.importorskip("tiktoken")
    _, files = shared_tokenizers
    ranks, _ = _gpt2_ranks(files)
    specials = {"<|endoftext|>": len(ranks)}
    ours = Tokenizer.from_tiktoken(ranks, "gpt2", specials)
    theirs = tiktoken.Encoding("t", pat_str=PATTERNS["gpt2"], mergeable_ranks=ranks, special_tokens=specials)
    text = "x <|endoftext|> y"
    with pytest.raises(ValueError):
        theirs.encode(text)
    with pytest.raises(InputError, match="disallowed"):
        ours.encode(text, allowed_special=(), disallowed_special="all")  # tiktoken's default
    assert ours.encode(text, allowed_special=()).ids == theirs.encode(text, disallowed_special=())
    assert ours.encode(text).ids == theirs.encode(text, allowed_special="all")  # HF's default
    assert ours.encode_ordinary(text) == theirs.encode_ordinary(text)


def test_tiktoken_files_are_checked(tmp_path):
    path = tmp_path / "bad.tiktoken"
    path.write_text("IQ== 0\nnot-base64! 1\n", encoding="utf-8")
    with pytest.raises(TokenizerFileError, match="bad.tiktoken, line 2"):
        Tokenizer.from_tiktoken(path, "gpt2")
    path.write_text("IQ== 0\n", encoding="utf-8")
    with pytest.raises(TokenizerFileError, match="byte 0x00 has no rank"):
        Tokenizer.from_tiktoken(path, "gpt2")
    ranks = {bytes([b]): b for b in range(256)}
    ranks[b"abc"] = 256  # no merge of two lower-ranked tokens makes it
    with pytest.raises(TokenizerFileError, match="not two tokens of lower rank"):
        Tokenizer.from_tiktoken(ranks, "gpt2")
    del ranks[b"abc"]
    with pytest.raises(SubtokError, match="cannot have id 3"):
        Tokenizer.from_tiktoken(ranks, "gpt2", {"<|x|>": 3})
