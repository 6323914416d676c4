"""Reading text: paths, lists of paths or iterables of str, streamed; and parallel word counting, the seam
where training starts (named corpora are in ``subtok.datasets``).

A corpus is never held in memory whole. Files are read in binary blocks and split into lines at "\n";
each line (with its newline) is one text for the pre-tokenizer, as HF tokenizers does when training from
files, so a file can be cut into chunks at newlines and counted on all cores with exactly the counts of a
serial pass. Items of an iterable of str are texts as they come (documents or lines).
"""

from __future__ import annotations

import json
import os
import pickle
import random
import re
import struct
import sys
import tempfile
from collections import Counter
from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, Sequence, ValuesView
from contextlib import nullcontext
from itertools import chain, islice
from multiprocessing import get_context
from operator import methodcaller
from pathlib import Path
from typing import Any, BinaryIO, Optional, Union

import numpy as np
import regex

from . import _backend
from ._io import PathLike, atomic_write_bytes
from .added_tokens import alternation, longest_first
from .datasets import (  # noqa: F401  (here before subtok.datasets existed: subtok.corpus.load keeps working)
    NAMED_CORPORA,
    RemoteFile,
    corpus_path,
    download,
    load,
    load_texts,
)
from .errors import CorpusError, FileFormatError, InputError, TrainingError
from .models import TRAINERS, Trainer, bpe_core
from .models.base import plain_counts
from .normalizers import make_normalizers, normalize_str
from .pre_tokenizers import PRE_TOKENIZERS, make_pre_tokenizer
from .progress import progress_bar
from .text import GPT2_PATTERN, file_lines, split_lines

Corpus = Union[str, "os.PathLike[str]", Iterable[str]]

BLOCK_SIZE = 1 << 20  # bytes read at a time
CHUNK_SIZE = 8 << 20  # bytes of a file given to one worker
THREADED_CHUNK_SIZE = 32 << 20  # bytes of a file read at a time where the native core counts on threads
PARALLEL_MIN_BYTES = 4 << 20  # below this, counting stays in one process
LONG_TEXT = 1 << 20  # characters (bytes, read from a file): a text this long has its words counted one at a time
LOOKAHEAD = 4096  # characters: how far from the end of what has been read a long line may be cut


# ---------------------------------------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------------------------------------
def _check_file(path: Path) -> Path:
    if not path.exists():
        raise CorpusError(f"corpus file not found: {path}")
    if path.is_dir():
        raise CorpusError(f"corpus path is a directory, not a file: {path} (pass the files inside it)")
    return path


UTF8_BOM = b"\xef\xbb\xbf"


def _readable_file(name: str) -> bool:
    """A regular file, or a pipe or device to stream (``/dev/stdin``); not a directory."""
    return os.path.exists(name) and not os.path.isdir(name)


def corpus_files(corpus: Corpus) -> Optional[list[Path]]:
    """The files a corpus names, or None when it is an iterable of texts.

    A str or PathLike is one file. A list or tuple of PathLike is a list of files (each must exist). A
    list or tuple of str is a list of files when every item names an existing regular file; when every
    item looks like a file name (``_PATH_LIKE``) but some file is missing, an error; texts otherwise.
    """
    if isinstance(corpus, (str, os.PathLike)):
        return [_check_file(Path(corpus))]
    if isinstance(corpus, (list, tuple)) and corpus:
        if all(isinstance(p, os.PathLike) for p in corpus):
            return [_check_file(Path(p)) for p in corpus]
        if all(isinstance(p, str) and "\n" not in p and len(p) < 4096 and _readable_file(p) for p in corpus):
            return [Path(p) for p in corpus]
        if all(isinstance(p, str) and _PATH_LIKE.fullmatch(p) for p in corpus):
            missing = next(p for p in corpus if not _readable_file(p))
            raise CorpusError(
                f"corpus file not found: {missing} (these strings look like file names; to train on strings as "
                "text, use Tokenizer.train_from_iterator)"
            )
    return None


# one word with a letter or digit and a path separator, or a name with a file extension ("corpus.txt"; not
# "3.14", and not "/" alone, which is a text in the Korean reviews)
_PATH_LIKE = re.compile(r"(?=\S*[A-Za-z0-9])(?:\S*[/\\]\S*|[^\s/\\]+\.[A-Za-z][A-Za-z0-9]{0,5})")


