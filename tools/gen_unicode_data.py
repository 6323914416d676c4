"""Write subtok/_unicode_data.py: the character data HF tokenizers sees text through, which is older than
Python's, so that subtok's components treat every character as HF's do.

- Unicode 9.0's assigned code points and their scripts (HF's normalization tables are the
  unicode-normalization crate's Unicode 9.0; its UnicodeScripts pre-tokenizer knows 9.0's scripts). The
  assigned set comes from a Python whose unicodedata is Unicode 9.0 (CPython 3.6, the first argument);
  scripts from the ``regex`` module, restricted to those code points and 9.0's script list.
- The categories HF's BERT components and Punctuation read from the unicode_categories crate (0.1.1:
  Unicode 8.0 as UnicodeData.txt lists it, where a First..Last range counts only its two ends): control
  (Cc, Cf, listed Co), punctuation (P*), nonspacing marks (Mn), and marks (M*, from the normalization
  crate). These are read off HF tokenizers' own behaviour, one code point at a time (needs ``tokenizers``).

Run: python tools/gen_unicode_data.py /path/to/python3.6
"""

import json
import subprocess
import sys
from pathlib import Path

import regex
from tokenizers import normalizers, pre_tokenizers

SCRIPTS_V9 = """Adlam Ahom Anatolian_Hieroglyphs Arabic Armenian Avestan Balinese Bamum Bassa_Vah Batak Bengali
Bhaiksuki Bopomofo Brahmi Braille Buginese Buhid Canadian_Aboriginal Carian Caucasian_Albanian Chakma Cham
Cherokee Common Coptic Cuneiform Cypriot Cyrillic Deseret Devanagari Duployan Egyptian_Hieroglyphs Elbasan
Ethiopic Georgian Glagolitic Gothic Grantha Greek Gujarati Gurmukhi Han Hangul Hanunoo Hatran Hebrew Hiragana
Imperial_Aramaic Inherited Inscriptional_Pahlavi Inscriptional_Parthian Javanese Kaithi Kannada Katakana
Kayah_Li Kharoshthi Khmer Khojki Khudawadi Lao Latin Lepcha Limbu Linear_A Linear_B Lisu Lycian Lydian
Mahajani Malayalam Mandaic Manichaean Marchen Meetei_Mayek Mende_Kikakui Meroitic_Cursive Meroitic_Hieroglyphs
Miao Modi Mongolian Mro Multani Myanmar Nabataean New_Tai_Lue Newa Nko Ogham Ol_Chiki Old_Hungarian Old_Italic
Old_North_Arabian Old_Permic Old_Persian Old_South_Arabian Old_Turkic Oriya Osage Osmanya Pahawh_Hmong
Palmyrene Pau_Cin_Hau Phags_Pa Phoenician Psalter_Pahlavi Rejang Runic Samaritan Saurashtra Sharada Shavian
Siddham SignWriting Sinhala Sora_Sompeng Sundanese Syloti_Nagri Syriac Tagalog Tagbanwa Tai_Le Tai_Tham
Tai_Viet Takri Tamil Tangut Telugu Thaana Thai Tibetan Tifinagh Tirhuta Ugaritic Vai Warang_Citi Yi""".split()

DUMP = """
import json, sys, unicodedata
assert unicodedata.unidata_version == "9.0.0", unicodedata.unidata_version
cps = [cp for cp in range(0x110000) if unicodedata.category(chr(cp)) != "Cn"]
nfd_stable = [cp for cp in cps if unicodedata.normalize("NFD", chr(cp)) == chr(cp)]
seconds = set(range(0x1161, 0x1176)) | set(range(0x11A8, 0x11C3))  # Hangul vowels, trailing consonants
for cp in cps:
    parts = unicodedata.decomposition(chr(cp)).split()
    if len(parts) == 2 and not parts[0].startswith("<") and unicodedata.normalize("NFC", chr(cp)) == chr(cp):
        seconds.add(int(parts[1], 16))
compositions = []  # primary composites: (first, second, composite)
for cp in cps:
    parts = unicodedata.decomposition(chr(cp)).split()
    if len(parts) == 2 and not parts[0].startswith("<") and unicodedata.normalize("NFC", chr(cp)) == chr(cp):
        compositions += [int(parts[0], 16), int(parts[1], 16), cp]
def inside(cp, form):
    c = chr(cp)
    if unicodedata.combining(c) > 0 or unicodedata.normalize(form, c) != c or cp in seconds:
        return True
    first = unicodedata.normalize("NFKD" if "K" in form else "NFD", c)[0]  # composed forms: a stable composite
    return unicodedata.combining(first) > 0 or ord(first) in seconds  # still starts its own segment unless so
forms = ("NFC", "NFD", "NFKC", "NFKD")
json.dump([cps, nfd_stable, compositions] + [[cp for cp in cps if inside(cp, f)] for f in forms], sys.stdout)
"""


def ranges(cps: list[int]) -> list[int]:
    """Sorted code points as flat (first, last) pairs of runs."""
    out: list[int] = []
    for cp in sorted(cps):
        if out and out[-1] == cp - 1:
            out[-1] = cp
        else:
            out += [cp, cp]
    return out


def tuple_lines(name: str, values: list, fmt=repr) -> str:
    """``name = (...)`` with the values as ``fmt`` writes them, in rows of at most 110 characters."""
    rows, row = [], ""
    for v in map(fmt, values):
        if row and len(row) + len(v) + 2 > 110:
            rows.append(row)
            row = ""
        row = f"{row}, {v}" if row else v
    rows.append(row)
    return f"{name} = (\n" + "".join(f"    {row},\n" for row in rows if row) + ")\n"


