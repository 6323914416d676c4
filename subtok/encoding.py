"""The result of encoding one text: :class:`Encoding`, and the alignments that give each token its span of
the original text.

Ids come first and cost only themselves; tokens and offsets are computed on first use, from the record
the encoder kept and the kind of :class:`Alignment` that reads it, one kind per way of encoding:

- :class:`Pieces`: each piece of the text between added tokens (a ``Normalized`` that knows its span of
  the original text), its words as spans of it and their numbers of ids; a word's tokens get their spans
  from the model (``model.word_offsets``). :class:`SpelledPieces` is the same in byte-level spelling.
- :class:`TextWords`: (start, end, number of ids) per word of the whole text, as byte-level BPE's whole-text
  encoder returns them (int32 bytes).
- :class:`TokenSpans`: (start, end) per token, as BERT's whole-text encoder returns them (int32 bytes).
- :class:`Joined`: encodings put together by a post-processor, with its added tokens at (0, 0).
- :class:`Framed`: the encodings of a batch that a post-processor put its single template around in place
  (an instance for the batch, holding the template's masks and the encodings' own kind).

A kind is a class with static methods (Framed: an object with those methods); the record is the encoder's
own output, kept as it came, so a batch of a million short texts builds no object per text beyond its
Encoding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Optional

import numpy as np

from .text import Normalized

if TYPE_CHECKING:
    from .models import Model
    from .vocab import Vocab

Span = tuple[int, int]
# per piece of the text: the piece, its words as spans of its text, and their numbers of ids (None, None for
# an added token)
PieceRecord = list[tuple[Normalized, Optional[list[Span]], Optional[list[int]]]]


class Alignment:
    """A kind of record and how it maps an encoding's tokens back to its text."""

    @staticmethod
    def offsets(record: Any, model: Model, ids: Sequence[int], text: str) -> list[Span]:
        raise NotImplementedError

    @staticmethod
    def tokens(record: Any, vocab: Vocab, ids: Sequence[int], text: str) -> list[str]:
        """The token strings: the vocabulary's, unless the record knows better (HF spells an added token
        as the text it matched)."""
        id_to_word = vocab.id_to_word
        return [id_to_word[i] for i in ids]

    @staticmethod
    def special_mask(record: Any, n: int) -> list[int]:
        """The special-tokens mask of ``n`` ids: 0 for each, unless the record knows better."""
        return [0] * n


class TokenSpans(Alignment):
    """Record: a (start, end) pair per token, as int32 bytes."""

    @staticmethod
    def offsets(record: bytes, model: Model, ids: Sequence[int], text: str) -> list[Span]:
        flat = memoryview(record).cast("i")
        return list(zip(flat[0::2], flat[1::2]))


def _piece_spans(record: PieceRecord, model: Model, ids: Sequence[int], spelled: bool) -> list[Span]:
    spans: list[Span] = []
    pos = 0
    for norm, words, counts in record:
        if words is None:
            spans.append(norm.original_span(0, len(norm.text)))
            pos += 1
            continue
        text = norm.text
        for (s, e), n in zip(words, counts):
            part = ids[pos : pos + n]
            within = (
                model.word_offsets(text[s:e], part, spelled=True) if spelled else model.word_offsets(text[s:e], part)
            )
            spans.extend(norm.original_span(s + a, s + b) for a, b in within)
            pos += n
    return spans


class Pieces(Alignment):
    """Record: per piece of the text, (piece, words, counts): the piece a ``Normalized`` that knows its span
    of the original text; its words as spans of the piece's text and their numbers of ids, or None, None
    for an added token, which spans its whole piece and is spelled as the (normalized) text it matched,
    whitespace its lstrip/rstrip took included, as in HF. A word's tokens get their spans within it from
    the model (``model.word_offsets``)."""

    @staticmethod
    def offsets(record: PieceRecord, model: Model, ids: Sequence[int], text: str) -> list[Span]:
        return _piece_spans(record, model, ids, spelled=False)

    @staticmethod
    def tokens(record: PieceRecord, vocab: Vocab, ids: Sequence[int], text: str) -> list[str]:
        id_to_word = vocab.id_to_word
        out: list[str] = []
        for norm, words, counts in record:
            if words is None:
                out.append(norm.text)
            else:
                out.extend(id_to_word[i] for i in ids[len(out) : len(out) + sum(counts)])
        return out


