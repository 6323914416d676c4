"""WordPiece: training and encoding against HF tokenizers (a BertWordPieceTokenizer-equivalent pipeline on
our own vocabulary), ids and offsets checked identical on every line, a long word, and likelihood against
frequency scoring on held-out text.

Usage: python bench/wordpiece.py [--vocab 30000]
Training: the 11.7 MB mixed corpus, each trainer in its own process (time, peak memory). Encoding: our
vocabulary exported to tokenizer.json and loaded by HF; text: WikiText-2 test + Tiny Shakespeare + the
Korean reviews + lines in Chinese, Japanese, Russian and Arabic, one line per item; 1 thread each
(HF with TOKENIZERS_PARALLELISM=false) and all threads.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from common import machine, mixed_corpus, print_table, require_data, run_measured  # noqa: E402

SUBTOK = """
import time, subtok
t = time.perf_counter()
tok = subtok.Tokenizer.train({path!r}, model='wordpiece', vocab_size={vocab}, scoring={scoring!r},
                             min_frequency={min_frequency}, limit_alphabet=1000, show_progress=False)
out = dict(seconds=time.perf_counter() - t)
tok.save({out!r})
"""

HF_TRAIN = """
import time
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
t = time.perf_counter()
tok = Tokenizer(models.WordPiece(unk_token='[UNK]'))
tok.normalizer = normalizers.BertNormalizer(lowercase=True)
tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
trainer = trainers.WordPieceTrainer(vocab_size={vocab}, min_frequency=2, limit_alphabet=1000, show_progress=False,
                                    special_tokens=['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'])
tok.train([{path!r}], trainer)
out = dict(seconds=time.perf_counter() - t)
"""

HF_ENCODE = """
import time, json, tokenizers
hf = tokenizers.Tokenizer.from_file({hf_json!r})
lines = json.load(open({lines_json!r}))
best = 1e9
for _ in range(3):
    t = time.perf_counter(); enc = hf.encode_batch(lines); best = min(best, time.perf_counter() - t)
