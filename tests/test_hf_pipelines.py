"""Every HF pipeline component against HF tokenizers itself (the test extra's oracle): normalizers (text and
each character's span), pre-tokenizers (pieces and spans), and whole tokenizer.json files built with HF's
own trainers in the layouts published models use, whose ids, tokens, offsets, type ids, masks and decodes
must equal HF's on random text of many scripts, on both backends."""

from __future__ import annotations

import base64
import json
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from subtok import Tokenizer, interop
from subtok.added_tokens import AddedToken as OurAddedToken
from subtok.normalizers import normalizers_from_hf
from subtok.pre_tokenizers import PRE_TOKENIZERS
from subtok.text import CLIP_PATTERN, PATTERNS, Normalized, bytes_to_token, token_to_bytes

from .conftest import SAMPLE_TEXTS
from .spm_model import precompiled_charsmap

hf = pytest.importorskip("tokenizers")
from tokenizers import AddedToken, Regex, decoders, models, normalizers, pre_tokenizers, processors, trainers  # noqa: E402

fixture_ok = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Pieces of text the strategies join: many scripts, combining marks (NFD, stacked, Hangul jamo), characters
# newer than HF's Unicode data, private use, emoji sequences, numerals, whitespace of every kind, controls,
# contractions, code, special-token text and the metaspace character.
PIECES = [
    *"aZqé",
    "e\u0301",
    "ß",
    "İ",
    "Σ",
    "ς",
    "ﬁ",
    "①",
    "Ｋ",
    "ｶﾞ",
    "가",
    "\u1100\u1161\u11a8",
    "東京",
    "こ",
    "カ",
    "ー",
    "α",
    "Ж",
    "ש",
    "عربي",
    "कि",
    "क्ष",
    "ไทย",
    "ຳ\u0eba\u0eca",
    "\u0954",
    "ኣ",
    "𞤀𞤢",
    "𐐀",
    "\ue000",
    "\u0378",
    "\U0001fabf",
    "🙂",
    "👍🏽",
    "👩\u200d👩\u200d👧",
    "🇰🇷",
    "1",
    "23",
    "456",
    "٣",
    "½",
    ".",
    ",",
    "'",
    "'s",
    "'LL",
    "don't",
    "!!",
    "-",
    "(",
    "»",
    "、",
    "。",
    "$",
    "_",
    " ",
    " ",
    " ",
    "  ",
    "\t",
    "\n",
    "\r\n",
    "\n\n",
    "\u3000",
    "\xa0",
    "\u2028",
    "\x0b",
    "\u200b",
    "\ufeff",
    "\x00",
    "\x01",
    "\ufffd",
    "\x85",
    "<s>",
    "</s>",
    "[CLS]",
    "<|endoftext|>",
    "<unk>",
    "[MASK]",
    "hello world",
    "def f(x):",
    "x+=1;",
    "\u2581",
    "▁▁",
    "Hello",
    "WORLD",
    "the",
    " the",
    "tokenizers",
    "<lstrip>",
    "<rstrip>",
    "[tag]",
]
texts = st.lists(st.sampled_from(PIECES), max_size=24).map("".join)

