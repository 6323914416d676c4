"""Time layers (the book's chapters 5-6): each processes a (batch, time, ...) array; the recurrent ones are
stateful across calls (truncated BPTT) until ``reset_state``. Work that does not depend on the previous
step (the input projections, the output layer) is done for all steps in one matrix product; only the
recurrence loops over time."""

from __future__ import annotations

import numpy as np

from .backend import index_add, xp_of


def _sigmoid(xp, x):
    return 1 / (1 + xp.exp(-x))


class TimeEmbedding:
    def __init__(self, W) -> None:
        self.params = [W]
        self.grads = [xp_of(W).zeros_like(W)]
        self.idx = None

    def forward(self, xs):
        self.idx = xs
        return self.params[0][xs]

    def backward(self, dout) -> None:
        dW = self.grads[0]
        dW[...] = 0
        index_add(dW, self.idx, dout)


class TimeAffine:
    def __init__(self, W, b) -> None:
        self.params = [W, b]
        self.grads = [xp_of(W).zeros_like(W), xp_of(b).zeros_like(b)]
        self.x = None

    def forward(self, x):
        N, T, D = x.shape
        W, b = self.params
        self.x = x
        return (x.reshape(N * T, D) @ W + b).reshape(N, T, -1)

    def backward(self, dout):
        N, T, D = self.x.shape
        W, _ = self.params
        dout2 = dout.reshape(N * T, -1)
        self.grads[0][...] = self.x.reshape(N * T, D).T @ dout2
        self.grads[1][...] = dout2.sum(axis=0)
        return (dout2 @ W.T).reshape(N, T, D)


class TimeSoftmaxWithLoss:
    """Mean cross-entropy over all (batch, time) positions whose label is not ``ignore_label``."""

    def __init__(self, ignore_label: int = -1) -> None:
        self.params, self.grads = [], []
        self.ignore_label = ignore_label
        self.cache = None

    def forward(self, xs, ts) -> float:
        xp = xp_of(xs)
        N, T, V = xs.shape
        x = xs.reshape(N * T, V)
        t = ts.reshape(N * T)
        mask = t != self.ignore_label
        t_safe = xp.where(mask, t, 0)
        rows = xp.arange(N * T)
        p = x - x.max(axis=1, keepdims=True)
        target = p[rows, t_safe]  # the target's shifted score, before p turns into probabilities in place
        xp.exp(p, out=p)
        z = p.sum(axis=1)
        p /= z[:, None]  # the softmax, kept for backward
        nll = (xp.log(z) - target) * mask
        count = max(int(mask.sum()), 1)
        self.cache = (t_safe, p, mask, count, (N, T, V))
        return float(nll.sum() / count)

    def backward(self, dout: float = 1.0):
        xp = xp_of(self.cache[1])
        t, dx, mask, count, (N, T, V) = self.cache
        self.cache = None  # the probabilities become the gradient in place
        dx[xp.arange(N * T), t] -= 1
        dx *= ((dout / count) * mask[:, None]).astype(dx.dtype)
        return dx.reshape(N, T, V)


class TimeDropout:
    """Inverted dropout: at training time keep each unit with probability 1 - ratio and scale by 1/(1 - ratio)."""

    def __init__(self, ratio: float = 0.5, rng=None) -> None:
        self.params, self.grads = [], []
        self.ratio = ratio
        self.train_flg = True
        self.mask = None
        self.rng = rng

    def forward(self, xs):
        if not self.train_flg or self.ratio == 0:
            self.mask = None
            return xs
        xp = xp_of(xs)
        keep = 1.0 - self.ratio
        rand = self.rng.random(xs.shape, dtype=xs.dtype) if self.rng is not None else xp.random.rand(*xs.shape)
        self.mask = (rand < keep).astype(xs.dtype) / xs.dtype.type(keep)
        return xs * self.mask

    def backward(self, dout):
        return dout if self.mask is None else dout * self.mask


