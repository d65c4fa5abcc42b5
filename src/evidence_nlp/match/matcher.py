"""Match: score every (passage, clause) pair and assign each passage the clauses it evidences.

A linear model (logistic regression over features.FEATURES plus a per-clause bias, trained by
`evidence-nlp train`; hand-set defaults below) turns the signals into a probability; passages get
the clauses at or above the model's threshold.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import cues
from ..embed import Encoder, MemoEncoder
from ..guideline import Guideline
from ..segment import Heading, Passage
from ..tokenize import Tokenizer
from . import decode
from .features import FEATURES, ClauseFeatures
from .scorer import ClauseScorer

# Hand-set starting weights, used only when no trained model exists for the encoder.
DEFAULT_WEIGHTS = {
    "semantic": 2.0,
    "semantic_z": 0.9,
    "keywords": 2.5,
    "tfidf": 2.0,
    "tfidf_z": 0.5,
    "section_item": 2.2,
    "section_category": 0.8,
    "section_other": -1.2,
    "comparison_cue": 2.5,
    "results_specific": 0.3,
}
DEFAULT_BIAS = -5.0


@dataclass(frozen=True)
class ClauseScore:
    clause_id: str
    score: float


@dataclass(frozen=True)
class PassageMatch:
    passage_id: str
    clauses: tuple[ClauseScore, ...]  # assigned clauses, best first
    # Why the passage gives no evidence about the applicant (cues.not_about_applicant), if so.
    excluded: str | None = None


@dataclass(frozen=True)
class LinearModel:
    """Logistic model over FEATURES plus a per-clause bias, as stored in models/*.json.

    `coverage` holds the CoverageAssessor parameters tuned together with the model."""

    weights: tuple[float, ...]
    bias: float
    threshold: float = 0.5
    clause_bias: dict[str, float] = field(default_factory=dict)
    coverage: dict[str, float] = field(default_factory=dict)
    status_model: dict = field(default_factory=dict)  # coverage.StatusModel as stored, if trained
    # Mean embedding of the training passages annotated with each clause (for one encoder).
    prototypes: dict[str, tuple[float, ...]] = field(default_factory=dict, repr=False)
    source: str = "default"
    # Supervised per-clause paragraph scores learned from the corpus (None: feature is zero).
    scorer: ClauseScorer | None = field(default=None, repr=False, compare=False)

    @classmethod
    def default(cls) -> LinearModel:
        return cls(tuple(DEFAULT_WEIGHTS.get(f, 0.0) for f in FEATURES), DEFAULT_BIAS)

    @classmethod
    def load(cls, path: str | Path) -> LinearModel:
        try:
            raw = Path(path).read_bytes()
            data = json.loads(raw.decode("utf-8"))
            features = data["features"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: not a matcher model ({type(exc).__name__}: {exc})") from None
        if list(features) != list(FEATURES):
            raise ValueError(f"{path}: model features {features} do not match {list(FEATURES)}")
        return cls(
            tuple(float(w) for w in data["weights"]),
            float(data["bias"]),
            float(data["threshold"]),
            {k: float(v) for k, v in data.get("clause_bias", {}).items()},
            {k: float(v) for k, v in data.get("coverage", {}).items()},
            dict(data.get("status_model") or {}),
            {k: tuple(v) for k, v in (data.get("prototypes") or {}).items()},
            f"{Path(path).name}@{hashlib.sha256(raw).hexdigest()[:12]}",
            ClauseScorer.from_dict(data["scorer"]) if data.get("scorer") else None,
        )

    def predict_proba(self, features: np.ndarray, clause_ids: Sequence[str] | None = None) -> np.ndarray:
        logits = features @ np.asarray(self.weights, dtype=np.float32) + np.float32(self.bias)
        if clause_ids is not None and self.clause_bias:
            logits = logits + np.asarray([self.clause_bias.get(c, 0.0) for c in clause_ids], dtype=np.float32)
        return 1.0 / (1.0 + np.exp(-logits))


class ClauseMatcher:
    """scikit-learn style: parameters in __init__, `fit(guideline)` prepares the clause side
    (fitted attributes end in "_"), `predict_proba` / `match` score passages."""

    def __init__(
        self,
        encoder: Encoder | None,
        tokenizer: Tokenizer | None = None,
        model: LinearModel | None = None,
        max_clauses: int = 4,
    ) -> None:
        self._encoder = encoder
        self.tokenizer = tokenizer
        self.model = model
        self.max_clauses = max_clauses

    @property
    def encoder(self) -> Encoder | None:
        return self._encoder

    @encoder.setter
    def encoder(self, encoder: Encoder | None) -> None:
        # Training wraps the encoder in a memo after fit: the features must use the same one.
        self._encoder = encoder
        if hasattr(self, "features_"):
            self.features_.encoder = encoder

    def fit(self, guideline: Guideline) -> ClauseMatcher:
        self.model_ = self.model or LinearModel.default()
        self.features_ = ClauseFeatures(self._encoder, self.tokenizer).fit(guideline)
        self.clause_ids_ = guideline.clause_ids
        self.clause_categories_ = tuple(guideline.clauses[c].category_id for c in self.clause_ids_)
        if self.model_.scorer is not None:
            self.model_.scorer.check_inputs(self._encoder.dim if self._encoder is not None else 0)
        return self

    @contextmanager
    def encoding_memo(self) -> Iterator[None]:
        """Encode each text once while inside (heading linking and matching read the same
        passages); the memo is dropped on exit, so a batch does not accumulate vectors."""
        if self._encoder is None or isinstance(self._encoder, MemoEncoder):
            yield
            return
        original = self._encoder
        self.encoder = MemoEncoder(original)
        try:
            yield
        finally:
            self.encoder = original

    # -- passages ------------------------------------------------------------------------------
    def passage_vectors(self, texts: Sequence[str]) -> np.ndarray:
        return self.features_.passage_vectors(texts)

    @staticmethod
    def paragraph_rows(passages: Sequence[Passage]) -> tuple[list[int], list[int], list[int]]:
        return ClauseFeatures.paragraph_rows(passages)

    def paragraph_inputs(
        self, passages: Sequence[Passage], passage_vectors: np.ndarray | None = None
    ) -> tuple[list[str], np.ndarray, list[str | None]]:
        return self.features_.paragraph_inputs(passages, passage_vectors)

    def features(self, passages: Sequence[Passage]) -> np.ndarray:
        return self.features_.transform(passages, self.model_.prototypes, self.model_.scorer)

    def link_headings(
        self, passages: Sequence[Passage], headings: Sequence[Heading], scorer: ClauseScorer | None = None
    ) -> tuple[Passage, ...]:
        """The passages with own-words headings linked by their ordinal where the content beneath
        agrees (decode.link_ordinal_headings), judged by the supervised scorer (the model's, or
        `scorer`); unchanged without a scorer."""
        scorer = scorer if scorer is not None else self.model_.scorer
        if scorer is None or decode.ordinal_headings(passages, headings) is None:
            return tuple(passages)  # most documents: no own-words numbered headings, nothing to score
        rows, _, paragraph_row = self.paragraph_rows(passages)
        scores = np.zeros((len(passages), len(self.clause_ids_)), dtype=np.float32)
        if rows:
            scores[rows] = self.features_.supervised_scores(scorer, self.paragraph_inputs(passages))[paragraph_row]
        return decode.link_ordinal_headings(passages, headings, scores, self.clause_categories_)

    def predict_proba(self, passages: Sequence[Passage]) -> np.ndarray:
        """(n_passages, n_clauses) probability that the passage gives evidence for the clause."""
        proba = self.model_.predict_proba(self.features(passages), self.clause_ids_)
        proba[[p.kind != "text" for p in passages]] = 0.0
        # Definitions and a news report's furniture say nothing about the applicant.
        proba[[p.kind == "text" and cues.not_about_applicant(p.text) is not None for p in passages]] = 0.0
        return proba

    def assign(self, proba: np.ndarray, passages: Sequence[Passage]) -> list[PassageMatch]:
        """Clauses at or above the model's threshold, at most max_clauses per passage, best first."""
        matches = []
        for row, passage in zip(proba, passages, strict=False):
            order = np.argsort(-row, kind="stable")[: self.max_clauses]
            chosen = tuple(
                ClauseScore(self.clause_ids_[j], round(float(row[j]), 4))
                for j in order
                if row[j] >= self.model_.threshold
            )
            excluded = cues.not_about_applicant(passage.text) if passage.kind == "text" else None
            matches.append(PassageMatch(passage.id, () if excluded else chosen, excluded))
        return matches

    def match(self, passages: Sequence[Passage]) -> tuple[list[PassageMatch], np.ndarray]:
        proba = self.predict_proba(passages)
        return self.assign(proba, passages), proba
