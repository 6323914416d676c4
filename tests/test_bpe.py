"""BPE training and encoding; every test runs on both backends (the ``backend`` fixture)."""

import json
import random
import warnings
from collections import Counter

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from subtok import Tokenizer, TrainingError, _backend
from subtok.models import BPE, bpe_core
from subtok.text import token_to_bytes

from .conftest import SAMPLE_TEXTS

any_text = st.text(st.characters(codec="utf-8"), max_size=200)  # Hangul, CJK, emoji, marks, controls
fixture_ok = hsettings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def byte_tok():
    return Tokenizer.train(SAMPLE_TEXTS, vocab_size=400, min_frequency=2)


def test_toy_merges_and_tie_break(backend):
    with pytest.warns(UserWarning, match="ran out of pairs"):
        tok = Tokenizer.train(["aaabdaaabac"], vocab_size=300, min_frequency=2, special_tokens=())
    # (a, a) x4 first; then (aa, a) and (a, b) tie at 2: b"a" sorts before b"aa", so (a, b); then (aa, ab).
    assert tok.model.merges == [("a", "a"), ("a", "b"), ("aa", "ab")]
    assert tok.encode("aaabdaaabac").tokens == ["aaab", "d", "aaab", "a", "c"]


def test_vocab_is_exactly_vocab_size(backend):
    tok = Tokenizer.train(SAMPLE_TEXTS, vocab_size=333, min_frequency=1)
    assert tok.vocab_size == 333
    assert tok.vocab.id_to_word[:4] == ["<unk>", "<pad>", "<bos>", "<eos>"]


def test_vocab_size_below_alphabet_is_an_error(backend):
    with pytest.raises(TrainingError, match="below the alphabet"):
        Tokenizer.train(SAMPLE_TEXTS, vocab_size=259)


def test_training_is_deterministic_and_order_independent(backend):
    first = json.dumps(Tokenizer.train(SAMPLE_TEXTS, vocab_size=500, min_frequency=1).to_dict())
    again = json.dumps(Tokenizer.train(SAMPLE_TEXTS, vocab_size=500, min_frequency=1).to_dict())
    shuffled = list(SAMPLE_TEXTS)
    random.Random(3).shuffle(shuffled)
    other = json.dumps(Tokenizer.train(shuffled, vocab_size=500, min_frequency=1).to_dict())
    assert first == again == other


@fixture_ok
@given(text=any_text)
def test_byte_level_roundtrip(backend, byte_tok, text):
    ids = byte_tok.encode(text).ids
    assert byte_tok.decode(ids, skip_special_tokens=False) == text
    if not any(s in text for s in byte_tok.special_tokens):  # a spelled special token is that token
        assert byte_tok.decode(ids) == text


@fixture_ok
@given(text=any_text)
def test_offsets_are_monotone_and_slice_the_token(backend, byte_tok, text):
    enc = byte_tok.encode(text)
    offsets = enc.offsets
    assert len(offsets) == len(enc.ids)
    for (s0, e0), (s1, e1) in zip(offsets, offsets[1:]):
        assert s0 <= s1 and e0 <= e1
    for token, (s, e) in zip(enc.tokens, offsets):
        assert 0 <= s < e <= len(text)
        assert token_to_bytes(token) in text[s:e].encode("utf-8", "surrogatepass")


@fixture_ok
@given(before=any_text, after=any_text, special=st.sampled_from(["<eos>", "<bos>", "<pad>", "<unk>"]))
def test_special_tokens_survive_any_surrounding_text(backend, byte_tok, before, after, special):
    text = before + special + after
    enc = byte_tok.encode(text)
    sid = byte_tok.token_to_id(special)
    assert sid in enc.ids
    i = enc.ids.index(sid) if special not in before else None
    if i is not None:
        assert enc.offsets[i] == (len(before), len(before) + len(special))
    assert byte_tok.decode(enc.ids, skip_special_tokens=False) == text


@fixture_ok
@given(symbols=st.lists(st.integers(0, 11), max_size=120))
def test_scan_and_heap_encoders_agree(backend, symbols):
    # a small merge table over 12 symbols, with overlapping and chained merges
    rng = random.Random(len(symbols))
    ranks, results = {}, []
    for _ in range(30):
        pair = (rng.randrange(12 + len(results)), rng.randrange(12 + len(results)))
        if pair not in ranks:
            ranks[pair] = len(results)
            results.append(12 + len(results))
    expected = bpe_core._encode_scan(symbols, ranks, results)
    assert bpe_core._encode_heap(symbols, ranks, results) == expected
    table = _backend.pick(bpe_core.make_merge_table)(ranks, results)
    assert _backend.pick(bpe_core.encode_symbols)(symbols, table) == expected


