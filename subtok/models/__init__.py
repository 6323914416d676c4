"""Tokenization models: each turns one pre-tokenized word into ids, and each has its trainer.

``MODELS`` maps a model's JSON type to its class, ``TRAINERS`` to its trainer. A model's pure-Python hot
loops live in its ``*_core.py`` module, which the C files in ``csrc/`` mirror.
"""

from __future__ import annotations

from typing import Any

from ..errors import TokenizerFileError
from .base import Model, Trainer
from .bpe import BPE, BPETrainer
from .sentencepiece_bpe import SentencePieceBPE
from .unigram import Unigram
from .unigram_trainer import UnigramTrainer
from .word import WordLevel, WordLevelTrainer
from .wordpiece import WordPiece, WordPieceTrainer

MODELS: dict[str, type] = {
    "bpe": BPE,
    "wordpiece": WordPiece,
    "word": WordLevel,
    "unigram": Unigram,
    "sentencepiece_bpe": SentencePieceBPE,
}
TRAINERS: dict[str, type[Trainer]] = {
    "bpe": BPETrainer,
    "wordpiece": WordPieceTrainer,
    "word": WordLevelTrainer,
    "unigram": UnigramTrainer,
}


def model_from_dict(d: Any) -> Model:
    """The model our JSON ``d`` describes."""
    if not isinstance(d, dict) or d.get("type") not in MODELS:
        raise TokenizerFileError(f"'model' must be an object with type in {sorted(MODELS)}")
    return MODELS[d["type"]].from_dict(d)


__all__ = [
    "BPE",
    "MODELS",
    "TRAINERS",
    "BPETrainer",
    "Model",
    "SentencePieceBPE",
    "Trainer",
    "Unigram",
    "UnigramTrainer",
    "WordLevel",
    "WordLevelTrainer",
    "WordPiece",
    "WordPieceTrainer",
    "model_from_dict",
]
