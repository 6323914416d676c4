"""BetterRnnlm on PTB on an NVIDIA GPU: subtok's CuPy backend against PyTorch's cuDNN LSTM, same run.

Usage: python bench/gpu_lm.py PTB_DIR TRAIN_SECONDS TORCH_SECONDS [OUT_JSON]
2 x 650 LSTM, dropout 0.5, tied weights, batch 20, 35 steps, SGD lr 20, clip 0.25, lr / 4 when validation
perplexity does not improve. Times PyTorch's cuDNN LSTM of the same size for TORCH_SECONDS, then trains
subtok's model for as many whole epochs as TRAIN_SECONDS allow (ms per iteration and validation
perplexity per epoch). Results go to OUT_JSON after every step.
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from subtok.lm import RNNLM, LMTrainer  # noqa: E402

V, H, B, T = 10000, 650, 20, 35


def load(ptb_dir: str):
    w2i: dict = {}
    out = {}
    for split in ("train", "valid", "test"):
        words = open(os.path.join(ptb_dir, f"ptb.{split}.txt"), encoding="utf-8").read().replace("\n", " <eos> ")
        out[split] = np.array([w2i.setdefault(w, len(w2i)) for w in words.split()], dtype=np.int64)
    return out


def torch_timing(train: np.ndarray, seconds: float) -> dict:
    import torch

    dev = "cuda"

    class LM(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Embedding(V, H)
            self.drop = torch.nn.Dropout(0.5)
            self.rnn = torch.nn.LSTM(H, H, 2, dropout=0.5, batch_first=True)
            self.out = torch.nn.Linear(H, V)
            self.out.weight = self.emb.weight

        def forward(self, x, h):
            y, h = self.rnn(self.drop(self.emb(x)), h)
            return self.out(self.drop(y)), h

    torch.manual_seed(0)
    model = LM().to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=20)
    n = (len(train) - 1) // B
    data = torch.tensor(train[: n * B + 1])
    xs, ys = data[:-1].view(B, n).to(dev), data[1:].view(B, n).to(dev)
    h, times, start = None, [], time.perf_counter()
    for i in range(0, n - T, T):
        torch.cuda.synchronize()
        t = time.perf_counter()
        out, h = model(xs[:, i : i + T], h)
        h = tuple(x.detach() for x in h)
        loss = torch.nn.functional.cross_entropy(out.reshape(-1, V), ys[:, i : i + T].reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        opt.step()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
        if time.perf_counter() - start > seconds:
            break
    return {
        "torch": torch.__version__,
        "device": torch.cuda.get_device_name(0),
        "cudnn_ms_per_iter_median": 1000 * float(np.median(times[5:])),
        "iters": len(times),
    }


def main() -> None:
    ptb_dir, train_seconds, torch_seconds = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    out_path = sys.argv[4] if len(sys.argv) > 4 else None
    report: dict = {"epochs": []}

    def save() -> None:  # after every step, so a run cut short still reports what it did
        print(json.dumps({k: v for k, v in report.items() if k != "epochs"}), flush=True)
        if out_path:
            with open(out_path, "w") as f:
                json.dump(report, f, indent=1)

    data = load(ptb_dir)
    report["torch"] = torch_timing(data["train"], torch_seconds)
    save()
    probe = LMTrainer(
        RNNLM(V, H, H, num_layers=2, dropout=0.5, tie_weights=True, backend="cupy", seed=1),
        lr=20.0,
        show_progress=False,
    )
    probe.fit(data["train"], epochs=1, batch_size=B, time_size=T, max_iters=40)  # includes CuPy's kernel builds
    probe.history.clear()
    probe.fit(data["train"], epochs=1, batch_size=B, time_size=T, max_iters=40)
    report["subtok_ms_per_iter_probe"] = probe.history[-1]["ms_per_iter"]
    report["ratio_subtok_to_cudnn"] = report["subtok_ms_per_iter_probe"] / report["torch"]["cudnn_ms_per_iter_median"]
    save()
    model = RNNLM(V, H, H, num_layers=2, dropout=0.5, tie_weights=True, backend="cupy", seed=0)
    trainer = LMTrainer(model, lr=20.0, max_grad=0.25, show_progress=False)
    iters = (len(data["train"]) - 1) // B // T
    estimate = report["subtok_ms_per_iter_probe"] * iters / 1000 * 1.1 + 10  # an epoch and its validation
    start = time.perf_counter()
    while time.perf_counter() - start + estimate <= train_seconds:
        t = time.perf_counter()
        trainer.fit(data["train"], data["valid"], epochs=len(trainer.history) + 1, batch_size=B, time_size=T)
        estimate = time.perf_counter() - t
        report["epochs"].append(trainer.history[-1])
        report["subtok_ms_per_iter"] = float(np.median([e["ms_per_iter"] for e in report["epochs"]]))
        report["ratio_subtok_to_cudnn"] = report["subtok_ms_per_iter"] / report["torch"]["cudnn_ms_per_iter_median"]
        print(json.dumps(trainer.history[-1]), flush=True)
        save()


if __name__ == "__main__":
    main()