def _decode(data: bytes, path: Path, offset: int, errors: str) -> str:
    try:
        return data.decode("utf-8", errors=errors)
    except UnicodeDecodeError as e:
        raise CorpusError(
            f"{path}: not valid UTF-8 at byte offset {offset + e.start} ({e.reason}); "
            "pass errors='replace' (--errors replace) to substitute U+FFFD"
        ) from None


def read_line_parts(
    path: Union[Path, BinaryIO], errors: str = "strict", start: int = 0, end: Optional[int] = None
) -> Iterator[tuple[str, bool]]:
    """``(text, more)`` over bytes [start, end) of a file (``end`` None: to the end; a pipe, or a binary
    stream given instead of a path, is read once, front to back), streamed a block at a time: each complete
    line (newline kept) with ``more`` False, and a line longer than ``LONG_TEXT`` bytes as parts of about a
    block each, cut between characters, ``more`` True on every part but its last. A byte-order mark at the
    file's start is dropped."""
    named = isinstance(path, (str, os.PathLike))
    name = path if named else getattr(path, "name", "<stream>")  # (a stream names itself in errors)
    with open(path, "rb") if named else nullcontext(path) as f:
        if start:
            f.seek(start)
        pos = start  # the file offset of the end of what has been read
        rest = b""
        in_line = False  # parts of a long line have been given and its end has not
        while end is None or pos < end:
            block = f.read(BLOCK_SIZE if end is None else min(BLOCK_SIZE, end - pos))
            if not block:
                break
            if pos == 0 and block.startswith(UTF8_BOM):
                block, pos = block[len(UTF8_BOM) :], len(UTF8_BOM)
            pos += len(block)
            data = rest + block
            cut = data.rfind(b"\n") + 1
            if cut:
                for line in split_lines(_decode(data[:cut], name, pos - len(data), errors)):
                    yield line, False
                rest, in_line = data[cut:], False
            elif len(data) > LONG_TEXT:  # a long line goes on: give its part before the last character
                i = len(data) - 1
                while i > len(data) - 4 and 0x80 <= data[i] < 0xC0:
                    i -= 1
                cut = i if data[i] >= 0xC0 else len(data)  # a character that may lack its tail waits for it
                yield _decode(data[:cut], name, pos - len(data), errors), True
                rest, in_line = data[cut:], True
            else:
                rest = data
        if rest or in_line:
            yield _decode(rest, name, pos - len(rest), errors), False


def read_lines(path: Union[Path, BinaryIO], errors: str = "strict") -> Iterator[str]:
    """The lines of a file (or a pipe: it is read once, front to back), newline kept, streamed a block at a
    time; a byte-order mark at the start is dropped."""
    parts: list[str] = []
    for text, more in read_line_parts(path, errors):
        parts.append(text)
        if not more:
            yield "".join(parts)
            parts.clear()


def read_line_blocks(path: Union[Path, BinaryIO], errors: str = "strict", size: int = BLOCK_SIZE) -> Iterator[str]:
    """The text of a file (or a binary stream) in blocks of whole lines, each about ``size`` bytes or one
    line longer than that, decoded: every block but perhaps the last ends with "\n", so that the file's
    lines are each block's ``text.file_lines`` in turn (only "\n" ends a line). A byte-order mark at the
    start is dropped."""
    named = isinstance(path, (str, os.PathLike))
    name = path if named else getattr(path, "name", "<stream>")
    with open(path, "rb") if named else nullcontext(path) as f:
        rest, pos = b"", 0
        while block := f.read(size):
            if pos == 0 and block.startswith(UTF8_BOM):
                block, pos = block[len(UTF8_BOM) :], len(UTF8_BOM)
            pos += len(block)
            data = rest + block
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                rest = data
                continue
            yield _decode(data[:cut], name, pos - len(data), errors)
            rest = data[cut:]
        if rest:
            yield _decode(rest, name, pos - len(rest), errors)


