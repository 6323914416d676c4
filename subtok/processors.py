"""Post-processing, the pipeline's last stage: the tokens a model expects around a sequence or a pair
(BERT's [CLS] A [SEP] B [SEP], RoBERTa's <s> A </s></s> B </s>, any template), offsets trimmed of the
spaces byte-level tokens carry, truncation to a length and padding of a batch.

Each processor follows HF tokenizers; ``PROCESSORS`` maps each JSON "type" (ours and HF's) to its class.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Optional

from .encoding import Alignment, Encoding, Framed, Joined, Span, Template
from .errors import SubtokError
from .registry import ByteLevelOptions, Registry
from .text import bytes_to_unicode

PROCESSORS = Registry("post-processor")
_BYTE_SPACE = bytes_to_unicode()[ord(" ")]  # "Ġ"
_WHITE = frozenset(
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)


class PostProcessor:
    """Adds tokens around one sequence or a pair. ``process`` takes the encodings of the sequence (and of
    the pair) and returns the parts to put one after the other (HF's process_encodings); ``added`` says how
    many tokens it adds, for truncation."""

    type = ""
    hf_type = ""
    frames = False  # whether apply only puts tokens around the sequence (the same ones for every text)

    def added(self, pair: bool) -> int:
        return 0

    def process(self, encodings: list[Encoding], add_special_tokens: bool = True) -> list[Encoding]:
        raise NotImplementedError

    def apply(self, first: Encoding, second: Optional[Encoding], add_special_tokens: bool = True) -> Encoding:
        """The processed sequence (and pair) as one encoding."""
        return merge(self.process([first] if second is None else [first, second], add_special_tokens))

    def apply_batch(self, encodings: list[Encoding]) -> list[Encoding]:
        """``apply`` to each encoding of a batch, one sequence each. A processor that only puts a template
        around the sequence (``frames``) changes the encodings in place: the single template read once
        (``template``) and put around each (``Framed``), no new Encoding per text. (A whole-text encoder's
        batch gets the same from its core: ``TextEncoder.encode_batch`` with the template.)"""
        if not self.frames:
            return [self.apply(e, None) for e in encodings]
        if not encodings:
            return []
        template = self.template(encodings[0].model, encodings[0].vocab)
        before, after, masks = template.before, template.after, template.masks
        framed: dict[Any, Framed] = {}  # by the encodings' own alignment (one or two kinds in a batch)
        for e in encodings:
            n = len(e.ids)
            own_mask = e._special_mask
            alignment = framed.get(e._alignment)
            if alignment is None:
                alignment = framed[e._alignment] = Framed(e._alignment, *masks)
            e._alignment = alignment
            e.ids = [*before, *e.ids, *after]
            e._offsets = e._tokens = None
            if template.typed:
                e.type_ids = template.type_ids(n)
            if own_mask is not None:
                e.special_tokens_mask = masks[0] + own_mask + masks[1]
        return encodings

    def template(self, model: Any, vocab: Any) -> Template:
        """What this processor puts around one sequence, by its own rules: ``apply`` on a one-token marker
        (id -1), read off around where the marker went (ids, special-tokens masks, type ids)."""
        marker = self.apply(Encoding([-1], model, vocab, "", Joined, [None]), None)
        at = marker.ids.index(-1)
        types, mask = marker.type_ids, marker.special_tokens_mask
        return Template(
            marker.ids[:at], marker.ids[at + 1 :], (mask[:at], mask[at + 1 :]), (types[:at], types[at], types[at + 1 :])
        )

    def to_dict(self) -> dict:
        return {"type": self.type}

    def to_hf(self, token_to_id: Mapping[str, int]) -> dict:
        return {**self.to_dict(), "type": self.hf_type}

    @classmethod
    def from_dict(cls, d: dict) -> PostProcessor:
        return cls()

    @classmethod
    def from_hf(cls, d: dict) -> PostProcessor:
        return cls.from_dict(d)


def added_tokens(ids: Sequence[int], type_id: int, like: Encoding) -> Encoding:
    """Tokens a post-processor adds to ``like``'s text: no span of it (offsets (0, 0)), a special-tokens
    mask of 1."""
    enc = Encoding(list(ids), like.model, like.vocab, like.text, Joined, [None] * len(ids))
    enc.type_ids = [type_id] * len(ids)
    enc.special_tokens_mask = [1] * len(ids)
    return enc


def with_type_id(enc: Encoding, type_id: int) -> Encoding:
    enc.type_ids = [type_id] * len(enc.ids)
    return enc


def merge(encodings: Sequence[Encoding]) -> Encoding:
    """Encodings one after the other, as one (HF's Encoding::merge)."""
    if len(encodings) == 1:
        return encodings[0]
    first = encodings[0]
    ids = [i for e in encodings for i in e.ids]
    merged = Encoding(ids, first.model, first.vocab, first.text, Joined, list(encodings))
    merged.type_ids = [t for e in encodings for t in e.type_ids]
    merged.special_tokens_mask = [m for e in encodings for m in e.special_tokens_mask]
    return merged


@PROCESSORS.register(types=("bert",), hf=("BertProcessing",))
class BertPostProcessor(PostProcessor):
    """BERT's template: [CLS] A [SEP] for one sequence, [CLS] A [SEP] B [SEP] for a pair, with type id 0
    for the first part and 1 for B and its [SEP]. Added tokens have offsets (0, 0)."""

    hf_fields = ("sep", "cls")

    type, hf_type = "bert", "BertProcessing"
    frames = True

    def __init__(self, cls_token: str = "[CLS]", sep_token: str = "[SEP]") -> None:
        self.cls_token, self.sep_token = cls_token, sep_token

    @property
    def tokens(self) -> tuple[str, ...]:
        return self.cls_token, self.sep_token

    def added(self, pair: bool) -> int:
        return 3 if pair else 2

    def apply(self, first: Encoding, second: Optional[Encoding], add_special_tokens: bool = True) -> Encoding:
        """One encoding built at once (the batch path: no encoding per added token)."""
        if not add_special_tokens:
            return super().apply(first, second, add_special_tokens)
        token_to_id = first.vocab.word_to_id
        cls_id, sep_id = token_to_id[self.cls_token], token_to_id[self.sep_token]
        ids = [cls_id, *first.ids, sep_id]
        items: list[Optional[Encoding]] = [None, first, None]
        type_ids = [0] * len(ids)
        mask = [1, *[0] * len(first.ids), 1]
        if second is not None:
            ids += [*second.ids, sep_id]
            items += [second, None]
            type_ids += [1] * (len(second.ids) + 1)
            mask += [*[0] * len(second.ids), 1]
        enc = Encoding(ids, first.model, first.vocab, first.text, Joined, items)
        enc.type_ids, enc.special_tokens_mask = type_ids, mask
        return enc

    def process(self, encodings: list[Encoding], add_special_tokens: bool = True) -> list[Encoding]:
        first = encodings[0]
        if not add_special_tokens:
            return [with_type_id(e, k) for k, e in enumerate(encodings)]
        token_to_id = first.vocab.word_to_id
        cls_id, sep_id = token_to_id[self.cls_token], token_to_id[self.sep_token]
        out = [added_tokens([cls_id], 0, first), with_type_id(first, 0), added_tokens([sep_id], 0, first)]
        if len(encodings) > 1:
            out += [with_type_id(encodings[1], 1), added_tokens([sep_id], 1, first)]
        return out

    def to_dict(self) -> dict:
        return {"type": self.type, "cls": self.cls_token, "sep": self.sep_token}

    def to_hf(self, token_to_id: Mapping[str, int]) -> dict:
        return {
            "type": "BertProcessing",
            "sep": [self.sep_token, token_to_id[self.sep_token]],
            "cls": [self.cls_token, token_to_id[self.cls_token]],
        }

    @classmethod
    def from_dict(cls, d: dict) -> BertPostProcessor:
        return cls(d.get("cls", "[CLS]"), d.get("sep", "[SEP]"))

    @classmethod
    def from_hf(cls, d: dict) -> BertPostProcessor:
        return cls(_token_pair(d, "cls")[0], _token_pair(d, "sep")[0])


def _token_pair(d: dict, key: str) -> tuple[str, int]:
    value = d.get(key)
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], int)):
        raise SubtokError(f"{d.get('type')}: {key!r} must be [token, id], not {value!r}")
    return value[0], value[1]


