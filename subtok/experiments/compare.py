"""The UNK-vs-subword experiment: a word-level LM with ``<unk>`` and subword LMs (byte-level BPE,
WordPiece) trained on the same text with the same LSTM and budget, scored on the same test text by words
and characters (see ``scoring``), the ``<unk>`` model paying to spell out each unknown word.

Steps: read the corpus and render every line as its words joined by single spaces (the text every model
is scored on; blank lines dropped); split it into train / valid / test by documents or lines with a seeded
shuffle (PTB keeps its own split); train the three tokenizers on the train split with one vocabulary size;
train one LSTM LM per tokenizer for the same number of epochs; score valid (per epoch) and test.
"""

from __future__ import annotations

import math
import os
import platform
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Optional, Union

import numpy as np

from .. import _backend, datasets, show
from .._io import atomic_write_json
from ..corpus import read_lines
from ..errors import CorpusError, SubtokError
from ..lm import RNNLM, LMTrainer
from ..nn.threads import DEFAULT_BLAS_THREADS, blas_description, check_blas_threads, pinned_blas_threads
from ..show import unknown_id
from ..tokenizer import Tokenizer
from . import report_page, scoring
from .spelling import SpellingModel

EOL = "<eos>"
BANDS = ("frequent", "rare", "unseen")
BAND_HELP = {
    "frequent": "in the word model's vocabulary",
    "rare": "seen in training but outside the word model's vocabulary (its <unk>)",
    "unseen": "never seen in training",
}
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)


# ---------------------------------------------------------------------------------------------------------
# Text and splits
# ---------------------------------------------------------------------------------------------------------
def render(line: str) -> str:
    """The agreed form of a line: its whitespace-separated words joined by single spaces."""
    return " ".join(line.split())


def _units(lines: Sequence[str], unit: str) -> list[list[str]]:
    """Rendered lines grouped into split units: a document is a run of lines between blank lines."""
    if unit == "line":
        return [[r] for r in map(render, lines) if r]
    docs: list[list[str]] = [[]]
    for line in lines:
        r = render(line)
        if r:
            docs[-1].append(r)
        elif docs[-1]:
            docs.append([])
    return [d for d in docs if d]


def _take(units: list[list[str]], max_words: Optional[int]) -> list[str]:
    """The lines of the units in order, stopping after the unit that reaches ``max_words``."""
    out: list[str] = []
    words = 0
    for u in units:
        if max_words is not None and words >= max_words:
            break
        out.extend(u)
        words += sum(line.count(" ") + 1 for line in u)
    return out


def load_splits(
    corpus: Union[str, os.PathLike],
    seed: int = 0,
    unit: str = "auto",
    max_train_words: Optional[int] = None,
    max_eval_words: Optional[int] = None,
    show_progress: Optional[bool] = None,
) -> tuple[dict[str, list[str]], dict]:
    """Rendered train / valid / test lines of a named corpus or a UTF-8 file, and a description of the
    split. ``unit`` "document" (runs of lines between blank lines), "line", or "auto" (documents when the
    text has blank lines). Units are shuffled with ``seed`` and cut 80 / 10 / 10; a corpus with its own
    splits (PTB) keeps them. The caps keep the first units of each split up to that many words."""
    if isinstance(corpus, str) and corpus in datasets.CORPUS_NAMES:
        texts = datasets.load_texts(corpus, show_progress)
        name = corpus
    else:
        path = Path(corpus)
        if not path.is_file():
            raise CorpusError(
                f"corpus {str(corpus)!r} is neither a file nor a named corpus ({', '.join(datasets.CORPUS_NAMES)})"
            )
        texts = {"all": [line.rstrip("\n") for line in read_lines(path)]}
        name = str(path)
    if unit not in ("auto", "document", "line"):
        raise SubtokError(f"unit must be 'auto', 'document' or 'line', not {unit!r}")
    rng = np.random.default_rng(seed)
    if "all" in texts:
        lines = texts["all"]
        if unit == "auto":
            unit = "document" if any(not line.strip() for line in lines) else "line"
        units = _units(lines, unit)
        order = rng.permutation(len(units))
        n_train = int(len(units) * SPLIT_FRACTIONS[0])
        n_valid = int(len(units) * SPLIT_FRACTIONS[1])
        parts = {
            "train": [units[i] for i in order[:n_train]],
            "valid": [units[i] for i in order[n_train : n_train + n_valid]],
            "test": [units[i] for i in order[n_train + n_valid :]],
        }
        cut = " / ".join(f"{f:.0%}" for f in SPLIT_FRACTIONS)
        how = f"{len(units)} {unit}s shuffled with seed {seed}, cut {cut}"
    else:
        parts = {split: _units(texts[split], "line") for split in ("train", "valid", "test")}
        how = "the corpus's own train / valid / test files"
    splits = {
        split: _take(units, max_train_words if split == "train" else max_eval_words) for split, units in parts.items()
    }
    for split, lines in splits.items():
        if not lines:
            raise CorpusError(f"{name}: the {split} split is empty; the corpus is too small to split")
    info = {
        "corpus": name,
        "split": how,
        **{f"{split}_words": sum(line.count(" ") + 1 for line in lines) for split, lines in splits.items()},
    }
    return splits, info


