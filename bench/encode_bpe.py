"""Byte-level BPE encoding: subtok against tiktoken and HF tokenizers on subtok's own 32k vocabulary,
plus sentencepiece (its own BPE model, for speed only), with an identity check of the ids on every line.

Usage: python bench/encode_bpe.py [--vocab 32000]
The tokenizer is trained by subtok on the 11.7 MB mixed corpus; encoding runs on its English part
(PTB train + Tiny Shakespeare + WikiText-2 test, 7.5 MB): whole text on one thread (as an Encoding, and as
encode_ordinary's list of ids against tiktoken's), 10 kB documents on one thread, and one line per item
in batches on 1 and 2 threads. Also times worst cases at three sizes (a quarter, half and one million
characters of one letter, random bytes, random letters and mixed scripts) to show the encoder is linear, with
tiktoken's time at a million beside it. Then the same ranks with the cl100k, o200k, Llama-3 and Qwen2 patterns
(native scanners), whole text on one thread against tiktoken with the same pattern.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from common import MIXED_PARTS, machine, mixed_corpus, print_table, require_data  # noqa: E402

import subtok  # noqa: E402
from subtok import Tokenizer  # noqa: E402
from subtok.text import PATTERNS  # noqa: E402


def best_of(fn, repeat=3):
    """Best wall time of ``repeat`` runs (the first also warms caches), and the last result."""
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return min(times), result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--vocab", type=int, default=32000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    data = require_data()
    corpus = mixed_corpus()
    tok_path = corpus.parent / f"bench-bpe-{args.vocab}.json"
    if not tok_path.exists():
        Tokenizer.train(corpus, vocab_size=args.vocab, show_progress=False).save(tok_path)
    tok = Tokenizer.load(tok_path)
    text = "".join((data / p).read_text(encoding="utf-8") for p in MIXED_PARTS)
    lines = text.splitlines(keepends=True)
    mb = len(text.encode("utf-8")) / 1e6
    print(
        f"text: {mb:.1f} MB, {len(lines)} lines; vocab {tok.vocab_size}; backend "
        f"{'native' if subtok.native_available() else 'pure Python'}; machine: {machine()}\n"
    )

    rows = []

    def row(name, seconds, ref=None):
        rows.append([name, f"{seconds:.3f}", f"{mb / seconds:.1f}", f"{ref / seconds:.2f}x" if ref else ""])

    import tiktoken
    import tokenizers

    enc_tt = tok.to_tiktoken()
    with tempfile.TemporaryDirectory() as tmp:
        tok.save_huggingface(os.path.join(tmp, "tokenizer.json"))
        hf = tokenizers.Tokenizer.from_file(os.path.join(tmp, "tokenizer.json"))

    # subtok's batches first: the peers leave worker threads behind that compete for the cores
    t_s1, st1 = best_of(lambda: tok.encode_batch(lines, num_threads=1), args.repeat)
    t_s2, st2 = best_of(lambda: tok.encode_batch(lines, num_threads=2), args.repeat)
    docs = [text[i : i + 100_000] for i in range(0, len(text), 100_000)]
    t_d1, _ = best_of(lambda: tok.encode_batch(docs, num_threads=1), args.repeat)
    t_d2, _ = best_of(lambda: tok.encode_batch(docs, num_threads=2), args.repeat)
    t_st, ids_st = best_of(lambda: tok.encode(text).ids, args.repeat)
    t_so, ids_so = best_of(lambda: tok.encode_ordinary(text), args.repeat)
    docs10 = []  # 10 kB documents: cut at the first newline after each 10,000 characters
    while sum(map(len, docs10)) < len(text):
        start = sum(map(len, docs10))
        cut = text.find("\n", start + 10_000)
        docs10.append(text[start : len(text) if cut < 0 else cut + 1])
    t_sd, ids_sd = best_of(lambda: tok.encode_ordinary_batch(docs10, num_threads=1), args.repeat)
    t_tt, ids_tt = best_of(lambda: enc_tt.encode(text, allowed_special="all"), args.repeat)
    t_tto, ids_tto = best_of(lambda: enc_tt.encode_ordinary(text), args.repeat)
    t_ttd, ids_ttd = best_of(lambda: enc_tt.encode_ordinary_batch(docs10, num_threads=1), args.repeat)
    t_tt1, _ = best_of(lambda: enc_tt.encode_batch(lines, num_threads=1, allowed_special="all"), args.repeat)
    t_tt2, _ = best_of(lambda: enc_tt.encode_batch(lines, num_threads=2, allowed_special="all"), args.repeat)
    t_hf, hf_out = best_of(lambda: hf.encode_batch(lines, add_special_tokens=False), args.repeat)
    whole_same = ids_tt == ids_st and ids_tto == ids_so and ids_sd == ids_ttd  # (encode matches special tokens)
    row("tiktoken encode (whole text, 1 thread)", t_tt)
    row("subtok encode, Encoding (whole text, 1 thread)", t_st, t_tt)
    row("tiktoken encode_ordinary (whole text, 1 thread)", t_tto)
    row("subtok encode_ordinary (whole text, 1 thread)", t_so, t_tto)
    row(f"tiktoken encode_ordinary_batch ({len(docs10)} 10 kB docs, 1 thread)", t_ttd)
    row(f"subtok encode_ordinary_batch ({len(docs10)} 10 kB docs, 1 thread)", t_sd, t_ttd)
    row("tiktoken encode_batch (lines, 1 thread)", t_tt1)
    row("tiktoken encode_batch (lines, 2 threads)", t_tt2)
    row("HF encode_batch (lines, all cores)", t_hf)
    row("subtok encode_batch (lines, 1 thread)", t_s1, t_tt1)
    row("subtok encode_batch (lines, 2 threads)", t_s2, t_tt2)
    row("subtok encode_batch (100k-char docs, 1 thread)", t_d1)
    row("subtok encode_batch (100k-char docs, 2 threads)", t_d2, t_d1)

    try:
        import sentencepiece as spm

        sp_prefix = corpus.parent / f"bench-sp-bpe-{args.vocab}"
        if not os.path.exists(f"{sp_prefix}.model"):
            spm.SentencePieceTrainer.train(
                input=str(corpus),
                model_prefix=str(sp_prefix),
                vocab_size=args.vocab,
                model_type="bpe",
                num_threads=os.cpu_count(),
                minloglevel=2,
                input_sentence_size=2_000_000,
                shuffle_input_sentence=True,
            )
        sp = spm.SentencePieceProcessor(model_file=f"{sp_prefix}.model")
        t_sp, _ = best_of(lambda: sp.encode(lines), args.repeat)
        row("sentencepiece encode (lines, own BPE model)", t_sp)
    except ImportError:
        print("sentencepiece not installed: skipped")

    print_table(rows, ["run", "seconds", "MB/s", "speed vs peer above"])
    st_lines = [e.ids for e in st1]
    mism_tt = sum(a != b for a, b in zip(st_lines, enc_tt.encode_batch(lines, allowed_special="all")))
    mism_hf = sum(a != e.ids for a, e in zip(st_lines, hf_out))
    same_threads = st_lines == [e.ids for e in st2]
    print(
        f"\nidentity: whole text and 10 kB documents subtok == tiktoken: {whole_same}; per line: {mism_tt} lines "
        f"differ from tiktoken, {mism_hf} from HF, of {len(lines)}; 2 threads == 1 thread: {same_threads}"
    )
    print(f"encode_batch scaling, 2 threads / 1 thread: lines {t_s1 / t_s2:.2f}x, documents {t_d1 / t_d2:.2f}x")

    print("\nother published patterns on the same ranks (from_tiktoken), whole text, one thread, against tiktoken")
    ranks, other = tok.mergeable_ranks(), []
    for pattern in ("cl100k", "o200k", "llama3", "qwen2"):
        ours = Tokenizer.from_tiktoken(ranks, pattern, {})
        theirs = tiktoken.Encoding(pattern, pat_str=PATTERNS[pattern], mergeable_ranks=ranks, special_tokens={})
        t_ours, ids_ours = best_of(lambda o=ours: o.encode_ordinary(text), args.repeat)
        t_theirs, ids_theirs = best_of(lambda e=theirs: e.encode_ordinary(text), args.repeat)
        t_one, _ = best_of(lambda o=ours: o.encode("a" * 1_000_000).ids, 1)  # one long pre-token: linear
        other.append([pattern, f"{mb / t_theirs:.1f}", f"{mb / t_ours:.1f}", f"{t_theirs / t_ours:.2f}x",
                      ids_ours == ids_theirs, f"{t_one * 1000:.0f}"])  # fmt: skip
    print_table(other, ["pattern", "tiktoken MB/s", "subtok MB/s", "subtok / tiktoken", "ids equal", "1 MB 'a' (ms)"])

    print(
        "\nworst cases: n characters of each kind, encode_ordinary on one thread (milliseconds; best of --repeat, each"
        " run a text of its own, so that no run finds the words of the one before in the cache)"
    )
    rng = random.Random(0)
    letters = [chr(c) for c in range(0x10000) if chr(c).isalpha()]
    mixed = "abcdefghijklmnopqrstuvwxyzабвгдежзийклмнопрстуфхцчшщ你好世界中文字符한국어문장      0123456789.,!?"
    lin = []
    for name, make in (
        ("one letter ('a')", lambda n: "a" * n),  # one pre-token of n bytes
        ("random bytes (latin-1)", lambda n: bytes(rng.randrange(256) for _ in range(n)).decode("latin-1")),
        ("random BMP letters", lambda n: "".join(rng.choice(letters) for _ in range(n))),  # one long pre-token
        ("mixed scripts", lambda n: "".join(rng.choice(mixed) for _ in range(n))),  # many short unique words
    ):
        times = []
        for n in (250_000, 500_000, 1_000_000):
            best = float("inf")
            for _ in range(args.repeat):
                s = make(n)
                start = time.perf_counter()
                ids = tok.encode_ordinary(s)
                best = min(best, time.perf_counter() - start)
                assert tok.decode(ids) == s
            times.append(best)
        t_tt, ids_tt = best_of(lambda s=s: enc_tt.encode_ordinary(s), 1)
        lin.append([name, *(f"{t * 1000:.0f}" for t in times), f"{times[2] / times[0]:.2f}", f"{t_tt * 1000:.0f}",
                    f"{t_tt / times[2]:.2f}x", ids == ids_tt])  # fmt: skip
    header = ["input", "0.25 M (ms)", "0.5 M (ms)", "1 M (ms)", "1 M / 0.25 M", "tiktoken 1 M (ms)", "ratio",
              "ids equal"]  # fmt: skip
    print_table(lin, header)


if __name__ == "__main__":
    main()
