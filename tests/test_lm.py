"""RNN language models: numerical gradient checks for every Time layer and whole models, the book's
weights, save/load, training with checkpoints, and bad input."""

import numpy as np
import pytest

from subtok import FileFormatError, SubtokError
from subtok.lm import RNNLM, LMTrainer
from subtok.nn.time_layers import (
    TimeAffine,
    TimeDropout,
    TimeEmbedding,
    TimeGRU,
    TimeLSTM,
    TimeRNN,
    TimeSoftmaxWithLoss,
)

from .test_word2vec import numerical_grad


def check_layer(layer, xs, params_to_check=None, atol=1e-5):
    """Backward of sum(forward(x) * w) against finite differences, for the input and every parameter."""
    rng = np.random.default_rng(3)
    out = layer.forward(xs)
    weights = rng.standard_normal(out.shape)

    def loss():
        if hasattr(layer, "reset_state"):
            layer.reset_state()
        return float((layer.forward(xs) * weights).sum())

    if hasattr(layer, "reset_state"):
        layer.reset_state()
    layer.forward(xs)
    dx = layer.backward(weights)
    if dx is not None and np.issubdtype(xs.dtype, np.floating):
        assert np.allclose(dx, numerical_grad(loss, xs), atol=atol)
    for p, g in zip(layer.params, layer.grads):
        assert np.allclose(g, numerical_grad(loss, p), atol=atol)


@pytest.mark.parametrize("cls, gates", [(TimeRNN, 1), (TimeLSTM, 4), (TimeGRU, 3)])
def test_recurrent_layer_gradients(cls, gates):
    rng = np.random.default_rng(0)
    D, H = 3, 4
    layer = cls(
        rng.standard_normal((D, gates * H)) * 0.5,
        rng.standard_normal((H, gates * H)) * 0.5,
        rng.standard_normal(gates * H) * 0.1,
    )
    check_layer(layer, rng.standard_normal((2, 5, D)))


def test_other_time_layer_gradients():
    rng = np.random.default_rng(1)
    check_layer(TimeAffine(rng.standard_normal((3, 4)), rng.standard_normal(4)), rng.standard_normal((2, 3, 3)))
    emb = TimeEmbedding(rng.standard_normal((6, 3)))
    check_layer(emb, np.array([[0, 1, 1], [5, 0, 2]]))
    drop = TimeDropout(0.5, np.random.default_rng(0))
    x = np.ones((4, 5, 6))
    y = drop.forward(x)
    assert set(np.unique(y)) <= {0.0, 2.0} and np.array_equal(drop.backward(x), y)
    drop.train_flg = False
    assert np.array_equal(drop.forward(x), x)
    loss = TimeSoftmaxWithLoss()
    xs = rng.standard_normal((2, 3, 5))
    ts = np.array([[1, -1, 4], [0, 2, -1]])  # -1 is ignored
    loss.forward(xs, ts)
    assert np.allclose(loss.backward(), numerical_grad(lambda: TimeSoftmaxWithLoss().forward(xs, ts), xs), atol=1e-6)


@pytest.mark.parametrize("cell, layers, tie", [("lstm", 1, False), ("gru", 2, True), ("rnn", 2, False)])
def test_whole_model_gradient(cell, layers, tie):
    model = RNNLM(7, 4, 4, num_layers=layers, cell=cell, tie_weights=tie, seed=2, dtype=np.float64)
    rng = np.random.default_rng(0)
    xs, ts = rng.integers(0, 7, (2, 4)), rng.integers(0, 7, (2, 4))

    def loss():
        model.reset_state()
        return model.forward(xs, ts, train_flg=False)

    loss()
    model.backward()
    grads = [g.copy() for g in model.grads]
    for p, g in zip(model.params, grads):
        assert np.allclose(g, numerical_grad(loss, p), atol=1e-6)


def test_the_books_weights_score_the_books_perplexity(shared_data):
    path = shared_data.parent / "book" / "rnnlm_params.npz"
    if not path.exists():
        pytest.skip("the book's weights are not here")
    book = np.load(path)
    w2i = {str(w): i for i, w in enumerate(book["vocab"])}
    text = (shared_data / "ptb" / "ptb.test.txt").read_text().replace("\n", " <eos> ").split()
    ids = np.array([w2i[w] for w in text])
    model = RNNLM(10000, 100, 100).load_book_params(path)
    assert abs(model.perplexity(ids, batch_size=10, time_size=35) - 136.08) < 0.05


def test_training_learns_and_checkpoints_resume(tmp_path):
    ids = np.tile(np.array([0, 1, 2, 3, 4, 5, 1, 2]), 200)  # a repeating sequence: easy to learn
    model = RNNLM(6, 8, 16, seed=0)
    before = model.perplexity(ids, batch_size=4, time_size=5)
    ckpt = tmp_path / "ckpt.npz"
    LMTrainer(model, lr=1.0, show_progress=False).fit(ids, ids, epochs=2, batch_size=4, time_size=5, checkpoint=ckpt)
    after = model.perplexity(ids, batch_size=4, time_size=5)
    assert after < before / 2
    resumed = RNNLM(6, 8, 16, seed=5)
    trainer = LMTrainer(resumed, lr=1.0, show_progress=False)
    trainer.fit(ids, epochs=2, batch_size=4, time_size=5, checkpoint=ckpt)  # already done: loads, trains no more
    assert trainer.history == [] and abs(resumed.perplexity(ids, 4, 5) - after) < 1e-6
    model.save(tmp_path / "m.npz")
    assert abs(RNNLM.load(tmp_path / "m.npz").perplexity(ids, 4, 5) - after) < 1e-6
    assert len(model.generate([0], 5, seed=0)) == 6