# ---------------------------------------------------------------------------------------------------------
# Tokenizers and models
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelSpec:
    """One LM of the comparison: the tokenizer it reads (``tokenizer``, a key of TOKENIZERS) and how its
    training text is segmented: ``draw`` None (the tokenizer's one segmentation), "dropout" (a fresh
    BPE-dropout segmentation each epoch) or "sampling" (a fresh Unigram sample each epoch). Every model is
    scored on its tokenizer's deterministic segmentation."""

    tokenizer: str
    draw: Optional[str] = None
    help: str = ""


MODELS = {
    "word": ModelSpec("word", help="word-level, the vocabulary's most frequent words, the rest <unk>"),
    "bpe": ModelSpec("bpe", help="byte-level BPE (GPT-2's pre-tokenizer)"),
    "wordpiece": ModelSpec("wordpiece", help="WordPiece, cased, split on whitespace"),
    "unigram": ModelSpec("unigram", help="Unigram (SentencePiece's algorithm), Viterbi segmentation"),
    "bpe-dropout": ModelSpec("bpe", "dropout", "the bpe tokenizer; LM trained on a fresh BPE-dropout draw each epoch"),
    "unigram-sampling": ModelSpec(
        "unigram", "sampling", "the unigram tokenizer; LM trained on a fresh sampled segmentation each epoch"
    ),
    "bpe-jamo": ModelSpec("bpe-jamo", help="byte-level BPE over Hangul decomposed into jamo"),
    "unigram-jamo": ModelSpec("unigram-jamo", help="Unigram over Hangul decomposed into jamo"),
}
DEFAULT_MODELS = ("word", "bpe", "wordpiece", "unigram", "bpe-dropout", "unigram-sampling")


def check_models(models: Sequence[str]) -> tuple[str, ...]:
    """The model names, checked: known, none twice, at least one."""
    if isinstance(models, str):
        models = [m.strip() for m in models.split(",") if m.strip()]
    models = tuple(models)
    unknown = [m for m in models if m not in MODELS]
    if unknown or not models or len(set(models)) != len(models):
        what = f"unknown model {unknown[0]!r}" if unknown else "models must be distinct and at least one"
        raise SubtokError(f"{what}; models: {', '.join(MODELS)}")
    return models


