"""A multilingual test text, assembled deterministically: real English and Korean lines from the shared
corpora, words in 48 scripts (letters drawn from each script's blocks), combining-mark clusters (NFD and
stacked marks, Hangul jamo that NFC composes), emoji sequences (ZWJ families, skin tones, flags, keycaps,
variation selectors), code (this project's own Python and C), numbers in several numeral systems,
special-token text, and whitespace runs (tabs, CR, NBSP, ideographic space, U+2028, line breaks).

``python bench/multilingual.py`` writes it to the cache and prints where; benches import ``lines()``.
"""

from __future__ import annotations

import random
import unicodedata
from pathlib import Path

from common import require_data

# One or more code point ranges per script, letters (and marks) only are drawn from them.
SCRIPTS = {
    "latin-ext": [(0x00C0, 0x024F)],
    "vietnamese": [(0x1EA0, 0x1EF9)],
    "greek": [(0x0370, 0x03FF)],
    "cyrillic": [(0x0400, 0x04FF)],
    "armenian": [(0x0531, 0x058A)],
    "hebrew": [(0x05D0, 0x05EA), (0x05B0, 0x05C7)],
    "arabic": [(0x0620, 0x064A), (0x064B, 0x0652)],
    "syriac": [(0x0710, 0x074A)],
    "thaana": [(0x0780, 0x07B1)],
    "nko": [(0x07C0, 0x07FA)],
    "devanagari": [(0x0900, 0x097F)],
    "bengali": [(0x0980, 0x09FE)],
    "gurmukhi": [(0x0A00, 0x0A7F)],
    "gujarati": [(0x0A80, 0x0AFF)],
    "oriya": [(0x0B00, 0x0B7F)],
    "tamil": [(0x0B80, 0x0BFF)],
    "telugu": [(0x0C00, 0x0C7F)],
    "kannada": [(0x0C80, 0x0CFF)],
    "malayalam": [(0x0D00, 0x0D7F)],
    "sinhala": [(0x0D80, 0x0DFF)],
    "thai": [(0x0E01, 0x0E5B)],
    "lao": [(0x0E81, 0x0EDF)],
    "tibetan": [(0x0F00, 0x0FDA)],
    "myanmar": [(0x1000, 0x109F)],
    "georgian": [(0x10A0, 0x10FF)],
    "hangul": [(0xAC00, 0xD7A3)],
    "ethiopic": [(0x1200, 0x137C)],
    "cherokee": [(0x13A0, 0x13F5)],
    "canadian": [(0x1401, 0x167F)],
    "ogham": [(0x1681, 0x169A)],
    "runic": [(0x16A0, 0x16F0)],
    "khmer": [(0x1780, 0x17DD)],
    "mongolian": [(0x1820, 0x1878)],
    "hiragana": [(0x3041, 0x3096)],
    "katakana": [(0x30A1, 0x30FA)],
    "bopomofo": [(0x3105, 0x312F)],
    "cjk": [(0x4E00, 0x9FFF)],
    "cjk-ext-b": [(0x20000, 0x2A6DF)],
    "yi": [(0xA000, 0xA48C)],
    "javanese": [(0xA980, 0xA9D9)],
    "tifinagh": [(0x2D30, 0x2D67)],
    "gothic": [(0x10330, 0x1034A)],
    "deseret": [(0x10400, 0x1044F)],
    "cuneiform": [(0x12000, 0x12399)],
    "adlam": [(0x1E900, 0x1E943)],
    "math-alnum": [(0x1D400, 0x1D7FF)],
    "fullwidth": [(0xFF21, 0xFF3A), (0xFF41, 0xFF5A)],
    "coptic": [(0x2C80, 0x2CE4)],
}
EMOJI = [
    "😀",
    "🙂🙃",
    "👍🏽",
    "👩‍👩‍👧‍👦",
    "🧑🏿‍💻",
    "🏳️‍🌈",
    "🇰🇷🇯🇵🇺🇸",
    "1️⃣#️⃣",
    "❤️",
    "☺︎",
    "🫠🪿",
    "🤷‍♀️",
]
NUMBERS = ["12345", "3.14159", "1,000,000", "٣٤٥", "१२३", "１２３", "½⅓¼", "Ⅻ", "0x1F600", "2026-12-01", "१०"]
SPACES = [
    " ",
    "  ",
    "   ",
    "\t",
    "\t\t",
    " \t ",
    "\u00a0",
    "\u3000",
    "\u2028",
    "\r\n",
    "\n",
    "\n\n",
    "\r",
    "\u200b",
    "\x0b",
]
SPECIALS = ["<|endoftext|>", "[CLS]", "<s>", "</s>", "<unk>", "<|im_start|>", "[MASK]"]


