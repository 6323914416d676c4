"""WordPiece: BERT's model. A vocabulary of word-initial pieces and "##" continuation pieces; a word is
encoded greedily, longest piece first, and a word that cannot be covered is a single unknown token.

Training learns the vocabulary by merging pairs, like BPE, but scored by likelihood (``scoring=
"likelihood"``, the default: count(ab) / (count(a) count(b)), see ``wordpiece_core``) or by frequency
(``scoring="frequency"``: HF tokenizers' WordPiece trainer, which is BPE with a "##" prefix). Only the
vocabulary is kept: encoding never looks at merges.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from typing import Optional

from .. import _backend
from ..errors import TokenizerFileError, TrainingError
from ..progress import progress_bar
from . import wordpiece_core
from .bpe import _char_alphabet, _char_symbol_words
from .bpe_core import CACHE_SIZE

DEFAULT_SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
CLEANUP = (
    (" .", "."),
    (" ?", "?"),
    (" !", "!"),
    (" ,", ","),
    (" ' ", "'"),
    (" n't", "n't"),
    (" 'm", "'m"),
    (" 's", "'s"),
    (" 've", "'ve"),
    (" 're", "'re"),
)


class WordPiece:
    """A WordPiece vocabulary (ids are positions) with BERT's encoding rule."""

    type = "wordpiece"
    piece_separator = " "

    def __init__(
        self,
        vocab: Sequence[str],
        unk_token: str = "[UNK]",
        continuing_subword_prefix: str = "##",
        max_input_chars_per_word: int = 100,
        cleanup: bool = True,
        source: str = "WordPiece model",
    ) -> None:
        self.vocab = list(vocab)
        if not self.vocab:
            raise TokenizerFileError(f"{source}: the vocabulary is empty")
        self.token_to_id = {t: i for i, t in enumerate(self.vocab)}
        if len(self.token_to_id) != len(self.vocab):
            dup = next(t for t, c in Counter(self.vocab).items() if c > 1)
            raise TokenizerFileError(f"{source}: duplicate vocabulary entry {dup!r}")
        if unk_token not in self.token_to_id:
            raise TokenizerFileError(f"{source}: the unknown token {unk_token!r} is not in the vocabulary")
        if not isinstance(max_input_chars_per_word, int) or max_input_chars_per_word < 1:
            raise TokenizerFileError(f"{source}: max_input_chars_per_word must be a positive integer")
        self.unk_token = unk_token
        self.unk_id = self.token_to_id[unk_token]
        self.prefix = continuing_subword_prefix or ""
        self.max_input_chars_per_word = max_input_chars_per_word
        self.cleanup = cleanup
        self._cache: dict[str, list[int]] = {}
        self._tries = None
        self._tries_backend = ""
        self._text_encoder = None
        self._text_encoder_key = None

    # -- encoding ----------------------------------------------------------------------------------------
    def encode_word(self, word: str) -> list[int]:
        """Ids of one pre-tokenized word (cached)."""
        if self._tries_backend != _backend.name:
            self._tries = _backend.make_trie(self.vocab, self.prefix)
            self._tries_backend = _backend.name
            self._cache.clear()
        ids = self._cache.get(word)
        if ids is None:
            ids = _backend.encode_longest_match(word, self._tries, self.unk_id, self.max_input_chars_per_word)
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            self._cache[word] = ids
        return ids

    def text_encoder(self, normalizer, specials: list[tuple[str, int]]):
        """BERT's whole pipeline as one encoder (``wordpiece_core.BertEncoder`` or its native twin)."""
        self.encode_word("")  # builds the tries for the backend in use
        key = (_backend.name, id(normalizer), tuple(specials))
        if self._text_encoder_key != key:
            self._text_encoder = _backend.BertEncoder(
                self._tries, self.unk_id, self.max_input_chars_per_word, normalizer, list(specials)
            )
            self._text_encoder_key = key
        return self._text_encoder

    def word_offsets(self, word: str, ids: Sequence[int]) -> list[tuple[int, int]]:
        if len(ids) == 1 and ids[0] == self.unk_id:
            return [(0, len(word))]
        spans, pos = [], 0
        for k, t in enumerate(ids):
            n = len(self.vocab[t]) - (len(self.prefix) if k else 0)
            spans.append((pos, pos + n))
            pos += n
        return spans

    def decode_tokens(self, tokens: Sequence[str]) -> str:
        """Pieces joined into words ("##" pieces glued to the one before), words by spaces."""
        out = []
        for i, t in enumerate(tokens):
            if self.prefix and t.startswith(self.prefix) and i:
                out.append(t[len(self.prefix) :])
            else:
                out.append(" " + t if i else t)
        text = "".join(out)
        if self.cleanup:
            for a, b in CLEANUP:
                text = text.replace(a, b)
        return text

    # -- persistence -------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "type": self.type,
            "unk_token": self.unk_token,
            "continuing_subword_prefix": self.prefix,
            "max_input_chars_per_word": self.max_input_chars_per_word,
            "cleanup": self.cleanup,
            "vocab": self.vocab,
        }

    @classmethod
    def from_dict(cls, d: dict, source: str) -> WordPiece:
        vocab = d.get("vocab")
        if not isinstance(vocab, list) or not all(isinstance(t, str) for t in vocab):
            raise TokenizerFileError(f"{source}: model.vocab must be a list of strings")
        return cls(
            vocab,
            unk_token=d.get("unk_token", "[UNK]"),
            continuing_subword_prefix=d.get("continuing_subword_prefix", "##"),
            max_input_chars_per_word=d.get("max_input_chars_per_word", 100),
            cleanup=bool(d.get("cleanup", True)),
            source=source,
        )


