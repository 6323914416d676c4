"""Beyond one machine (issue 18): streaming encode's memory and speed, counting under a memory cap, Ray and
Spark in local mode, and the per-core rates behind the README's planning table.

Usage: python bench/scale.py [--mb 1000] [--engine-mb 100]
Text: the mixed corpus grown to ``--mb`` MB (bench/train_bpe.py's big_corpus: each copy varies every
fifth word, so word types keep coming; cached). Tokenizer: GPT-2's published file (shared data). Each
measurement runs in its own process, its peak memory that process's VmHWM:
- in-memory encode: the first ``--engine-mb`` MB of lines in a list, ``encode_batch(lines,
  return_tensors="flat")`` (all cores), MB/s;
- streaming encode: ``subtok encode FILE -t gpt2.json --format bin -o out.bin`` on the whole text (all
  cores), wall time and peak RSS; the two encodes run ``--rounds`` times in turn, the best of each kept;
- counting: ``WordCounts.from_corpus(FILE, num_workers=2)`` with no cap and with a 256 MB cap, each saved,
  the two files compared byte for byte;
- engines: ``distributed.count_words`` and ``distributed.encode`` (materialized) over the first
  ``--engine-mb`` MB, with 1 and 2 workers (Ray: ``num_cpus``; Spark: ``local[N]``), and
  ``distributed.train`` (8k) against ``Tokenizer.train_from_counts`` of the local counts: the same merges.
"""

from __future__ import annotations

import argparse
import gzip
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from common import machine, mixed_corpus, print_table, require_data, run_measured  # noqa: E402
from train_bpe import big_corpus  # noqa: E402

IN_MEMORY = """
import time
from subtok import Tokenizer
tok = Tokenizer.from_huggingface({tok!r})
with open({path!r}, encoding="utf-8") as f:
    lines, size = [], 0
    for line in f:
        lines.append(line.rstrip("\\n"))
        size += len(line.encode("utf-8"))
        if size >= {mb} * 1e6:
            break
t = time.perf_counter()
flat = tok.encode_batch(lines, return_tensors="flat")
out = dict(seconds=time.perf_counter() - t, mb=size / 1e6, tokens=len(flat["input_ids"]))
"""

COUNT = """
import time
from subtok.corpus import WordCounts
t = time.perf_counter()
c = WordCounts.from_corpus({path!r}, num_workers=2, memory_cap={cap})
seconds = time.perf_counter() - t
c.save({out!r})
out = dict(seconds=seconds, words=len(c))
"""

ENGINE = """
import os, time, warnings
warnings.simplefilter("ignore")
from subtok import Tokenizer, distributed
lines = open({path!r}, encoding="utf-8").read().split("\\n")
tok = Tokenizer.from_huggingface({tok!r})
if {engine!r} == "ray":
    import ray, ray.data
    ray.init(num_cpus={workers}, include_dashboard=False, log_to_driver=False)
    # Ray Data reserves half the cluster for its operators by default: on 2 CPUs one task ran at a time
    ray.data.DataContext.get_current().op_resource_reservation_enabled = False
    data = ray.data.from_items([{{"text": t}} for t in lines]).repartition(8).materialize()
    run = lambda d: d.materialize()  # the ids computed and held in the object store
    import pyarrow.compute as pc
    tokens = lambda d: sum(pc.sum(pc.list_value_length(b["ids"])).as_py() or 0
                           for b in d.iter_batches(batch_format="pyarrow", batch_size=None))
else:
    from pyspark.sql import SparkSession
    spark = (SparkSession.builder.master("local[{workers}]").config("spark.ui.showConsoleProgress", "false")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    data = spark.createDataFrame([(t,) for t in lines], ["text"]).repartition(8).cache()
    data.count()
    run = lambda d: d.selectExpr("sum(size(ids)) as n").collect()[0]["n"]  # every row's ids made, summed in the JVM
    tokens = run


def busy_seconds():
    \"\"\"The machine's CPU seconds spent busy so far (every process: driver, workers, the engine's own).\"\"\"
    fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def best(work, rounds=3):
    \"\"\"The best of ``rounds`` timed calls after one untimed (workers started, tables built), with the cores
    the machine kept busy during that call.\"\"\"
    work()
    results = []
    for _ in range(rounds):
        b, t = busy_seconds(), time.perf_counter()
        out = work()
        seconds = time.perf_counter() - t
        results.append((seconds, (busy_seconds() - b) / seconds, out))
    return min(results, key=lambda r: r[0])


count_s, count_cores, counts = best(lambda: distributed.count_words(data, "text"))
encode_s, encode_cores, encoded = best(lambda: run(distributed.encode(data, tok, "text", "ids")))
n = tokens(encoded) if {engine!r} == "ray" else encoded
same = None
if {check_train}:
    trained = distributed.train(data, "text", "bpe", vocab_size=8000)
    local = Tokenizer.train_from_counts(counts, model="bpe", vocab_size=8000)
    same = trained.model.merges == local.model.merges and trained.get_vocab() == local.get_vocab()
out = dict(count_s=count_s, encode_s=encode_s, count_cores=count_cores, encode_cores=encode_cores, tokens=n,
           same=same)
"""


