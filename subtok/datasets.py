"""Named corpora: a registry of public texts with their sources, licenses and checksums, read from a local
copy ($SUBTOK_DATA) or downloaded once into a cache, checksum verified; and the embedded default corpus,
generated from this Python's own standard library (no download).
"""

from __future__ import annotations

import ast
import os
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ._io import atomic_write_text
from .errors import CorpusError
from .progress import progress_bar

BLOCK_SIZE = 1 << 20  # bytes hashed at a time


def cache_dir() -> Path:
    """Where generated and downloaded corpora live: $SUBTOK_CACHE, else ~/.cache/subtok."""
    base = os.environ.get("SUBTOK_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "subtok"
    )
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Optional[Path]:
    """A local copy of the reference corpora: the folder $SUBTOK_DATA names, if it is set."""
    env = os.environ.get("SUBTOK_DATA")
    return Path(env) if env else None


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


@dataclass(frozen=True)
class RemoteFile:
    """One file of a named corpus: where it lives under the data directory and on the web, and the sha256 of
    the file as the library keeps it (after ``transform``, which undoes an upstream quirk such as CRLF line ends)."""

    path: str
    url: Optional[str]
    sha256: str
    size: int
    transform: Optional[str] = None  # "strip-cr": drop the carriage returns of the upstream copy


@dataclass(frozen=True)
class NamedCorpus:
    """A corpus known by name: its files by split ("train", "valid", "test", or "all" for one file),
    what it is, where it comes from and its license. ``column`` names the text column of a TSV file."""

    name: str
    description: str
    source: str
    license: str
    files: dict
    column: Optional[str] = None


_GITHUB = "https://raw.githubusercontent.com"
NAMED_CORPORA: dict[str, NamedCorpus] = {
    c.name: c
    for c in (
        NamedCorpus(
            "ptb",
            "Penn Treebank, Mikolov's language-model version (10k words, rare words already <unk>)",
            "Mikolov's RNNLM simple-examples, as copied in tomsercu/lstm data/",
            "Penn Treebank WSJ text (LDC99T42, LDC license); widely redistributed preprocessed version",
            {
                split: RemoteFile(
                    f"ptb/ptb.{split}.txt", f"{_GITHUB}/tomsercu/lstm/master/data/ptb.{split}.txt", sha, size
                )
                for split, sha, size in (
                    ("train", "fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf", 5101618),
                    ("valid", "c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2", 399782),
                    ("test", "dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0", 449945),
                )
            },
        ),
        NamedCorpus(
            "wikitext2",
            "WikiText-2 raw, test split only (Wikipedia Good and Featured articles, no <unk>)",
            "Salesforce wikitext-2-raw-v1 wiki.test.raw, as copied in Tylogi/TyloQuant (blank lines dropped)",
            "CC BY-SA 3.0 and GFDL",
            {
                "all": RemoteFile(
                    "wikitext2/wiki.test.raw.noblank.txt",
                    f"{_GITHUB}/Tylogi/TyloQuant/7989d038b13ca737da11a95fb90e77ae059f33c0/data/wikitext-2-raw/wiki.test.raw",
                    "bbf94c53a05abe9ee670d3b6343608095822c85e26de37c70b24fc571964574a",
                    1287656,
                    transform="strip-cr",
                )
            },
        ),
        NamedCorpus(
            "shakespeare",
            "Tiny Shakespeare: 1.1 MB of Shakespeare's plays, the char-RNN corpus",
            "karpathy/char-rnn data/tinyshakespeare/input.txt",
            "public domain text; repository MIT",
            {
                "all": RemoteFile(
                    "tinyshakespeare/input.txt",
                    f"{_GITHUB}/karpathy/char-rnn/6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e/data/tinyshakespeare/input.txt",
                    "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
                    1115394,
                )
            },
        ),
        NamedCorpus(
            "lee",
            "Lee background corpus: 300 Australian news articles, one per line (gensim's tutorial corpus)",
            "gensim gensim/test/test_data/lee_background.cor",
            "ships in gensim (LGPL-2.1); ABC news text collected for research",
            {
                "all": RemoteFile(
                    "lee/lee_background.cor",
                    f"{_GITHUB}/piskvorky/gensim/4.3.3/gensim/test/test_data/lee_background.cor",
                    "5d78d6dafd953bbf65797bef09a9ffb9ec430583381be705f8fd460000f370fb",
                    360082,
                )
            },
        ),
        NamedCorpus(
            "nsmc",
            "Naver movie reviews (Korean), a 47,443-review sample: id<TAB>document<TAB>rating",
            "e9t/nsmc raw/*.json, every review with int(sha1(id), 16) % 15 == 0 (see corpora/README.md)",
            "CC0 1.0",
            {
                "all": RemoteFile(
                    "korean/nsmc_raw_sample.tsv",
                    None,  # a sample drawn from 14,730 files: no single file to download
                    "eb0057083e77be1be49ffd08937e8541ab91921d51814aa6583536694aef678d",
                    4654671,
                )
            },
            column="document",
        ),
    )
}
CORPUS_NAMES = ("default", *NAMED_CORPORA)


