"""The native core against the pure-Python reference: identical merges, keys, words and encodings,
and clear errors (never a crash) on malformed input to the C functions."""

import copy
import gzip
import json
import random
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subtok import Tokenizer, _backend
from subtok.models import bpe_core, wordpiece_core
from subtok.normalizers import BertNormalizer
from subtok.text import SCANNED_PATTERNS, char_classes

from .conftest import SAMPLE_TEXTS

native = _backend._native
if native is None:
    pytest.skip("native extension not built or disabled (SUBTOK_NO_NATIVE)", allow_module_level=True)
_backend.native("set_char_classes")  # installs the character classes, as any native call site does

words_strategy = st.lists(st.lists(st.integers(0, 5), min_size=1, max_size=12), min_size=1, max_size=40)


@given(words=words_strategy, counts_seed=st.integers(1, 9), min_frequency=st.integers(1, 3), strip=st.integers(0, 1))
def test_train_merges_identical(words, counts_seed, min_frequency, strip):
    counts = [(i * counts_seed) % 7 + 1 for i in range(len(words))]
    keys = [bytes([97 + i]) for i in range(6)]
    blocked = frozenset({b"ab"})
    py_words, py_keys = copy.deepcopy(words), list(keys)
    c_words, c_keys = copy.deepcopy(words), list(keys)
    py = bpe_core.train_merges(py_words, counts, py_keys, strip, 60, min_frequency, blocked)
    c = native.train_merges(c_words, counts, c_keys, strip, 60, min_frequency, blocked)
    assert [tuple(m) for m in c] == py
    assert c_keys == py_keys and c_words == py_words


@given(words=words_strategy, as_bytes=st.lists(st.booleans(), min_size=40, max_size=40))
def test_train_merges_takes_bytes_and_str_words(words, as_bytes):
    """A word given as bytes (or as a str: its UTF-8) trains as the list of its byte values and is left as
    given, on both backends."""
    keys = [bytes([97 + i]) for i in range(6)]
    mixed = [
        (bytes(w).decode("latin-1") if i % 2 else bytes(w)) if b else list(w)
        for i, (w, b) in enumerate(zip(words, as_bytes))
    ]
    counts = [1 + i % 3 for i in range(len(words))]
    lists, expected_keys = copy.deepcopy(words), list(keys)
    expected = bpe_core.train_merges(lists, counts, expected_keys, 0, 40, 1)
    for train in (bpe_core.train_merges, native.train_merges):
        given, k = copy.deepcopy(mixed), list(keys)
        assert [tuple(m) for m in train(given, counts, k, 0, 40, 1)] == expected
        assert k == expected_keys
        assert given == [m if isinstance(m, (str, bytes)) else merged for m, merged in zip(mixed, lists)]


def test_train_merges_reads_a_str_word_as_its_utf8():
    words = ["héllo", "😀a😀a", "x\ud800x\ud800", "héllo wörld"]
    keys = [bytes([b]) for b in range(256)]
    as_bytes = [w.encode("utf-8", "surrogatepass") for w in words]
    expected = bpe_core.train_merges(list(as_bytes), [3, 2, 2, 1], list(keys), 0, 270, 1)
    assert [tuple(m) for m in native.train_merges(list(words), [3, 2, 2, 1], list(keys), 0, 270, 1)] == expected
    assert bpe_core.train_merges(list(words), [3, 2, 2, 1], list(keys), 0, 270, 1) == expected


@given(symbols=st.lists(st.integers(0, 7), max_size=300), seed=st.integers(0, 50))
def test_encode_symbols_identical(symbols, seed):
    import random

    rng = random.Random(seed)
    ranks, results = {}, []
    for _ in range(40):
        pair = (rng.randrange(8 + len(results)), rng.randrange(8 + len(results)))
        if pair not in ranks:
            ranks[pair] = len(results)
            results.append(8 + len(results))
    expected = bpe_core.encode_symbols(symbols, bpe_core.make_merge_table(ranks, results))
    assert native.encode_symbols(symbols, native.make_merge_table(ranks, results)) == expected


