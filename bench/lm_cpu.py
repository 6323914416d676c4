"""RNN language models on the CPU: seconds per training iteration against PyTorch's CPU LSTM of the same
size (same run), and a full training run of the book's Rnnlm configuration on PTB.

Usage: python bench/lm_cpu.py [--epochs 4] [--skip-training]
Iterations: batch 20, 35 steps, V = 10,000, SGD with clipping; the Rnnlm shape (1 x LSTM 100/100) and the
BetterRnnlm shape (2 x LSTM 650/650, tied, without dropout). Training: Rnnlm, 4 epochs, lr 20, clip 0.25,
lr / 4 on a validation plateau, then test perplexity (batch 10, 35 steps).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from common import machine, print_table, require_data  # noqa: E402

from subtok.lm import RNNLM, LMTrainer  # noqa: E402

SHAPES = {
    "Rnnlm (1 x 100)": dict(wordvec_size=100, hidden_size=100, num_layers=1),
    "BetterRnnlm (2 x 650, tied)": dict(wordvec_size=650, hidden_size=650, num_layers=2, tie_weights=True),
}


def subtok_ms(cfg: dict, ids: np.ndarray, iters: int) -> float:
    trainer = LMTrainer(RNNLM(10000, **cfg), lr=20.0, show_progress=False)
    trainer.fit(ids, epochs=1, batch_size=20, time_size=35, max_iters=2)  # warm-up
    trainer.history.clear()
    trainer.fit(ids, epochs=1, batch_size=20, time_size=35, max_iters=iters)
    return trainer.history[-1]["ms_per_iter"]


def torch_ms(cfg: dict, ids: np.ndarray, iters: int) -> float:
    import torch

    V, D, H, L = 10000, cfg["wordvec_size"], cfg["hidden_size"], cfg["num_layers"]
    emb, rnn, out = torch.nn.Embedding(V, D), torch.nn.LSTM(D, H, L, batch_first=True), torch.nn.Linear(H, V)
    if cfg.get("tie_weights"):
        out.weight = emb.weight
    params = list(emb.parameters()) + list(rnn.parameters()) + list(out.parameters())
    opt = torch.optim.SGD(params, lr=20)
    data = torch.tensor(ids[: 20 * (len(ids) // 20)]).view(20, -1)
    h, times = None, []
    for i in range(iters + 2):
        x, y = data[:, i * 35 : (i + 1) * 35], data[:, i * 35 + 1 : (i + 1) * 35 + 1]
        t = time.perf_counter()
        o, h = rnn(emb(x), h)
        h = tuple(s.detach() for s in h)
        loss = torch.nn.functional.cross_entropy(out(o).reshape(-1, V), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 0.25)
        opt.step()
        times.append(time.perf_counter() - t)
    return 1000 * float(np.mean(times[2:]))


def load(data_dir):
    w2i: dict = {}
    return {
        s: np.array(
            [
                w2i.setdefault(w, len(w2i))
                for w in (data_dir / "ptb" / f"ptb.{s}.txt").read_text().replace("\n", " <eos> ").split()
            ]
        )
        for s in ("train", "valid", "test")
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--skip-training", action="store_true")
    ap.add_argument("--skip-timing", action="store_true")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0], help="one training run per seed")
    args = ap.parse_args()
    data = load(require_data())
    try:
        import torch

        torch_version = f"{torch.__version__}, {torch.get_num_threads()} threads"
    except ImportError:
        torch_version = None
    print(f"machine: {machine()}; PyTorch: {torch_version or 'not installed (pip install torch==2.13.0)'}\n")
    if not args.skip_timing:
        rows = []
        for name, cfg in SHAPES.items():
            ours = subtok_ms(cfg, data["train"], args.iters)
            theirs = torch_ms(cfg, data["train"], args.iters) if torch_version else float("nan")
            rows.append([name, f"{ours:.0f}", f"{theirs:.0f}", f"{ours / theirs:.2f}x"])
            print_table(rows[-1:], ["model", "subtok ms/iter", "PyTorch ms/iter", "time / PyTorch"])
        print()
        print_table(rows, ["model", "subtok ms/iter", "PyTorch ms/iter", "time / PyTorch"])
    if args.skip_training:
        return
    test_ppl = {}
    for seed in args.seeds:
        model = RNNLM(10000, 100, 100, seed=seed)
        trainer = LMTrainer(model, lr=20.0, max_grad=0.25, show_progress=False)
        t = time.perf_counter()
        for record in trainer.fit(data["train"], data["valid"], epochs=args.epochs, batch_size=20, time_size=35):
            print({k: round(v, 2) for k, v in record.items()})
        test_ppl[seed] = model.perplexity(data["test"], batch_size=10, time_size=35)
        print(
            f"\nRnnlm, seed {seed}, {args.epochs} epochs in {time.perf_counter() - t:.0f} s; test perplexity "
            f"{test_ppl[seed]:.2f} (the book: 136 with its weights)"
        )
    if len(test_ppl) > 1:
        values = list(test_ppl.values())
        print(
            f"\ntest perplexity over seeds {list(test_ppl)}: mean {sum(values) / len(values):.2f}, "
            f"min {min(values):.2f}, max {max(values):.2f}"
        )


if __name__ == "__main__":
    main()