HF_NORMALIZERS = [
    {"type": "NFC"},
    {"type": "NFKC"},
    {"type": "NFD"},
    {"type": "NFKD"},
    {"type": "Lowercase"},
    {"type": "StripAccents"},
    {"type": "Strip", "strip_left": True, "strip_right": True},
    {"type": "Strip", "strip_left": False, "strip_right": True},
    {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"},
    {"type": "Replace", "pattern": {"String": "ab"}, "content": "X"},
    {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "},
    {"type": "Replace", "pattern": {"Regex": "[a\\s]+"}, "content": "a"},
    {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "},
    {"type": "Replace", "pattern": {"String": "a"}, "content": ""},
    {"type": "Prepend", "prepend": "\u2581"},
    {"type": "Nmt"},
    {"type": "ByteLevel"},
    {
        "type": "BertNormalizer",
        "clean_text": True,
        "handle_chinese_chars": True,
        "strip_accents": None,
        "lowercase": True,
    },
    {
        "type": "BertNormalizer",
        "clean_text": True,
        "handle_chinese_chars": False,
        "strip_accents": True,
        "lowercase": False,
    },
    {"type": "Sequence", "normalizers": [{"type": "NFD"}, {"type": "StripAccents"}, {"type": "Lowercase"}]},
    {"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Prepend", "prepend": "\u2581"}]},
]
HF_PRE_TOKENIZERS = [
    {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
    {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
    {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": False},
    {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
    {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": True},
    {"type": "Metaspace", "replacement": "_", "prepend_scheme": "never", "split": False},
    {"type": "Whitespace"},
    {"type": "WhitespaceSplit"},
    {"type": "BertPreTokenizer"},
    {"type": "Digits", "individual_digits": True},
    {"type": "Digits", "individual_digits": False},
    *(
        {"type": "Punctuation", "behavior": b}
        for b in ("Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous", "Removed")
    ),
    {"type": "CharDelimiterSplit", "delimiter": "-"},
    {"type": "UnicodeScripts"},
    {"type": "Split", "pattern": {"Regex": PATTERNS["qwen2"]}, "behavior": "Isolated", "invert": False},
    {"type": "Split", "pattern": {"Regex": "\\d+"}, "behavior": "Removed", "invert": True},
    {"type": "Split", "pattern": {"String": "ab"}, "behavior": "MergedWithNext", "invert": False},
    {"type": "Split", "pattern": {"String": " "}, "behavior": "MergedWithPrevious", "invert": False},
    {"type": "Split", "pattern": {"Regex": "\\s"}, "behavior": "Contiguous", "invert": True},
    {
        "type": "Sequence",
        "pretokenizers": [
            {"type": "Digits", "individual_digits": True},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        ],
    },
    {
        "type": "Sequence",
        "pretokenizers": [
            {"type": "Punctuation", "behavior": "Contiguous"},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
            {"type": "Digits", "individual_digits": False},
            {"type": "Split", "pattern": {"Regex": "[0-9][0-9][0-9]"}, "behavior": "Isolated", "invert": False},
        ],
    },
    # Sequences the native program runs (every match behaviour, scanned patterns, steps after the spelling)
    {"type": "Split", "pattern": {"Regex": CLIP_PATTERN}, "behavior": "Removed", "invert": True},
    {
        "type": "Sequence",
        "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": CLIP_PATTERN}, "behavior": "Removed", "invert": True},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
        ],
    },
    {
        "type": "Sequence",
        "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": CLIP_PATTERN}, "behavior": "Isolated", "invert": False},
            {"type": "Digits", "individual_digits": False},
        ],
    },
    {
        "type": "Sequence",
        "pretokenizers": [
            {"type": "WhitespaceSplit"},
            {"type": "Punctuation", "behavior": "MergedWithNext"},
            {"type": "Digits", "individual_digits": True},
        ],
    },
    {
        "type": "Sequence",
        "pretokenizers": [
            {"type": "BertPreTokenizer"},
            {"type": "Split", "pattern": {"Regex": "\\p{N}{1,3}"}, "behavior": "MergedWithPrevious", "invert": False},
        ],
    },
    {
        "type": "Sequence",
        "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": PATTERNS["llama3"]}, "behavior": "Isolated", "invert": False},
            {"type": "Punctuation", "behavior": "Contiguous"},
            {"type": "Split", "pattern": {"Regex": "\\p{N}"}, "behavior": "Removed", "invert": False},
        ],
    },
    {
        "type": "Sequence",
        "pretokenizers": [
            {"type": "Punctuation", "behavior": "MergedWithPrevious"},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
            {"type": "Digits", "individual_digits": False},
            {"type": "Punctuation", "behavior": "Removed"},
            {"type": "Split", "pattern": {"Regex": "[0-9][0-9][0-9]"}, "behavior": "MergedWithNext", "invert": False},
        ],
    },
]


def _wrap(normalizer=None, pre_tokenizer=None) -> hf.Tokenizer:
    """An HF tokenizer that only normalizes / pre-tokenizes (one [UNK] per piece: offsets are the spans)."""
    doc = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [],
        "normalizer": normalizer,
        "pre_tokenizer": pre_tokenizer
        or {"type": "Split", "pattern": {"Regex": "[\\s\\S]"}, "behavior": "Isolated", "invert": False},
        "post_processor": None,
        "decoder": None,
        "model": {"type": "WordLevel", "vocab": {"[UNK]": 0}, "unk_token": "[UNK]"},
    }
    return hf.Tokenizer.from_str(json.dumps(doc))


