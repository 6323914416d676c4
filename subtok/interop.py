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

import binascii
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Optional, Union

from ._io import PathLike, atomic_write_json, atomic_write_text, read_json
from .added_tokens import AddedToken, AddedVocabulary
from .decoders import DECODERS, Spaces
from .errors import SubtokError, TokenizerFileError, warn_caller
from .models import BPE, Unigram, WordLevel, WordPiece
from .normalizers import BertNormalizer, normalizers_from_hf, normalizers_to_hf
from .pre_tokenizers import GPT2, PRE_TOKENIZERS, BertWords, RegexSplit, Whole
from .processors import PROCESSORS, BertPostProcessor
from .text import GPT2_PATTERN, bytes_to_token, named_pattern, token_to_bytes
from .vocab import MAX_ID, Vocab

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


def _hf_model(model, extra: dict[str, int]) -> dict:
    """The model with its vocabulary (and the ``extra`` tokens -> ids the export puts there)."""
    vocab = {**model.vocab.word_to_id, **extra}
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
    if model.type == "unigram":
        if model.flavor != "hf":
            raise SubtokError(
                "a SentencePiece Unigram model has no exact HF form (HF sums scores in float64, matches control "
                "and byte pieces in text and knows no user-defined pieces): save it with save_sentencepiece"
            )
        if extra:
            raise SubtokError(f"HF's Unigram vocabulary is a list: the added tokens {sorted(extra)} need ids in it")
        return {
            "type": "Unigram",
            "unk_id": model.unk_id,
            "vocab": [[p, s] for p, s in zip(model.vocab, model.scores)],
            "byte_fallback": model.byte_fallback,
        }
    raise SubtokError(f"no HF export for model {model.type!r}")


def to_huggingface(tok: Tokenizer) -> dict:
    """The tokenizer as an HF tokenizer.json document."""
    token_to_id = tok.vocab.word_to_id
    post = tok.post_processor
    decoder = tok.decoder.to_hf()
    tokens = sorted(tok.added.tokens, key=lambda ti: ti[1])
    added = [token.to_hf(i) for token, i in tokens]
    # HF gives an added token the model lacks the next id when it loads the file; where that is not ours
    # (a gap, as cl100k's specials leave), the token goes into the model's vocabulary, where HF reads it.
    hf_ids = AddedVocabulary().hf_ids([t for t, _ in tokens], tok.model.vocab)
    model_ids = tok.model.vocab.word_to_id
    extra = {}
    if hf_ids != [i for _, i in tokens]:
        extra = {t.content: i for t, i in tokens if t.content not in model_ids}
    return {
        "version": "1.0",
        "truncation": tok.truncation,
        "padding": tok.padding,
        "added_tokens": added,
        "normalizer": normalizers_to_hf(tok.normalizers),
        "pre_tokenizer": _hf_pre_tokenizer(tok),
        "post_processor": None if post is None else post.to_hf(token_to_id),
        "decoder": decoder,
        "model": _hf_model(tok.model, extra),
    }


def save_huggingface(tok: Tokenizer, path: PathLike) -> None:
    atomic_write_json(path, to_huggingface(tok))


# ---------------------------------------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------------------------------------
def _model_vocab(vocab: Any, source: str) -> Vocab:
    """The model's vocabulary from HF's token -> id object (its ids may leave gaps)."""
    if not isinstance(vocab, dict):
        raise TokenizerFileError(f"{source}: model.vocab must be an object of token -> id")
    if not vocab:
        raise TokenizerFileError(f"{source}: the vocabulary is empty")
    try:
        return Vocab.from_ids(vocab)
    except SubtokError as e:
        raise TokenizerFileError(f"{source}: model.vocab: {e}") from None


