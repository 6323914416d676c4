"""Published tokenizer pipelines: subtok reads each tokenizer.json (or tiktoken ranks) and must give HF's
(or tiktoken's) ids, offsets and decodes on every line of the multilingual text, at least as fast as HF
on one thread.

Pipelines: the five real files in the shared data (GPT-2, Qwen2, StarCoder, Llama-2 SentencePiece BPE,
BERT), and the layouts of other published models (their normalizer, pre-tokenizer, model options,
post-processor and decoder, as their tokenizer.json files have them) put on real published vocabularies
(GPT-2's, Qwen2's, Llama-2's); CLIP's needs an end-of-word suffix no shared vocabulary has, so HF trains
one here, and so does T5's (a Unigram model). cl100k and o200k: their patterns on Qwen2's ranks, against
tiktoken.

Usage: python bench/hf_pipelines.py [--lines 6000] [--english 20000] [--repeat 2]
HF runs on one thread (RAYON_NUM_THREADS=1); subtok's encode_batch on one thread; each timing is the best
of --repeat runs, each on a freshly loaded tokenizer (so no run finds the words cached by the one before).
"""

from __future__ import annotations

import os

os.environ.setdefault("RAYON_NUM_THREADS", "1")  # HF on one thread: set before tokenizers starts its pool
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse  # noqa: E402
import copy  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
import multilingual  # noqa: E402
from common import machine, mixed_corpus, print_table, require_data  # noqa: E402

import subtok  # noqa: E402
from subtok import Tokenizer  # noqa: E402
from subtok.text import PATTERNS  # noqa: E402

SHARED = ["gpt2", "qwen2", "starcoder", "llama-spm", "bert-bge"]


def byte_level(add_prefix_space=False, trim_offsets=True, use_regex=True) -> dict:
    return {
        "type": "ByteLevel",
        "add_prefix_space": add_prefix_space,
        "trim_offsets": trim_offsets,
        "use_regex": use_regex,
    }


def split(pattern: str, behavior: str = "Isolated", invert: bool = False) -> dict:
    return {"type": "Split", "pattern": {"Regex": pattern}, "behavior": behavior, "invert": invert}


def added(content: str, i: int, **flags) -> dict:
    return {"id": i, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
            "normalized": False, "special": True, **flags}  # fmt: skip


def sequence(*steps: dict) -> dict:
    return {"type": "Sequence", "pretokenizers": list(steps)}


def template(token: str, token_id: int) -> dict:
    """``token $A`` and ``token $A token:1 $B:1`` (Llama-3's)."""

    def piece(kind: str, ident: str, type_id: int) -> dict:
        return {kind: {"id": ident, "type_id": type_id}}

    single = [piece("SpecialToken", token, 0), piece("Sequence", "A", 0)]
    pair = single + [piece("SpecialToken", token, 1), piece("Sequence", "B", 1)]
    specials = {token: {"id": token, "ids": [token_id], "tokens": [token]}}
    return {"type": "TemplateProcessing", "single": single, "pair": pair, "special_tokens": specials}


# DeepSeek-V2's third split (its published pattern)
DEEPSEEK = (
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+"
    "| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"
)


def layouts(docs: dict[str, dict]) -> dict[str, dict]:
    """Published models' layouts on the shared vocabularies."""
    gpt2, qwen2, spm = docs["gpt2"], docs["qwen2"], docs["llama-spm"]
    out = {}

    def on(doc: dict, **parts) -> dict:
        new = copy.deepcopy(doc)
        new.update(parts)
        return new

    n = len(qwen2["model"]["vocab"])
    llama3 = on(
        qwen2,
        normalizer=None,
        pre_tokenizer=sequence(split(PATTERNS["llama3"]), byte_level(False, True, False)),
        added_tokens=[added("<|begin_of_text|>", n), added("<|end_of_text|>", n + 1)],
        post_processor={
            "type": "Sequence",
            "processors": [byte_level(True, False, True), template("<|begin_of_text|>", n)],
        },
        decoder=byte_level(True, True, True),
    )
    llama3["model"]["ignore_merges"] = True
    out["Llama-3 layout, Qwen2 vocab"] = llama3
    m = len(gpt2["model"]["vocab"])
    roberta_post = {"type": "RobertaProcessing", "sep": ["</s>", m + 1], "cls": ["<s>", m], "trim_offsets": True}
    out["RoBERTa layout, GPT-2 vocab"] = on(
        gpt2,
        pre_tokenizer=byte_level(True, True, True),
        added_tokens=[
            added("<s>", m),
            added("</s>", m + 1),
            added("<pad>", m + 2),
            added("<mask>", m + 3, lstrip=True),
        ],
        post_processor={**roberta_post, "add_prefix_space": True},
        decoder=byte_level(True, True, True),
    )
    out["GPT-NeoX layout, GPT-2 vocab"] = on(
        gpt2,
        normalizer={"type": "NFC"},
        pre_tokenizer=byte_level(False, True, True),
        post_processor=byte_level(False, True, True),
        decoder=byte_level(False, True, True),
    )
    out["Falcon layout, GPT-2 vocab"] = on(
        gpt2,
        pre_tokenizer=sequence(
            {"type": "Punctuation", "behavior": "Contiguous"},
            byte_level(False, True, True),
            {"type": "Digits", "individual_digits": False},
            split("[0-9][0-9][0-9]"),
        ),
        post_processor=None,
        decoder=byte_level(True, True, True),
    )
    out["DeepSeek layout, Qwen2 vocab"] = on(
        qwen2,
        normalizer=None,
        pre_tokenizer=sequence(
            split("\\p{N}{1,3}"), split("[一-龥\u3040-ゟ゠-ヿ]+"), split(DEEPSEEK), byte_level(False, True, False)
        ),
    )
    metaspace = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": False}
    out["Phi-3 layout, Llama-2 vocab"] = on(
        spm,
        normalizer=None,
        pre_tokenizer=metaspace,
        decoder={"type": "Sequence", "decoders": [metaspace, {"type": "ByteFallback"}, {"type": "Fuse"}]},
    )
    return out


