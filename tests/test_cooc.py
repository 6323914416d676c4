"""Count-based vectors: sparse utilities, co-occurrence, PPMI, SVD, similarity, the book's wrappers."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from subtok import SubtokError, book, cooc, preprocess, sparse
from subtok.evaluate import ranks, read_analogies, read_word_pairs, spearman

TOY = "You say goodbye and I say hello."


def naive_co_matrix(corpus, V, window, harmonic=False, segments=None):
    """The book's loops, with the options added."""
    C = np.zeros((V, V))
    for idx, w in enumerate(corpus):
        for d in range(1, window + 1):
            for j in (idx - d, idx + d):
                if 0 <= j < len(corpus) and (segments is None or segments[j] == segments[idx]):
                    C[w, corpus[j]] += 1.0 / d if harmonic else 1
    return C


def naive_ppmi(C, eps=1e-8):
    """The book's ppmi loop."""
    M = np.zeros_like(C, dtype=np.float32)
    N, S = np.sum(C), np.sum(C, axis=0)
    for i in range(C.shape[0]):
        for j in range(C.shape[1]):
            with np.errstate(divide="ignore", invalid="ignore"):
                pmi = np.log2(C[i, j] * N / (S[j] * S[i]) + eps)
            M[i, j] = max(0, pmi) if np.isfinite(pmi) else 0
    return M


def test_book_toy_values():
    ids, vocab = preprocess(TOY)
    C = cooc.co_matrix(ids, len(vocab))
    assert C.toarray().tolist()[1] == [1, 0, 1, 0, 1, 1, 0]
    W = np.round(cooc.ppmi(C).toarray().astype(np.float64), 3)  # the book prints float32 with 3 decimals
    assert W[0].tolist() == [0, 1.807, 0, 0, 0, 0, 0]
    assert W[1].tolist() == [1.807, 0, 0.807, 0, 0.807, 0.807, 0]
    assert W[5, 6] == 2.807
    top = cooc.most_similar("you", vocab, C.toarray(), top=5)
    assert [w for w, _ in top[:3]] == ["goodbye", "i", "hello"]
    assert all(abs(s - 0.7071) < 1e-4 for _, s in top[:3])


corpora = st.lists(st.integers(0, 7), min_size=0, max_size=60)


@given(corpus=corpora, window=st.integers(1, 3), harmonic=st.booleans(), seg_every=st.integers(0, 7))
def test_co_matrix_equals_the_naive_loops(corpus, window, harmonic, seg_every):
    segments = np.arange(len(corpus)) // seg_every if seg_every else None
    got = cooc.co_matrix(np.array(corpus, dtype=np.int64), 8, window, "harmonic" if harmonic else None, segments)
    assert np.allclose(got.toarray(), naive_co_matrix(corpus, 8, window, harmonic, segments))
    if not harmonic and segments is None:
        assert np.array_equal(
            book.create_co_matrix(np.array(corpus, dtype=np.int64), 8, window), naive_co_matrix(corpus, 8, window)
        )


@given(corpus=corpora, window=st.integers(1, 3))
def test_ppmi_equals_the_book_on_nonzeros_only(corpus, window):
    C = naive_co_matrix(corpus, 8, window)
    M = cooc.ppmi(cooc.co_matrix(np.array(corpus, dtype=np.int64), 8, window))
    assert np.allclose(M.toarray(), naive_ppmi(C), atol=1e-5)
    assert np.all(M.data > 0)  # zero counts and non-positive PMI are never stored


def test_ppmi_smoothing_and_shift():
    ids, vocab = preprocess(TOY)
    C = cooc.co_matrix(ids, len(vocab))
    base = cooc.ppmi(C).toarray()
    shifted = cooc.ppmi(C, shift=2.0).toarray()
    assert np.allclose(shifted, np.maximum(base - 1.0, 0) * (base > 0), atol=1e-6)
    smooth = cooc.ppmi(C, alpha=0.75).toarray()
    assert smooth.shape == base.shape and not np.allclose(smooth, base)