@settings(max_examples=60, deadline=None)
@given(alphabet=st.integers(2, 6), length=st.integers(40, 3000), seed=st.integers(0, 10**6))
def test_encode_symbols_identical_on_long_words_and_any_table(alphabet, length, seed):
    """Long words (the heap path from 48 symbols) under tables no trainer writes: ranks that use results
    made later, one result for several ranks, pairs of a result with itself."""
    import random

    rng = random.Random(seed)
    ids = alphabet + 12
    ranks = {}
    for _ in range(40):
        ranks.setdefault((rng.randrange(ids), rng.randrange(ids)), len(ranks))
    results = [rng.randrange(ids) for _ in ranks]
    symbols = [rng.randrange(alphabet) for _ in range(length)]
    expected = bpe_core.encode_symbols(symbols, bpe_core.make_merge_table(ranks, results))
    assert native.encode_symbols(symbols, native.make_merge_table(ranks, results)) == expected


@pytest.mark.parametrize("byte_level", [True, False])
def test_tokenizers_trained_on_both_backends_are_identical(byte_level):
    outputs = []
    for name in ("python", "native"):
        with _backend.using(name):
            tok = Tokenizer.train(SAMPLE_TEXTS, vocab_size=500, min_frequency=1, byte_level=byte_level)
            outputs.append((json.dumps(tok.to_dict()), [tok.encode(t).ids for t in SAMPLE_TEXTS[:6]]))
    assert outputs[0] == outputs[1]


def test_malformed_input_raises_instead_of_crashing():
    table = native.make_merge_table({(0, 1): 0}, [2])
    with pytest.raises(ValueError, match="outside"):
        native.train_merges([[0, 9]], [1], [b"a", b"b"], 0, 10, 1)
    with pytest.raises(ValueError, match="differ"):
        native.train_merges([[0, 1]], [1, 2], [b"a", b"b"], 0, 10, 1)
    with pytest.raises(TypeError):
        native.train_merges([(0, 1)], [1], [b"a", b"b"], 0, 10, 1)
    with pytest.raises(TypeError):
        native.train_merges([[0, 1]], [1], ["a", "b"], 0, 10, 1)
    with pytest.raises(ValueError):
        native.train_merges([[0, 1]], [-1], [b"a", b"b"], 0, 10, 1)
    with pytest.raises(ValueError, match="empty"):
        native.train_merges([[0, 1]], [1], [b"", b"b"], 0, 10, 1)
    with pytest.raises(ValueError, match="outside"):
        native.train_merges([b"\x00\x05"], [1], [b"a", b"b"], 0, 10, 1)

    class Grows:  # an index that lengthens a word after the sizes were read
        def __index__(self):
            later.extend([0] * 100)
            return 0

    later = [0]
    with pytest.raises(ValueError, match="changed"):
        native.train_merges([[Grows(), 1], later], [1, 1], [b"a", b"b"], 0, 10, 1)
    with pytest.raises(ValueError):
        native.make_merge_table({(0, 1): 5}, [2])
    with pytest.raises(ValueError):
        native.make_merge_table({(0,): 0}, [2])
    with pytest.raises(ValueError):
        native.encode_symbols([0, -1], table)
    with pytest.raises(TypeError):
        native.encode_symbols([0, 1], {(0, 1): 0})
    assert native.encode_symbols([0, 1, 0, 1], table) == [2, 2]
    assert native.encode_symbols([], table) == []
    byte_ids = list(range(256))
    for chars, ids in (({"ab": 1}, byte_ids), ({"a": -1}, byte_ids), ({1: 1}, byte_ids), ({"a": 1}, byte_ids[:9])):
        with pytest.raises((ValueError, TypeError)):
            native.make_char_table(chars, ids)
    with pytest.raises(TypeError):
        native.encode_chars("a", table, table)
    with pytest.raises(ValueError):
        native.ByteLevelEncoder([-2] * 256, table)
    with pytest.raises(ValueError):  # add_prefix_space comes with GPT-2's pattern
        native.ByteLevelEncoder(byte_ids, table, [], 300, 1, None, True)
    for bad in ((9, None), (-1, None), (0, {"a": 1}), (0, {b"a": 10**6}), (0, {b"": 1}), (0, {b"a": -1}), (0, [])):
        with pytest.raises(ValueError):
            native.ByteLevelEncoder(byte_ids, table, [], 300, *bad)