def read_line_batches(path: Union[Path, BinaryIO], errors: str = "strict", size: int = 10_000) -> Iterator[list[str]]:
    """The lines of a file (or a binary stream), newline dropped, in lists of about ``size``: read a block at
    a time and split in C (``read_line_blocks``), for a reader that takes lines by the thousand. Only "\n"
    ends a line; a byte-order mark at the start is dropped; a line longer than a block waits for its end."""
    batch: list[str] = []
    for block in read_line_blocks(path, errors):
        batch += file_lines(block)
        while len(batch) >= size:
            yield batch[:size]
            batch = batch[size:]
    if batch:
        yield batch


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
            nxt = bounds[-1] + chunk_size
            f.seek(nxt)
            while block := f.read(BLOCK_SIZE):  # to the next newline, a block at a time (a line may be long)
                newline = block.find(b"\n")
                if newline >= 0:
                    nxt += newline + 1
                    break
                nxt += len(block)
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
    first (they are never counted as words), then each piece is normalized and split into words. With
    ``strip_newline`` a text's final newline is dropped first (texts are lines, as SentencePiece reads them).

    Built from plain dicts so that worker processes can carry it.
    """

    def __init__(
        self,
        normalizers: list[dict],
        pre_tokenizer: dict,
        special_tokens: Sequence[str] = (),
        strip_newline: bool = False,
    ) -> None:
        self.spec = (normalizers, pre_tokenizer, tuple(special_tokens), strip_newline)
        self.strip_newline = strip_newline
        self.normalizers = make_normalizers(normalizers)
        self.pre_tokenizer = PRE_TOKENIZERS.from_dict(pre_tokenizer)
        self.specials = longest_first(special_tokens)
        self.special_re = alternation(self.specials)

    def __reduce__(self):
        return (WordSplitter, self.spec)

    @property
    def splitting(self) -> dict:
        """How this splitter counts, as plain data (``WordCounts.splitting``; the special tokens as a set)."""
        normalizers, pre_tokenizer, specials, strip_newline = self.spec
        return {
            "normalizers": list(normalizers),
            "pre_tokenizer": pre_tokenizer,
            "special_tokens": sorted(specials),
            "strip_newline": strip_newline,
        }

    @property
    def gpt2_only(self) -> bool:
        """True when words come from GPT-2's pattern alone, which the core counts in one call."""
        pre = self.pre_tokenizer
        return not self.normalizers and not self.strip_newline and pre.pattern == GPT2_PATTERN and not pre.prefix_space

    @property
    def counts_on_threads(self) -> bool:
        """True when ``count_lines`` counts on threads of this process (the native core, GPT-2's pattern
        alone): a file is then read a large chunk at a time rather than shared among worker processes."""
        return self.gpt2_only and _backend.native_available()

    def count(self, texts: Iterable[str], counts: Counter) -> None:
        """Add the words of ``texts`` to ``counts``."""
        if self.gpt2_only:
            count_gpt2 = _backend.pick(bpe_core.count_gpt2)
            batch: list[str] = []
            for text in texts:
                batch.append(text)
                if len(batch) >= 10_000:
                    count_gpt2(batch, self.specials, counts)
                    batch.clear()
            count_gpt2(batch, self.specials, counts)
            return
        words = self.pre_tokenizer.words
        batch = []
        for text in texts:
            if self.strip_newline and text.endswith("\n"):
                text = text[:-1]
            pieces = self.special_re.split(text) if self.special_re is not None else (text,)
            for piece in pieces:
                if self.normalizers:
                    piece = normalize_str(self.normalizers, piece)
                if len(piece) > LONG_TEXT:  # a line of many MB: its words counted as found, never listed
                    counts.update(self.pre_tokenizer.iter_words(piece))
                else:
                    batch.extend(words(piece))
            if len(batch) > 100_000:
                counts.update(batch)
                batch.clear()
        counts.update(batch)

    def count_lines(self, text: str, counts: Counter, num_threads: int = 1) -> None:
        """Add the words of the lines of ``text`` (``split_lines``) to ``counts``; where
        ``counts_on_threads``, on ``num_threads`` threads without a str per line."""
        if self.counts_on_threads:
            count_gpt2 = _backend.pick(bpe_core.count_gpt2)
            count_gpt2([text], self.specials, counts, lines=True, num_threads=num_threads)
        else:
            self.count(split_lines(text), counts)

    def count_parts(self, parts: Iterable[tuple[str, bool]], counts: Counter) -> None:
        """Add the words of ``(text, more)`` items (``read_line_parts``) to ``counts``: whole lines as
        ``count`` does, a long line's parts through ``_count_long_line``."""
        parts = iter(parts)
        lines: list[str] = []
        for text, more in parts:
            if not more:
                lines.append(text)
                if len(lines) >= 10_000:
                    self.count(lines, counts)
                    lines.clear()
                continue
            self.count(lines, counts)
            lines.clear()
            self._count_long_line(chain([(text, more)], parts), counts)
        self.count(lines, counts)

    def _words_of(self, text: str) -> list[str]:
        """The words of ``text`` as ``count`` finds them (special tokens cut out, normalized, split)."""
        words: list[str] = []
        for piece in self.special_re.split(text) if self.special_re is not None else (text,):
            if self.normalizers:
                piece = normalize_str(self.normalizers, piece)
            words.extend(self.pre_tokenizer.words(piece))
        return words

    def _count_long_line(self, parts: Iterator[tuple[str, bool]], counts: Counter) -> None:
        """Count one line given in parts, holding about two parts at a time: after each part, what has been
        read is cut at its last space at least ``LOOKAHEAD`` characters before its end, when the words of the
        two sides are the words of the whole (a cut between two words, as whitespace-splitting
        pre-tokenizers and character-local normalizers make it, and every published pattern); the first
        side is counted, the rest kept. What cannot be cut (a line without lone spaces is one word to most
        pre-tokenizers; after 8 failed cuts no more are tried) is kept and counted at the line's end as
        ``count`` counts any text."""
        pending: list[str] = []
        failures = 0
        for text, more in parts:
            pending.append(text)
            if not more:
                break
            space = _LONE_SPACE.search(text, 0, len(text) - LOOKAHEAD) if failures < 8 else None
            if space is None:
                continue
            joined = "".join(pending)
            at = space.start() + len(joined) - len(text)
            head, tail = joined[:at], joined[at:]
            words = self._words_of(head)
            if self._words_of(joined) == words + self._words_of(tail):
                counts.update(words)
                pending = [tail]
            else:
                failures, pending = failures + 1, [joined]
        self.count(["".join(pending)], counts)


