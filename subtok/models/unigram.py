"""The Unigram language-model tokenizer (Kudo 2018), as SentencePiece defines it: each piece has a
log-probability, and a text's segmentation is the most probable one (Viterbi), the k most probable, or one
drawn from the lattice (subword regularization). The lattice and its loops are in ``unigram_core``.

Piece kinds are SentencePiece's: normal pieces and user-defined ones match text (user-defined ones almost
always win: SentencePiece scores them ``length * max_score - 0.1``); the unknown piece stands for
characters no piece covers (consecutive ones fused into one, or, with ``byte_fallback``, spelled as byte
pieces "<0xE3>"); control pieces (<s>, </s>) and byte pieces never match text; unused ones are kept but
never produced.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from operator import sub
from typing import Any, Optional

from .. import _backend
from ..decoders import Decoder, SentencePieceDecoder, byte_fallback_token
from ..encoding import TextEncoder, TokenSpans
from ..errors import SubtokError, TokenizerFileError
from ..normalizers import SentencePieceNormalizer, no_surrogates
from ..pre_tokenizers import PreTokenizer, Whole
from ..vocab import Vocab
from . import unigram_core
from .base import encode_each

KINDS = ("normal", "unknown", "control", "user_defined", "unused", "byte")

Path = list[tuple[int, int, int]]  # (start, end, id) per piece, id -1 for an unknown character


def _is_byte_name(piece: str) -> bool:
    return (
        len(piece) == 6
        and piece.startswith("<0x")
        and piece.endswith(">")
        and all(c in "0123456789ABCDEF" for c in piece[3:5])
    )


def _byte_value(piece: str) -> int:
    """The byte a byte piece ("<0xE3>") stands for."""
    if len(piece) != 6 or not piece.startswith("<0x") or not piece.endswith(">"):
        raise SubtokError(f"byte piece {piece!r} is not of the form <0xHH>")
    try:
        return int(piece[3:5], 16)
    except ValueError:
        raise SubtokError(f"byte piece {piece!r} is not of the form <0xHH>") from None


FLAVORS = ("sentencepiece", "hf")


class Unigram:
    """Pieces with scores (log-probabilities) and kinds; ``unk_id`` is the unknown piece's id.

    ``flavor`` says whose rules the model follows, for the ids to be that library's: "sentencepiece" (the
    default: float32 path sums, piece kinds as above) or "hf" (HF tokenizers' Unigram: every piece matches
    text, the unknown and byte pieces too; float64 sums; the unknown score is the lowest of all scores
    minus 10; with ``byte_fallback`` a fused unknown run becomes its bytes, each spanning the whole run)."""

    type = "unigram"

    def __init__(
        self,
        pieces: Sequence[str],
        scores: Sequence[float],
        kinds: Optional[Sequence[str]] = None,
        *,
        unk_id: Optional[int] = None,
        byte_fallback: bool = False,
        flavor: str = "sentencepiece",
    ) -> None:
        if flavor not in FLAVORS:
            raise SubtokError(f"unknown Unigram flavor {flavor!r}; flavors: {', '.join(FLAVORS)}")
        pieces = list(pieces)
        kinds = list(kinds) if kinds is not None else ["normal"] * len(pieces)
        if not (len(pieces) == len(scores) == len(kinds)):
            raise SubtokError(f"{len(pieces)} pieces, {len(scores)} scores and {len(kinds)} kinds")
        bad = [k for k in kinds if k not in KINDS]
        if bad:
            raise SubtokError(f"unknown piece kind {bad[0]!r}; kinds: {', '.join(KINDS)}")
        unknown = [i for i, k in enumerate(kinds) if k == "unknown"]
        if unk_id is None:
            if len(unknown) != 1:
                raise SubtokError(f"a Unigram model needs exactly one unknown piece, not {len(unknown)}")
            unk_id = unknown[0]
        if not 0 <= unk_id < len(pieces):
            raise SubtokError(f"unk_id {unk_id} is outside the {len(pieces)} pieces")
        kinds[unk_id] = "unknown"
        if any(not p for p in pieces):
            raise SubtokError("a Unigram piece is empty")
        if flavor == "hf" and set(kinds) - {"normal", "unknown"}:
            raise SubtokError("an HF-flavored Unigram model has only normal pieces and the unknown one")
        self.flavor = flavor
        hf = flavor == "hf"
        self.vocab = Vocab(pieces, unk=pieces[unk_id])
        self.scores = [float(s) if hf else unigram_core.f32(float(s)) for s in scores]
        self.kinds = kinds
        self.unk_id = unk_id
        self.byte_fallback = bool(byte_fallback)
        self.source: Any = None  # the SentencePiece ModelProto it was read from, if any (kept for writing)
        self.byte_ids: list[int] = []
        byte_kind = "normal" if hf else "byte"  # HF: byte pieces are ordinary pieces with these names
        self._byte_values = {
            i: _byte_value(p) for i, (p, k) in enumerate(zip(pieces, kinds)) if k == byte_kind and _is_byte_name(p)
        }
        if self.byte_fallback:
            ids = self.vocab.word_to_id
            missing = [b for b in range(256) if kinds[ids.get(byte_fallback_token(b), unk_id)] != byte_kind]
            if missing:
                raise SubtokError(
                    f"byte_fallback needs the 256 byte pieces; {byte_fallback_token(missing[0])} is not one"
                )
            self.byte_ids = [ids[byte_fallback_token(b)] for b in range(256)]
        self._text_encoder: Optional[TextEncoder] = None
        self._text_encoder_key: Any = None
        self._matchable = [hf or k in ("normal", "user_defined") for k in kinds]  # pieces the text can spell
        self._bpe_unused: Optional[list[bool]] = None  # (SentencePieceBPE's encoder mode)
        self.table = unigram_core.PieceTable(
            pieces, self.scores, self._matchable, [k == "user_defined" for k in kinds], unk_id, float32=not hf
        )
        self._word_core: Any = None
        self._word_core_backend = ""

    # -- segmentations -----------------------------------------------------------------------------------
    def viterbi(self, text: str) -> Path:
        """The best segmentation of ``text`` (SentencePiece's, bit for bit)."""
        return unigram_core.viterbi(self.table, text)

    def nbest(self, text: str, k: int) -> list[tuple[list[int], float]]:
        """The ``k`` best segmentations as (ids, score), best first."""
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise SubtokError(f"nbest takes a number of segmentations of at least 1, not {k!r}")
        return [(self.path_ids(path, text), score) for path, score in unigram_core.nbest(self.table, text, k)]

    def sample(self, text: str, alpha: float, nbest_size: int, rng: random.Random) -> Path:
        """A segmentation drawn with probability proportional to P(segmentation)^alpha: from the whole
        lattice when ``nbest_size`` is negative, from the ``nbest_size`` best when it is above 1, the best
        one otherwise (SentencePiece's SampleEncode)."""
        if nbest_size < 0:
            return unigram_core.sample(self.table, text, alpha, rng)
        if nbest_size <= 1:
            return self.viterbi(text)
        best = unigram_core.nbest(self.table, text, nbest_size)
        weights = unigram_core.softmax([alpha * score for _, score in best])
        return best[rng.choices(range(len(best)), weights)[0]][0]

    def path_ids(self, path: Path, text: str) -> list[int]:
        """The ids of a segmentation: unknown characters fused into one unknown id, or spelled as byte
        pieces with ``byte_fallback``."""
        if self.flavor == "hf":
            return [i for i, _ in self._hf_runs(path, text)]
        ids: list[int] = []
        prev_unk = False
        unk = self.unk_id
        for start, end, i in path:
            is_unk = i < 0 or i == unk
            if is_unk and self.byte_fallback:
                ids += [self.byte_ids[b] for b in text[start:end].encode("utf-8", "surrogatepass")]
            elif not (is_unk and prev_unk):
                ids.append(unk if is_unk else i)
            prev_unk = is_unk
        return ids

    def path_spans(self, path: Path, text: str) -> list[tuple[int, int]]:
        """The character span of each id of ``path_ids``: a fused unknown id spans its characters; with
        byte fallback, a character's byte pieces are empty at its start but the last, which spans it
        (SentencePiece's), or, in the HF flavor, every byte of a fused unknown run spans the whole run."""
        if self.flavor == "hf":
            return [span for _, span in self._hf_runs(path, text)]
        spans: list[tuple[int, int]] = []
        prev_unk = False
        for start, end, i in path:
            is_unk = i < 0 or i == self.unk_id
            if is_unk and self.byte_fallback:
                n = len(text[start:end].encode("utf-8", "surrogatepass"))
                spans += [(start, start)] * (n - 1) + [(start, end)]
            elif is_unk and prev_unk:
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((start, end))
            prev_unk = is_unk
        return spans

    def _hf_runs(self, path: Path, text: str) -> list[tuple[int, tuple[int, int]]]:
        """(id, span) per token as HF's Unigram gives them: a run of unknown nodes (characters no piece
        covers, or the unknown piece matched in the text) is one string, its id if the vocabulary has it,
        else its bytes' pieces with ``byte_fallback`` (each spanning the run), else the unknown id."""
        out: list[tuple[int, tuple[int, int]]] = []
        ids = self.vocab.word_to_id
        k = 0
        while k < len(path):
            start, end, i = path[k]
            if not (i < 0 or i == self.unk_id):
                out.append((i, (start, end)))
                k += 1
                continue
            while k + 1 < len(path) and (path[k + 1][2] < 0 or path[k + 1][2] == self.unk_id):
                k += 1
            end = path[k][1]
            run = text[start:end]
            if run in ids:
                out.append((ids[run], (start, end)))
            elif self.byte_fallback:
                out += [(self.byte_ids[b], (start, end)) for b in run.encode("utf-8", "surrogatepass")]
            else:
                out.append((self.unk_id, (start, end)))
            k += 1
        return out

    # -- the Model protocol ------------------------------------------------------------------------------
    def encode_word(self, word: str) -> list[int]:
        return self.path_ids(self.viterbi(word), word)

    def encode_words(self, words: list[str]) -> tuple[list[int], list[int]]:
        """``encode_word`` of each word, in one call of the whole-text encoder with no normalization (its
        native twin when built); words with lone surrogates, which that encoder reads as U+FFFD, one by one
        (and in the HF flavor words that spell the unknown piece)."""
        unk = self.vocab.id_to_word[self.unk_id]  # (HF: the unknown piece in the text joins its run)
        joined = "\n".join(words)  # one check for all: neither property can span the separator
        has_unk = self.flavor == "hf" and (unk in joined if "\n" not in unk else any(unk in w for w in words))
        if has_unk or not (joined.isascii() or no_surrogates(joined)):
            return encode_each(self.encode_word, words)
        flat_ids, starts = self._word_encoder().encode_batch_flat(words, 1)  # int32 ids, int64 row starts
        rows = memoryview(starts).cast("q").tolist()
        return memoryview(flat_ids).cast("i").tolist(), list(map(sub, rows[1:], rows))

    def _word_encoder(self) -> Any:
        """The SentencePieceEncoder of this model with no normalization (words pass as they are)."""
        if self._word_core_backend != _backend.name:
            self._word_core = self._encoder_core(None, (False, False, False, False), [])
            self._word_core_backend = _backend.name
        return self._word_core

    def _encoder_core(self, charsmap: Optional[bytes], flags: tuple, user_defined: list[str]) -> Any:
        return _backend.pick(unigram_core.SentencePieceEncoder)(
            charsmap,
            flags,
            user_defined,
            list(self.vocab),
            self.scores,
            self._matchable,
            [k == "user_defined" for k in self.kinds],
            self.unk_id,
            self.byte_ids,
            self.flavor != "hf",
            self._bpe_unused,
        )

    def sample_word(self, word: str, alpha: float, nbest_size: int, rng: random.Random) -> list[int]:
        """The ids of a segmentation of ``word`` drawn as ``sample`` draws it."""
        return self.path_ids(self.sample(word, alpha, nbest_size, rng), word)

    def word_offsets(self, word: str, ids: Sequence[int]) -> list[tuple[int, int]]:
        """Spans within ``word`` of its tokens ``ids`` (any segmentation of it: the best, or a drawn one),
        as ``path_spans`` gives them: a piece spans its text, a character's byte pieces are empty at its
        start but the last, and an unknown token spans the shortest run of characters before the next
        token's text (should that not spell the word, the spans are the best segmentation's)."""
        spans = self._spans_from_ids(word, ids)
        return spans if spans is not None else self.path_spans(self.viterbi(word), word)

    def _spans_from_ids(self, word: str, ids: Sequence[int]) -> Optional[list[tuple[int, int]]]:
        pieces, kinds, byte_of = self.vocab.id_to_word, self.kinds, self._byte_values
        spans: list[tuple[int, int]] = []
        pos, k, n = 0, 0, len(ids)
        while k < n:
            i = ids[k]
            kind = kinds[i] if 0 <= i < len(kinds) else None
            if i in byte_of and not (kind == "normal" and word.startswith(pieces[i], pos)):
                data = bytearray()  # a run of byte pieces: the bytes of its characters
                while k < n and ids[k] in byte_of:
                    data.append(byte_of[ids[k]])
                    k += 1
                try:
                    chars = data.decode("utf-8", "surrogatepass")
                except UnicodeDecodeError:
                    return None
                if self.flavor == "hf":  # every byte spans the whole run
                    spans += [(pos, pos + len(chars))] * len(data)
                    pos += len(chars)
                    continue
                for ch in chars:
                    size = len(ch.encode("utf-8", "surrogatepass"))
                    spans += [(pos, pos)] * (size - 1) + [(pos, pos + 1)]
                    pos += 1
                continue
            if kind == "unknown":
                after = pieces[ids[k + 1]] if k + 1 < n and kinds[ids[k + 1]] in ("normal", "user_defined") else None
                end = pos + 1
                while end < len(word) and (after is None or not word.startswith(after, end)):
                    end += 1
                spans.append((pos, end if after is not None else len(word)))
                pos = spans[-1][1]
            elif kind in ("normal", "user_defined") and word.startswith(pieces[i], pos):
                spans.append((pos, pos + len(pieces[i])))
                pos += len(pieces[i])
            else:
                return None
            k += 1
        return spans if pos == len(word) else None

    def text_encoder(self, normalizers: Sequence, pre_tokenizer: PreTokenizer, specials) -> Optional[TextEncoder]:
        """SentencePiece's pipeline (its normalizer, no pre-tokenizer, no added tokens) as one encoder
        of whole texts (``unigram_core.SentencePieceEncoder`` or its native twin); others have none."""
        if specials or not isinstance(pre_tokenizer, Whole) or len(normalizers) != 1:
            return None
        norm = normalizers[0]
        if not isinstance(norm, SentencePieceNormalizer):
            return None
        key = (_backend.name, id(norm))
        if self._text_encoder_key != key:
            flags = (norm.add_dummy_prefix, norm.remove_extra_whitespaces, norm.escape_whitespaces,
                     norm.treat_whitespace_as_suffix)  # fmt: skip
            charsmap = norm.charsmap.blob if norm.charsmap is not None else None
            core = self._encoder_core(charsmap, flags, [s.decode("utf-8") for s in norm.user_defined])
            self._text_encoder = TextEncoder(core, self, TokenSpans)
            self._text_encoder_key = key
        return self._text_encoder

    def default_pre_tokenizer(self) -> PreTokenizer:
        return Whole()

    def decoder(self) -> Decoder:
        return SentencePieceDecoder(
            control=[p for p, k in zip(self.vocab, self.kinds) if k == "control"],
            byte_pieces=[p for p, k in zip(self.vocab, self.kinds) if k == "byte"],
            unk_token=self.vocab.id_to_word[self.unk_id],
        )

    def to_dict(self) -> dict:
        return {
            "type": self.type,
            "unk_id": self.unk_id,
            "byte_fallback": self.byte_fallback,
            "flavor": self.flavor,
            "pieces": [[p, s, k] for p, s, k in zip(self.vocab, self.scores, self.kinds)],
        }

    @classmethod
    def from_dict(cls, d: dict) -> Unigram:
        pieces = d.get("pieces")
        if not isinstance(pieces, list) or not all(
            isinstance(p, list) and len(p) == 3 and isinstance(p[0], str) and isinstance(p[1], (int, float))
            for p in pieces
        ):
            raise TokenizerFileError("model.pieces must be a list of [piece, score, kind]")
        unk_id = d.get("unk_id")
        if type(unk_id) is not int:
            raise TokenizerFileError("model.unk_id must be an integer")
        return cls(
            [p[0] for p in pieces],
            [p[1] for p in pieces],
            [p[2] for p in pieces],
            unk_id=unk_id,
            byte_fallback=bool(d.get("byte_fallback", False)),
            flavor=d.get("flavor", "sentencepiece"),
        )
