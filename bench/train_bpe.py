"""BPE training: subtok (native, and pure Python) against HF tokenizers, sentencepiece and YouTokenToMe.

Usage: python bench/train_bpe.py [--vocab 8000 32000] [--big] [--gb] [--repeat N] [--phases]
Trains on the 11.7 MB mixed corpus (PTB train + Tiny Shakespeare + WikiText-2 test + NSMC text), each
contender in its own process (so peak memory is its own), all allowed every core, and prints seconds,
MB/s, peak memory and the ratio to HF. subtok and HF train byte-level BPE with the same options;
sentencepiece (BPE, character coverage 0.9995) and YouTokenToMe (BPE) are character-level, for reference.
--big also trains on a 100 MB corpus made from the mixed one (each copy's words varied so the vocabulary
grows) to show that training keeps word counts, not text; --gb on a 1 GB one made the same way (subtok
and HF, 32k). --repeat N: each contender's best of N processes (this VM's timings move by tens of
percent). --phases: subtok's time split into counting (WordCounts.from_corpus) and the rest
(Tokenizer.train_from_counts: the merges and the model), in processes of their own.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from common import machine, mixed_corpus, print_table, run_measured  # noqa: E402

SPECIALS = ["<unk>", "<pad>", "<bos>", "<eos>"]

SUBTOK = """
import time, subtok
t = time.perf_counter()
tok = subtok.Tokenizer.train({path!r}, vocab_size={vocab}, min_frequency=2, special_tokens={specials!r},
                             show_progress=False)
out = dict(seconds=time.perf_counter() - t, vocab=tok.vocab_size, merges=len(tok.model.merges),
           backend='native' if subtok.native_available() else 'python')
