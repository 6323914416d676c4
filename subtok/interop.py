"""Interchange with HF tokenizers (tokenizer.json), GPT-2 files (vocab.json + merges.txt), BERT's vocab.txt
and tiktoken.

Readers turn a file into the components of a tokenizer (a dict of the keyword arguments of ``Tokenizer``:
model, normalizers, pre_tokenizer, special_tokens, post_processor), which ``Tokenizer.from_huggingface``
and its siblings assemble; writers take a tokenizer. Each component translates itself through its
registry (``to_hf`` / ``from_hf``), so this module only arranges them.

A subtok byte-level BPE exported to tokenizer.json, or turned into a ``tiktoken.Encoding``, gives the same
ids for the same text: all three use GPT-2's pre-tokenizer pattern and apply merges by rank.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Optional

from ._io import PathLike, atomic_write_json, atomic_write_text, read_json
from .added_tokens import AddedToken
from .decoders import DECODERS, Spaces
from .errors import SubtokError, TokenizerFileError
from .models import BPE, WordLevel, WordPiece
from .normalizers import BertNormalizer, normalizers_from_hf, normalizers_to_hf
from .pre_tokenizers import GPT2, PRE_TOKENIZERS, BertWords, Whole
from .processors import PROCESSORS, BertPostProcessor
from .text import GPT2_PATTERN, token_to_bytes

if TYPE_CHECKING:
    import tiktoken

    from .tokenizer import Tokenizer

Components = dict[str, Any]


# ---------------------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------------------
def _hf_pre_tokenizer(tok: Tokenizer) -> Optional[dict]:
    """The pre-tokenizer, with HF's ByteLevel step when the model is byte-level and the pre-tokenizer does
    not already end with one (GPT-2's pattern is ByteLevel's own regex)."""
    pre = tok.pre_tokenizer
    if pre.byte_level or not getattr(tok.model, "byte_level", False):
        return pre.to_hf()
    gpt2 = getattr(pre, "pattern", None) == GPT2_PATTERN
    byte = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": gpt2}
    if gpt2:
        return byte
    split = pre.to_hf()
    return byte if split is None else {"type": "Sequence", "pretokenizers": [split, byte]}


def _check_byte_fallback(byte_fallback: bool, prefix: Optional[str], suffix: Optional[str]) -> None:
    """HF's BPE falls back on the bytes of the whole symbol, affixes included ("##0" -> <0x23> <0x23>
    <0x30>), subtok's on the character's; the two agree only without affixes, so anything else is refused."""
    affixes = [name for name, value in (("continuing_subword_prefix", prefix), ("end_of_word_suffix", suffix)) if value]
    if byte_fallback and affixes:
        raise SubtokError(
            f"BPE byte_fallback with {' and '.join(affixes)} is not supported: HF tokenizers falls back on the "
            "bytes of the affixed symbol, subtok on the character's, so the ids would differ"
        )


def _hf_model(model, model_size: Optional[int]) -> dict:
    """The model with its own vocabulary: ids from ``model_size`` on are added tokens HF keeps apart."""
    vocab = {t: i for t, i in model.vocab.word_to_id.items() if model_size is None or i < model_size}
    if model.type == "bpe":
        _check_byte_fallback(model.byte_fallback, model.prefix, model.suffix)
        return {
            "type": "BPE",
            "dropout": model.dropout,
            "unk_token": model.unk_token,
            "continuing_subword_prefix": model.prefix or None,
            "end_of_word_suffix": model.suffix or None,
            "fuse_unk": model.fuse_unk,
            "byte_fallback": model.byte_fallback,
            "ignore_merges": model.ignore_merges,
            "vocab": vocab,
            "merges": [list(m) for m in model.merges],
        }
    if model.type == "wordpiece":
        return {
            "type": "WordPiece",
            "unk_token": model.unk_token,
            "continuing_subword_prefix": model.prefix,
            "max_input_chars_per_word": model.max_input_chars_per_word,
            "vocab": vocab,
        }
    if model.type == "word":
        return {"type": "WordLevel", "vocab": vocab, "unk_token": model.unk_token}
    raise SubtokError(f"no HF export for model {model.type!r}")


def to_huggingface(tok: Tokenizer) -> dict:
    """The tokenizer as an HF tokenizer.json document."""
    token_to_id = tok.vocab.word_to_id
    post = tok.post_processor
    decoder = tok.decoder.to_hf()
    added = [token.to_hf(i) for token, i in tok.added.tokens]
    added.sort(key=lambda d: d["id"])
    return {
        "version": "1.0",
        "truncation": tok.truncation,
        "padding": tok.padding,
        "added_tokens": added,
        "normalizer": normalizers_to_hf(tok.normalizers),
        "pre_tokenizer": _hf_pre_tokenizer(tok),
        "post_processor": None if post is None else post.to_hf(token_to_id),
        "decoder": decoder,
        "model": _hf_model(tok.model, tok.model_size),
    }


def save_huggingface(tok: Tokenizer, path: PathLike) -> None:
    atomic_write_json(path, to_huggingface(tok))


# ---------------------------------------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------------------------------------
MAX_VOCAB = 1 << 24  # ids beyond this are refused, never allocated for


def _vocab_list(vocab: dict, added: Sequence[dict], source: str) -> list[str]:
    """Token strings by id from an HF vocab dict plus added tokens; ids must be 0..n-1 without gaps."""
    by_id: dict[int, str] = {}
    for token, i in list(vocab.items()) + [(a.get("content"), a.get("id")) for a in added]:
        if not isinstance(token, str) or not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < MAX_VOCAB:
            raise TokenizerFileError(f"{source}: bad vocabulary entry {token!r}: {i!r}")
        if by_id.get(i, token) != token:
            raise TokenizerFileError(f"{source}: id {i} is given to both {by_id[i]!r} and {token!r}")
        by_id[i] = token
    if not by_id:
        raise TokenizerFileError(f"{source}: the vocabulary is empty")
    if len(by_id) != max(by_id) + 1:
        missing = next(i for i in range(max(by_id) + 1) if i not in by_id)
        raise TokenizerFileError(f"{source}: vocabulary ids have gaps (first missing id {missing})")
    return [by_id[i] for i in range(len(by_id))]


def _parse_merges(merges: list, source: str) -> list[tuple[str, str]]:
    out = []
    for i, m in enumerate(merges):
        if isinstance(m, str):
            parts = m.split(" ")
        elif isinstance(m, list):
            parts = m
        else:
            parts = []
        if len(parts) != 2 or not all(isinstance(p, str) for p in parts):
            raise TokenizerFileError(f"{source}: merge {i} is neither 'a b' nor [a, b]: {m!r}")
        out.append((parts[0], parts[1]))
    return out


def _model_from_hf(model_d: dict, vocab: list[str], byte_level: bool, decoder_d: Optional[dict], source: str):
    """Our model for HF's, every field read or refused."""
    kind = model_d.get("type")
    if kind is None:  # old files: a BPE has merges, a WordPiece a continuing_subword_prefix, as HF infers
        kind = "BPE" if "merges" in model_d else "WordPiece" if "continuing_subword_prefix" in model_d else "WordLevel"
    fields = set(model_d) - {"type", "vocab"}
    if kind == "BPE":
        _refuse(fields - BPE_FIELDS, "BPE model", source)
        _check_byte_fallback(
            bool(model_d.get("byte_fallback")),
            model_d.get("continuing_subword_prefix"),
            model_d.get("end_of_word_suffix"),
        )
        return BPE(
            vocab,
            _parse_merges(model_d.get("merges") or [], source),
            byte_level=byte_level,
            unk_token=model_d.get("unk_token"),
            byte_fallback=bool(model_d.get("byte_fallback")),
            continuing_subword_prefix=model_d.get("continuing_subword_prefix"),
            end_of_word_suffix=model_d.get("end_of_word_suffix"),
            fuse_unk=bool(model_d.get("fuse_unk")),
            ignore_merges=bool(model_d.get("ignore_merges")),
            dropout=model_d.get("dropout"),
        )
    if byte_level:
        raise SubtokError(f"a ByteLevel pre-tokenizer with a {kind} model is not supported")
    if kind == "WordPiece":
        _refuse(fields - {"unk_token", "continuing_subword_prefix", "max_input_chars_per_word"}, "WordPiece", source)
        cleanup = (decoder_d or {}).get("cleanup", True)
        return WordPiece.from_dict({**model_d, "vocab": vocab, "cleanup": cleanup})
    if kind == "WordLevel":
        _refuse(fields - {"unk_token"}, "WordLevel model", source)
        return WordLevel(vocab, model_d.get("unk_token"))
    if kind == "Unigram":
        raise SubtokError("Unigram models are not supported yet (the Unigram issue adds them)")
    raise SubtokError(f"unsupported model type {kind!r}")


