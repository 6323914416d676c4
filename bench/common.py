"""Helpers shared by the bench scripts: the reference corpora, the mixed corpus file, timing, memory."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

SHARED_CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
if "SUBTOK_DATA" not in os.environ and SHARED_CORPORA.is_dir():  # the library reads data only via $SUBTOK_DATA
    os.environ["SUBTOK_DATA"] = str(SHARED_CORPORA)

from subtok.datasets import cache_dir, data_dir  # noqa: E402

MIXED_PARTS = ("ptb/ptb.train.txt", "tinyshakespeare/input.txt", "wikitext2/wiki.test.raw.noblank.txt")


def require_data() -> Path:
    path = data_dir()
    if path is None or not path.is_dir():
        sys.exit("reference corpora not found: set SUBTOK_DATA to the shared corpora directory")
    return path


def mixed_corpus() -> Path:
    """PTB train + Tiny Shakespeare + WikiText-2 test + the Korean reviews' text column (about 11.7 MB)."""
    out = cache_dir() / "bench-mixed.txt"
    if out.exists():
        return out
    data = require_data()
    tmp = out.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for part in MIXED_PARTS:
            f.write((data / part).read_text(encoding="utf-8"))
        with open(data / "korean" / "nsmc_raw_sample.tsv", encoding="utf-8") as src:
            next(src)
            for line in src:
                fields = line.rstrip("\n").split("\t")
                if len(fields) >= 2:
                    f.write(fields[1] + "\n")
    os.replace(tmp, out)
    return out


# VmHWM is this process's own peak: ru_maxrss survives exec on Linux and would report the parent's
_REPORT = """
import json
with open("/proc/self/status") as _f:
    out["peak_mb"] = next(int(l.split()[1]) for l in _f if l.startswith("VmHWM")) / 1024
print(json.dumps(out))
"""


def run_measured(code: str, env: dict | None = None) -> dict:
    """Run Python ``code`` in a fresh process; it must leave a dict in ``out``. Returns ``out`` plus the
    process's peak resident memory in MB, so each contender's memory is measured alone."""
    wrapper = code + _REPORT
    env = {**os.environ, **(env or {})}
    res = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, env=env)
    if res.returncode != 0:
        raise RuntimeError(res.stderr)
    return json.loads(res.stdout.strip().splitlines()[-1])


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def print_table(rows: list[list], header: list[str]) -> None:
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    for r in [header, ["-" * w for w in widths]] + rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
