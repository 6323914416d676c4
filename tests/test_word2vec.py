"""word2vec: the layers (numerical gradient checks), both training engines, KeyedVectors, subword vectors,
the book's vectors, and bad input."""

import numpy as np
import pytest

from subtok import FileFormatError, SubtokError, Tokenizer, Vocab, _backend
from subtok.nn import (
    SGD,
    Adam,
    AliasTable,
    Embedding,
    EmbeddingDot,
    NegativeSamplingLoss,
    SigmoidWithLoss,
    UnigramSampler,
    scatter_add,
)
from subtok.word2vec import KeyedVectors, Word2Vec

from .conftest import SAMPLE_TEXTS


def numerical_grad(f, x, h=1e-4):
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        up = f()
        x[i] = old - h
        down = f()
        x[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad


def test_embedding_and_embedding_dot_gradients():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((6, 4))
    idx = np.array([1, 3, 1])
    h = rng.standard_normal((3, 4))
    dot = EmbeddingDot(W)
    weights = rng.standard_normal(3)
    out = dot.forward(h, idx)
    dh = dot.backward(weights)
    assert np.allclose(out, (W[idx] * h).sum(1))
    assert np.allclose(dot.grads[0], numerical_grad(lambda: float(weights @ EmbeddingDot(W).forward(h, idx)), W))
    assert np.allclose(dh, numerical_grad(lambda: float(weights @ EmbeddingDot(W).forward(h, idx)), h))
    emb = Embedding(W)
    emb.forward(idx)
    emb.backward(np.ones((3, 4)))
    assert emb.grads[0][1].tolist() == [2, 2, 2, 2] and emb.grads[0][0].tolist() == [0, 0, 0, 0]


def test_sigmoid_with_loss_gradient():
    x, t = np.array([0.3, -1.2, 2.0]), np.array([1, 0, 1])
    layer = SigmoidWithLoss()
    layer.forward(x, t)
    xc = x.copy()
    assert np.allclose(layer.backward(), numerical_grad(lambda: SigmoidWithLoss().forward(xc, t), xc), atol=1e-6)


def test_negative_sampling_loss_gradient():
    rng = np.random.default_rng(1)
    W = rng.standard_normal((10, 3)) * 0.5
    h = rng.standard_normal((4, 3))
    target = np.array([0, 3, 5, 9])
    corpus = np.arange(10).repeat(3)

    def loss():
        return NegativeSamplingLoss(W, corpus, sample_size=2, seed=7).forward(h, target)

    layer = NegativeSamplingLoss(W, corpus, sample_size=2, seed=7)
    layer.forward(h, target)
    dh = layer.backward()
    assert np.allclose(dh, numerical_grad(loss, h), atol=1e-6)
    dW = sum(layer.grads)
    assert np.allclose(dW, numerical_grad(loss, W), atol=1e-6)


def test_unigram_sampler_never_returns_the_target():
    sampler = UnigramSampler(np.array([0, 0, 0, 1, 2, 2]), power=0.75, sample_size=4, seed=0)
    target = np.array([0, 1, 2] * 50)
    neg = sampler.get_negative_sample(target)
    assert neg.shape == (150, 4) and not (neg == target[:, None]).any()
    assert np.isclose(sampler.p.sum(), 1) and sampler.p[0] > sampler.p[1]


def test_alias_table_draws_the_distribution():
    weights = np.array([5.0, 0.0, 1.0, 2.0, 0.5, 1.5])
    table = AliasTable(weights)
    draws = table.draw(np.random.default_rng(0), 600_000)
    freq = np.bincount(draws, minlength=len(weights)) / draws.size
    assert freq[1] == 0  # a word of weight zero is never drawn
    assert np.allclose(freq, weights / weights.sum(), atol=0.003)
    for bad in ([], [0.0, 0.0], [1.0, -1.0], [[1.0]]):
        with pytest.raises(ValueError, match="alias table"):
            AliasTable(np.array(bad))


@pytest.mark.parametrize("contiguous", [True, False])
def test_scatter_add_sums_repeated_rows(contiguous):
    rng = np.random.default_rng(0)
    index = rng.integers(0, 6, (4, 7))  # (batch, time) ids, as the embedding layers pass them
    values = rng.standard_normal((4, 7, 3))
    target = np.zeros((6, 3)) if contiguous else np.zeros((3, 6)).T
    expected = np.zeros((6, 3))
    for i, v in zip(index.ravel(), values.reshape(-1, 3)):
        expected[i] += v
    scatter_add(target, index, values)
    assert np.allclose(target, expected)


class _FixedNoise:
    """Negatives chosen in advance, so that a test can recompute the update by hand."""

    def __init__(self, seed, vocab_size):
        self.rng, self.vocab_size, self.drawn = np.random.default_rng(seed), vocab_size, []

    def draw(self, rng, shape):
        self.drawn.append(self.rng.integers(0, self.vocab_size, shape))
        return self.drawn[-1]


def _reference_update(syn0, syn1, stream, segs, negatives_of, sg, lr):
    """word2vec's update of every centre, one (input, output) pair at a time as in the book, all from the
    same starting parameters and summed: what one minibatch of the numpy engine must give."""
    new0, new1 = syn0.copy(), syn1.copy()
    for i in range(len(stream)):
        context = [j for j in (i - 1, i + 1) if 0 <= j < len(stream) and segs[j] == segs[i]]
        if not context:
            continue
        inputs = [[j] for j in context] if sg else [context]
        for group in inputs:
            h = syn0[stream[group]].mean(axis=0)
            grad = np.zeros_like(h)
            outputs = [(stream[i], 1.0)] + [(o, 0.0) for o in negatives_of(i) if o != stream[i]]
            for o, label in outputs:
                g = (label - 1 / (1 + np.exp(-h @ syn1[o]))) * lr
                grad += g * syn1[o]
                new1[o] += g * h
            for j in group:
                new0[stream[j]] += grad
    return new0, new1


@pytest.mark.parametrize("sg", [False, True])
def test_numpy_engine_minibatch_is_the_sum_of_word2vec_updates(sg):
    """Blocks, shared negatives, masks and labels: one minibatch of the numpy engine adds up the textbook
    updates of its centres (window 1, negatives fixed, no row met more than UPDATE_CAP times)."""
    from subtok.word2vec import CBOW_BLOCK

    rng = np.random.default_rng(3)
    V, D, K = 40, 6, 3
    stream = rng.permutation(V)[:22]
    segs = np.repeat([0, 1, 2], [9, 1, 12])  # a one-word sentence: a centre without context
    syn0 = rng.normal(0, 0.3, (V, D)).astype(np.float32)
    syn1 = rng.normal(0, 0.3, (V, D)).astype(np.float32)
    noise = _FixedNoise(4, V)
    model = Word2Vec(vector_size=D, window=1, sg=sg, negative=K, batch_size=64, engine="numpy")
    got0, got1 = syn0.copy(), syn1.copy()
    model._epoch_numpy(got0, got1, stream, segs, noise, 0.1, 0.1, np.random.default_rng(0))
    block = 1 if sg else CBOW_BLOCK
    want0, want1 = _reference_update(
        syn0.astype(np.float64), syn1.astype(np.float64), stream, segs, lambda i: noise.drawn[0][i // block], sg, 0.1
    )
    assert np.allclose(got0, want0, atol=1e-5) and np.allclose(got1, want1, atol=1e-5)


def test_numpy_engine_holds_a_row_to_the_update_cap():
    from subtok.word2vec import UPDATE_CAP, _step_scale

    index = np.array([3] * (UPDATE_CAP * 3) + [1, 1, 0])
    tally = np.zeros(5, dtype=np.int64)
    scale = _step_scale(index, tally)
    assert np.allclose(scale[index == 3].sum(), UPDATE_CAP)  # 24 updates of row 3 worth 8
    assert np.all(scale[index != 3] == 1) and not tally.any()


def test_optimizers_step():
    p, g = [np.array([1.0, -2.0])], [np.array([0.5, 0.5])]
    SGD(lr=0.1).update(p, g)
    assert np.allclose(p[0], [0.95, -2.05])
    adam = Adam(lr=0.1)
    adam.update(p, g)
    assert np.allclose(p[0], [0.85, -2.15], atol=1e-6)  # the first Adam step moves by lr


def _toy_corpus(n=6000, seed=0):
    """Two topics whose words only co-occur within a topic: vectors must separate them."""
    rng = np.random.default_rng(seed)
    a, b = np.arange(0, 10), np.arange(10, 20)
    return np.concatenate([rng.choice(a if (i // 50) % 2 == 0 else b, 50) for i in range(n // 50)])


@pytest.mark.parametrize("sg", [False, True])
@pytest.mark.parametrize("engine", ["native", "numpy"])
def test_training_separates_topics(sg, engine):
    if engine == "native" and _backend._native is None:
        pytest.skip("native extension not built")
    ids = _toy_corpus()
    vocab = Vocab([f"w{i}" for i in range(20)])
    m = Word2Vec(vector_size=16, window=3, sg=sg, epochs=5, sample=0, seed=1, engine=engine, lr=0.05).fit(ids, vocab)
    kv = m.wv
    assert np.isfinite(kv.vectors).all()  # 20 words, each met dozens of times a minibatch: no divergence
    within = np.mean([kv.similarity("w0", f"w{i}") for i in range(1, 10)])
    across = np.mean([kv.similarity("w0", f"w{i}") for i in range(10, 20)])
    assert within > across + 0.2
    again = Word2Vec(vector_size=16, window=3, sg=sg, epochs=5, sample=0, seed=1, engine=engine, lr=0.05)
    assert np.array_equal(again.fit(ids, vocab).vectors, m.vectors)  # a seed makes runs repeatable


def test_min_count_and_bad_input():
    vocab = Vocab(["a", "b", "c"])
    m = Word2Vec(vector_size=4, epochs=1, min_count=2, engine="numpy").fit(np.array([0, 0, 1, 1, 2, 0, 1]), vocab)
    assert list(m.wv.vocab) == ["a", "b"]
    with pytest.raises(SubtokError, match="empty"):
        Word2Vec().fit(np.array([], dtype=np.int64), vocab)
    with pytest.raises(SubtokError, match="outside the vocabulary"):
        Word2Vec().fit(np.array([0, 7]), vocab)
    with pytest.raises(SubtokError, match="window"):
        Word2Vec(window=0)
    with pytest.raises(SubtokError, match="not trained"):
        Word2Vec().most_similar("a")


def test_keyed_vectors_queries_eval_and_io(tmp_path):
    vocab = Vocab(["king", "man", "queen", "woman", "apple"])
    W = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 1], [0, 0, 1], [5, -5, 5]], dtype=np.float32)
    kv = KeyedVectors(W, vocab)
    assert kv.analogy("king", "man", "queen", top=1)[0][0] == "woman"
    assert kv.most_similar("king", topn=1)[0][0] in ("man", "queen")
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("# h\nKing\tqueen\t8\nman\twoman\t7\nking\tapple\t1\nking\tzebra\t3\n")
    pear, spear, oov = kv.evaluate_word_pairs(pairs)
    assert oov == 0.25 and -1 <= spear <= 1
    questions = tmp_path / "q.txt"
    questions.write_text(": family\nking man queen woman\nking man queen zebra\n")
    acc, sections = kv.evaluate_analogies(questions)
    assert acc == 1.0 and sections[0] == {"section": "family", "correct": 1, "total": 1, "skipped": 1}
    kv.save(tmp_path / "kv.npz")
    back = KeyedVectors.load(tmp_path / "kv.npz")
    assert np.array_equal(back.vectors, W) and back.vocab == vocab
    with pytest.raises(SubtokError, match="do not match"):
        KeyedVectors(W[:3], vocab)


def test_subword_vectors_for_unseen_words():
    tok = Tokenizer.train(SAMPLE_TEXTS * 3, model="wordpiece", vocab_size=300, min_frequency=1)
    ids = np.concatenate([tok.encode(t, add_special_tokens=False).ids for t in SAMPLE_TEXTS * 3])
    m = Word2Vec(vector_size=16, window=2, epochs=3, sample=0, engine="numpy").fit(ids, tok.vocab)
    unseen = "tokenizing"  # never in the corpus; its pieces are
    assert unseen not in " ".join(SAMPLE_TEXTS).lower()
    v = m.vector(unseen, tokenizer=tok)
    assert v.shape == (16,) and np.all(np.isfinite(v))
    assert m.wv.most_similar(v, topn=3)
    with pytest.raises(SubtokError, match="tokenizer"):
        m.vector(unseen)


def test_the_books_vectors_give_the_books_analogies(shared_data):
    path = shared_data.parent / "book" / "cbow_params.npz"
    if not path.exists():
        pytest.skip("the book's weights are not here")
    kv = KeyedVectors.load_book_params(path)
    assert kv.analogy("king", "man", "queen", top=1, normalized=False)[0][0] == "woman"
    assert kv.analogy("take", "took", "go", top=1, normalized=False)[0][0] == "went"
    assert kv.analogy("car", "cars", "child", top=1, normalized=False)[0][0] == "children"


@pytest.mark.parametrize("sg", [False, True])
def test_native_kernel_equals_its_python_reference_bit_for_bit(sg):
    """tests/sgns_reference.py follows the C kernel word by word: the same vectors to the last bit."""
    if _backend._native is None:
        pytest.skip("native extension not built")
    from . import sgns_reference

    rng = np.random.default_rng(5)
    V, D = 9, 13  # 13: the dot product's 8-wide blocks and its tail
    stream = rng.integers(0, V, 80).astype(np.int64)
    segments = (np.arange(80) // 30).astype(np.int64)
    noise = rng.random(V) + 0.1
    syn0 = ((rng.random((V, D)) - 0.5) / D).astype(np.float32)
    syn1 = ((rng.random((V, D)) - 0.5) / 4).astype(np.float32)
    args = (stream, segments, noise, 3, 4, int(sg), 0.5, 0.05, 12345)
    c0, c1, p0, p1 = syn0.copy(), syn1.copy(), syn0.copy(), syn1.copy()
    _backend.native("sgns_train")(c0, c1, *args)
    sgns_reference.sgns_train(p0, p1, *args)
    assert not np.array_equal(c0, syn0)  # it trained
    assert np.array_equal(c0, p0) and np.array_equal(c1, p1)


def test_word2vec_save_and_load(tmp_path):
    ids = np.array([0, 1, 2, 0, 1, 3] * 50)
    vocab = Vocab(["a", "b", "c", "d"])
    m = Word2Vec(vector_size=8, window=2, epochs=2, engine="numpy", seed=3, show_progress=False).fit(ids, vocab)
    m.save(tmp_path / "w2v.npz")
    back = Word2Vec.load(tmp_path / "w2v.npz")
    assert np.array_equal(back.vectors, m.vectors) and np.array_equal(back.syn1neg, m.syn1neg)
    assert back.wv.vocab == m.wv.vocab and back.window == 2 and back.engine == "numpy"
    (tmp_path / "bad.npz").write_bytes(b"not an npz")
    with pytest.raises(FileFormatError, match="bad.npz"):
        Word2Vec.load(tmp_path / "bad.npz")
