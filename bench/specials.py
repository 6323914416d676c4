"""Encoding with many special tokens: thousands that share a prefix ("<|special_k|>") against a few, on a
text where "<|" appears every few words (the worst case for matching them one by one).

Usage: python bench/specials.py  (prints milliseconds per encode of a 180 kB text, both backends)
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from common import machine  # noqa: E402

from subtok import Tokenizer, _backend  # noqa: E402


def main() -> None:
    base = Tokenizer.train(["hello world the quick brown fox"] * 50, vocab_size=300, min_frequency=1)
    text = "the quick <|brown fox jumps <|special_x over the lazy dog " * 3000
    print(machine(), f"text {len(text):,} characters")
    for backend in ("native", "python"):
        if backend == "native" and _backend._native is None:
            continue
        with _backend.using(backend):
            for n in (3, 300, 3000):
                tok = Tokenizer.from_dict(base.to_dict())
                tok.add_special_tokens([f"<|special_{k}|>" for k in range(n)])
                tok.encode("warm up")
                best = min(_timed(tok.encode, text) for _ in range(3))
                print(f"{backend:7} {n:5} special tokens: {best * 1000:7.1f} ms per encode")


def _timed(fn, arg) -> float:
    t0 = time.perf_counter()
    fn(arg)
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