# text that stresses GPT-2's pattern: contractions, runs of spaces before letters, digits, marks, new letters
tricky = st.lists(
    st.one_of(
        st.sampled_from(list(" \t\n\r\x0b\x0c\x1c\x85\xa0\u2028\u3000'sStrevlmd0123٣!?.,-_@#😀한国\u0301\u088f\u1c89")),
        st.sampled_from(list("AÉǅʰ\u0301\u0903/'ſLlE")),  # o200k's letter classes: Lu, Lt, Lm, marks, and '/'
        st.sampled_from(["<eos>", "<eo", "s>", "<unk>", "<<eos>>"]),
        st.characters(codec="utf-8"),
    ),
    max_size=80,
).map("".join)


@pytest.mark.parametrize("scanner", range(len(SCANNED_PATTERNS)))
@given(text=tricky)
def test_the_pattern_scanners_match_their_regexes(scanner, text):
    assert native.split_scanned(text, scanner) == bpe_core.split_scanned(text, scanner)


@pytest.mark.parametrize("scanner", range(len(SCANNED_PATTERNS)))
def test_the_pattern_scanners_read_every_code_point_as_the_regexes_do(scanner):
    """Each code point after a quote, a letter, a digit, a space and a newline, and alone: the classes and the
    case folding of (?i:'s|...) (U+017F folds to s) as the regex module has them."""
    chars = [chr(c) for c in range(0x110000)]
    for around in ("'{}e", "a{}", "1{}2", " {}", "\n{}\n", "{}"):
        text = "".join(around.format(c) for c in chars[:: 7 if around != "{}" else 1])
        assert native.split_scanned(text, scanner) == bpe_core.split_scanned(text, scanner), around
    text = "".join(f"'{c}" for c in chars)
    assert native.split_scanned(text, scanner) == bpe_core.split_scanned(text, scanner)


def test_flat_batch_template_checked():
    """A flat batch's template ids (a post-processor's, passed by the Tokenizer) must be a list of ids, in
    the core and in its reference alike."""
    model = _trained_byte_tok().model
    for lib in (native, bpe_core):
        enc = lib.ByteLevelEncoder(model.byte_ids, lib.make_merge_table(model.ranks, model.results), [])
        assert enc.encode_batch_flat(["ab", ""], 2, [7], None)[1] == enc.encode_batch_flat(["ab", ""], 2, None, [7])[1]
        with pytest.raises(ValueError, match="prefix holds -1"):
            enc.encode_batch_flat(["ab"], 1, [-1])
        with pytest.raises(TypeError, match="suffix must be a list"):
            enc.encode_batch_flat(["ab"], 1, [], (2,))


