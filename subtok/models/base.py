"""What every model and trainer shares: the Model protocol, the Trainer base (options, defaults, and the
refusal of options a model does not take), and the character-level helpers of the BPE and WordPiece
trainers."""

from __future__ import annotations

import inspect
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Optional, Protocol

from ..errors import TrainingError
from ..pre_tokenizers import PreTokenizer

if TYPE_CHECKING:
    from ..decoders import Decoder
    from ..encoding import TextEncoder
    from ..normalizers import Normalizer
    from ..processors import BertPostProcessor
    from ..vocab import Vocab


class Model(Protocol):
    """A tokenization model: one pre-tokenized word -> ids, and back."""

    type: str  # its name in JSON: "bpe", "wordpiece", "word"
    vocab: Vocab

    def encode_word(self, word: str) -> list[int]:
        """Ids of one pre-tokenized word."""

    def encode_words(self, words: list[str]) -> tuple[list[int], list[int]]:
        """The ids of ``words`` one after the other, and how many each word has (``encode_each``, or
        one native call)."""

    def word_offsets(self, word: str, ids: Sequence[int]) -> list[tuple[int, int]]:
        """Character span within ``word`` of each of its tokens ``ids``."""

    def text_encoder(
        self, normalizers: Sequence[Normalizer], pre_tokenizer: PreTokenizer, specials: list[tuple[str, int]]
    ) -> Optional[TextEncoder]:
        """An encoder of whole texts for this pipeline (specials, normalizers, pre-tokenizer and model in
        one call, native when built), or None when the model has none for it."""

    def decoder(self) -> Decoder:
        """The decoder of this model's tokens."""

    def default_pre_tokenizer(self) -> PreTokenizer:
        """The pre-tokenizer this model is trained with unless told otherwise (as its trainer's default)."""

    def to_dict(self) -> dict:
        """The model as our JSON."""


def encode_each(encode_word: Callable[[str], list[int]], words: list[str]) -> tuple[list[int], list[int]]:
    """``Model.encode_words`` by one ``encode_word`` call per word."""
    ids: list[int] = []
    counts: list[int] = []
    for word in words:
        word_ids = encode_word(word)
        ids += word_ids
        counts.append(len(word_ids))
    return ids, counts


UNSET: object = object()  # an option the caller did not give (None can be a value)


class Trainer:
    """Options and defaults for training one kind of model from word counts.

    A subclass takes its own options as keyword arguments; ``create`` refuses an option the trainer does
    not take, naming it, so no option is ever silently ignored. ``Tokenizer.train`` builds the pipeline
    from the trainer's defaults (normalizers, pre-tokenizer, special tokens), counts words, and calls
    ``train``.
    """

    model = ""
    default_special_tokens: tuple[str, ...] = ()
    input_sentence_size = 0  # train on this many lines drawn at random (``corpus.sample_lines``); 0: all
    seed = 0  # the draw's seed

    def __init__(
        self,
        *,
        vocab_size: int = 8000,
        min_frequency: int = 2,
        special_tokens: Optional[Sequence[str]] = None,
        show_progress: Optional[bool] = None,
    ) -> None:
        if not isinstance(vocab_size, int) or isinstance(vocab_size, bool) or vocab_size < 1:
            raise TrainingError(f"vocab_size must be a positive integer, not {vocab_size!r}")
        if not isinstance(min_frequency, int) or isinstance(min_frequency, bool) or min_frequency < 1:
            raise TrainingError(f"min_frequency must be an integer of at least 1, not {min_frequency!r}")
        if special_tokens is None:
            special_tokens = self.default_special_tokens
        if isinstance(special_tokens, str) or not all(isinstance(t, str) and t for t in special_tokens):
            raise TrainingError(f"special_tokens must be a list of non-empty strings, not {special_tokens!r}")
        self.vocab_size = vocab_size
        self.min_frequency = min_frequency
        self.special_tokens = list(dict.fromkeys(special_tokens))
        self.show_progress = show_progress

    @classmethod
    def options(cls) -> list[str]:
        """The keyword options this trainer takes."""
        names: dict[str, None] = {}
        for klass in cls.__mro__:
            init = klass.__dict__.get("__init__")
            if init is not None:
                params = inspect.signature(init).parameters.values()
                names.update((p.name, None) for p in params if p.kind is p.KEYWORD_ONLY)
        return sorted(names)

    @classmethod
    def create(cls, options: Mapping[str, object]) -> Trainer:
        """The trainer with ``options``; an option it does not take is an error naming it."""
        unknown = sorted(set(options) - set(cls.options()))
        if unknown:
            raise TrainingError(
                f"the {cls.model} model takes no option {', '.join(unknown)}; its options: {', '.join(cls.options())}"
            )
        return cls(**options)

    def default_normalizers(self) -> list[Normalizer]:
        return []

    def default_pre_tokenizer(self) -> PreTokenizer:
        raise NotImplementedError

    def word_splitting(self, pre_tokenizer: PreTokenizer) -> tuple[PreTokenizer, list[str], bool]:
        """How training cuts texts into words (``corpus.WordSplitter``'s options): the pre-tokenizer to count
        with (the pipeline's), the tokens cut out first (the special tokens) and whether a text's final
        newline is dropped (no: HF's trainers keep it)."""
        return pre_tokenizer, self.special_tokens, False

    def train(self, word_counts: Mapping[str, int]) -> Model:
        raise NotImplementedError

    def tokenizer_specials(self, model: Model) -> list[str]:
        """The trained model's special tokens, in vocabulary order (the unknown token among them)."""
        specials = set(self.special_tokens) | {getattr(model.vocab, "unk", None)}
        return [t for t in model.vocab if t in specials]

    def post_processor(self, model: Model) -> Optional[BertPostProcessor]:
        """The post-processor a trained model gets (none by default)."""
        return None