def test_directions():
    ids = np.array([0, 1, 2])
    right = cooc.co_matrix(ids, 3, 1, direction="right").toarray()
    assert right.tolist() == [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
    assert np.array_equal(cooc.co_matrix(ids, 3, 1, direction="left").toarray(), right.T)


@pytest.mark.parametrize("shape, k", [((40, 30), 5), ((60, 60), 10), ((25, 50), 3)])
def test_svd_close_to_exact(shape, k):
    rng = np.random.default_rng(1)
    A = rng.standard_normal((shape[0], 8)) @ rng.standard_normal((8, shape[1])) + 0.01 * rng.standard_normal(shape)
    A[rng.random(shape) < 0.5] = 0
    M = sparse.CSR.from_dense(A)
    U, S, Vt = cooc.svd(M, k, seed=3, return_components=True)
    exact = np.linalg.svd(A, compute_uv=False)
    err = np.linalg.norm(A - (U * S) @ Vt)
    best = np.sqrt((exact[k:] ** 2).sum())
    assert err <= best * 1.05 + 1e-8
    assert np.allclose(S, exact[:k], rtol=1e-3)
    assert np.array_equal(cooc.svd(M, k, seed=3), cooc.svd(M, k, seed=3))  # same seed, same vectors
    assert np.allclose(cooc.svd(A, k, seed=3), U)  # dense input, same result


def test_csr_operations():
    rng = np.random.default_rng(0)
    A = rng.integers(0, 3, (7, 5)) * (rng.random((7, 5)) < 0.5)
    M = sparse.CSR.from_dense(A)
    assert M.nnz == np.count_nonzero(A)
    assert np.array_equal(M.toarray(), A)
    assert np.array_equal(M.T.toarray(), A.T)
    x = rng.standard_normal((5, 3))
    assert np.allclose(M @ x, A @ x) and np.allclose(M.dot(x[:, 0]), A @ x[:, 0])
    assert np.array_equal(M[2:5].toarray(), A[2:5]) and np.array_equal(M[-1].toarray(), A[-1:])
    r, c, v = M.tocoo()
    assert np.array_equal(A[r, c], v)
    assert [a.tolist() for a in sparse.nonzero(M)] == [a.tolist() for a in np.nonzero(A)]
    cols, vals = sparse.top_k_per_row(M, 2)
    for i in range(7):
        expected = sorted((-A[i, j], j) for j in range(5) if A[i, j])[:2]
        assert [j for _, j in expected] == [j for j in cols[i] if j >= 0]
    assert sparse.top_k(np.array([1.0, 3.0, 3.0, 2.0]), 3).tolist() == [1, 2, 3]
    assert sparse.group_by_row(np.array([0, 0, 2]), 3).tolist() == [0, 2, 2, 3]
    pytest.importorskip("scipy")
    assert np.array_equal(M.to_scipy().toarray(), A)


def test_csr_products_on_both_backends(backend, monkeypatch):
    monkeypatch.setattr(sparse, "_CHUNK_NNZ", 3)  # the reference works in chunks: make them tiny
    rng = np.random.default_rng(2)
    A = rng.standard_normal((30, 20)) * (rng.random((30, 20)) < 0.2)
    A[5] = 0
    x = rng.standard_normal((20, 4))
    M = sparse.CSR.from_dense(A)
    y = rng.standard_normal((30, 3))
    assert np.allclose(M @ x, A @ x) and np.allclose(M.T @ y, A.T @ y) and np.allclose(M @ x[:, 0], A @ x[:, 0])
    assert np.allclose(sparse.CSR.from_dense(np.zeros((3, 20))) @ x, 0)


def test_native_csr_dot_checks_its_arrays():
    from subtok import _backend

    if _backend._native is None:
        pytest.skip("native extension not built")
    csr_dot = _backend._native.csr_dot
    out = np.zeros((2, 1))
    x = np.ones((3, 1))
    with pytest.raises(ValueError, match="inconsistent"):
        csr_dot(np.array([0, 1, 2]), np.array([0, 7]), np.array([1.0, 2.0]), x, out)  # column 7 of 3
    with pytest.raises(ValueError, match="inconsistent"):
        csr_dot(np.array([0, 2, 1]), np.array([0, 1]), np.array([1.0, 2.0]), x, out)  # indptr goes back
    with pytest.raises(ValueError, match="float64"):
        csr_dot(np.array([0, 1, 2]), np.array([0, 1]), np.array([1, 2]), x, out)
    with pytest.raises(ValueError, match="int64"):
        csr_dot(np.array([0, 1, 2], dtype=np.int32), np.array([0, 1]), np.array([1.0, 2.0]), x, out)


def test_analogy_on_constructed_vectors():
    from subtok import Vocab

    vocab = Vocab(["king", "man", "queen", "woman", "apple"])
    W = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 1], [0, 0, 1], [5, -5, 5]], dtype=float)
    assert cooc.analogy("king", "man", "queen", vocab, W, top=1)[0][0] == "woman"
    with pytest.raises(SubtokError, match="not in the vocabulary"):
        cooc.most_similar("pear", vocab, W)