@given(text=tricky)
def test_byte_level_encoder_identical(text):
    tok = _trained_byte_tok()
    model = tok.model
    specials = [("<unk>", 0), ("<eos>", 3), ("<", 2)]  # longest first, as the Tokenizer passes them
    py = bpe_core.ByteLevelEncoder(model.byte_ids, bpe_core.make_merge_table(model.ranks, model.results), specials)
    c = native.ByteLevelEncoder(model.byte_ids, native.make_merge_table(model.ranks, model.results), specials)
    assert c.encode_text(text) == py.encode_text(text)
    assert c.encode_word(text) == py.encode_word(text)
    texts = [text, text[::-1], "", text * 3]
    assert c.encode_batch(texts, 3) == py.encode_batch(texts, 3)
    assert c.encode_batch_flat(texts, 3) == py.encode_batch_flat(texts, 3)
    assert c.encode_batch_flat(texts, 2, [1], [2, 3]) == py.encode_batch_flat(texts, 2, [1], [2, 3])  # a template
    block = "\n".join(texts) + "\n" * (len(text) % 2)  # the lines of one str, split by the core
    assert c.encode_lines_flat(block, 2, [1]) == py.encode_lines_flat(block, 2, [1])
    assert c.encode_batch_ids(texts, 3) == py.encode_batch_ids(texts, 3) == [ids for ids, _ in py.encode_batch(texts)]
    words = [*text.split(" "), text.encode("utf-8", "surrogatepass"), b"\xff\xfe", ""]  # str or raw bytes
    assert c.encode_words(words) == py.encode_words(words)
    whole = {words[0]: 5, b"\xff\xfe": 7}  # words looked up whole (ignore_merges)
    assert c.encode_words(words, whole) == py.encode_words(words, whole)
    whole_bytes = {w.encode("utf-8", "surrogatepass") if isinstance(w, str) else w: 9 for w in words[:3] if w}
    for scanner in range(len(SCANNED_PATTERNS)):  # another pattern, and ignore_merges in the whole-text encoder
        args = (model.byte_ids, specials, len(model.vocab) - 1, scanner, whole_bytes)
        py = bpe_core.ByteLevelEncoder(args[0], bpe_core.make_merge_table(model.ranks, model.results), *args[1:])
        c = native.ByteLevelEncoder(args[0], native.make_merge_table(model.ranks, model.results), *args[1:])
        assert c.encode_text(text) == py.encode_text(text)
        assert c.encode_batch_flat(texts, 2) == py.encode_batch_flat(texts, 2)
    strips = [("<unk>", 0, True, False), ("<eos>", 3, False, True), ("<", 2, True, True)]  # lstrip, rstrip
    for args in ((strips,), (strips, 0, 0, None, True)):  # and HF's add_prefix_space
        py = bpe_core.ByteLevelEncoder(model.byte_ids, bpe_core.make_merge_table(model.ranks, model.results), *args)
        c = native.ByteLevelEncoder(model.byte_ids, native.make_merge_table(model.ranks, model.results), *args)
        assert c.encode_text(text) == py.encode_text(text)
        assert c.encode_batch(texts, 2) == py.encode_batch(texts, 2)
    missing = [-1 if b in (0xF1, 0xED, 0x80, 0x9F) else t for b, t in enumerate(model.byte_ids)]  # dropped bytes
    py = bpe_core.ByteLevelEncoder(missing, bpe_core.make_merge_table(model.ranks, model.results), specials)
    c = native.ByteLevelEncoder(missing, native.make_merge_table(model.ranks, model.results), specials)
    assert c.encode_text(text) == py.encode_text(text)
    assert c.encode_batch(texts, 2) == py.encode_batch(texts, 2)


# ASCII words as the encoder's one-pass lane reads them (letters of both cases after any prefix, longer and
# shorter than eight bytes), with what ends them or hands them to the scanner: digits, quotes and
# contractions, "\r\n", non-ASCII letters and marks right after the letters
ascii_words = st.lists(
    st.one_of(
        st.sampled_from(["the", "The", "THE", "tHe", "Tokenization", "HELLOworld", "don", "'t", "'S", "'ll", "'LL"]),
        st.sampled_from(list(" \t\n\r'\"(.,-/0123456789") + ["  ", " \r\n"]),
        st.sampled_from(list("aZéÉſ\u0301ǅʰ한")),
    ),
    max_size=40,
).map("".join)


