"""A short random-input run against the native core (used by tests/sanitize.sh under ASan/UBSan).

Throws random word lists, merge tables, texts, special tokens and truncated or mutated tokenizer files at
every C entry point (BPE training and encoding, WordPiece training and longest match, the SentencePiece
encoder in its Unigram, HF and BPE modes, sampling, Unigram training, the pre-tokenizer programs, csr_dot,
sgns_train), checks them
against the pure-Python reference where there is one, and gives each of them bad arguments. Any crash,
sanitizer report or mismatch fails. Usage: python tests/fuzz_native.py [SECONDS]
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from subtok import SubtokError, Tokenizer, _backend, sparse
from subtok.models import bpe_core, unigram_core, unigram_train_core, wordpiece_core
from subtok.models.unigram_trainer import char_class
from subtok.normalizers import BertNormalizer
from subtok.pre_tokenizers import PRE_TOKENIZERS, PROGRAM_MATCH, PROGRAM_SCAN, PROGRAM_SPELL, spelled_classes
from subtok.text import SCANNED_PATTERNS, Normalized

native = _backend._native
if native is None:
    sys.exit("native extension not built")
_backend.native("set_char_classes")  # installs the character classes

ALPHABET = " \t\n\r'sSt0123٣!?.-😀한国\u0301abc<>eos²ò½" + "".join(chr(i) for i in range(0x20, 0x7F))


def random_program(rng: random.Random) -> bytes:
    """int32 quintuples for split_program: mostly valid steps with any values, some not."""
    ops = []
    for _ in range(rng.randrange(0, 6)):
        op = rng.choice([PROGRAM_SCAN, PROGRAM_MATCH, PROGRAM_SPELL, rng.randrange(-3, 9)])
        ops += [op, rng.randrange(-2, 70), rng.randrange(-1, 5), rng.randrange(-1, 5), rng.randrange(-1, 6)]
    return np.array(ops, dtype=np.int32).tobytes() + bytes(rng.choice([0, 0, 0, 3]))


def sequences() -> list:
    """Sequence pre-tokenizers that compile to native programs (Falcon's among them)."""

    def split(pattern: str, behavior: str) -> dict:
        return {"type": "Split", "pattern": {"Regex": pattern}, "behavior": behavior}

    def punct(behavior: str) -> dict:
        return {"type": "Punctuation", "behavior": behavior}

    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "use_regex": True}
    steps = [
        [punct("Contiguous"), byte_level, {"type": "Digits"}, split("[0-9][0-9][0-9]", "Isolated")],
        [{"type": "WhitespaceSplit"}, punct("MergedWithNext"), split(r"\p{N}{1,3}", "Isolated")],
        [split(SCANNED_PATTERNS[5], "Isolated"), {"type": "Digits", "individual_digits": True}],
        [{"type": "BertPreTokenizer"}, {**byte_level, "use_regex": False}, punct("MergedWithPrevious")],
    ]
    return [PRE_TOKENIZERS.from_hf({"type": "Sequence", "pretokenizers": s}) for s in steps]


def random_text(rng: random.Random) -> str:
    n = rng.randrange(0, 200)
    if rng.random() < 0.1:
        return rng.choice("a ") * rng.randrange(0, 5000)
    return "".join(rng.choice(ALPHABET) if rng.random() < 0.9 else chr(rng.randrange(0x110000)) for _ in range(n))


def fuzz_training(rng: random.Random) -> None:
    nsym = rng.randrange(1, 8)
    words = [[rng.randrange(nsym) for _ in range(rng.randrange(1, 15))] for _ in range(rng.randrange(1, 30))]
    counts = [rng.randrange(1, 1 << 40) for _ in words]
    keys = [bytes([97 + i]) for i in range(nsym)]
    args = (counts, rng.randrange(0, 2), rng.randrange(nsym, 80), rng.randrange(1, 4), frozenset({b"ab"}))
    py_w, c_w = [list(w) for w in words], [list(w) for w in words]
    py_k, c_k = list(keys), list(keys)
    py = bpe_core.train_merges(py_w, args[0], py_k, *args[1:])
    c = native.train_merges(c_w, args[0], c_k, *args[1:])
    assert [tuple(m) for m in c] == py and c_k == py_k and c_w == py_w
    counts = [rng.randrange(1, 1 << 20) for _ in words]  # WordPiece by likelihood: the same inputs
    py_w, c_w, py_k, c_k = [list(w) for w in words], [list(w) for w in words], list(keys), list(keys)
    py = wordpiece_core.train_likelihood(py_w, counts, py_k, *args[1:])
    c = native.train_likelihood(c_w, counts, c_k, *args[1:])
    assert [tuple(m) for m in c] == py and c_k == py_k and c_w == py_w