PER_CORE_COUNT = """
import time
from subtok.corpus import WordCounts
t = time.perf_counter()
WordCounts.from_corpus({path!r}, num_workers=1)
out = dict(seconds=time.perf_counter() - t)
"""

ENCODE_ONE = """
import time
from subtok import Tokenizer
tok = Tokenizer.from_huggingface({tok!r})
t = time.perf_counter()
n = 0
with open({path!r}, encoding="utf-8") as f:
    for batch in tok.encode_iterable(f, batch_size=10_000, num_threads=1, return_tensors="flat"):
        n += len(batch["input_ids"])
out = dict(seconds=time.perf_counter() - t, tokens=n)
"""


def stream_encode(path: str, tok: str, tmp: str) -> tuple[float, float, int]:
    """``subtok encode FILE --format bin`` in a process of its own: wall seconds, peak MB, bytes written."""
    out = os.path.join(tmp, "out.bin")
    command = ["/usr/bin/time", "-f", "%e %M", sys.executable, "-m", "subtok", "encode", path, "-t", tok,
               "--format", "bin", "-o", out, "-q"]  # fmt: skip
    t = time.perf_counter()
    res = subprocess.run(command, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - t
    size = os.path.getsize(out)
    os.remove(out)
    return seconds, int(res.stderr.strip().splitlines()[-1].split()[1]) / 1024, size


def count_rows(path: str, mb: float, tmp: str, rows: list) -> None:
    """Counting without a cap, with the issue's 256 MB cap and with a 16 MB cap that the table passes (so
    runs are spilled and merged); each capped result's file compared with the uncapped one's."""
    files = {}
    for cap in (None, 256 << 20, 16 << 20):
        files[cap] = os.path.join(tmp, f"counts-{cap}.bin")
        r = run_measured(COUNT.format(path=path, cap=cap, out=files[cap]))
        note = f"{r['words']} distinct words"
        if cap is not None:
            note += f"; the same file as uncapped: {open(files[None], 'rb').read() == open(files[cap], 'rb').read()}"
        label = "no cap" if cap is None else f"{cap >> 20} MB cap"
        rows.append([f"count words, 2 workers, {label}", f"{r['seconds']:.2f}", f"{mb / r['seconds']:.1f}",
                     f"{r['peak_mb']:.0f}", note])  # fmt: skip
    print_table(rows, ["run", "seconds", "MB/s", "peak MB", "notes"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--mb", type=int, default=1000)
    ap.add_argument("--engine-mb", type=int, default=100)
    ap.add_argument("--skip-engines", action="store_true")
    ap.add_argument("--rounds", type=int, default=2, help="in-memory and streaming encodes, in turn (best of each)")
    ap.add_argument("--only-counting", action="store_true", help="the counting rows alone")
    ap.add_argument("--per-core", action="store_true", help="one worker / one thread on --engine-mb MB alone")
    ap.add_argument("--only-engines", action="store_true", help="the engines' rows alone")
    args = ap.parse_args()
    data = require_data()
    path = big_corpus(str(mixed_corpus()), args.mb)
    mb = os.path.getsize(path) / 1e6
    print(f"machine: {machine()}; text: {path}, {mb:.0f} MB\n")
    with tempfile.TemporaryDirectory() as tmp:
        tok = os.path.join(tmp, "gpt2.json")
        with open(tok, "wb") as f:
            f.write(gzip.decompress((data.parent / "tokenizers" / "gpt2" / "tokenizer.json.gz").read_bytes()))
        small = os.path.join(tmp, "small.txt")
        with open(path, "rb") as src, open(small, "wb") as dst:
            dst.write(src.read(args.engine_mb * 1_000_000).rsplit(b"\n", 1)[0] + b"\n")

        rows = []
        if args.per_core:  # the rates behind the README's planning table
            small_mb = os.path.getsize(small) / 1e6
            r = run_measured(PER_CORE_COUNT.format(path=small))
            rows.append(["count words, 1 worker", f"{r['seconds']:.2f}", f"{small_mb / r['seconds']:.1f}",
                         f"{r['peak_mb']:.0f}", ""])  # fmt: skip
            r = run_measured(ENCODE_ONE.format(tok=tok, path=small))
            rows.append(["encode_iterable, 1 thread", f"{r['seconds']:.2f}", f"{small_mb / r['seconds']:.1f}",
                         f"{r['peak_mb']:.0f}", f"{r['tokens'] / (small_mb * 1e6):.3f} tokens a byte"])  # fmt: skip
            return print_table(rows, ["run", "seconds", "MB/s", "peak MB", "notes"])
        if args.only_counting:
            return count_rows(path, mb, tmp, rows)
        if args.only_engines:
            return engine_rows(small, tok)
        memory, streams = [], []
        for _ in range(args.rounds):  # in turn, so that both meet the machine's slow and fast spells alike
            memory.append(run_measured(IN_MEMORY.format(tok=tok, path=path, mb=args.engine_mb)))
            streams.append(stream_encode(path, tok, tmp))
        r = min(memory, key=lambda r: r["seconds"])
        in_memory = r["mb"] / r["seconds"]
        every = ", ".join(f"{m['mb'] / m['seconds']:.1f}" for m in memory)
        rows.append([f"encode_batch in memory ({r['mb']:.0f} MB of lines)", f"{r['seconds']:.2f}", f"{in_memory:.1f}",
                     f"{r['peak_mb']:.0f}", f"best of {args.rounds} (MB/s: {every})"])  # fmt: skip
        seconds, peak, size = min(streams)
        every = ", ".join(f"{mb / s[0]:.1f}" for s in streams)
        note = f"{mb / seconds / in_memory:.2f}x in-memory MB/s; {size / 1e6:.0f} MB written; best of {args.rounds}"
        note += f" ({every})"
        rows.append([f"subtok encode --format bin ({mb:.0f} MB)", f"{seconds:.2f}", f"{mb / seconds:.1f}",
                     f"{peak:.0f}", note])  # fmt: skip
        count_rows(path, mb, tmp, rows)

        if not args.skip_engines:
            engine_rows(small, tok)


def engine_rows(small: str, tok: str) -> None:
    """Ray and Spark in local mode, 1 and 2 workers, over ``small``: counting, encoding, and training's
    merges against one machine's."""
    rows = []
    small_mb = os.path.getsize(small) / 1e6
    for engine in ("ray", "spark"):
        base = None
        for workers in (1, 2):
            code = ENGINE.format(path=small, tok=tok, engine=engine, workers=workers, check_train=workers == 2)
            try:
                r = run_measured(code)
            except RuntimeError as e:
                rows.append([engine, workers, "failed", str(e).strip().splitlines()[-1][:80], *[""] * 5])
                break
            base = base or r
            rows.append([engine, workers, f"{small_mb / r['count_s']:.1f}", f"{base['count_s'] / r['count_s']:.2f}x",
                         f"{r['count_cores']:.2f}", f"{small_mb / r['encode_s']:.1f}",
                         f"{base['encode_s'] / r['encode_s']:.2f}x", f"{r['encode_cores']:.2f}",
                         "" if r["same"] is None else f"merges as one machine's: {r['same']}"])  # fmt: skip
    print(f"\nengines, local mode, {small_mb:.0f} MB")
    print_table(rows, ["engine", "workers", "count MB/s", "vs 1 worker", "cores busy", "encode MB/s", "vs 1 worker",
                       "cores busy", "notes"])  # fmt: skip


if __name__ == "__main__":
    main()
