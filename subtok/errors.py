"""The exceptions subtok raises for bad input.

Every error a user can cause derives from :class:`SubtokError` (itself a ``ValueError``), so the CLI can
print the message without a traceback and callers can catch one type.
"""


class SubtokError(ValueError):
    """Bad input to subtok: the message names the file, line or argument at fault."""


class CorpusError(SubtokError):
    """A corpus cannot be read: missing path, a directory, undecodable bytes, or no text at all."""


class TokenizerFileError(SubtokError):
    """A saved tokenizer or vocabulary file is malformed, truncated or of another format version."""


class TrainingError(SubtokError):
    """Training options that cannot be met, such as a vocab_size below the alphabet plus specials."""
