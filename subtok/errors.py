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
"""


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