def test_bad_input():
    with pytest.raises(SubtokError, match="outside the vocabulary"):
        cooc.co_matrix(np.array([0, 5]), 3)
    with pytest.raises(SubtokError, match="outside the vocabulary"):
        cooc.co_matrix(np.array([0, -1]), 3)
    with pytest.raises(SubtokError, match="window_size"):
        cooc.co_matrix(np.array([0, 1]), 3, window_size=-1)
    with pytest.raises(SubtokError, match="integers"):
        cooc.co_matrix(np.array([0.5, 1.0]), 3)
    with pytest.raises(SubtokError, match="k must be between"):
        cooc.svd(np.eye(4), k=5)
    with pytest.raises(SubtokError, match="k must be between"):
        cooc.svd(np.eye(4), k=0)


def test_book_wrappers(capsys):
    corpus, w2i, i2w = book.preprocess(TOY)
    contexts, target = book.create_contexts_target(corpus, window_size=1)
    assert contexts.tolist()[:2] == [[0, 2], [1, 3]] and target.tolist()[:2] == [1, 2]
    assert book.convert_one_hot(target, len(w2i)).shape == (6, 7)
    assert book.convert_one_hot(contexts, len(w2i)).shape == (6, 2, 7)
    C = book.create_co_matrix(corpus, len(w2i))
    book.most_similar("you", w2i, i2w, C, top=5)
    out = capsys.readouterr().out
    assert out.splitlines()[1] == "[query] you" and out.splitlines()[2].startswith(" goodbye: 0.70710")
    assert round(float(book.cos_similarity(C[w2i["you"]], C[w2i["i"]])), 4) == 0.7071
    grads = [np.full(3, 3.0), np.full(4, 4.0)]
    book.clip_grads(grads, 1.0)
    assert abs(np.sqrt(sum((g**2).sum() for g in grads)) - 1.0) < 1e-5

    class Uniform:  # every next word equally likely: perplexity is the vocabulary size
        def forward(self, xs, ts):
            return np.log(7)

    assert abs(book.eval_perplexity(Uniform(), np.arange(1000) % 7, 10, 5) - 7) < 1e-9


def test_rank_statistics_and_readers(tmp_path):
    assert ranks(np.array([10, 20, 20, 5])).tolist() == [2, 3.5, 3.5, 1]
    assert spearman([1, 2, 3, 4], [10, 20, 30, 25]) == pytest.approx(0.8)
    p = tmp_path / "pairs.tsv"
    p.write_text("# header\nlove\tsex\t6.77\nbad line\n")
    with pytest.raises(SubtokError, match="line 3"):
        read_word_pairs(p)
    q = tmp_path / "q.txt"
    q.write_text(": capital\nathens greece baghdad iraq\n")
    assert read_analogies(q) == [("capital", [("athens", "greece", "baghdad", "iraq")])]
