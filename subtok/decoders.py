"""Decoders: tokens back to text, the inverse of the model and pre-tokenizer.

Two kinds. Our own tokenizers' decoders ("byte_level", "char_bpe", "wordpiece", "words", one per model,
``model.decoder()``) decode each run of tokens between special tokens, and ``Tokenizer.decode`` joins the
runs (and the special tokens it keeps) with the decoder's ``separator``. HF's decoders (ByteLevel,
WordPiece, Metaspace, BPEDecoder, ByteFallback, Fuse, Strip, Replace, CTC, Sequence) follow HF: each
step turns the list of tokens into a new list (``decode_chain``), and the text is the last list joined.
``DECODERS`` maps each JSON "type" (ours and HF's) to its class.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional

from . import hangul
from .errors import SubtokError
from .normalizers import SentencePieceNormalizer
from .registry import ByteLevelOptions, Registry, require
from .text import pattern_regex, token_to_bytes, unicode_to_bytes

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
    """Tokens -> text. Ours decode one run between special tokens (``per_run``), and ``separator`` joins
    the runs and special tokens."""

    type = ""
    hf_type = ""
    separator = ""
    per_run = True

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


@DECODERS.register(types=("byte_level",))
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
        require("decoder", byte_fallback=(byte_fallback, "bool"), prefix=(prefix, "str"), suffix=(suffix, "str"))
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


@DECODERS.register(types=("wordpiece",))
class WordPiece(Decoder):
    """WordPiece: a token with ``prefix`` ("##") is glued to the one before, others start a word after a
    space; ``cleanup`` then removes the spaces before punctuation and English clitics (transformers'
    clean_up_tokenization)."""

    type, hf_type, separator = "wordpiece", "WordPiece", " "

    def __init__(self, prefix: str = "##", cleanup: bool = True) -> None:
        require("WordPiece decoder", prefix=(prefix, "str"), cleanup=(cleanup, "bool"))
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


@DECODERS.register(types=("words",))
class Words(Decoder):
    """Whole words: joined by spaces."""

    type, separator = "words", " "

    def decode(self, tokens: Sequence[str]) -> str:
        return " ".join(tokens)

    def to_hf(self) -> None:
        return None


# ---------------------------------------------------------------------------------------------------------
# HF's decoders: each step maps the list of tokens to a new one
# ---------------------------------------------------------------------------------------------------------
class ChainDecoder(Decoder):
    """An HF decoder step; ``decode`` runs it alone and joins what it leaves."""

    per_run = False

    def decode_chain(self, tokens: list[str]) -> list[str]:
        raise NotImplementedError

    def decode(self, tokens: Sequence[str]) -> str:
        return "".join(self.decode_chain(list(tokens)))

    def to_hf(self) -> dict:
        return {**self.to_dict(), "type": self.hf_type}

    @classmethod
    def from_hf(cls, d: dict) -> Decoder:
        return cls.from_dict(d)


@DECODERS.register(types=("ByteLevel",), hf=("ByteLevel",))
class ByteLevelChain(ByteLevelOptions, ChainDecoder):
    """The tokens' bytes (a token that is not made of byte-level characters, an added token, as its UTF-8)
    decoded as one text, invalid UTF-8 as U+FFFD."""

    def decode_chain(self, tokens: list[str]) -> list[str]:
        table = unicode_to_bytes()
        data = bytearray()
        for t in tokens:
            if all(c in table for c in t):
                data.extend(table[c] for c in t)
            else:
                data.extend(t.encode("utf-8"))
        return [bytes(data).decode("utf-8", "replace")]


# HF's cleanup, applied to each token (transformers' list, applied to the whole text, lacks " do not")
HF_CLEANUP = (*CLEANUP[:7], (" do not", " don't"), *CLEANUP[7:])


@DECODERS.register(types=("WordPiece",), hf=("WordPiece",))
class WordPieceChain(ChainDecoder):
    """A token with ``prefix`` glued to the one before, others after a space; with ``cleanup``, HF's
    clean-up of spaces before punctuation and clitics, token by token."""

    hf_fields = ("prefix", "cleanup")

    type = hf_type = "WordPiece"

    def __init__(self, prefix: str = "##", cleanup: bool = True) -> None:
        require("WordPiece decoder", prefix=(prefix, "str"), cleanup=(cleanup, "bool"))
        self.prefix, self.cleanup = prefix, cleanup

    def decode_chain(self, tokens: list[str]) -> list[str]:
        out = []
        for i, t in enumerate(tokens):
            if i:
                t = t[len(self.prefix) :] if t.startswith(self.prefix) else " " + t
            if self.cleanup:
                for a, b in HF_CLEANUP:
                    t = t.replace(a, b)
            out.append(t)
        return out

    def to_dict(self) -> dict:
        return {"type": self.type, "prefix": self.prefix, "cleanup": self.cleanup}

    @classmethod
    def from_dict(cls, d: dict) -> WordPieceChain:
        return cls(d.get("prefix", "##"), d.get("cleanup", True))


@DECODERS.register(types=("Metaspace",), hf=("Metaspace",))
class Metaspace(ChainDecoder):
    """``replacement`` (▁) back to spaces; the first token's is dropped unless ``prepend_scheme`` is never."""

    hf_fields = ("replacement", "prepend_scheme", "split", "add_prefix_space", "str_rep")

    type = hf_type = "Metaspace"

    def __init__(self, replacement: str = "▁", prepend_scheme: str = "always", split: bool = True) -> None:
        self.replacement, self.prepend_scheme, self.split = replacement, prepend_scheme, split

    def decode_chain(self, tokens: list[str]) -> list[str]:
        drop_first = self.prepend_scheme != "never"
        return [
            "".join(("" if i == 0 and drop_first else " ") if c == self.replacement else c for c in t)
            for i, t in enumerate(tokens)
        ]

    def to_dict(self) -> dict:
        return {
            "type": self.type,
            "replacement": self.replacement,
            "prepend_scheme": self.prepend_scheme,
            "split": self.split,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Metaspace:
        scheme = d.get("prepend_scheme", "always")
        if d.get("add_prefix_space") is False:
            scheme = "never"
        return cls(d.get("replacement", "▁"), scheme, d.get("split", True))


@DECODERS.register(types=("BPEDecoder",), hf=("BPEDecoder",))
class BPEDecoder(ChainDecoder):
    """The end-of-word ``suffix`` becomes a space, and nothing on the last token."""

    hf_fields = ("suffix",)

    type = hf_type = "BPEDecoder"

    def __init__(self, suffix: str = "</w>") -> None:
        require("BPEDecoder", suffix=(suffix, "str"))
        self.suffix = suffix

    def decode_chain(self, tokens: list[str]) -> list[str]:
        last = len(tokens) - 1
        return [t.replace(self.suffix, "" if i == last else " ") for i, t in enumerate(tokens)]

    def to_dict(self) -> dict:
        return {"type": self.type, "suffix": self.suffix}

    @classmethod
    def from_dict(cls, d: dict) -> BPEDecoder:
        return cls(d.get("suffix", "</w>"))


@DECODERS.register(types=("ByteFallback",), hf=("ByteFallback",))
class ByteFallback(ChainDecoder):
    """Runs of byte tokens ("<0xE4>") become their UTF-8 text; a run that is not valid UTF-8, one U+FFFD
    per byte."""

    type = hf_type = "ByteFallback"

    def decode_chain(self, tokens: list[str]) -> list[str]:
        out: list[str] = []
        pending = bytearray()

        def flush() -> None:
            if pending:
                try:
                    out.append(bytes(pending).decode("utf-8"))
                except UnicodeDecodeError:
                    out.extend(["\ufffd"] * len(pending))
                pending.clear()

        for t in tokens:
            value = _byte_value(t)
            if value is None:
                flush()
                out.append(t)
            else:
                pending.append(value)
        flush()
        return out


def _byte_value(token: str) -> Optional[int]:
    if is_byte_fallback_token(token):
        try:
            return int(token[3:5], 16)
        except ValueError:
            return None
    return None


@DECODERS.register(types=("Fuse",), hf=("Fuse",))
class Fuse(ChainDecoder):
    """All tokens joined into one."""

    type = hf_type = "Fuse"

    def decode_chain(self, tokens: list[str]) -> list[str]:
        return ["".join(tokens)]


@DECODERS.register(types=("Strip",), hf=("Strip",))
class Strip(ChainDecoder):
    """Up to ``start`` leading and ``stop`` trailing ``content`` characters removed from each token."""

    hf_fields = ("content", "start", "stop")

    type = hf_type = "Strip"

    def __init__(self, content: str = " ", start: int = 0, stop: int = 0) -> None:
        if not isinstance(content, str) or len(content) != 1:
            raise SubtokError(f"Strip decoder: content must be one character, not {content!r}")
        self.content, self.start, self.stop = content, int(start), int(stop)

    def decode_chain(self, tokens: list[str]) -> list[str]:
        out = []
        for t in tokens:
            a = 0
            while a < min(self.start, len(t)) and t[a] == self.content:
                a += 1
            b = len(t)
            for _ in range(self.stop):
                if b > a and t[b - 1] == self.content:
                    b -= 1
                else:
                    break
            out.append(t[a:b])
        return out

    def to_dict(self) -> dict:
        return {"type": self.type, "content": self.content, "start": self.start, "stop": self.stop}

    @classmethod
    def from_dict(cls, d: dict) -> Strip:
        return cls(d.get("content", " "), d.get("start", 0), d.get("stop", 0))


@DECODERS.register(types=("Replace",), hf=("Replace",))
class Replace(ChainDecoder):
    """Every match of a pattern in each token replaced by ``content``."""

    hf_fields = ("pattern", "content")

    type = hf_type = "Replace"

    def __init__(self, pattern: dict, content: str) -> None:
        self.pattern, self.content = pattern, content
        self.regex = pattern_regex(pattern, "Replace decoder")

    def decode_chain(self, tokens: list[str]) -> list[str]:
        return [self.regex.sub(lambda m: self.content, t) for t in tokens]

    def to_dict(self) -> dict:
        return {"type": self.type, "pattern": self.pattern, "content": self.content}

    @classmethod
    def from_dict(cls, d: dict) -> Replace:
        return cls(d.get("pattern"), d.get("content"))


@DECODERS.register(types=("CTC",), hf=("CTC",))
class CTC(ChainDecoder):
    """Connectionist temporal classification: repeats collapsed, ``pad_token`` removed, and with
    ``cleanup`` the word delimiter made a space."""

    hf_fields = ("pad_token", "word_delimiter_token", "cleanup")

    type = hf_type = "CTC"

    def __init__(self, pad_token: str = "<pad>", word_delimiter_token: str = "|", cleanup: bool = True) -> None:
        self.pad_token, self.word_delimiter_token, self.cleanup = pad_token, word_delimiter_token, bool(cleanup)

    def decode_chain(self, tokens: list[str]) -> list[str]:
        out = []
        for i, t in enumerate(tokens):
            if i and t == tokens[i - 1]:
                continue
            t = t.replace(self.pad_token, "")
            if self.cleanup:
                for a, b in HF_CLEANUP:
                    t = t.replace(a, b)
                t = t.replace(self.word_delimiter_token, " ")
            if t:
                out.append(t)
        return out

    def to_dict(self) -> dict:
        return {
            "type": self.type,
            "pad_token": self.pad_token,
            "word_delimiter_token": self.word_delimiter_token,
            "cleanup": self.cleanup,
        }

    @classmethod
    def from_dict(cls, d: dict) -> CTC:
        return cls(d.get("pad_token", "<pad>"), d.get("word_delimiter_token", "|"), d.get("cleanup", True))


@DECODERS.register(types=("Sequence",), hf=("Sequence",))
class SequenceDecoder(ChainDecoder):
    """Several decoders, each taking the tokens the one before left."""

    hf_fields = ("decoders",)

    type = hf_type = "Sequence"

    def __init__(self, decoders: Sequence[ChainDecoder]) -> None:
        self.decoders = list(decoders)

    def decode_chain(self, tokens: list[str]) -> list[str]:
        for d in self.decoders:
            tokens = d.decode_chain(tokens)
        return tokens

    def to_dict(self) -> dict:
        return {"type": self.type, "decoders": [d.to_dict() for d in self.decoders]}

    def to_hf(self) -> dict:
        return {"type": self.type, "decoders": [d.to_hf() for d in self.decoders]}

    @classmethod
    def from_dict(cls, d: dict) -> SequenceDecoder:
        return cls([DECODERS.from_dict(x) for x in _decoder_steps(d)])

    @classmethod
    def from_hf(cls, d: dict) -> SequenceDecoder:
        return cls([DECODERS.from_hf(x) for x in _decoder_steps(d)])


def _decoder_steps(d: dict) -> list:
    steps = d.get("decoders")
    if not isinstance(steps, list):
        raise SubtokError("decoder Sequence: 'decoders' must be a list")
    return steps


@DECODERS.register(types=("spaces",))
class Spaces(ChainDecoder):
    """No decoder at all, as HF decodes without one: the tokens joined by spaces."""

    type = "spaces"

    def decode_chain(self, tokens: list[str]) -> list[str]:
        return [" ".join(tokens)]

    def to_hf(self) -> None:
        return None


@DECODERS.register(types=("hangul_jamo",))
class Recomposed(Decoder):
    """Another decoder's text with conjoining jamo composed back into Hangul syllables: the inverse of the
    ``hangul_jamo`` normalizer (``subtok.hangul.compose``), so a jamo-level tokenizer decodes to the text
    it was given. subtok's own; HF has no such decoder."""

    type = "hangul_jamo"

    def __init__(self, inner: Decoder) -> None:
        self.inner = inner
        self.per_run = inner.per_run
        self.separator = inner.separator

    def decode(self, tokens: Sequence[str]) -> str:
        return hangul.compose(self.inner.decode(tokens))

    def to_dict(self) -> dict:
        return {"type": self.type, "decoder": self.inner.to_dict()}

    def to_hf(self) -> Optional[dict]:
        raise SubtokError("the hangul_jamo decoder is subtok's own: HF tokenizers has no such step")

    @classmethod
    def from_dict(cls, d: dict) -> Recomposed:
        inner = d.get("decoder")
        if not isinstance(inner, dict):
            raise SubtokError("hangul_jamo decoder: 'decoder' must be a decoder object")
        return cls(DECODERS.from_dict(inner))


def sentencepiece_bytes(data: bytes) -> str:
    """SentencePiece's decoding of a run of byte pieces: each valid UTF-8 character as itself, each other
    byte as one U+FFFD."""
    out = []
    pos = 0
    while pos < len(data):
        lead = data[pos]
        size = 1 if lead < 0x80 else 2 if lead >> 5 == 6 else 3 if lead >> 4 == 14 else 4 if lead >> 3 == 30 else 0
        try:
            out.append(data[pos : pos + size].decode("utf-8") if size else "\ufffd")
            pos += size or 1
        except UnicodeDecodeError:
            out.append("\ufffd")
            pos += 1
    return "".join(out)


@DECODERS.register(types=("SentencePiece",))
class SentencePieceDecoder(Decoder):
    """SentencePiece's decoder (``SentencePieceProcessor::Decode``): control pieces vanish, the unknown
    piece becomes ``unk_surface``, runs of byte pieces become their text, U+2581 becomes a space, and the
    first piece loses a leading U+2581 when the normalizer added one (``add_dummy_prefix``) or removes
    extra whitespace (then every piece does until some text is out); ``denormalizer``, if any, is applied
    to the text last."""

    type = "SentencePiece"
    per_run = False

    def __init__(
        self,
        control: Sequence[str] = (),
        byte_pieces: Sequence[str] = (),
        unk_token: str = "<unk>",
        unk_surface: str = " \u2047 ",
        add_dummy_prefix: bool = True,
        remove_extra_whitespaces: bool = True,
        denormalizer: Optional[SentencePieceNormalizer] = None,
    ) -> None:
        self.control = list(control)
        self.byte_pieces = list(byte_pieces)
        self._control, self._bytes = set(self.control), set(self.byte_pieces)
        self.unk_token, self.unk_surface = unk_token, unk_surface
        self.add_dummy_prefix, self.remove_extra_whitespaces = bool(add_dummy_prefix), bool(remove_extra_whitespaces)
        self.denormalizer = denormalizer

    def decode(self, tokens: Sequence[str]) -> str:
        text: list[str] = []
        pending = bytearray()
        at_start, bos_ws_seen = True, False
        strip = self.add_dummy_prefix or self.remove_extra_whitespaces
        for token in tokens:
            if token in self._bytes:
                pending.append(int(token[3:5], 16))
                continue
            if pending:
                text.append(sentencepiece_bytes(bytes(pending)))
                pending.clear()
            if bos_ws_seen or (at_start and any(text)):
                at_start = False
            bos_ws_seen = False
            if token in self._control:
                continue
            if token == self.unk_token:
                text.append(self.unk_surface)
                continue
            if at_start and strip and token.startswith("\u2581"):
                token = token[1:]
                bos_ws_seen = not self.remove_extra_whitespaces
            text.append(token.replace("\u2581", " "))
        if pending:
            text.append(sentencepiece_bytes(bytes(pending)))
        out = "".join(text)
        return self.denormalizer.normalize_str(out) if self.denormalizer is not None else out

    def to_dict(self) -> dict:
        return {
            "type": self.type,
            "control": self.control,
            "byte_pieces": self.byte_pieces,
            "unk_token": self.unk_token,
            "unk_surface": self.unk_surface,
            "add_dummy_prefix": self.add_dummy_prefix,
            "remove_extra_whitespaces": self.remove_extra_whitespaces,
            "denormalizer": self.denormalizer.to_dict() if self.denormalizer is not None else None,
        }

    def to_hf(self) -> Optional[dict]:
        raise SubtokError("SentencePiece's decoder has no HF equivalent; save with save_sentencepiece")

    @classmethod
    def from_dict(cls, d: dict) -> SentencePieceDecoder:
        denorm = d.get("denormalizer")
        return cls(
            d.get("control", []),
            d.get("byte_pieces", []),
            d.get("unk_token", "<unk>"),
            d.get("unk_surface", " \u2047 "),
            d.get("add_dummy_prefix", True),
            d.get("remove_extra_whitespaces", True),
            SentencePieceNormalizer.from_dict(denorm) if denorm is not None else None,
        )