def _letters(ranges: list[tuple[int, int]]) -> list[str]:
    out = []
    for lo, hi in ranges:
        for cp in range(lo, hi + 1):
            ch = chr(cp)
            if unicodedata.category(ch)[0] in "LM":
                out.append(ch)
    return out


def _word(rng: random.Random, letters: list[str]) -> str:
    return "".join(rng.choice(letters) for _ in range(rng.randint(1, 9)))


def _combining(rng: random.Random) -> str:
    base = rng.choice(["café", "naïve", "Ångström", "Việt Nam", "São Paulo", "Zürich", "résumé", "Dvořák"])
    forms = [unicodedata.normalize("NFD", base), base]
    stacked = "".join(c + "".join(chr(rng.randint(0x300, 0x36F)) for _ in range(rng.randint(0, 4))) for c in "zalgo")
    jamo = "\u1100\u1161\u11a8 \u1112\u1161\u11ab\u1100\u1173\u11af"  # 각 한글 as conjoining jamo
    return " ".join([rng.choice(forms), stacked, jamo, "e\u0301\u0327", "\u0915\u094d\u0937"])


def _code_lines() -> list[str]:
    root = Path(__file__).resolve().parents[1]
    lines: list[str] = []
    for path in sorted((root / "subtok").glob("*.py"))[:6] + sorted((root / "subtok" / "csrc").glob("*.c"))[:2]:
        lines.extend(ln for ln in path.read_text(encoding="utf-8").split("\n") if ln.strip())
    return lines


def lines(n: int = 6000, seed: int = 0) -> list[str]:
    """``n`` lines of the multilingual text (the same for a given seed, on every machine)."""
    rng = random.Random(seed)
    data = require_data()
    english = (data / "wikitext2" / "wiki.test.raw.noblank.txt").read_text(encoding="utf-8").split("\n")
    korean = [
        f.split("\t")[1]
        for f in (data / "korean" / "nsmc_raw_sample.tsv").read_text(encoding="utf-8").split("\n")[1:]
        if f.count("\t") >= 2
    ]
    code = _code_lines()
    letters = {name: _letters(ranges) for name, ranges in SCRIPTS.items()}
    names = sorted(letters)
    out = []
    for k in range(n):
        kind = k % 6
        if kind == 0:
            line = rng.choice(english)[: rng.randint(20, 400)]
        elif kind == 1:
            line = rng.choice(korean)
        elif kind == 2:
            line = rng.choice(code)
        else:
            parts = []
            for _ in range(rng.randint(3, 14)):
                r = rng.random()
                if r < 0.55:
                    parts.append(_word(rng, letters[rng.choice(names)]))
                elif r < 0.65:
                    parts.append(rng.choice(EMOJI))
                elif r < 0.75:
                    parts.append(rng.choice(NUMBERS))
                elif r < 0.82:
                    parts.append(_combining(rng))
                elif r < 0.87:
                    parts.append(rng.choice(SPECIALS))
                else:
                    parts.append(rng.choice(rng.choice(english).split(" ")))
                parts.append(rng.choice(SPACES) if rng.random() < 0.4 else " ")
            line = "".join(parts)
        out.append(line)
    return out


if __name__ == "__main__":
    from subtok.datasets import cache_dir

    path = cache_dir() / "bench-multilingual.txt"
    text = lines()
    path.write_text("\u0000".join(text), encoding="utf-8")
    scripts = len(SCRIPTS)
    print(f"{len(text)} lines, {sum(len(t.encode()) for t in text):,} bytes, {scripts} generated scripts -> {path}")