class SpelledPieces(Pieces):
    """Record: as :class:`Pieces`, the pieces in byte-level spelling (one character per byte of the text)."""

    @staticmethod
    def offsets(record: PieceRecord, model: Model, ids: Sequence[int], text: str) -> list[Span]:
        return _piece_spans(record, model, ids, spelled=True)


class TextWords(Alignment):
    """Record: (start, end, number of ids) per word of the whole text as int32 bytes, -1 ids for a special
    token and -2 - n for a word that was given a space before it (HF's add_prefix_space), as byte-level BPE's
    whole-text encoder returns them (no normalizer: positions are the text's)."""

    @staticmethod
    def offsets(record: bytes, model: Model, ids: Sequence[int], text: str) -> list[Span]:
        words = memoryview(record).cast("i")
        spans: list[Span] = []
        pos = 0
        for k in range(0, len(words), 3):
            ws, we, n = words[k], words[k + 1], words[k + 2]
            if n == -1:
                spans.append((ws, we))
                pos += 1
                continue
            if n < -1:  # a space was put before the word (HF's add_prefix_space): it takes the first character's span
                n = -2 - n
                within = model.word_offsets(" " + text[ws:we], ids[pos : pos + n])
                spans.extend((ws + max(s - 1, 0), ws + max(e - 1, 1)) for s, e in within)
                pos += n
                continue
            spans.extend((ws + s, ws + e) for s, e in model.word_offsets(text[ws:we], ids[pos : pos + n]))
            pos += n
        return spans

    @staticmethod
    def tokens(record: bytes, vocab: Vocab, ids: Sequence[int], text: str) -> list[str]:
        id_to_word = vocab.id_to_word
        words = memoryview(record).cast("i")
        out: list[str] = []
        for k in range(0, len(words), 3):
            ws, we, n = words[k], words[k + 1], words[k + 2]
            if n == -1:  # an added token: the text it matched (with the white space lstrip / rstrip took)
                out.append(text[ws:we])
            else:
                n = n if n >= 0 else -2 - n
                out.extend(id_to_word[i] for i in ids[len(out) : len(out) + n])
        return out


class Joined(Alignment):
    """Record: a post-processor's parts, an Encoding each, or None for each token it added (at (0, 0))."""

    @staticmethod
    def offsets(record: Sequence[Optional[Encoding]], model: Model, ids: Sequence[int], text: str) -> list[Span]:
        spans: list[Span] = []
        for item in record:
            spans.extend(item.offsets if item is not None else [(0, 0)])
        return spans

    @staticmethod
    def tokens(record: Sequence[Optional[Encoding]], vocab: Vocab, ids: Sequence[int], text: str) -> list[str]:
        out: list[str] = []
        for item in record:
            out.extend(item.tokens if item is not None else [vocab.id_to_word[ids[len(out)]]])
        return out


class Framed(Alignment):
    """An alignment for the encodings of a batch that a post-processor put its single template around in
    place (``PostProcessor.apply_batch``): the template's tokens before and after each encoding's own (at
    (0, 0), their special-tokens masks given), and the encoding's own tokens in their ``inner`` alignment,
    whose record the encoding keeps. One object for the batch (per inner alignment), not a record per text."""

    __slots__ = ("inner", "before", "after")

    def __init__(self, inner: Alignment, before: list[int], after: list[int]) -> None:
        self.inner, self.before, self.after = inner, before, after  # the masks of the template's tokens

    def offsets(self, record: Any, model: Model, ids: Sequence[int], text: str) -> list[Span]:
        before, after = self.before, self.after
        own = self.inner.offsets(record, model, ids[len(before) : len(ids) - len(after)], text)
        return [(0, 0)] * len(before) + own + [(0, 0)] * len(after)

    def tokens(self, record: Any, vocab: Vocab, ids: Sequence[int], text: str) -> list[str]:
        start, end = len(self.before), len(ids) - len(self.after)
        id_to_word = vocab.id_to_word
        own = self.inner.tokens(record, vocab, ids[start:end], text)
        return [id_to_word[i] for i in ids[:start]] + own + [id_to_word[i] for i in ids[end:]]

    def special_mask(self, record: Any, n: int) -> list[int]:
        return self.before + [0] * (n - len(self.before) - len(self.after)) + self.after