@PROCESSORS.register(types=("TemplateProcessing",), hf=("TemplateProcessing",))
class TemplateProcessing(PostProcessor):
    """Any template: ``single`` and ``pair`` are lists of pieces, {"Sequence": {"id": "A"|"B", "type_id": n}}
    or {"SpecialToken": {"id": name, "type_id": n}}, and ``special_tokens`` gives each name its ids."""

    hf_fields = ("single", "pair", "special_tokens")

    type = hf_type = "TemplateProcessing"
    frames = True

    def __init__(self, single: list, pair: list, special_tokens: Mapping[str, Any]) -> None:
        self.single, self.pair, self.special_tokens = single, pair, dict(special_tokens)
        self._single = self._parse(single, "single")
        self._pair = self._parse(pair, "pair")

    def _parse(self, template: Any, name: str) -> list[tuple[str, str, int]]:
        if not isinstance(template, list):
            raise SubtokError(f"TemplateProcessing: {name} must be a list of pieces")
        pieces = []
        for piece in template:
            if not (isinstance(piece, dict) and len(piece) == 1):
                raise SubtokError(f"TemplateProcessing: bad piece {piece!r} in {name}")
            ((kind, body),) = piece.items()
            if kind not in ("Sequence", "SpecialToken") or not isinstance(body, dict):
                raise SubtokError(f"TemplateProcessing: bad piece {piece!r} in {name}")
            ident, type_id = body.get("id"), body.get("type_id", 0)
            if not isinstance(type_id, int) or isinstance(type_id, bool) or type_id < 0:
                raise SubtokError(f"TemplateProcessing: bad type_id in {piece!r}")
            if kind == "Sequence" and ident not in ("A", "B"):
                raise SubtokError(f"TemplateProcessing: a sequence is A or B, not {ident!r}")
            if kind == "SpecialToken":
                token = self.special_tokens.get(ident)
                ids = token.get("ids") if isinstance(token, dict) else None
                if not (isinstance(ids, list) and all(isinstance(i, int) and i >= 0 for i in ids)):
                    raise SubtokError(f"TemplateProcessing: special token {ident!r} is missing or has bad ids")
            pieces.append((kind, ident, type_id))
        return pieces

    def added(self, pair: bool) -> int:
        pieces = self._pair if pair else self._single
        return sum(len(self.special_tokens[i]["ids"]) for kind, i, _ in pieces if kind == "SpecialToken")

    def process(self, encodings: list[Encoding], add_special_tokens: bool = True) -> list[Encoding]:
        first = encodings[0]
        out = []
        for kind, ident, type_id in self._pair if len(encodings) > 1 else self._single:
            if kind == "Sequence":
                k = 0 if ident == "A" else 1
                if k >= len(encodings):
                    raise SubtokError("TemplateProcessing: the single template names sequence B")
                out.append(with_type_id(encodings[k], type_id))
            elif add_special_tokens:
                out.append(added_tokens(self.special_tokens[ident]["ids"], type_id, first))
        return out

    def to_dict(self) -> dict:
        return {"type": self.type, "single": self.single, "pair": self.pair, "special_tokens": self.special_tokens}

    @classmethod
    def from_dict(cls, d: dict) -> TemplateProcessing:
        return cls(d.get("single"), d.get("pair"), d.get("special_tokens") or {})


