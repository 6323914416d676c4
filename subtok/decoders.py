"""Decoders: tokens back to text, the inverse of the model and pre-tokenizer.

``Tokenizer.decode`` cuts the ids into runs at special tokens, decodes each run with the model's decoder
and joins the runs (and the special tokens it keeps) with the decoder's ``separator``. Each model has one
decoder (``model.decoder()``); ``DECODERS`` maps each JSON "type" (ours and HF's) to its class.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional

from .registry import Registry
from .text import token_to_bytes

DECODERS = Registry("decoder")

# transformers' clean_up_tokenization: the spaces a WordPiece decode leaves before punctuation and clitics
CLEANUP = (
    (" .", "."),
    (" ?", "?"),
    (" !", "!"),
    (" ,", ","),
    (" ' ", "'"),
    (" n't", "n't"),
    (" 'm", "'m"),
    (" 's", "'s"),
    (" 've", "'ve"),
    (" 're", "'re"),
)


def decode_bytes(data: bytes) -> str:
    """UTF-8 bytes as text; a sequence that is not valid UTF-8 becomes U+FFFD."""
    try:
        return data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace")


def byte_fallback_token(b: int) -> str:
    """The token that stands for byte ``b`` in a byte-fallback vocabulary: "<0x41>"."""
    return f"<0x{b:02X}>"


def is_byte_fallback_token(token: str) -> bool:
    return len(token) == 6 and token.startswith("<0x") and token.endswith(">")


class Decoder:
    """Tokens (of one run between special tokens) -> text. ``separator`` joins runs and special tokens."""

    type = ""
    hf_type = ""
    separator = ""

    def decode(self, tokens: Sequence[str]) -> str:
        raise NotImplementedError

    def to_dict(self) -> dict:
        return {"type": self.type}

    def to_hf(self) -> Optional[dict]:
        return {"type": self.hf_type}

    @classmethod
    def from_dict(cls, d: dict) -> Decoder:
        return cls()

    @classmethod
    def from_hf(cls, d: dict) -> Decoder:
        return cls()


@DECODERS.register(types=("byte_level",), hf=("ByteLevel",))
class ByteLevel(Decoder):
    """Byte-level tokens (GPT-2's byte <-> unicode table) -> their bytes -> UTF-8 text."""

    type, hf_type = "byte_level", "ByteLevel"

    def decode(self, tokens: Sequence[str]) -> str:
        return decode_bytes(b"".join(token_to_bytes(t) for t in tokens))

    def to_hf(self) -> dict:
        return {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}


@DECODERS.register(types=("char_bpe",))
class CharBPE(Decoder):
    """Character-level BPE: runs of byte-fallback tokens ("<0xE4>") become their UTF-8 text; an
    ``end_of_word_suffix`` becomes a space (trailing spaces dropped); else a token without the
    ``continuing_subword_prefix`` starts a new word, after a space."""

    type = "char_bpe"

    def __init__(self, byte_fallback: bool = False, prefix: str = "", suffix: str = "") -> None:
        self.byte_fallback, self.prefix, self.suffix = byte_fallback, prefix, suffix

    def decode(self, tokens: Sequence[str]) -> str:
        pieces: list[str] = []
        pending = bytearray()
        for t in tokens:
            if self.byte_fallback and is_byte_fallback_token(t):
                pending.append(int(t[3:5], 16))
                continue
            if pending:
                pieces.append(decode_bytes(bytes(pending)))
                pending.clear()
            if self.suffix:
                pieces.append(t.replace(self.suffix, " "))
            elif self.prefix:
                pieces.append(t[len(self.prefix) :] if t.startswith(self.prefix) else (" " + t if pieces else t))
            else:
                pieces.append(t)
        if pending:
            pieces.append(decode_bytes(bytes(pending)))
        text = "".join(pieces)
        return text.rstrip(" ") if self.suffix else text

    def to_dict(self) -> dict:
        return {"type": self.type, "byte_fallback": self.byte_fallback, "prefix": self.prefix, "suffix": self.suffix}

    @classmethod
    def from_dict(cls, d: dict) -> CharBPE:
        return cls(bool(d.get("byte_fallback")), d.get("prefix") or "", d.get("suffix") or "")

    def to_hf(self) -> Optional[dict]:
        steps = [{"type": "ByteFallback"}] if self.byte_fallback else []
        if self.suffix:
            steps.append({"type": "BPEDecoder", "suffix": self.suffix})
        elif self.prefix:
            steps.append({"type": "WordPiece", "prefix": self.prefix, "cleanup": False})
        if not steps:
            return None
        return steps[0] if len(steps) == 1 else {"type": "Sequence", "decoders": steps}


@DECODERS.register(types=("wordpiece",), hf=("WordPiece",))
class WordPiece(Decoder):
    """WordPiece: a token with ``prefix`` ("##") is glued to the one before, others start a word after a
    space; ``cleanup`` then removes the spaces before punctuation and English clitics (transformers'
    clean_up_tokenization)."""

    type, hf_type, separator = "wordpiece", "WordPiece", " "

    def __init__(self, prefix: str = "##", cleanup: bool = True) -> None:
        self.prefix, self.cleanup = prefix, cleanup

    def decode(self, tokens: Sequence[str]) -> str:
        out = []
        for i, t in enumerate(tokens):
            if self.prefix and t.startswith(self.prefix) and i:
                out.append(t[len(self.prefix) :])
            else:
                out.append(" " + t if i else t)
        text = "".join(out)
        if self.cleanup:
            for a, b in CLEANUP:
                text = text.replace(a, b)
        return text

    def to_dict(self) -> dict:
        return {"type": self.type, "prefix": self.prefix, "cleanup": self.cleanup}

    def to_hf(self) -> dict:
        return {"type": self.hf_type, "prefix": self.prefix, "cleanup": self.cleanup}

    @classmethod
    def from_dict(cls, d: dict) -> WordPiece:
        return cls(d.get("prefix", "##"), bool(d.get("cleanup", True)))

    from_hf = from_dict


@DECODERS.register(types=("words",))
class Words(Decoder):
    """Whole words: joined by spaces."""

    type, separator = "words", " "

    def decode(self, tokens: Sequence[str]) -> str:
        return " ".join(tokens)

    def to_hf(self) -> None:
        return None
