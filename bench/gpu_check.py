"""On a GPU: the CuPy LSTM path (fused step kernels) against the numpy path, float64, same weights and
inputs; then bench/gpu_lm.py's timing and training. Usage: python bench/gpu_check.py PTB_DIR TRAIN_S TORCH_S OUT"""

import os
import sys

import cupy
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from subtok.nn.time_layers import TimeLSTM  # noqa: E402

rng = np.random.default_rng(0)
N, T, D, H = 3, 7, 5, 6
Wx, Wh, b = rng.standard_normal((D, 4 * H)), rng.standard_normal((H, 4 * H)), rng.standard_normal(4 * H)
xs, dhs = rng.standard_normal((N, T, D)), rng.standard_normal((N, T, H))
cpu = TimeLSTM(Wx.copy(), Wh.copy(), b.copy(), stateful=True)
gpu = TimeLSTM(cupy.asarray(Wx), cupy.asarray(Wh), cupy.asarray(b), stateful=True)
for _ in range(2):  # the second call starts from the carried state
    hc, hg = cpu.forward(xs), gpu.forward(cupy.asarray(xs))
    dc, dg = cpu.backward(dhs), gpu.backward(cupy.asarray(dhs))
    ok = np.allclose(hc, hg.get()) and np.allclose(dc, dg.get())
    ok = ok and all(np.allclose(a, c.get()) for a, c in zip(cpu.grads, gpu.grads))
    print("fused CuPy LSTM equals numpy:", ok, flush=True)
    if not ok:
        sys.exit(1)

sys.argv = ["gpu_lm.py"] + sys.argv[1:]
import gpu_lm  # noqa: E402

gpu_lm.main()