def train_wordpiece(
    word_counts: Counter,
    vocab_size: int,
    special_tokens: Sequence[str] = DEFAULT_SPECIAL_TOKENS,
    unk_token: str = "[UNK]",
    min_frequency: int = 2,
    limit_alphabet: Optional[int] = None,
    continuing_subword_prefix: str = "##",
    scoring: str = "likelihood",
    max_input_chars_per_word: int = 100,
    show_progress: Optional[bool] = None,
) -> WordPiece:
    """A WordPiece vocabulary of exactly ``vocab_size`` tokens (specials included) from word counts.

    The alphabet is the ``limit_alphabet`` most frequent characters, each both as a word-initial piece and
    as a "##" piece, so any word of known characters can be encoded. Stops early, with a warning, when no
    pair occurs ``min_frequency`` times any more.
    """
    if scoring not in ("likelihood", "frequency"):
        raise TrainingError(f"scoring must be 'likelihood' or 'frequency', not {scoring!r}")
    prefix = continuing_subword_prefix
    specials = list(dict.fromkeys(special_tokens))
    if unk_token not in specials:
        specials.insert(0, unk_token)
    alphabet = _char_alphabet(word_counts, limit_alphabet)
    sym_words = _char_symbol_words(word_counts, alphabet, prefix, "")
    keys = sorted({s.encode("utf-8") for ch in alphabet for s in (ch, prefix + ch)} - {t.encode() for t in specials})
    if vocab_size < len(specials) + len(keys):
        raise TrainingError(
            f"vocab_size={vocab_size} is below the alphabet ({len(keys)} pieces: each character with and "
            f"without {prefix!r}) plus {len(specials)} special tokens: use at least {len(specials) + len(keys)}"
        )
    key_id = {k: i for i, k in enumerate(keys)}
    word_list = [[key_id[s.encode("utf-8")] for s in word] for word in sym_words]
    counts = list(sym_words.values())
    max_tokens = vocab_size - len(specials)
    blocked = frozenset(t.encode("utf-8") for t in specials)
    loop = _backend.train_likelihood if scoring == "likelihood" else _backend.train_merges
    with progress_bar(total=max_tokens - len(keys), desc="WordPiece merges", enabled=show_progress) as bar:
        start = len(keys)
        args = (
            word_list,
            counts,
            keys,
            len(prefix.encode("utf-8")),
            max_tokens,
            min_frequency,
            blocked,
            lambda n: bar.update(1) if n > start else None,
        )
        try:
            loop(*args)
        except OverflowError:  # the native scores need counts below 2**42: the reference has no limit
            wordpiece_core.train_likelihood(*args)
    if len(keys) < max_tokens:
        warnings.warn(
            f"WordPiece training ran out of pairs with min_frequency={min_frequency}: the vocabulary has "
            f"{len(specials) + len(keys)} tokens, not the vocab_size={vocab_size} asked for",
            stacklevel=3,
        )
    return WordPiece(
        specials + [k.decode("utf-8") for k in keys],
        unk_token=unk_token,
        continuing_subword_prefix=prefix,
        max_input_chars_per_word=max_input_chars_per_word,
    )
