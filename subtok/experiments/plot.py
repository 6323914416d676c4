"""The comparison's picture: validation per-word perplexity by epoch, and test surprisal by word band; with
several seeds the curves are means with the range over seeds shaded and the bars carry +-1 standard
deviation."""

from __future__ import annotations

import io
from pathlib import Path

from .._io import atomic_write_bytes

COLORS = {
    "word": "#d62728",
    "bpe": "#1f77b4",
    "wordpiece": "#2ca02c",
    "unigram": "#9467bd",
    "bpe-dropout": "#17becf",
    "unigram-sampling": "#e377c2",
    "bpe-jamo": "#8c564b",
    "unigram-jamo": "#bcbd22",
}


def plot_report(report: dict, path: Path) -> None:
    """Write a PNG with two panels; raises ImportError without matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    models = report["models"]
    fig, (curves, bars) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, m in models.items():
        epochs = [r["epoch"] for r in m["curve"]]
        curves.plot(epochs, [r["valid_word_ppl"] for r in m["curve"]], "o-", color=COLORS.get(name), label=name)
        runs = [[r["valid_word_ppl"] for r in run["curve"]] for run in m.get("per_seed", [])]
        if len(runs) > 1:
            lows, highs = (list(map(f, zip(*runs))) for f in (min, max))
            curves.fill_between(epochs, lows, highs, color=COLORS.get(name), alpha=0.2, linewidth=0)
    curves.xaxis.set_major_locator(MaxNLocator(integer=True))
    curves.set_xlabel("epoch")
    curves.set_ylabel("validation perplexity per word")
    curves.set_yscale("log")
    plain = FuncFormatter(lambda v, _: f"{v:,.0f}")
    curves.yaxis.set_major_formatter(plain)
    curves.yaxis.set_minor_formatter(plain)
    curves.set_title("Per-word perplexity (same text, same denominator)")
    curves.grid(alpha=0.3)

    bands = [b for b in report["bands"] if report["bands"][b]["words"]]
    width = 0.8 / max(len(models), 1)
    for k, (name, m) in enumerate(models.items()):
        xs = [i + (k - (len(models) - 1) / 2) * width for i in range(len(bands))]
        spread = [(m.get("spread", {}).get("bands", {}).get(b) or 0.0) for b in bands]
        bars.bar(
            xs,
            [m["bands"][b]["bits_per_word"] for b in bands],
            width,
            yerr=spread if any(spread) else None,
            capsize=2,
            color=COLORS.get(name),
            label=name,
        )
    bars.set_xticks(range(len(bands)))
    bars.set_xticklabels([f"{b}\n({report['bands'][b]['words']:,} words)" for b in bands])
    bars.set_ylabel("test surprisal, bits per word")
    bars.set_title("Where the bits go: words by training frequency")
    bars.grid(axis="y", alpha=0.3)
    seeds = report.get("seeds", [0])
    over = f", mean of {len(seeds)} seeds" if len(seeds) > 1 else ""
    fig.suptitle(f"{report['corpus']}: vocabulary {report['vocab_size']:,}, {report['lm']['epochs']} epochs each{over}")
    handles, labels = curves.get_legend_handles_labels()  # one legend for both panels, under them
    fig.legend(handles, labels, loc="lower center", ncol=min(len(models), 6), frameon=False)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