class _TimeRecurrent:
    """Shared by TimeRNN, TimeLSTM and TimeGRU: the state kept between calls and the input projection."""

    n_gates = 1

    def __init__(self, Wx, Wh, b, stateful: bool = False) -> None:
        xp = xp_of(Wx)
        self.params = [Wx, Wh, b]
        self.grads = [xp.zeros_like(Wx), xp.zeros_like(Wh), xp.zeros_like(b)]
        self.stateful = stateful
        self.h = None
        self.dh = None

    def reset_state(self) -> None:
        self.h = None

    def set_state(self, h, c=None) -> None:
        """The recurrent state to start the next call from (the book's signature; ``c`` is the LSTM's)."""
        self.h = h

    def _start(self, xs):
        xp = xp_of(xs)
        N, T, D = xs.shape
        Wx, Wh, b = self.params
        H = Wh.shape[0]
        if not self.stateful or self.h is None:
            self.h = xp.zeros((N, H), dtype=xs.dtype)
        return xp, N, T, D, H, (xs.reshape(N * T, D) @ Wx + b).reshape(N, T, -1)

    def _finish_backward(self, dA_all):
        """Weight gradients from all steps' pre-activation gradients at once; returns dxs."""
        N, T, G = dA_all.shape
        Wx, Wh, b = self.params
        dA2 = dA_all.reshape(N * T, G)
        self.grads[0][...] = self.xs.reshape(N * T, -1).T @ dA2
        self.grads[1][...] = self.hs_prev.reshape(N * T, -1).T @ dA2
        self.grads[2][...] = dA2.sum(axis=0)
        return (dA2 @ Wx.T).reshape(N, T, -1)


class TimeRNN(_TimeRecurrent):
    """h_t = tanh(x_t Wx + h_{t-1} Wh + b)."""

    def forward(self, xs):
        xp, N, T, D, H, xW = self._start(xs)
        Wh = self.params[1]
        hs = xp.empty((N, T, H), dtype=xs.dtype)
        hs_prev = xp.empty_like(hs)
        h = self.h
        for t in range(T):
            hs_prev[:, t] = h
            h = xp.tanh(xW[:, t] + h @ Wh)
            hs[:, t] = h
        self.h, self.xs, self.hs, self.hs_prev = h, xs, hs, hs_prev
        return hs

    def backward(self, dhs):
        xp = xp_of(dhs)
        N, T, H = dhs.shape
        Wh = self.params[1]
        dA_all = xp.empty((N, T, H), dtype=dhs.dtype)
        dh = xp.zeros((N, H), dtype=dhs.dtype)
        for t in reversed(range(T)):
            dA = (dhs[:, t] + dh) * (1 - self.hs[:, t] ** 2)
            dA_all[:, t] = dA
            dh = dA @ Wh.T
        self.dh = dh
        return self._finish_backward(dA_all)


