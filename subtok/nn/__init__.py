"""Neural-network layers in the book's protocol: each layer keeps ``params`` and ``grads`` lists and has
``forward`` and ``backward``; optimizers update ``params`` from ``grads`` in place."""

from .layers import (
    AliasTable,
    Embedding,
    EmbeddingDot,
    NegativeSamplingLoss,
    SigmoidWithLoss,
    UnigramSampler,
    scatter_add,
)
from .optim import SGD, Adam

__all__ = [
    "Adam",
    "AliasTable",
    "Embedding",
    "EmbeddingDot",
    "NegativeSamplingLoss",
    "SGD",
    "SigmoidWithLoss",
    "UnigramSampler",
    "scatter_add",
]