@pytest.fixture(scope="module")
def precompiled(shared_data):
    """SentencePiece's precompiled charsmap, read from its Unigram test model (the shared data)."""
    model = shared_data.parent / "tokenizers" / "sentencepiece" / "test_model.model"
    if not model.exists():
        pytest.skip("shared tokenizers not found")
    charsmap = precompiled_charsmap(model.read_bytes())
    return {"type": "Precompiled", "precompiled_charsmap": base64.b64encode(charsmap).decode()}


def _check_normalizer(d: dict, text: str) -> None:
    theirs = _wrap(normalizer=d)
    ours = normalizers_from_hf(d)
    norm = Normalized(text)
    fast = text
    for n in ours:
        norm, fast = n.normalize(norm), n.normalize_str(fast)
    expected = theirs.normalizer.normalize_str(text)
    assert norm.text == fast == expected
    assert norm.spans() == theirs.encode(text).offsets


@pytest.mark.parametrize("d", HF_NORMALIZERS, ids=lambda d: d["type"])
@given(text=texts)
def test_normalizers_give_hf_text_and_spans(d, text):
    _check_normalizer(d, text)


@fixture_ok
@given(text=texts)
def test_precompiled_charsmap_gives_hf_text_and_spans(precompiled, text):
    _check_normalizer(precompiled, text)


@pytest.mark.parametrize("d", HF_PRE_TOKENIZERS, ids=lambda d: d["type"])
@given(text=texts)
def test_pre_tokenizers_give_hf_pieces_and_spans(d, text):
    theirs = _wrap(pre_tokenizer=d).pre_tokenizer.pre_tokenize_str(text)
    ours = PRE_TOKENIZERS.from_hf(d)
    pieces = ours.pre_tokenize([Normalized(text)])
    mapped = ours.byte_level and not ours.spelled  # our byte-level BPE spells the words in bytes itself
    spell = (lambda s: bytes_to_token(s.encode("utf-8", "surrogatepass"))) if mapped else (lambda s: s)
    assert [(spell(p.text), p.original_span(0, len(p.text))) for p in pieces] == theirs


SEQUENCES = [d for d in HF_PRE_TOKENIZERS if d["type"] == "Sequence"]


@pytest.mark.parametrize("d", SEQUENCES, ids=[f"sequence{k}" for k in range(len(SEQUENCES))])
@fixture_ok
@given(text=texts)
def test_sequences_give_hf_words_on_both_backends(backend, d, text):
    """A Sequence's words as spans of one text (the encoder's path; natively one program call, which must
    give the step-by-step refinement's words) are HF's pieces and spans."""
    theirs = _wrap(pre_tokenizer=d).pre_tokenizer.pre_tokenize_str(text)
    ours = PRE_TOKENIZERS.from_hf(d)
    assert ours.program is not None
    piece, spans = ours.word_spans(Normalized(text))
    words = [piece.text[s:e] for s, e in spans]
    if ours.spelled:  # in byte-level spelling, and as the bytes the model takes
        assert [piece.data[s:e] for s, e in spans] == [token_to_bytes(w) for w in words]
    elif ours.byte_level:  # our byte-level BPE spells the words itself
        words = [bytes_to_token(w.encode("utf-8", "surrogatepass")) for w in words]
    assert [(w, piece.original_span(s, e)) for w, (s, e) in zip(words, spans)] == theirs


# ---------------------------------------------------------------------------------------------------------
# Whole tokenizers, in the layouts of published models, trained by HF on the sample texts
# ---------------------------------------------------------------------------------------------------------
def _train_bpe(tok: hf.Tokenizer, vocab_size: int = 400, **options) -> hf.Tokenizer:
    alphabet = pre_tokenizers.ByteLevel.alphabet() if options.pop("byte_alphabet", False) else []
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, show_progress=False, initial_alphabet=alphabet, **options)
    tok.train_from_iterator(SAMPLE_TEXTS[:6] * 3, trainer)
    return tok


def _byte_level(split=None, ignore_merges=False, suffix=None, prefix_space=False) -> hf.Tokenizer:
    options = {"end_of_word_suffix": suffix} if suffix else {}
    tok = hf.Tokenizer(models.BPE(ignore_merges=ignore_merges, **options))
    byte = pre_tokenizers.ByteLevel(add_prefix_space=prefix_space, use_regex=split is None)
    tok.pre_tokenizer = byte if split is None else pre_tokenizers.Sequence([*split, byte])
    tok.decoder = decoders.ByteLevel()
    return _train_bpe(tok, byte_alphabet=True, **options)


