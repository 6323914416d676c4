"""Reading text: paths, lists of paths or iterables of str, streamed; parallel word counting; named corpora.

A corpus is never held in memory whole. Files are read in binary blocks and split into lines at "\n";
each line (with its newline) is one text for the pre-tokenizer, as HF tokenizers does when training from
files, so a file can be cut into chunks at newlines and counted on all cores with exactly the counts of a
serial pass. Items of an iterable of str are texts as they come (documents or lines).
"""

from __future__ import annotations

import ast
import os
import sys
import sysconfig
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from multiprocessing import get_context
from pathlib import Path
from typing import Optional, Union

import regex

from . import _backend
from ._io import atomic_write_text
from .errors import CorpusError
from .models.bpe_core import char_classes
from .progress import progress_bar
from .text import GPT2_PATTERN, PreTokenizer, make_normalizers, normalize_str

Corpus = Union[str, "os.PathLike[str]", Iterable[str]]

BLOCK_SIZE = 1 << 20  # bytes read at a time
CHUNK_SIZE = 8 << 20  # bytes of a file given to one worker
PARALLEL_MIN_BYTES = 4 << 20  # below this, counting stays in one process


# ---------------------------------------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------------------------------------
def _check_file(path: Path) -> Path:
    if not path.exists():
        raise CorpusError(f"corpus file not found: {path}")
    if path.is_dir():
        raise CorpusError(f"corpus path is a directory, not a file: {path} (pass the files inside it)")
    return path


def corpus_files(corpus: Corpus) -> Optional[list[Path]]:
    """The files a corpus names, or None when it is an iterable of texts.

    A str or PathLike is one file. A list or tuple of PathLike is a list of files (each must exist). A
    list or tuple of str is a list of files when every item names an existing regular file, and texts
    otherwise; pass ``pathlib.Path`` objects to make a missing file an error rather than a text.
    """
    if isinstance(corpus, (str, os.PathLike)):
        return [_check_file(Path(corpus))]
    if isinstance(corpus, (list, tuple)) and corpus:
        if all(isinstance(p, os.PathLike) for p in corpus):
            return [_check_file(Path(p)) for p in corpus]
        if all(isinstance(p, str) and "\n" not in p and len(p) < 4096 and os.path.isfile(p) for p in corpus):
            return [Path(p) for p in corpus]
    return None


def _decode(data: bytes, path: Path, offset: int, errors: str) -> str:
    try:
        return data.decode("utf-8", errors=errors)
    except UnicodeDecodeError as e:
        raise CorpusError(
            f"{path}: not valid UTF-8 at byte offset {offset + e.start} ({e.reason}); "
            "pass errors='replace' (--errors replace) to substitute U+FFFD"
        ) from None


def split_lines(text: str) -> list[str]:
    """``text`` cut after each "\n" (kept); only "\n" ends a line, as in HF tokenizers' file reading."""
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    if not lines[-1]:
        lines.pop()
    return lines


def read_lines(path: Path, errors: str = "strict") -> Iterator[str]:
    """The lines of a file, newline kept, streamed a block at a time."""
    with open(path, "rb") as f:
        pos = 0
        rest = b""
        while True:
            block = f.read(BLOCK_SIZE)
            if not block:
                break
            pos += len(block)
            data = rest + block
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                rest = data
                continue
            rest = data[cut:]
            yield from split_lines(_decode(data[:cut], path, pos - len(data), errors))
        if rest:
            yield _decode(rest, path, pos - len(rest), errors)


def iter_texts(corpus: Corpus, errors: str = "strict") -> Iterator[str]:
    """Every text of a corpus in order: the lines of each file, or the items of an iterable."""
    files = corpus_files(corpus)
    if files is None:
        for i, item in enumerate(corpus):
            if not isinstance(item, str):
                raise CorpusError(f"corpus item {i} is {type(item).__name__}, not str")
            yield item
    else:
        for path in files:
            yield from read_lines(path, errors=errors)


def _file_chunks(path: Path, chunk_size: int) -> list[tuple[int, int]]:
    """Byte ranges of ``path`` of about ``chunk_size``, each ending just after a newline (or at EOF)."""
    size = path.stat().st_size
    bounds = [0]
    with open(path, "rb") as f:
        while bounds[-1] + chunk_size < size:
            f.seek(bounds[-1] + chunk_size)
            f.readline()
            nxt = f.tell()
            if nxt >= size:
                break
            bounds.append(nxt)
    bounds.append(size)
    return list(zip(bounds[:-1], bounds[1:]))


# ---------------------------------------------------------------------------------------------------------
# Word counting
# ---------------------------------------------------------------------------------------------------------
class WordSplitter:
    """Special tokens, normalizers and pre-tokenizer, as training sees text: special tokens are cut out
    first (they are never counted as words), then each piece is normalized and split into words.

    Built from plain dicts so that worker processes can carry it.
    """

    def __init__(self, normalizers: list[dict], pre_tokenizer: dict, special_tokens: Sequence[str] = ()) -> None:
        self.spec = (normalizers, pre_tokenizer, tuple(special_tokens))
        self.normalizers = make_normalizers(normalizers)
        self.pre_tokenizer = PreTokenizer.from_dict(pre_tokenizer)
        self.special_re = (
            regex.compile("|".join(regex.escape(t) for t in sorted(special_tokens, key=len, reverse=True)))
            if special_tokens
            else None
        )

    def __reduce__(self):
        return (WordSplitter, self.spec)

    @property
    def gpt2_only(self) -> bool:
        """True when words come from GPT-2's pattern alone, which the core counts in one call."""
        return not self.normalizers and self.pre_tokenizer.pattern == GPT2_PATTERN

    def count(self, texts: Iterable[str], counts: Counter) -> None:
        """Add the words of ``texts`` to ``counts``."""
        if self.gpt2_only:
            specials = sorted(self.spec[2], key=len, reverse=True)
            batch: list[str] = []
            for text in texts:
                batch.append(text)
                if len(batch) >= 10_000:
                    counts.update(_backend.count_gpt2(batch, char_classes(), specials))
                    batch.clear()
            counts.update(_backend.count_gpt2(batch, char_classes(), specials))
            return
        words = self.pre_tokenizer.words
        batch = []
        for text in texts:
            pieces = self.special_re.split(text) if self.special_re is not None else (text,)
            for piece in pieces:
                if self.normalizers:
                    piece = normalize_str(self.normalizers, piece)
                batch.extend(words(piece))
            if len(batch) > 100_000:
                counts.update(batch)
                batch.clear()
        counts.update(batch)


