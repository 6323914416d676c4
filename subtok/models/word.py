"""The word-level model: whole words, the ``vocab_size`` most frequent; everything else is ``<unk>``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Optional, Union

from ..decoders import Decoder, Words
from ..encoding import TextEncoder
from ..errors import SubtokError, TokenizerFileError, TrainingError
from ..pre_tokenizers import PreTokenizer, WhitespaceRuns
from ..vocab import Vocab
from .base import Trainer, check_word_counts, encode_each
from .bpe import DEFAULT_SPECIAL_TOKENS, as_vocab


class WordLevel:
    """Maps each pre-tokenized word to its id, or to ``unk_token``'s id when it is not in the vocabulary."""

    type = "word"

    def __init__(self, vocab: Union[Vocab, Sequence[Optional[str]]], unk_token: str) -> None:
        if not isinstance(unk_token, str):
            raise SubtokError(f"the word model needs an unknown token (a str), not {unk_token!r}")
        self.vocab = as_vocab(vocab, unk_token)
        self.unk_token = unk_token
        self.unk_id = self.vocab.unk_id

    def encode_word(self, word: str) -> list[int]:
        return [self.vocab[word]]

    def encode_words(self, words: list[str]) -> tuple[list[int], list[int]]:
        return encode_each(self.encode_word, words)

    def text_encoder(self, normalizers: Sequence, pre_tokenizer: PreTokenizer, specials) -> Optional[TextEncoder]:
        return None  # a dict lookup per word: nothing for a native encoder to win

    def word_offsets(self, word: str, ids: Sequence[int]) -> list[tuple[int, int]]:
        return [(0, len(word))]

    def default_pre_tokenizer(self) -> PreTokenizer:
        return WhitespaceRuns()

    def decoder(self) -> Decoder:
        return Words()

    def to_dict(self) -> dict:
        return {"type": self.type, "unk_token": self.unk_token, "vocab": list(self.vocab)}

    @classmethod
    def from_dict(cls, d: dict) -> WordLevel:
        vocab = d.get("vocab")
        if not isinstance(vocab, list) or not all(t is None or isinstance(t, str) for t in vocab):
            raise TokenizerFileError("model.vocab must be a list of strings (null for an unused id)")
        if not isinstance(d.get("unk_token"), str):
            raise TokenizerFileError("model.unk_token must be a string")
        return cls(vocab, d["unk_token"])


class WordLevelTrainer(Trainer):
    """The word model's options: ``unk_token`` ("<unk>") and whitespace splitting by default. The
    vocabulary is ``Vocab.from_counts``: specials (the unknown token first when it is not among them), then
    the most frequent words, ties by their text."""

    model = "word"
    default_special_tokens = DEFAULT_SPECIAL_TOKENS

    def __init__(self, *, unk_token: str = "<unk>", **common) -> None:
        super().__init__(**common)
        if not isinstance(unk_token, str) or not unk_token:
            raise TrainingError(f"the word model needs an unk_token, not {unk_token!r}")
        self.unk_token = unk_token

    def default_pre_tokenizer(self) -> PreTokenizer:
        return WhitespaceRuns()

    def train(self, word_counts: Mapping[str, int]) -> WordLevel:
        check_word_counts(word_counts)
        specials = list(self.special_tokens)
        if self.unk_token not in specials:
            specials.insert(0, self.unk_token)
        if self.vocab_size < len(specials):
            raise TrainingError(f"vocab_size={self.vocab_size} is below the {len(specials)} special tokens")
        vocab = Vocab.from_counts(
            word_counts, max_size=self.vocab_size, min_freq=self.min_frequency, specials=specials, unk=self.unk_token
        )
        return WordLevel(vocab, self.unk_token)
