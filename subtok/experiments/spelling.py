"""The spelling charge for unknown words: a character bigram model over the spellings of words, fitted on
training words, that gives every string a probability.

A word model that predicts ``<unk>`` has said "some word I do not know", not which one; to assign a
probability to the exact test text it must also pay for the word's letters: p(word) = p(<unk> | context)
x p_spell(word). ``SpellingModel`` is a proper distribution over strings: at each position, the next
symbol is a known character, the end of the word, or "another character", and the last class is shared
evenly among every code point outside the alphabet, so the probabilities of all strings sum to at most 1
(to 1 in the limit of unbounded length; the empty string, never a word, takes a little of it).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

N_CODE_POINTS = 0x110000  # every Unicode code point, surrogates included: a str may hold any of them
END = ""  # the end-of-word symbol (no character is the empty string)
OTHER = None  # any character outside the alphabet
START = ("start",)  # the context of the first character (not a str, so no character can equal it)


class SpellingModel:
    """p(c_1 .. c_n) = prod_i p(c_i | c_{i-1}) x p(END | c_n), with c_0 the start of the word.

    Conditionals are bigram counts smoothed toward a unigram distribution, itself add-one smoothed over the
    alphabet, END and OTHER: p(x | prev) = (count(prev, x) + alpha u(x)) / (count(prev) + alpha). A
    character after an unknown one is predicted by u alone. Fitted on word types (each spelling once):
    what matters for an unknown word is how new words are spelled, not how often known ones recur.
    """

    def __init__(self, words: Iterable[str], alpha: float = 1.0) -> None:
        types = sorted({w for w in words if w})
        self.alpha = alpha
        self.alphabet = sorted({c for w in types for c in w})
        unigram: Counter = Counter()
        self.bigram: dict = {}  # context -> Counter of next symbols; the context of the first is START
        for word in types:
            prev = START
            for symbol in (*word, END):
                unigram[symbol] += 1
                self.bigram.setdefault(prev, Counter())[symbol] += 1
                prev = symbol
        symbols = [*self.alphabet, END, OTHER]
        total = sum(unigram.values()) + len(symbols)
        self.unigram = {s: (unigram.get(s, 0) + 1) / total for s in symbols}
        self.context_totals = {k: sum(c.values()) for k, c in self.bigram.items()}
        self.n_other = N_CODE_POINTS - len(self.alphabet)
        self.n_types = len(types)

    def conditional(self, prev, symbol) -> float:
        """p(symbol | prev): ``prev`` is START, a character or OTHER; ``symbol`` a character of the
        alphabet, END or OTHER (the whole class of other characters)."""
        u = self.unigram[symbol]
        counts = self.bigram.get(prev)  # no counts after OTHER: that context backs off to u
        if not counts:
            return u
        return (counts.get(symbol, 0) + self.alpha * u) / (self.context_totals[prev] + self.alpha)

    def log_prob(self, word: str) -> float:
        """Natural log of p_spell(word); a character outside the alphabet costs its class's probability
        shared among all such code points."""
        total, prev = 0.0, START
        for ch in word:
            symbol = ch if ch in self.unigram else OTHER
            total += math.log(self.conditional(prev, symbol))
            if symbol is OTHER:
                total -= math.log(self.n_other)
            prev = symbol
        return total + math.log(self.conditional(prev, END))

    def to_dict(self) -> dict:
        return {"alphabet_size": len(self.alphabet), "fitted_types": self.n_types, "alpha": self.alpha}