class TimeLSTM(_TimeRecurrent):
    """The book's LSTM: gates in the order f, g, i, o along the 4H columns (so the book's weights load)."""

    n_gates = 4

    def __init__(self, Wx, Wh, b, stateful: bool = False) -> None:
        super().__init__(Wx, Wh, b, stateful)
        self.c = None
        self.dc = None

    def reset_state(self) -> None:
        self.h = self.c = None

    def set_state(self, h, c=None) -> None:
        self.h, self.c = h, c

    def forward(self, xs):
        if xp_of(xs) is not np:
            return self._forward_fused(xs)
        xp, N, T, D, H, xW = self._start(xs)
        Wh = self.params[1]
        if not self.stateful or self.c is None:
            self.c = xp.zeros((N, H), dtype=xs.dtype)
        hs = xp.empty((N, T, H), dtype=xs.dtype)
        hs_prev = xp.empty_like(hs)
        cs = xp.empty((N, T + 1, H), dtype=xs.dtype)  # cs[:, t] is the state before step t
        gates = xp.empty((N, T, 4 * H), dtype=xs.dtype)
        h, c = self.h, self.c
        cs[:, 0] = c
        for t in range(T):
            hs_prev[:, t] = h
            A = xW[:, t] + h @ Wh
            f = _sigmoid(xp, A[:, :H])
            g = xp.tanh(A[:, H : 2 * H])
            i = _sigmoid(xp, A[:, 2 * H : 3 * H])
            o = _sigmoid(xp, A[:, 3 * H :])
            c = f * c + g * i
            h = o * xp.tanh(c)
            gates[:, t, :H], gates[:, t, H : 2 * H], gates[:, t, 2 * H : 3 * H], gates[:, t, 3 * H :] = f, g, i, o
            cs[:, t + 1] = c
            hs[:, t] = h
        self.h, self.c = h, c
        self.xs, self.hs_prev, self.cs, self.gates = xs, hs_prev, cs, gates
        return hs

    def backward(self, dhs):
        if xp_of(dhs) is not np:
            return self._backward_fused(dhs)
        xp = xp_of(dhs)
        N, T, H = dhs.shape
        Wh = self.params[1]
        dA_all = xp.empty((N, T, 4 * H), dtype=dhs.dtype)
        dh = xp.zeros((N, H), dtype=dhs.dtype)
        dc = xp.zeros((N, H), dtype=dhs.dtype)
        for t in reversed(range(T)):
            G = self.gates[:, t]
            f, g, i, o = G[:, :H], G[:, H : 2 * H], G[:, 2 * H : 3 * H], G[:, 3 * H :]
            c_prev, c = self.cs[:, t], self.cs[:, t + 1]
            tanh_c = xp.tanh(c)
            dh_t = dhs[:, t] + dh
            ds = dc + dh_t * o * (1 - tanh_c**2)
            dA = dA_all[:, t]
            dA[:, :H] = ds * c_prev * f * (1 - f)
            dA[:, H : 2 * H] = ds * i * (1 - g**2)
            dA[:, 2 * H : 3 * H] = ds * g * i * (1 - i)
            dA[:, 3 * H :] = dh_t * tanh_c * o * (1 - o)
            dc = ds * f
            dh = dA @ Wh.T
        self.dh, self.dc = dh, dc
        return self._finish_backward(dA_all)

    # -- on a GPU: the same arithmetic, one fused elementwise kernel per time step (time-major buffers) ---
    def _forward_fused(self, xs):
        xp = xp_of(xs)
        N, T, D = xs.shape
        Wx, Wh, b = self.params
        H = Wh.shape[0]
        if not self.stateful or self.h is None:
            self.h = xp.zeros((N, H), dtype=xs.dtype)
        if not self.stateful or self.c is None:
            self.c = xp.zeros((N, H), dtype=xs.dtype)
        xs_tm = xp.ascontiguousarray(xs.transpose(1, 0, 2))
        xW = (xs_tm.reshape(T * N, D) @ Wx + b).reshape(T, N, 4 * H)
        hs = xp.empty((T + 1, N, H), dtype=xs.dtype)  # hs[t] is the state before step t
        cs = xp.empty((T + 1, N, H), dtype=xs.dtype)
        gates = xp.empty((T, N, 4 * H), dtype=xs.dtype)
        hs[0], cs[0] = self.h, self.c
        step = _cupy_kernels()[0]
        for t in range(T):
            step(xW[t], hs[t] @ Wh, cs[t], H, cs[t + 1], hs[t + 1], gates[t])
        self.h, self.c = hs[T].copy(), cs[T].copy()
        self.fused = (xs_tm, hs, cs, gates)
        return xp.ascontiguousarray(hs[1:].transpose(1, 0, 2))

    def _backward_fused(self, dhs):
        xp = xp_of(dhs)
        N, T, H = dhs.shape
        Wx, Wh, _ = self.params
        xs_tm, hs, cs, gates = self.fused
        dhs_tm = xp.ascontiguousarray(dhs.transpose(1, 0, 2))
        dA = xp.empty((T, N, 4 * H), dtype=dhs.dtype)
        dh = xp.zeros((N, H), dtype=dhs.dtype)
        dc = xp.zeros((N, H), dtype=dhs.dtype)
        step = _cupy_kernels()[1]
        for t in reversed(range(T)):
            dc_prev = xp.empty_like(dc)
            step(gates[t], cs[t], cs[t + 1], dhs_tm[t] + dh, dc, H, dc_prev, dA[t])
            dh, dc = dA[t] @ Wh.T, dc_prev
        self.dh, self.dc = dh, dc
        dA2 = dA.reshape(T * N, 4 * H)
        self.grads[0][...] = xs_tm.reshape(T * N, -1).T @ dA2
        self.grads[1][...] = hs[:T].reshape(T * N, H).T @ dA2
        self.grads[2][...] = dA2.sum(axis=0)
        return xp.ascontiguousarray((dA2 @ Wx.T).reshape(T, N, -1).transpose(1, 0, 2))


_KERNELS: list = []