# the last space between two characters that are not spaces (searched backwards)
_LONE_SPACE = regex.compile(r"(?<=\S) (?=\S)", flags=regex.REVERSE)


def _count_chunk(args, counts: Optional[Counter] = None, num_threads: int = 1) -> Counter:
    """The word counts of bytes [start, end) of a file (a byte-order mark at its start dropped), added to
    ``counts`` (a new Counter when None); ``end`` None: the whole stream, read once (a pipe or device, which
    cannot seek). ``num_threads``: for a splitter that ``counts_on_threads``."""
    splitter, path, start, end, errors, chunk_size = args
    counts = Counter() if counts is None else counts
    if end is None or end - start > 2 * chunk_size:  # a pipe, or a range that a long line made long: streamed
        splitter.count_parts(read_line_parts(path, errors, start, end), counts)
        return counts
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read(end - start)
    skip = len(UTF8_BOM) if start == 0 and data.startswith(UTF8_BOM) else 0
    text = _decode(data[skip:], path, start + skip, errors)
    del data
    splitter.count_lines(text, counts, num_threads)
    return counts


def sample_lines(corpus: Corpus, size: int, seed: int) -> list[str]:
    """``size`` texts of ``corpus`` drawn uniformly at random (reservoir sampling with ``random.Random(seed)``:
    memory holds the sample, never the corpus), in the order the draw leaves them."""
    rng = random.Random(seed)
    sample: list[str] = []
    for k, text in enumerate(iter_texts(corpus)):
        if k < size:
            sample.append(text)
        else:
            j = rng.randrange(k + 1)
            if j < size:
                sample[j] = text
    return sample


def count_words(
    corpus: Corpus,
    splitter: WordSplitter,
    num_workers: Optional[int] = None,
    errors: str = "strict",
    show_progress: Optional[bool] = None,
    memory_cap: Optional[int] = None,
) -> Counter:
    """Word -> count over the whole corpus. Files of several MB are cut at newlines and counted on
    ``num_workers`` (default: all cores): threads of the native core, a 32 MB chunk at a time, where the
    splitter ``counts_on_threads`` (GPT-2's pattern alone), else worker processes; the result equals a serial
    pass exactly (the native core's words even come in a serial pass's order). With
    ``memory_cap`` (bytes, at about ``WORD_BYTES`` a counted word) the table in memory is spilled to disk as a
    run whenever it grows past the cap, and the runs are added up at the end (exact)."""
    if num_workers is not None and (
        isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 1
    ):
        raise InputError(f"num_workers must be an integer of at least 1 (or None), not {num_workers!r}")
    if memory_cap is not None and (isinstance(memory_cap, bool) or not isinstance(memory_cap, int) or memory_cap < 1):
        raise InputError(f"memory_cap must be a positive number of bytes (or None), not {memory_cap!r}")
    with _Spill(memory_cap) as spill:
        counts = _count_corpus(corpus, splitter, num_workers, errors, show_progress, spill)
        counts = spill.merged(counts)
    if not counts:
        files = corpus_files(corpus)
        where = ", ".join(str(p) for p in files) if files else "the given texts"
        raise CorpusError(f"the corpus is empty: no words in {where}")
    return counts