class Trimmed(Alignment):
    """Record: (encoding, add_prefix_space): the encoding's offsets without the leading and trailing spaces
    of its byte-level tokens (HF's trim_offsets), a first token keeping the one space it was given."""

    @staticmethod
    def offsets(record: tuple[Encoding, bool], model, ids: Sequence[int], text: str) -> list[Span]:
        enc, add_prefix_space = record
        out = []
        for i, (token, (start, end)) in enumerate(zip(enc.tokens, enc.offsets)):
            lead = len(token) - len(token.lstrip(_BYTE_SPACE + "".join(_WHITE)))
            trail = len(token) - len(token.rstrip(_BYTE_SPACE + "".join(_WHITE)))
            if lead:
                if (i == 0 or start == 0) and add_prefix_space and lead == 1:
                    lead = 0
                start = min(start + lead, end)
            if trail and end >= trail:
                end = max(end - trail, start)
            out.append((start, end))
        return out

    @staticmethod
    def tokens(record: tuple[Encoding, bool], vocab, ids: Sequence[int], text: str) -> list[str]:
        return record[0].tokens


def trim(enc: Encoding, add_prefix_space: bool) -> Encoding:
    """``enc`` with trimmed offsets (ids unchanged)."""
    trimmed = Encoding(enc.ids, enc.model, enc.vocab, enc.text, Trimmed, (enc, add_prefix_space))
    trimmed.type_ids, trimmed.special_tokens_mask = enc.type_ids, enc.special_tokens_mask
    return trimmed