def fuzz_kernels(rng: random.Random) -> None:
    """csr_dot against its reference, and sgns_train (no twin: finite results) on random small arrays, then
    each given one bad argument (out-of-range ids, broken CSR, wrong dtype or shape, NaN rates)."""
    n_rows, n_cols, k = rng.randrange(0, 6), rng.randrange(1, 6), rng.randrange(1, 4)
    lengths = [rng.randrange(0, 4) for _ in range(n_rows)]
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    indices = np.array([rng.randrange(n_cols) for _ in range(int(indptr[-1]))], dtype=np.int64)
    data, x = np.random.default_rng(rng.randrange(99)).random((2, len(indices))), np.ones((n_cols, k))
    data = data[0].copy()
    got, want = np.empty((n_rows, k)), np.empty((n_rows, k))
    native.csr_dot(indptr, indices, data, x, got, 2)
    sparse.csr_dot(indptr, indices, data, x, want)
    assert np.allclose(got, want)
    V, D, n = rng.randrange(1, 6), rng.randrange(0, 5), rng.randrange(0, 30)
    syn0, syn1 = np.full((V, D), 0.1, dtype=np.float32), np.zeros((V, D), dtype=np.float32)
    stream = np.array([rng.randrange(V) for _ in range(n)], dtype=np.int64)
    segs, noise = np.zeros(n, dtype=np.int64), np.ones(V)
    w2v = [syn0, syn1, stream, segs, noise, rng.randrange(1, 4), rng.randrange(0, 4), rng.randrange(2), 0.1, 0.0, 7]
    native.sgns_train(*w2v)
    assert np.isfinite(syn0).all() and np.isfinite(syn1).all()
    bad = rng.randrange(8)
    try:
        if bad == 0:
            native.csr_dot(indptr, indices + rng.choice([-1, n_cols]), data, x, got)
        elif bad == 1:
            native.csr_dot(indptr[::-1].copy(), indices, data, x, got)
        elif bad == 2:
            native.csr_dot(indptr, indices.astype(np.int32), data, x[:, :1], got)
        elif bad == 3:
            native.csr_dot(indptr, indices, data, x[::2], got[:, ::2])
        elif bad == 4:
            w2v[2] = stream + V
            native.sgns_train(*w2v)
        elif bad == 5:
            w2v[8] = rng.choice([float("nan"), float("inf"), -1.0])
            native.sgns_train(*w2v)
        elif bad == 6:
            w2v[4] = noise * rng.choice([-1.0, float("nan"), 0.0])
            native.sgns_train(*w2v)
        else:
            w2v[1] = syn1[:, :-1] if D else syn1.astype(np.float64)
            native.sgns_train(*w2v)
    except (ValueError, TypeError, BufferError):
        pass


