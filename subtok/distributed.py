"""Counting, training and encoding on a cluster engine, with results identical to one machine's.

The work is three engine-neutral steps (``count_texts``: one partition's texts -> ``WordCounts``, sent
as ``to_bytes(sort=False)``; ``WordCounts.merge_bytes`` of those on the driver; ``encode_texts``: a batch
of texts -> ids as Arrow lists) and thin adapters that run them on Ray Data (``Dataset.map_batches``) or
Spark (``DataFrame.mapInArrow``):

- ``count_words(data, column, tokenizer)``: each partition's word counts, merged exactly on the driver;
- ``train(data, column, model, **options)``: those counts, trained on by the driver
  (``Tokenizer.train_from_counts``): the same tokenizer as ``Tokenizer.train`` on the same texts;
- ``encode(data, tok, column, output_column)``: the same kind of dataset with each text's ids (int32
  lists), as ``tok.encode_batch`` gives them.

A tokenizer travels to the workers pickled as its JSON document (``Tokenizer.__reduce__``) and builds its
native tables on first use there. The engines are optional extras (``pip install subtok[ray]`` or
``subtok[spark]``); this module imports neither until a dataset of theirs comes.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any, Optional

import numpy as np

from .corpus import WordCounts, counting_splitter
from .errors import InputError
from .tokenizer import Tokenizer


# ---------------------------------------------------------------------------------------------------------
# Engine-neutral steps
# ---------------------------------------------------------------------------------------------------------
def count_texts(texts: Iterable[Optional[str]], tokenizer: Optional[Tokenizer] = None, **options: Any) -> WordCounts:
    """One partition's word counts, as ``WordCounts.from_corpus`` counts them (a null text counts as
    nothing; an empty partition gives empty counts with the same splitting, which merge as nothing); a text
    that is not a str is an error naming its place and type."""
    return count_batches([texts], tokenizer, **options)


def count_batches(
    batches: Iterable[Iterable[Optional[str]]], tokenizer: Optional[Tokenizer] = None, **options: Any
) -> WordCounts:
    """``count_texts`` of a partition that comes as several batches of texts, counted into one table (a
    partition's counts merged batch by batch would copy the table at every batch)."""
    model = options.pop("model", None)
    splitter = counting_splitter(tokenizer, model, options)
    counts: Counter = Counter()
    seen = 0
    for batch in batches:
        texts = [t for t in batch if t is not None]
        for k, text in enumerate(texts):
            if not isinstance(text, str):
                raise InputError(f"the text column holds {type(text).__name__} (non-null item {seen + k}), not str")
        seen += len(texts)
        splitter.count(texts, counts)
    return WordCounts(counts, splitter.splitting)


def merge_counts(parts: Iterable[WordCounts]) -> WordCounts:
    """The counts of every partition summed (exact, any order)."""
    parts = list(parts)
    if not parts:
        raise InputError("no partitions to merge: the dataset is empty")
    return parts[0].merge(*parts[1:])


def encode_texts(tok: Tokenizer, texts: list[Optional[str]]) -> Any:
    """The ids of each text as a pyarrow list<int32> array (a null text: no ids), from ``encode_batch``'s
    flat form on one thread (the engine runs the partitions in parallel)."""
    import pyarrow as pa

    flat = tok.encode_batch([t if t is not None else "" for t in texts], num_threads=1, return_tensors="flat")
    offsets = pa.array(flat["row_splits"].astype(np.int32))
    return pa.ListArray.from_arrays(offsets, pa.array(flat["input_ids"], pa.int32()))


_WORKER_TOKENIZERS: dict[str, Tokenizer] = {}


def _worker_tokenizer(document: str) -> Tokenizer:
    """The tokenizer of a JSON document, built once per worker process (an engine sends the task's closure
    with every partition; the native tables are then built once, not per partition)."""
    key = hashlib.sha256(document.encode("utf-8")).hexdigest()
    if key not in _WORKER_TOKENIZERS:
        _WORKER_TOKENIZERS[key] = Tokenizer.from_dict(json.loads(document))
    return _WORKER_TOKENIZERS[key]


# ---------------------------------------------------------------------------------------------------------
# Adapters
# ---------------------------------------------------------------------------------------------------------
def _engine(data: Any) -> str:
    module = type(data).__module__
    if module.startswith("ray."):
        return "ray"
    if module.startswith("pyspark."):
        return "spark"
    raise InputError(f"distributed takes a ray.data.Dataset or a pyspark DataFrame, not {type(data).__name__}")


def count_words(data: Any, column: str = "text", tokenizer: Optional[Tokenizer] = None, **options: Any) -> WordCounts:
    """The word counts of ``data``'s ``column`` (a Ray Dataset or a Spark DataFrame), counted on the
    workers partition by partition and merged on the driver: equal to ``WordCounts.from_corpus`` over the
    same texts. ``options`` are ``from_corpus``' (``model``, ``special_tokens``, ...)."""
    engine = _engine(data)
    document = json.dumps(tokenizer.to_dict(), ensure_ascii=False) if tokenizer is not None else None

    def worker_tokenizer() -> Optional[Tokenizer]:
        return _worker_tokenizer(document) if document is not None else None

    def count_batch(texts: list) -> bytes:
        return count_texts(texts, worker_tokenizer(), **options).to_bytes(sort=False)

    if engine == "ray":
        parts = data.select_columns([column]).map_batches(  # a block a batch: one counts object per block
            lambda batch: {"counts": np.array([count_batch(batch[column].tolist())], dtype=object)},
            batch_format="numpy",
            batch_size=None,
        )
        return WordCounts.merge_bytes(row["counts"] for row in parts.iter_rows())

    def count_arrow(batches: Iterator) -> Iterator:
        import pyarrow as pa

        texts = (batch.column(0).to_pylist() for batch in batches)  # a partition's Arrow batches, one table
        counts = count_batches(texts, worker_tokenizer(), **options)
        yield pa.RecordBatch.from_arrays([pa.array([counts.to_bytes(sort=False)], pa.binary())], ["counts"])

    rows = data.select(column).mapInArrow(count_arrow, "counts binary").collect()
    return WordCounts.merge_bytes(row["counts"] for row in rows)


def train(data: Any, column: str = "text", model: str = "bpe", **options: Any) -> Tokenizer:
    """A tokenizer trained on ``data``'s ``column``: counted on the workers, merged and trained on the
    driver (``Tokenizer.train_from_counts``), the same as ``Tokenizer.train(texts, model=model, **options)``."""
    counts = count_words(data, column, model=model, **options)
    return Tokenizer.train_from_counts(counts, model=model, **options)


def encode(data: Any, tok: Tokenizer, column: str = "text", output_column: str = "ids") -> Any:
    """``data`` with ``output_column`` added: each text's ids (int32 lists), as ``tok.encode_batch`` gives
    them, encoded on the workers."""
    engine = _engine(data)
    document = json.dumps(tok.to_dict(), ensure_ascii=False)  # sent with the task; built once per worker
    if engine == "ray":

        def add_ids(table: Any) -> Any:
            ids = encode_texts(_worker_tokenizer(document), table.column(column).to_pylist())
            return table.append_column(output_column, ids)

        return data.map_batches(add_ids, batch_format="pyarrow", batch_size=None)

    from pyspark.sql.types import ArrayType, IntegerType, StructField, StructType

    schema = StructType([*data.schema.fields, StructField(output_column, ArrayType(IntegerType()))])

    def add_ids_arrow(batches: Iterator) -> Iterator:
        import pyarrow as pa

        worker_tok = _worker_tokenizer(document)
        for batch in batches:
            ids = encode_texts(worker_tok, batch.column(batch.schema.get_field_index(column)).to_pylist())
            yield pa.RecordBatch.from_arrays([*batch.columns, ids], [*batch.schema.names, output_column])

    return data.mapInArrow(add_ids_arrow, schema)