def _count_corpus(corpus, splitter, num_workers, errors, show_progress, spill: _Spill) -> Counter:
    files = corpus_files(corpus)
    counts: Counter = Counter()
    if files is None:
        texts = iter_texts(corpus)
        while batch := list(islice(texts, 10_000)):
            splitter.count(batch, counts)
            spill.check(counts)
    else:
        workers = num_workers or os.cpu_count() or 1
        threaded = splitter.counts_on_threads  # the native core's threads: no worker processes
        size = THREADED_CHUNK_SIZE if threaded else CHUNK_SIZE
        tasks = [
            (splitter, p, s, e, errors, size)
            for p in files
            for s, e in (_file_chunks(p, size) if p.is_file() else [(0, None)])  # a pipe: read once
        ]
        total = sum(p.stat().st_size for p in files)
        with progress_bar(total=total, desc="counting words", unit="B", enabled=show_progress) as bar:
            if not threaded and workers > 1 and total >= PARALLEL_MIN_BYTES and len(tasks) > 1:
                with get_context("fork" if sys.platform == "linux" else "spawn").Pool(workers) as pool:
                    for (_, _, s, e, _, _), part in zip(tasks, pool.imap(_count_chunk, tasks)):
                        counts.update(part)
                        spill.check(counts)
                        bar.update((e or s) - s)
            else:
                for task in tasks:
                    _count_chunk(task, counts, workers if threaded else 1)
                    spill.check(counts)
                    bar.update((task[3] or task[2]) - task[2])
    return counts


WORD_BYTES = 200  # what a counted word is taken to cost in memory (a str, an int, a dict slot)


class _Spill:
    """Runs of counts in a private temporary folder, each the table in memory when it passed ``cap`` bytes
    (None: never), pickled; ``merged`` adds them up with what is left at the end, one run at a time
    (integers: exactly the counts of a pass without a cap; ``WordCounts.save`` sorts)."""

    def __init__(self, cap: Optional[int]) -> None:
        self.cap, self.folder, self.runs = cap, None, []

    def __enter__(self) -> _Spill:
        return self

    def __exit__(self, *exc) -> None:
        if self.folder is not None:
            self.folder.cleanup()

    def check(self, counts: Counter) -> None:
        if self.cap is not None and len(counts) * WORD_BYTES > self.cap:
            self._write(counts)
            counts.clear()

    def _write(self, counts: Mapping[str, int]) -> None:
        if self.folder is None:
            self.folder = tempfile.TemporaryDirectory(prefix="subtok-counts-")  # (mode 0700: ours alone)
        path = Path(self.folder.name) / f"run{len(self.runs)}"
        with open(path, "wb") as f:
            pickle.dump(dict(counts), f, protocol=pickle.HIGHEST_PROTOCOL)
        self.runs.append(path)

    def merged(self, counts: Counter) -> Counter:
        for path in self.runs:
            with open(path, "rb") as f:
                counts.update(pickle.load(f))  # (our own file, written above)
        return counts


# ---------------------------------------------------------------------------------------------------------
# Word counts as an object: saved, loaded, merged, trained on
# ---------------------------------------------------------------------------------------------------------
WORD_COUNTS_MAGIC = b"SUBTOKWC"
WORD_COUNTS_VERSION = 1
_INT64_MAX = (1 << 63) - 1
_UTF8 = methodcaller("encode", "utf-8", "surrogatepass")


