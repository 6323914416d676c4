"""The OOV experiment: the metric arithmetic on models with known probabilities, the spelling charge as a
proper distribution, token-to-word attribution on real tokenizers, and seeded compare() runs."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from subtok.cli import main
from subtok.errors import CorpusError, SubtokError
from subtok.experiments import compare, format_table, scoring
from subtok.experiments.compare import load_splits, render, segment_lines, train_tokenizers
from subtok.experiments.spelling import END, OTHER, START, SpellingModel
from subtok.lm import RNNLM


def zipf_text(n_lines: int = 700, seed: int = 0) -> list[str]:
    """Sentences of pseudo-words drawn with Zipf frequencies: a long tail, so the test split holds words
    the training split never saw."""
    rng = np.random.default_rng(seed)
    syllables = ["ka", "to", "ri", "mu", "sel", "an", "bo", "dri", "ne", "qu", "la", "é", "zo", "pi", "on"]
    words = sorted({"".join(rng.choice(syllables, size=rng.integers(1, 4))) for _ in range(3000)})
    p = 1.0 / np.arange(1, len(words) + 1)
    p /= p.sum()
    return [" ".join(rng.choice(words, size=rng.integers(4, 14), p=p)) + " ." for _ in range(n_lines)]


@pytest.fixture(scope="module")
def zipf_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("zipf") / "zipf.txt"
    path.write_text("\n".join(zipf_text()) + "\n", encoding="utf-8")
    return path


class FakeEncoding:
    def __init__(self, ids, offsets):
        self.ids, self.offsets = ids, offsets


def word_level(lines, vocab):
    """Encodings of a word-level model with vocabulary ``vocab`` (id 0 is unknown)."""
    out = []
    for line in lines:
        ids, offsets, pos = [], [], 0
        for w in line.split(" "):
            ids.append(vocab.get(w, 0))
            offsets.append((pos, pos + len(w)))
            pos += len(w) + 1
        out.append(FakeEncoding(ids, offsets))
    return out


# ---------------------------------------------------------------------------------------------------------
# Metric arithmetic
# ---------------------------------------------------------------------------------------------------------
def test_uniform_word_model_has_word_ppl_v():
    lines = ["a b c", "b a", "c c c a"]
    vocab = {"a": 1, "b": 2, "c": 3}
    layout = scoring.Layout.of(lines)
    seg = scoring.segment(word_level(lines, vocab), layout, eol_id=4, unk_id=0, lines=lines)
    assert layout.n_words == 9 + 3  # words and line ends
    assert layout.n_chars == len("a b c\nb a\nc c c a\n")
    V = 5  # uniform over 5 tokens, line end included
    token_nll = np.full(len(seg.ids), math.log(V))
    nll = scoring.word_nll(token_nll, seg, layout, None)
    total = nll.sum()
    assert scoring.word_ppl(total, layout.n_words) == pytest.approx(V)
    # word_ppl and bpc are two views of one total
    bpc = scoring.bits_per_char(total, layout.n_chars)
    assert bpc * math.log(2) * layout.n_chars == pytest.approx(math.log(scoring.word_ppl(total, layout.n_words)) * 12)
    assert bpc == pytest.approx(12 * math.log2(V) / layout.n_chars)


def test_unknown_words_pay_their_spelling():
    lines = ["a zzz b", "qq a"]
    vocab = {"a": 1, "b": 2}
    layout = scoring.Layout.of(lines)
    seg = scoring.segment(word_level(lines, vocab), layout, eol_id=3, unk_id=0, lines=lines)
    assert seg.unk_texts == ["zzz", "qq"]
    spell = SpellingModel(["zz", "q", "ab"])
    token_nll = np.arange(1.0, len(seg.ids) + 1)
    nll = scoring.word_nll(token_nll, seg, layout, spell.log_prob)
    assert nll[1] == pytest.approx(token_nll[1] - spell.log_prob("zzz"))
    assert nll[4] == pytest.approx(token_nll[4] - spell.log_prob("qq"))
    assert nll.sum() == pytest.approx(token_nll.sum() - spell.log_prob("zzz") - spell.log_prob("qq"))
    with pytest.raises(SubtokError, match="spelling"):
        scoring.word_nll(token_nll, seg, layout, None)


@pytest.mark.parametrize("model", ["bpe", "wordpiece", "word", "unigram", "bpe-jamo", "unigram-jamo"])
def test_subword_nll_is_the_sum_over_each_words_pieces(backend, model):
    korean = ["영화 정말 재미있었어요 ㅋㅋ", "이 영화 최고 입니다", "배우들 연기가 좋았어요"] * 10
    lines = [render(t) for t in zipf_text(200)] + korean + ["naïve café 東京 🙂 x 재밌다 꿿"]
    tok = train_tokenizers(lines[:150] + korean, 300, kinds=[model])[model]
    layout = scoring.Layout.of(lines)
    seg = segment_lines(tok, lines, layout)
    token_nll = np.random.default_rng(1).random(len(seg.ids))
    spell = SpellingModel(["ab"])
    nll = scoring.word_nll(token_nll, seg, layout, spell.log_prob)
    charge = -sum(spell.log_prob(t) for t in seg.unk_texts)
    assert nll.sum() == pytest.approx(token_nll.sum() + charge)
    # each word's pieces, looked up independently, are exactly the tokens attributed to it
    k = 0
    for line in lines:
        for j, word in enumerate(line.split(" ")):
            spaced = j > 0 and model.startswith("bpe")  # GPT-2's pieces carry the space before a word
            pieces = tok.encode(" " + word if spaced else word, add_special_tokens=False).ids
            w = layout.words.index(word, int(seg.word_of_token[k]))
            assert layout.words[seg.word_of_token[k]] == word
            assert seg.ids[k : k + len(pieces)].tolist() == pieces
            assert (seg.word_of_token[k : k + len(pieces)] == w).all()
            k += len(pieces)
        assert layout.is_eol[seg.word_of_token[k]]
        k += 1
    assert k == len(seg.ids)


# ---------------------------------------------------------------------------------------------------------
# The spelling model
# ---------------------------------------------------------------------------------------------------------
def test_spelling_conditionals_are_distributions():
    spell = SpellingModel(["ab", "abb", "ba", "a", "ca"])
    symbols = [*spell.alphabet, END, OTHER]
    for prev in [START, *spell.alphabet, OTHER]:
        assert sum(spell.conditional(prev, s) for s in symbols) == pytest.approx(1.0)


def test_spelling_is_a_proper_distribution_over_strings():
    spell = SpellingModel(["ab", "abb", "ba", "a"])
    # every string over a, b and an unseen c, up to length 6: at most 1
    total = sum(math.exp(spell.log_prob("".join(s))) for n in range(7) for s in itertools.product("abc", repeat=n))
    assert 0.5 < total <= 1.0
    # summed over whole classes (a, b, any other code point), the mass approaches 1 as the length grows

    def mass(max_len):
        out = 0.0
        for n in range(max_len + 1):
            for seq in itertools.product(["a", "b", OTHER], repeat=n):
                p, prev = 1.0, START
                for sym in seq:
                    p *= spell.conditional(prev, sym)
                    prev = sym
                out += p * spell.conditional(prev, END)
        return out

    masses = [mass(n) for n in (2, 4, 8)]
    assert masses[0] < masses[1] < masses[2] <= 1.0
    assert masses[2] > 0.98
    # an unseen character costs its class's share among all other code points
    assert spell.log_prob("c") < spell.log_prob("a") - math.log(1e6)


# ---------------------------------------------------------------------------------------------------------
# Exact token scoring
# ---------------------------------------------------------------------------------------------------------
def test_token_nll_scores_every_token_once():
    model = RNNLM(40, 8, 8, seed=3)
    ids = np.random.default_rng(0).integers(0, 40, 123)
    one = model.token_nll(ids, start_id=0, batch_size=1, time_size=35)
    assert one.shape == (123,)
    assert np.allclose(one, model.token_nll(ids, start_id=0, batch_size=1, time_size=9))
    inputs = np.concatenate([[0], ids[:-1]])[None]
    assert one.mean() == pytest.approx(model.forward(inputs, ids[None], train_flg=False), rel=1e-5)
    rows = model.token_nll(ids, start_id=0, batch_size=7)
    assert rows.shape == (123,) and np.isfinite(rows).all()
    with pytest.raises(SubtokError, match="outside the vocabulary"):
        model.token_nll([1, 40], start_id=0)


# ---------------------------------------------------------------------------------------------------------
# Splits and the whole experiment
# ---------------------------------------------------------------------------------------------------------
def test_splits_are_seeded_and_disjoint(zipf_file):
    a, info = load_splits(zipf_file, seed=1)
    b, _ = load_splits(zipf_file, seed=1)
    c, _ = load_splits(zipf_file, seed=2)
    assert a == b and a != c
    assert info["split"].startswith("700 lines shuffled with seed 1")
    assert sum(len(v) for v in a.values()) == 700
    assert info["train_words"] == sum(len(line.split()) for line in a["train"])
    capped, info = load_splits(zipf_file, seed=1, max_train_words=500)
    assert 500 <= info["train_words"] < 520 and capped["test"] == a["test"]


def test_documents_stay_whole(tmp_path):
    path = tmp_path / "docs.txt"
    docs = [[f"doc{d} line{k}  with   spaces" for k in range(3)] for d in range(30)]
    path.write_text("\n\n".join("\n".join(d) for d in docs) + "\n", encoding="utf-8")
    splits, info = load_splits(path, seed=0)
    assert "30 documents" in info["split"]
    for lines in splits.values():
        assert len(lines) % 3 == 0 and all("  " not in line for line in lines)
        for i in range(0, len(lines), 3):
            assert len({line.split()[0] for line in lines[i : i + 3]}) == 1


def test_bad_corpus_arguments(tmp_path):
    with pytest.raises(CorpusError, match="neither a file nor a named corpus"):
        load_splits(tmp_path / "missing.txt")
    tiny = tmp_path / "tiny.txt"
    tiny.write_text("one line only\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="split is empty"):
        load_splits(tiny)
    with pytest.raises(SubtokError, match="vocab_size"):
        compare(tiny, vocab_size=100)
    with pytest.raises(SubtokError, match="cannot write the report to .*tiny.txt"):
        compare(tiny, out=tiny / "out")


TINY = dict(vocab_size=300, epochs=2, hidden_size=16, batch_size=4, time_size=10, seed=5, models="word,bpe,wordpiece")


def test_compare_report(backend, zipf_file, tmp_path):
    report = compare(zipf_file, out=tmp_path, **TINY)
    again = compare(zipf_file, **TINY)
    for r in (report, again):
        r.pop("timings"), r.pop("plot", None)
    assert report == again  # seeded runs give the same report
    on_disk = json.loads((tmp_path / "report.json").read_text())
    assert on_disk["models"]["bpe"]["word_ppl"] == report["models"]["bpe"]["word_ppl"]
    assert set(report["models"]) == {"word", "bpe", "wordpiece"}
    word, bpe = report["models"]["word"], report["models"]["bpe"]
    for m in report["models"].values():
        assert m["vocab_size"] <= 300
        assert len(m["curve"]) == 2
        total = m["total_nll"]
        assert m["word_ppl"] == pytest.approx(math.exp(total / report["n_words"]))
        assert m["bpc"] == pytest.approx(total / (math.log(2) * report["n_chars"]))
        words = sum(report["bands"][b]["words"] for b in report["bands"])
        band_bits = sum(m["bands"][b]["words"] * (m["bands"][b]["bits_per_word"] or 0) for b in m["bands"])
        assert band_bits <= total / math.log(2) + 1e-6  # the bands leave out only the line ends
        assert words + report["n_lines"] == report["n_words"]
    assert word["oov_rate"] > 0.05 and word["spelling_nll"] > 0  # the word model's unknowns pay to be spelled
    assert bpe["oov_rate"] == 0 and bpe["spelling_nll"] == pytest.approx(0, abs=1e-6)
    assert bpe["n_tokens"] > word["n_tokens"] == report["n_words"]
    assert bpe["unseen_splits"]["pieces_per_word"] > 1
    assert all(pieces == ["<unk>"] for pieces in word["unseen_splits"]["examples"].values())
    if report.get("plot") is None:
        pytest.importorskip("matplotlib")
    assert (tmp_path / "compare.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_both_backends_give_the_same_report(zipf_file):
    from subtok import _backend

    if _backend._native is None:
        pytest.skip("native extension not built")
    reports = []
    previous = _backend.name
    try:
        for name in ("python", "native"):
            _backend.use(name)
            report = compare(zipf_file, **{**TINY, "epochs": 1})
            report.pop("timings")
            reports.append(report)
    finally:
        _backend.use(previous)
    assert reports[0] == reports[1]


def test_compare_without_matplotlib(backend, zipf_file, tmp_path, monkeypatch):
    import subtok.experiments.plot as plot

    def no_matplotlib(report, path):
        raise ImportError("No module named 'matplotlib'")

    monkeypatch.setattr(plot, "plot_report", no_matplotlib)
    messages = []
    report = compare(zipf_file, out=tmp_path, log=messages.append, **{**TINY, "epochs": 1})
    assert report["plot"] is None and not (tmp_path / "compare.png").exists()
    assert json.loads((tmp_path / "report.json").read_text())["plot"] is None
    assert any("matplotlib is not installed" in m for m in messages)


def test_compare_and_demo_commands(backend, zipf_file, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    args = ["compare", "--corpus", str(zipf_file), "--vocab-size", "300", "--epochs", "1", "--hidden-size", "8"]
    assert main([*args, "--out", str(out), "-q"]) == 0
    printed = capsys.readouterr().out
    assert "word ppl" in printed and "wordpiece" in printed and str(out / "report.json") in printed
    assert main(["compare", "--corpus", str(tmp_path / "nope.txt"), "--out", str(out)]) == 1
    assert "neither a file nor a named corpus" in capsys.readouterr().err
    import subtok.cli as cli

    monkeypatch.setattr(cli, "DEMO_BUDGET", {"corpus": str(zipf_file), **TINY, "epochs": 1})
    assert main(["demo", "--out", str(tmp_path / "demo"), "-q"]) == 0
    assert json.loads((tmp_path / "demo" / "report.json").read_text())["models"]["word"]["oov_rate"] > 0


def test_ptb_keeps_its_own_split(shared_data):
    splits, info = load_splits("ptb", max_train_words=1000, max_eval_words=1000)
    assert info["split"] == "the corpus's own train / valid / test files"
    assert splits["train"][0].startswith("aer banknote berlitz")
    assert 1000 <= info["test_words"] < 1100


def test_subword_tokens_determine_the_text(backend):
    """The segmentation is lossless, so a probability of the tokens is a probability of the text."""
    lines = [render(t) for t in zipf_text(100)]
    tokenizers = train_tokenizers(lines, 300)
    for line in lines[:20]:
        assert tokenizers["bpe"].decode(tokenizers["bpe"].encode(line).ids) == line
        pieces = tokenizers["wordpiece"].encode(line, add_special_tokens=False).tokens
        assert "".join(p[2:] if p.startswith("##") else " " + p for p in pieces)[1:] == line
    assert all(tok.token_to_id("<eos>") is not None for tok in tokenizers.values())


# ---------------------------------------------------------------------------------------------------------
# Seeds, models, pinned BLAS threads, the page
# ---------------------------------------------------------------------------------------------------------
ALL_MODELS = "word,bpe,wordpiece,unigram,bpe-dropout,unigram-sampling"


@pytest.fixture(scope="module")
def seeded_report(zipf_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("seeded")
    report = compare(zipf_file, out=out, seeds=[0, 1, 2], **{**TINY, "epochs": 1, "models": ALL_MODELS})
    return report, out


def test_seeds_give_means_and_spreads(seeded_report):
    report, _ = seeded_report
    assert report["seeds"] == [0, 1, 2] and list(report["models"]) == ALL_MODELS.split(",")
    for m in report["models"].values():
        runs = m["per_seed"]
        assert [r["seed"] for r in runs] == [0, 1, 2]
        for key in ("token_ppl", "word_ppl", "bpc", "total_nll"):
            values = [r[key] for r in runs]
            assert m[key] == pytest.approx(np.mean(values)) and m["spread"][key] == pytest.approx(
                np.std(values, ddof=1)
            )
        assert len(set(r["word_ppl"] for r in runs)) == 3  # each seed trains another model
        for r in runs:  # every run's figures come from its one total
            assert r["word_ppl"] == pytest.approx(math.exp(r["total_nll"] / report["n_words"]))
            assert r["bpc"] == pytest.approx(r["total_nll"] / (math.log(2) * report["n_chars"]))
        for b in ("frequent", "rare", "unseen"):
            bits = [r["bands"][b]["bits_per_word"] for r in runs]
            assert m["bands"][b]["bits_per_word"] == pytest.approx(np.mean(bits))
    # the drawn models read the same tokenizers as their deterministic twins and are scored the same way
    for drawn, base in (("bpe-dropout", "bpe"), ("unigram-sampling", "unigram")):
        assert report["models"][drawn]["n_tokens"] == report["models"][base]["n_tokens"]
        assert report["models"][drawn]["word_ppl"] != report["models"][base]["word_ppl"]
    assert report["models"]["unigram"]["oov_rate"] < report["models"]["word"]["oov_rate"]
    assert "± sd" in format_table(report)


def test_one_seed_is_the_old_report(zipf_file):
    """``seeds=[s]`` is ``seed=s``'s run; the split's shuffle stays ``seed``'s."""
    tiny = {**TINY, "epochs": 1, "models": "word,bpe"}
    one = compare(zipf_file, **tiny)
    listed = compare(zipf_file, seeds=[TINY["seed"]], **tiny)
    for r in (one, listed):
        r.pop("timings")
    assert one == listed
    assert one["models"]["bpe"]["spread"]["word_ppl"] == 0.0


