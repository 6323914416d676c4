"""report.html: the comparison as one self-contained page (no network): the table with spreads over
seeds, the plot embedded as a data URI, and a few test sentences drawn once per tokenizer with token
boundaries, unknown tokens and never-seen words marked (``subtok.show``)."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Optional

from .. import show
from .._io import atomic_write_bytes

COLUMNS = ("token_ppl", "word_ppl", "bpc")
COLUMN_NAMES = {"token_ppl": "token ppl", "word_ppl": "word ppl", "bpc": "bpc"}
# a script that counts the images the browser decoded, so that a headless browser can tell they are shown
_COUNT_IMAGES = (
    "<script>window.addEventListener('load', function () {"
    " var n = 0; for (var i = 0; i < document.images.length; i++) {"
    " if (document.images[i].complete && document.images[i].naturalWidth > 0) n++; }"
    " document.body.setAttribute('data-images-shown', String(n)); });</script>"
)


def _figure(value: Optional[float], spread: Optional[float], digits: int, seeds: int) -> str:
    if value is None:
        return "-"
    text = f"{value:,.{digits}f}"
    return f"{text} ± {spread:,.{digits}f}" if seeds > 1 and spread is not None else text


def table_html(report: dict) -> str:
    """The results table: one row per model, each trained figure as mean ± standard deviation over seeds."""
    n_seeds = len(report.get("seeds", [0]))
    bands = list(report["bands"])
    head = ["model", "vocab", "OOV %", "tokens", *(COLUMN_NAMES[c] for c in COLUMNS), *(f"{b} bits" for b in bands)]
    rows = ["<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>"]
    for name, m in report["models"].items():
        spread = m.get("spread", {})
        cells = [name, f"{m['vocab_size']:,}", f"{100 * m['oov_rate']:.2f}", f"{m['n_tokens']:,}"]
        cells += [_figure(m[c], spread.get(c), 3 if c == "bpc" else 1, n_seeds) for c in COLUMNS]
        cells += [_figure(m["bands"][b]["bits_per_word"], spread.get("bands", {}).get(b), 2, n_seeds) for b in bands]
        rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    return '<div class="wide"><table id="results">\n' + "\n".join(rows) + "\n</table></div>"


def _settings(report: dict) -> str:
    lm = report["lm"]
    env = report.get("environment", {})
    blas = ", ".join(
        f"{b['library']} {b['version']} ({b['architecture']} kernels, {b['num_threads']} thread(s))"
        for b in env.get("blas", [])
    )
    seeds = report.get("seeds", [0])
    lines = [
        f"Corpus {report['corpus']}: {report['split']}; {report['train_words']:,} training words. "
        f"Test text: {report['n_words']:,} words (line ends included), {report['n_chars']:,} characters.",
        f"Vocabulary {report['vocab_size']:,} for every tokenizer; one {lm['cell'].upper()} language model per "
        f"model ({lm['hidden_size']} units, {lm['num_layers']} layer(s), {lm['epochs']} epochs, SGD lr {lm['lr']}"
        + (f" times {lm['lr_decay']} after each epoch" if lm.get("lr_decay", 1) != 1 else "")
        + f", clipping {lm['max_grad']}).",
        f"Seeds {', '.join(map(str, seeds))}: figures are the mean"
        + (" ± the standard deviation over seeds." if len(seeds) > 1 else " of one run."),
        f"numpy {env.get('numpy', '?')}, BLAS {blas or 'unknown'}; "
        + (
            f"BLAS pinned to {lm['blas_threads']} thread(s) while the models trained"
            if lm.get("blas_threads")
            else "BLAS threads left as the machine set them"
        )
        + f"; Python {env.get('python', '?')}.",
    ]
    return "\n".join(f"<p class=note>{html.escape(line)}</p>" for line in lines)


def _samples(report: dict) -> str:
    parts = []
    for k, sample in enumerate(report.get("samples", []), 1):
        parts.append(f"<h3>Sentence {k}</h3>\n<table class=samples>")
        for name, segs in sample["segmentations"].items():
            drawn = show.to_html([show.Segment(**s) for s in segs])
            parts.append(f'<tr><td class="label">{html.escape(name)}</td><td>{drawn}</td></tr>')
        parts.append("</table>")
    return "\n".join(parts)


def render(report: dict, png: Optional[bytes]) -> str:
    """The page for ``report`` (with the plot's PNG bytes, when there is a plot)."""
    body = [
        f"<h1>Word-level &lt;unk&gt; against subwords: {html.escape(str(report['corpus']))}</h1>",
        _settings(report),
        "<h2>Results</h2>",
        table_html(report),
        "<p class=note>word ppl and bpc put every model on the same test text and denominator (the &lt;unk&gt; "
        "model pays to spell each unknown word); token ppl is per model's own tokens and not comparable across "
        "models. Bits per word by band: words in the word model's vocabulary (frequent), seen in training but "
        "outside it (rare), never seen in training (unseen).</p>",
    ]
    if png is not None:
        data = base64.b64encode(png).decode("ascii")
        body += ["<h2>Plots</h2>", f'<img id="plot" alt="per-word perplexity by epoch and bits per word by band" '
                 f'src="data:image/png;base64,{data}">']  # fmt: skip
    if report.get("samples"):
        body += ["<h2>Test sentences, as each tokenizer cuts them</h2>", show.LEGEND, _samples(report)]
    body.append(_COUNT_IMAGES)
    return show.page(f"subtok compare: {report['corpus']}", "\n".join(body))


def write_page(report: dict, path: Path, png_path: Optional[Path]) -> None:
    """``render`` written to ``path`` atomically, the PNG at ``png_path`` (if any) embedded."""
    png = png_path.read_bytes() if png_path is not None and png_path.is_file() else None
    atomic_write_bytes(path, render(report, png).encode("utf-8"))