"""

HF = """
import time
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
t = time.perf_counter()
tok = Tokenizer(models.BPE())
tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
trainer = trainers.BpeTrainer(vocab_size={vocab}, min_frequency=2, special_tokens={specials!r},
                              initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
tok.train([{path!r}], trainer)
out = dict(seconds=time.perf_counter() - t, vocab=tok.get_vocab_size(), backend='tokenizers (Rust)')
"""


SENTENCEPIECE = """
import time, os, tempfile, sentencepiece as spm
t = time.perf_counter()
with tempfile.TemporaryDirectory() as d:
    spm.SentencePieceTrainer.train(input={path!r}, model_prefix=os.path.join(d, 'm'), vocab_size={vocab},
                                   model_type='bpe', num_threads=os.cpu_count(), minloglevel=2,
                                   character_coverage=0.9995, train_extremely_large_corpus=False)
out = dict(seconds=time.perf_counter() - t)
"""

YTTM = """
import time, os, tempfile, youtokentome as yttm
t = time.perf_counter()
with tempfile.TemporaryDirectory() as d:
    yttm.BPE.train(data={path!r}, model=os.path.join(d, 'm.yttm'), vocab_size={vocab}, n_threads=-1)
out = dict(seconds=time.perf_counter() - t)
"""


def big_corpus(path: str, target_mb: int = 100) -> str:
    """The mixed corpus repeated to ``target_mb``, copy k varying every 5th word (suffix k), so that each
    copy adds word types and the counts differ."""
    out = os.path.join(os.path.dirname(path), f"bench-big-{target_mb}mb.txt")
    if os.path.exists(out):
        return out
    text = open(path, encoding="utf-8").read()
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        k, written = 0, 0
        while written < target_mb * 1_000_000:
            if k == 0:
                chunk = text
            else:
                words = text.split(" ")
                words[k % 5 :: 5] = [w + str(k) if w and w[-1] != "\n" else w for w in words[k % 5 :: 5]]
                chunk = " ".join(words)
            f.write(chunk)
            written += len(chunk.encode("utf-8"))
            k += 1
    os.replace(tmp, out)
    return out


PHASES = """
import time, subtok
from subtok.corpus import WordCounts
t = time.perf_counter()
counts = WordCounts.from_corpus({path!r}, special_tokens={specials!r}, show_progress=False)
counted = time.perf_counter()
tok = subtok.Tokenizer.train_from_counts(counts, vocab_size={vocab}, min_frequency=2, special_tokens={specials!r},
                                         show_progress=False)
out = dict(count=counted - t, train=time.perf_counter() - counted, words=len(counts))
"""


def best_of(code: str, repeat: int, env: dict | None = None) -> dict:
    """The run with the fewest seconds of ``repeat`` fresh processes (its peak memory with it)."""
    return min((run_measured(code, env) for _ in range(repeat)), key=lambda r: r["seconds"])


def peers(fmt: dict, only_hf: bool = False) -> list[tuple[str, str]]:
    out = [("HF tokenizers (byte-level)", HF)]
    if only_hf:
        return out
    for module, name, code in (
        ("sentencepiece", "sentencepiece (char BPE)", SENTENCEPIECE),
        ("youtokentome", "YouTokenToMe (char BPE)", YTTM),
    ):
        try:
            __import__(module)
            out.append((name, code))
        except ImportError:
            print(f"{module} not installed: skipped")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--vocab", type=int, nargs="+", default=[8000, 32000])
    ap.add_argument("--no-native", action="store_true", help="pure Python only")
    ap.add_argument("--big", action="store_true", help="also the 100 MB corpus (memory)")
    ap.add_argument("--gb", action="store_true", help="also a 1 GB corpus (subtok and HF, 32k)")
    ap.add_argument("--repeat", type=int, default=1, help="best of this many processes per contender")
    ap.add_argument("--phases", action="store_true", help="subtok native's counting and merging apart")
    args = ap.parse_args()
    path = str(mixed_corpus())
    print(f"machine: {machine()}\n")
    rows, phases = [], []
    runs = [(path, vocab, False) for vocab in args.vocab]
    if args.big:
        runs.append((big_corpus(path), 32000, True))
    if args.gb:
        runs.append((big_corpus(path, 1000), 32000, True))
    for corpus, vocab, big in runs:
        mb = os.path.getsize(corpus) / 1e6
        fmt = dict(path=corpus, vocab=vocab, specials=SPECIALS)
        results = [(name, best_of(code.format(**fmt), args.repeat)) for name, code in peers(fmt, only_hf=big)]
        hf = results[0][1]
        contenders = [("subtok native", {})]
        if not args.no_native and not big:
            contenders.append(("subtok pure Python", {"SUBTOK_NO_NATIVE": "1"}))
        if args.no_native:
            contenders = [("subtok pure Python", {"SUBTOK_NO_NATIVE": "1"})]
        for name, env in contenders:
            r = best_of(SUBTOK.format(**fmt), args.repeat, env)
            results.insert(0, (f"{name} ({r['backend']})" if r["backend"] not in name else name, r))
        if args.phases and not args.no_native:
            p = min(
                (run_measured(PHASES.format(**fmt)) for _ in range(args.repeat)), key=lambda r: r["count"] + r["train"]
            )
            phases.append([f"{mb:.1f} MB", vocab, p["words"], f"{p['count']:.2f}", f"{p['train']:.2f}"])
        for name, r in results:
            rows.append(
                [
                    f"{mb:.1f} MB",
                    vocab,
                    name,
                    f"{r['seconds']:.2f}",
                    f"{mb / r['seconds']:.2f}",
                    f"{r['peak_mb']:.0f}",
                    f"{r['seconds'] / hf['seconds']:.2f}x",
                ]
            )
    print_table(rows, ["corpus", "vocab", "trainer", "seconds", "MB/s", "peak MB", "time / HF"])
    if phases:
        print("\nsubtok native in two calls (each best of --repeat):")
        print_table(phases, ["corpus", "vocab", "words", "counting s", "merges and model s"])


if __name__ == "__main__":
    main()
