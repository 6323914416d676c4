"""Interchange with HF tokenizers (tokenizer.json), GPT-2 files (vocab.json + merges.txt) and tiktoken.

A subtok byte-level BPE exported to tokenizer.json, or turned into a ``tiktoken.Encoding``, gives the same
ids for the same text: all three use GPT-2's pre-tokenizer pattern and apply merges by rank.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Optional

from ._io import PathLike, atomic_write_json
from .errors import SubtokError, TokenizerFileError
from .models.bpe import BPE
from .text import GPT2_PATTERN, PreTokenizer, token_to_bytes

if TYPE_CHECKING:
    from .tokenizer import Tokenizer

_NORMALIZERS_TO_HF = {
    "NFC": "NFC",
    "NFKC": "NFKC",
    "NFD": "NFD",
    "NFKD": "NFKD",
    "lowercase": "Lowercase",
    "strip_accents": "StripAccents",
}
_NORMALIZERS_FROM_HF = {v: k for k, v in _NORMALIZERS_TO_HF.items()}


# ---------------------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------------------
def _hf_pre_tokenizer(tok: Tokenizer) -> dict:
    pre = tok.pre_tokenizer
    byte_level = getattr(tok.model, "byte_level", False)
    if byte_level and pre.pattern == GPT2_PATTERN:
        return {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    split = {"type": "Split", "pattern": {"Regex": pre.pattern}, "behavior": "Removed", "invert": True}
    if pre.kind == "whitespace":
        split = {"type": "WhitespaceSplit"}
    if pre.kind == "bert":
        split = {"type": "BertPreTokenizer"}
    if byte_level:
        byte = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}
        return {"type": "Sequence", "pretokenizers": [split, byte]}
    return split


def _hf_decoder(model) -> Optional[dict]:
    if model.type == "word":
        return None
    if model.type == "wordpiece":
        return {"type": "WordPiece", "prefix": model.prefix, "cleanup": model.cleanup}
    if model.byte_level:
        return {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    steps = [{"type": "ByteFallback"}] if model.byte_fallback else []
    if model.suffix:
        steps.append({"type": "BPEDecoder", "suffix": model.suffix})
    elif model.prefix:
        steps.append({"type": "WordPiece", "prefix": model.prefix, "cleanup": False})
    if not steps:
        return None
    return steps[0] if len(steps) == 1 else {"type": "Sequence", "decoders": steps}


def _hf_normalizer(n) -> dict:
    if n.name == "bert":
        return {
            "type": "BertNormalizer",
            "clean_text": n.clean_text,
            "handle_chinese_chars": n.handle_chinese_chars,
            "strip_accents": n.strip_accents,
            "lowercase": n.lowercase,
        }
    return {"type": _NORMALIZERS_TO_HF[n.name]}


def to_huggingface(tok: Tokenizer) -> dict:
    """The tokenizer as an HF tokenizer.json document (BPE or word-level)."""
    model = tok.model
    vocab = {t: i for i, t in enumerate(model.vocab)}
    if model.type == "bpe":
        hf_model = {
            "type": "BPE",
            "dropout": None,
            "unk_token": model.unk_token,
            "continuing_subword_prefix": model.prefix or None,
            "end_of_word_suffix": model.suffix or None,
            "fuse_unk": False,
            "byte_fallback": model.byte_fallback,
            "ignore_merges": False,
            "vocab": vocab,
            "merges": [list(m) for m in model.merges],
        }
    elif model.type == "wordpiece":
        hf_model = {
            "type": "WordPiece",
            "unk_token": model.unk_token,
            "continuing_subword_prefix": model.prefix,
            "max_input_chars_per_word": model.max_input_chars_per_word,
            "vocab": vocab,
        }
    elif model.type == "word":
        hf_model = {"type": "WordLevel", "vocab": vocab, "unk_token": model.unk_token}
    else:
        raise SubtokError(f"no HF export for model {model.type!r}")
    normalizers = [_hf_normalizer(n) for n in tok.normalizers]
    post = tok.post_processor
    post_d = (
        None
        if post is None
        else {
            "type": "BertProcessing",
            "sep": [post.sep_token, vocab[post.sep_token]],
            "cls": [post.cls_token, vocab[post.cls_token]],
        }
    )
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {
                "id": vocab[t],
                "content": t,
                "single_word": False,
                "lstrip": False,
                "rstrip": False,
                "normalized": False,
                "special": True,
            }
            for t in tok.special_tokens
        ],
        "normalizer": None
        if not normalizers
        else (normalizers[0] if len(normalizers) == 1 else {"type": "Sequence", "normalizers": normalizers}),
        "pre_tokenizer": _hf_pre_tokenizer(tok),
        "post_processor": post_d,
        "decoder": _hf_decoder(model),
        "model": hf_model,
    }


def save_huggingface(tok: Tokenizer, path: PathLike) -> None:
    atomic_write_json(path, to_huggingface(tok))


# ---------------------------------------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------------------------------------
def _vocab_list(vocab: dict, added: Sequence[dict], source: str) -> list[str]:
    """Token strings by id from an HF vocab dict plus added tokens; ids must be 0..n-1 without gaps."""
    by_id: dict[int, str] = {}
    for token, i in list(vocab.items()) + [(a.get("content"), a.get("id")) for a in added]:
        if not isinstance(token, str) or not isinstance(i, int) or i < 0:
            raise TokenizerFileError(f"{source}: bad vocabulary entry {token!r}: {i!r}")
        if by_id.get(i, token) != token:
            raise TokenizerFileError(f"{source}: id {i} is given to both {by_id[i]!r} and {token!r}")
        by_id[i] = token
    if not by_id:
        raise TokenizerFileError(f"{source}: the vocabulary is empty")
    missing = [i for i in range(max(by_id) + 1) if i not in by_id]
    if missing:
        raise TokenizerFileError(f"{source}: vocabulary ids have gaps (first missing id {missing[0]})")
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


def _pre_tokenizer_from_hf(pre: Optional[dict], source: str) -> tuple[PreTokenizer, bool]:
    """(our pre-tokenizer, whether text is byte-level mapped) from an HF pre_tokenizer."""
    if pre is None:
        raise TokenizerFileError(f"{source}: a tokenizer without a pre_tokenizer is not supported")
    kind = pre.get("type")
    if kind == "ByteLevel":
        if pre.get("add_prefix_space"):
            raise TokenizerFileError(f"{source}: ByteLevel add_prefix_space=true is not supported")
        return PreTokenizer("gpt2"), True
    if kind == "WhitespaceSplit":
        return PreTokenizer("whitespace"), False
    if kind == "BertPreTokenizer":
        return PreTokenizer("bert"), False
    if kind == "Split":
        pattern = (pre.get("pattern") or {}).get("Regex")
        behavior, invert = pre.get("behavior"), pre.get("invert")
        if pattern is None or not ((behavior == "Removed" and invert) or (behavior == "Isolated" and not invert)):
            raise TokenizerFileError(f"{source}: unsupported Split pre-tokenizer {pre!r}")
        return PreTokenizer("regex", pattern), False
    if kind == "Sequence":
        steps = pre.get("pretokenizers") or []
        if (
            len(steps) == 2
            and steps[0].get("type") == "Split"
            and steps[1].get("type") == "ByteLevel"
            and not steps[1].get("use_regex", True)
        ):
            return _pre_tokenizer_from_hf(steps[0], source)[0], True
    raise TokenizerFileError(f"{source}: unsupported pre_tokenizer {kind!r}")


def _normalizers_from_hf(norm: Optional[dict], source: str) -> list:
    if norm is None:
        return []
    steps = norm.get("normalizers", []) if norm.get("type") == "Sequence" else [norm]
    out: list = []
    for step in steps:
        if step.get("type") == "BertNormalizer":
            out.append(
                {
                    "type": "bert",
                    **{
                        k: step[k]
                        for k in ("clean_text", "handle_chinese_chars", "strip_accents", "lowercase")
                        if k in step
                    },
                }
            )
            continue
        name = _NORMALIZERS_FROM_HF.get(step.get("type"))
        if name is None:
            raise TokenizerFileError(f"{source}: unsupported normalizer {step.get('type')!r}")
        out.append(name)
    return out


def from_huggingface_dict(d: dict, source: str = "tokenizer.json") -> Tokenizer:
    from .models.word import WordLevel
    from .models.wordpiece import WordPiece
    from .tokenizer import Tokenizer

    if not isinstance(d, dict) or not isinstance(d.get("model"), dict):
        raise TokenizerFileError(f"{source}: not an HF tokenizer.json (no 'model' object)")
    model_d = d["model"]
    added = d.get("added_tokens") or []
    vocab_d = model_d.get("vocab")
    if not isinstance(vocab_d, dict):
        raise TokenizerFileError(f"{source}: model.vocab must be an object of token -> id")
    vocab = _vocab_list(vocab_d, added, source)
    specials = [a["content"] for a in added if a.get("special")]
    normalizers = _normalizers_from_hf(d.get("normalizer"), source)
    kind = model_d.get("type")
    if kind == "BPE":
        pre, byte_level = _pre_tokenizer_from_hf(d.get("pre_tokenizer"), source)
        merges = _parse_merges(model_d.get("merges") or [], source)
        model = BPE(
            vocab,
            merges,
            byte_level=byte_level,
            unk_token=model_d.get("unk_token"),
            byte_fallback=bool(model_d.get("byte_fallback")),
            continuing_subword_prefix=model_d.get("continuing_subword_prefix"),
            end_of_word_suffix=model_d.get("end_of_word_suffix"),
            source=source,
        )
    elif kind == "WordPiece":
        pre = _pre_tokenizer_from_hf(d.get("pre_tokenizer"), source)[0]
        cleanup = (d.get("decoder") or {}).get("cleanup", True)
        model = WordPiece.from_dict({**model_d, "vocab": vocab, "cleanup": cleanup}, source)
    elif kind == "WordLevel":
        pre = _pre_tokenizer_from_hf(d.get("pre_tokenizer"), source)[0]
        model = WordLevel(vocab, model_d.get("unk_token"), source=source)
    else:
        raise TokenizerFileError(f"{source}: unsupported model type {kind!r}")
    return Tokenizer(model, normalizers, pre, specials, _post_processor_from_hf(d.get("post_processor"), source))


def _post_processor_from_hf(post: Optional[dict], source: str):
    from .tokenizer import BertPostProcessor

    if post is None:
        return None
    if post.get("type") == "BertProcessing":
        return BertPostProcessor(post["cls"][0], post["sep"][0])
    if post.get("type") == "TemplateProcessing":
        single = [next(iter(x.values())).get("id") for x in post.get("single", [])]
        if len(single) == 3 and single[1] == "A":
            return BertPostProcessor(single[0], single[2])
    raise TokenizerFileError(f"{source}: unsupported post_processor {post.get('type')!r}")


def from_huggingface(path: PathLike) -> Tokenizer:
    from .tokenizer import read_json_file

    return from_huggingface_dict(read_json_file(path), source=str(path))


def from_gpt2_files(vocab_json: PathLike, merges_txt: PathLike, special_tokens: Sequence[str] = ()) -> Tokenizer:
    """A byte-level BPE from GPT-2-style ``vocab.json`` (token -> id) and ``merges.txt``."""
    from .tokenizer import Tokenizer, read_json_file

    vocab_d = read_json_file(vocab_json)
    if not isinstance(vocab_d, dict):
        raise TokenizerFileError(f"{vocab_json}: expected an object of token -> id")
    try:
        lines = open(merges_txt, encoding="utf-8").read().splitlines()
    except OSError as e:
        raise TokenizerFileError(f"cannot read {merges_txt}: {e.strerror}") from None
    lines = [ln for ln in lines if ln and not ln.startswith("#version")]
    merges = _parse_merges(lines, str(merges_txt))
    vocab = _vocab_list(vocab_d, [], str(vocab_json))
    specials = [t for t in special_tokens if t in vocab_d]
    model = BPE(vocab, merges, byte_level=True, source=str(vocab_json))
    return Tokenizer(model, [], PreTokenizer("gpt2"), specials)


def from_bert_vocab(
    vocab_txt: PathLike,
    lowercase: bool = True,
    strip_accents: Optional[bool] = None,
    clean_text: bool = True,
    handle_chinese_chars: bool = True,
    unk_token: str = "[UNK]",
    cls_token: str = "[CLS]",
    sep_token: str = "[SEP]",
    max_input_chars_per_word: int = 100,
) -> Tokenizer:
    """BERT's WordPiece tokenizer from a vocab.txt (one token per line, id = line number) and its options."""
    from .models.wordpiece import WordPiece
    from .tokenizer import BertPostProcessor, Tokenizer

    try:
        data = open(vocab_txt, "rb").read()
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
    model = WordPiece(
        tokens, unk_token=unk_token, max_input_chars_per_word=max_input_chars_per_word, source=str(vocab_txt)
    )
    norm = {
        "type": "bert",
        "clean_text": clean_text,
        "handle_chinese_chars": handle_chinese_chars,
        "strip_accents": strip_accents,
        "lowercase": lowercase,
    }
    specials = [t for t in tokens if t.startswith("[") and t.endswith("]") and len(t) > 2 and t[1:-1].isupper()]
    post = BertPostProcessor(cls_token, sep_token) if cls_token in seen and sep_token in seen else None
    return Tokenizer(model, [norm], PreTokenizer("bert"), specials, post)