def _train_tokenizer(kind: str, train: Sequence[str], vocab_size: int, show_progress: Optional[bool]) -> Tokenizer:
    """One tokenizer of the comparison (``kind`` a key of TOKENIZERS), with an end-of-line token and
    ``vocab_size`` tokens in all. None normalizes the text into another one, so each gives a probability
    to the exact text (the jamo ones decompose Hangul losslessly; see ``normalizers.HangulJamo``)."""
    common = dict(vocab_size=vocab_size, show_progress=show_progress, num_workers=1)
    jamo = kind.endswith("-jamo")
    if kind == "word":
        return Tokenizer.train(
            train, model="word", pre_tokenizer="whitespace", special_tokens=("<unk>", EOL), min_frequency=1, **common
        )
    if kind == "wordpiece":
        return Tokenizer.train(
            train,
            model="wordpiece",
            normalizers=[],
            pre_tokenizer="whitespace",
            special_tokens=("[UNK]", EOL),
            scoring="frequency",
            **common,
        )
    if kind.startswith("bpe"):
        return Tokenizer.train(
            train,
            model="bpe",
            byte_level=True,
            special_tokens=(EOL,),
            normalizers=["hangul_jamo"] if jamo else None,
            **common,
        )
    return Tokenizer.train(
        train,
        model="unigram",
        special_tokens=("<unk>", EOL),
        character_coverage=1.0,
        normalizers=["hangul_jamo", {"type": "SentencePiece"}] if jamo else None,
        num_threads=1,
        **common,
    )


TOKENIZERS = ("word", "bpe", "wordpiece", "unigram", "bpe-jamo", "unigram-jamo")


def train_tokenizers(
    train: Sequence[str],
    vocab_size: int,
    show_progress: Optional[bool] = None,
    kinds: Sequence[str] = ("word", "bpe", "wordpiece"),
) -> dict:
    """The tokenizers ``kinds`` (keys of TOKENIZERS), each with an end-of-line token and ``vocab_size``
    tokens in all. All split on whitespace, GPT-2's pattern or SentencePiece's spaces without normalizing,
    so each reproduces the rendered text exactly (the WordPiece is cased, unlike BERT's, for that reason;
    the Unigram keeps every training character, an unseen one is its unknown piece). WordPiece merges by
    frequency, as HF's trainer does: likelihood scoring at this size spends the vocabulary on rare pairs
    (see the README)."""
    return {kind: _train_tokenizer(kind, train, vocab_size, show_progress) for kind in kinds}


def segment_lines(tok: Tokenizer, lines: Sequence[str], layout: scoring.Layout, **draw) -> scoring.Segmentation:
    """The lines' segmentation (``draw``: encode_batch's sampling options, for a drawn one)."""
    encodings = tok.encode_batch(list(lines), add_special_tokens=False, **draw)
    return scoring.segment(encodings, layout, tok.token_to_id(EOL), unknown_id(tok), lines)


