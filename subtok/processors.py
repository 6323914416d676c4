"""Post-processing, the pipeline's last stage: the tokens a model expects around a sequence or a pair
(BERT's [CLS] A [SEP] B [SEP]), truncation to a length and padding of a batch.

``PROCESSORS`` maps each JSON "type" (ours and HF's) to its class.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Optional

from .encoding import Encoding, Joined
from .errors import SubtokError
from .registry import Registry

PROCESSORS = Registry("post-processor")


@PROCESSORS.register(types=("bert",), hf=("BertProcessing", "TemplateProcessing"))
class BertPostProcessor:
    """BERT's template: [CLS] A [SEP] for one sequence, [CLS] A [SEP] B [SEP] for a pair, with type id 0
    for the first part and 1 for B and its [SEP]. Added tokens have offsets (0, 0)."""

    type = "bert"

    def __init__(self, cls_token: str = "[CLS]", sep_token: str = "[SEP]") -> None:
        self.cls_token, self.sep_token = cls_token, sep_token

    @property
    def tokens(self) -> tuple[str, str]:
        return self.cls_token, self.sep_token

    def added(self, pair: bool) -> int:
        """How many tokens it adds to one sequence or a pair."""
        return 3 if pair else 2

    def apply(self, first: Encoding, second: Optional[Encoding]) -> Encoding:
        token_to_id = first.model.vocab.word_to_id
        cls_id, sep_id = token_to_id[self.cls_token], token_to_id[self.sep_token]
        ids = [cls_id, *first.ids, sep_id]
        items: list[Optional[Encoding]] = [None, first, None]
        type_ids = [0] * len(ids)
        if second is not None:
            ids += [*second.ids, sep_id]
            items += [second, None]
            type_ids += [1] * (len(second.ids) + 1)
        enc = Encoding(ids, first.model, first.text, Joined, items)
        enc.type_ids = type_ids
        mask = [1] + [0] * len(first.ids) + [1]
        enc.special_tokens_mask = mask + ([0] * len(second.ids) + [1] if second is not None else [])
        return enc

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
        """HF's BertProcessing, or a TemplateProcessing whose single template is exactly X $A Y."""
        if d["type"] == "BertProcessing":
            return cls(d["cls"][0], d["sep"][0])
        single = [next(iter(x.values())).get("id") for x in d.get("single", [])]
        if len(single) == 3 and single[1] == "A":
            return cls(single[0], single[2])
        raise SubtokError(f"unsupported TemplateProcessing {d!r}")


def join_pair(first: Encoding, second: Encoding) -> Encoding:
    """A pair without a post-processor: the two encodings one after the other, the second with type id 1."""
    joined = Encoding(first.ids + second.ids, first.model, first.text, Joined, [first, second])
    joined.type_ids = [0] * len(first.ids) + [1] * len(second.ids)
    return joined


def truncate_longest_first(first: Encoding, second: Optional[Encoding], budget: int) -> None:
    """Cut tokens from the longer sequence until both fit ``budget`` (HF's "longest_first")."""
    budget = max(budget, 0)
    if second is None:
        first.truncate(budget)
        return
    while len(first) + len(second) > budget:
        longer = first if len(first) >= len(second) else second
        longer.truncate(len(longer) - 1)


def pad(encodings: Sequence[Encoding], length: int, pad_id: int) -> None:
    """Pad each encoding shorter than ``length`` with ``pad_id``."""
    for e in encodings:
        e.pad(length, pad_id)