@PROCESSORS.register(types=("ByteLevel",), hf=("ByteLevel",))
class ByteLevelProcessing(ByteLevelOptions, PostProcessor):
    """HF's ByteLevel post-processor: adds nothing; with ``trim_offsets``, the offsets leave out the spaces
    byte-level tokens carry."""

    def process(self, encodings: list[Encoding], add_special_tokens: bool = True) -> list[Encoding]:
        if not self.trim_offsets:
            return encodings
        return [trim(e, self.add_prefix_space) for e in encodings]


@PROCESSORS.register(types=("RobertaProcessing",), hf=("RobertaProcessing",))
class RobertaProcessing(PostProcessor):
    """RoBERTa's template: <s> A </s> and <s> A </s></s> B </s>, every type id 0; with ``trim_offsets`` the
    byte-level offsets are trimmed first."""

    hf_fields = ("sep", "cls", "trim_offsets", "add_prefix_space")

    type = hf_type = "RobertaProcessing"

    def __init__(self, sep: tuple[str, int], cls: tuple[str, int], trim_offsets: bool = True, add_prefix_space=True):
        self.sep, self.cls = tuple(sep), tuple(cls)
        self.trim_offsets, self.add_prefix_space = trim_offsets, add_prefix_space

    @property
    def tokens(self) -> tuple[str, ...]:
        return self.cls[0], self.sep[0]

    def added(self, pair: bool) -> int:
        return 4 if pair else 2

    def process(self, encodings: list[Encoding], add_special_tokens: bool = True) -> list[Encoding]:
        if self.trim_offsets:
            encodings = [trim(e, self.add_prefix_space) for e in encodings]
        encodings = [with_type_id(e, 0) for e in encodings]
        if not add_special_tokens:
            return encodings
        first = encodings[0]
        cls, sep = added_tokens([self.cls[1]], 0, first), added_tokens([self.sep[1]], 0, first)
        out = [cls, encodings[0], sep]
        if len(encodings) > 1:
            out += [sep, encodings[1], sep]
        return out

    def to_dict(self) -> dict:
        return {
            "type": self.type,
            "sep": list(self.sep),
            "cls": list(self.cls),
            "trim_offsets": self.trim_offsets,
            "add_prefix_space": self.add_prefix_space,
        }

    @classmethod
    def from_dict(cls, d: dict) -> RobertaProcessing:
        return cls(
            _token_pair(d, "sep"), _token_pair(d, "cls"), d.get("trim_offsets", True), d.get("add_prefix_space", True)
        )


@PROCESSORS.register(types=("Sequence",), hf=("Sequence",))
class SequenceProcessing(PostProcessor):
    """Several post-processors, one after the other."""

    hf_fields = ("processors",)

    type = hf_type = "Sequence"

    def __init__(self, processors: Sequence[PostProcessor]) -> None:
        self.processors = list(processors)

    def added(self, pair: bool) -> int:
        return sum(p.added(pair) for p in self.processors)

    def process(self, encodings: list[Encoding], add_special_tokens: bool = True) -> list[Encoding]:
        for p in self.processors:
            encodings = p.process(encodings, add_special_tokens)
        return encodings

    def to_dict(self) -> dict:
        return {"type": self.type, "processors": [p.to_dict() for p in self.processors]}

    def to_hf(self, token_to_id: Mapping[str, int]) -> dict:
        return {"type": self.type, "processors": [p.to_hf(token_to_id) for p in self.processors]}

    @classmethod
    def from_dict(cls, d: dict) -> SequenceProcessing:
        return cls([PROCESSORS.from_dict(p) for p in _processors(d)])

    @classmethod
    def from_hf(cls, d: dict) -> SequenceProcessing:
        return cls([PROCESSORS.from_hf(p) for p in _processors(d)])


def _processors(d: dict) -> list:
    steps = d.get("processors")
    if not isinstance(steps, list):
        raise SubtokError("post-processor Sequence: 'processors' must be a list")
    return steps


TRUNCATION_STRATEGIES = ("LongestFirst", "OnlyFirst", "OnlySecond")


def check_truncation(params: Optional[dict]) -> Optional[dict]:
    """HF's truncation settings (None: no truncation), validated, with HF's defaults filled in."""
    if params is None:
        return None
    if not isinstance(params, dict):
        raise SubtokError(f"truncation must be an object or null, not {params!r}")
    out = {"direction": "Right", "max_length": 512, "strategy": "LongestFirst", "stride": 0, **params}
    unknown = sorted(set(out) - {"direction", "max_length", "strategy", "stride"})
    if unknown:
        raise SubtokError(f"truncation: unknown field {', '.join(unknown)}")
    if out["direction"] not in ("Right", "Left") or out["strategy"] not in TRUNCATION_STRATEGIES:
        raise SubtokError(f"truncation: direction must be Right or Left, strategy one of {TRUNCATION_STRATEGIES}")
    for key in ("max_length", "stride"):
        if not isinstance(out[key], int) or isinstance(out[key], bool) or out[key] < 0:
            raise SubtokError(f"truncation: {key} must be a non-negative integer, not {out[key]!r}")
    return out