def test_long_word_is_not_quadratic(backend, byte_tok):
    text = "a" * 200_000  # one pre-token: a quadratic encoder would not finish
    enc = byte_tok.encode(text)
    assert byte_tok.decode(enc.ids) == text
    rnd = bytes(random.Random(0).randrange(256) for _ in range(50_000)).decode("latin-1")
    assert byte_tok.decode(byte_tok.encode(rnd).ids) == rnd


def test_char_level_with_suffix_unk_and_limit_alphabet(backend):
    texts = ["low lower lowest newer newest wider"] * 10 + ["zq"]
    tok = Tokenizer.train(texts, vocab_size=30, byte_level=False, min_frequency=2, limit_alphabet=10)
    assert tok.vocab_size == 30
    assert "z" not in "".join(tok.vocab.id_to_word[4:])  # z and q are beyond the 10 most frequent characters
    enc = tok.encode("lowest zoo")
    assert enc.tokens[0].endswith("</w>") or enc.tokens[0] in tok.model.vocab
    assert "<unk>" in enc.tokens
    assert tok.decode(tok.encode("lowest newer").ids) == "lowest newer"
    assert enc.offsets[0][0] == 0 and enc.offsets[-1][1] == len("lowest zoo")


def test_char_level_prefix_and_byte_fallback(backend):
    texts = ["hugging hugs hug pug pun bun"] * 10
    tok = Tokenizer.train(
        texts,
        vocab_size=275,
        byte_level=False,
        min_frequency=2,
        byte_fallback=True,
        continuing_subword_prefix="##",
        end_of_word_suffix=None,
        special_tokens=("<pad>",),
    )
    assert "<0xE4>" in tok.model.vocab
    enc = tok.encode("hugs 東")
    assert enc.tokens[-3:] == ["<0xE6>", "<0x9D>", "<0xB1>"]
    assert all(t.startswith("##") for t in enc.tokens[1:-3])
    assert enc.offsets[-1] == (5, 6)
    assert "東" in tok.decode(enc.ids)  # byte tokens decode back to the character
    assert tok.decode(tok.encode("hugging pun").ids) == "hugging pun"


def test_char_level_needs_unk_or_fallback(backend):
    with pytest.raises(TrainingError, match="unk_token"):
        Tokenizer.train(["abc"], vocab_size=50, byte_level=False, unk_token=None, special_tokens=())


def test_merges_never_spell_a_special_token(backend):
    texts = ["<eo <eo <eo s> s> s> eos> eos>"] * 20
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tok = Tokenizer.train(texts, vocab_size=400, min_frequency=1, special_tokens=("<eos>",))
    assert tok.vocab.id_to_word.count("<eos>") == 1


def test_train_from_files_equals_train_from_lines(backend, tmp_path):
    p = tmp_path / "c.txt"
    text = "".join(t + "\n" for t in SAMPLE_TEXTS)
    p.write_text(text, encoding="utf-8")
    a = Tokenizer.train(p, vocab_size=400, min_frequency=1).to_dict()
    b = Tokenizer.train(text.splitlines(keepends=True), vocab_size=400, min_frequency=1).to_dict()
    assert a == b


def naive_train_merges(words, counts, keys, strip, max_tokens, min_frequency, blocked=frozenset()):
    """minbpe's loop, the merge rule as a spec: recount every pair each step, take the most frequent (ties:
    the smaller left key, then right key), skip pairs whose token would spell a blocked key, merge it
    everywhere left to right."""
    merges = []
    while len(keys) < max_tokens:
        stats = Counter()
        for word, c in zip(words, counts):
            for pair in zip(word, word[1:]):
                stats[pair] += c
        allowed = [p for p, c in stats.items() if c > 0 and keys[p[0]] + keys[p[1]][strip:] not in blocked]
        if not allowed:
            break
        a, b = min(allowed, key=lambda p: (-stats[p], keys[p[0]], keys[p[1]]))
        if stats[(a, b)] < min_frequency:
            break
        key = keys[a] + keys[b][strip:]
        z = keys.index(key) if key in keys else len(keys)
        if z == len(keys):
            keys.append(key)
        merges.append((a, b, z))
        for w, word in enumerate(words):
            out, i = [], 0
            while i < len(word):
                pair_here = i + 1 < len(word) and word[i] == a and word[i + 1] == b
                out.append(z if pair_here else word[i])
                i += 2 if pair_here else 1
            words[w] = out
    return merges