def _gpt2() -> hf.Tokenizer:
    tok = _byte_level()
    tok.post_processor = processors.ByteLevel(trim_offsets=True)
    tok.add_special_tokens(["<|endoftext|>"])
    return tok


def _neox() -> hf.Tokenizer:
    """GPT-NeoX / Pythia: NFC before GPT-2's byte-level pipeline (texts already in NFC take the whole-text
    encoder, the others the whole pipeline)."""
    tok = _gpt2()
    tok.normalizer = normalizers.NFC()
    return tok


def _roberta() -> hf.Tokenizer:
    tok = _byte_level(prefix_space=True)
    tok.add_special_tokens(["<s>", "</s>", "<pad>", AddedToken("<mask>", lstrip=True)])
    tok.post_processor = processors.RobertaProcessing(
        ("</s>", tok.token_to_id("</s>")), ("<s>", tok.token_to_id("<s>"))
    )
    return tok


def _llama3() -> hf.Tokenizer:
    tok = _byte_level([pre_tokenizers.Split(Regex(PATTERNS["llama3"]), "isolated")], ignore_merges=True)
    tok.add_special_tokens(["<|begin_of_text|>", "<|end_of_text|>"])
    bot = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.Sequence(
        [
            processors.ByteLevel(trim_offsets=False),
            processors.TemplateProcessing(
                single="<|begin_of_text|> $A",
                pair="<|begin_of_text|> $A <|begin_of_text|>:1 $B:1",
                special_tokens=[("<|begin_of_text|>", bot)],
            ),
        ]
    )
    return tok


def _starcoder() -> hf.Tokenizer:
    """StarCoder's pre-tokenizer: each digit alone, then GPT-2's pattern on the rest (read natively as one
    regex, text.DIGITS_THEN_GPT2_PATTERN)."""
    tok = hf.Tokenizer(models.BPE())
    steps = [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    tok.pre_tokenizer = pre_tokenizers.Sequence(steps)
    tok.decoder = decoders.ByteLevel()
    tok = _train_bpe(tok, byte_alphabet=True)
    tok.add_special_tokens(["<|endoftext|>", "<fim_prefix>"])
    return tok


def _deepseek() -> hf.Tokenizer:
    return _byte_level(
        [
            pre_tokenizers.Split(Regex("\\p{N}{1,3}"), "isolated"),
            pre_tokenizers.Split(Regex("[一-龥\u3040-ゟ゠-ヿ]+"), "isolated"),
            pre_tokenizers.Split(Regex(PATTERNS["cl100k"].replace("?+", "?").replace("++", "+")), "isolated"),
        ]
    )


def _falcon() -> hf.Tokenizer:
    tok = hf.Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Punctuation("contiguous"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
            pre_tokenizers.Digits(individual_digits=False),
            pre_tokenizers.Split(Regex("[0-9][0-9][0-9]"), "isolated"),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    return _train_bpe(tok, byte_alphabet=True)


def _clip(unk: bool = False) -> hf.Tokenizer:
    """CLIP's layout: its pattern's matches, byte-level with an end-of-word suffix; a byte the vocabulary
    lacks with the suffix is dropped, or with ``unk`` the unknown token."""
    options = {"end_of_word_suffix": "</w>"}
    tok = hf.Tokenizer(models.BPE(unk_token="<|endoftext|>" if unk else None, **options))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(CLIP_PATTERN), "removed", invert=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex("\\s+"), " "), normalizers.Lowercase()]
    )
    tok.decoder = decoders.ByteLevel()
    return _train_bpe(tok, byte_alphabet=True, special_tokens=["<|endoftext|>"] if unk else [], **options)


