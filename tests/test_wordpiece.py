"""WordPiece: training (likelihood and frequency), BERT's encoding rule, the BERT pipeline, interop and
bad input. Tests that touch the encoder run on both backends."""

import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from subtok import SubtokError, Tokenizer, TokenizerFileError, TrainingError, _backend
from subtok.models import wordpiece_core
from subtok.normalizers import BertNormalizer, normalize
from subtok.text import Normalized

from .conftest import SAMPLE_TEXTS

fixture_ok = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def wp():
    return Tokenizer.train(SAMPLE_TEXTS, model="wordpiece", vocab_size=300, min_frequency=1)


def _toy(vocab, **kw):
    from subtok.models.wordpiece import WordPiece

    return WordPiece(["[UNK]", *vocab], **kw)


def test_greedy_longest_match_first_as_bert(backend):
    model = _toy(["un", "##aff", "##able", "una", "##ff", "a", "##b", "##le"])
    assert [model.vocab.token(i) for i in model.encode_word("unaffable")] == ["una", "##ff", "##able"]
    assert model.encode_word("unx") == [0]  # one position matches nothing: the whole word is [UNK]
    assert model.encode_word("") == []
    short = _toy(["a", "##a"], max_input_chars_per_word=5)
    assert short.encode_word("aaaaa") == [1, 2, 2, 2, 2]
    assert short.encode_word("aaaaaa") == [0]  # longer than max_input_chars_per_word


def hf_max_match(word: str, vocab: list[str], prefix: str = "##"):
    """HF's WordPiece step by step, from the vocabulary itself (no trie): at each start the longest
    substring that is a token, spelled with the prefix after the word's start; None where none is."""
    first_id = {t: i for i, t in reversed(list(enumerate(vocab)))}
    out, start = [], 0
    while start < len(word):
        for end in range(len(word), start, -1):
            sub = word[start:end] if start == 0 else prefix + word[start:end]
            if sub in first_id:
                out.append((first_id[sub], end))
                break
        else:
            return None
        start = out[-1][1]
    return out


