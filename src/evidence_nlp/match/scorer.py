"""Supervised clause scoring: which clauses a paragraph answers, learned from the annotated corpus.

One logistic regression per clause (one-vs-rest) over three views of a paragraph: its embedding
(the mean of its passages' vectors), the category of the heading it sits under, and hashed
character 1–3-gram TF-IDF. Character n-grams catch the trade words and phrasings of real
narratives that never echo the guide; the heading gives the prior that content can override.
The matcher uses the scores as one feature beside similarity, keywords, sections and cues.

Prediction is plain numpy (no scikit-learn import at analysis time, as match.TfidfModel), and
the fitted arrays are stored quantised inside the matcher's model JSON.
"""

from __future__ import annotations

import base64
import warnings
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..cues import fold_width


def _encode(array: np.ndarray) -> str:
    # float16 keeps ~3 significant digits, plenty for logistic weights, and halves the file.
    return base64.b64encode(np.ascontiguousarray(array, dtype="<f2").tobytes()).decode("ascii")


def _decode(text: str, shape: tuple[int, ...]) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f2").astype(np.float32).reshape(shape)


class ClauseScorer:
    """One-vs-rest logistic regression over paragraph embedding, heading category and hashed
    character n-gram TF-IDF (scikit-learn conventions: parameters in __init__, fit returns self,
    fitted attributes end in _)."""

    def __init__(
        self,
        clause_ids: Sequence[str],
        categories: Sequence[str],
        c: float = 4.0,
        n_features: int = 2**13,
        ngram_range: tuple[int, int] = (1, 3),
    ) -> None:
        self.clause_ids = tuple(clause_ids)
        self.categories = tuple(categories)
        self.c = c
        self.n_features = n_features
        self.ngram_range = ngram_range

    # -- views of a paragraph -----------------------------------------------------------------
    def _counts(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Hashed character n-gram counts (indices, counts); crc32 is stable across runs and
        machines, unlike Python's salted hash()."""
        folded = "".join(fold_width(text).lower().split())
        low, high = self.ngram_range
        grams = [folded[i : i + n] for n in range(low, high + 1) for i in range(len(folded) - n + 1)]
        # map() keeps the per-gram loop in C: the hashing was a tenth of a document's analysis.
        hashes = np.fromiter(map(zlib.crc32, map(str.encode, grams)), dtype=np.int64, count=len(grams))
        return np.unique(hashes % self.n_features, return_counts=True)

    def _tfidf_rows(self, texts: Sequence[str], idf: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        rows = []
        for text in texts:
            index, counts = self._counts(text)
            values = (1.0 + np.log(counts)) * idf[index]
            norm = np.linalg.norm(values)
            rows.append((index, (values / norm if norm > 0 else values).astype(np.float32)))
        return rows

    def _sections(self, sections: Sequence[str | None]) -> np.ndarray:
        """One column per category, and one for "no linked heading"."""
        out = np.zeros((len(sections), len(self.categories) + 1), dtype=np.float32)
        for row, section in enumerate(sections):
            category = section.split(".")[0] if section else None
            out[row, self.categories.index(category) if category in self.categories else -1] = 1.0
        return out

    def _dense(self, vectors: np.ndarray, sections: Sequence[str | None]) -> np.ndarray:
        return np.hstack([np.asarray(vectors, dtype=np.float32).reshape(len(sections), -1), self._sections(sections)])

    # -- fit / predict ------------------------------------------------------------------------
    def fit(
        self,
        texts: Sequence[str],
        vectors: np.ndarray,
        sections: Sequence[str | None],
        labels: np.ndarray,
    ) -> ClauseScorer:
        from scipy.sparse import csr_matrix, hstack
        from sklearn.linear_model import LogisticRegression

        if not len(texts):
            raise ValueError("the supervised scorer needs at least one training paragraph")
        document_frequency = np.zeros(self.n_features)
        for text in texts:
            document_frequency[self._counts(text)[0]] += 1
        self.idf_ = (np.log((1 + len(texts)) / (1 + document_frequency)) + 1).astype(np.float32)
        rows = self._tfidf_rows(texts, self.idf_)
        sparse = csr_matrix(
            (
                np.concatenate([v for _, v in rows]),
                np.concatenate([i for i, _ in rows]),
                np.cumsum([0] + [len(i) for i, _ in rows]),
            ),
            shape=(len(texts), self.n_features),
        )
        dense = self._dense(vectors, sections)
        design = hstack([csr_matrix(dense), sparse]).tocsr()
        labels = np.asarray(labels, dtype=bool)
        self.coef_ = np.zeros((len(self.clause_ids), design.shape[1]), dtype=np.float32)
        self.intercept_ = np.full(len(self.clause_ids), -10.0, dtype=np.float32)  # never seen: never scored
        for column in range(len(self.clause_ids)):
            target = labels[:, column]
            if target.all() or not target.any():
                self.intercept_[column] = 10.0 if target.all() else -10.0
                continue
            # Balanced classes: most clauses are cited by a few per cent of paragraphs. L2 makes the
            # problem strictly convex; newton-cg at a tight tolerance reaches its optimum (~1e-6)
            # where lbfgs stops ~2e-3 short at a point that depends on summation order, i.e. on the
            # machine (as train.SOLVER explains for the matcher's own model).
            model = LogisticRegression(C=self.c, class_weight="balanced", solver="newton-cg", tol=1e-10, max_iter=1000)
            with warnings.catch_warnings():
                # At this tolerance the line search can run out of float precision once the gradient
                # is ~0 (already converged): scipy then warns, and the optimum is what we keep.
                warnings.filterwarnings("ignore", message=".*[Ll]ine [Ss]earch")
                model.fit(design, target)
            self.coef_[column] = model.coef_[0]
            self.intercept_[column] = model.intercept_[0]
        self.n_dense_ = dense.shape[1]
        # Quantise now, so predictions from a fresh fit equal those from the stored model.
        self.coef_ = _decode(_encode(self.coef_), self.coef_.shape)
        self.idf_ = _decode(_encode(self.idf_), self.idf_.shape)
        self.intercept_ = np.round(self.intercept_, 4)
        return self

    def check_inputs(self, vector_dim: int) -> None:
        """A clear error, at load time, for a scorer fitted with another encoder's vectors."""
        expected = self.n_dense_ - len(self.categories) - 1
        if vector_dim != expected:
            raise ValueError(
                f"the matcher's supervised scorer was trained on {expected}-dimensional vectors, "
                f"this encoder gives {vector_dim}: use the matcher model trained for this encoder"
            )

    def predict_proba(self, texts: Sequence[str], vectors: np.ndarray, sections: Sequence[str | None]) -> np.ndarray:
        """(n_paragraphs, n_clauses) probability that each paragraph answers each clause, in the
        scorer's clause_ids order."""
        if not len(texts):
            return np.zeros((0, len(self.clause_ids)), dtype=np.float32)
        logits = self._dense(vectors, sections) @ self.coef_[:, : self.n_dense_].T + self.intercept_
        sparse_coef = self.coef_[:, self.n_dense_ :]
        for row, (index, values) in enumerate(self._tfidf_rows(texts, self.idf_)):
            logits[row] += sparse_coef[:, index] @ values
        return (1.0 / (1.0 + np.exp(-np.clip(logits, -30, 30)))).astype(np.float32)

    # -- storage ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "clause_ids": list(self.clause_ids),
            "categories": list(self.categories),
            "c": self.c,
            "n_features": self.n_features,
            "ngram_range": list(self.ngram_range),
            "n_dense": self.n_dense_,
            "intercept": [round(float(b), 4) for b in self.intercept_],
            "coef_float16_base64": _encode(self.coef_),
            "idf_float16_base64": _encode(self.idf_),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClauseScorer:
        scorer = cls(data["clause_ids"], data["categories"], data["c"], data["n_features"], tuple(data["ngram_range"]))
        scorer.n_dense_ = int(data["n_dense"])
        scorer.intercept_ = np.asarray(data["intercept"], dtype=np.float32)
        scorer.coef_ = _decode(
            data["coef_float16_base64"], (len(scorer.clause_ids), scorer.n_dense_ + scorer.n_features)
        )
        scorer.idf_ = _decode(data["idf_float16_base64"], (scorer.n_features,))
        return scorer
