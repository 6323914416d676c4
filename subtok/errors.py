"""The exceptions subtok raises for bad input, one base and a subclass per cause.

Every error a user can cause derives from :class:`SubtokError` (itself a ``ValueError``), so the CLI can
print the message without a traceback and callers can catch one type::

    SubtokError
      InputError          a bad argument or input to a call (wrong type, out of range, unknown option)
        CorpusError       a corpus cannot be read
      FileFormatError     a saved file is malformed, truncated or of another format version
        TokenizerFileError  ... a tokenizer or vocabulary file (ours, HF's, GPT-2's, BERT's)
      TrainingError       training options that cannot be met
      OutputError         an output path that cannot or must not be written (missing folder, a symlink)

and :func:`warn_caller` gives a warning the line of the caller's code that led to it.
"""

import os
import sys
import warnings


class SubtokError(ValueError):
    """Bad input to subtok: the message names the file, line or argument at fault."""


class InputError(SubtokError):
    """A bad argument or input to a call: a wrong type, a value out of range, an option that does not apply."""


class CorpusError(InputError):
    """A corpus cannot be read: missing path, a directory, undecodable bytes, or no text at all."""


class FileFormatError(SubtokError):
    """A saved file (model weights, vectors, checkpoints, tokenizers) is malformed, truncated or of another
    format version."""


class TokenizerFileError(FileFormatError):
    """A tokenizer or vocabulary file (ours, HF's tokenizer.json, GPT-2's, BERT's vocab.txt) is malformed."""


class TrainingError(SubtokError):
    """Training options that cannot be met, such as a vocab_size below the alphabet plus specials."""


class OutputError(SubtokError):
    """An output that cannot or must not be written: its folder is missing or not writable, or the path is a
    symlink, directory or other non-regular file that a write would replace."""


def warn_caller(message: str) -> None:
    """``warnings.warn(message)`` at the first frame outside the subtok package: the caller's own line, however
    many of subtok's calls (and decorators) lie between it and the warning."""
    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frame, level = sys._getframe(1), 1  # level 1: warn_caller's caller
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, UserWarning, stacklevel=level + 1)