class WordCounts(Mapping[str, int]):
    """Counted words, each with a 64-bit count, and how they were counted (``splitting``: the
    normalizers, the pre-tokenizer, the special tokens cut out first, whether a line's final newline was
    dropped), so that only counts made the same way merge or train together.

    ``from_corpus`` counts a corpus as training would (for ``tokenizer``'s pipeline, or a model's default
    one), in bounded memory with ``memory_cap``; ``merge`` sums counts of shards exactly (any order, the
    same result); ``save`` writes a versioned binary file, the words sorted by their UTF-8 bytes (the same
    counts, the same file); ``load`` checks every field of one; ``Tokenizer.train_from_counts`` trains on
    them. Unigram's counts are of its "words" as its trainer counts them: lines cut at "▁" (whole lines
    without a pre-tokenizer's split), from which its seed pieces and EM work as from the corpus itself.
    """

    def __init__(self, counts: Optional[Mapping[str, int]] = None, splitting: Optional[dict] = None) -> None:
        self._counts: dict[str, int] = {}
        self.splitting = splitting
        counts = counts or {}
        if counts and plain_counts(counts, _INT64_MAX) and "" not in counts:
            self._counts = dict(counts)  # the common case; else the loop below (it drops empty words, zeros)
            return
        for word, count in counts.items():
            if not isinstance(word, str) or isinstance(count, bool) or not isinstance(count, int):
                raise InputError(f"word counts map str to int, not {word!r} to {count!r}")
            if not 0 <= count <= _INT64_MAX:
                raise InputError(f"the count of {word!r} is {count}: counts are 0 to 2**63 - 1")
            if word and count:
                self._counts[word] = count

    @classmethod
    def from_corpus(
        cls,
        corpus: Corpus,
        tokenizer: Any = None,
        memory_cap: Optional[int] = None,
        *,
        model: Optional[str] = None,
        num_workers: Optional[int] = None,
        errors: str = "strict",
        show_progress: Optional[bool] = None,
        **options: Any,
    ) -> WordCounts:
        """The words of ``corpus`` as ``Tokenizer.train(corpus, model=model, **options)`` counts them:
        with ``tokenizer``, its normalizers and pre-tokenizer (its model's kind unless ``model`` says, its
        special tokens unless ``special_tokens`` does); else ``model``'s defaults (BPE's: GPT-2's pattern).
        ``options`` are the trainer's (those that change counting: ``special_tokens``, Unigram's
        ``split_by_whitespace``...). ``memory_cap``: ``count_words``'."""
        splitter = counting_splitter(tokenizer, model, options)
        counts = count_words(corpus, splitter, num_workers, errors, show_progress, memory_cap)
        return cls(counts, splitter.splitting)

    def __getitem__(self, word: str) -> int:
        return self._counts[word]

    # the dict's own views: a trainer reads every word and count, which Mapping's views would fetch one by one
    def keys(self) -> KeysView[str]:
        return self._counts.keys()

    def values(self) -> ValuesView[int]:
        return self._counts.values()

    def items(self) -> ItemsView[str, int]:
        return self._counts.items()

    def __iter__(self) -> Iterator[str]:
        return iter(self._counts)

    def __len__(self) -> int:
        return len(self._counts)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WordCounts) and self.splitting == other.splitting and self._counts == other._counts

    def __repr__(self) -> str:
        return f"WordCounts({len(self)} words, {self.total} in all)"

    @property
    def total(self) -> int:
        """Every word's count summed."""
        return sum(self._counts.values())

    def merge(self, *others: WordCounts) -> WordCounts:
        """These counts and ``others`` summed word by word (exact: integers); counts made another way
        (another ``splitting``) are an error naming both."""
        merged: Counter = Counter(self._counts)
        for other in others:
            if not isinstance(other, WordCounts):
                raise InputError(f"merge takes WordCounts, not {type(other).__name__}")
            if other.splitting != self.splitting:
                raise InputError(
                    f"these counts were made another way and do not merge: {_describe(self.splitting)} "
                    f"against {_describe(other.splitting)}"
                )
            merged.update(other._counts)
        if merged and max(merged.values()) > _INT64_MAX:
            word = max(merged, key=merged.__getitem__)
            raise InputError(f"the count of {word!r} is {merged[word]}: counts are 0 to 2**63 - 1")
        out = WordCounts(None, self.splitting)
        out._counts = dict(merged)  # (sums of checked counts: only their size needed checking)
        return out

    def to_bytes(self, sort: bool = True) -> bytes:
        """The counts as one versioned message (what ``save`` writes): the magic bytes, a JSON header
        (format, version, splitting, number of words, their UTF-8 bytes, the total), then int64 counts, int64
        offsets (one more than the words) and the words' UTF-8 one after the other, sorted by it: the same
        counts, the same bytes. ``sort=False`` leaves the words in the table's order, for a message that
        only ``merge_bytes`` reads (a shard on its way to a driver; ``from_bytes`` refuses it)."""
        words = sorted(self._counts) if sort else list(self._counts)  # code point order: their UTF-8's
        encoded = list(map(_UTF8, words))
        blob = b"".join(encoded)
        offsets = np.zeros(len(words) + 1, dtype="<i8")
        np.cumsum(np.fromiter(map(len, encoded), np.int64, len(words)), out=offsets[1:])
        values = map(self._counts.__getitem__, words) if sort else self._counts.values()
        counts = np.fromiter(values, "<i8", len(words))
        header = json.dumps(
            {
                "format": "subtok-word-counts",
                "version": WORD_COUNTS_VERSION,
                "splitting": self.splitting,
                "words": len(words),
                "bytes": len(blob),
                "total": self.total,
            },
            sort_keys=True,
        ).encode("utf-8")
        head = WORD_COUNTS_MAGIC + struct.pack("<II", WORD_COUNTS_VERSION, len(header)) + header
        return head + counts.tobytes() + offsets.tobytes() + blob

    def save(self, path: PathLike) -> None:
        """``to_bytes`` written to ``path``, whole or not at all."""
        atomic_write_bytes(path, self.to_bytes())

    @classmethod
    def load(cls, path: PathLike) -> WordCounts:
        """Counts saved by ``save``; anything else, damaged or truncated, is a ``FileFormatError`` naming the
        file and what is wrong."""
        try:
            data = Path(path).read_bytes()
        except OSError as e:
            raise FileFormatError(f"cannot read {path}: {e.strerror}") from None
        return cls.from_bytes(data, str(path))

    @classmethod
    def from_bytes(cls, data: bytes, name: str = "<bytes>") -> WordCounts:
        """Counts from ``to_bytes``' message; a damaged one is a ``FileFormatError`` naming ``name``."""
        table = _CountTable(data, name)
        words = table.words()
        if any(a >= b for a, b in zip(words, words[1:])):
            raise table.bad("its words are not sorted and distinct")
        return cls._from_tables([table])

    @classmethod
    def merge_bytes(cls, messages: Iterable[bytes]) -> WordCounts:
        """The counts of several ``to_bytes`` messages summed (exact, any order: ``merge`` of their
        ``from_bytes``), read and added in the native core where it is built: how a driver merges its
        workers' shards (``distributed.count_words``) without a Python object per shard's word."""
        tables = [_CountTable(m, f"shard {k}") for k, m in enumerate(messages)]
        if not tables:
            raise InputError("no shards to merge")
        for table in tables[1:]:
            if table.splitting != tables[0].splitting:
                raise InputError(
                    f"{table.name}'s counts were made another way and do not merge: "
                    f"{_describe(tables[0].splitting)} against {_describe(table.splitting)}"
                )
        return cls._from_tables(tables)

    @classmethod
    def _from_tables(cls, tables: list[_CountTable]) -> WordCounts:
        try:
            counts = _backend.pick(bpe_core.merge_count_tables)([(t.counts, t.offsets, t.blob) for t in tables])
        except UnicodeDecodeError:
            raise next(t.bad("a word is not UTF-8") for t in tables if not t.utf8()) from None  # (one is not)
        except OverflowError:
            raise InputError("the merged counts of a word pass 2**63 - 1") from None
        out = cls(None, tables[0].splitting)
        out._counts = counts  # (checked: counts above zero, their sums within int64)
        return out