@given(text=ascii_words, kind=st.sampled_from(["", "\xe9", "\u0100"]))
def test_byte_level_encoder_ascii_words_identical(text, kind):
    """Every scanned pattern's words of ASCII letters, in a 1-byte (ASCII, Latin-1) and a 2-byte text: the
    native encoder scans and gathers these in one pass and must split and encode them as the reference."""
    model = _trained_byte_tok().model
    text = text + kind
    for scanner in range(len(SCANNED_PATTERNS)):
        args = (model.byte_ids, [], len(model.vocab) - 1, scanner)
        py = bpe_core.ByteLevelEncoder(args[0], bpe_core.make_merge_table(model.ranks, model.results), *args[1:])
        c = native.ByteLevelEncoder(args[0], native.make_merge_table(model.ranks, model.results), *args[1:])
        assert c.encode_text(text) == py.encode_text(text), scanner


_CHARS = {c: 256 + i for i, c in enumerate("abs 한é'")}  # one-character tokens; the rest falls back to bytes
_CHAR_MERGES = {(256, 257): 0, (259, 256): 1, (0xED, 0xA0): 2, (264, 258): 3, (0xF0, 0x9F): 4, (267, 259): 5}


@given(word=tricky)
def test_character_bpe_with_byte_fallback_identical(word):
    """encode_chars: each character's token, else its UTF-8 bytes' (surrogates too), then the merges."""
    results = [264, 265, 266, 267, 268, 269]
    c_args = (native.make_char_table(_CHARS, list(range(256))), native.make_merge_table(_CHAR_MERGES, results))
    py_args = (bpe_core.make_char_table(_CHARS, list(range(256))), bpe_core.make_merge_table(_CHAR_MERGES, results))
    want = bpe_core.encode_symbols(bpe_core.char_symbols(word, py_args[0]), py_args[1])
    assert native.encode_chars(word, *c_args) == bpe_core.encode_chars(word, *py_args) == want


_TOK = []


def _trained_byte_tok():
    if not _TOK:
        _TOK.append(Tokenizer.train(SAMPLE_TEXTS, vocab_size=600, min_frequency=1))
    return _TOK[0]


def test_long_words_merged_in_chunks_identical(shared_data, tmp_path):
    """A byte-level word of 1,024 bytes or more is merged a chunk at a time, cut where no merge joins two
    bytes (byte_joins: no token can come to span such a place): the reference's ids, merging it whole, on
    GPT-2's published table and a small trained one, for words of one script or several."""
    path = tmp_path / "gpt2.json"
    path.write_bytes(gzip.decompress((shared_data.parent / "tokenizers" / "gpt2" / "tokenizer.json.gz").read_bytes()))
    rng = random.Random(5)
    alphabets = [string.ascii_letters, "абвгдежзийклмнопрстуфхцчшщ", "你好世界中文字符", "한국어문장", "αβγδεζηθ", "ab"]
    for model in (Tokenizer.from_huggingface(path).model, _trained_byte_tok().model):
        py = bpe_core.ByteLevelEncoder(model.byte_ids, bpe_core.make_merge_table(model.ranks, model.results))
        c = native.ByteLevelEncoder(model.byte_ids, native.make_merge_table(model.ranks, model.results))
        for _ in range(12):
            letters = "".join(rng.sample(alphabets, rng.randint(1, 3)))
            word = "".join(rng.choice(letters) for _ in range(rng.randint(400, 2500)))
            assert c.encode_word(word) == py.encode_word(word)
            assert c.encode_text(word) == py.encode_text(word)


def test_whole_word_ids_must_be_the_encoders():
    model = _trained_byte_tok().model
    table = native.make_merge_table(model.ranks, model.results)
    with pytest.raises(ValueError, match="outside the encoder's ids"):
        native.ByteLevelEncoder(model.byte_ids, table).encode_words(["x"], {"x": 10**6})
    assert native.ByteLevelEncoder(model.byte_ids, table, [], 10**6).encode_words(["x"], {"x": 10**6}) == ([10**6], [1])
    with pytest.raises(TypeError, match="whole must be a dict"):
        native.ByteLevelEncoder(model.byte_ids, table).encode_words(["x"], ["x"])