class Template(NamedTuple):
    """What a post-processor puts around one sequence (``PostProcessor.template``): the ids before and
    after it, those tokens' special-tokens masks, and the type ids before, of the sequence's own tokens
    and after."""

    before: list[int]
    after: list[int]
    masks: tuple[list[int], list[int]]
    types: tuple[list[int], int, list[int]]

    @property
    def typed(self) -> bool:
        """Whether any type id is not 0 (else an encoding's type ids stay implicit)."""
        before, own, after = self.types
        return any(before) or own != 0 or any(after)

    def type_ids(self, n: int) -> list[int]:
        """The type ids of a sequence of ``n`` tokens with the template around it."""
        before, own, after = self.types
        return before + [own] * n + after


class Encoding:
    """The result of encoding one text: ``ids`` at once; ``tokens`` and character ``offsets`` into the
    text on first use (so ``tok.encode(text).ids`` costs about what the ids alone cost). ``vocab`` is the
    tokenizer's (the model's tokens and the added ones), ``model`` gives its words' tokens their spans."""

    __slots__ = (
        "ids",
        "model",
        "vocab",
        "text",
        "_alignment",
        "_record",
        "_offsets",
        "_tokens",
        "_attention",
        "_type_ids",
        "_special_mask",
    )

    def __init__(
        self, ids: list[int], model: Model, vocab: Vocab, text: str, alignment: type[Alignment], record: Any
    ) -> None:
        self.ids = ids
        self.model = model
        self.vocab = vocab
        self.text = text
        self._alignment = alignment
        self._record = record
        self._offsets: Optional[list[Span]] = None
        self._tokens: Optional[list[str]] = None
        self._attention: Optional[list[int]] = None  # None: every id is a real token
        self._type_ids: Optional[list[int]] = None  # None: all 0
        self._special_mask: Optional[list[int]] = None  # None: all 0

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        return f"Encoding(n_tokens={len(self.ids)}, ids={self.ids[:8]}{'...' if len(self.ids) > 8 else ''})"

    @property
    def tokens(self) -> list[str]:
        """The token strings (an added token's as the text it matched, as in HF)."""
        if self._tokens is None:
            self._tokens = self._alignment.tokens(self._record, self.vocab, self.ids, self.text)
        return self._tokens

    @property
    def type_ids(self) -> list[int]:
        """0 for the first sequence, 1 for the second sequence of a pair (and its tokens)."""
        if self._type_ids is None:
            self._type_ids = [0] * len(self.ids)
        return self._type_ids

    @type_ids.setter
    def type_ids(self, values: list[int]) -> None:
        self._type_ids = values

    @property
    def special_tokens_mask(self) -> list[int]:
        """1 for the tokens the post-processor added (and padding), 0 for the text's."""
        if self._special_mask is None:
            self._special_mask = self._alignment.special_mask(self._record, len(self.ids))
        return self._special_mask

    @special_tokens_mask.setter
    def special_tokens_mask(self, values: list[int]) -> None:
        self._special_mask = values

    @property
    def attention_mask(self) -> list[int]:
        """1 for a real token, 0 for padding."""
        return [1] * len(self.ids) if self._attention is None else self._attention

    @property
    def n_real(self) -> int:
        """How many ids are real tokens (the rest are padding)."""
        return len(self.ids) if self._attention is None else sum(self._attention)

    @property
    def offsets(self) -> list[Span]:
        """(start, end) in characters of ``text`` per token; (0, 0) for added and padding tokens."""
        if self._offsets is None:
            self._offsets = self._alignment.offsets(self._record, self.model, self.ids, self.text)
        return self._offsets

    def truncate(self, length: int, left: bool = False) -> None:
        """Keep ``length`` tokens: the first ones, or the last ones with ``left``."""
        if len(self.ids) > length:
            keep = slice(len(self.ids) - length, None) if left else slice(0, max(length, 0))
            offsets, tokens, attention = self.offsets, self.tokens, self.attention_mask
            type_ids, mask = self.type_ids, self.special_tokens_mask  # read before the ids change
            self.ids = self.ids[keep]
            self._offsets = offsets[keep]
            self._tokens = tokens[keep]
            self._attention = None if self._attention is None else attention[keep]
            self.type_ids = type_ids[keep]
            self.special_tokens_mask = mask[keep]

    def pad(self, length: int, pad_id: int, pad_type_id: int = 0, left: bool = False) -> None:
        """Pad with ``pad_id`` up to ``length`` tokens (masked out of ``attention_mask``), at the end or
        at the start with ``left``."""
        extra = length - len(self.ids)
        if extra > 0:
            offsets, tokens, attention = self.offsets, self.tokens, self.attention_mask
            type_ids, mask = self.type_ids, self.special_tokens_mask  # read before the ids change

            def add(values: list, value) -> list:
                return [value] * extra + values if left else values + [value] * extra

            self.ids = add(self.ids, pad_id)
            self._offsets = add(offsets, (0, 0))
            self._tokens = add(tokens, self.vocab.id_to_word[pad_id] if pad_id < len(self.vocab) else "")
            self._attention = add(attention, 0)
            self.type_ids = add(type_ids, pad_type_id)
            self.special_tokens_mask = add(mask, 1)