# ---------------------------------------------------------------------------------------------------------
# Scoring one model
# ---------------------------------------------------------------------------------------------------------
def score_text(
    model: RNNLM,
    seg: scoring.Segmentation,
    layout: scoring.Layout,
    spelling: SpellingModel,
    eol_id: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Token NLLs (the LM alone; the text starts after an end-of-line) and word NLLs (with spelling)."""
    token_nll = model.token_nll(seg.ids, start_id=eol_id)
    return token_nll, scoring.word_nll(token_nll, seg, layout, spelling.log_prob)


def _bands(layout: scoring.Layout, train_counts: Counter, in_vocab: set) -> dict[str, np.ndarray]:
    band_of = {}
    for w in set(layout.words):
        band_of[w] = "frequent" if w in in_vocab else "rare" if train_counts.get(w) else "unseen"
    labels = np.array([band_of[w] for w in layout.words])
    return {b: np.flatnonzero((labels == b) & ~layout.is_eol) for b in BANDS}


def _splits_of_unseen(tok: Tokenizer, seg: scoring.Segmentation, layout, unseen: np.ndarray, n: int = 8) -> dict:
    """How the subword model cut the words never seen in training: pieces per word and a few examples
    (the most frequent unseen words, ties by text)."""
    if not len(unseen):
        return {"pieces_per_word": None, "examples": {}}
    pieces = np.bincount(seg.word_of_token, minlength=layout.n_words)
    counts = Counter(layout.words[j] for j in unseen)
    first: dict[str, int] = {}
    for j in unseen.tolist():
        first.setdefault(layout.words[j], j)
    examples = {}
    for word, _ in sorted(counts.items(), key=lambda wc: (-wc[1], wc[0]))[:n]:
        lo, hi = np.searchsorted(seg.word_of_token, [first[word], first[word] + 1])  # tokens run in word order
        examples[word] = [tok.id_to_token(int(i)) for i in seg.ids[lo:hi]]
    return {"pieces_per_word": float(pieces[unseen].mean()), "examples": examples}


def _metrics(tok, seg, token_nll, word_nll, layout, bands) -> dict:
    total = float(word_nll.sum())
    words = ~layout.is_eol
    unk_words = np.zeros(layout.n_words, dtype=bool)
    unk_words[seg.word_of_token[seg.unk_positions]] = True
    ln2 = math.log(2)
    return {
        "vocab_size": tok.vocab_size,
        "oov_rate": float(unk_words[words].mean()),
        "n_tokens": int(len(seg.ids)),
        "tokens_per_word": float(len(seg.ids) / layout.n_words),
        "token_ppl": float(math.exp(token_nll.mean())),
        "word_ppl": scoring.word_ppl(total, layout.n_words),
        "bpc": scoring.bits_per_char(total, layout.n_chars),
        "total_nll": total,
        "spelling_nll": float(word_nll.sum() - token_nll.sum()),
        "bands": {
            b: {
                "words": int(len(idx)),
                "bits_per_word": float(word_nll[idx].mean() / ln2) if len(idx) else None,
            }
            for b, idx in bands.items()
        },
    }


# ---------------------------------------------------------------------------------------------------------
# The experiment
# ---------------------------------------------------------------------------------------------------------
def compare(
    corpus: Union[str, os.PathLike] = "default",
    vocab_size: int = 8000,
    epochs: int = 4,
    hidden_size: int = 128,
    cell: str = "lstm",
    num_layers: int = 1,
    dropout: float = 0.0,
    batch_size: int = 20,
    time_size: int = 35,
    lr: float = 20.0,
    max_grad: float = 0.25,
    lr_decay: float = 0.5,
    seed: int = 0,
    bpe_dropout: float = 0.1,
    unit: str = "auto",
    max_train_words: Optional[int] = None,
    max_eval_words: Optional[int] = None,
    out: Union[str, os.PathLike, None] = None,
    show_progress: Optional[bool] = None,
    log: Optional[Callable[[str], None]] = None,
    *,
    models: Union[str, Sequence[str]] = DEFAULT_MODELS,
    seeds: Optional[Sequence[int]] = None,
    sampling_alpha: float = 0.1,
    blas_threads: Optional[int] = DEFAULT_BLAS_THREADS,
    jobs: Optional[int] = 1,
) -> dict:
    """Train a word-level LM with ``<unk>`` and subword LMs (``models``: names in MODELS) on the same
    text and compare them on the same test text. Returns the report (also written as ``out``/report.json
    with a plot, compare.png, and a page, report.html, when ``out`` is given). Same arguments, same report
    (timings apart), on any machine with the same numpy and BLAS: the LMs train with numpy's BLAS pinned
    to ``blas_threads`` threads (report["environment"] says which ran).

    ``seed`` shuffles the split (and seeds the LMs when ``seeds`` is None); with ``seeds`` each LM trains
    once per seed (its initialization and its drawn segmentations) on the same split and tokenizers, and
    every figure is reported as the mean over seeds with its standard deviation (``spread``). Models
    "bpe-dropout" (``bpe_dropout``, the probability of skipping a merge) and "unigram-sampling"
    (``sampling_alpha``, over the whole lattice) train on a fresh segmentation of the training text every
    epoch and are scored on the deterministic one. The learning rate ``lr`` is multiplied by ``lr_decay``
    after every epoch (halved by default: at a constant rate the word model's figures moved by 8% from seed
    to seed; see bench/RESULTS.md). The runs (models x seeds) are independent: ``jobs``
    processes train them at once (None: one per core, at most one per run), with the same results as one
    process; they are spawned, so a script that calls this with ``jobs`` above 1 needs Python's ``if
    __name__ == "__main__":`` guard (``subtok compare`` runs one process per core by default)."""
    models = check_models(models)
    seeds = _check_seeds(seed if seeds is None else seeds)
    if not 0.0 < bpe_dropout < 1.0 and "bpe-dropout" in models:
        raise SubtokError(f"bpe_dropout must be in (0, 1) for the bpe-dropout model, not {bpe_dropout}")
    if not 0.0 < sampling_alpha and "unigram-sampling" in models:
        raise SubtokError(f"sampling_alpha must be above 0, not {sampling_alpha}")
    if vocab_size < 300:
        raise SubtokError(f"vocab_size must be at least 300 (byte-level BPE needs 256 bytes), not {vocab_size}")
    if epochs < 1:
        raise SubtokError(f"epochs must be at least 1, not {epochs}")
    if not 0 < lr_decay <= 1:
        raise SubtokError(f"lr_decay must be in (0, 1], not {lr_decay}")
    check_blas_threads(blas_threads)
    say = log or (lambda msg: None)
    if out is not None:
        _make_out_dir(Path(out))  # before the training, not after it
    t_start = time.perf_counter()
    splits, info = load_splits(corpus, seed, unit, max_train_words, max_eval_words, show_progress)
    sizes = ", ".join(f"{info[f'{split}_words']:,} {split}" for split in ("train", "valid", "test"))
    say(f"{info['corpus']}: {sizes} words ({info['split']})")
    train_counts = Counter(w for line in splits["train"] for w in line.split(" "))

    kinds = list(dict.fromkeys(MODELS[m].tokenizer for m in ("word", *models)))  # the word model's for the bands
    tokenizers = train_tokenizers(splits["train"], vocab_size, show_progress, kinds)
    word_vocab = set(tokenizers["word"].model.vocab) - {"<unk>", EOL}
    spelling = SpellingModel([w for w in train_counts if w not in word_vocab] or list(train_counts))

    lm_model = dict(  # RNNLM's arguments, the same for every tokenizer (its vocabulary size and seed apart)
        wordvec_size=hidden_size,
        hidden_size=hidden_size,
        num_layers=num_layers,
        cell=cell,
        dropout=dropout,
        tie_weights=True,
    )
    lm_training = dict(
        epochs=epochs,
        batch_size=batch_size,
        time_size=time_size,
        optimizer="sgd",
        lr=lr,
        max_grad=max_grad,
        lr_decay=lr_decay,
    )
    draws = {"dropout": {"dropout": bpe_dropout}, "sampling": {"sample": True, "alpha": sampling_alpha}}
    layouts = {split: scoring.Layout.of(splits[split]) for split in ("valid", "test")}
    bands = _bands(layouts["test"], train_counts, word_vocab)
    report: dict = {
        **info,
        "vocab_size": vocab_size,
        "n_words": layouts["test"].n_words,
        "n_chars": layouts["test"].n_chars,
        "n_lines": len(splits["test"]),
        "seeds": list(seeds),
        "lm": {**lm_model, **lm_training, "blas_threads": blas_threads},
        "segmentation_draws": {"bpe-dropout": draws["dropout"], "unigram-sampling": draws["sampling"]},
        "spelling_model": spelling.to_dict(),
        "bands": {b: {"words": int(len(idx)), "meaning": BAND_HELP[b]} for b, idx in bands.items()},
        "models": {},
        "timings": {},
    }
    with pinned_blas_threads(blas_threads):
        report["environment"] = {"python": platform.python_version(), **blas_description()}
    runs = [(name, s) for name in models for s in seeds]
    draws_of = {name: draws[MODELS[name].draw] if MODELS[name].draw else None for name in models}
    workers = _check_jobs(jobs, len(runs))
    report["environment"]["jobs"] = workers
    context = _RunContext(
        splits, layouts, spelling, bands, lm_model, lm_training, draws_of, blas_threads, _backend.name
    )
    results = _run_all(
        [(tokenizers[MODELS[n].tokenizer], n, s) for n, s in runs],
        context,
        workers,
        show_progress if workers == 1 else False,
    )
    for name in models:
        metrics = _over_seeds([results[name, s][0] for s in seeds], seeds)
        metrics["segmentation_draw"] = draws_of[name]
        report["models"][name] = metrics
        report["timings"][name] = round(sum(results[name, s][1] for s in seeds), 1)
        spread = f" ± {metrics['spread']['word_ppl']:.1f}" if len(seeds) > 1 else ""
        figures = f"word_ppl {metrics['word_ppl']:.1f}{spread}, bpc {metrics['bpc']:.3f}"
        say(f"{name}: {figures} ({report['timings'][name]} s)")
    report["samples"] = _samples(splits["test"], tokenizers, train_counts, word_vocab)
    report["timings"]["total"] = round(time.perf_counter() - t_start, 1)
    if out is not None:
        write_report(report, Path(out), say)
    return report


@dataclass
class _RunContext:
    """What every LM run of one comparison shares (sent once to each worker process)."""

    splits: dict
    layouts: dict
    spelling: SpellingModel
    bands: dict
    lm_model: dict
    lm_training: dict
    draws: dict
    blas_threads: Optional[int]
    backend: str


_context: Optional[_RunContext] = None  # a worker process's copy


def _init_worker(context: _RunContext) -> None:
    global _context
    _context = context


def _run_one(tok: Tokenizer, name: str, seed: int, context: Optional[_RunContext] = None, show_progress=False):
    """One LM run (model ``name``, LM seed ``seed``): its metrics and seconds."""
    c = context or _context
    t0 = time.perf_counter()
    with _backend.using(c.backend), pinned_blas_threads(c.blas_threads):
        metrics = _train_and_score(
            tok,
            c.splits,
            c.layouts,
            c.spelling,
            c.bands,
            {**c.lm_model, "seed": seed},
            c.lm_training,
            show_progress,
            c.draws[name],
        )
    return metrics, time.perf_counter() - t0


def _check_jobs(jobs: Optional[int], n_runs: int) -> int:
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise SubtokError(f"jobs must be None or a whole number of at least 1, not {jobs!r}")
    main_file = getattr(sys.modules["__main__"], "__file__", None)
    if main_file and not os.path.exists(main_file):
        return 1  # a script read from stdin: worker processes could not start from it
    return max(1, min(jobs or os.cpu_count() or 1, n_runs))


def _run_all(runs: list, context: _RunContext, workers: int, show_progress: Optional[bool]) -> dict:
    """Every (tokenizer, name, seed) run, one after another or on ``workers`` processes at once (each
    run is independent and seeded, and each pins its own BLAS threads: the same results either way)."""
    if workers == 1:
        return {(name, seed): _run_one(tok, name, seed, context, show_progress) for tok, name, seed in runs}
    import concurrent.futures
    import multiprocessing

    with concurrent.futures.ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker, initargs=(context,)
    ) as pool:
        futures = {(name, seed): pool.submit(_run_one, tok, name, seed) for tok, name, seed in runs}
        return {key: f.result() for key, f in futures.items()}


def _samples(test: Sequence[str], tokenizers: dict, train_counts: Counter, word_vocab: set, n: int = 4) -> list:
    """The first ``n`` test lines of 6 to 25 words that hold a word never seen in training and one outside
    the word model's vocabulary, each as every tokenizer cuts it (``show.segments``), for the page."""
    picked: list[str] = []
    for line in test:
        words = line.split(" ")
        unseen = any(w not in train_counts for w in words)
        if 6 <= len(words) <= 25 and unseen and any(w in train_counts and w not in word_vocab for w in words):
            picked.append(line)
            if len(picked) == n:
                break
    return [
        {
            "text": line,
            "segmentations": {
                kind: [asdict(seg) for seg in show.segments(tok, line, train_counts)]
                for kind, tok in tokenizers.items()
            },
        }
        for line in picked
    ]


def _check_seeds(seeds: Union[int, Sequence[int]]) -> tuple[int, ...]:
    seeds = (seeds,) if isinstance(seeds, int) and not isinstance(seeds, bool) else tuple(seeds)
    if not seeds or len(set(seeds)) != len(seeds) or not all(isinstance(s, int) and s >= 0 for s in seeds):
        raise SubtokError(f"seeds must be distinct whole numbers of at least 0, not {list(seeds)}")
    return seeds


SEED_FIGURES = ("token_ppl", "word_ppl", "bpc", "total_nll", "spelling_nll")


def _over_seeds(runs: list[dict], seeds: Sequence[int]) -> dict:
    """One model's runs as one record: the segmentation's figures (the same in every run), the mean of
    each trained figure over the runs with its sample standard deviation in ``spread`` (0 for one run),
    the mean validation curve, and every run in ``per_seed``."""

    def mean_sd(values: list[float]) -> tuple[float, float]:
        a = np.asarray(values, dtype=np.float64)
        return float(a.mean()), float(a.std(ddof=1)) if len(a) > 1 else 0.0

    first = runs[0]
    out = {k: v for k, v in first.items() if k not in (*SEED_FIGURES, "bands", "curve")}
    spread: dict = {"bands": {}}
    for key in SEED_FIGURES:
        out[key], spread[key] = mean_sd([r[key] for r in runs])
    out["bands"] = {}
    for b, band in first["bands"].items():
        bits = [r["bands"][b]["bits_per_word"] for r in runs]
        if bits[0] is None:
            out["bands"][b], spread["bands"][b] = dict(band), None
            continue
        mean, sd = mean_sd(bits)
        out["bands"][b], spread["bands"][b] = {**band, "bits_per_word": mean}, sd
    out["spread"] = spread
    out["curve"] = [
        {k: (v if k == "epoch" else float(np.mean([r["curve"][i][k] for r in runs]))) for k, v in rec.items()}
        for i, rec in enumerate(first["curve"])
    ]
    out["per_seed"] = [{"seed": s, **{k: r[k] for k in (*SEED_FIGURES, "bands", "curve")}} for s, r in zip(seeds, runs)]
    return out


def _train_and_score(
    tok: Tokenizer,
    splits: dict[str, list[str]],
    layouts: dict[str, scoring.Layout],
    spelling: SpellingModel,
    bands: dict[str, np.ndarray],
    lm_model: dict,
    lm_training: dict,
    show_progress: Optional[bool],
    draw: Optional[dict] = None,
) -> dict:
    """One model of the comparison: an LM (``lm_model``: RNNLM's arguments) on the tokenizer's ids of the
    train split, scored on valid after every epoch (the curve) and on test at the end (the metrics). With
    ``draw`` (encode_batch's sampling options) each epoch trains on a fresh segmentation."""
    eol = tok.token_to_id(EOL)
    train_layout = scoring.Layout.of(splits["train"])
    train_ids = segment_lines(tok, splits["train"], train_layout).ids
    if draw:
        seed = lm_model["seed"]

        def epoch_ids(epoch: int) -> np.ndarray:
            return segment_lines(tok, splits["train"], train_layout, **draw, seed=seed * 1000 + epoch).ids

        train_data = epoch_ids
    else:
        train_data = train_ids
    segs = {split: segment_lines(tok, splits[split], layouts[split]) for split in ("valid", "test")}
    model = RNNLM(tok.vocab_size, **lm_model)
    lm = lm_training
    trainer = LMTrainer(
        model, lm["optimizer"], lm["lr"], lm["max_grad"], show_progress, blas_threads=None, lr_decay=lm["lr_decay"]
    )
    curve = []
    for epoch in range(1, lm["epochs"] + 1):
        record = trainer.fit(
            train_data, segs["valid"].ids, epochs=epoch, batch_size=lm["batch_size"], time_size=lm["time_size"]
        )[-1]
        _, valid_word_nll = score_text(model, segs["valid"], layouts["valid"], spelling, eol)
        total = float(valid_word_nll.sum())
        curve.append(
            {
                "epoch": epoch,
                "train_token_ppl": record["train_ppl"],
                "valid_token_ppl": record["valid_ppl"],
                "valid_word_ppl": scoring.word_ppl(total, layouts["valid"].n_words),
                "valid_bpc": scoring.bits_per_char(total, layouts["valid"].n_chars),
            }
        )
    token_nll, word_nll = score_text(model, segs["test"], layouts["test"], spelling, eol)
    metrics = _metrics(tok, segs["test"], token_nll, word_nll, layouts["test"], bands)
    metrics["train_tokens"] = int(len(train_ids))
    metrics["curve"] = curve
    metrics["unseen_splits"] = _splits_of_unseen(tok, segs["test"], layouts["test"], bands["unseen"])
    return metrics


def _make_out_dir(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SubtokError(f"cannot write the report to {out}: {e.strerror or e}") from None


def write_report(report: dict, out: Path, say=print) -> None:
    """report.json, compare.png (when matplotlib is installed) and report.html in ``out``, each written
    atomically."""
    from .plot import plot_report

    _make_out_dir(out)
    png = out / "compare.png"
    try:
        plot_report(report, png)
        report["plot"] = png.name
    except ImportError:
        report["plot"] = None
        say("matplotlib is not installed: no plot (pip install matplotlib); the report is written")
    atomic_write_json(out / "report.json", report)
    report_page.write_page(report, out / "report.html", png if report["plot"] else None)


def format_table(report: dict) -> str:
    """The report as a text table: one row per model, the comparable columns last; with several seeds each
    trained figure is the mean and the line under it the standard deviation."""
    header = f"{'model':<16} {'vocab':>6} {'OOV %':>6} {'tokens':>8} {'token ppl':>10} {'word ppl':>9} {'bpc':>6}"
    header += "".join(f" {b + ' bits':>13}" for b in BANDS)
    several = len(report.get("seeds", [0])) > 1
    rows = [header, "-" * len(header)]
    for name, m in report["models"].items():
        row = (
            f"{name:<16} {m['vocab_size']:>6} {100 * m['oov_rate']:>6.2f} {m['n_tokens']:>8} "
            f"{m['token_ppl']:>10.1f} {m['word_ppl']:>9.1f} {m['bpc']:>6.3f}"
        )
        for b in BANDS:
            bits = m["bands"][b]["bits_per_word"]
            row += f" {'-' if bits is None else f'{bits:.2f}':>13}"
        rows.append(row)
        if several:
            sd = m["spread"]
            row = f"{'  ± sd':<16} {'':>22} {sd['token_ppl']:>10.1f} {sd['word_ppl']:>9.1f} {sd['bpc']:>6.3f}"
            for b in BANDS:
                bits = sd["bands"][b]
                row += f" {'-' if bits is None else f'{bits:.2f}':>13}"
            rows.append(row)
    counts = ", ".join(f"{b} {report['bands'][b]['words']:,}" for b in BANDS)
    seeds = report.get("seeds", [0])
    rows.append(
        f"test text: {report['n_words']:,} words (line ends included), {report['n_chars']:,} characters; "
        f"words by band: {counts}; LM seed{'s' if several else ''} {', '.join(map(str, seeds))}"
    )
    return "\n".join(rows)
