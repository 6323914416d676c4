"""The ``subtok`` command line: train, encode, decode, compare, demo.

Errors a user can cause (a missing file, a malformed tokenizer, bad options) print one line naming the
problem, without a traceback, and exit with status 1; outputs are written atomically.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
import warnings
from collections.abc import Iterator
from itertools import chain
from pathlib import Path
from queue import Full, Queue
from threading import Event, Thread
from typing import Any, Optional

from . import __version__, interop
from ._backend import native_available
from ._io import atomic_write_text, check_output, read_json
from .corpus import BLOCK_SIZE, read_line_batches, read_line_blocks
from .errors import SubtokError
from .progress import progress_bar
from .token_files import FORMATS, TokenFileWriter
from .tokenizer import Tokenizer


def _progress(args) -> Optional[bool]:
    return False if args.quiet else None


def _read_input(path: Optional[str], errors: str = "strict") -> list[str]:
    if path in (None, "-"):
        data = sys.stdin.buffer.read()
        name = "<stdin>"
    else:
        p = _input_file(path)
        data = p.read_bytes()
        name = str(p)
    try:
        text = data.decode("utf-8", errors=errors)
    except UnicodeDecodeError as e:
        raise SubtokError(f"{name}: not valid UTF-8 at byte offset {e.start}; try --errors replace") from None
    return text.splitlines()


def _write_output(path: Optional[str], text: str) -> None:
    if path in (None, "-"):
        sys.stdout.write(text)
    else:
        atomic_write_text(path, text)


def cmd_train(args) -> None:
    # only what was given: a model's trainer refuses options that are not its own, naming them
    given = {
        "special_tokens": args.special_tokens.split(",") if args.special_tokens else None,
        "byte_level": args.byte_level,
        "limit_alphabet": args.limit_alphabet,
        "scoring": args.scoring,
        "character_coverage": args.character_coverage,
        "byte_fallback": args.byte_fallback,
        "user_defined_symbols": args.user_defined_symbols.split(",") if args.user_defined_symbols else None,
        "max_piece_length": args.max_piece_length,
        "split_digits": args.split_digits,
        "input_sentence_size": args.input_sentence_size,
        "num_threads": args.threads,
    }
    check_output(args.output)  # before training, not after it
    t0 = time.perf_counter()
    tok = Tokenizer.train(
        [Path(p) for p in args.corpus],  # Paths: the CLI's arguments are always files
        model=args.model,
        vocab_size=args.vocab_size,
        min_frequency=args.min_frequency,
        show_progress=_progress(args),
        num_workers=args.workers,
        errors=args.errors,
        **{k: v for k, v in given.items() if v is not None},
    )
    if args.output.endswith(".model"):
        tok.save_sentencepiece(args.output)
    else:
        tok.save(args.output)
    if not args.quiet:
        print(
            f"trained {args.model} tokenizer: {tok.vocab_size} tokens in {time.perf_counter() - t0:.1f} s "
            f"({'native' if native_available() else 'pure Python'}) -> {args.output}",
            file=sys.stderr,
        )


def _load_tokenizer(path: str) -> Tokenizer:
    """A SentencePiece ``.model`` file, our tokenizer file, or an HF tokenizer.json (one with a "model"
    and not our format header)."""
    if path.endswith(".model"):
        return Tokenizer.from_sentencepiece(path)
    doc = read_json(path)
    if isinstance(doc, dict) and "format" not in doc and isinstance(doc.get("model"), dict):
        return Tokenizer(**interop.components_from_huggingface(doc, source=path))
    return Tokenizer.from_dict(doc, source=path)


def _line_batches(paths: list[str], errors: str, size: int) -> Iterator[list[str]]:
    """The lines of the files in order (stdin where there are none, or for "-"), in lists of about ``size``
    (``corpus.read_line_batches``): only "\n" ends a line (a form feed, U+2028 or a lone "\r" stays in its
    line), and it is dropped."""
    for path in paths or ["-"]:
        source: Any = sys.stdin.buffer if path == "-" else _input_file(path)
        yield from read_line_batches(source, errors, size)


def _line_blocks(paths: list[str], errors: str) -> Iterator[str]:
    """The text of the files in order (stdin where there are none, or for "-") in decoded blocks of whole
    lines of about ``corpus.BLOCK_SIZE`` bytes (``corpus.read_line_blocks``), for ``Tokenizer.encode_lines``:
    a block small enough that the core's buffers for it are reused from batch to batch (blocks of 4 or 8 MB
    ran slower, in fresh pages each time)."""
    for path in paths or ["-"]:
        source: Any = sys.stdin.buffer if path == "-" else _input_file(path)
        yield from read_line_blocks(source, errors)


def _read_ahead(batches: Iterator[Any], depth: int = 2) -> Iterator[Any]:
    """``batches`` as they come, read by a thread of their own up to ``depth`` ahead: the next lines are
    read and decoded while the core encodes these (without the GIL). An error reading comes out here; when
    the consumer stops early, so does the reader."""
    queue: Queue = Queue(depth)
    stop, done = Event(), object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def read() -> None:
        try:
            for batch in batches:
                if not put(batch):
                    return
            put(done)
        except BaseException as e:  # handed to the consumer, which raises it
            put(e)

    Thread(target=read, daemon=True).start()
    try:
        while (item := queue.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()


def _input_file(path: str) -> Path:
    """``path`` as an input file, or the error that says why it is not one."""
    p = Path(path)
    if not p.exists():
        raise SubtokError(f"input file not found: {p}")
    if p.is_dir():
        raise SubtokError(f"input path is a directory, not a file: {p}")
    return p


def cmd_encode(args) -> None:
    to_stdout = args.output in (None, "-")
    if args.format != "ids" and to_stdout:
        raise SubtokError(f"--format {args.format} writes files: give one with -o")
    if args.tokens and args.format != "ids":
        raise SubtokError("--tokens prints tokens, with --format ids only")
    if args.batch_size < 1:
        raise SubtokError(f"--batch-size must be at least 1, not {args.batch_size}")
    if not to_stdout:
        check_output(args.output)
    tok = _load_tokenizer(args.tokenizer)
    eos_id = None
    if args.eos is not None:
        eos_id = tok.token_to_id(args.eos)
        if eos_id is None:
            raise SubtokError(f"--eos {args.eos!r} is not a token of {args.tokenizer}")
    draw = dict(dropout=args.dropout, sample=args.sample, alpha=args.alpha, nbest_size=args.nbest_size, seed=args.seed)
    draw = {k: v for k, v in draw.items() if v not in (None, False)} if (args.dropout or args.sample) else {}
    if args.tokens:  # each line's tokens (Encodings, for their token strings)
        out = sys.stdout if to_stdout else io.StringIO()
        for batch in _line_batches(args.file, args.errors, args.batch_size):
            for enc in tok.encode_batch(batch, num_threads=args.threads, **draw):
                out.write(" ".join(enc.tokens) + "\n")
        if not to_stdout:
            _write_output(args.output, out.getvalue())
        return
    meta = {"tokenizer": args.tokenizer, "vocab_size": tok.vocab_size}
    if draw:  # a seed per batch of --batch-size lines, as encode_iterable draws them
        batches = tok.encode_iterable(
            chain.from_iterable(_read_ahead(_line_batches(args.file, args.errors, args.batch_size))),
            batch_size=args.batch_size,
            num_threads=args.threads,
            return_tensors="flat",
            **draw,
        )
    else:  # blocks of lines, split by the core (no str per line): read, encoded and written at once
        batches = tok.encode_blocks(_read_ahead(_line_blocks(args.file, args.errors)), args.threads)
    with progress_bar(desc="encode", unit="lines", enabled=_progress(args)) as bar:
        if to_stdout:  # ids as text, a line per line, as they come
            for flat in batches:
                ids, splits = flat["input_ids"].tolist(), flat["row_splits"].tolist()
                sys.stdout.write("".join(" ".join(map(str, ids[a:b])) + "\n" for a, b in zip(splits, splits[1:])))
                bar.update(len(splits) - 1)
            return
        with TokenFileWriter(args.output, args.format, tok.vocab_size, eos_id, meta) as writer:
            for flat in batches:
                writer.write(flat["input_ids"], flat["row_splits"])
                bar.update(len(flat["row_splits"]) - 1)
    if not args.quiet:
        what = f"{writer.documents} lines"
        if args.format in ("npy", "bin"):
            what += f", {writer.count} tokens ({writer.dtype.name})"
        print(f"encoded {what} -> {args.output}", file=sys.stderr)


def cmd_decode(args) -> None:
    if args.output not in (None, "-"):
        check_output(args.output)
    tok = _load_tokenizer(args.tokenizer)
    out = io.StringIO()
    for n, line in enumerate(_read_input(args.file), 1):
        try:
            ids = [int(x) for x in line.split()]
        except ValueError:
            raise SubtokError(f"line {n}: ids must be integers separated by spaces: {line[:60]!r}") from None
        try:
            out.write(tok.decode(ids, skip_special_tokens=not args.keep_special) + "\n")
        except SubtokError as e:
            raise SubtokError(f"line {n}: {e}") from None
    _write_output(args.output, out.getvalue())


def _run_compare(args, **budget) -> None:
    from .experiments import compare, format_table

    say = (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr))
    backend = "native C" if native_available() else "pure Python"
    say(f"subtok compare: tokenizers on the {backend} backend, LMs on numpy")
    report = compare(out=args.out, show_progress=_progress(args), log=say, **budget)
    print(format_table(report))
    where = Path(args.out)
    plot = f" and {where / report['plot']}" if report.get("plot") else " (no plot: matplotlib is not installed)"
    print(f"\nreport: {where / 'report.json'}{plot}, page: {where / 'report.html'}")
    print(
        "word ppl and bpc put every model on the same test text and denominator (the <unk> model pays to spell "
        "each unknown word); token ppl is per model's own tokens and not comparable across models."
    )


def cmd_compare(args) -> None:
    _run_compare(
        args,
        corpus=args.corpus,
        vocab_size=args.vocab_size,
        epochs=args.epochs,
        hidden_size=args.hidden_size,
        num_layers=args.num_layers,
        dropout=args.dropout,
        seed=args.seed,
        unit=args.unit,
        max_train_words=args.max_train_words,
        max_eval_words=args.max_eval_words,
        bpe_dropout=args.bpe_dropout,
        models=args.models,
        seeds=args.seeds,
        sampling_alpha=args.sampling_alpha,
        blas_threads=args.blas_threads,
        jobs=args.jobs,
        lr=args.lr,
        lr_decay=args.lr_decay,
    )


DEMO_BUDGET = dict(
    corpus="default",
    vocab_size=5000,
    epochs=3,
    hidden_size=128,
    max_train_words=200_000,
    max_eval_words=20_000,
    models=("word", "bpe", "wordpiece", "unigram"),
)


def cmd_demo(args) -> None:
    _run_compare(args, **DEMO_BUDGET, jobs=None)


def cmd_show(args) -> None:
    from . import show

    rows = [(path, show.segments(_load_tokenizer(path), args.text)) for path in args.tokenizer]
    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    width = max(len(label) for label, _ in rows)
    for label, segs in rows:
        print(f"{label:<{width}}  {show.to_terminal(segs, color)}")
    if args.html:
        atomic_write_text(args.html, show.segmentation_page(rows))


TOKENIZER_HELP = "subtok's tokenizer file, an HF tokenizer.json or a SentencePiece .model"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="subtok", description="Subword tokenizers and vocabularies.")
    p.add_argument("--version", action="version", version=f"subtok {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp):
        sp.add_argument("--quiet", "-q", action="store_true", help="no progress bars or summaries")
        return sp

    t = common(sub.add_parser("train", help="train a tokenizer from text files"))
    t.add_argument("corpus", nargs="+", help="UTF-8 text files (each line is one text)")
    t.add_argument("--model", choices=["bpe", "wordpiece", "word", "unigram"], default="bpe")
    t.add_argument("--vocab-size", type=int, default=8000)
    t.add_argument("--byte-level", dest="byte_level", action="store_true", default=None, help="BPE: bytes (default)")
    t.add_argument("--no-byte-level", dest="byte_level", action="store_false", help="BPE: characters")
    t.add_argument("--min-frequency", type=int, default=2)
    t.add_argument(
        "--special-tokens",
        help="comma-separated (default: <unk>,<pad>,<bos>,<eos>; for WordPiece [PAD],[UNK],[CLS],[SEP],[MASK])",
    )
    t.add_argument(
        "--scoring",
        choices=["likelihood", "frequency"],
        help="WordPiece: merge by likelihood (default) or by frequency (as HF)",
    )
    t.add_argument("--limit-alphabet", type=int, help="character-level BPE: keep this many characters")
    t.add_argument("--character-coverage", type=float, help="Unigram: share of characters kept (0.9995)")
    t.add_argument("--byte-fallback", action="store_true", default=None, help="Unigram: byte pieces for the rest")
    t.add_argument("--user-defined-symbols", help="Unigram: comma-separated pieces always kept whole")
    t.add_argument("--max-piece-length", type=int, help="Unigram: longest piece in characters (16)")
    t.add_argument("--split-digits", action="store_true", default=None, help="Unigram: digits one by one")
    t.add_argument("--input-sentence-size", type=int, help="Unigram: train on this many lines drawn at random")
    t.add_argument("--threads", type=int, help="Unigram: EM threads (default: all cores)")
    t.add_argument(
        "--workers", type=int, help="threads (GPT-2's pattern, native core) or processes counting words (default: all)"
    )
    t.add_argument("--errors", choices=["strict", "replace"], default="strict", help="on invalid UTF-8")
    t.add_argument("-o", "--output", required=True, help="tokenizer JSON to write (a .model name: SentencePiece's)")
    t.set_defaults(func=cmd_train)

    e = common(
        sub.add_parser("encode", help="encode text lines to ids, streamed (one line of ids per line, or a token file)")
    )
    e.add_argument("file", nargs="*", help="input text files, one text per line (default: stdin)")
    e.add_argument(
        "-t",
        "--tokenizer",
        required=True,
        help="subtok's tokenizer file, an HF tokenizer.json or a SentencePiece .model",
    )
    e.add_argument("--tokens", action="store_true", help="print tokens instead of ids")
    e.add_argument("--threads", type=int, default=None)
    e.add_argument("--dropout", type=float, help="BPE-dropout: skip each merge with this probability")
    e.add_argument("--sample", action="store_true", help="Unigram: draw each segmentation (subword regularization)")
    e.add_argument("--alpha", type=float, default=0.1, help="Unigram sampling: P(segmentation)^alpha (0.1)")
    e.add_argument("--nbest-size", type=int, default=-1, help="Unigram sampling: from the n best (-1: all)")
    e.add_argument("--seed", type=int, help="seed of the drawn segmentations")
    e.add_argument("--errors", choices=["strict", "replace"], default="strict")
    e.add_argument(
        "--format",
        choices=FORMATS,
        default="ids",
        help="ids: text, a line of ids per line; npy / bin: one flat uint16/uint32 array (bin: raw, with a "
        "JSON sidecar), documents ended by --eos or listed in FILE.offsets.npy; parquet: a row per line",
    )
    e.add_argument("--eos", help="npy/bin: this token's id after each line (else an offsets file)")
    e.add_argument(
        "--batch-size",
        type=int,
        default=10_000,
        help="lines encoded at a time with --tokens or sampling (else the files are read and encoded "
        f"{BLOCK_SIZE >> 20} MB of lines at a time); memory holds one batch",
    )
    e.add_argument("-o", "--output", help="output file (default: stdout, ids only)")
    e.set_defaults(func=cmd_encode)

    d = common(sub.add_parser("decode", help="decode lines of ids back to text"))
    d.add_argument("file", nargs="?", help="input ids (default: stdin)")
    d.add_argument(
        "-t",
        "--tokenizer",
        required=True,
        help="subtok's tokenizer file, an HF tokenizer.json or a SentencePiece .model",
    )
    d.add_argument("--keep-special", action="store_true", help="keep special tokens in the text")
    d.add_argument("-o", "--output", help="output file (default: stdout)")
    d.set_defaults(func=cmd_decode)

    from .experiments.compare import DEFAULT_MODELS, MODELS

    w = common(sub.add_parser("show", help="a text as each tokenizer cuts it, coloured (or as an HTML page)"))
    w.add_argument("text", help="the text to segment")
    w.add_argument("-t", "--tokenizer", action="append", required=True, help=f"{TOKENIZER_HELP} (repeatable)")
    w.add_argument("--html", help="also write the segmentations as a self-contained HTML page here")
    w.set_defaults(func=cmd_show)

    c = common(sub.add_parser("compare", help="word-level LM with <unk> against subword LMs on the same text"))
    c.add_argument(
        "--corpus",
        default="default",
        help="a named corpus (default, ptb, wikitext2, shakespeare, lee, nsmc) or a UTF-8 text file",
    )
    c.add_argument("--vocab-size", type=int, default=8000, help="the same for every tokenizer")
    c.add_argument("--epochs", type=int, default=4, help="LM training epochs, the same for each model")
    c.add_argument("--hidden-size", type=int, default=128, help="LSTM width (embedding width too; tied)")
    c.add_argument("--num-layers", type=int, default=1)
    c.add_argument("--lr", type=float, default=20.0, help="SGD learning rate (20)")
    c.add_argument("--lr-decay", type=float, default=0.5, help="the learning rate's factor after each epoch (0.5)")
    c.add_argument("--dropout", type=float, default=0.0)
    c.add_argument("--seed", type=int, default=0, help="the split's shuffle (and the LMs' seed without --seeds)")
    c.add_argument("--seeds", type=int, nargs="+", help="train each LM once per seed; report means and spreads")
    c.add_argument(
        "--models",
        default=",".join(DEFAULT_MODELS),
        help=f"comma-separated, of: {', '.join(MODELS)} (default: {','.join(DEFAULT_MODELS)})",
    )
    c.add_argument("--bpe-dropout", type=float, default=0.1, help="bpe-dropout: the probability of skipping a merge")
    c.add_argument("--sampling-alpha", type=float, default=0.1, help="unigram-sampling: P(segmentation)^alpha")
    c.add_argument("--blas-threads", type=int, default=1, help="numpy's BLAS threads while the LMs train (1)")
    c.add_argument("--jobs", type=int, help="LM runs trained at once, one process each (default: one per core)")
    c.add_argument("--unit", choices=["auto", "document", "line"], default="auto", help="what the split shuffles")
    c.add_argument("--max-train-words", type=int, help="train on the first N words of the train split")
    c.add_argument("--max-eval-words", type=int, help="validate and test on the first N words of each split")
    c.add_argument("--out", default="subtok-compare", help="directory for report.json, compare.png, report.html")
    c.set_defaults(func=cmd_compare)

    m = common(sub.add_parser("demo", help="compare on the embedded default corpus in a few CPU minutes"))
    m.add_argument("--out", default="subtok-demo", help="directory for report.json, compare.png, report.html")
    m.set_defaults(func=cmd_demo)
    return p


def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.showwarning = lambda msg, *a, **k: print(f"subtok: warning: {msg}", file=sys.stderr)
            args.func(args)
    except SubtokError as e:
        print(f"subtok: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:  # what the checks above cannot foresee (a disk that fills, a file that vanishes)
        where = f"{e.filename}: " if e.filename else ""
        print(f"subtok: error: {where}{e.strerror or e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("subtok: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
