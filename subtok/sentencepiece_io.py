"""SentencePiece ``.model`` files <-> subtok tokenizers.

A ``.model`` file becomes SentencePiece's own pipeline: its normalizer (precompiled charsmap, whitespace
rules, user-defined symbols left as they are), no pre-tokenizer (the whole normalized text is one lattice,
or one sequence of merges, as in SentencePiece), the model (``Unigram``, or ``SentencePieceBPE`` for BPE
files), and SentencePiece's decoder, so ids, pieces and decodes equal the sentencepiece library's. Control
pieces (<s>, </s>) are not matched in text, as in SentencePiece.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import sentencepiece_model as spm
from ._io import PathLike
from .charsmap import CharsMap
from .decoders import SentencePieceDecoder
from .errors import SubtokError, TokenizerFileError
from .models.sentencepiece_bpe import SentencePieceBPE
from .models.unigram import Unigram
from .normalizers import SentencePieceNormalizer
from .pre_tokenizers import Whole

if TYPE_CHECKING:
    from .tokenizer import Tokenizer

_TYPE_OF_KIND = {name: t for t, name in spm.PIECE_TYPES.items()}  # the model's kinds (KINDS) are these names


def _normalizer(spec: spm.Message, trainer: spm.Message, user_defined: list[str]) -> SentencePieceNormalizer:
    blob = spec["precompiled_charsmap"]
    if spec["normalization_rule_tsv"] and not blob:
        raise SubtokError("normalizer_spec.normalization_rule_tsv without a precompiled charsmap is not supported")
    return SentencePieceNormalizer(
        CharsMap(blob) if blob else None,
        add_dummy_prefix=spec["add_dummy_prefix"],
        remove_extra_whitespaces=spec["remove_extra_whitespaces"],
        escape_whitespaces=spec["escape_whitespaces"],
        treat_whitespace_as_suffix=trainer["treat_whitespace_as_suffix"],
        user_defined=user_defined,
    )


def read_sentencepiece(path: PathLike) -> dict[str, Any]:
    """``Tokenizer`` keyword arguments for the SentencePiece model in ``path``."""
    model = spm.read_model(path)
    try:
        return _from_model(model)
    except SubtokError as e:
        raise TokenizerFileError(f"{path}: {e}") from None


def _from_model(model: spm.Message) -> dict[str, Any]:
    trainer, spec = model["trainer_spec"], model["normalizer_spec"]
    pieces = [p["piece"] for p in model["pieces"]]
    kinds = [spm.PIECE_TYPES[p["type"]] for p in model["pieces"]]
    user_defined = [p for p, k in zip(pieces, kinds) if k == "user_defined"]
    kind = SentencePieceBPE if spm.MODEL_TYPES[trainer["model_type"]] == "bpe" else Unigram
    unigram = kind(pieces, [p["score"] for p in model["pieces"]], kinds, byte_fallback=trainer["byte_fallback"])
    denorm = model["denormalizer_spec"] if "denormalizer_spec" in model else None
    decoder = SentencePieceDecoder(
        control=[p for p, k in zip(pieces, kinds) if k == "control"],
        byte_pieces=[p for p, k in zip(pieces, kinds) if k == "byte"],
        unk_token=pieces[unigram.unk_id],
        unk_surface=trainer["unk_surface"],
        add_dummy_prefix=spec["add_dummy_prefix"],
        remove_extra_whitespaces=spec["remove_extra_whitespaces"],
        denormalizer=_normalizer(denorm, spm.Message("TrainerSpec"), [])
        if denorm is not None and denorm["precompiled_charsmap"]
        else None,
    )
    unigram.source = model
    return {
        "model": unigram,
        "normalizers": [_normalizer(spec, trainer, user_defined)],
        "pre_tokenizer": Whole(),
        "decoder": decoder,
    }


def to_model(tok: Tokenizer) -> spm.Message:
    """The ModelProto of a tokenizer with SentencePiece's pipeline (a SentencePiece-flavored Unigram or BPE
    model, at most one SentencePiece normalizer, no pre-tokenizer); anything else is refused, naming it."""
    model = tok.model
    if not isinstance(model, Unigram) or model.flavor != "sentencepiece":
        raise SubtokError(f"save_sentencepiece needs a SentencePiece Unigram or BPE model, not {model.type}")
    if not isinstance(tok.pre_tokenizer, Whole):
        raise SubtokError(f"save_sentencepiece: the {tok.pre_tokenizer.type} pre-tokenizer has no SentencePiece form")
    if tok.added.tokens or tok.post_processor is not None or tok.truncation or tok.padding:
        raise SubtokError("save_sentencepiece: added tokens, post-processors, truncation and padding have no "
                          "SentencePiece form")  # fmt: skip
    others = [n for n in tok.normalizers if not isinstance(n, SentencePieceNormalizer)]
    if others or len(tok.normalizers) > 1:
        raise SubtokError("save_sentencepiece needs the pipeline's normalizer to be one SentencePiece normalizer")
    norm = (
        tok.normalizers[0]
        if tok.normalizers
        else SentencePieceNormalizer(add_dummy_prefix=False, remove_extra_whitespaces=False, escape_whitespaces=False)
    )
    source = getattr(model, "source", None) or spm.Message("ModelProto")  # the file it was read from
    pieces = []
    for p, score, kind in zip(model.vocab, model.scores, model.kinds):
        piece = spm.Message("SentencePiece", piece=p, score=score)
        if kind != "normal":
            piece["type"] = _TYPE_OF_KIND[kind]
        pieces.append(piece)
    old = source["pieces"]
    if len(old) == len(pieces) and all(
        (a["piece"], a["score"], a["type"]) == (b["piece"], b["score"], b["type"]) for a, b in zip(old, pieces)
    ):
        pieces = old  # as the file had them (a type written out even when normal)
    decoder = tok.decoder
    trainer = _updated(
        source["trainer_spec"],
        model_type=2 if isinstance(model, SentencePieceBPE) else 1,
        vocab_size=len(model.vocab),
        unk_id=model.unk_id,
        byte_fallback=model.byte_fallback,
        treat_whitespace_as_suffix=norm.treat_whitespace_as_suffix,
        unk_surface=decoder.unk_surface if isinstance(decoder, SentencePieceDecoder) else " \u2047 ",
    )
    spec = _updated(
        source["normalizer_spec"],
        precompiled_charsmap=norm.charsmap.blob if norm.charsmap is not None else b"",
        add_dummy_prefix=norm.add_dummy_prefix,
        remove_extra_whitespaces=norm.remove_extra_whitespaces,
        escape_whitespaces=norm.escape_whitespaces,
    )
    if "name" not in spec:
        spec["name"] = "identity" if norm.charsmap is None else "user_defined"
    user = {s.decode("utf-8") for s in norm.user_defined}
    if user != {p for p, k in zip(model.vocab, model.kinds) if k == "user_defined"}:
        raise SubtokError("save_sentencepiece: the normalizer's user-defined symbols must be the model's")
    out = spm.Message("ModelProto", pieces=pieces, trainer_spec=trainer, normalizer_spec=spec)
    out.unknown = list(source.unknown)
    if "self_test_data" in source and pieces is old:
        out["self_test_data"] = source["self_test_data"]
    denorm = decoder.denormalizer if isinstance(decoder, SentencePieceDecoder) else None
    if denorm is not None:
        out["denormalizer_spec"] = _updated(
            source["denormalizer_spec"],
            precompiled_charsmap=denorm.charsmap.blob if denorm.charsmap is not None else b"",
            add_dummy_prefix=denorm.add_dummy_prefix,
            remove_extra_whitespaces=denorm.remove_extra_whitespaces,
            escape_whitespaces=denorm.escape_whitespaces,
        )
    return out


def _updated(base: spm.Message, **values: Any) -> spm.Message:
    """A copy of ``base`` with ``values``: a field keeps its presence in the file when its value is
    unchanged, so a file read and written again keeps its bytes."""
    out = spm.Message(base.schema)
    out.values, out.unknown = dict(base.values), list(base.unknown)
    for name, value in values.items():
        if out[name] != value or name in base:
            out[name] = value
    return out


def save_sentencepiece(tok: Tokenizer, path: PathLike) -> None:
    """Write ``tok`` as a SentencePiece ``.model`` file (``to_model``)."""
    spm.write_model(to_model(tok), path)