def _spm_bpe(metaspace: bool) -> hf.Tokenizer:
    """Llama-2 / Mistral (Prepend + Replace normalizers) or Phi-3-like (Metaspace) SentencePiece BPE with
    byte fallback and fused unknowns."""
    base = hf.Tokenizer(models.BPE(unk_token="<unk>"))
    base.pre_tokenizer = pre_tokenizers.Metaspace()
    _train_bpe(base, vocab_size=300, special_tokens=["<unk>", "<s>", "</s>"])
    vocab = base.get_vocab()
    for b in range(256):
        vocab.setdefault(f"<0x{b:02X}>", len(vocab))
    merges = json.loads(base.to_str())["model"]["merges"]
    tok = hf.Tokenizer(
        models.BPE(vocab, [tuple(m) for m in merges], unk_token="<unk>", byte_fallback=True, fuse_unk=True)
    )
    if metaspace:
        tok.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme="first", split=False)
        tok.decoder = decoders.Sequence(
            [decoders.Metaspace(prepend_scheme="first", split=False), decoders.ByteFallback(), decoders.Fuse()]
        )
    else:
        tok.normalizer = normalizers.Sequence([normalizers.Prepend("\u2581"), normalizers.Replace(" ", "\u2581")])
        tok.decoder = decoders.Sequence(
            [decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)]
        )
    tok.add_special_tokens(["<unk>", "<s>", "</s>"])
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A",
        pair="<s> $A </s> <s>:1 $B:1",
        special_tokens=[("<s>", tok.token_to_id("<s>")), ("</s>", tok.token_to_id("</s>"))],
    )
    return tok


def _bert(**normalizer) -> hf.Tokenizer:
    tok = hf.Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(**normalizer)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(
        SAMPLE_TEXTS[:6] * 3, trainers.WordPieceTrainer(vocab_size=300, special_tokens=specials, show_progress=False)
    )
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    tok.decoder = decoders.WordPiece()
    return tok


def _bert_truncated() -> hf.Tokenizer:
    tok = _bert(lowercase=False, strip_accents=False)
    tok.post_processor = processors.BertProcessing(
        ("[SEP]", tok.token_to_id("[SEP]")), ("[CLS]", tok.token_to_id("[CLS]"))
    )
    tok.enable_truncation(12, strategy="longest_first")
    tok.enable_padding(length=14, pad_id=tok.token_to_id("[PAD]"), pad_token="[PAD]", direction="left")
    return tok


def _added_flags() -> hf.Tokenizer:
    """Non-special added tokens matched after a Lowercase normalizer, and HF's four flags."""
    tok = _byte_level()
    tok.normalizer = normalizers.Lowercase()
    tok.add_tokens(
        [
            AddedToken("hello world", normalized=True),
            AddedToken("[tag]", single_word=True),
            AddedToken("<lstrip>", lstrip=True),
            AddedToken("<rstrip>", rstrip=True, normalized=False),
            AddedToken("the", single_word=True, normalized=True),
        ]
    )
    tok.add_special_tokens(["<|endoftext|>", AddedToken("[MASK]", lstrip=True, rstrip=True)])
    return tok


def _words() -> hf.Tokenizer:
    tok = hf.Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.UnicodeScripts(), pre_tokenizers.Whitespace()])
    tok.train_from_iterator(SAMPLE_TEXTS[:6], trainers.WordLevelTrainer(special_tokens=["<unk>"], show_progress=False))
    return tok


def _ctc() -> hf.Tokenizer:
    """A wav2vec2-style character vocabulary with the CTC decoder."""
    chars = sorted(set("".join(SAMPLE_TEXTS[:6]).lower()) - {" "})
    vocab = {"<pad>": 0, "<unk>": 1, "|": 2, **{c: i + 3 for i, c in enumerate(chars)}}
    tok = hf.Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.normalizer = normalizers.Sequence([normalizers.Lowercase(), normalizers.Replace(" ", "|")])
    tok.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    tok.decoder = decoders.CTC(pad_token="<pad>", word_delimiter_token="|")
    return tok