class _CountTable:
    """One ``WordCounts.to_bytes`` message taken apart and checked, without a Python object per word:
    ``splitting``, ``counts`` and ``offsets`` (int64 arrays) and ``blob`` (the words' UTF-8)."""

    def __init__(self, data: bytes, name: str) -> None:
        self.name = name
        if not data.startswith(WORD_COUNTS_MAGIC) or len(data) < 16:
            raise self.bad("no magic bytes at its start")
        version, header_len = struct.unpack_from("<II", data, 8)
        if version != WORD_COUNTS_VERSION:
            raise self.bad(f"version {version}; this subtok reads version {WORD_COUNTS_VERSION}")
        try:
            header = json.loads(bytes(data[16 : 16 + header_len]).decode("utf-8"))
            n, size, total = int(header["words"]), int(header["bytes"]), int(header["total"])
            self.splitting = header["splitting"]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise self.bad("its header is damaged") from None
        start = 16 + header_len
        if n < 0 or size < 0 or len(data) != start + 8 * n + 8 * (n + 1) + size:
            raise self.bad(f"{len(data)} bytes where its header says {start + 16 * n + 8 + size}")
        self.counts = np.frombuffer(data, dtype="<i8", count=n, offset=start)
        self.offsets = np.frombuffer(data, dtype="<i8", count=n + 1, offset=start + 8 * n)
        self.blob = memoryview(data)[start + 16 * n + 8 :]
        if (
            self.offsets[0] != 0
            or self.offsets[-1] != size
            or (n and np.any(np.diff(self.offsets) <= 0))
            or np.any(self.counts <= 0)
        ):
            raise self.bad("its offsets or counts are out of range")
        if sum(self.counts.tolist()) != total:
            raise self.bad(f"its counts sum to {sum(self.counts.tolist())}, its header says {total}")

    def bad(self, what: str) -> FileFormatError:
        return FileFormatError(f"{self.name}: not a subtok word counts file ({what})")

    def words(self) -> list[bytes]:
        """Each word's UTF-8."""
        blob, ends = bytes(self.blob), self.offsets.tolist()
        return [blob[a:b] for a, b in zip(ends, ends[1:])]

    def utf8(self) -> bool:
        """Whether every word is UTF-8 (surrogates passed)."""
        try:
            for word in self.words():
                word.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            return False
        return True


