"""What the references of the whole-text encoders (bpe_core.ByteLevelEncoder, wordpiece_core.BertEncoder,
unigram_core.SentencePieceEncoder) share: a batch is ``encode_text`` of each text in turn. The native
core's batch.c spreads the texts over threads instead; tests hold the two equal.
"""

from __future__ import annotations

from array import array
from typing import Optional

from ..text import file_lines


def template_ids(ids: Optional[list[int]], name: str) -> list[int]:
    """A flat batch's prefix or suffix as batch.c's template_ids takes it: a list of ids (0 to 2**31 - 1), or
    None for none."""
    if ids is None:
        return []
    if not isinstance(ids, list):
        raise TypeError(f"{name} must be a list of ids")
    for i in ids:
        if not 0 <= i <= 0x7FFFFFFF:
            raise ValueError(f"{name} holds {i}, not an id")
    return ids


class TextBatches:
    """``encode_batch``, ``encode_batch_flat`` and ``encode_batch_ids`` from a subclass's
    ``encode_text(text) -> (ids, record)``."""

    def encode_text(self, text: str) -> tuple[list[int], bytes]:
        raise NotImplementedError

    def encode_batch(
        self,
        texts: list[str],
        num_threads: int = 1,
        prefix: Optional[list[int]] = None,
        suffix: Optional[list[int]] = None,
    ) -> list[tuple[list[int], bytes]]:
        """``encode_text`` of each text (the native core spreads them over ``num_threads`` threads), its ids
        between ``prefix`` and ``suffix`` (a post-processor's template; the record is the text's own)."""
        prefix, suffix = template_ids(prefix, "prefix"), template_ids(suffix, "suffix")
        if not prefix and not suffix:
            return [self.encode_text(t) for t in texts]
        return [([*prefix, *ids, *suffix], record) for ids, record in map(self.encode_text, texts)]

    def encode_batch_ids(self, texts: list[str], num_threads: int = 1) -> list[list[int]]:
        """Each text's ids, without its record."""
        return [self.encode_text(t)[0] for t in texts]

    def encode_batch_flat(
        self,
        texts: list[str],
        num_threads: int = 1,
        prefix: Optional[list[int]] = None,
        suffix: Optional[list[int]] = None,
    ) -> tuple[bytearray, bytearray]:
        """The ids of every text one after the other (int32) and where each text's ids start (int64, one
        more than there are texts: the last is the total), as the native core returns them; each text's
        ids between ``prefix`` and ``suffix`` (a post-processor's template: BERT's [CLS] and [SEP])."""
        ids, starts = array("i"), array("q", [0])
        for text_ids, _ in self.encode_batch(texts, num_threads, prefix, suffix):
            ids.extend(text_ids)
            starts.append(len(ids))
        return bytearray(ids.tobytes()), bytearray(starts.tobytes())

    def encode_lines_flat(
        self,
        block: str,
        num_threads: int = 1,
        prefix: Optional[list[int]] = None,
        suffix: Optional[list[int]] = None,
    ) -> tuple[bytearray, bytearray]:
        """``encode_batch_flat`` over the lines of ``block`` (``text.file_lines``; the native core makes no str
        per line)."""
        return self.encode_batch_flat(file_lines(block), num_threads, prefix, suffix)