class TextEncoder:
    """A model's encoder of whole texts (special tokens, splitting and the model in one call; the native
    core's or its reference), and the kind of :class:`Alignment` that reads its per-text record. Its
    encodings name ``vocab`` (default: the model's) for their tokens."""

    def __init__(self, core: Any, model: Model, alignment: type[Alignment], vocab: Optional[Vocab] = None) -> None:
        self.core = core
        self.model = model
        self.alignment = alignment
        self.vocab = vocab if vocab is not None else model.vocab

    def with_vocab(self, vocab: Vocab) -> TextEncoder:
        """The same encoder, its encodings naming ``vocab`` (a tokenizer's, with its added tokens)."""
        return self if vocab is self.vocab else TextEncoder(self.core, self.model, self.alignment, vocab)

    def encode(self, text: str) -> Encoding:
        ids, record = self.core.encode_text(text)
        return Encoding(ids, self.model, self.vocab, text, self.alignment, record)

    @property
    def can_sample(self) -> bool:
        """Whether the core draws segmentations from the whole lattice (a Unigram model's does)."""
        return hasattr(self.core, "sample_text")

    def sample(self, text: str, theta: float, seed: int) -> Encoding:
        """``encode`` with a segmentation drawn with probability proportional to P^``theta`` (the core's
        generator seeded with ``seed``)."""
        ids, record = self.core.sample_text(text, theta, seed)
        return Encoding(ids, self.model, self.vocab, text, self.alignment, record)

    def sample_batch(self, texts: list[str], theta: float, seeds: list[int], num_threads: int) -> list[Encoding]:
        """``sample`` of each text with its seed."""
        return self._encodings(texts, self.core.sample_batch(texts, theta, seeds, num_threads), self.alignment)

    def encode_batch(self, texts: list[str], num_threads: int, template: Optional[Template] = None) -> list[Encoding]:
        """Each text's encoding; with ``template`` (a post-processor's that ``frames``), each text's ids
        between the template's, put there by the core, and the encodings as ``PostProcessor.apply_batch``
        would make them (one ``Framed`` alignment, no second list of ids per text)."""
        if template is None:
            return self._encodings(texts, self.core.encode_batch(texts, num_threads), self.alignment)
        results = self.core.encode_batch(texts, num_threads, template.before, template.after)
        encodings = self._encodings(texts, results, Framed(self.alignment, *template.masks))
        if template.typed:
            added = len(template.before) + len(template.after)
            for e in encodings:
                e.type_ids = template.type_ids(len(e.ids) - added)
        return encodings

    def encode_batch_ids(self, texts: list[str], num_threads: int) -> list[list[int]]:
        """Each text's ids as a list of int, the core building no other object per text."""
        return self.core.encode_batch_ids(texts, num_threads)

    def encode_batch_flat(
        self, texts: list[str], num_threads: int, template: tuple[list[int], list[int]] = ([], [])
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ids of every text one after the other (int32) and where each text's ids start (int64, one
        more than there are texts), built by the core without a Python object per text; each text's ids
        between the template's (prefix, suffix) ids."""
        ids, starts = self.core.encode_batch_flat(texts, num_threads, *template)
        return np.frombuffer(ids, dtype=np.int32), np.frombuffer(starts, dtype=np.int64)

    def encode_lines_flat(
        self, block: str, num_threads: int, template: tuple[list[int], list[int]] = ([], [])
    ) -> tuple[np.ndarray, np.ndarray]:
        """``encode_batch_flat`` over the lines of ``block`` (split at "\n" as a file's lines are), without a
        str per line."""
        ids, starts = self.core.encode_lines_flat(block, num_threads, *template)
        return np.frombuffer(ids, dtype=np.int32), np.frombuffer(starts, dtype=np.int64)

    def _encodings(self, texts: list[str], results: list, kind: Alignment) -> list[Encoding]:
        model, vocab = self.model, self.vocab
        return [Encoding(ids, model, vocab, text, kind, record) for text, (ids, record) in zip(texts, results)]
