"""subtok.distributed: counts, training and encoding on Ray Data and Spark give what one machine gives
(the engine-neutral steps always; the engines where installed: pip install 'subtok[ray]' / 'subtok[spark]')."""

import pickle
import warnings

import pytest

from subtok import InputError, Tokenizer, distributed
from subtok.corpus import WordCounts

from .conftest import SAMPLE_TEXTS

TEXTS = SAMPLE_TEXTS + [f"row {k}: shard{k % 7} counts, merges and encodes" for k in range(300)] + ["", "   "]
OPTIONS = {"vocab_size": 400, "min_frequency": 1, "special_tokens": ["<eos>"]}


def _train_direct():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Tokenizer.train(TEXTS, show_progress=False, **OPTIONS)


def test_partition_steps_equal_one_machine(backend):
    parts = [distributed.count_texts(TEXTS[k::4], **OPTIONS) for k in range(4)]
    parts.append(distributed.count_texts([None, ""], **OPTIONS))  # an empty partition merges as nothing
    assert distributed.merge_counts(parts) == WordCounts.from_corpus(TEXTS, **OPTIONS)
    tok = _train_direct()
    ids = distributed.encode_texts(tok, [*TEXTS[:20], None])
    assert ids.to_pylist() == [e.ids for e in tok.encode_batch(TEXTS[:20])] + [[]]


def test_a_partition_of_other_values_is_refused():
    with pytest.raises(InputError, match="holds int \\(non-null item 1\\)"):
        distributed.count_texts(["fine", 3, "text"])


def test_a_tokenizer_pickles_as_its_document():
    tok = _train_direct()
    again = pickle.loads(pickle.dumps(tok))
    assert again.to_dict() == tok.to_dict()
    assert [again.encode(t).ids for t in TEXTS[:30]] == [tok.encode(t).ids for t in TEXTS[:30]]


def test_other_data_is_refused():
    with pytest.raises(InputError, match="ray.data.Dataset or a pyspark DataFrame"):
        distributed.count_words(TEXTS)
    with pytest.raises(InputError, match="empty"):
        distributed.merge_counts([])


@pytest.fixture(scope="module")
def spark():
    pyspark = pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    try:
        session = SparkSession.builder.master("local[2]").appName("subtok-tests").getOrCreate()
    except Exception as e:  # no Java, say
        pytest.skip(f"Spark does not start here: {e}")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    del pyspark


@pytest.fixture(scope="module")
def ray_data():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    import ray.data

    yield ray.data
    ray.shutdown()


def _check_engine(data, rows_of):
    counts = distributed.count_words(data, "text", **OPTIONS)
    assert counts == WordCounts.from_corpus(TEXTS, **OPTIONS)
    tok = distributed.train(data, "text", "bpe", **OPTIONS)
    direct = _train_direct()
    assert tok.get_vocab() == direct.get_vocab() and tok.model.merges == direct.model.merges
    assert distributed.count_words(data, "text", direct) == WordCounts.from_corpus(TEXTS, direct)
    encoded = rows_of(distributed.encode(data, direct, "text", "ids"))
    assert encoded == {t: e.ids for t, e in zip(TEXTS, direct.encode_batch(TEXTS))}


def test_spark_gives_one_machines_results(spark):
    df = spark.createDataFrame([(t,) for t in TEXTS], ["text"]).repartition(3)
    _check_engine(df, lambda out: {row["text"]: list(row["ids"]) for row in out.collect()})


def test_ray_gives_one_machines_results(ray_data):
    ds = ray_data.from_items([{"text": t} for t in TEXTS]).repartition(3)
    _check_engine(ds, lambda out: {row["text"]: list(row["ids"]) for row in out.iter_rows()})