def _cupy_kernels():
    """The LSTM step kernels (forward, backward), built once: gates f, g, i, o as in the numpy code."""
    if not _KERNELS:
        import cupy

        _KERNELS.append(
            cupy.ElementwiseKernel(
                "raw T xw, raw T hw, T c_prev, int32 H",
                "T c_next, T h_next, raw T gates",
                """
            int n = i / H, j = i % H, base = n * 4 * H;
            T f = 1 / (1 + exp(-(xw[base + j] + hw[base + j])));
            T g = tanh(xw[base + H + j] + hw[base + H + j]);
            T in = 1 / (1 + exp(-(xw[base + 2 * H + j] + hw[base + 2 * H + j])));
            T o = 1 / (1 + exp(-(xw[base + 3 * H + j] + hw[base + 3 * H + j])));
            c_next = f * c_prev + g * in;
            h_next = o * tanh(c_next);
            gates[base + j] = f; gates[base + H + j] = g; gates[base + 2 * H + j] = in; gates[base + 3 * H + j] = o;
            """,
                "subtok_lstm_forward_step",
            )
        )
        _KERNELS.append(
            cupy.ElementwiseKernel(
                "raw T gates, T c_prev, T c, T dh, T dc, int32 H",
                "T dc_prev, raw T dA",
                """
            int n = i / H, j = i % H, base = n * 4 * H;
            T f = gates[base + j], g = gates[base + H + j], in = gates[base + 2 * H + j], o = gates[base + 3 * H + j];
            T tc = tanh(c);
            T ds = dc + dh * o * (1 - tc * tc);
            dA[base + j] = ds * c_prev * f * (1 - f);
            dA[base + H + j] = ds * in * (1 - g * g);
            dA[base + 2 * H + j] = ds * g * in * (1 - in);
            dA[base + 3 * H + j] = dh * tc * o * (1 - o);
            dc_prev = ds * f;
            """,
                "subtok_lstm_backward_step",
            )
        )
    return _KERNELS


class TimeGRU(_TimeRecurrent):
    """GRU with gates in the order z (update), r (reset), h (candidate) along the 3H columns:
    h_t = (1 - z) h_{t-1} + z tanh(x Wx_h + (r h_{t-1}) Wh_h + b_h)."""

    n_gates = 3

    def forward(self, xs):
        xp, N, T, D, H, xW = self._start(xs)
        Wh = self.params[1]
        hs = xp.empty((N, T, H), dtype=xs.dtype)
        hs_prev = xp.empty_like(hs)
        gates = xp.empty((N, T, 3 * H), dtype=xs.dtype)
        h = self.h
        for t in range(T):
            hs_prev[:, t] = h
            zr = _sigmoid(xp, xW[:, t, : 2 * H] + h @ Wh[:, : 2 * H])
            z, r = zr[:, :H], zr[:, H:]
            cand = xp.tanh(xW[:, t, 2 * H :] + (r * h) @ Wh[:, 2 * H :])
            h = (1 - z) * h + z * cand
            gates[:, t, :H], gates[:, t, H : 2 * H], gates[:, t, 2 * H :] = z, r, cand
            hs[:, t] = h
        self.h, self.xs, self.hs_prev, self.gates = h, xs, hs_prev, gates
        return hs

    def backward(self, dhs):
        xp = xp_of(dhs)
        N, T, H = dhs.shape
        Wh = self.params[1]
        dA_all = xp.empty((N, T, 3 * H), dtype=dhs.dtype)
        dh = xp.zeros((N, H), dtype=dhs.dtype)
        extra_dWh = xp.zeros_like(Wh)  # the candidate's recurrent weights see r * h, not h
        for t in reversed(range(T)):
            G = self.gates[:, t]
            z, r, cand = G[:, :H], G[:, H : 2 * H], G[:, 2 * H :]
            h_prev = self.hs_prev[:, t]
            dh_t = dhs[:, t] + dh
            dcand = dh_t * z * (1 - cand**2)
            dz = dh_t * (cand - h_prev) * z * (1 - z)
            drh = dcand @ Wh[:, 2 * H :].T
            dr = drh * h_prev * r * (1 - r)
            dA = dA_all[:, t]
            dA[:, :H], dA[:, H : 2 * H], dA[:, 2 * H :] = dz, dr, dcand
            extra_dWh[:, 2 * H :] += (r * h_prev).T @ dcand
            dh = dh_t * (1 - z) + drh * r + dA[:, : 2 * H] @ Wh[:, : 2 * H].T
        self.dh = dh
        dxs = self._finish_backward(dA_all)
        self.grads[1][:, 2 * H :] = extra_dWh[:, 2 * H :]  # replace: those columns never saw h directly
        return dxs
