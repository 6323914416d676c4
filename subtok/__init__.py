"""subtok: subword tokenizers (BPE, WordPiece, word-level) and vocabularies, with a compiled core.

The main names: :class:`Tokenizer` (train, encode, decode, save), :class:`Vocab` (the token <-> id table
everything shares) and :func:`preprocess` (the book's word splitting).
"""

from ._backend import native_available
from .errors import CorpusError, SubtokError, TokenizerFileError, TrainingError
from .text import preprocess
from .tokenizer import Encoding, Tokenizer
from .vocab import Vocab

__version__ = "0.1.0"

__all__ = [
    "CorpusError",
    "Encoding",
    "SubtokError",
    "Tokenizer",
    "TokenizerFileError",
    "TrainingError",
    "Vocab",
    "native_available",
    "preprocess",
]