def _added_tokens(added: list, model_vocab: Vocab, source: str) -> list[tuple[AddedToken, int]]:
    """The added tokens with the ids HF gives them on loading (``AddedVocabulary.hf_ids``: HF reads a
    token's id from the model's vocabulary or gives the next one, whatever the file says), with a warning
    when they differ from the file's. Where HF's id is one the model gives another token (a model whose ids
    leave gaps: HF then has two tokens on one id), the file's id is kept, with a warning; a file with
    neither a free nor a consistent id is refused."""
    tokens = []
    for a in added:
        if not isinstance(a, dict) or not isinstance(a.get("content"), str):
            raise TokenizerFileError(f"{source}: added_tokens entries must be objects with a string 'content'")
        unknown = set(a) - {"id", "content", "special", "single_word", "lstrip", "rstrip", "normalized"}
        if unknown:
            raise TokenizerFileError(
                f"{source}: added token {a['content']!r}: field {', '.join(sorted(unknown))} is not supported"
            )
        if a["content"]:  # HF ignores an empty one
            tokens.append((AddedToken.from_hf(a), a.get("id")))
    ids = AddedVocabulary().hf_ids([t for t, _ in tokens], model_vocab)
    out, moved, kept = [], [], []
    for (token, said), got in zip(tokens, ids):
        holder = AddedVocabulary.colliding(token, got, model_vocab)
        if holder is not None:
            if type(said) is not int or not 0 <= said < MAX_ID or AddedVocabulary.colliding(token, said, model_vocab):
                raise TokenizerFileError(
                    f"{source}: added token {token.content!r} gets id {got} in HF tokenizers, which the model gives "
                    f"to {holder!r}, and the file's id {said!r} is not free either"
                )
            kept.append((token.content, said, got, holder))
            got = said
        elif said != got:
            moved.append((token.content, said, got))
        out.append((token, got))
    if moved:
        content, said, got = moved[0]
        warn_caller(
            f"{source}: {len(moved)} added tokens get other ids than the file gives them, as HF tokenizers "
            f"gives them on loading (first: {content!r} is {got}, not {said})"
        )
    if kept:
        content, said, got, holder = kept[0]
        warn_caller(
            f"{source}: {len(kept)} added tokens keep the file's ids where HF tokenizers would give them ids the "
            f"model uses for other tokens (first: {content!r} is {said}; HF gives it {got}, the id of {holder!r})"
        )
    return out


def _parse_merges(merges: list, source: str) -> list[tuple[str, str]]:
    if not isinstance(merges, list):
        raise TokenizerFileError(f"{source}: model.merges must be a list, not {type(merges).__name__}")
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


def _model_from_hf(model_d: dict, vocab: Vocab, byte_level: bool, decoder_d: Optional[dict], source: str):
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
        if vocab.has_gaps:
            raise SubtokError("WordPiece vocabularies whose ids leave gaps are not supported")
        cleanup = decoder_d.get("cleanup", True) if isinstance(decoder_d, dict) else True
        return WordPiece.from_dict({**model_d, "vocab": list(vocab), "cleanup": cleanup})
    if kind == "WordLevel":
        _refuse(fields - {"unk_token"}, "WordLevel model", source)
        return WordLevel(vocab, model_d.get("unk_token"))
    raise SubtokError(f"unsupported model type {kind!r}")


def _unigram_from_hf(model_d: dict, byte_level: bool) -> Unigram:
    """HF's Unigram model (``vocab``: [piece, score] pairs, ``unk_id``, ``byte_fallback``) in its flavor."""
    _refuse(set(model_d) - {"type", "vocab", "unk_id", "byte_fallback"}, "Unigram model", "")
    if byte_level:
        raise SubtokError("a ByteLevel pre-tokenizer with a Unigram model is not supported")
    pairs = model_d.get("vocab")
    if not isinstance(pairs, list) or not pairs or not all(
        isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) and isinstance(p[1], (int, float))
        and not isinstance(p[1], bool)
        for p in pairs
    ):  # fmt: skip
        raise SubtokError("model.vocab must be a non-empty list of [piece, score]")
    unk_id = model_d.get("unk_id")
    if type(unk_id) is not int:
        raise SubtokError(
            "model.unk_id: a Unigram model without an unknown piece is not supported (HF fails on the first "
            "character no piece covers)"
        )
    kinds = ["normal"] * len(pairs)
    if 0 <= unk_id < len(kinds):
        kinds[unk_id] = "unknown"
    return Unigram(
        [p for p, _ in pairs],
        [s for _, s in pairs],
        kinds,
        unk_id=unk_id,
        byte_fallback=bool(model_d.get("byte_fallback")),
        flavor="hf",
    )


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
    if not isinstance(added, list):
        raise TokenizerFileError(f"{source}: added_tokens must be a list of objects")
    try:
        unigram = model_d.get("type") == "Unigram"  # its vocabulary is a list of [piece, score]
        vocab = None if unigram else _model_vocab(model_d.get("vocab"), source)
        _refuse(set(d) - TOP_FIELDS, "tokenizer.json", source)
        normalizers = normalizers_from_hf(d.get("normalizer"))
        pre_d = d.get("pre_tokenizer")
        pre = PRE_TOKENIZERS.from_hf(pre_d) if pre_d is not None else Whole()
        decoder_d = d.get("decoder")
        if unigram:
            model = _unigram_from_hf(model_d, pre.byte_level)
        else:
            model = _model_from_hf(model_d, vocab, pre.byte_level, decoder_d, source)
        post = d.get("post_processor")
        return {
            "model": model,
            "normalizers": normalizers,
            "pre_tokenizer": pre,
            "added_tokens": _added_tokens(added, model.vocab, source),
            "post_processor": PROCESSORS.from_hf(post) if post is not None else None,
            "decoder": DECODERS.from_hf(decoder_d) if decoder_d is not None else Spaces(),
            "truncation": d.get("truncation"),
            "padding": d.get("padding"),
        }
    except SubtokError as e:
        message = str(e)
        raise TokenizerFileError(message if message.startswith(source) else f"{source}: {message}") from None