# words as the character-level trainers make them: a word-initial symbol (a, b), then continuation symbols
# (#a, #b: their "#" is stripped when merged, as "##" is in WordPiece); "ab" exists already, so merging (a, #b)
# reuses its id, as HF allows
words_strategy = st.lists(
    st.tuples(st.integers(0, 1), st.lists(st.integers(2, 3), max_size=9)).map(lambda w: [w[0], *w[1]]),
    min_size=1,
    max_size=25,
)


@given(words=words_strategy, seed=st.integers(1, 9), min_frequency=st.integers(1, 3), strip=st.integers(0, 1))
@fixture_ok
def test_merge_loop_equals_the_naive_oracle(backend, words, seed, min_frequency, strip):
    counts = [(i * seed) % 5 + 1 for i in range(len(words))]
    keys = [b"a", b"b", b"#a", b"#b", b"ab" if strip else b"a#b"]
    blocked = frozenset({b"ba" if strip else b"b#a"})
    expected_words, expected_keys = [list(w) for w in words], list(keys)
    expected = naive_train_merges(expected_words, counts, expected_keys, strip, 40, min_frequency, blocked)
    got_words, got_keys = [list(w) for w in words], list(keys)
    got = _backend.pick(bpe_core.train_merges)(got_words, counts, got_keys, strip, 40, min_frequency, blocked)
    assert [tuple(m) for m in got] == expected
    assert got_keys == expected_keys and got_words == expected_words


_CHAR_MODELS = {}


@pytest.mark.parametrize(
    "options",
    [
        dict(byte_fallback=True, fuse_unk=False),
        dict(byte_fallback=True, fuse_unk=True),
        dict(byte_fallback=False, fuse_unk=True),
        dict(byte_fallback=False, fuse_unk=False),
    ],
)
@given(
    word=st.text(st.sampled_from("abcé가東🙂 \x00xyz"), max_size=12),
    drop=st.sampled_from([(), ("<0xEA>",), ("<0xF0>", "<0x9F>")]),
)
def test_initial_symbols_are_symbols_ids(options, word, drop):
    """The fast initial symbols of character-level BPE (the vocabulary's characters, byte fallback spliced in)
    equal what ``symbols`` makes, the unknown token waiting for the next known character as in HF, with
    some byte tokens missing too."""
    key = (tuple(sorted(options.items())), drop)
    if key not in _CHAR_MODELS:
        vocab = ["<unk>", *"abcxyz", "é", "ab", *(f"<0x{b:02X}>" for b in range(256) if f"<0x{b:02X}>" not in drop)]
        _CHAR_MODELS[key] = BPE(vocab, [("a", "b")], byte_level=False, unk_token="<unk>", **options)
    model = _CHAR_MODELS[key]
    assert model.initial_symbols(word) == [t for t, _, _ in model.symbols(word)]


@pytest.mark.parametrize("crossing", [False, True])
def test_long_words_go_run_by_run_only_where_no_merge_crosses_a_run_of_spaces(backend, crossing):
    """Character-level BPE with byte fallback (files converted from SentencePiece, a whole line one word)
    encodes a long word run by run of ▁ only when no merge makes a token with ▁ after another character;
    either way the ids are the whole word's merges."""
    chars = ["a", "b", "\u2581"]
    merges = [("a", "\u2581"), ("\u2581", "b"), ("a", "b")] if crossing else [("\u2581", "b"), ("a", "b")]
    made = ["".join(m) for m in merges]
    vocab = [*chars, *made, *(f"<0x{b:02X}>" for b in range(256))]
    model = BPE(vocab, merges, byte_level=False, byte_fallback=True)
    assert (model._space_cuts is None) == crossing
    word = "a\u2581b\u2581\u2581ab\u2581é" * 8
    whole = bpe_core.encode_symbols(model.initial_symbols(word), bpe_core.make_merge_table(model.ranks, model.results))
    assert model.encode_word(word) == whole
    assert ("a\u2581" in [model.vocab.id_to_word[i] for i in whole]) == crossing
