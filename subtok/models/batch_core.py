"""What the references of the whole-text encoders (bpe_core.ByteLevelEncoder, wordpiece_core.BertEncoder,
unigram_core.SentencePieceEncoder) share: a batch is ``encode_text`` of each text in turn. The native
core's batch.c spreads the texts over threads instead; tests hold the two equal.
"""

from __future__ import annotations

from array import array
from typing import Optional

from ..text import file_lines


class TextBatches:
    """``encode_batch``, ``encode_batch_flat`` and ``encode_batch_ids`` from a subclass's
    ``encode_text(text) -> (ids, record)``."""

    def encode_text(self, text: str) -> tuple[list[int], bytes]:
        raise NotImplementedError

    def encode_batch(self, texts: list[str], num_threads: int = 1) -> list[tuple[list[int], bytes]]:
        """``encode_text`` of each text (the native core spreads them over ``num_threads`` threads)."""
        return [self.encode_text(t) for t in texts]

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
        for text in texts:
            ids.extend(prefix or ())
            ids.extend(self.encode_text(text)[0])
            ids.extend(suffix or ())
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