def test_processes_give_the_same_report(zipf_file):
    tiny = {**TINY, "epochs": 1, "models": "word,bpe,unigram-sampling", "seeds": [0, 1]}
    alone = compare(zipf_file, jobs=1, **tiny)
    shared = compare(zipf_file, jobs=2, **tiny)
    assert alone["environment"].pop("jobs") == 1 and shared["environment"].pop("jobs") == 2
    for r in (alone, shared):
        r.pop("timings")
    assert alone == shared


def test_pinned_blas_threads_give_the_same_figures_whatever_the_default(zipf_file):
    from threadpoolctl import threadpool_info, threadpool_limits

    reports = []
    for default in (1, 2):
        with threadpool_limits(limits=default, user_api="blas"):
            report = compare(zipf_file, **{**TINY, "epochs": 1, "models": "word,bpe"})
            after = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
        assert after == [default] * len(after)  # restored afterwards
        report.pop("timings")
        reports.append(report)
    assert reports[0] == reports[1]
    assert reports[0]["lm"]["blas_threads"] == 1
    assert all(b["num_threads"] == 1 for b in reports[0]["environment"]["blas"])
    assert reports[0]["environment"]["numpy"] == np.__version__


def test_model_and_seed_arguments(zipf_file):
    with pytest.raises(SubtokError, match="unknown model 'gpt'"):
        compare(zipf_file, models="word,gpt")
    with pytest.raises(SubtokError, match="distinct"):
        compare(zipf_file, models="bpe,bpe")
    with pytest.raises(SubtokError, match="seeds"):
        compare(zipf_file, seeds=[1, 1])
    with pytest.raises(SubtokError, match="bpe_dropout"):
        compare(zipf_file, models="bpe-dropout", bpe_dropout=0.0)
    with pytest.raises(SubtokError, match="blas_threads"):
        compare(zipf_file, blas_threads=0)


