"""RNN language models (the book's chapters 5-6): the book's Rnnlm and BetterRnnlm as one configurable
class, perplexity as the book measures it, and a trainer with truncated backpropagation through time.

``RNNLM`` stacks TimeEmbedding -> (TimeDropout -> recurrent layer) x num_layers -> TimeDropout ->
TimeAffine -> TimeSoftmaxWithLoss; ``tie_weights`` shares the embedding with the output layer (its
transpose). It runs on numpy or, with ``backend="cupy"``, on an NVIDIA GPU (same code).
"""

from __future__ import annotations

import ast
import io
import json
import math
import os
import time
from typing import Optional

import numpy as np

from ._io import PathLike, atomic_write_bytes, read_npz
from .errors import FileFormatError, SubtokError
from .nn.backend import get_xp, to_numpy
from .nn.optim import SGD, Adam
from .nn.threads import DEFAULT_BLAS_THREADS, check_blas_threads, pinned_blas_threads
from .nn.time_layers import TimeAffine, TimeDropout, TimeEmbedding, TimeGRU, TimeLSTM, TimeRNN, TimeSoftmaxWithLoss
from .progress import progress_bar

CELLS = {"rnn": TimeRNN, "lstm": TimeLSTM, "gru": TimeGRU}


def _check_config(config: dict, arrays: list, source: str) -> None:
    """The sizes a saved model's config asks for, checked against the weights the file holds before any is
    allocated (a config claiming enormous layers must not allocate them): the embedding is the first
    array, (vocab_size, wordvec_size); every layer's width is at most the largest dimension in the file."""
    sizes = ("vocab_size", "wordvec_size", "hidden_size", "num_layers")
    if not arrays or any(type(config.get(k)) is not int for k in sizes):
        raise FileFormatError(f"{source}: the config must give {', '.join(sizes)} as integers, and weights")
    largest = max(max(a.shape, default=0) for a in arrays)
    if arrays[0].shape != (config["vocab_size"], config["wordvec_size"]) or not (
        0 < config["hidden_size"] <= largest and 0 < config["num_layers"] <= len(arrays)
    ):
        raise FileFormatError(f"{source}: the config's sizes do not match the weights the file holds")


