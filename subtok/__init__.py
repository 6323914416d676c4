"""subtok: subword tokenizers (BPE, WordPiece, word-level) and vocabularies, with a compiled core.

The main names: :class:`Tokenizer` (train, encode, decode, save), :class:`Vocab` (the token <-> id table
everything shares) and :func:`preprocess` (the book's word splitting).
"""

from importlib.metadata import PackageNotFoundError, version

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

try:
    __version__ = version("subtok")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"

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
