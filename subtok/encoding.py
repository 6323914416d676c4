"""The result of encoding one text: :class:`Encoding`, and the alignments that give each token its span of
the original text.

Ids come first and cost only themselves; tokens and offsets are computed on first use, from the record
the encoder kept and the kind of :class:`Alignment` that reads it. Four kinds, one per way of encoding:

- :class:`WordSpans`: per segment of the text (a special token, or a run between them), its words as
  (start, end, number of ids) triples, plus the normalizer's alignment; a word's tokens get their spans
  from the model (``model.word_offsets``). The general pipeline.
- :class:`TextWords`: the same triples for the whole text at once, as byte-level BPE's whole-text encoder
  returns them (int32 bytes).
- :class:`TokenSpans`: (start, end) per token, as BERT's whole-text encoder returns them (int32 bytes).
- :class:`Joined`: encodings put together by a post-processor, with its added tokens at (0, 0).

A kind is a class with one static method; the record is the encoder's own output, kept as it came, so a
batch of a million short texts builds no object per text beyond its Encoding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Optional

from .text import Normalized

if TYPE_CHECKING:
    from .models import Model

Span = tuple[int, int]


class Alignment:
    """A kind of record and how it maps an encoding's tokens back to its text."""

    @staticmethod
    def offsets(record: Any, model: Model, ids: Sequence[int], text: str) -> list[Span]:
        raise NotImplementedError


class TokenSpans(Alignment):
    """Record: a (start, end) pair per token, as int32 bytes."""

    @staticmethod
    def offsets(record: bytes, model: Model, ids: Sequence[int], text: str) -> list[Span]:
        flat = memoryview(record).cast("i")
        return list(zip(flat[0::2], flat[1::2]))


class WordSpans(Alignment):
    """Record: per segment (start, end, normalized, words). A special token has words None; otherwise
    ``words`` is a flat sequence of (start, end, number of ids) per word in the segment's (normalized) text,
    a number of -1 marking a special token met inside it, and ``normalized`` is the segment's Normalized
    (None: unchanged)."""

    @staticmethod
    def offsets(
        record: list[tuple[int, int, Optional[Normalized], Any]], model: Model, ids: Sequence[int], text: str
    ) -> list[Span]:
        spans: list[Span] = []
        pos = 0
        for start, end, norm, words in record:
            if words is None:  # a special token
                spans.append((start, end))
                pos += 1
                continue
            seg_text = norm.text if norm is not None else text[start:end]
            if isinstance(words, bytes):
                words = memoryview(words).cast("i")
            for k in range(0, len(words), 3):
                ws, we, n = words[k], words[k + 1], words[k + 2]
                if n < 0:  # a special token matched inside the text by a whole-text encoder
                    spans.append((start + ws, start + we))
                    pos += 1
                    continue
                for s, e in model.word_offsets(seg_text[ws:we], ids[pos : pos + n]):
                    s, e = norm.original_span(ws + s, ws + e) if norm is not None else (ws + s, ws + e)
                    spans.append((start + s, start + e))
                pos += n
        return spans


class TextWords(Alignment):
    """Record: (start, end, number of ids) per word of the whole text as int32 bytes, -1 ids for a special
    token (``WordSpans`` with the text as its one segment)."""

    @staticmethod
    def offsets(record: bytes, model: Model, ids: Sequence[int], text: str) -> list[Span]:
        return WordSpans.offsets([(0, len(text), None, record)], model, ids, text)


class Joined(Alignment):
    """Record: a post-processor's parts, an Encoding each, or None for each token it added (at (0, 0))."""

    @staticmethod
    def offsets(record: Sequence[Optional[Encoding]], model: Model, ids: Sequence[int], text: str) -> list[Span]:
        spans: list[Span] = []
        for item in record:
            spans.extend(item.offsets if item is not None else [(0, 0)])
        return spans


class Encoding:
    """The result of encoding one text: ``ids`` at once; ``tokens`` and character ``offsets`` into the
    text on first use (so ``tok.encode(text).ids`` costs about what the ids alone cost)."""

    __slots__ = (
        "ids",
        "model",
        "text",
        "_alignment",
        "_record",
        "_n_real",
        "_offsets",
        "type_ids",
        "special_tokens_mask",
    )

    def __init__(self, ids: list[int], model: Model, text: str, alignment: type[Alignment], record: Any) -> None:
        self.ids = ids
        self.model = model
        self.text = text
        self._alignment = alignment
        self._record = record
        self._n_real = -1  # ids past this are padding; -1: none
        self._offsets: Optional[list[Span]] = None
        self.type_ids: list[int] = [0] * len(ids)  # 1 for the second sequence of a pair
        self.special_tokens_mask: list[int] = [0] * len(ids)  # 1 for tokens the post-processor added

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        return f"Encoding(n_tokens={len(self.ids)}, ids={self.ids[:8]}{'...' if len(self.ids) > 8 else ''})"

    @property
    def tokens(self) -> list[str]:
        id_to_word = self.model.vocab.id_to_word
        return [id_to_word[i] for i in self.ids]

    @property
    def n_real(self) -> int:
        """How many ids are real tokens (the rest are padding)."""
        return len(self.ids) if self._n_real < 0 else self._n_real

    @property
    def attention_mask(self) -> list[int]:
        return [1] * self.n_real + [0] * (len(self.ids) - self.n_real)

    @property
    def offsets(self) -> list[Span]:
        """(start, end) in characters of ``text`` per token; (0, 0) for added and padding tokens."""
        if self._offsets is None:
            spans = self._alignment.offsets(self._record, self.model, self.ids, self.text)[: self.n_real]
            self._offsets = spans + [(0, 0)] * (len(self.ids) - len(spans))
        return self._offsets

    def truncate(self, length: int) -> None:
        """Keep the first ``length`` tokens."""
        if len(self.ids) > length:
            offsets = self.offsets
            self._n_real = min(self.n_real, length)
            self.ids = self.ids[:length]
            self._offsets = offsets[:length]
            self.type_ids = self.type_ids[:length]
            self.special_tokens_mask = self.special_tokens_mask[:length]

    def pad(self, length: int, pad_id: int) -> None:
        """Pad with ``pad_id`` up to ``length`` tokens (masked out of ``attention_mask``)."""
        if len(self.ids) < length:
            offsets = self.offsets
            extra = length - len(self.ids)
            self._n_real = self.n_real
            self.ids = self.ids + [pad_id] * extra
            self._offsets = offsets + [(0, 0)] * extra
            self.type_ids = self.type_ids + [0] * extra
            self.special_tokens_mask = self.special_tokens_mask + [1] * extra


class TextEncoder:
    """A model's encoder of whole texts (special tokens, splitting and the model in one call; the native
    core's or its reference), and the kind of :class:`Alignment` that reads its per-text record."""

    def __init__(self, core: Any, model: Model, alignment: type[Alignment]) -> None:
        self.core = core
        self.model = model
        self.alignment = alignment

    def encode(self, text: str) -> Encoding:
        ids, record = self.core.encode_text(text)
        return Encoding(ids, self.model, text, self.alignment, record)

    def encode_batch(self, texts: list[str], num_threads: int) -> list[Encoding]:
        model, kind = self.model, self.alignment
        results = self.core.encode_batch(texts, num_threads)
        return [Encoding(ids, model, text, kind, record) for text, (ids, record) in zip(texts, results)]
