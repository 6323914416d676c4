"""Training a Unigram model, SentencePiece's algorithm (Kudo 2018; the library's unigram trainer):

1. characters: the most frequent ones covering ``character_coverage`` of the text are required (always
   pieces); the rest become U+2047, which no piece contains and the lattice scores as unknown;
2. seeds: every required character, and the ``seed_size`` best substrings (occurrences x length) that are
   valid pieces and right-closed (a suffix tree's nodes), each scored by log(its count / the total);
3. EM: ``num_sub_iterations`` rounds of expected counts over each word's lattice (forward-backward) and a
   Bayesian M-step (score = digamma(count) - digamma(total); pieces expected under 0.5 times leave);
4. pruning: each piece's loss is how much the corpus likelihood drops if its occurrences were segmented
   the second-best way; the pieces with the smallest losses leave, down to ``shrinking_factor`` of the
   vocabulary, until it is at most 1.1 x ``vocab_size``;
5. the final vocabulary: required characters, then the best-scored pieces up to ``vocab_size`` with the
   special tokens, user-defined symbols and byte pieces first (SentencePiece's layout).

Tie-breaks: characters by count, then code point; seeds by occurrences x length, then string; pruning
by loss, then vocabulary position; the final pieces by score, then string. Words are processed in
(count descending, word) order and every sum that decides something is exact or order-independent (see
``unigram_train_core``), so the model is byte-identical on every backend and thread count.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Optional

from .. import _backend, _unicode_data
from ..decoders import byte_fallback_token
from ..errors import TrainingError, warn_caller
from ..normalizers import Normalizer, SentencePieceNormalizer
from ..pre_tokenizers import PreTokenizer, Split, Whole
from ..text import script_v9
from . import unigram_train_core as core
from .base import Trainer, check_word_counts
from .unigram import Unigram

SPACE_SYMBOL = "\u2581"
UNK_CHAR = "\u2047"  # what characters outside the required ones become (SentencePiece's kUNKChar)
REQUIRED_PENALTY = 0.0001  # a required character absent at the end scores min + k x this (k-th such)

_SCRIPT_INDEX = {name: i for i, name in enumerate(_unicode_data.SCRIPTS)}
_HAN = _SCRIPT_INDEX["Han"]
_JOINS_HAN = {_SCRIPT_INDEX["Hiragana"], _SCRIPT_INDEX["Katakana"]}


def char_class(ch: str, split_by_number: bool) -> int:
    """``unigram_train_core.valid_piece``'s class of a character: Unicode 9.0 script with Hiragana,
    Katakana and U+30FC counted as Han (SentencePiece's rule), decimal digits flagged (and of any script
    unless ``split_by_number``)."""
    if ch == SPACE_SYMBOL:
        return core.SPACE
    if ch in (UNK_CHAR, "\0", "\t", " "):
        return core.FORBIDDEN
    digit = ch in "0123456789" or "\uff10" <= ch <= "\uff19"
    script = script_v9(ch)
    if digit and not split_by_number:
        k = core.ANY
    elif ch == "\u30fc" or script in _JOINS_HAN:
        k = core.SCRIPT + _HAN
    elif script == _SCRIPT_INDEX["Inherited"]:
        k = core.INHERITED
    else:
        k = core.SCRIPT + (script if script >= 0 else _SCRIPT_INDEX["Common"])
    return k | (core.DIGIT if digit else 0)


class UnigramTrainer(Trainer):
    """A Unigram model trained as SentencePiece trains one. Its pipeline by default: SentencePiece's
    normalizer without a charsmap (``identity``: whitespace runs collapsed, spaces as U+2581, a dummy
    prefix) and no pre-tokenizer (the encoder sees whole texts); for training, texts are lines (newline
    removed) cut into words before each U+2581 (after it with ``treat_whitespace_as_suffix``; not at all
    without ``split_by_whitespace``).

    Special tokens are control pieces at the first ids ("<unk>", "<s>", "</s>" by default; ``unk_token``
    is the unknown piece, added first if missing); ``user_defined_symbols`` follow (always one piece,
    matched in text before anything else), then with ``byte_fallback`` the 256 byte pieces. Options as
    SentencePiece's: ``character_coverage``, ``max_piece_length``, ``seed_size``
    (seed_sentencepiece_size), ``shrinking_factor``, ``num_sub_iterations``, ``split_by_whitespace``,
    ``split_by_unicode_script``, ``split_by_number``, ``split_digits``, ``treat_whitespace_as_suffix``,
    ``input_sentence_size`` (train on that many lines drawn uniformly with ``seed``; 0: all lines);
    ``min_frequency`` is the fewest occurrences of a seed substring (2). ``num_threads`` (default: all
    cores) share the E-step and the pruning's segmentations.
    """

    model = "unigram"
    default_special_tokens = ("<unk>", "<s>", "</s>")

    def __init__(
        self,
        *,
        unk_token: str = "<unk>",
        user_defined_symbols: Sequence[str] = (),
        byte_fallback: bool = False,
        character_coverage: float = 0.9995,
        max_piece_length: int = 16,
        seed_size: int = 1_000_000,
        shrinking_factor: float = 0.75,
        num_sub_iterations: int = 2,
        split_by_whitespace: bool = True,
        split_by_unicode_script: bool = True,
        split_by_number: bool = True,
        split_digits: bool = False,
        treat_whitespace_as_suffix: bool = False,
        input_sentence_size: int = 0,
        seed: int = 0,
        num_threads: Optional[int] = None,
        **common,
    ) -> None:
        super().__init__(**common)
        if not isinstance(unk_token, str) or not unk_token:
            raise TrainingError(f"the unigram model needs an unk_token, not {unk_token!r}")
        if isinstance(user_defined_symbols, str) or not all(isinstance(s, str) and s for s in user_defined_symbols):
            raise TrainingError(f"user_defined_symbols must be a list of non-empty strings: {user_defined_symbols!r}")
        checks = (
            ("character_coverage", character_coverage, 0.0, 1.0, float),
            ("max_piece_length", max_piece_length, 1, 512, int),
            ("seed_size", seed_size, 1, 1 << 30, int),
            ("shrinking_factor", shrinking_factor, 0.5, 0.95, float),
            ("num_sub_iterations", num_sub_iterations, 1, 10, int),
            ("input_sentence_size", input_sentence_size, 0, 1 << 40, int),
            ("num_threads", num_threads if num_threads is not None else 1, 1, 1024, int),
        )
        for name, value, lo, hi, kind in checks:
            ok = isinstance(value, (int, float) if kind is float else int) and not isinstance(value, bool)
            if not ok or not lo <= value <= hi or (name == "character_coverage" and value == 0):
                what = "a number in (0, 1]" if name == "character_coverage" else f"an integer in [{lo}, {hi}]"
                if name == "shrinking_factor":
                    what = f"a number in [{lo}, {hi}]"
                raise TrainingError(f"{name} must be {what}, not {value!r}")
        specials = list(self.special_tokens)
        if unk_token not in specials:
            specials.insert(0, unk_token)
        clash = set(specials) & set(user_defined_symbols)
        if clash:
            raise TrainingError(f"{sorted(clash)[0]!r} is both a special token and a user-defined symbol")
        self.special_tokens = specials
        self.unk_token = unk_token
        self.user_defined_symbols = list(dict.fromkeys(user_defined_symbols))
        self.byte_fallback = bool(byte_fallback)
        self.character_coverage = float(character_coverage)
        self.max_piece_length = max_piece_length
        self.seed_size = seed_size
        self.shrinking_factor = float(shrinking_factor)
        self.num_sub_iterations = num_sub_iterations
        self.split_by_whitespace = bool(split_by_whitespace)
        self.split_by_unicode_script = bool(split_by_unicode_script)
        self.split_by_number = bool(split_by_number)
        self.split_digits = bool(split_digits)
        self.suffix = bool(treat_whitespace_as_suffix)
        self.input_sentence_size = input_sentence_size
        self.seed = seed
        self.num_threads = num_threads or os.cpu_count() or 1

    # -- the pipeline ------------------------------------------------------------------------------------
    def default_normalizers(self) -> list[Normalizer]:
        return [SentencePieceNormalizer(treat_whitespace_as_suffix=self.suffix, user_defined=self.user_defined_symbols)]

    def default_pre_tokenizer(self) -> PreTokenizer:
        return Whole()

    def word_splitting(self, pre_tokenizer: PreTokenizer) -> tuple[PreTokenizer, list[str], bool]:
        """Lines without their newline; with no pre-tokenizer, words cut at U+2581 (SentencePiece's
        SplitIntoWords); special tokens and user-defined symbols are never part of a word."""
        if isinstance(pre_tokenizer, Whole) and self.split_by_whitespace:
            pattern = f"[^{SPACE_SYMBOL}]*{SPACE_SYMBOL}|[^{SPACE_SYMBOL}]+" if self.suffix else \
                f"{SPACE_SYMBOL}[^{SPACE_SYMBOL}]*|[^{SPACE_SYMBOL}]+"  # fmt: skip
            pre_tokenizer = Split({"Regex": pattern}, "Removed", invert=True)
        return pre_tokenizer, self.special_tokens + self.user_defined_symbols, True

    def tokenizer_specials(self, model: Unigram) -> list[str]:
        """None: control pieces are not matched in text (SentencePiece's rule)."""
        return []

    # -- training ----------------------------------------------------------------------------------------
    def train(self, word_counts: Mapping[str, int]) -> Unigram:
        """A Unigram model of exactly ``vocab_size`` pieces (fewer, with a warning, when the corpus has
        fewer distinct pieces to offer)."""
        check_word_counts(word_counts)
        meta = self.special_tokens + self.user_defined_symbols
        if self.byte_fallback:
            meta += [byte_fallback_token(b) for b in range(256)]
        words = word_counts
        if any(not w or UNK_CHAR in w for w in words):  # (SentencePiece skips the lines with U+2047)
            words = {w: c for w, c in words.items() if w and UNK_CHAR not in w}
        if not words:
            raise TrainingError("the corpus has no words to train on")
        chars = _char_counts(words)
        required = self._required(chars)
        if self.vocab_size < len(required) + len(meta):
            raise TrainingError(
                f"vocab_size={self.vocab_size} is below the {len(required)} required characters (character_coverage="
                f"{self.character_coverage}) plus {len(meta)} special pieces: use at least {len(required) + len(meta)}"
            )
        corpus = self._corpus(words, chars, required)
        corpus.seed(
            sorted(required.items(), key=lambda kv: (-kv[1], kv[0])),
            self._classes(required),
            self._rules(),
            max(2, self.min_frequency),
            self.seed_size,
        )
        desired = int(self.vocab_size * 1.1)
        while True:
            for _ in range(self.num_sub_iterations):
                corpus.em_round(self.num_threads)
            if len(corpus) <= desired:
                break
            corpus.prune(max(desired, int(self.shrinking_factor * len(corpus))), self.num_threads)
        pieces, scores = corpus.model()
        final = _finalize(pieces, scores, required, self.vocab_size - len(meta))
        if len(final) + len(meta) < self.vocab_size:
            warn_caller(
                f"Unigram training found only {len(final)} pieces besides {len(meta)} special ones: the "
                f"vocabulary has {len(final) + len(meta)} tokens, not {self.vocab_size}"
            )
        kinds = (
            ["unknown" if t == self.unk_token else "control" for t in self.special_tokens]
            + ["user_defined"] * len(self.user_defined_symbols)
            + ["byte"] * (len(meta) - len(self.special_tokens) - len(self.user_defined_symbols))
            + ["normal"] * len(final)
        )
        return Unigram(
            meta + [p for p, _ in final],
            [0.0] * len(meta) + [s for _, s in final],
            kinds,
            byte_fallback=self.byte_fallback,
        )

    def _required(self, chars: Counter) -> dict[str, int]:
        """The most frequent characters covering ``character_coverage`` of all (ties by code point)."""
        total = sum(chars.values())
        required: dict[str, int] = {}
        covered = 0
        for ch, c in sorted(chars.items(), key=lambda kv: (-kv[1], kv[0])):
            if covered / total >= self.character_coverage:
                break
            covered += c
            if ch not in ("\t", UNK_CHAR):
                required[ch] = c
        return required

    def _rules(self) -> tuple[int, int, int, int, int]:
        """``unigram_train_core.valid_piece``'s rules from the options."""
        flags = (self.split_by_whitespace, self.suffix, self.split_digits, self.split_by_unicode_script)
        return (self.max_piece_length, *(int(f) for f in flags))

    def _classes(self, required: Mapping[str, int]) -> dict[str, int]:
        """Each character's class for the piece rules (``char_class``); U+2047 is in no piece."""
        classes = {ch: char_class(ch, self.split_by_number) for ch in required}
        classes[UNK_CHAR] = core.FORBIDDEN
        return classes

    @staticmethod
    def _corpus(words: Mapping[str, int], chars: Mapping[str, int], required: Mapping[str, int]):
        """The ``TrainingCorpus`` of ``words`` with every character (of ``chars``) outside ``required``
        replaced by U+2047 (words that become one merged), in (count descending, word) order."""
        rare = {ch for ch in chars if ch not in required}
        table = {ord(ch): UNK_CHAR for ch in rare}
        changed: Counter = Counter()  # words with rare characters, as they become (none is in ``words``)
        for w, c in words.items():
            if not rare.isdisjoint(w):
                changed[w.translate(table)] += c
        order = [w for w in words if rare.isdisjoint(w)] + list(changed) if changed else list(words)
        order.sort()
        count = lambda w: changed[w] if w in changed else words[w]  # noqa: E731
        order.sort(key=count, reverse=True)  # stable: ties stay in string order
        return _backend.pick(core.TrainingCorpus)(order, [count(w) for w in order])


def _char_counts(words: Mapping[str, int]) -> Counter:
    """Character -> occurrences over ``words`` (each word counted its count times)."""
    by_count: defaultdict[int, list[str]] = defaultdict(list)
    for w, c in words.items():
        by_count[c].append(w)
    chars: Counter = Counter()
    for c, ws in by_count.items():
        for ch, k in Counter("".join(ws)).items():
            chars[ch] += k * c
    return chars


def _finalize(
    pieces: list[str], scores: list[float], required: Mapping[str, int], size: int
) -> list[tuple[str, float]]:
    """The final ``size`` pieces by score, best first (ties by string): every required character (one
    EM dropped scores just under the lowest score, the more frequent higher), then the best others."""
    score_of = dict(zip(pieces, scores))
    low = min(scores, default=0.0)
    final: dict[str, float] = {}
    penalty = 0.0
    for ch, _ in sorted(required.items(), key=lambda kv: (-kv[1], kv[0])):
        if ch in score_of:
            final[ch] = score_of[ch]
        else:
            final[ch] = low + penalty
            penalty += REQUIRED_PENALTY
    for p, s in sorted(zip(pieces, scores), key=lambda ps: (-ps[1], ps[0])):
        if len(final) >= size:
            break
        final.setdefault(p, s)
    return sorted(final.items(), key=lambda ps: (-ps[1], ps[0]))


__all__ = ["UnigramTrainer"]