def truncate_pair(first: Encoding, second: Optional[Encoding], params: dict, added: int = 0) -> None:
    """HF's truncate_encodings: cut the sequence (or the pair) to ``max_length`` less the ``added`` tokens
    the post-processor will add. LongestFirst splits the budget as HF does; OnlyFirst and OnlySecond cut one
    sequence, an error when it is too short. (Overflowing pieces are not kept: ``stride`` has no effect.)"""
    max_length = max(params["max_length"] - added, 0)
    left = params.get("direction") == "Left"
    total = len(first) + (len(second) if second is not None else 0)
    if max_length == 0:
        first.truncate(0, left)
        if second is not None:
            second.truncate(0, left)
        return
    if total <= max_length:
        return
    strategy = params.get("strategy", "LongestFirst")
    if strategy == "LongestFirst":
        if second is None:
            first.truncate(max_length, left)
            return
        n1, n2 = len(first), len(second)
        swap = n1 > n2
        if swap:
            n1, n2 = n2, n1
        n2 = n1 if n1 > max_length else max(n1, max_length - n1)
        if n1 + n2 > max_length:
            n1 = max_length // 2
            n2 = n1 + max_length % 2
        if swap:
            n1, n2 = n2, n1
        first.truncate(n1, left)
        second.truncate(n2, left)
        return
    target = first if strategy == "OnlyFirst" else second
    if target is None:
        raise SubtokError("truncation OnlySecond needs a pair of sequences")
    remove = total - max_length
    if len(target) <= remove:
        raise SubtokError(f"truncation {strategy}: the sequence is too short to remove {remove} tokens")
    target.truncate(len(target) - remove, left)


def check_padding(params: Optional[dict]) -> Optional[dict]:
    """HF's padding settings (None: no padding), validated, with HF's defaults filled in."""
    if params is None:
        return None
    if not isinstance(params, dict):
        raise SubtokError(f"padding must be an object or null, not {params!r}")
    out = {
        "strategy": "BatchLongest",
        "direction": "Right",
        "pad_to_multiple_of": None,
        "pad_id": 0,
        "pad_type_id": 0,
        "pad_token": "[PAD]",
        **params,
    }
    unknown = sorted(set(out) - {"strategy", "direction", "pad_to_multiple_of", "pad_id", "pad_type_id", "pad_token"})
    if unknown:
        raise SubtokError(f"padding: unknown field {', '.join(unknown)}")
    strategy = out["strategy"]
    fixed = isinstance(strategy, dict) and set(strategy) == {"Fixed"} and isinstance(strategy["Fixed"], int)
    if strategy != "BatchLongest" and not fixed:
        raise SubtokError(f"padding: strategy must be BatchLongest or {{'Fixed': n}}, not {strategy!r}")
    if out["direction"] not in ("Right", "Left"):
        raise SubtokError(f"padding: direction must be Right or Left, not {out['direction']!r}")
    multiple = out["pad_to_multiple_of"]
    if multiple is not None and (not isinstance(multiple, int) or multiple < 1):
        raise SubtokError(f"padding: pad_to_multiple_of must be a positive integer or null, not {multiple!r}")
    for key in ("pad_id", "pad_type_id"):
        if not isinstance(out[key], int) or out[key] < 0:
            raise SubtokError(f"padding: {key} must be a non-negative integer")
    return out


def pad_batch(encodings: Sequence[Encoding], params: dict) -> None:
    """HF's pad_encodings: every encoding to the batch's longest (or the fixed length), rounded up to
    ``pad_to_multiple_of``."""
    strategy = params["strategy"]
    target = strategy["Fixed"] if isinstance(strategy, dict) else max((len(e) for e in encodings), default=0)
    multiple = params.get("pad_to_multiple_of")
    if multiple and target % multiple:
        target += multiple - target % multiple
    for e in encodings:
        e.pad(target, params["pad_id"], params["pad_type_id"], left=params["direction"] == "Left")


def pad(encodings: Sequence[Encoding], length: int, pad_id: int) -> None:
    """Pad each encoding shorter than ``length`` with ``pad_id``."""
    for e in encodings:
        e.pad(length, pad_id)
