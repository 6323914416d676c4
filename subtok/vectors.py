"""Word vectors with their vocabulary, whatever made them (word2vec, the SVD of a PPMI matrix, the book's
CBOW weights): :class:`KeyedVectors` with similarity, analogies and the standard evaluations. As in gensim,
vectors are kept apart from the model that trained them, so they can be saved, loaded and queried alone.
"""

from __future__ import annotations

import io
import json
from typing import Optional, Union

import numpy as np

from ._io import PathLike, atomic_write_bytes, read_json, read_npz
from .errors import FileFormatError, SubtokError
from .evaluate import pearson, read_analogies, read_word_pairs, spearman
from .sparse import top_k
from .vocab import Vocab


def cos_similarity(x: np.ndarray, y: np.ndarray, eps: float = 1e-8) -> float:
    """Cosine similarity of two vectors (the book's definition, eps guarding zero vectors)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return float(np.dot(x / (np.sqrt(np.sum(x**2)) + eps), y / (np.sqrt(np.sum(y**2)) + eps)))


def normalize_rows(W: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    """Each row scaled to unit length (float64; eps guarding zero rows)."""
    W = np.asarray(W, dtype=np.float64)
    return W / (np.linalg.norm(W, axis=1, keepdims=True) + eps)


class KeyedVectors:
    """Word vectors with their vocabulary: similarity queries and evaluations (as gensim's KeyedVectors)."""

    def __init__(self, vectors: np.ndarray, vocab: Vocab) -> None:
        vectors = np.asarray(vectors)
        if vectors.ndim != 2 or vectors.shape[0] != len(vocab):
            raise SubtokError(f"vectors of shape {vectors.shape} do not match a vocabulary of {len(vocab)}")
        self.vectors = vectors
        self.vocab = vocab
        self._normed: Optional[np.ndarray] = None

    def __len__(self) -> int:
        return len(self.vocab)

    def __contains__(self, word: str) -> bool:
        return word in self.vocab

    def __getitem__(self, word: str) -> np.ndarray:
        i = self.vocab.word_to_id.get(word)
        if i is None:
            raise KeyError(f"{word!r} is not in the vocabulary")
        return self.vectors[i]

    @property
    def normed(self) -> np.ndarray:
        if self._normed is None:
            self._normed = normalize_rows(self.vectors)
        return self._normed

    def _id(self, word: str) -> int:
        i = self.vocab.word_to_id.get(word)
        if i is None:
            raise SubtokError(f"{word!r} is not in the vocabulary")
        return i

    def _ranked(self, scores: np.ndarray, top: int, exclude: Optional[np.ndarray]) -> list[tuple[str, float]]:
        return [(self.vocab.token(int(j)), float(scores[j])) for j in top_k(scores, top, exclude=exclude)]

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two words' vectors."""
        return float(self.normed[self._id(a)] @ self.normed[self._id(b)])

    def most_similar(self, word: Union[str, np.ndarray], topn: int = 5) -> list[tuple[str, float]]:
        """The ``topn`` nearest words by cosine to a word (itself excluded) or to a vector; ties by the
        smaller id."""
        if isinstance(word, str):
            i = self._id(word)
            query, exclude = self.normed[i], np.array([i])
        else:
            query, exclude = np.asarray(word, dtype=np.float64), None
            query = query / (np.linalg.norm(query) + 1e-8)
        return self._ranked(self.normed @ query, topn, exclude)

    def analogy_scores(self, a: str, b: str, c: str, normalized: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Every word's score as the answer to a : b = c : ?, and the ids of a, b and c: the cosine to
        b - a + c of the normalized vectors (3CosAdd), or with ``normalized=False`` as the book scores it
        (the raw vectors' dot product with the normalized b - a + c, which favours long vectors)."""
        ids = np.array([self._id(w) for w in (a, b, c)])
        vecs = self.normed if normalized else self.vectors.astype(np.float64)
        query = vecs[ids[1]] - vecs[ids[0]] + vecs[ids[2]]
        query = query / (np.linalg.norm(query) + 1e-8) if normalized else query / np.sqrt((query**2).sum())
        return vecs @ query, ids

    def analogy(self, a: str, b: str, c: str, top: int = 5, normalized: bool = True) -> list[tuple[str, float]]:
        """a : b = c : ?, the ``top`` best answers with their scores (``analogy_scores``), a, b and c
        excluded."""
        scores, ids = self.analogy_scores(a, b, c, normalized)
        return self._ranked(scores, top, ids)

    def evaluate_word_pairs(self, path: PathLike) -> tuple[float, float, float]:
        """(Pearson, Spearman, out-of-vocabulary ratio) of cosine similarity against human scores in a
        WordSim-353-style file; pairs with a word outside the vocabulary are skipped (case-insensitive)."""
        pairs = read_word_pairs(path)
        known, human = [], []
        for a, b, score in pairs:
            a2, b2 = self._find(a), self._find(b)
            if a2 is not None and b2 is not None:
                known.append(float(self.normed[a2] @ self.normed[b2]))
                human.append(score)
        oov = 1 - len(known) / len(pairs) if pairs else 0.0
        return pearson(human, known), spearman(human, known), oov

    def evaluate_analogies(self, path: PathLike, restrict_vocab: int = 300_000) -> tuple[float, list[dict]]:
        """Accuracy on a questions-words file, over the questions whose four words are all among the first
        ``restrict_vocab`` words (case-insensitive); per section: correct, total asked and skipped."""
        limit = min(restrict_vocab, len(self.vocab))
        normed = self.normed[:limit]
        sections, correct_all, asked_all = [], 0, 0
        for name, questions in read_analogies(path):
            ids = [[self._find(w, limit) for w in q] for q in questions]
            usable = np.array([q for q in ids if None not in q], dtype=np.int64).reshape(-1, 4)
            correct = 0
            for start in range(0, len(usable), 512):
                chunk = usable[start : start + 512]
                query = normed[chunk[:, 1]] - normed[chunk[:, 0]] + normed[chunk[:, 2]]
                scores = query @ normed.T
                rows = np.arange(len(chunk))
                for col in range(3):
                    scores[rows, chunk[:, col]] = -np.inf
                correct += int(np.sum(np.argmax(scores, axis=1) == chunk[:, 3]))
            sections.append(
                {"section": name, "correct": correct, "total": len(usable), "skipped": len(questions) - len(usable)}
            )
            correct_all += correct
            asked_all += len(usable)
        return (correct_all / asked_all if asked_all else 0.0), sections

    def _find(self, word: str, limit: Optional[int] = None) -> Optional[int]:
        for w in (word, word.lower()):
            i = self.vocab.word_to_id.get(w)
            if i is not None and (limit is None or i < limit):
                return i
        return None

    def save(self, path: PathLike) -> None:
        """One npz file, written atomically: the vectors and the vocabulary (as JSON bytes), so no crash can
        leave vectors beside another save's words."""
        buf = io.BytesIO()
        vocab_json = json.dumps(self.vocab.to_dict(), ensure_ascii=False).encode("utf-8")
        np.savez(buf, vectors=self.vectors, vocab_json=np.frombuffer(vocab_json, dtype=np.uint8))
        atomic_write_bytes(path, buf.getvalue())

    @classmethod
    def load(cls, path: PathLike) -> KeyedVectors:
        """A ``save``d file (or the older pair ``path`` + ``path.json``); the vocabulary must have one word
        per row of vectors."""
        data = read_npz(path, "a KeyedVectors npz file")
        if "vectors" not in data:
            raise FileFormatError(f"{path}: not a KeyedVectors npz file (no 'vectors')")
        vectors = data["vectors"]
        vocab_bytes = data["vocab_json"].tobytes() if "vocab_json" in data else None
        if vocab_bytes is None:
            vocab = Vocab.from_dict(read_json(str(path) + ".json"), source=str(path) + ".json")
        else:
            try:
                vocab = Vocab.from_dict(json.loads(vocab_bytes.decode("utf-8")), source=str(path))
            except (UnicodeDecodeError, json.JSONDecodeError) as e:
                raise FileFormatError(f"{path}: its vocabulary is not JSON ({e})") from None
        if vectors.ndim != 2 or len(vectors) != len(vocab):
            raise FileFormatError(f"{path}: {vectors.shape} vectors for a vocabulary of {len(vocab)} words")
        return cls(vectors, vocab)

    @classmethod
    def load_book_params(cls, path: PathLike) -> KeyedVectors:
        """The book's CBOW vectors (cbow_params.npz: word_vecs and vocab)."""
        data = read_npz(path, "the book's cbow_params.npz")
        try:
            return cls(data["word_vecs"].astype(np.float32), Vocab([str(w) for w in data["vocab"]]))
        except (KeyError, ValueError, TypeError) as e:
            raise FileFormatError(f"{path}: not the book's cbow_params.npz ({e})") from None