json.dump([[e.ids, e.offsets] for e in enc], open({result_json!r}, 'w'))
out = dict(seconds=best)
"""

VARIANTS = (("frequency", 2), ("likelihood", 2), ("likelihood", 20))
EXTRA = [
    "東京都は日本の首都であり、最大の都市です。北京是中华人民共和国的首都。",
    "Москва — столица России, крупнейший по численности населения город страны.",
    "القاهرة هي عاصمة جمهورية مصر العربية وأكبر مدنها.",
    "Ünïcödé naïve café — “quotes” İstanbul ﬁne\u00a0nbsp\u200bzero-width [CLS] inside",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--vocab", type=int, default=30000)
    args = ap.parse_args()
    data = require_data()
    corpus = str(mixed_corpus())
    work = os.path.join(os.path.dirname(corpus), "bench-wordpiece")
    os.makedirs(work, exist_ok=True)
    print(f"machine: {machine()}\n")

    # -- training ------------------------------------------------------------------------------------
    rows = []
    hf = run_measured(HF_TRAIN.format(path=corpus, vocab=args.vocab))
    paths = {}
    for scoring, min_frequency in VARIANTS:
        name = f"{scoring}, min_frequency {min_frequency}"
        paths[name] = os.path.join(work, f"wp-{scoring}-{min_frequency}-{args.vocab}.json")
        code = SUBTOK.format(
            path=corpus, vocab=args.vocab, scoring=scoring, min_frequency=min_frequency, out=paths[name]
        )
        r = run_measured(code)
        rows.append(
            [
                f"subtok WordPiece ({name})",
                f"{r['seconds']:.2f}",
                f"{r['peak_mb']:.0f}",
                f"{r['seconds'] / hf['seconds']:.2f}x",
            ]
        )
    rows.append(["HF WordPieceTrainer (frequency)", f"{hf['seconds']:.2f}", f"{hf['peak_mb']:.0f}", "1.00x"])
    print(f"training, {os.path.getsize(corpus) / 1e6:.1f} MB, vocab {args.vocab}")
    print_table(rows, ["trainer", "seconds", "peak MB", "time / HF"])

    # -- encoding ------------------------------------------------------------------------------------
    import json

    from subtok import Tokenizer

    text = (data / "wikitext2/wiki.test.raw.noblank.txt").read_text(encoding="utf-8")
    text += (data / "tinyshakespeare/input.txt").read_text(encoding="utf-8")
    with open(data / "korean/nsmc_raw_sample.tsv", encoding="utf-8") as f:
        korean = [line.split("\t")[1] + "\n" for line in itertools.islice(f, 1, None)]
    lines = text.splitlines(keepends=True) + korean + EXTRA * 200
    mb = sum(len(line.encode("utf-8")) for line in lines) / 1e6
    lines_json, hf_json, result_json = (os.path.join(work, n) for n in ("lines.json", "hf.json", "hf-out.json"))
    json.dump(lines, open(lines_json, "w"))
    tok = Tokenizer.load(paths["likelihood, min_frequency 2"])
    tok.save_huggingface(hf_json)
    tok.encode("warm up")

    def best(fn):
        times = []
        for _ in range(3):
            t = time.perf_counter()
            res = fn()
            times.append(time.perf_counter() - t)
        return min(times), res

    t1, ours = best(lambda: tok.encode_batch(lines, num_threads=1))
    t2, _ = best(lambda: tok.encode_batch(lines, num_threads=os.cpu_count()))
    t_flat, flat = best(lambda: tok.encode_batch(lines, num_threads=1, return_tensors="flat"))
    assert flat["input_ids"].tolist() == [i for e in ours for i in e.ids]  # the same ids as the Encodings'
    fmt = dict(hf_json=hf_json, lines_json=lines_json, result_json=result_json)
    hf1 = run_measured(HF_ENCODE.format(**fmt), {"TOKENIZERS_PARALLELISM": "false", "RAYON_NUM_THREADS": "1"})
    hfn = run_measured(HF_ENCODE.format(**fmt))
    theirs = json.load(open(result_json))
    bad_ids = sum(e.ids != h[0] for e, h in zip(ours, theirs))
    bad_off = sum([list(o) for o in e.offsets] != h[1] for e, h in zip(ours, theirs))
    rows = [
        ["HF encode_batch, 1 thread", f"{hf1['seconds']:.3f}", f"{mb / hf1['seconds']:.2f}", ""],
        ["subtok encode_batch, 1 thread", f"{t1:.3f}", f"{mb / t1:.2f}", f"{hf1['seconds'] / t1:.2f}x"],
        [
            "subtok encode_batch flat (ids as arrays), 1 thread",
            f"{t_flat:.3f}",
            f"{mb / t_flat:.2f}",
            f"{hf1['seconds'] / t_flat:.2f}x",
        ],
        [f"HF encode_batch, {os.cpu_count()} threads", f"{hfn['seconds']:.3f}", f"{mb / hfn['seconds']:.2f}", ""],
        [
            f"subtok encode_batch, {os.cpu_count()} threads",
            f"{t2:.3f}",
            f"{mb / t2:.2f}",
            f"{hfn['seconds'] / t2:.2f}x",
        ],
    ]
    print(f"\nencoding, {mb:.1f} MB in {len(lines)} lines (English, Korean, Chinese, Japanese, Russian, Arabic)")
    print_table(rows, ["run", "seconds", "MB/s", "speed vs HF"])
    print(f"identity with HF: {bad_ids} lines with other ids, {bad_off} with other offsets, of {len(lines)}")

    print("\na long word without spaces, frequency vocabulary (max_input_chars_per_word raised so it is not [UNK]):")
    from subtok.models.wordpiece import WordPiece

    long_model = WordPiece(
        Tokenizer.load(paths["frequency, min_frequency 2"]).model.vocab, max_input_chars_per_word=10**8
    )
    lin = []
    for n in (250_000, 500_000, 1_000_000):
        word = ("unbelievable" * (n // 12 + 1))[:n]
        t = time.perf_counter()
        ids = long_model.encode_word(word)
        lin.append(f"{n / 1e6:.2f} MB: {time.perf_counter() - t:.3f} s ({len(ids)} tokens)")
    print("  " + "; ".join(lin))

    # -- likelihood against frequency on held-out text -------------------------------------------------
    held = (data / "lee/lee_background.cor").read_text(encoding="utf-8") + (data / "ptb/ptb.test.txt").read_text(
        encoding="utf-8"
    )
    held_lines = held.splitlines()
    rows = []
    for scoring in paths:
        t = Tokenizer.load(paths[scoring])
        encs = t.encode_batch(held_lines, add_special_tokens=False)
        n_tokens = sum(len(e) for e in encs)
        n_unk = sum(e.ids.count(t.model.unk_id) for e in encs)
        n_words = sum(len(t.pre_tokenizer.words(t.normalizers[0].normalize_str(x))) for x in held_lines)
        rows.append([scoring, n_words, n_tokens, f"{n_tokens / n_words:.4f}", f"{n_unk / n_words:.5f}"])
    print(f"\nheld-out text (Lee news + PTB test, not in the training corpus), vocab {args.vocab}")
    print_table(rows, ["scoring", "words", "tokens", "tokens per word", "[UNK] per word"])
    base = rows[0][2]
    print("ratio of tokens to the frequency trainer's: " + ", ".join(f"{r[0]}: {r[2] / base:.3f}" for r in rows[1:]))


if __name__ == "__main__":
    main()