def test_lr_decay_and_pinned_blas_threads():
    from threadpoolctl import threadpool_info, threadpool_limits

    ids = np.tile(np.array([0, 1, 2, 3, 4, 5, 1, 2]), 100)
    trainer = LMTrainer(RNNLM(6, 8, 16, seed=0), lr=1.0, lr_decay=0.5, show_progress=False, blas_threads=1)
    with threadpool_limits(limits=2, user_api="blas"):
        history = trainer.fit(ids, epochs=3, batch_size=4, time_size=5)
        assert all(i["num_threads"] == 2 for i in threadpool_info() if i["user_api"] == "blas")  # restored
    assert [r["lr"] for r in history] == [1.0, 0.5, 0.25]  # each epoch's rate; halved after each
    assert trainer.optimizer.lr == 0.125
    for bad in (dict(lr_decay=0), dict(lr_decay=1.5), dict(blas_threads=0)):
        with pytest.raises(SubtokError, match=next(iter(bad))):
            LMTrainer(RNNLM(6, 4, 4), **bad)


def test_bad_input(tmp_path):
    model = RNNLM(6, 4, 4)
    with pytest.raises(SubtokError, match="outside the vocabulary"):
        model.perplexity(np.array([0, 9] * 100), 2, 5)
    with pytest.raises(SubtokError, match="fewer than one batch"):
        model.perplexity(np.array([0, 1, 2]), 10, 35)
    with pytest.raises(SubtokError, match="fewer than one batch"):
        LMTrainer(model).fit(np.array([0, 1, 2]), batch_size=20, time_size=35)
    other = RNNLM(6, 4, 8)
    other.save(tmp_path / "other.npz")
    ckpt = tmp_path / "c.npz"
    LMTrainer(other, show_progress=False).fit(np.arange(600) % 6, epochs=1, batch_size=2, time_size=5, checkpoint=ckpt)
    with pytest.raises(SubtokError, match="another shape"):
        LMTrainer(model).fit(np.arange(600) % 6, epochs=2, batch_size=2, time_size=5, checkpoint=ckpt)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(FileFormatError):
        RNNLM.load(tmp_path / "junk.npz")
    with pytest.raises(SubtokError, match="cell"):
        RNNLM(6, cell="transformer")


def test_training_on_a_fresh_segmentation_each_epoch():
    """``fit`` takes a function of the epoch: each epoch trains on the ids it returns (subword
    regularization), and a BPE-dropout tokenizer gives such ids."""
    from subtok import Tokenizer

    tok = Tokenizer.train(["the cat sat on the mat, the cat ran"] * 20, vocab_size=300, min_frequency=1)
    text = ["the cat sat on the mat, the cat ran"] * 30
    asked = []

    def epoch_ids(epoch):
        asked.append(epoch)
        return np.concatenate([e.ids for e in tok.encode_batch(text, dropout=0.3, seed=epoch)])

    segmentations = [epoch_ids(e).tolist() for e in range(3)]
    assert segmentations[0] != segmentations[1]  # each epoch its own segmentation
    asked.clear()
    model = RNNLM(tok.vocab_size, 8, 8, seed=0)
    history = LMTrainer(model, lr=1.0, show_progress=False).fit(epoch_ids, epochs=3, batch_size=2, time_size=5)
    assert asked == [0, 1, 2] and len(history) == 3


@pytest.mark.parametrize("optimizer, lr", [("sgd", 1.0), ("adam", 0.01)])
def test_a_resumed_run_equals_an_uninterrupted_one(tmp_path, optimizer, lr):
    """The checkpoint carries the optimizer's state (Adam's moments), the recurrent state and the dropout
    generator's: stopping after an epoch and resuming gives the same parameters, bit for bit."""
    ids = np.tile(np.array([0, 1, 2, 3, 4, 5, 1, 2]), 120)
    straight = RNNLM(6, 8, 16, seed=0, dropout=0.3)
    LMTrainer(straight, optimizer, lr, show_progress=False).fit(ids, epochs=3, batch_size=4, time_size=5)
    ckpt = tmp_path / "ckpt.npz"
    first = RNNLM(6, 8, 16, seed=0, dropout=0.3)
    LMTrainer(first, optimizer, lr, show_progress=False).fit(ids, epochs=1, batch_size=4, time_size=5, checkpoint=ckpt)
    resumed = RNNLM(6, 8, 16, seed=7, dropout=0.3)  # another start: all of it comes from the checkpoint
    LMTrainer(resumed, optimizer, lr, show_progress=False).fit(
        ids, epochs=3, batch_size=4, time_size=5, checkpoint=ckpt
    )
    for a, b in zip(straight.params, resumed.params):
        assert np.array_equal(a, b)
