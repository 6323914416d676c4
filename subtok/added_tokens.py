"""Added tokens in text: special tokens (<eos>, [CLS], <|im_start|>) and other added tokens, found before
the pre-tokenizer and never split, as HF tokenizers finds them.

Tokens with ``normalized=False`` (every special token, by default) are looked for in the original text;
the others in the text after normalization, in their normalized spelling. Where several match, the
leftmost wins, then the longest (HF's leftmost-longest search). Per token, as in HF: ``single_word`` only
matches a token that stands between non-word characters, ``lstrip`` / ``rstrip`` take the white space
before / after it into the token. ``allowed_special`` (tiktoken's semantics) limits which special tokens
are matched; text of the others is encoded as ordinary text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

import regex

from .errors import InputError, SubtokError
from .normalizers import normalize, normalize_str
from .text import Normalized
from .vocab import Vocab

_ENDS_WITH_WORD = regex.compile(r"[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]\Z")
_STARTS_WITH_WORD = regex.compile(r"[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]")  # used with .match
SPACES_AT_END = regex.compile(r"\p{White_Space}*\Z")
SPACES_AT_START = regex.compile(r"\p{White_Space}*")  # used with .match
WHITE_SPACE_START = regex.compile(r"\p{White_Space}")  # used with .match


def longest_first(tokens: Sequence[str]) -> list[str]:
    """``tokens`` without repeats, longest first (ties keep their order): the order special tokens are tried in."""
    return sorted(dict.fromkeys(tokens), key=len, reverse=True)


def alternation(tokens: Sequence[str]) -> Optional[regex.Pattern]:
    """A regex matching any of ``tokens`` literally: at the leftmost position, the longest (the first of a
    ``longest_first`` list, as the native cores take it); None for no tokens. The pure-Python cores take
    their special tokens in this form. The tokens are laid out as a trie (common prefixes factored, each
    token's end an optional continuation tried first), so thousands of tokens that share a prefix cost no
    more per character than a few."""
    if not tokens:
        return None
    if max(map(len, tokens)) > 256:  # (the nesting would be as deep as the longest token)
        return regex.compile("|".join(regex.escape(t) for t in longest_first(tokens)))
    trie: dict = {}
    for token in tokens:
        node = trie
        for ch in token:
            node = node.setdefault(ch, {})
        node[""] = {}  # the end of a token

    def pattern(node: dict) -> str:
        branches = [regex.escape(ch) + pattern(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return regex.compile(pattern(trie))


@dataclass(frozen=True)
class AddedToken:
    """A token added to a vocabulary, with HF's matching flags. ``normalized`` None means "not special"."""

    content: str
    special: bool = False
    single_word: bool = False
    lstrip: bool = False
    rstrip: bool = False
    normalized: Optional[bool] = None

    def __post_init__(self) -> None:
        if not isinstance(self.content, str) or not self.content:
            raise SubtokError(f"an added token's content must be a non-empty string, not {self.content!r}")
        if self.normalized is None:
            object.__setattr__(self, "normalized", not self.special)

    def to_hf(self, token_id: int) -> dict:
        return {
            "id": token_id,
            "content": self.content,
            "single_word": self.single_word,
            "lstrip": self.lstrip,
            "rstrip": self.rstrip,
            "normalized": self.normalized,
            "special": self.special,
        }

    @classmethod
    def from_hf(cls, d: Mapping[str, Any]) -> AddedToken:
        flags = {k: d[k] for k in ("special", "single_word", "lstrip", "rstrip", "normalized") if k in d}
        bad = [k for k, v in flags.items() if not isinstance(v, bool)]
        if bad:
            raise SubtokError(f"added token {d.get('content')!r}: {', '.join(bad)} must be true or false")
        return cls(d.get("content"), **flags)


@dataclass
class Piece:
    """A piece of the text: an added token (``token_id``) or text for the pipeline (``token_id`` None)."""

    norm: Normalized
    token_id: Optional[int] = None


@dataclass
class AddedVocabulary:
    """The added tokens of a tokenizer, with their ids, and how text meets them."""

    tokens: list[tuple[AddedToken, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._ever_special = {t.content for t, _ in self.tokens if t.special}
        self._refresh()

    def _refresh(self) -> None:
        self.by_content = {t.content: i for t, i in self.tokens}
        self.by_id = {i: t for t, i in self.tokens}
        # decoding skips a token that was ever added as special, even once re-added as not special (HF)
        self.special_ids = frozenset(i for t, i in self.tokens if t.content in self._ever_special)
        self.specials = [t.content for t, _ in self.tokens if t.special]
        self._searches: dict = {}

    def literals(self, allowed: Optional[frozenset] = None, strips: bool = False) -> list[tuple]:
        """The added tokens (special ones only if ``allowed``) and their ids, longest first, as the
        whole-text encoders take them; with ``strips``, (content, id, lstrip, rstrip)."""
        contents = [t.content for t, _ in self.tokens if not t.special or allowed is None or t.content in allowed]
        if not strips:
            return [(t, self.by_content[t]) for t in longest_first(contents)]
        flags = {t.content: (t.lstrip, t.rstrip) for t, _ in self.tokens}
        return [(t, self.by_content[t], *flags[t]) for t in longest_first(contents)]

    def add(self, token: AddedToken, token_id: int) -> None:
        """Add (or update) ``token`` with ``token_id``."""
        self.tokens = [(t, i) for t, i in self.tokens if t.content != token.content] + [(token, token_id)]
        if token.special:
            self._ever_special.add(token.content)
        self._refresh()

    def __len__(self) -> int:
        return len(self.tokens)

    def hf_ids(self, tokens: Sequence[AddedToken], model_vocab: Vocab) -> list[int]:
        """The ids HF tokenizers' ``add_tokens`` would give ``tokens`` after these (nothing is added): a token
        already added, or in the model's vocabulary, keeps its id; any other gets the next id, which starts
        after the model's tokens (their number) or after the highest added id when that is higher. Where
        the model's ids leave gaps, HF can give an id the model already uses (``colliding``)."""
        model_ids = model_vocab.word_to_id
        count = len(model_ids)
        highest = max(self.by_id, default=None)
        next_id = highest + 1 if highest is not None and (highest >= count or count == 0) else count
        known = dict(self.by_content)
        ids = []
        for token in tokens:
            token_id = known.get(token.content, model_ids.get(token.content))
            if token_id is None:
                token_id, next_id = next_id, next_id + 1
                known[token.content] = token_id
            ids.append(token_id)
        return ids

    @staticmethod
    def colliding(token: AddedToken, token_id: int, model_vocab: Vocab) -> Optional[str]:
        """The model's token at ``token_id`` when it is not ``token`` (None when the id is free or its own)."""
        tokens = model_vocab.id_to_word
        holder = tokens[token_id] if token_id < len(tokens) else None
        return holder if holder is not None and holder != token.content else None

    def assign_ids(self, tokens: Sequence[AddedToken], model_vocab: Vocab) -> list[int]:
        """Add ``tokens`` with HF's ids (``hf_ids``); an id the model gives another token is an error."""
        ids = self.hf_ids(tokens, model_vocab)
        for token, token_id in zip(tokens, ids):
            holder = self.colliding(token, token_id, model_vocab)
            if holder is not None:
                raise SubtokError(
                    f"added token {token.content!r} would get id {token_id}, which the model's vocabulary "
                    f"gives to {holder!r} (its ids leave gaps)"
                )
        for token, token_id in zip(tokens, ids):
            self.add(token, token_id)
        return ids

    def _search(self, normalized: bool, allowed: Optional[frozenset], normalizers) -> tuple:
        """The leftmost-longest search over the tokens of one kind (matched before or after normalization)."""
        key = (normalized, allowed)
        if key not in self._searches:
            spellings = {}
            for t, i in self.tokens:
                if t.normalized != normalized or (t.special and allowed is not None and t.content not in allowed):
                    continue
                spelling = normalize_str(normalizers, t.content) if normalized else t.content
                if spelling:
                    spellings.setdefault(spelling, i)
            self._searches[key] = (alternation(longest_first(list(spellings))), spellings)
        return self._searches[key]

    def split(self, text: str, normalizers: Sequence, allowed: Optional[frozenset] = None) -> list[Piece]:
        """``text`` cut into added tokens and normalized text between them (HF's extract_and_normalize)."""
        pieces = self._split_one(Normalized(text), self._search(False, allowed, normalizers))
        out: list[Piece] = []
        search = self._search(True, allowed, normalizers)
        for piece in pieces:
            if piece.token_id is not None:
                out.append(piece)
            else:
                out.extend(self._split_one(normalize(normalizers, piece.norm), search))
        return out

    def _split_one(self, norm: Normalized, search) -> list[Piece]:
        pattern, spellings = search
        text = norm.text
        if pattern is None or not text:
            return [Piece(norm)]
        out: list[Piece] = []
        start_offset = 0
        for m in pattern.finditer(text):
            token_id = spellings[m.group()]
            token = self.by_id[token_id]
            start, stop = m.span()
            if token.single_word:
                before = start == 0 or not _ENDS_WITH_WORD.search(text, 0, start)
                after = stop == len(text) or not _STARTS_WITH_WORD.match(text, stop)
                if not (before and after):
                    continue
            if token.lstrip:
                start = max(SPACES_AT_END.search(text, 0, start).start(), start_offset)
            if token.rstrip:
                stop = SPACES_AT_START.match(text, stop).end()
            if start_offset < start:
                out.append(Piece(norm.slice(start_offset, start)))
            out.append(Piece(norm.slice(start, stop), token_id))
            start_offset = stop
        if start_offset != len(text):
            out.append(Piece(norm.slice(start_offset, len(text))))
        return out

    def check_disallowed(self, text: str, disallowed: frozenset) -> None:
        """tiktoken's guard: an error when ``text`` spells one of the ``disallowed`` special tokens."""
        for content in disallowed:
            if content in text:
                raise InputError(
                    f"the text contains the special token {content!r}, which is disallowed: pass it in "
                    "allowed_special to encode it as that token, or in neither set to encode it as text"
                )