def _pieces_vocab(seed: int, alphabet: str = "abcé東\x00#", long_ones: int = 0) -> list[str]:
    rng = random.Random(seed)
    pieces = {"".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 5))) for _ in range(25)}
    pieces |= {"".join(rng.choice(alphabet[:2]) for _ in range(rng.randrange(10, 40))) for _ in range(long_ones)}
    return ["[UNK]"] + sorted(pieces) + sorted("##" + p for p in rng.sample(sorted(pieces), len(pieces) // 2)) + ["##"]


@given(
    word=st.text(st.sampled_from("abcé東\x00#"), max_size=40),
    seed=st.integers(0, 30),
    long_ones=st.sampled_from([0, 8]),
)
def test_linmaxmatch_is_hf_max_match(word, seed, long_ones):
    """LinMaxMatch's links (and the greedy walk where a vocabulary has none) give HF's tokens and ends, in
    the reference and the native core alike; words that start with the prefix included."""
    vocab = _pieces_vocab(seed, long_ones=long_ones)
    expected = hf_max_match(word, vocab)
    trie = wordpiece_core.make_trie(vocab, "##")
    assert wordpiece_core.longest_match(word, trie) == expected
    assert wordpiece_core.greedy_match(word, trie) == expected
    ids = [0] if expected is None and word else [t for t, _ in expected or []]
    assert wordpiece_core.encode_longest_match(word, trie, 0, 100) == ids
    if _backend._native is not None:
        assert _backend._native.encode_longest_match(word, _backend._native.make_trie(vocab, "##"), 0, 100) == ids


def test_a_vocabulary_too_costly_to_link_is_matched_greedily():
    """Long tokens with no shorter ones along them would make LinMaxMatch's pops quadratic: such a
    vocabulary keeps the greedy walk (same tokens)."""
    vocab = ["[UNK]", "x", "##y", "x" + "y" * 40]
    trie = wordpiece_core.make_trie(vocab, "##")
    assert not trie.linked and wordpiece_core.make_trie(vocab[:3], "##").linked
    for word in ("x" + "y" * 45, "x" + "y" * 40, "xyyz"):
        assert wordpiece_core.longest_match(word, trie) == hf_max_match(word, vocab)
        if _backend._native is not None:
            ids = [t for t, _ in hf_max_match(word, vocab) or [(0, 0)]]
            assert _backend._native.encode_longest_match(word, _backend._native.make_trie(vocab, "##"), 0, 99) == ids


def test_a_long_word_is_linear(backend):
    model = _toy(["a", "##a", "##aa", "##aaa"], max_input_chars_per_word=10**7)
    ids = model.encode_word("a" * 1_000_000)  # a quadratic encoder would not finish
    assert len(ids) == 1 + (999_999 + 2) // 3


def test_likelihood_prefers_cohesive_pairs_and_is_deterministic(backend):
    texts = ["qu qu qu quiz quick quote", "the the the then there", "xy"] * 5
    a = Tokenizer.train(texts, model="wordpiece", vocab_size=40, min_frequency=1).to_dict()
    b = Tokenizer.train(list(reversed(texts)), model="wordpiece", vocab_size=40, min_frequency=1).to_dict()
    assert a == b
    lik = a["model"]["vocab"]
    freq = Tokenizer.train(texts, model="wordpiece", vocab_size=40, min_frequency=1, scoring="frequency")
    assert lik[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert "x" in lik and "##y" in lik
    # by frequency (q, ##u) comes first (30 occurrences); by likelihood it scores 30 / (30 * 30), while
    # (##c, ##k), (##o, ##t) and (x, ##y) score 5 / (5 * 5): a tie that the keys' order gives to ##ck
    first_merge_lik = lik[5 + len([t for t in lik[5:] if len(t.replace("##", "")) == 1])]
    pieces = freq.vocab.id_to_word
    first_merge_freq = pieces[5 + len([t for t in pieces[5:] if len(t.replace("##", "")) == 1])]
    assert first_merge_freq == "qu" and first_merge_lik == "##ck"


def test_likelihood_tie_break_and_rescoring_match_a_brute_force(backend):
    rng = random.Random(7)
    words = ["".join(rng.choice("abcd") for _ in range(rng.randrange(1, 7))) for _ in range(60)]
    tok = Tokenizer.train(
        [" ".join(words)], model="wordpiece", vocab_size=60, min_frequency=1, special_tokens=["[UNK]"]
    )
    # recompute every merge by scoring all pairs from scratch
    from collections import Counter
    from fractions import Fraction

    counts = Counter(words)
    seqs = {w: [w[0]] + ["##" + c for c in w[1:]] for w in counts}
    learned = tok.vocab.id_to_word[1 + 8 :]
    for expect in learned:
        uni, pairs = Counter(), Counter()
        for w, c in counts.items():
            for s in seqs[w]:
                uni[s] += c
            for p in zip(seqs[w], seqs[w][1:]):
                pairs[p] += c

        def smaller_first(key: bytes):  # max() of this picks the bytes that sort first
            return tuple(-b for b in key) + (1000,)

        best = max(
            pairs,
            key=lambda p: (
                Fraction(pairs[p], uni[p[0]] * uni[p[1]]),
                pairs[p],
                smaller_first(p[0].encode()),
                smaller_first(p[1].encode()),
            ),
        )
        merged = best[0] + best[1][2:]
        assert merged == expect
        for w in seqs:
            s, out, i = seqs[w], [], 0
            while i < len(s):
                if i + 1 < len(s) and (s[i], s[i + 1]) == best:
                    out.append(merged)
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            seqs[w] = out


def test_bert_normalizer_rules():
    b = BertNormalizer()
    # tab -> space, NUL and zero-width space dropped, CJK padded, U+2028 (White_Space) -> space
    assert b.normalize_str("Héllo\tWORLD\x00 東京 \u200b\u2028x") == "hello world  東  京   x"
    assert BertNormalizer(lowercase=False).normalize_str("Héllo") == "Héllo"
    assert BertNormalizer(lowercase=False, strip_accents=True).normalize_str("Héllo") == "Hello"
    assert BertNormalizer(strip_accents=False).normalize_str("Héllo") == "héllo"
    norm = normalize([b], "É東")
    assert norm.text == "e 東 " and [norm.original_span(i, i + 1) for i in range(4)] == [(0, 1)] + [(1, 2)] * 3


BERT_HARD = st.sampled_from("\x00\t\u200b\u2028É東ß\u0301İ")


@given(
    text=st.text(st.one_of(st.characters(codec="utf-8"), BERT_HARD), max_size=40),
    lowercase=st.booleans(),
    strip_accents=st.sampled_from([None, True, False]),
)
def test_the_normalizer_table_applies_as_the_normalizer(text, lowercase, strip_accents):
    """The whole-text encoders (both backends) read BertNormalizer.table(); normalize() is its spec."""
    normalizer = BertNormalizer(lowercase=lowercase, strip_accents=strip_accents)
    spec = normalizer.normalize(Normalized(text))
    got = wordpiece_core.normalize_by_table(text, normalizer.table())
    assert got.text == spec.text
    assert [got.original_span(i, i + 1) for i in range(len(got.text))] == [
        spec.original_span(i, i + 1) for i in range(len(spec.text))
    ]


def test_pipeline_pairs_offsets_and_decode(backend, wp):
    enc = wp.encode("The QUICK fox!", pair="Pieces.")
    assert enc.tokens[0] == "[CLS]" and enc.tokens.count("[SEP]") == 2
    assert enc.type_ids == [0] * (enc.tokens.index("[SEP]") + 1) + [1] * (len(enc) - enc.tokens.index("[SEP]") - 1)
    assert enc.special_tokens_mask[0] == 1 and enc.offsets[0] == (0, 0)
    assert (
        "".join("The QUICK fox!"[s:e] for s, e, t in zip(*zip(*enc.offsets), enc.type_ids) if t == 0) == "TheQUICKfox!"
    )
    assert wp.decode(enc.ids) == "the quick fox! pieces."
    plain = wp.encode("fox", add_special_tokens=False)
    assert "[CLS]" not in plain.tokens
    batch = wp.encode_batch(
        [("a fox", "the quick brown fox jumps"), "fox"], truncation=True, max_length=6, padding="max_length"
    )
    assert [len(e) for e in batch] == [6, 6] and batch[0].tokens[-1] == "[SEP]"
    arrays = wp.encode_batch(["a", ("a", "b")], return_tensors="np")
    assert arrays["token_type_ids"].shape == arrays["input_ids"].shape


def _piece(kind: str, ident: str, type_id: int) -> dict:
    return {kind: {"id": ident, "type_id": type_id}}


@pytest.mark.parametrize("types", [(0, 0, 0), (2, 1, 3)])
def test_a_batch_the_core_frames_is_each_text_post_processed(backend, wp, types):
    """A whole-text encoder's batch gets the post-processor's template from its core: the same encodings as
    one text at a time (ids, tokens, offsets, type ids, special-tokens mask), with type ids or without."""
    from subtok.processors import TemplateProcessing

    tok = Tokenizer.from_dict(wp.to_dict())
    names = ("[CLS]", "Sequence", "[SEP]")
    single = [
        _piece("Sequence" if n == "Sequence" else "SpecialToken", "A" if n == "Sequence" else n, t)
        for n, t in zip(names, types)
    ]
    specials = {n: {"id": n, "ids": [tok.token_to_id(n)], "tokens": [n]} for n in ("[CLS]", "[SEP]")}
    tok.post_processor = TemplateProcessing(single, single + single[1:], specials)
    texts = [*SAMPLE_TEXTS[:8], "", "a [SEP] inside", "Ünïcödé naïve"]
    fields = ("ids", "tokens", "offsets", "type_ids", "special_tokens_mask", "attention_mask")
    for text, got in zip(texts, tok.encode_batch(texts, num_threads=2), strict=True):
        want = tok.encode(text)
        assert [getattr(got, f) for f in fields] == [getattr(want, f) for f in fields], text
    assert tok.encode_batch(["x y"])[0].type_ids == [
        types[0],
        *[types[1]] * len(tok.encode("x y", add_special_tokens=False)),
        types[2],
    ]


def test_roundtrip_and_hf_json(backend, wp, tmp_path):
    wp.save(tmp_path / "wp.json")
    assert Tokenizer.load(tmp_path / "wp.json").encode("quick", pair="fox").ids == wp.encode("quick", pair="fox").ids
    wp.save_huggingface(tmp_path / "hf.json")
    doc = json.loads((tmp_path / "hf.json").read_text())
    assert doc["model"]["type"] == "WordPiece" and doc["normalizer"]["type"] == "BertNormalizer"
    assert doc["post_processor"]["type"] == "BertProcessing" and doc["pre_tokenizer"]["type"] == "BertPreTokenizer"
    back = Tokenizer.from_huggingface(tmp_path / "hf.json")
    for t in SAMPLE_TEXTS[:6]:
        assert back.encode(t).ids == wp.encode(t).ids
    try:
        import tokenizers
    except ImportError:
        return
    hf = tokenizers.Tokenizer.from_file(str(tmp_path / "hf.json"))
    for t in SAMPLE_TEXTS[:6] + ["Москва — столица.", "القاهرة هي عاصمة", "東京都 中文"]:
        h, e = hf.encode(t), wp.encode(t)
        assert (h.ids, h.offsets) == (e.ids, e.offsets)


def test_bert_vocab_txt(backend, wp, tmp_path):
    wp.save_bert_vocab(tmp_path / "vocab.txt")
    tok = Tokenizer.from_bert_vocab(tmp_path / "vocab.txt")
    assert tok.encode("the quick fox").ids == wp.encode("the quick fox").ids
    cased = Tokenizer.from_bert_vocab(tmp_path / "vocab.txt", lowercase=False)
    assert "[UNK]" in cased.encode("THE").tokens


@pytest.mark.parametrize(
    "content, match",
    [("", "empty"), ("[PAD]\na\nb\n", "unknown token"), ("[UNK]\na\nb\na\n", "line 4 repeats 'a'")],
)
def test_bad_vocab_txt(tmp_path, content, match):
    p = tmp_path / "vocab.txt"
    p.write_text(content)
    with pytest.raises(TokenizerFileError, match=match):
        Tokenizer.from_bert_vocab(p)
    with pytest.raises(TokenizerFileError, match="cannot read"):
        Tokenizer.from_bert_vocab(tmp_path / "missing.txt")


def test_training_errors():
    with pytest.raises(TrainingError, match="scoring"):
        Tokenizer.train(SAMPLE_TEXTS, model="wordpiece", vocab_size=300, scoring="vibes")
    with pytest.raises(TrainingError, match="below the alphabet"):
        Tokenizer.train(SAMPLE_TEXTS, model="wordpiece", vocab_size=20)
    with pytest.raises(SubtokError):
        Tokenizer.train(SAMPLE_TEXTS, model="wordpiece", vocab_size=300, unk_token=None)