BPE_FIELDS = {
    "dropout",
    "unk_token",
    "continuing_subword_prefix",
    "end_of_word_suffix",
    "fuse_unk",
    "byte_fallback",
    "ignore_merges",
    "merges",
}
TOP_FIELDS = {
    "version",
    "truncation",
    "padding",
    "added_tokens",
    "normalizer",
    "pre_tokenizer",
    "post_processor",
    "decoder",
    "model",
}


def _refuse(unknown: set, where: str, source: str) -> None:
    if unknown:
        raise SubtokError(f"{where}: field {', '.join(sorted(unknown))} is not supported")


def components_from_huggingface(d: Any, source: str = "tokenizer.json") -> Components:
    """The components of the tokenizer an HF tokenizer.json document describes; a component or field subtok
    does not implement is an error that names it."""
    if not isinstance(d, dict) or not isinstance(d.get("model"), dict):
        raise TokenizerFileError(f"{source}: not an HF tokenizer.json (no 'model' object)")
    model_d = d["model"]
    added = d.get("added_tokens") or []
    vocab_d = model_d.get("vocab")
    if not isinstance(vocab_d, dict):
        raise TokenizerFileError(f"{source}: model.vocab must be an object of token -> id")
    if not isinstance(added, list) or not all(isinstance(a, dict) for a in added):
        raise TokenizerFileError(f"{source}: added_tokens must be a list of objects")
    vocab = _vocab_list(vocab_d, added, source)
    try:
        _refuse(set(d) - TOP_FIELDS, "tokenizer.json", source)
        normalizers = normalizers_from_hf(d.get("normalizer"))
        pre_d = d.get("pre_tokenizer")
        pre = PRE_TOKENIZERS.from_hf(pre_d) if pre_d is not None else Whole()
        decoder_d = d.get("decoder")
        model = _model_from_hf(model_d, vocab, pre.byte_level, decoder_d, source)
        post = d.get("post_processor")
        return {
            "model": model,
            "normalizers": normalizers,
            "pre_tokenizer": pre,
            "added_tokens": [(AddedToken.from_hf(a), a["id"]) for a in added],
            "post_processor": PROCESSORS.from_hf(post) if post is not None else None,
            "decoder": DECODERS.from_hf(decoder_d) if decoder_d is not None else Spaces(),
            "truncation": d.get("truncation"),
            "padding": d.get("padding"),
            "model_size": len(vocab_d) if len(vocab_d) < len(vocab) else None,
        }
    except TokenizerFileError:
        raise
    except SubtokError as e:
        raise TokenizerFileError(f"{source}: {e}") from None