def _count_chunk(args) -> Counter:
    splitter, path, start, end, errors = args
    counts: Counter = Counter()
    with open(path, "rb") as f:
        f.seek(start)
        text = _decode(f.read(end - start), path, start, errors)
    splitter.count(split_lines(text), counts)
    return counts


def count_words(
    corpus: Corpus,
    splitter: WordSplitter,
    num_workers: Optional[int] = None,
    errors: str = "strict",
    show_progress: Optional[bool] = None,
) -> Counter:
    """Word -> count over the whole corpus. Files of several MB are cut at newlines and counted on
    ``num_workers`` processes (default: all cores); the result equals a serial pass exactly."""
    files = corpus_files(corpus)
    counts: Counter = Counter()
    if files is None:
        splitter.count(iter_texts(corpus), counts)
    else:
        workers = num_workers or os.cpu_count() or 1
        tasks = [(splitter, p, s, e, errors) for p in files for s, e in _file_chunks(p, CHUNK_SIZE)]
        total = sum(p.stat().st_size for p in files)
        with progress_bar(total=total, desc="counting words", unit="B", enabled=show_progress) as bar:
            if workers > 1 and total >= PARALLEL_MIN_BYTES and len(tasks) > 1:
                with get_context("fork" if sys.platform == "linux" else "spawn").Pool(workers) as pool:
                    for (_, _, s, e, _), part in zip(tasks, pool.imap(_count_chunk, tasks)):
                        counts.update(part)
                        bar.update(e - s)
            else:
                for task in tasks:
                    counts.update(_count_chunk(task))
                    bar.update(task[3] - task[2])
    if not counts:
        where = ", ".join(str(p) for p in files) if files else "the given texts"
        raise CorpusError(f"the corpus is empty: no words in {where}")
    return counts


# ---------------------------------------------------------------------------------------------------------
# Named corpora
# ---------------------------------------------------------------------------------------------------------
def cache_dir() -> Path:
    """Where generated and downloaded corpora live: $SUBTOK_CACHE, else ~/.cache/subtok."""
    base = os.environ.get("SUBTOK_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "subtok"
    )
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Optional[Path]:
    """The local copy of the reference corpora: $SUBTOK_DATA, else ../shared/corpora when it exists."""
    env = os.environ.get("SUBTOK_DATA")
    if env:
        return Path(env)
    for base in (Path.cwd(), Path(__file__).resolve().parents[1]):
        candidate = base.parent / "shared" / "corpora"
        if candidate.is_dir():
            return candidate
    return None


_SKIP_DIRS = {"test", "tests", "idle_test", "site-packages", "dist-packages", "__pycache__", "__phello__"}


def _docstrings(tree: ast.AST) -> Iterator[str]:
    """Docstrings of a module, its classes and functions, in source order."""
    stack = [tree]
    while stack:
        node = stack.pop()
        doc = ast.get_docstring(node, clean=True)  # type: ignore[arg-type]
        if doc:
            yield doc
        children = [
            n for n in getattr(node, "body", []) if isinstance(n, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        ]
        stack.extend(reversed(children))


def default_corpus_text() -> str:
    """The embedded default corpus: the standard library's docstrings and pydoc's topic pages.

    Gathered by fixed rules: the stdlib's .py files sorted by path (tests, site-packages and caches
    skipped), each parsed (never imported) for its module, class and function docstrings in source
    order; then ``pydoc_data.topics`` sorted by topic name. Documents are separated by a blank line. The
    same Python version gives the same text on every run.
    """
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    docs: list[str] = []
    for path in sorted(stdlib.rglob("*.py"), key=lambda p: p.relative_to(stdlib).as_posix()):
        if _SKIP_DIRS.intersection(path.relative_to(stdlib).parts[:-1]) or path.name.startswith("test_"):
            continue
        try:
            tree = ast.parse(path.read_bytes(), filename=str(path))
        except (SyntaxError, ValueError, UnicodeDecodeError):
            continue
        docs.extend(_docstrings(tree))
    try:
        from pydoc_data.topics import topics
    except ImportError:  # some distributions strip pydoc_data
        topics = {}
    docs.extend(topics[k].strip() for k in sorted(topics))
    return "\n\n".join(d.strip() for d in docs if d.strip()) + "\n"


def load(name: str = "default") -> Path:
    """A local file holding the named corpus. "default" is generated once from this Python's own
    standard library (no download) and cached."""
    if name != "default":
        raise CorpusError(f"unknown corpus {name!r}; known: 'default'")
    v = sys.version_info
    path = cache_dir() / f"default-py{v.major}.{v.minor}.{v.micro}.txt"
    if not path.exists():
        atomic_write_text(path, default_corpus_text())
    return path
