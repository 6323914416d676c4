"""WordPiece: BERT's model. A vocabulary of word-initial pieces and "##" continuation pieces; a word is
encoded greedily, longest piece first, and a word that cannot be covered is a single unknown token.

Training learns the vocabulary by merging pairs, like BPE, but scored by likelihood (``scoring=
"likelihood"``, the default: count(ab) / (count(a) count(b)), see ``wordpiece_core``) or by frequency
(``scoring="frequency"``: HF tokenizers' WordPiece trainer, which is BPE with a "##" prefix). Only the
vocabulary is kept: encoding never looks at merges.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Optional, Union

from .. import _backend
from ..decoders import Decoder
from ..decoders import WordPiece as WordPieceDecoder
from ..encoding import TextEncoder, TokenSpans
from ..errors import SubtokError, TokenizerFileError, TrainingError, warn_caller
from ..normalizers import BertNormalizer, Normalizer
from ..pre_tokenizers import BertPreTokenizer, BertWords, PreTokenizer
from ..processors import BertPostProcessor
from ..progress import progress_bar
from ..registry import require
from ..vocab import Vocab
from . import bpe_core, wordpiece_core
from .base import Trainer, char_alphabet, char_symbol_words, check_word_counts, encode_each
from .bpe import as_vocab

DEFAULT_SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


class WordPiece:
    """A WordPiece vocabulary with BERT's encoding rule. ``cleanup`` is its decoder's option (transformers'
    clean_up_tokenization), kept with the model in our JSON."""

    type = "wordpiece"

    def __init__(
        self,
        vocab: Union[Vocab, Sequence[str]],
        unk_token: str = "[UNK]",
        continuing_subword_prefix: str = "##",
        max_input_chars_per_word: int = 100,
        cleanup: bool = True,
    ) -> None:
        if len(vocab) == 0:
            raise SubtokError("the vocabulary is empty")
        if not isinstance(unk_token, str):
            raise SubtokError(f"WordPiece needs an unknown token (a str), not {unk_token!r}")
        self.vocab = as_vocab(vocab, unk_token)
        if self.vocab.has_gaps:
            raise SubtokError("WordPiece vocabularies whose ids leave gaps are not supported")
        if not isinstance(max_input_chars_per_word, int) or not 1 <= max_input_chars_per_word < 2**31:
            raise SubtokError("max_input_chars_per_word must be a positive integer")
        self.unk_token = unk_token
        self.unk_id = self.vocab.unk_id
        require("WordPiece model", continuing_subword_prefix=(continuing_subword_prefix, "str?"))
        self.prefix = continuing_subword_prefix or ""
        self.max_input_chars_per_word = max_input_chars_per_word
        self.cleanup = cleanup
        self._cache: dict[str, list[int]] = {}
        self._tries = None
        self._tries_backend = ""
        self._text_encoder: Optional[TextEncoder] = None
        self._text_encoder_key = None

    # -- encoding ----------------------------------------------------------------------------------------
    def _compile(self) -> None:
        """Build the tries for the backend in use (again if the backend switches)."""
        if self._tries_backend != _backend.name:
            self._tries = _backend.pick(wordpiece_core.make_trie)(list(self.vocab), self.prefix)
            self._longest_match = _backend.pick(wordpiece_core.encode_longest_match)
            self._tries_backend = _backend.name
            self._cache.clear()

    def encode_word(self, word: str) -> list[int]:
        """Ids of one pre-tokenized word (cached)."""
        self._compile()
        ids = self._cache.get(word)
        if ids is None:
            ids = self._longest_match(word, self._tries, self.unk_id, self.max_input_chars_per_word)
            if len(word) <= bpe_core.CACHE_MAX_WORD:
                if len(self._cache) >= bpe_core.CACHE_SIZE:
                    self._cache.clear()
                self._cache[word] = ids
        return ids

    def text_encoder(
        self, normalizers: Sequence[Normalizer], pre_tokenizer: PreTokenizer, specials: list[tuple[str, int]]
    ) -> Optional[TextEncoder]:
        """BERT's pipeline (the BERT pre-tokenizer, at most the BERT normalizer) as one encoder of whole texts
        (``wordpiece_core.BertEncoder`` or its native twin); other pipelines have no such encoder."""
        if not isinstance(pre_tokenizer, (BertWords, BertPreTokenizer)) or len(normalizers) > 1:
            return None
        if normalizers and not isinstance(normalizers[0], BertNormalizer):
            return None
        normalizer = normalizers[0] if normalizers else None
        self._compile()
        key = (_backend.name, id(normalizer), tuple(specials))
        if self._text_encoder_key != key:
            table = normalizer.table() if normalizer is not None else None
            core = _backend.pick(wordpiece_core.BertEncoder)(
                self._tries, self.unk_id, self.max_input_chars_per_word, table, list(specials)
            )
            self._text_encoder = TextEncoder(core, self, TokenSpans)
            self._text_encoder_key = key
        return self._text_encoder

    def encode_words(self, words: list[str]) -> tuple[list[int], list[int]]:
        return encode_each(self.encode_word, words)

    def word_offsets(self, word: str, ids: Sequence[int]) -> list[tuple[int, int]]:
        if len(ids) == 1 and ids[0] == self.unk_id:
            return [(0, len(word))]
        id_to_word = self.vocab.id_to_word
        spans, pos = [], 0
        for k, t in enumerate(ids):
            n = len(id_to_word[t]) - (len(self.prefix) if k else 0)
            spans.append((pos, pos + n))
            pos += n
        return spans

    def default_pre_tokenizer(self) -> PreTokenizer:
        return BertWords()

    def decoder(self) -> Decoder:
        return WordPieceDecoder(self.prefix, self.cleanup)

    # -- persistence -------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "type": self.type,
            "unk_token": self.unk_token,
            "continuing_subword_prefix": self.prefix,
            "max_input_chars_per_word": self.max_input_chars_per_word,
            "cleanup": self.cleanup,
            "vocab": list(self.vocab),
        }

    @classmethod
    def from_dict(cls, d: dict) -> WordPiece:
        vocab = d.get("vocab")
        if not isinstance(vocab, list) or not all(isinstance(t, str) for t in vocab):
            raise TokenizerFileError("model.vocab must be a list of strings")
        return cls(
            vocab,
            unk_token=d.get("unk_token", "[UNK]"),
            continuing_subword_prefix=d.get("continuing_subword_prefix", "##"),
            max_input_chars_per_word=d.get("max_input_chars_per_word", 100),
            cleanup=bool(d.get("cleanup", True)),
        )


class WordPieceTrainer(Trainer):
    """WordPiece's options: BERT's normalizer and pre-tokenizer by default, ``unk_token`` "[UNK]",
    ``continuing_subword_prefix`` "##", ``limit_alphabet``, ``scoring`` "likelihood" (count(ab) /
    (count(a) count(b))) or "frequency" (HF's trainer: BPE with the prefix), and the encoder's
    ``max_input_chars_per_word``. A trained vocabulary with [CLS] and [SEP] gets BERT's post-processor."""

    model = "wordpiece"
    default_special_tokens = DEFAULT_SPECIAL_TOKENS

    def __init__(
        self,
        *,
        unk_token: str = "[UNK]",
        continuing_subword_prefix: str = "##",
        limit_alphabet: Optional[int] = None,
        scoring: str = "likelihood",
        max_input_chars_per_word: int = 100,
        **common,
    ) -> None:
        super().__init__(**common)
        if scoring not in ("likelihood", "frequency"):
            raise TrainingError(f"scoring must be 'likelihood' or 'frequency', not {scoring!r}")
        if not isinstance(unk_token, str) or not unk_token:
            raise TrainingError(f"the wordpiece model needs an unk_token, not {unk_token!r}")
        self.unk_token = unk_token
        self.prefix = continuing_subword_prefix or "##"
        self.limit_alphabet = limit_alphabet
        self.scoring = scoring
        self.max_input_chars_per_word = max_input_chars_per_word

    def default_normalizers(self) -> list[Normalizer]:
        return [BertNormalizer()]

    def default_pre_tokenizer(self) -> PreTokenizer:
        return BertWords()

    def post_processor(self, model: WordPiece) -> Optional[BertPostProcessor]:
        post = BertPostProcessor()
        return post if all(t in model.vocab for t in post.tokens) else None

    def train(self, word_counts: Mapping[str, int]) -> WordPiece:
        """A WordPiece vocabulary of exactly ``vocab_size`` tokens (specials included) from word counts.

        The alphabet is the ``limit_alphabet`` most frequent characters, each both as a word-initial piece
        and as a "##" piece, so any word of known characters can be encoded. Stops early, with a warning,
        when no pair occurs ``min_frequency`` times any more.
        """
        check_word_counts(word_counts)
        prefix = self.prefix
        specials = list(self.special_tokens)
        if self.unk_token not in specials:
            specials.insert(0, self.unk_token)
        alphabet = char_alphabet(word_counts, self.limit_alphabet)
        sym_words = char_symbol_words(word_counts, alphabet, prefix, "")
        special_keys = {t.encode() for t in specials}
        keys = sorted({s.encode("utf-8") for ch in alphabet for s in (ch, prefix + ch)} - special_keys)
        if self.vocab_size < len(specials) + len(keys):
            raise TrainingError(
                f"vocab_size={self.vocab_size} is below the alphabet ({len(keys)} pieces: each character with "
                f"and without {prefix!r}) plus {len(specials)} special tokens: use at least {len(specials) + len(keys)}"
            )
        symbol_id = {k.decode("utf-8"): i for i, k in enumerate(keys)}
        word_list = [list(map(symbol_id.__getitem__, word)) for word in sym_words]
        counts = list(sym_words.values())
        max_tokens = self.vocab_size - len(specials)
        blocked = frozenset(t.encode("utf-8") for t in specials)
        reference = wordpiece_core.train_likelihood if self.scoring == "likelihood" else bpe_core.train_merges
        with progress_bar(total=max_tokens - len(keys), desc="WordPiece merges", enabled=self.show_progress) as bar:
            start = len(keys)
            args = (
                word_list,
                counts,
                keys,
                len(prefix.encode("utf-8")),
                max_tokens,
                self.min_frequency,
                blocked,
                lambda n: bar.update(1) if n > start else None,
            )
            try:
                _backend.pick(reference)(*args)
            except OverflowError:  # past the native core's 64-bit counts (2**42 for scores): the reference has none
                reference(*args)
        if len(keys) < max_tokens:
            warn_caller(
                f"WordPiece training ran out of pairs with min_frequency={self.min_frequency}: the vocabulary has "
                f"{len(specials) + len(keys)} tokens, not the vocab_size={self.vocab_size} asked for"
            )
        return WordPiece(
            specials + [k.decode("utf-8") for k in keys],
            unk_token=self.unk_token,
            continuing_subword_prefix=prefix,
            max_input_chars_per_word=self.max_input_chars_per_word,
        )