def _sha256(path: Path) -> str:
    import hashlib  # (here, not at import: OpenSSL's library is 3.5 MB of memory a tokenizer does not need)

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(BLOCK_SIZE), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify(path: Path, remote: RemoteFile) -> Path:
    size = path.stat().st_size
    if size != remote.size:
        raise CorpusError(
            f"{path}: {size:,} bytes, not the expected {remote.size:,}; the file is damaged or another version "
            "(delete it to download again)"
        )
    actual = _sha256(path)
    if actual != remote.sha256:
        raise CorpusError(
            f"{path}: sha256 {actual[:16]}... does not match the expected {remote.sha256[:16]}...; "
            "the file is damaged or another version (delete it to download again)"
        )
    return path


def download(remote: RemoteFile, dest: Path, show_progress: Optional[bool] = None) -> Path:
    """Fetch ``remote.url`` into ``dest``, checking its sha256 before the file takes its name: a failed or
    damaged download leaves nothing behind."""
    import urllib.request

    if remote.url is None:
        raise CorpusError(f"{remote.path} has no public download; put it under $SUBTOK_DATA (see corpora/README.md)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(remote.url, timeout=60) as response:
                    total = int(response.headers.get("Content-Length") or 0) or None
                    limit = 2 * remote.size + (1 << 20)  # (raw bytes: CRs may be stripped after)
                    received = 0
                    with progress_bar(total=total, desc=dest.name, unit="B", enabled=show_progress) as bar:
                        for block in iter(lambda: response.read(1 << 16), b""):
                            received += len(block)
                            if received > limit:  # a server that never stops must not fill the disk
                                raise CorpusError(
                                    f"{remote.url} sent more than {limit:,} bytes for a file of {remote.size:,}"
                                )
                            out.write(block.replace(b"\r", b"") if remote.transform == "strip-cr" else block)
                            bar.update(len(block))
            except OSError as e:  # URLError, HTTPError, timeouts and socket errors are all OSError
                raise CorpusError(
                    f"could not download {remote.url}: {e}; set SUBTOK_DATA to a folder holding {remote.path}"
                ) from None
        _verify(Path(tmp), remote)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return dest


def corpus_path(remote: RemoteFile, show_progress: Optional[bool] = None) -> Path:
    """The local copy of one file: under $SUBTOK_DATA when there, else in the cache, downloaded on first
    use. Either way its checksum is verified."""
    local = data_dir()
    if local is not None and (local / remote.path).is_file():
        return _verify(local / remote.path, remote)
    cached = cache_dir() / "corpora" / remote.path
    if cached.is_file():
        return _verify(cached, remote)
    return download(remote, cached, show_progress)


def load(name: str = "default", split: Optional[str] = None, show_progress: Optional[bool] = None) -> Path:
    """A local file holding the named corpus (``split`` "train", "valid" or "test" for PTB; the one file
    otherwise). "default" is generated once from this Python's own standard library (no download) and
    cached; the others are read from $SUBTOK_DATA or downloaded into the cache, checksum verified."""
    if name == "default":
        if split not in (None, "all"):
            raise CorpusError("the default corpus has no splits")
        v = sys.version_info
        path = cache_dir() / f"default-py{v.major}.{v.minor}.{v.micro}.txt"
        if not path.exists():
            atomic_write_text(path, default_corpus_text())
        return path
    named = _named(name)
    split = split or ("all" if "all" in named.files else "train")
    if split not in named.files:
        raise CorpusError(f"corpus {name!r} has no split {split!r}; it has {sorted(named.files)}")
    return corpus_path(named.files[split], show_progress)


def _named(name: str) -> NamedCorpus:
    if name not in NAMED_CORPORA:
        raise CorpusError(f"unknown corpus {name!r}; known: {', '.join(CORPUS_NAMES)}")
    return NAMED_CORPORA[name]


def load_texts(name: str, show_progress: Optional[bool] = None) -> dict[str, list[str]]:
    """The lines of a named corpus by split ({"all": [...]} for a corpus of one file), newline removed;
    for a TSV corpus, its text column."""
    splits = ("all",) if name == "default" else tuple(_named(name).files)
    column = None if name == "default" else NAMED_CORPORA[name].column
    out = {}
    for split in splits:
        lines = load(name, split, show_progress).read_text(encoding="utf-8").split("\n")
        if lines[-1] == "":
            lines.pop()
        if column is not None:
            header = lines[0].split("\t")
            if column not in header:
                raise CorpusError(f"{name}: no column {column!r} in the header {header}")
            k = header.index(column)
            lines = [row.split("\t")[k] for row in lines[1:] if row.count("\t") >= k]
        out[split] = lines
    return out