def _char_prefix() -> hf.Tokenizer:
    tok = hf.Tokenizer(models.BPE(unk_token="<unk>", continuing_subword_prefix="##"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.decoder = decoders.WordPiece()
    return _train_bpe(tok, special_tokens=["<unk>"], continuing_subword_prefix="##")


PIPELINES = {
    "gpt2": _gpt2,
    "neox": _neox,
    "roberta": _roberta,
    "llama3": _llama3,
    "starcoder": _starcoder,
    "deepseek": _deepseek,
    "falcon": _falcon,
    "clip": _clip,
    "clip_unk": lambda: _clip(unk=True),
    "llama2-spm": lambda: _spm_bpe(metaspace=False),
    "phi3-metaspace": lambda: _spm_bpe(metaspace=True),
    "bert": lambda: _bert(),
    "bert-truncated": _bert_truncated,
    "added-flags": _added_flags,
    "words-scripts": _words,
    "ctc": _ctc,
    "char-bpe-prefix": _char_prefix,
}
BUILT: dict = {}


@pytest.fixture(params=sorted(PIPELINES))
def pipeline(request, tmp_path_factory):
    """(HF's tokenizer, ours read from its tokenizer.json)."""
    if request.param not in BUILT:
        theirs = PIPELINES[request.param]()
        path = tmp_path_factory.mktemp("hf") / "tokenizer.json"
        theirs.save(str(path))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            BUILT[request.param] = (hf.Tokenizer.from_file(str(path)), Tokenizer.from_huggingface(path), path)
    return BUILT[request.param]


def _same(theirs, ours) -> None:
    assert ours.ids == theirs.ids
    assert ours.tokens == theirs.tokens
    assert ours.offsets == theirs.offsets
    assert ours.type_ids == theirs.type_ids
    assert ours.special_tokens_mask == theirs.special_tokens_mask
    assert ours.attention_mask == theirs.attention_mask


@fixture_ok
@given(text=texts, pair=st.one_of(st.none(), texts))
def test_published_layouts_encode_and_decode_as_hf(backend, pipeline, text, pair):
    theirs, ours, _ = pipeline
    expected, got = theirs.encode(text, pair), ours.encode(text, pair)
    _same(expected, got)
    for skip in (True, False):
        assert ours.decode(got.ids, skip_special_tokens=skip) == theirs.decode(expected.ids, skip_special_tokens=skip)
    bare = theirs.encode(text, add_special_tokens=False)
    assert ours.encode(text, add_special_tokens=False).ids == bare.ids


@fixture_ok
@given(batch=st.lists(texts, max_size=6))
def test_published_layouts_encode_batches_as_hf(backend, pipeline, batch):
    theirs, ours, _ = pipeline
    for expected, got in zip(theirs.encode_batch(batch), ours.encode_batch(batch), strict=True):
        _same(expected, got)


def test_published_layouts_survive_our_save_and_theirs(backend, pipeline, tmp_path):
    theirs, ours, _ = pipeline
    ours.save(tmp_path / "ours.json")
    ours.save_huggingface(tmp_path / "hf.json")
    again, written = Tokenizer.load(tmp_path / "ours.json"), hf.Tokenizer.from_file(str(tmp_path / "hf.json"))
    for text in [*SAMPLE_TEXTS[:6], "<s> x </s> [MASK] hello world <|endoftext|>", ""]:
        _same(theirs.encode(text), again.encode(text))
        _same(theirs.encode(text), written.encode(text))
        assert again.decode(again.encode(text).ids) == theirs.decode(theirs.encode(text).ids)


def test_hf_helpers_agree(pipeline):
    theirs, ours, _ = pipeline
    assert ours.get_vocab() == theirs.get_vocab()
    assert ours.vocab_size == theirs.get_vocab_size()
    for token, i in list(theirs.get_vocab().items())[:50]:
        assert ours.token_to_id(token) == i and ours.id_to_token(i) == token
    batch = [e.ids for e in theirs.encode_batch(SAMPLE_TEXTS[:6])]
    assert ours.decode_batch(batch) == theirs.decode_batch(batch)


def test_add_tokens_gives_hf_ids(backend):
    theirs = _gpt2()
    ours = Tokenizer(**interop.components_from_huggingface(json.loads(theirs.to_str())))
    ours_new = ["<new>", OurAddedToken("brand new", normalized=True), "<|endoftext|>"]
    assert ours.add_tokens(ours_new) == theirs.add_tokens(
        ["<new>", AddedToken("brand new", normalized=True), "<|endoftext|>"]
    )
    assert ours.add_special_tokens(["<special>", "[tag]"]) == theirs.add_special_tokens(["<special>", "[tag]"])
    for text in ["a <new> brand new <special>[tag] <|endoftext|>", "brand newer", "<new><new>"]:
        _same(theirs.encode(text), ours.encode(text))
        assert ours.decode(ours.encode(text).ids, skip_special_tokens=True) == theirs.decode(theirs.encode(text).ids)
