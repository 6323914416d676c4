"""subtok: subword tokenizers (BPE, WordPiece, word-level) and vocabularies, with a compiled core.

The main names: :class:`Tokenizer` (train, encode, decode, save), :class:`Vocab` (the token <-> id table
everything shares) and :func:`preprocess` (the book's word splitting).
"""

from ._backend import native_available
from .encoding import Encoding
from .errors import (
    CorpusError,
    FileFormatError,
    InputError,
    OutputError,
    SubtokError,
    TokenizerFileError,
    TrainingError,
)
from .tokenizer import Tokenizer
from .vocab import Vocab, preprocess


def __getattr__(name: str) -> str:
    """``subtok.__version__``, read from the installed package's metadata when first asked for (importlib's
    metadata machinery costs 2-3 MB of memory that encoding and training do not need)."""
    if name != "__version__":
        raise AttributeError(f"module 'subtok' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("subtok")
    except PackageNotFoundError:  # run from a source tree that was never installed
        value = "0+unknown"
    globals()["__version__"] = value
    return value


__all__ = [
    "CorpusError",
    "Encoding",
    "FileFormatError",
    "InputError",
    "OutputError",
    "SubtokError",
    "Tokenizer",
    "TokenizerFileError",
    "TrainingError",
    "Vocab",
    "native_available",
    "preprocess",
]