def read_huggingface(path: PathLike) -> Components:
    return components_from_huggingface(read_json(path), source=str(path))


def _byte_level_tokenizer(
    model: BPE, pattern: str, normalizers: Sequence, specials: Sequence[tuple[str, Optional[int]]]
) -> Components:
    """The components of a byte-level BPE that splits with ``pattern`` (a regex or a name in
    ``text.PATTERNS``): ``specials`` are (token, id) pairs, an id None taking HF's next id."""
    pattern = named_pattern(pattern)
    pre = GPT2() if pattern == GPT2_PATTERN else RegexSplit(pattern)
    added = AddedVocabulary()
    for token, token_id in specials:
        if token_id is None:
            added.assign_ids([AddedToken(token, special=True)], model.vocab)
        else:
            added.add(AddedToken(token, special=True), token_id)
    return {"model": model, "normalizers": normalizers, "pre_tokenizer": pre, "added_tokens": added.tokens}


def read_gpt2_files(
    vocab_json: PathLike,
    merges_txt: PathLike,
    special_tokens: Sequence[str] = (),
    pattern: str = "gpt2",
    normalizers: Sequence = (),
) -> Components:
    """A byte-level BPE from GPT-2-style ``vocab.json`` (token -> id) and ``merges.txt``, splitting with
    ``pattern``; ``special_tokens`` the vocabulary lacks get the next ids (as HF's add_special_tokens)."""
    vocab_d = read_json(vocab_json)
    if not isinstance(vocab_d, dict):
        raise TokenizerFileError(f"{vocab_json}: expected an object of token -> id")
    try:
        with open(merges_txt, "rb") as f:
            lines = f.read().decode("utf-8-sig").split("\n")  # (a byte-order mark dropped)
    except OSError as e:
        raise TokenizerFileError(f"cannot read {merges_txt}: {e.strerror}") from None
    except UnicodeDecodeError as e:
        raise TokenizerFileError(f"{merges_txt}: not UTF-8 (byte {e.start})") from None
    lines = [ln.removesuffix("\r") for ln in lines]
    lines = [ln for ln in lines if ln and not ln.startswith("#version")]
    merges = _parse_merges(lines, str(merges_txt))
    vocab = _model_vocab(vocab_d, str(vocab_json))
    try:
        model = BPE(vocab, merges, byte_level=True)
    except SubtokError as e:
        raise TokenizerFileError(f"{vocab_json}: {e}") from None
    return _byte_level_tokenizer(model, pattern, normalizers, [(t, None) for t in special_tokens])


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
        text = data.decode("utf-8-sig")  # (a byte-order mark dropped)
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
    if tok.vocab.has_gaps:
        raise SubtokError("vocab.txt gives ids by line: a vocabulary whose ids leave gaps cannot be written to it")
    bad = [t for t in tok.vocab if t is not None and ("\n" in t or "\r" in t)]
    if bad:
        raise SubtokError(f"tokens with line breaks cannot be written to vocab.txt: {bad[:3]}")
    atomic_write_text(path, "".join(f"{t}\n" for t in tok.vocab))


# ---------------------------------------------------------------------------------------------------------
# tiktoken
# ---------------------------------------------------------------------------------------------------------
def mergeable_ranks(tok: Tokenizer) -> dict[bytes, int]:
    """Byte-level BPE as tiktoken ranks: the bytes of each token of the model but the added ones -> its id.

    tiktoken merges the pair whose concatenation has the lowest rank, subtok the pair with the lowest merge
    rank. The two agree when each merge makes a token whose id is above those of every earlier merge's
    token, which subtok's trainer gives unless a merge spells a token that exists already (a merge that
    reuses an id, as HF's trainer allows); a file with such merges can give other ids in tiktoken.
    """
    model = tok.model
    if getattr(model, "type", None) != "bpe" or not model.byte_level:
        raise SubtokError("mergeable_ranks needs a byte-level BPE tokenizer")
    added = set(tok.added.by_content)
    ranks = {}
    for i, t in enumerate(model.vocab):
        if t is not None and t not in added:
            try:
                ranks[token_to_bytes(t)] = i
            except ValueError:
                raise SubtokError(f"token {i} ({t!r}) is not a byte-level token: tiktoken cannot hold it") from None
    return ranks


