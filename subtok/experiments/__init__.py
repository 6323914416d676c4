"""Experiments that join the tokenizers, the vocabulary and the language models."""

from .compare import compare, format_table

__all__ = ["compare", "format_table"]
