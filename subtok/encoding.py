"""The result of encoding one text: :class:`Encoding`, and the alignments that give each token its span of
the original text.

Ids come first and cost only themselves; tokens and offsets are computed on first use, from a compact
record the encoder kept (an :class:`Alignment`). Three kinds, one per way of encoding:

- :class:`WordSpans`: per segment of the text (a special token, or a run between them), its words as
  (start, end, number of ids) triples, plus the normalizer's alignment; a word's tokens get their spans
  from the model (``model.word_offsets``). The general pipeline and byte-level BPE's whole-text encoder.
- :class:`TokenSpans`: (start, end) per token, as BERT's whole-text encoder reports them.
- :class:`Joined`: encodings put together by a post-processor, with its added tokens at (0, 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Callable, Optional

from .text import Normalized

if TYPE_CHECKING:
    from .models import Model

Span = tuple[int, int]


class Alignment:
    """How an encoding's tokens map back to its text."""

    def offsets(self, model: Model, ids: Sequence[int]) -> list[Span]:
        raise NotImplementedError


class TokenSpans(Alignment):
    """A (start, end) pair per token, as int32 bytes."""

    def __init__(self, spans: bytes) -> None:
        self.spans = spans

    def offsets(self, model: Model, ids: Sequence[int]) -> list[Span]:
        flat = memoryview(self.spans).cast("i")
        return list(zip(flat[0::2], flat[1::2]))


class WordSpans(Alignment):
    """Per segment (start, end, normalized, words): a special token has words None; otherwise ``words`` is a
    flat sequence of (start, end, number of ids) per word in the segment's (normalized) text, a number of -1
    marking a special token met inside it, and ``normalized`` is the segment's Normalized (None: unchanged)."""

    def __init__(self, segments: list[tuple[int, int, Optional[Normalized], Any]], text: str) -> None:
        self.segments = segments
        self.text = text

    @classmethod
    def whole(cls, text: str, words: bytes) -> WordSpans:
        """The whole text as one segment, its words as int32 bytes (byte-level BPE's whole-text encoder)."""
        return cls([(0, len(text), None, words)], text)

    def offsets(self, model: Model, ids: Sequence[int]) -> list[Span]:
        spans: list[Span] = []
        pos = 0
        for start, end, norm, words in self.segments:
            if words is None:  # a special token
                spans.append((start, end))
                pos += 1
                continue
            seg_text = norm.text if norm is not None else self.text[start:end]
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


class Joined(Alignment):
    """A post-processor's output: the offsets of each part in turn, (0, 0) for each token it added (None)."""

    def __init__(self, items: Sequence[Optional[Encoding]]) -> None:
        self.items = items

    def offsets(self, model: Model, ids: Sequence[int]) -> list[Span]:
        spans: list[Span] = []
        for item in self.items:
            spans.extend(item.offsets if item is not None else [(0, 0)])
        return spans


class Encoding:
    """The result of encoding one text: ``ids`` at once; ``tokens`` and character ``offsets`` into the
    text on first use (so ``tok.encode(text).ids`` costs about what the ids alone cost)."""

    __slots__ = ("ids", "model", "text", "_alignment", "_n_real", "_offsets", "type_ids", "special_tokens_mask")

    def __init__(self, ids: list[int], model: Model, text: str, alignment: Alignment) -> None:
        self.ids = ids
        self.model = model
        self.text = text
        self._alignment = alignment
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
            spans = self._alignment.offsets(self.model, self.ids)[: self.n_real]
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
    core's or its reference), with how its per-text record becomes an :class:`Alignment`."""

    def __init__(self, core: Any, alignment: Callable[[str, bytes], Alignment]) -> None:
        self.core = core
        self.alignment = alignment

    def encode(self, text: str) -> tuple[list[int], Alignment]:
        ids, record = self.core.encode_text(text)
        return ids, self.alignment(text, record)

    def encode_batch(self, texts: list[str], num_threads: int) -> list[tuple[list[int], Alignment]]:
        results = self.core.encode_batch(texts, num_threads)
        return [(ids, self.alignment(text, record)) for text, (ids, record) in zip(texts, results)]