def read_huggingface(path: PathLike) -> Components:
    return components_from_huggingface(read_json(path), source=str(path))


def read_gpt2_files(vocab_json: PathLike, merges_txt: PathLike, special_tokens: Sequence[str] = ()) -> Components:
    """A byte-level BPE from GPT-2-style ``vocab.json`` (token -> id) and ``merges.txt``."""
    vocab_d = read_json(vocab_json)
    if not isinstance(vocab_d, dict):
        raise TokenizerFileError(f"{vocab_json}: expected an object of token -> id")
    try:
        with open(merges_txt, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise TokenizerFileError(f"cannot read {merges_txt}: {e.strerror}") from None
    lines = [ln for ln in lines if ln and not ln.startswith("#version")]
    merges = _parse_merges(lines, str(merges_txt))
    vocab = _vocab_list(vocab_d, [], str(vocab_json))
    try:
        model = BPE(vocab, merges, byte_level=True)
    except SubtokError as e:
        raise TokenizerFileError(f"{vocab_json}: {e}") from None
    specials = [t for t in special_tokens if t in vocab_d]
    return {"model": model, "pre_tokenizer": GPT2(), "special_tokens": specials}


def read_bert_vocab(
    vocab_txt: PathLike,
    lowercase: bool = True,
    strip_accents: Optional[bool] = None,
    clean_text: bool = True,
    handle_chinese_chars: bool = True,
    unk_token: str = "[UNK]",
    cls_token: str = "[CLS]",
    sep_token: str = "[SEP]",
    max_input_chars_per_word: int = 100,
) -> Components:
    """BERT's WordPiece tokenizer from a vocab.txt (one token per line, id = line number) and its options."""
    try:
        with open(vocab_txt, "rb") as f:
            data = f.read()
    except OSError as e:
        raise TokenizerFileError(f"cannot read {vocab_txt}: {e.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise TokenizerFileError(f"{vocab_txt}: not UTF-8 (byte offset {e.start})") from None
    tokens = text.split("\n")
    if tokens and tokens[-1] == "":
        tokens.pop()
    tokens = [t.rstrip("\r") for t in tokens]
    if not tokens:
        raise TokenizerFileError(f"{vocab_txt}: the vocabulary is empty")
    seen: dict[str, int] = {}
    for line, t in enumerate(tokens, 1):
        if t in seen:
            raise TokenizerFileError(f"{vocab_txt}: line {line} repeats {t!r} (first on line {seen[t]})")
        seen[t] = line
    if unk_token not in seen:
        raise TokenizerFileError(f"{vocab_txt}: the unknown token {unk_token!r} is not in the vocabulary")
    try:
        model = WordPiece(tokens, unk_token=unk_token, max_input_chars_per_word=max_input_chars_per_word)
    except SubtokError as e:
        raise TokenizerFileError(f"{vocab_txt}: {e}") from None
    normalizer = BertNormalizer(clean_text, handle_chinese_chars, strip_accents, lowercase)
    specials = [t for t in tokens if t.startswith("[") and t.endswith("]") and len(t) > 2 and t[1:-1].isupper()]
    post = BertPostProcessor(cls_token, sep_token) if cls_token in seen and sep_token in seen else None
    return {
        "model": model,
        "normalizers": [normalizer],
        "pre_tokenizer": BertWords(),
        "special_tokens": specials,
        "post_processor": post,
    }


def save_bert_vocab(tok: Tokenizer, path: PathLike) -> None:
    """A WordPiece vocabulary as BERT's vocab.txt."""
    if tok.model.type != "wordpiece":
        raise SubtokError("save_bert_vocab needs a WordPiece tokenizer")
    bad = [t for t in tok.vocab if "\n" in t or "\r" in t]
    if bad:
        raise SubtokError(f"tokens with line breaks cannot be written to vocab.txt: {bad[:3]}")
    atomic_write_text(path, "".join(t + "\n" for t in tok.vocab))


# ---------------------------------------------------------------------------------------------------------
# tiktoken
# ---------------------------------------------------------------------------------------------------------
def mergeable_ranks(tok: Tokenizer) -> dict[bytes, int]:
    """Byte-level BPE as tiktoken ranks: each non-special token's bytes -> its id.

    tiktoken merges the pair whose concatenation has the lowest rank, subtok the pair with the lowest merge
    rank. The two agree when each merge makes a token whose id is above those of every earlier merge's
    token, which subtok's trainer gives unless a merge spells a token that exists already (a merge that
    reuses an id, as HF's trainer allows); a file with such merges can give other ids in tiktoken.
    """
    model = tok.model
    if getattr(model, "type", None) != "bpe" or not model.byte_level:
        raise SubtokError("mergeable_ranks needs a byte-level BPE tokenizer")
    specials = set(tok.special_tokens)
    return {token_to_bytes(t): i for i, t in enumerate(model.vocab) if t not in specials}


def to_tiktoken(tok: Tokenizer, name: str = "subtok") -> tiktoken.Encoding:
    """A ``tiktoken.Encoding`` with this tokenizer's pattern, ranks and special tokens (same ids)."""
    try:
        import tiktoken
    except ImportError:
        raise SubtokError("to_tiktoken needs tiktoken: pip install tiktoken") from None
    if tok.normalizers:
        raise SubtokError("tiktoken has no normalizers: this tokenizer's would be lost")
    return tiktoken.Encoding(
        name=name,
        pat_str=tok.pre_tokenizer.pattern,
        mergeable_ranks=mergeable_ranks(tok),
        special_tokens={t: tok.vocab.word_to_id[t] for t in tok.special_tokens},
    )