def test_report_page(seeded_report):
    report, out = seeded_report
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and 'id="results"' in page
    assert "http://" not in page and "https://" not in page  # self-contained
    assert page.count("<tr>") >= 1 + len(report["models"])
    assert "±" in page and 'class="unk' in page and "unseen" in page
    assert report["samples"] and all(
        set(s["segmentations"]) == {"word", "bpe", "wordpiece", "unigram"} for s in report["samples"]
    )
    for sample in report["samples"]:
        for segs in sample["segmentations"].values():
            assert "".join(s["text"] for s in segs) == sample["text"]  # the original text, cut
    if report.get("plot"):
        assert 'src="data:image/png;base64,' in page


def _chromium():
    import shutil

    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    pytest.skip("no chromium here (.ci/run installs Debian's chromium when it can)")


def test_report_page_in_a_headless_browser(seeded_report):
    import subprocess

    pytest.importorskip("matplotlib")
    browser = _chromium()
    _, out = seeded_report
    res = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", (out / "report.html").as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    dom = res.stdout
    assert '<table id="results">' in dom and dom.count("<tr>") >= 7
    assert 'data-images-shown="1"' in dom  # the plot decoded and shown by the browser


def test_show_command(backend, tmp_path, capsys):
    lines = [render(t) for t in zipf_text(200)]
    tokenizers = train_tokenizers(lines, 300, kinds=["word", "bpe"])
    paths = []
    for name, tok in tokenizers.items():
        paths.append(str(tmp_path / f"{name}.json"))
        tok.save(paths[-1])
    text = "kato bobo zzyzx torizo"
    html_path = tmp_path / "show.html"
    assert main(["show", text, "-t", paths[0], "-t", paths[1], "--html", str(html_path)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 2 and "\x1b[" not in printed[0]  # not a terminal: plain
    width = max(map(len, paths)) + 2
    assert printed[0].startswith(paths[0]) and printed[1].startswith(paths[1])
    word_line, bpe_line = (line[width:] for line in printed)
    assert "<unk:zzyzx>" in word_line
    assert bpe_line.replace("|", "") == text and bpe_line.count("|") >= 3
    page = html_path.read_text(encoding="utf-8")
    assert page.count('class="seg"') == 2 and "zzyzx" in page
    assert main(["show", text, "-t", str(tmp_path / "missing.json")]) == 1