def read_tiktoken_ranks(path: PathLike) -> dict[bytes, int]:
    """A ``.tiktoken`` file: one ``<base64 token> <rank>`` line per token (tiktoken's load_tiktoken_bpe)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise TokenizerFileError(f"cannot read {path}: {e.strerror}") from None
    ranks: dict[bytes, int] = {}
    data = data.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark
    for number, line in enumerate(data.split(b"\n"), 1):
        fields = line.split()
        if not fields:
            continue
        try:
            token, rank = binascii.a2b_base64(fields[0], strict_mode=True), int(fields[1])
            if len(fields) != 2 or not 0 <= rank < MAX_ID:
                raise ValueError
        except (ValueError, IndexError, binascii.Error):
            raise TokenizerFileError(f"{path}, line {number}: not '<base64 token> <rank>'") from None
        if token in ranks:
            raise TokenizerFileError(f"{path}, line {number}: token {token!r} is given twice")
        ranks[token] = rank
    if not ranks:
        raise TokenizerFileError(f"{path}: no ranks in the file")
    return ranks


def merges_from_ranks(ranks: Mapping[bytes, int]) -> list[tuple[bytes, bytes]]:
    """The merges that rebuild tiktoken's ranks: each token of two bytes or more splits into the two tokens
    that BPE with only the lower ranks makes of its bytes (a rank file made by BPE training always splits so;
    one that does not is refused), in rank order."""
    merges = []
    for token, rank in sorted(ranks.items(), key=lambda tr: tr[1]):
        if len(token) < 2:
            continue
        parts = [token[i : i + 1] for i in range(len(token))]
        while len(parts) > 2:
            best, at = rank, -1
            for i in range(len(parts) - 1):
                r = ranks.get(parts[i] + parts[i + 1])
                if r is not None and r < best:
                    best, at = r, i
            if at < 0:
                break
            parts[at : at + 2] = [parts[at] + parts[at + 1]]
        if len(parts) != 2 or ranks.get(parts[0], rank) >= rank or ranks.get(parts[1], rank) >= rank:
            raise SubtokError(f"token {token!r} (rank {rank}) is not two tokens of lower rank merged")
        merges.append((parts[0], parts[1]))
    return merges


def read_tiktoken(
    ranks: Union[PathLike, Mapping[bytes, int]], pattern: str, special_tokens: Optional[Mapping[str, int]] = None
) -> Components:
    """A byte-level BPE with tiktoken's ranks (a ``.tiktoken`` file or token bytes -> rank), ``pattern`` (a
    regex or a name in ``text.PATTERNS``) and ``special_tokens`` (token -> id; ids may leave gaps). As
    tiktoken does, a pre-token that is a token is that token (``ignore_merges``)."""
    source = "ranks"
    if not isinstance(ranks, Mapping):
        source, ranks = str(ranks), read_tiktoken_ranks(ranks)
    try:
        if not all(isinstance(t, bytes) and type(r) is int for t, r in ranks.items()):
            raise SubtokError("ranks must map bytes to int")
        missing = [b for b in range(256) if bytes([b]) not in ranks]
        if missing:
            raise SubtokError(f"byte 0x{missing[0]:02x} has no rank ({len(missing)} bytes lack one)")
        vocab = Vocab.from_ids({bytes_to_token(t): r for t, r in ranks.items()})
        merges = [(bytes_to_token(a), bytes_to_token(b)) for a, b in merges_from_ranks(ranks)]
        model = BPE(vocab, merges, byte_level=True, ignore_merges=True)
        specials = dict(special_tokens or {})
        if not all(isinstance(t, str) and type(i) is int for t, i in specials.items()):
            raise SubtokError("special_tokens must map str to int")
        return _byte_level_tokenizer(model, pattern, (), list(specials.items()))
    except SubtokError as e:
        raise TokenizerFileError(f"{source}: {e}") from None


def to_tiktoken(tok: Tokenizer, name: str = "subtok") -> tiktoken.Encoding:
    """A ``tiktoken.Encoding`` with this tokenizer's pattern, ranks and special tokens (same ids)."""
    try:
        import tiktoken
    except ImportError:
        raise SubtokError("to_tiktoken needs tiktoken: pip install tiktoken") from None
    if tok.normalizers:
        raise SubtokError("tiktoken has no normalizers: this tokenizer's would be lost")
    if tok.pre_tokenizer.prefix_space or tok.pre_tokenizer.pattern is None:
        raise SubtokError("tiktoken takes one regex: this tokenizer's pre-tokenizer is not one (or adds a space)")
    flagged = [t.content for t, _ in tok.added.tokens if t != AddedToken(t.content, special=True)]
    if flagged:
        raise SubtokError(f"tiktoken has only plain special tokens: added token {flagged[0]!r} would be lost")
    return tiktoken.Encoding(
        name=name,
        pat_str=tok.pre_tokenizer.pattern,
        mergeable_ranks=mergeable_ranks(tok),
        special_tokens={t: tok.vocab.word_to_id[t] for t in tok.special_tokens},
    )
