"""The ``subtok`` command line: train, encode, decode, demo.

Errors a user can cause (a missing file, a malformed tokenizer, bad options) print one line naming the
problem, without a traceback, and exit with status 1; outputs are written atomically.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
import warnings
from pathlib import Path
from typing import Optional

from . import __version__, corpus
from ._backend import native_available
from ._io import atomic_write_text
from .errors import SubtokError
from .tokenizer import Tokenizer


def _progress(args) -> Optional[bool]:
    return False if args.quiet else None


def _read_input(path: Optional[str], errors: str = "strict") -> list[str]:
    if path in (None, "-"):
        data = sys.stdin.buffer.read()
        name = "<stdin>"
    else:
        p = Path(path)
        if not p.exists():
            raise SubtokError(f"input file not found: {p}")
        if p.is_dir():
            raise SubtokError(f"input path is a directory, not a file: {p}")
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
    specials = args.special_tokens.split(",") if args.special_tokens else None  # None: the model's defaults
    t0 = time.perf_counter()
    tok = Tokenizer.train(
        [Path(p) for p in args.corpus],  # Paths: the CLI's arguments are always files
        model=args.model,
        vocab_size=args.vocab_size,
        min_frequency=args.min_frequency,
        byte_level=args.byte_level,
        special_tokens=specials,
        show_progress=_progress(args),
        limit_alphabet=args.limit_alphabet,
        scoring=args.scoring,
        num_workers=args.workers,
        errors=args.errors,
    )
    tok.save(args.output)
    if not args.quiet:
        print(
            f"trained {args.model} tokenizer: {tok.vocab_size} tokens in {time.perf_counter() - t0:.1f} s "
            f"({'native' if native_available() else 'pure Python'}) -> {args.output}",
            file=sys.stderr,
        )


def cmd_encode(args) -> None:
    tok = Tokenizer.load(args.tokenizer)
    lines = _read_input(args.file, args.errors)
    out = io.StringIO()
    for enc in tok.encode_batch(lines, num_threads=args.threads):
        out.write(" ".join(enc.tokens if args.tokens else map(str, enc.ids)) + "\n")
    _write_output(args.output, out.getvalue())


def cmd_decode(args) -> None:
    tok = Tokenizer.load(args.tokenizer)
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


def cmd_demo(args) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = corpus.load("default")
    size = path.stat().st_size
    print(f"default corpus: Python's own docstrings and pydoc topics, {size / 1e6:.1f} MB at {path}")
    backend = "native C" if native_available() else "pure Python"
    for name, kwargs in (
        ("word", dict(model="word")),
        ("bpe", dict(model="bpe", byte_level=True)),
    ):
        t0 = time.perf_counter()
        tok = Tokenizer.train(path, vocab_size=args.vocab_size, show_progress=_progress(args), **kwargs)
        secs = time.perf_counter() - t0
        tok.save(out / f"{name}.json")
        sample = "Tokenizers split unfathomably rare words into pieces: 안녕하세요 🙂"
        enc = tok.encode(sample)
        unk = sum(1 for i in enc.ids if i == tok.vocab.unk_id) if tok.vocab.unk is not None else 0
        print(f"\n{name}: {tok.vocab_size} tokens, trained in {secs:.1f} s ({backend}) -> {out / (name + '.json')}")
        print(f"  {sample!r}")
        print(f"  -> {len(enc.ids)} tokens, {unk} unknown: {enc.tokens}")
        print(f"  decoded: {tok.decode(enc.ids)!r}")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="subtok", description="Subword tokenizers and vocabularies.")
    p.add_argument("--version", action="version", version=f"subtok {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp):
        sp.add_argument("--quiet", "-q", action="store_true", help="no progress bars or summaries")
        return sp

    t = common(sub.add_parser("train", help="train a tokenizer from text files"))
    t.add_argument("corpus", nargs="+", help="UTF-8 text files (each line is one text)")
    t.add_argument("--model", choices=["bpe", "wordpiece", "word"], default="bpe")
    t.add_argument("--vocab-size", type=int, default=8000)
    t.add_argument("--byte-level", dest="byte_level", action="store_true", default=True)
    t.add_argument("--no-byte-level", dest="byte_level", action="store_false")
    t.add_argument("--min-frequency", type=int, default=2)
    t.add_argument(
        "--special-tokens",
        help="comma-separated (default: <unk>,<pad>,<bos>,<eos>; for WordPiece [PAD],[UNK],[CLS],[SEP],[MASK])",
    )
    t.add_argument(
        "--scoring",
        choices=["likelihood", "frequency"],
        default="likelihood",
        help="WordPiece: merge by likelihood (default) or by frequency (as HF)",
    )
    t.add_argument("--limit-alphabet", type=int, help="character-level BPE: keep this many characters")
    t.add_argument("--workers", type=int, help="processes for word counting (default: all cores)")
    t.add_argument("--errors", choices=["strict", "replace"], default="strict", help="on invalid UTF-8")
    t.add_argument("-o", "--output", required=True, help="tokenizer JSON to write")
    t.set_defaults(func=cmd_train)

    e = common(sub.add_parser("encode", help="encode text lines to ids (one line of ids per line)"))
    e.add_argument("file", nargs="?", help="input text (default: stdin)")
    e.add_argument("-t", "--tokenizer", required=True)
    e.add_argument("--tokens", action="store_true", help="print tokens instead of ids")
    e.add_argument("--threads", type=int, default=None)
    e.add_argument("--errors", choices=["strict", "replace"], default="strict")
    e.add_argument("-o", "--output", help="output file (default: stdout)")
    e.set_defaults(func=cmd_encode)

    d = common(sub.add_parser("decode", help="decode lines of ids back to text"))
    d.add_argument("file", nargs="?", help="input ids (default: stdin)")
    d.add_argument("-t", "--tokenizer", required=True)
    d.add_argument("--keep-special", action="store_true", help="keep special tokens in the text")
    d.add_argument("-o", "--output", help="output file (default: stdout)")
    d.set_defaults(func=cmd_decode)

    m = common(sub.add_parser("demo", help="train word-level and BPE tokenizers on the embedded corpus"))
    m.add_argument("--vocab-size", type=int, default=8000)
    m.add_argument("--out", default="subtok-demo", help="directory for the outputs")
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
    except KeyboardInterrupt:
        print("subtok: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
