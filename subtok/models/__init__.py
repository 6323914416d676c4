"""Tokenization models: each turns one pre-tokenized word into ids, and each has its trainer."""