def clip_layout(corpus: Path) -> dict:
    """CLIP's layout with a 16k vocabulary HF trains here (CLIP's own needs its files)."""
    from tokenizers import Regex, decoders, models, normalizers, pre_tokenizers, trainers
    from tokenizers import Tokenizer as HF

    tok = HF(models.BPE(unk_token="<|endoftext|>", end_of_word_suffix="</w>"))
    tok.normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex("\\s+"), " "), normalizers.Lowercase()]
    )
    clip = "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+"
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(clip), "removed", invert=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=16000, special_tokens=["<|startoftext|>", "<|endoftext|>"],
                                  end_of_word_suffix="</w>", initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)  # fmt: skip
    tok.train([str(corpus)], trainer)
    return json.loads(tok.to_str())


def t5_layout(corpus: Path, tmp: Path) -> dict:
    """A T5-style Unigram file: Metaspace, Unigram with byte fallback off, "$A </s>" appended, the Metaspace
    decoder; HF trains its 8k vocabulary on the first 3 MB of the mixed corpus (T5's own needs its file)."""
    from tokenizers import Tokenizer as HF
    from tokenizers import decoders, models, pre_tokenizers, processors, trainers

    part = tmp / "t5_corpus.txt"
    part.write_text(corpus.read_text(encoding="utf-8")[:3_000_000], encoding="utf-8")
    tok = HF(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    trainer = trainers.UnigramTrainer(vocab_size=8000, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>",
                                      show_progress=False)  # fmt: skip
    tok.train([str(part)], trainer)
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", pair="$A </s> $B </s>",
                                                       special_tokens=[("</s>", tok.token_to_id("</s>"))])  # fmt: skip
    return json.loads(tok.to_str())


def cold_best(make, encode, repeat: int) -> float:
    """Best time of ``encode(make())`` over ``repeat`` runs, each on a fresh tokenizer (empty caches, as on
    text never seen: a run over the same lines again would find every word cached)."""
    best = float("inf")
    for _ in range(repeat):
        tok = make()
        encode(tok, ["warm up"])
        t = time.perf_counter()
        encode(tok, None)
        best = min(best, time.perf_counter() - t)
    return best


def compare(name: str, doc: dict, lines: list[str], speed_text: list[str], repeat: int, tmp: Path) -> list:
    from tokenizers import Tokenizer as HF

    path = tmp / "tokenizer.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    theirs = HF.from_file(str(path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = Tokenizer.from_huggingface(path)
    expected, got = theirs.encode_batch(lines), ours.encode_batch(lines, num_threads=1)
    bad_ids = sum(e.ids != g.ids for e, g in zip(expected, got))
    bad_offsets = sum(e.ids == g.ids and e.offsets != g.offsets for e, g in zip(expected, got))
    bad_decode = sum(theirs.decode(e.ids) != ours.decode(e.ids) for e in expected)
    mb = sum(len(t.encode("utf-8")) for t in speed_text) / 1e6
    hf_s = cold_best(lambda: HF.from_file(str(path)), lambda t, x: t.encode_batch(x or speed_text), repeat)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours_s = cold_best(
            lambda: Tokenizer.from_huggingface(path),
            lambda t, x: t.encode_batch(x or speed_text, num_threads=1),
            repeat,
        )
    note = "; ".join(str(w.message).split(": ", 1)[-1][:90] for w in caught)
    return [name, f"{len(lines) - bad_ids}/{len(lines)}", bad_offsets, bad_decode, f"{mb / hf_s:.2f}",
            f"{mb / ours_s:.2f}", f"{hf_s / ours_s:.2f}x", note]  # fmt: skip