def fuzz_bad_calls(rng: random.Random) -> None:
    bad_inputs = [
        lambda: native.train_merges([[0, rng.randrange(-5, 50)]], [1], [b"a", b"b"], 0, 10, 1),
        lambda: native.train_merges([[0, 1]], [rng.randrange(-5, 5)], [b"a", b"b"], rng.randrange(-2, 3), 10, 1),
        lambda: native.make_merge_table({(rng.randrange(-3, 3), 1): rng.randrange(-2, 3)}, [2]),
        lambda: native.encode_symbols([rng.randrange(-3, 3)], native.make_merge_table({}, [])),
        lambda: native.set_char_classes(bytes(rng.randrange(0, 10))),
        lambda: native.ByteLevelEncoder([0] * rng.randrange(250, 260), native.make_merge_table({}, [])),
        lambda: native.ByteLevelEncoder(
            [0] * 256,
            native.make_merge_table({}, []),
            [],
            0,
            0,
            None,
            False,
            [rng.randrange(-3, 2)] * rng.randrange(255, 258),
        ),
        lambda: native.count_gpt2(["ok", rng.choice([None, 3, b"x"])], []),
        lambda: native.BertEncoder(native.make_trie(["a"], "##"), 0, 5, (bytes(rng.randrange(0, 9)), b""), []),
        lambda: native.SentencePieceEncoder(
            bytes(rng.randrange(0, 12)),
            (True,) * 4,
            [],
            ["<unk>", "a"],
            [0.0, -1.0],
            [True, True],
            [False, False],
            0,
            [],
        ),
        lambda: native.SentencePieceEncoder(
            None, (True,) * 4, [], ["<unk>"], [0.0], [True], [False], rng.randrange(-2, 3), []
        ),
        lambda: native.TrainingCorpus(["a", rng.choice([None, 3, "b"])], [1, rng.randrange(-2, 2)]),
        lambda: native.split_program(random_text(rng), random_program(rng), bytes(rng.choice([256, 256, 5]))),
    ]
    try:
        rng.choice(bad_inputs)()
    except (ValueError, TypeError, OverflowError):
        pass


def sentencepiece_encoders(texts: list[str]) -> list[tuple]:
    """(native, reference) SentencePieceEncoder pairs: a Unigram model trained here (charsmap-less, with
    user-defined symbols and byte fallback), its HF flavor (float64), and a BPE mode with unused pieces and
    one without (whose words the native core caches)."""
    uni = Tokenizer.train(
        texts, model="unigram", vocab_size=800, character_coverage=0.9, byte_fallback=True,
        user_defined_symbols=["<s2>", "ab"],
    )  # fmt: skip
    m, norm = uni.model, uni.normalizers[0]
    flags = (
        norm.add_dummy_prefix,
        norm.remove_extra_whitespaces,
        norm.escape_whitespaces,
        norm.treat_whitespace_as_suffix,
    )
    pieces, kinds = list(m.vocab), m.kinds
    user = [k == "user_defined" for k in kinds]
    unused = [k == "normal" and i % 7 == 0 for i, k in enumerate(kinds)]
    mergeable = [k in ("normal", "user_defined") for k in kinds]
    variants = [
        (None, flags, ["<s2>", "ab"], pieces, m.scores, mergeable, user, m.unk_id, m.byte_ids, True, None),
        (None, (False, False, False, False), [], pieces, m.scores, [True] * len(pieces), [False] * len(pieces),
         m.unk_id, [], False, None),
        (None, flags, ["<s2>", "ab"], pieces, m.scores, mergeable, user, m.unk_id, m.byte_ids, True, unused),
        (None, flags, ["<s2>", "ab"], pieces, m.scores, mergeable, user, m.unk_id, m.byte_ids, True,
         [False] * len(pieces)),  # BPE without unused pieces: words cached in batches and long texts
    ]  # fmt: skip
    return [(native.SentencePieceEncoder(*v), unigram_core.SentencePieceEncoder(*v)) for v in variants]


def fuzz_sentencepiece(rng: random.Random, encoders: list[tuple]) -> None:
    c_enc, py_enc = rng.choice(encoders)
    text = random_text(rng)
    assert c_enc.encode_text(text) == py_enc.encode_text(text)
    seed, theta = rng.randrange(1 << 64), rng.choice([0.0, 0.1, 1.0, 5.0])
    assert c_enc.sample_text(text, theta, seed) == py_enc.sample_text(text, theta, seed)
    batch = [random_text(rng) for _ in range(rng.randrange(1, 4))]
    seeds = [rng.randrange(1 << 64) for _ in batch]
    assert c_enc.encode_batch(batch, 2) == py_enc.encode_batch(batch, 2)
    assert c_enc.encode_batch_flat(batch, 2) == py_enc.encode_batch_flat(batch, 2)
    assert c_enc.encode_batch_ids(batch, 2) == py_enc.encode_batch_ids(batch, 2)
    assert c_enc.sample_batch(batch, 0.3, seeds, 2) == py_enc.sample_batch(batch, 0.3, seeds, 2)