def hf_sets() -> dict[str, list[int]]:
    control = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False
    )
    strip = normalizers.BertNormalizer(
        clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=False
    )
    marks = normalizers.StripAccents()
    bert = pre_tokenizers.BertPreTokenizer()
    sets: dict[str, list[int]] = {"CONTROL": [], "PUNCT": [], "NONSPACING": [], "MARK": []}
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        if cp not in (0, 0xFFFD) and control.normalize_str(c) == "":
            sets["CONTROL"].append(cp)
        if len(bert.pre_tokenize_str("a" + c + "a")) == 3:
            sets["PUNCT"].append(cp)
        if strip.normalize_str(c) == "":
            sets["NONSPACING"].append(cp)
        if marks.normalize_str(c) == "":
            sets["MARK"].append(cp)
    return sets


def fix_scripts_by_hf(script_of: dict[int, int], assigned: list[int]) -> None:
    """Check each character's script against HF's UnicodeScripts (a character of script S joins S's first
    character) and take HF's where they differ: the ``regex`` module's Unicode is newer than 9.0, and a few
    characters changed script since (U+0589 and U+061C were Common, U+0953..0954 Devanagari)."""
    hf = pre_tokenizers.UnicodeScripts()
    first: dict[int, str] = {}
    for cp in assigned:
        first.setdefault(script_of.get(cp, -1), chr(cp))
    han, kana = SCRIPTS_V9.index("Han"), {SCRIPTS_V9.index("Hiragana"), SCRIPTS_V9.index("Katakana")}
    for cp in assigned:
        s = script_of.get(cp, -1)
        if s < 0 or s in kana or s == han or 0xD800 <= cp <= 0xDFFF or cp in (0x20, 0x30FC):
            continue
        if len(hf.pre_tokenize_str(first[s] + chr(cp))) != 1:
            joins = [t for t, c in first.items() if t >= 0 and len(hf.pre_tokenize_str(c + chr(cp))) == 1]
            print(f"U+{cp:04X}: {SCRIPTS_V9[s]} in regex, {[SCRIPTS_V9[t] for t in joins]} in HF")
            script_of[cp] = joins[0]


def main() -> None:
    dump = json.loads(subprocess.run([sys.argv[1], "-c", DUMP], check=True, capture_output=True).stdout)
    assigned, nfd_stable, compositions, *inside = dump
    chars = "".join(chr(cp) for cp in assigned if not 0xD800 <= cp <= 0xDFFF)
    script_of: dict[int, int] = {}
    for index, name in enumerate(SCRIPTS_V9):
        for m in regex.finditer(rf"\p{{Script={name}}}+", chars):
            for ch in m.group():
                script_of[ord(ch)] = index
    fix_scripts_by_hf(script_of, assigned)
    runs: list[list[int]] = []  # [first, script, last]: runs of one script over assigned code points
    for cp in assigned:
        s = script_of.get(cp, -1)
        if runs and runs[-1][1] == s and runs[-1][2] == cp - 1:
            runs[-1][2] = cp
        else:
            runs.append([cp, s, cp])
    sets = hf_sets()
    stable = set(nfd_stable)  # a nonspacing mark is read off a character NFD leaves alone
    sets["NONSPACING"] = [cp for cp in sets["NONSPACING"] if cp in stable]
    out = Path(__file__).resolve().parents[1] / "subtok" / "_unicode_data.py"
    with open(out, "w", encoding="utf-8") as f:
        f.write('"""Generated by tools/gen_unicode_data.py (do not edit): the character data of HF tokenizers.\n\n')
        f.write(
            "Unicode 9.0's assigned code points as runs of one script: run k covers RUN_STARTS[k]..RUN_ENDS[k] and\n"
        )
        f.write("has script SCRIPTS[RUN_SCRIPTS[k]] (-1: none of them). Then HF's BERT-era categories as flat\n")
        f.write("(first, last) pairs: CONTROL (what clean_text drops), PUNCT (what BertPreTokenizer and Punctuation\n")
        f.write("isolate), NONSPACING (what strip_accents drops after NFD), MARK (what StripAccents drops),\n")
        f.write("COMPOSITIONS (Unicode 9.0's primary composites as flat (first, second, composite) triples),\n")
        f.write("INSIDE_<form> (characters the form may join to the one before them or change: combining, changed\n")
        f.write("by the form, or the second part of a composition; every other character starts a new segment).\n")
        f.write('"""\n\n')
        f.write(tuple_lines("SCRIPTS", SCRIPTS_V9))
        f.write(tuple_lines("RUN_STARTS", [r[0] for r in runs]))
        f.write(tuple_lines("RUN_ENDS", [r[2] for r in runs]))
        f.write(tuple_lines("RUN_SCRIPTS", [r[1] for r in runs]))
        for name in ("CONTROL", "PUNCT", "NONSPACING", "MARK"):
            f.write(tuple_lines(name, ranges(sets[name])))
        f.write(tuple_lines("COMPOSITIONS", compositions))
        for form, cps in zip(("NFC", "NFD", "NFKC", "NFKD"), inside):
            f.write(tuple_lines(f"INSIDE_{form}", ranges(cps)))
    print(f"{len(runs)} script runs, " + ", ".join(f"{k} {len(v)} code points" for k, v in sets.items()) + f" -> {out}")


if __name__ == "__main__":
    main()