def test_encoder_rejects_bad_construction_and_classes():
    table = native.make_merge_table({}, [])
    with pytest.raises(ValueError, match="256"):
        native.ByteLevelEncoder([0] * 10, table)
    with pytest.raises(TypeError):
        native.ByteLevelEncoder([0] * 256, {})
    enc = native.ByteLevelEncoder(list(range(256)), table)
    with pytest.raises(ValueError, match="classes"):
        native.set_char_classes(b"short")
    with pytest.raises(ValueError, match="other character classes"):
        native.set_char_classes(bytes(0x110000))
    native.set_char_classes(char_classes())  # the same table again: accepted
    with pytest.raises(ValueError, match="specials"):
        native.ByteLevelEncoder(list(range(256)), table, [("", 1)])
    with pytest.raises(ValueError, match="specials"):
        native.ByteLevelEncoder(list(range(256)), table, [("<s>", -1)])
    with pytest.raises(TypeError, match="str"):
        enc.encode_batch(["ok", 3], 2)


def test_threads_share_the_encoder_safely():
    tok = _trained_byte_tok()
    texts = [t * (i % 5 + 1) for i, t in enumerate(SAMPLE_TEXTS * 5)]
    expected = [tok.encode(t).ids for t in texts]
    for _ in range(3):
        assert [e.ids for e in tok.encode_batch(texts, num_threads=4)] == expected