def save_bert_vocab(tok: Tokenizer, path: PathLike) -> None:
    """A WordPiece vocabulary as BERT's vocab.txt."""
    if tok.model.type != "wordpiece":
        raise SubtokError("save_bert_vocab needs a WordPiece tokenizer")
    bad = [t for t in tok.model.vocab if "\n" in t or "\r" in t]
    if bad:
        raise SubtokError(f"tokens with line breaks cannot be written to vocab.txt: {bad[:3]}")
    from ._io import atomic_write_text

    atomic_write_text(path, "".join(t + "\n" for t in tok.model.vocab))


# ---------------------------------------------------------------------------------------------------------
# tiktoken
# ---------------------------------------------------------------------------------------------------------
def mergeable_ranks(tok: Tokenizer) -> dict[bytes, int]:
    """Byte-level BPE as tiktoken ranks: each non-special token's bytes -> its id.

    tiktoken merges the pair whose concatenation has the lowest rank, subtok the pair with the lowest merge
    rank; the two agree because each merge's token has a higher id than every earlier merge's.
    """
    model = tok.model
    if getattr(model, "type", None) != "bpe" or not model.byte_level:
        raise SubtokError("mergeable_ranks needs a byte-level BPE tokenizer")
    specials = set(tok.special_tokens)
    return {token_to_bytes(t): i for i, t in enumerate(model.vocab) if t not in specials}


def to_tiktoken(tok: Tokenizer, name: str = "subtok"):
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
        special_tokens={t: tok.model.token_to_id[t] for t in tok.special_tokens},
    )