def counting_splitter(
    tokenizer: Any = None, model: Optional[str] = None, options: Optional[dict] = None
) -> WordSplitter:
    """How ``WordCounts.from_corpus`` counts for ``tokenizer`` (its pipeline, its model's kind unless
    ``model`` says, its special tokens unless ``options`` give some) or ``model``'s defaults (BPE)."""
    options = dict(options or {})
    if tokenizer is not None:
        model = model or tokenizer.model.type
        options.setdefault("special_tokens", list(tokenizer.special_tokens))
    model = model or "bpe"
    if model not in TRAINERS:
        raise TrainingError(f"unknown model {model!r}; choose from {sorted(TRAINERS)}")
    return training_splitting(TRAINERS[model].create(options), tokenizer=tokenizer)[2]


def check_splitting(counts: Mapping[str, int], splitter: WordSplitter) -> None:
    """Counts that say how they were counted (``WordCounts.splitting``) were counted as ``splitter`` counts,
    or a ``TrainingError`` says what differs (training on them would learn another vocabulary)."""
    splitting = getattr(counts, "splitting", None)
    if splitting is not None and splitting != splitter.splitting:
        differ = [
            f"{k} {splitting.get(k)!r} against {v!r}" for k, v in splitter.splitting.items() if splitting.get(k) != v
        ]
        raise TrainingError("these counts were made another way than this training counts: " + "; ".join(differ))


def _describe(splitting: Optional[dict]) -> str:
    return "unknown splitting" if splitting is None else json.dumps(splitting, sort_keys=True)


def training_splitting(trainer: Trainer, normalizers=None, pre_tokenizer=None, tokenizer: Any = None):
    """What ``Tokenizer.train`` counts with for ``trainer``: (normalizers, pre-tokenizer, ``WordSplitter``),
    the normalizers and pre-tokenizer given (else ``tokenizer``'s, else the trainer's defaults)."""
    if tokenizer is not None:
        normalizers = list(tokenizer.normalizers) if normalizers is None else normalizers
        pre_tokenizer = tokenizer.pre_tokenizer if pre_tokenizer is None else pre_tokenizer
    norms = make_normalizers(normalizers) if normalizers is not None else trainer.default_normalizers()
    pre = make_pre_tokenizer(pre_tokenizer) if pre_tokenizer is not None else trainer.default_pre_tokenizer()
    if pre.spelled:
        raise TrainingError("training with steps after a ByteLevel pre-tokenizer step is not supported")
    count_pre, cut, strip_newline = trainer.word_splitting(pre)
    return norms, pre, WordSplitter([n.to_dict() for n in norms], count_pre.to_dict(), cut, strip_newline)