def compare_tiktoken(name: str, pattern: str, ranks: dict, lines, speed_text, repeat: int, tmp: Path) -> list:
    """tiktoken's ranks, pattern and special tokens (after a gap, as cl100k's): ids and decodes against
    tiktoken; speed against tiktoken and against HF on the same tokenizer (saved as tokenizer.json)."""
    import tiktoken
    from tokenizers import Tokenizer as HF

    n = max(ranks.values()) + 1
    specials = {"<|endoftext|>": n + 1, "<|fim_prefix|>": n + 2, "<|endofprompt|>": n + 19}
    theirs = tiktoken.Encoding(name, pat_str=PATTERNS[pattern], mergeable_ranks=ranks, special_tokens=specials)
    ours = Tokenizer.from_tiktoken(ranks, pattern, specials)
    expected = [theirs.encode(t, allowed_special="all") for t in lines]
    got = [e.ids for e in ours.encode_batch(lines, num_threads=1)]
    bad_ids = sum(e != g for e, g in zip(expected, got))
    bad_decode = sum(theirs.decode(e) != ours.decode(e, skip_special_tokens=False) for e in expected)
    path = tmp / "tiktoken.json"
    ours.save_huggingface(path)
    mb = sum(len(t.encode("utf-8")) for t in speed_text) / 1e6

    def tt_encode(enc, texts):
        return [enc.encode_ordinary(t) for t in texts or speed_text]

    tt_s = cold_best(lambda: tiktoken.Encoding(name, pat_str=PATTERNS[pattern], mergeable_ranks=ranks,
                                               special_tokens=specials), tt_encode, repeat)  # fmt: skip
    hf_s = cold_best(lambda: HF.from_file(str(path)), lambda t, x: t.encode_batch(x or speed_text), repeat)
    ours_s = cold_best(
        lambda: Tokenizer.from_tiktoken(ranks, pattern, specials),
        lambda t, x: t.encode_batch(x or speed_text, num_threads=1, add_special_tokens=False),
        repeat,
    )
    return [name, f"{len(lines) - bad_ids}/{len(lines)} (tiktoken)", "-", bad_decode, f"{mb / hf_s:.2f}",
            f"{mb / ours_s:.2f}", f"{hf_s / ours_s:.2f}x", f"tiktoken {mb / tt_s:.2f} MB/s"]  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lines", type=int, default=6000, help="lines of the multilingual text")
    ap.add_argument("--english", type=int, default=20000, help="English lines added for the speed runs")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    data = require_data()
    root = data.parent / "tokenizers"
    lines = multilingual.lines(args.lines)
    english = (data / "wikitext2" / "wiki.test.raw.noblank.txt").read_text(encoding="utf-8").split("\n")
    speed_text = lines + english[: args.english]
    mb = sum(len(t.encode("utf-8")) for t in speed_text) / 1e6
    print(f"multilingual text: {len(lines)} lines; speed text: {len(speed_text)} lines, {mb:.2f} MB; "
          f"backend {'native' if subtok.native_available() else 'pure Python'}; machine: {machine()}\n")  # fmt: skip
    docs = {name: json.loads(gzip.decompress((root / name / "tokenizer.json.gz").read_bytes())) for name in SHARED}
    pipelines = {f"{name} (published file)": doc for name, doc in docs.items()}
    pipelines.update(layouts(docs))
    pipelines["CLIP layout, vocab trained here"] = clip_layout(mixed_corpus())
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        pipelines["T5 layout (Unigram), vocab trained here"] = t5_layout(mixed_corpus(), Path(tmp))
        for name, doc in pipelines.items():
            rows.append(compare(name, doc, lines, speed_text, args.repeat, Path(tmp)))
            print(" | ".join(map(str, rows[-1])), flush=True)
        path = Path(tmp) / "qwen2.json"
        path.write_text(json.dumps(docs["qwen2"]), encoding="utf-8")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ranks = Tokenizer.from_huggingface(path).mergeable_ranks()
        for pattern in ("cl100k", "o200k"):
            rows.append(
                compare_tiktoken(
                    f"{pattern} pattern, Qwen2 ranks", pattern, ranks, lines, speed_text, args.repeat, Path(tmp)
                )
            )
            print(" | ".join(map(str, rows[-1])), flush=True)
    print()
    print_table(rows, ["pipeline", "lines with HF's ids", "other offsets", "other decodes", "HF MB/s", "subtok MB/s",
                       "speed vs HF", "notes"])  # fmt: skip


if __name__ == "__main__":
    main()