class RNNLM:
    def __init__(
        self,
        vocab_size: int,
        wordvec_size: int = 100,
        hidden_size: int = 100,
        num_layers: int = 1,
        cell: str = "lstm",
        dropout: float = 0.0,
        tie_weights: bool = False,
        backend: str = "numpy",
        seed: int = 0,
        dtype=np.float32,
    ) -> None:
        if cell not in CELLS:
            raise SubtokError(f"cell must be one of {sorted(CELLS)}, not {cell!r}")
        if tie_weights and wordvec_size != hidden_size:
            raise SubtokError("tie_weights needs wordvec_size == hidden_size")
        if vocab_size < 2 or num_layers < 1 or not 0 <= dropout < 1:
            raise SubtokError("vocab_size >= 2, num_layers >= 1 and 0 <= dropout < 1 are needed")
        self.config = dict(
            vocab_size=vocab_size,
            wordvec_size=wordvec_size,
            hidden_size=hidden_size,
            num_layers=num_layers,
            cell=cell,
            dropout=dropout,
            tie_weights=tie_weights,
            seed=seed,
        )
        self.backend = backend
        self.xp = xp = get_xp(backend)
        rng = np.random.default_rng(seed)
        V, D, H = vocab_size, wordvec_size, hidden_size
        layer_cls = CELLS[cell]
        gates = layer_cls.n_gates

        def init(shape, scale):  # the book's initialisation, made on the CPU then moved
            return xp.asarray((rng.standard_normal(shape) * scale).astype(dtype))

        self.embed = TimeEmbedding(init((V, D), 0.01))
        self.rnns, self.dropouts = [], []
        dropout_rng = xp.random.default_rng(seed + 1) if hasattr(xp.random, "default_rng") else None
        for k in range(num_layers):
            d_in = D if k == 0 else H
            self.rnns.append(
                layer_cls(
                    init((d_in, gates * H), 1 / math.sqrt(d_in)),
                    init((H, gates * H), 1 / math.sqrt(H)),
                    xp.zeros(gates * H, dtype=dtype),
                    stateful=True,
                )
            )
            self.dropouts.append(TimeDropout(dropout, dropout_rng))
        self.dropouts.append(TimeDropout(dropout, dropout_rng))
        affine_W = self.embed.params[0].T if tie_weights else init((H, V), 1 / math.sqrt(H))
        self.affine = TimeAffine(affine_W, xp.zeros(V, dtype=dtype))
        self.loss_layer = TimeSoftmaxWithLoss()
        self.layers = [self.embed]
        for drop, rnn in zip(self.dropouts, self.rnns):
            self.layers += [drop, rnn]
        self.layers += [self.dropouts[-1], self.affine]

    # -- the book's model protocol ------------------------------------------------------------------
    @property
    def params(self) -> list:
        out = []
        for layer in self.layers:
            out += [
                p
                for p in layer.params
                if not (self.config["tie_weights"] and layer is self.affine and p is layer.params[0])
            ]
        return out

    @property
    def grads(self) -> list:
        out = []
        for layer in self.layers:
            if self.config["tie_weights"] and layer is self.affine:
                out.append(layer.grads[1])
            else:
                out += layer.grads
        return out

    def _check_ids(self, ids):
        if ids.size and (int(ids.min()) < 0 or int(ids.max()) >= self.config["vocab_size"]):
            bad = int(ids[(ids < 0) | (ids >= self.config["vocab_size"])].ravel()[0])
            raise SubtokError(f"id {bad} is outside the vocabulary of size {self.config['vocab_size']}")

    def predict(self, xs, train_flg: bool = False):
        for drop in self.dropouts:
            drop.train_flg = train_flg
        x = xs
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def forward(self, xs, ts, train_flg: bool = True) -> float:
        xs, ts = self.xp.asarray(xs), self.xp.asarray(ts)
        return self.loss_layer.forward(self.predict(xs, train_flg), ts)

    def backward(self, dout: float = 1.0):
        d = self.loss_layer.backward(dout)
        for layer in reversed(self.layers):
            d = layer.backward(d)
        if self.config["tie_weights"]:  # the output layer's W is the embedding's transpose: add its gradient
            self.embed.grads[0] += self.affine.grads[0].T
        return d

    def reset_state(self) -> None:
        for rnn in self.rnns:
            rnn.reset_state()

    # -- evaluation -----------------------------------------------------------------------------------
    def perplexity(self, ids, batch_size: int = 10, time_size: int = 35) -> float:
        """exp(mean cross-entropy), as the book's eval_perplexity: ``batch_size`` streams over the ids,
        ``time_size`` steps at a time, the state carried from one batch to the next."""
        ids = np.asarray(ids)
        self._check_ids(ids)
        n = len(ids)
        iters = (n - 1) // (batch_size * time_size)
        if iters < 1:
            raise SubtokError(f"{n} ids are fewer than one batch of {batch_size} x {time_size} (+1)")
        jump = (n - 1) // batch_size
        starts = np.arange(batch_size) * jump
        saved = self._get_state()  # evaluation starts fresh and leaves the caller's state as it was
        self.reset_state()
        total = 0.0
        for it in range(iters):
            pos = starts[:, None] + it * time_size + np.arange(time_size)[None, :]
            total += self.forward(ids[pos % n], ids[(pos + 1) % n], train_flg=False)
        self._set_state(saved)
        return float(math.exp(total / iters))

    def token_nll(self, ids, start_id: int, batch_size: int = 20, time_size: int = 35) -> np.ndarray:
        """The negative log-likelihood in nats of every token, -log p(ids[t] | start_id, ids[:t]), each
        scored exactly once (``perplexity`` drops the tail and wraps around; this is what comparisons of
        whole texts need). The ids are cut into ``batch_size`` contiguous rows run side by side; each row
        starts from a fresh state, so its first tokens see only the token before them."""
        ids = np.asarray(ids, dtype=np.int64)
        self._check_ids(ids)
        self._check_ids(np.asarray([start_id]))
        n = len(ids)
        if n == 0:
            return np.zeros(0)
        rows = min(batch_size, n)
        width = -(-n // rows)
        pad = rows * width - n
        inputs = np.concatenate([[start_id], ids[:-1], np.zeros(pad, np.int64)]).reshape(rows, width)
        targets = np.concatenate([ids, np.zeros(pad, np.int64)]).reshape(rows, width)
        nll = np.empty((rows, width))
        saved = self._get_state()
        self.reset_state()
        for s in range(0, width, time_size):
            scores = to_numpy(self.predict(self.xp.asarray(inputs[:, s : s + time_size]))).astype(np.float64)
            top = scores.max(axis=2, keepdims=True)
            log_z = np.log(np.exp(scores - top).sum(axis=2)) + top[..., 0]
            t = targets[:, s : s + time_size]
            nll[:, s : s + time_size] = log_z - np.take_along_axis(scores, t[..., None], axis=2)[..., 0]
        self._set_state(saved)
        return nll.reshape(-1)[:n]

    def _get_state(self) -> list:
        return [(rnn.h, getattr(rnn, "c", None)) for rnn in self.rnns]

    def _set_state(self, state: list) -> None:
        for rnn, (h, c) in zip(self.rnns, state):
            rnn.set_state(h, c)

    def generate(self, start_ids, length: int, temperature: float = 1.0, seed: Optional[int] = None) -> list[int]:
        """Sample ``length`` ids after ``start_ids`` (softmax with ``temperature``)."""
        rng = np.random.default_rng(seed)
        self.reset_state()
        out = list(start_ids)
        logits = None
        for i in out:
            logits = to_numpy(self.predict(self.xp.asarray([[i]]), train_flg=False))[0, -1]
        for _ in range(length):
            z = logits.astype(np.float64) / max(temperature, 1e-8)
            p = np.exp(z - z.max())
            nxt = int(rng.choice(len(p), p=p / p.sum()))
            out.append(nxt)
            logits = to_numpy(self.predict(self.xp.asarray([[nxt]]), train_flg=False))[0, -1]
        self.reset_state()
        return out

    # -- weights ----------------------------------------------------------------------------------------
    def load_book_params(self, path: PathLike) -> RNNLM:
        """The book's Rnnlm weights (rnnlm_params.npz: embed_W, lstm_Wx, lstm_Wh, lstm_b, affine_W, affine_b;
        gates f, g, i, o) into a 1-layer LSTM model of the same shape."""
        arrays = read_npz(path, "the book's rnnlm_params.npz")
        names = [
            ("embed_W", self.embed.params[0]),
            ("lstm_Wx", self.rnns[0].params[0]),
            ("lstm_Wh", self.rnns[0].params[1]),
            ("lstm_b", self.rnns[0].params[2]),
            ("affine_W", self.affine.params[0]),
            ("affine_b", self.affine.params[1]),
        ]
        if self.config["cell"] != "lstm" or self.config["num_layers"] != 1 or self.config["tie_weights"]:
            raise SubtokError("the book's Rnnlm is a 1-layer LSTM without tied weights")
        for name, target in names:
            if name not in arrays or arrays[name].shape != target.shape:
                raise SubtokError(
                    f"{path}: {name} missing or of shape {arrays.get(name, np.zeros(0)).shape}, not {target.shape}"
                )
            target[...] = self.xp.asarray(arrays[name].astype(target.dtype))
        return self

    def save(self, path: PathLike) -> None:
        """Weights and configuration as one npz (no pickle), written atomically."""
        buf = io.BytesIO()
        arrays = {f"p{i}": to_numpy(p) for i, p in enumerate(self.params)}
        np.savez(buf, config=np.array(repr(sorted(self.config.items()))), **arrays)
        atomic_write_bytes(path, buf.getvalue())

    @classmethod
    def load(cls, path: PathLike, backend: str = "numpy") -> RNNLM:
        data = read_npz(path, "an RNNLM file")
        try:
            config = dict(ast.literal_eval(str(data["config"])))
            arrays = [data[f"p{i}"] for i in range(len(data) - 1)]
        except (KeyError, ValueError, SyntaxError, TypeError) as e:
            raise FileFormatError(f"{path}: not an RNNLM file ({e})") from None
        _check_config(config, arrays, str(path))
        try:
            model = cls(backend=backend, **config)
        except (TypeError, SubtokError) as e:
            raise FileFormatError(f"{path}: its config does not describe a model: {e}") from None
        model.set_params(arrays, source=str(path))
        return model

    def set_params(self, arrays, source: str = "checkpoint") -> None:
        params = self.params
        if len(arrays) != len(params) or any(a.shape != p.shape for a, p in zip(arrays, params)):
            raise SubtokError(f"{source}: the weights are for a model of another shape")
        for p, a in zip(params, arrays):
            p[...] = self.xp.asarray(a)


class LMTrainer:
    """Truncated BPTT over ``batch_size`` parallel streams, gradient clipping by global norm, the learning
    rate divided by 4 when validation perplexity stops improving and multiplied by ``lr_decay`` after
    every epoch, a checkpoint per epoch. As in the book's trainer, the streams and the recurrent state run
    on from one epoch into the next (wrapping around the corpus); evaluating validation perplexity leaves
    the training state untouched. numpy's BLAS is pinned to ``blas_threads`` threads while it trains (one
    by default: the same figures whatever the machine's cores)."""

    def __init__(
        self,
        model: RNNLM,
        optimizer: str = "sgd",
        lr: float = 20.0,
        max_grad: Optional[float] = 0.25,
        show_progress: Optional[bool] = None,
        blas_threads: Optional[int] = DEFAULT_BLAS_THREADS,
        lr_decay: float = 1.0,
    ) -> None:
        check_blas_threads(blas_threads)
        if isinstance(lr_decay, bool) or not isinstance(lr_decay, (int, float)) or not 0 < lr_decay <= 1:
            raise SubtokError(f"lr_decay must be a number in (0, 1], not {lr_decay!r}")
        if optimizer not in ("sgd", "adam"):
            raise SubtokError(f"optimizer must be 'sgd' or 'adam', not {optimizer!r}")
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr < math.inf:
            raise SubtokError(f"lr must be a finite number above 0, not {lr!r}")
        if max_grad is not None and (not isinstance(max_grad, (int, float)) or not 0 < max_grad < math.inf):
            raise SubtokError(f"max_grad must be None or a finite number above 0, not {max_grad!r}")
        self.model = model
        self.optimizer = SGD(lr) if optimizer == "sgd" else Adam(lr)
        self.max_grad = max_grad
        self.show_progress = show_progress
        self.blas_threads = blas_threads
        self.lr_decay = float(lr_decay)
        self.history: list[dict] = []  # one record per epoch trained; fit continues after the last
        self.best = float("inf")

    def _clip(self, grads) -> None:
        xp = self.model.xp
        total = float(xp.sqrt(sum((g * g).sum() for g in grads)))
        if self.max_grad is not None and total > self.max_grad:
            rate = self.max_grad / (total + 1e-6)
            for g in grads:
                g *= rate

    def fit(
        self,
        train_ids,
        valid_ids=None,
        epochs: int = 4,
        batch_size: int = 20,
        time_size: int = 35,
        checkpoint: Optional[PathLike] = None,
        max_iters: Optional[int] = None,
    ) -> list[dict]:
        """Train up to ``epochs`` epochs in all (a second call continues where the first stopped); with
        ``checkpoint``, resume from it when it exists and write it after every epoch. ``train_ids`` is the
        ids, or a function of the epoch (0, 1, ...) that returns them: a fresh segmentation of the text
        each epoch (subword regularization: BPE-dropout, Unigram sampling). numpy's BLAS runs on
        ``blas_threads`` threads meanwhile (the trainer's; None leaves the count as it is)."""
        with pinned_blas_threads(self.blas_threads):
            return self._fit(train_ids, valid_ids, epochs, batch_size, time_size, checkpoint, max_iters)

    def _fit(self, train_ids, valid_ids, epochs, batch_size, time_size, checkpoint, max_iters) -> list[dict]:
        model = self.model
        start_epoch, best = len(self.history), self.best
        if checkpoint and os.path.exists(checkpoint):
            start_epoch, best = self._resume(checkpoint)
        if start_epoch == 0:
            model.reset_state()
        for epoch in range(start_epoch, epochs):
            ids = np.asarray(train_ids(epoch) if callable(train_ids) else train_ids)
            model._check_ids(ids)
            n = len(ids)
            jump = (n - 1) // batch_size
            iters = jump // time_size
            if iters < 1:
                raise SubtokError(f"{n} ids are fewer than one batch of {batch_size} x {time_size} (+1)")
            if max_iters:
                iters = min(iters, max_iters)
            starts = np.arange(batch_size) * jump
            t0, total_loss = time.perf_counter(), 0.0
            with progress_bar(total=iters, desc=f"epoch {epoch + 1}", enabled=self.show_progress) as bar:
                for it in range(iters):
                    # as the book's trainer: the streams (and the state) run on across epochs, wrapping around
                    step = epoch * iters + it
                    pos = (starts[:, None] + step * time_size + np.arange(time_size)[None, :]) % (n - 1)
                    loss = model.forward(ids[pos], ids[pos + 1], train_flg=True)
                    model.backward()
                    self._clip(model.grads)
                    self.optimizer.update(model.params, model.grads)
                    total_loss += loss
                    bar.update(1)
                    if it % 20 == 0:
                        bar.set_postfix_str(
                            f"ppl {math.exp(total_loss / (it + 1)):.1f}, "
                            f"{(it + 1) * batch_size * time_size / (time.perf_counter() - t0):,.0f} tok/s"
                        )
            record = {
                "epoch": epoch + 1,
                "train_ppl": math.exp(total_loss / iters),
                "seconds": time.perf_counter() - t0,
                "ms_per_iter": 1000 * (time.perf_counter() - t0) / iters,
                "lr": self.optimizer.lr,
            }
            if valid_ids is not None:
                record["valid_ppl"] = model.perplexity(valid_ids)
                if record["valid_ppl"] >= best and isinstance(self.optimizer.lr, float):
                    self.optimizer.lr /= 4.0  # no improvement: a smaller step, as the book and PyTorch do
                best = min(best, record["valid_ppl"])
            self.optimizer.lr *= self.lr_decay
            self.best = best
            self.history.append(record)
            if checkpoint:
                self._save(checkpoint, epoch + 1, best)
        return self.history

    def _save(self, path: PathLike, epoch: int, best: float) -> None:
        """A checkpoint from which a resumed run equals an uninterrupted one: the parameters, the
        optimizer's state (Adam's moments and step), the recurrent state the streams run on with, and the
        dropout generator's state."""
        model, opt = self.model, self.optimizer
        arrays = {f"p{i}": to_numpy(p) for i, p in enumerate(model.params)}
        if isinstance(opt, Adam) and opt.m is not None:
            arrays.update({f"m{i}": to_numpy(m) for i, m in enumerate(opt.m)})
            arrays.update({f"v{i}": to_numpy(v) for i, v in enumerate(opt.v)})
        for i, (h, c) in enumerate(model._get_state()):
            arrays.update({f"h{i}": to_numpy(h)} if h is not None else {})
            arrays.update({f"c{i}": to_numpy(c)} if c is not None else {})
        rng = model.dropouts[0].rng if model.dropouts else None
        rng_state = json.dumps(rng.bit_generator.state) if hasattr(rng, "bit_generator") else ""
        buf = io.BytesIO()
        np.savez(buf, epoch=epoch, best=best, lr=opt.lr, adam_iter=getattr(opt, "iter", 0),
                 rng_state=np.frombuffer(rng_state.encode(), dtype=np.uint8), **arrays)  # fmt: skip
        atomic_write_bytes(path, buf.getvalue())

    def _resume(self, path: PathLike) -> tuple[int, float]:
        model, opt, xp = self.model, self.optimizer, self.model.xp
        n = len(model.params)
        data = read_npz(path, "a training checkpoint")
        try:
            arrays = [data[f"p{i}"] for i in range(n)]
            epoch, best, lr = int(data["epoch"]), float(data["best"]), float(data["lr"])
            moments = [[data[f"{k}{i}"] for i in range(n)] for k in "mv"] if "m0" in data else None
            states = [(data.get(f"h{i}"), data.get(f"c{i}")) for i in range(len(model.rnns))]
            adam_iter = int(data["adam_iter"]) if "adam_iter" in data else 0
            rng_state = data["rng_state"].tobytes().decode() if "rng_state" in data else ""
        except (KeyError, ValueError, TypeError, UnicodeDecodeError) as e:
            raise FileFormatError(f"{path}: not a training checkpoint ({e})") from None
        model.set_params(arrays, source=str(path))
        opt.lr = lr
        if isinstance(opt, Adam) and moments is not None:
            opt.m = [xp.asarray(m) for m in moments[0]]
            opt.v = [xp.asarray(v) for v in moments[1]]
            opt.iter = adam_iter
        model._set_state(
            [(None if h is None else xp.asarray(h), None if c is None else xp.asarray(c)) for h, c in states]
        )
        rng = model.dropouts[0].rng if model.dropouts else None
        if rng_state and hasattr(rng, "bit_generator"):
            rng.bit_generator.state = json.loads(rng_state)
        return epoch, best
