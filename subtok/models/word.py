"""The word-level model: whole words, the ``vocab_size`` most frequent; everything else is ``<unk>``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ..errors import TokenizerFileError, TrainingError


class WordLevel:
    """Maps each pre-tokenized word to its id, or to ``unk_token``'s id when it is not in the vocabulary."""

    type = "word"
    piece_separator = " "  # decoded runs and special tokens are joined by spaces, as words are

    def __init__(self, vocab: Sequence[str], unk_token: str, source: str = "word model") -> None:
        self.vocab = list(vocab)
        self.unk_token = unk_token
        self.token_to_id = {t: i for i, t in enumerate(self.vocab)}
        if len(self.token_to_id) != len(self.vocab):
            dup = next(t for t, c in Counter(self.vocab).items() if c > 1)
            raise TokenizerFileError(f"{source}: duplicate vocabulary entry {dup!r}")
        if unk_token not in self.token_to_id:
            raise TokenizerFileError(f"{source}: unk_token {unk_token!r} is not in the vocabulary")
        self.unk_id = self.token_to_id[unk_token]

    def encode_word(self, word: str) -> list[int]:
        return [self.token_to_id.get(word, self.unk_id)]

    def word_offsets(self, word: str, ids: Sequence[int]) -> list[tuple[int, int]]:
        return [(0, len(word))]

    def decode_tokens(self, tokens: Sequence[str]) -> str:
        return " ".join(tokens)

    def to_dict(self) -> dict:
        return {"type": self.type, "unk_token": self.unk_token, "vocab": self.vocab}

    @classmethod
    def from_dict(cls, d: dict, source: str) -> WordLevel:
        vocab = d.get("vocab")
        if not isinstance(vocab, list) or not all(isinstance(t, str) for t in vocab):
            raise TokenizerFileError(f"{source}: model.vocab must be a list of strings")
        if not isinstance(d.get("unk_token"), str):
            raise TokenizerFileError(f"{source}: model.unk_token must be a string")
        return cls(vocab, d["unk_token"], source=source)


def train_word(
    word_counts: Counter, vocab_size: int, special_tokens: Sequence[str], unk_token: str, min_frequency: int = 1
) -> WordLevel:
    """Specials (unk among them), then the most frequent words (ties by text) up to ``vocab_size``."""
    specials = list(dict.fromkeys(special_tokens))
    if unk_token not in specials:
        specials.insert(0, unk_token)
    if vocab_size < len(specials):
        raise TrainingError(f"vocab_size={vocab_size} is below the {len(specials)} special tokens")
    taken = set(specials)
    ranked = sorted(
        ((w, c) for w, c in word_counts.items() if c >= min_frequency and w not in taken),
        key=lambda wc: (-wc[1], wc[0]),
    )
    return WordLevel(specials + [w for w, _ in ranked[: vocab_size - len(specials)]], unk_token)