def plain_counts(word_counts: Mapping[str, int], top: int) -> bool:
    """Whether every word is a str (not a subclass) and every count an int from 1 to ``top``, checked at C
    speed; False sends the caller to its loop over the entries, which names the first offender."""
    counts = word_counts.values()
    return (
        set(map(type, word_counts)) == {str}
        and set(map(type, counts)) == {int}
        and 1 <= min(counts) <= max(counts) <= top
    )


def check_word_counts(word_counts: Mapping[str, int]) -> None:
    """Word counts as every trainer takes them: a mapping of str to integers from 1 to 2**52 (a float,
    negative or boolean count is an error, not something to round or train on)."""
    if not isinstance(word_counts, Mapping):
        raise TrainingError(f"word counts must be a mapping of word -> count, not {type(word_counts).__name__}")
    if not word_counts or plain_counts(word_counts, 1 << 52):
        return
    for word, count in word_counts.items():
        if not isinstance(word, str):
            raise TrainingError(f"a word must be a str, not {word!r}")
        if type(count) is not int or not 1 <= count <= 1 << 52:
            raise TrainingError(f"the count of {word[:40]!r} must be an integer from 1 to 2**52, not {count!r}")


# ---------------------------------------------------------------------------------------------------------
# Character-level training helpers (BPE without byte_level, WordPiece)
# ---------------------------------------------------------------------------------------------------------
def char_alphabet(word_counts: Mapping[str, int], limit_alphabet: Optional[int]) -> set[str]:
    """The ``limit_alphabet`` most frequent characters (all when None); ties by character."""
    by_count: defaultdict[int, list[str]] = defaultdict(list)  # words by their count: one Counter per count
    for w, c in word_counts.items():
        by_count[c].append(w)
    chars: Counter = Counter()
    for c, words in by_count.items():
        for ch, k in Counter("".join(words)).items():
            chars[ch] += k * c
    ranked = sorted(chars.items(), key=lambda kv: (-kv[1], kv[0]))
    if limit_alphabet is not None:
        ranked = ranked[:limit_alphabet]
    return {ch for ch, _ in ranked}


def char_symbol_words(word_counts: Mapping[str, int], alphabet: set[str], prefix: str, suffix: str) -> Counter:
    """Words as tuples of symbol strings; a character outside the alphabet cuts the word into pieces
    that are trained on separately (no pair spans an unknown character)."""
    out: Counter = Counter()
    known = alphabet.__contains__
    for w, c in word_counts.items():
        if w and all(map(known, w)):  # the common case, the whole word one piece
            symbols = [w[0], *map(prefix.__add__, w[1:])]
            symbols[-1] += suffix
            out[tuple(symbols)] += c
            continue
        last = len(w) - 1
        piece: list[str] = []
        for i, ch in enumerate(w):
            if ch not in alphabet:
                if piece:
                    out[tuple(piece)] += c
                piece = []
                continue
            piece.append((prefix if i else "") + ch + (suffix if i == last else ""))
        if piece:
            out[tuple(piece)] += c
    return out
