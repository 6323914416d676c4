"""Training on a corpus that is one very long line: peak memory per model (issue 16).

Usage: python bench/long_line.py [--mb 33]
Writes a file of one line of about --mb MB (random words of a-j, space-separated, seeded), then trains
each model on it in its own process (vocab 2000, one counting worker) and prints seconds and peak memory.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from common import machine, print_table, run_measured  # noqa: E402

TRAIN = """
import time, subtok
t = time.perf_counter()
subtok.Tokenizer.train({path!r}, model={model!r}, vocab_size=2000, num_workers=1, show_progress=False, **{options!r})
out = dict(seconds=time.perf_counter() - t)
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=33)
    args = ap.parse_args()
    rng = random.Random(0)
    words = ["".join(rng.choice("abcdefghij") for _ in range(rng.randrange(2, 8))) for _ in range(5000)]
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "line.txt")
        with open(path, "w") as f:
            size = 0
            while size < args.mb * 1e6:
                chunk = " ".join(rng.choice(words) for _ in range(10000)) + " "
                f.write(chunk)
                size += len(chunk)
            f.write("\n")
        rows = []
        for model, options in (("word", {}), ("bpe", {"byte_level": False}), ("unigram", {})):
            got = run_measured(TRAIN.format(path=path, model=model, options=options))
            rows.append([model, f"{got['seconds']:.1f}", f"{got['peak_mb']:.0f}"])
        print(machine(), f"one line of {size / 1e6:.1f} MB")
        print_table(rows, ["model", "seconds", "peak MB"])


if __name__ == "__main__":
    main()