def fuzz_unigram_training(rng: random.Random) -> None:
    words = sorted({"".join(rng.choice("ab\u2581c1\u0301") for _ in range(rng.randrange(1, 9))) for _ in range(20)})
    counts = [rng.randrange(1, 50) for _ in words]
    chars = sorted({ch for w in words for ch in w})
    classes = {ch: char_class(ch, True) for ch in chars}
    rules = (rng.randrange(1, 8), *(rng.randrange(2) for _ in range(4)))
    limit = rng.randrange(0, 30)
    ref, nat = unigram_train_core.TrainingCorpus(words, counts), native.TrainingCorpus(words, counts)
    for corpus in (ref, nat):
        corpus.seed([(ch, 1 + k) for k, ch in enumerate(chars)], classes, rules, 2, limit)
    assert ref.model() == nat.model()
    assert ref.estep() == nat.estep(2) and ref.viterbi_counts() == nat.viterbi_counts(2)
    assert ref.em_round() == nat.em_round(2) and ref.model() == nat.model()
    size = rng.randrange(0, len(ref) + 1)
    ref.prune(size)
    nat.prune(size, 2)
    assert ref.model() == nat.model()


def fuzz_tokenizer_files(rng: random.Random, tok: Tokenizer, tmp: Path) -> None:
    text = json.dumps(tok.to_dict())
    if rng.random() < 0.5:
        text = text[: rng.randrange(len(text))]
    else:
        pos = rng.randrange(len(text))
        text = text[:pos] + rng.choice(['"', "]", "1", "-1", "{}", "null", "x"]) + text[pos + 1 :]
    path = tmp / "t.json"
    path.write_text(text)
    try:
        loaded = Tokenizer.load(path)
        loaded.encode(random_text(rng))
    except SubtokError:
        pass


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 30
    rng = random.Random(0)
    texts = [random_text(rng) for _ in range(300)]
    tok = Tokenizer.train(texts, vocab_size=500, min_frequency=1)
    model = tok.model
    specials = [("<eos>", 3), ("<", 2)]
    c_enc = native.ByteLevelEncoder(model.byte_ids, native.make_merge_table(model.ranks, model.results), specials)
    py_enc = bpe_core.ByteLevelEncoder(model.byte_ids, bpe_core.make_merge_table(model.ranks, model.results), specials)
    whole = {t.encode("utf-8", "surrogatepass"): i for i, t in enumerate(model.vocab) if t and i % 3 == 0}
    top = len(model.vocab) - 1
    chars = {c: 256 + i for i, c in enumerate(sorted({c for t in texts for c in t})[:40])}
    char_merges = {(256 + i, 257 + i): i for i in range(30)}
    char_results = [296 + i for i in range(30)]
    c_chars = (native.make_char_table(chars, list(range(256))), native.make_merge_table(char_merges, char_results))
    py_chars = (
        bpe_core.make_char_table(chars, list(range(256))),
        bpe_core.make_merge_table(char_merges, char_results),
    )
    missing = [-1 if b in (0xF1, 0xED, 0x80) else t for b, t in enumerate(model.byte_ids)]  # dropped bytes
    stripped = [("<eos>", 3, True, False), ("<", 2, True, True)]
    roberta = tuple(  # HF's add_prefix_space, lstrip and rstrip
        impl.ByteLevelEncoder(
            model.byte_ids, impl.make_merge_table(model.ranks, model.results), stripped, 0, 0, None, 1
        )
        for impl in (native, bpe_core)
    )
    scanned = [  # the other patterns' scanners, with ignore_merges' whole words and bytes the vocabulary lacks
        tuple(
            impl.ByteLevelEncoder(missing, impl.make_merge_table(model.ranks, model.results), specials, top, k, whole)
            for impl in (native, bpe_core)
        )
        for k in range(1, len(SCANNED_PATTERNS))
    ]
    last = [-1 if b % 7 == 0 else t for b, t in enumerate(model.byte_ids)]  # a word's last byte, some dropped
    suffixed = tuple(  # CLIP's end-of-word suffix on each word's last byte
        impl.ByteLevelEncoder(
            model.byte_ids, impl.make_merge_table(model.ranks, model.results), [], 0, 0, None, False, last
        )
        for impl in (native, bpe_core)
    )
    wp = Tokenizer.train(texts, model="wordpiece", vocab_size=1000, min_frequency=1, limit_alphabet=200).model
    bert_args = (wp.unk_id, 20, BertNormalizer().table(), [("[CLS]", 2), ("[SEP]", 3)])
    c_trie, py_trie = native.make_trie(list(wp.vocab), "##"), wordpiece_core.make_trie(list(wp.vocab), "##")
    c_bert, py_bert = native.BertEncoder(c_trie, *bert_args), wordpiece_core.BertEncoder(py_trie, *bert_args)
    sp_encoders = sentencepiece_encoders(texts)
    programs = sequences()
    deadline, rounds = time.monotonic() + seconds, 0
    with tempfile.TemporaryDirectory() as tmp:
        while time.monotonic() < deadline:
            text = random_text(rng)
            for scanner in range(len(SCANNED_PATTERNS)):
                assert native.split_scanned(text, scanner) == bpe_core.split_scanned(text, scanner)
            for pre in programs:  # one native call against the step-by-step refinement
                with _backend.using("python"):
                    want = pre.word_spans(Normalized(text))[1]
                assert native.split_program(text, pre.program, spelled_classes()) == want
            assert c_enc.encode_text(text) == py_enc.encode_text(text)
            for c_scanned, py_scanned in [*scanned, roberta]:
                assert c_scanned.encode_text(text) == py_scanned.encode_text(text)
            batch = [random_text(rng) for _ in range(rng.randrange(1, 6))]
            assert c_enc.encode_batch(batch, 2) == py_enc.encode_batch(batch, 2)
            assert native.count_gpt2(batch, ["<eos>"]) == bpe_core.count_gpt2(batch, ["<eos>"])
            assert c_bert.encode_batch(batch, 2) == py_bert.encode_batch(batch, 2)
            assert c_enc.encode_batch_flat(batch, 2) == py_enc.encode_batch_flat(batch, 2)
            assert c_bert.encode_batch_flat(batch, 2) == py_bert.encode_batch_flat(batch, 2)
            assert c_enc.encode_batch_ids(batch, 2) == py_enc.encode_batch_ids(batch, 2)
            assert c_bert.encode_batch_ids(batch, 2) == py_bert.encode_batch_ids(batch, 2)
            words = [text[a:b] for text in batch for a, b in bpe_core.split_gpt2(text)]
            assert [c_enc.encode_word(w) for w in words] == [py_enc.encode_word(w) for w in words]
            for w in words + batch:  # character-level BPE with byte fallback
                assert native.encode_chars(w, *c_chars) == bpe_core.encode_chars(w, *py_chars)
            assert c_enc.encode_words(words) == py_enc.encode_words(words)
            assert suffixed[0].encode_words(words) == suffixed[1].encode_words(words)
            for word in words:
                max_chars = rng.randrange(1, 30)
                want = wordpiece_core.encode_longest_match(word, py_trie, wp.unk_id, max_chars)
                assert native.encode_longest_match(word, c_trie, wp.unk_id, max_chars) == want
            fuzz_kernels(rng)
            fuzz_training(rng)
            fuzz_sentencepiece(rng, sp_encoders)
            fuzz_unigram_training(rng)
            fuzz_bad_calls(rng)
            fuzz_tokenizer_files(rng, tok, Path(tmp))
            rounds += 1
    print(f"fuzz: {rounds} rounds in {seconds:.0f} s, no mismatch")


if __name__ == "__main__":
    main()