@pytest.mark.parametrize("repeats", [1, 2])
def test_word_cache_emptied_when_full_and_threads_words_adopted(repeats):
    """More distinct words than the cache keeps: same ids as the reference in one text, and in batches whose
    threads' words are adopted into the shared cache and read back. Words seen once keep the cache small
    (it empties at 2,048); each seen twice, it finds as many as it holds and grows until it empties at 65,536."""
    model = _trained_byte_tok().model

    def word(i):
        return " ".join(["".join("abcdefghijklmnopqrstuvwxyzéü"[(i // 28**k) % 28] for k in range(4))] * repeats)

    texts = [" ".join(word(i) for i in range(k, 90_000, 7)) for k in range(7)]
    py = bpe_core.ByteLevelEncoder(model.byte_ids, bpe_core.make_merge_table(model.ranks, model.results))
    c = native.ByteLevelEncoder(model.byte_ids, native.make_merge_table(model.ranks, model.results))
    expected = [py.encode_text(t) for t in texts]
    assert [c.encode_text(t) for t in texts] == expected
    for _ in range(2):
        assert c.encode_batch(texts, 2) == expected


@given(
    texts=st.lists(st.one_of(tricky, st.lists(tricky, max_size=6).map("\n".join)), max_size=5),
    lines=st.booleans(),
    num_threads=st.integers(1, 3),
    had=st.dictionaries(st.sampled_from(["a", " b", "\n", "x"]), st.integers(1, 5), max_size=3),
)
def test_count_gpt2_identical(texts, lines, num_threads, had):
    """Same counts, added to the same dict in the same order (new words as first seen), on any threads."""
    for specials in (["<unk>", "<eos>", "<"], []):
        expected = bpe_core.count_gpt2(texts, specials, dict(had), lines)
        got = native.count_gpt2(texts, specials, dict(had), lines, num_threads)
        assert list(got.items()) == list(expected.items())
    assert native.count_gpt2(texts, []) == bpe_core.count_gpt2(texts, [])


def test_count_gpt2_cuts_long_texts_among_threads():
    """A text of many lines is shared among threads in pieces cut at line ends: the counts of one thread."""
    text = "".join(f"line {i} 's  \n" + "word " * (i % 7) + "\n\n" for i in range(40_000))
    one = native.count_gpt2([text, "tail"], ["<eos>"], None, True, 1)
    assert list(native.count_gpt2([text, "tail"], ["<eos>"], None, True, 4).items()) == list(one.items())
    assert one == bpe_core.count_gpt2([text, "tail"], ["<eos>"], None, True)
    with pytest.raises(TypeError, match="dict"):
        native.count_gpt2(["a"], [], [("a", 1)])
    assert native.count_gpt2(["a b"], [], None, False, 2**31 - 1) == {"a": 1, " b": 1}  # threads: one per piece


bert_text = st.lists(
    st.one_of(
        st.sampled_from(
            list(" \t\n\x00\u200b\u2028\xa0.,!?-'\"()[]東京한국ÉéAaZz0🙂\u0301") + ["[CLS]", "[SEP]", "##"]
        ),
        st.characters(codec="utf-8"),
    ),
    max_size=60,
).map("".join)


@given(text=bert_text, lowercase=st.booleans())
def test_bert_encoder_identical(text, lowercase):
    model = _trained_wordpiece().model
    vocab = list(model.vocab)
    table = BertNormalizer(lowercase=lowercase).table()
    specials = [("[CLS]", 2), ("[SEP]", 3)]
    py = wordpiece_core.BertEncoder(wordpiece_core.make_trie(vocab, "##"), model.unk_id, 12, table, specials)
    c = native.BertEncoder(native.make_trie(vocab, "##"), model.unk_id, 12, table, specials)
    assert c.encode_text(text) == py.encode_text(text)
    assert c.encode_batch([text, "", text[::-1]], 2) == py.encode_batch([text, "", text[::-1]], 2)
    assert c.encode_batch_flat([text, "", text[::-1]], 2) == py.encode_batch_flat([text, "", text[::-1]], 2)
    block = f"{text}\n\n{text[::-1]}"
    assert c.encode_lines_flat(block, 2) == py.encode_lines_flat(block, 2)
    bare_py = wordpiece_core.BertEncoder(wordpiece_core.make_trie(vocab, "##"), model.unk_id, 100, None, [])
    bare_c = native.BertEncoder(native.make_trie(vocab, "##"), model.unk_id, 100, None, [])
    assert bare_c.encode_text(text) == bare_py.encode_text(text)


_WP = []


def _trained_wordpiece():
    if not _WP:
        _WP.append(Tokenizer.train(SAMPLE_TEXTS, model="wordpiece", vocab_size=300, min_frequency=1))
    return _WP[0]


def test_bert_encoder_checks_its_table():
    import array

    trie = native.make_trie(["[UNK]", "a"], "##")
    bad = array.array("i", [-1]) * 0x110000
    bad[65] = (5 << 4) | 2  # points past the end of repl
    with pytest.raises(ValueError, match="outside repl"):
        native.BertEncoder(trie, 0, 100, (bad.tobytes(), b""), [])
    with pytest.raises(ValueError, match="0x110000"):
        native.BertEncoder(trie, 0, 100, (b"short", b""), [])
    with pytest.raises(ValueError, match="code point"):
        native.BertEncoder(trie, 0, 100, (bad.tobytes(), array.array("i", [0x110000]).tobytes()), [])
    with pytest.raises(TypeError):
        native.BertEncoder(trie, 0, 100, [bad.tobytes(), b""], [])


def test_sgns_train_checks_its_arrays():
    import numpy as np

    syn = np.zeros((3, 2), np.float32)
    ids, noise = np.array([0, 1]), np.array([0.2, 0.4, 0.4])
    with pytest.raises(ValueError, match="float32"):
        native.sgns_train(np.zeros((3, 2)), syn.copy(), ids, ids, noise, 2, 1, 0, 0.1, 0.1, 1)
    with pytest.raises(ValueError, match="outside the vocabulary"):
        native.sgns_train(syn, syn.copy(), np.array([0, 5]), ids, noise, 2, 1, 0, 0.1, 0.1, 1)
    with pytest.raises(ValueError, match="inconsistent"):
        native.sgns_train(syn, np.zeros((4, 2), np.float32), ids, ids, noise, 2, 1, 0, 0.1, 0.1, 1)
    for bad in ([0.0, 0.0, 0.0], [0.5, -0.1, 0.6], [0.5, np.nan, 0.5]):
        with pytest.raises(ValueError, match="noise weights"):
            native.sgns_train(syn, syn.copy(), ids, ids, np.array(bad), 2, 1, 0, 0.1, 0.1, 1)
