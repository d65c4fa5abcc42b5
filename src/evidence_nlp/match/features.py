"""Features: the signals the matcher weighs for every (passage, clause) pair.

Semantic similarity of the passage to the clause's text and exemplars, lexical evidence (clause
keywords, TF-IDF over jieba words), the section link from the headings, comparison cues for the
results-comparison clauses, prototypes of annotated passages, and the supervised scorer's
paragraph probabilities (scorer.py). Reads passages and the guideline; writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import cues
from ..embed import Encoder, cached_encode, encode_windows
from ..guideline import Clause, Guideline
from ..segment import Passage
from ..tokenize import Tokenizer
from .scorer import ClauseScorer

FEATURES = (
    "semantic",  # max cosine between passage windows and the clause's descriptions
    "semantic_z",  # the same, standardised across clauses for this passage (encoders differ in scale)
    "semantic_doc_z",  # ... standardised across the document's passages for this clause
    "semantic_top",  # the clause is this passage's nearest clause
    "keywords",  # share of the clause's keywords found in the passage (capped at 3 hits)
    "tfidf",  # cosine of jieba-word TF-IDF vectors
    "tfidf_z",
    "tfidf_doc_z",
    "paragraph_semantic_z",  # semantic_z of the passage's paragraph (its best passage)
    "paragraph_keywords",  # keywords share over the whole paragraph
    "prototype_z",  # similarity to the clause's prototype (mean of annotated training passages), standardised
    "section_item",  # the passage sits under a heading linked to the clause's item
    "section_category",  # ... or to the clause's category
    "section_other",  # the passage sits under a linked heading of another category
    "no_section",  # the passage sits under no linked heading (no headings, or own-words ones)
    "content_rank",  # 1/rank of the clause for this passage by content (prototype + paragraph semantics)
    "section_item_semantic",  # section_item x semantic_z: a heading and content that agree
    "comparison_cue",  # comparison clause and the passage compares with the past or a benchmark
    "results_specific",  # results clause and the passage holds figures
    "supervised",  # the supervised scorer's probability for the passage's paragraph (scorer.py)
    "supervised_z",  # ... standardised across clauses for this paragraph
)


def inverse_rank(matrix: np.ndarray) -> np.ndarray:
    """1 for each row's highest value, 1/2 for the second, …"""
    ranks = np.argsort(np.argsort(-matrix, axis=1, kind="stable"), axis=1, kind="stable")
    return (1.0 / (ranks + 1)).astype(np.float32)


def zscore(matrix: np.ndarray) -> np.ndarray:
    mean = matrix.mean(axis=1, keepdims=True)
    std = matrix.std(axis=1, keepdims=True)
    return (matrix - mean) / np.maximum(std, 1e-6)


class TfidfModel:
    """TF-IDF as scikit-learn's TfidfVectorizer(sublinear_tf=True, norm="l2") computes it, in a
    few lines of numpy: importing scikit-learn costs ~0.8 s of every cold start."""

    def fit(self, documents: Sequence[Sequence[str]]) -> TfidfModel:
        vocabulary = sorted({word for document in documents for word in document})
        self.vocabulary_ = {word: i for i, word in enumerate(vocabulary)}
        frequency = np.zeros(len(vocabulary), dtype=np.float64)
        for document in documents:
            for word in set(document):
                frequency[self.vocabulary_[word]] += 1
        self.idf_ = np.log((1 + len(documents)) / (1 + frequency)) + 1.0  # smoothed idf
        return self

    def transform(self, documents: Sequence[Sequence[str]]) -> np.ndarray:
        matrix = np.zeros((len(documents), len(self.vocabulary_)), dtype=np.float64)
        for row, document in enumerate(documents):
            for word in document:
                column = self.vocabulary_.get(word)
                if column is not None:
                    matrix[row, column] += 1
        present = matrix > 0
        np.log(matrix, out=matrix, where=present)
        matrix[present] += 1  # sublinear tf: 1 + ln(tf)
        matrix *= self.idf_
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return (matrix / np.maximum(norms, 1e-12)).astype(np.float32)


class ClauseFeatures:
    """The signals of FEATURES for every (passage, clause) pair. scikit-learn style: `fit(guideline)`
    prepares the clause side (fitted attributes end in "_"), `transform(passages, …)` gives the
    (n_passages, n_clauses, n_features) tensor."""

    def __init__(self, encoder: Encoder | None, tokenizer: Tokenizer | None = None) -> None:
        self.encoder = encoder
        self.tokenizer = tokenizer

    # -- clause side ------------------------------------------------------------------------
    def fit(self, guideline: Guideline) -> ClauseFeatures:
        self.tokenizer_ = self.tokenizer or Tokenizer()
        self.clause_ids_ = guideline.clause_ids
        clauses = [guideline.clauses[cid] for cid in self.clause_ids_]
        descriptions: list[str] = []
        owners: list[int] = []
        for index, clause in enumerate(clauses):
            texts = [self._title(guideline, clause), *clause.exemplars]
            if clause.keywords:
                texts.append("、".join(clause.keywords))
            # "与个人以往以及标杆的比对" reads the same in every results item: the item's other
            # clauses say which results are being compared.
            for sibling in self._siblings(guideline, clause):
                texts += [self._title(guideline, sibling), *sibling.exemplars]
            descriptions += texts
            owners += [index] * len(texts)
        self.description_owner_ = np.asarray(owners, dtype=np.int64)
        self.description_vectors_ = (
            cached_encode(self.encoder, descriptions, role="query") if self.encoder is not None else None
        )
        documents = [
            " ".join(
                self.tokenizer_.words(
                    " ".join(
                        [guideline.items[c.item_id].title, c.text, *c.keywords, *c.exemplars]
                        + [" ".join([s.text, *s.keywords]) for s in self._siblings(guideline, c)]
                    )
                )
            )
            for c in clauses
        ]
        self.tfidf_ = TfidfModel().fit([d.split() for d in documents])
        self.clause_tfidf_ = self.tfidf_.transform([d.split() for d in documents])
        self.keywords_ = [tuple(k.lower() for k in c.keywords) for c in clauses]
        self.item_ids_ = np.asarray([c.item_id for c in clauses])
        self.category_ids_ = np.asarray([c.category_id for c in clauses])
        self.is_comparison_ = np.asarray([c.is_comparison for c in clauses], dtype=bool)
        self.is_results_ = np.asarray([c.kind == "results" for c in clauses], dtype=bool)
        return self

    @staticmethod
    def _title(guideline: Guideline, clause: Clause) -> str:
        return f"{guideline.items[clause.item_id].title}：{clause.text}"

    @staticmethod
    def _siblings(guideline: Guideline, clause: Clause) -> list[Clause]:
        """For a comparison clause, the other clauses of its item; otherwise none."""
        if not clause.is_comparison:
            return []
        item = guideline.items[clause.item_id]
        return [guideline.clauses[cid] for cid in item.clause_ids if cid != clause.id]

    # -- passage side -----------------------------------------------------------------------
    @staticmethod
    def _mean_vectors(vectors: np.ndarray, owner: np.ndarray, count: int) -> np.ndarray:
        sums = np.zeros((count, vectors.shape[1]), dtype=np.float32)
        np.add.at(sums, owner, vectors)
        return sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)

    def passage_vectors(self, texts: Sequence[str]) -> np.ndarray:
        """One normalised vector per text: the mean of its windows."""
        vectors, owner = encode_windows(self.encoder, texts)
        return self._mean_vectors(vectors, owner, len(texts))

    def _prototype_scores(self, passage_vectors: np.ndarray, prototypes: dict[str, tuple[float, ...]]) -> np.ndarray:
        if self.encoder is None or not prototypes or not len(passage_vectors):
            return np.zeros((len(passage_vectors), len(self.clause_ids_)), dtype=np.float32)
        matrix = np.asarray([prototypes.get(c, np.zeros(self.encoder.dim)) for c in self.clause_ids_], dtype=np.float32)
        return zscore(passage_vectors @ matrix.T)

    def _semantic(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(passage x clause similarity, passage vectors), from one encoding of the windows."""
        n_clauses = len(self.clause_ids_)
        if self.encoder is None or not texts:
            return np.zeros((len(texts), n_clauses), dtype=np.float32), np.zeros((len(texts), 0), dtype=np.float32)
        vectors, owner = encode_windows(self.encoder, texts)
        window_scores = vectors @ self.description_vectors_.T  # windows x descriptions
        per_clause = np.full((len(vectors), n_clauses), -1.0, dtype=np.float32)
        for clause in range(n_clauses):
            per_clause[:, clause] = window_scores[:, self.description_owner_ == clause].max(axis=1)
        scores = np.full((len(texts), n_clauses), -1.0, dtype=np.float32)
        np.maximum.at(scores, owner, per_clause)  # a long passage is as close as its closest window
        return scores, self._mean_vectors(vectors, owner, len(texts))

    def _keyword_share(self, texts: Sequence[str]) -> np.ndarray:
        lowered = [cues.fold_width(t).lower() for t in texts]
        return np.asarray(
            [[min(3, sum(k in text for k in kws)) / 3.0 for kws in self.keywords_] for text in lowered],
            dtype=np.float32,
        ).reshape(len(texts), len(self.keywords_))

    @staticmethod
    def paragraph_rows(passages: Sequence[Passage]) -> tuple[list[int], list[int], list[int]]:
        """The text passages (indices), their paragraphs in document order (segmentation
        indices) and, per text passage, the row of its paragraph."""
        rows = [i for i, p in enumerate(passages) if p.kind == "text"]
        order = sorted({passages[i].paragraph for i in rows})
        position = {k: r for r, k in enumerate(order)}
        return rows, order, [position[passages[i].paragraph] for i in rows]

    def paragraph_inputs(
        self, passages: Sequence[Passage], passage_vectors: np.ndarray | None = None
    ) -> tuple[list[str], np.ndarray, list[str | None]]:
        """What the supervised scorer reads per paragraph: its text, the mean of its passages'
        vectors, and the section of its first passage. `passage_vectors` (one per text passage)
        saves encoding again when the caller has them."""
        rows, order, paragraph_row = self.paragraph_rows(passages)
        texts = [
            "".join(passages[i].text for i, r in zip(rows, paragraph_row, strict=True) if r == k)
            for k in range(len(order))
        ]
        sections: list[str | None] = [None] * len(order)
        for i, r in zip(reversed(rows), reversed(paragraph_row), strict=True):
            sections[r] = passages[i].section
        if self.encoder is None:
            vectors = np.zeros((len(order), 0), dtype=np.float32)
        else:
            if passage_vectors is None:
                passage_vectors = self.passage_vectors([passages[i].text for i in rows])
            vectors = self._mean_vectors(passage_vectors, np.asarray(paragraph_row, dtype=np.int64), len(order))
        return texts, vectors, sections

    def supervised_scores(
        self, scorer: ClauseScorer | None, inputs: tuple[list[str], np.ndarray, list[str | None]]
    ) -> np.ndarray:
        """(n_paragraphs, n_clauses) supervised probabilities in this guideline's clause order; a
        clause the scorer never saw scores 0."""
        texts, vectors, sections = inputs
        out = np.zeros((len(texts), len(self.clause_ids_)), dtype=np.float32)
        if scorer is None or not texts:
            return out
        scores = scorer.predict_proba(texts, vectors, sections)
        for column, cid in enumerate(self.clause_ids_):
            if cid in scorer.clause_ids:
                out[:, column] = scores[:, scorer.clause_ids.index(cid)]
        return out

    def transform(
        self,
        passages: Sequence[Passage],
        prototypes: dict[str, tuple[float, ...]] | None = None,
        scorer: ClauseScorer | None = None,
    ) -> np.ndarray:
        """(n_passages, n_clauses, n_features) feature tensor; heading passages get zeros.
        `prototypes` and `scorer` come from the trained model (LinearModel)."""
        n_clauses = len(self.clause_ids_)
        out = np.zeros((len(passages), n_clauses, len(FEATURES)), dtype=np.float32)
        # Gold evidence is judged per paragraph: give each passage its paragraph's view too.
        rows, paragraph_order, paragraph_row = self.paragraph_rows(passages)
        if not rows:
            return out
        texts = [passages[i].text for i in rows]
        semantic, passage_vectors = self._semantic(texts)
        paragraph_texts, paragraph_vectors, paragraph_sections = self.paragraph_inputs(passages, passage_vectors)
        # A paragraph is as close to a clause as its closest passage (no second encoding pass).
        paragraph_best = np.full((len(paragraph_order), semantic.shape[1]), -1.0, dtype=np.float32)
        np.maximum.at(paragraph_best, paragraph_row, semantic)
        paragraph_semantic = paragraph_best[paragraph_row]
        words = [" ".join(self.tokenizer_.words(t)) for t in texts]
        tfidf = self.tfidf_.transform([w.split() for w in words]) @ self.clause_tfidf_.T
        keywords = self._keyword_share(texts)
        paragraph_keywords = self._keyword_share(paragraph_texts)[paragraph_row]
        compares = np.asarray([cues.mentions_past_comparison(t) or cues.mentions_benchmark(t) for t in texts])
        specific = np.asarray([cues.specificity(t) for t in texts], dtype=np.float32)
        sections = [passages[i].section for i in rows]
        section_item = np.asarray([[s is not None and s == item for item in self.item_ids_] for s in sections])
        section_category = np.asarray(
            [[s is not None and s.split(".")[0] == cat for cat in self.category_ids_] for s in sections]
        )
        section_known = np.asarray([s is not None for s in sections])[:, None]
        semantic_z = zscore(semantic) if self.encoder is not None else semantic
        paragraph_semantic_z = zscore(paragraph_semantic) if self.encoder is not None else paragraph_semantic
        prototype = self._prototype_scores(passage_vectors, prototypes or {})
        supervised = self.supervised_scores(scorer, (paragraph_texts, paragraph_vectors, paragraph_sections))[
            paragraph_row
        ]
        top = semantic if self.encoder is not None else tfidf
        block = np.stack(
            [
                semantic,
                semantic_z,
                zscore(semantic.T).T if self.encoder is not None else semantic,
                top == top.max(axis=1, keepdims=True),
                keywords,
                tfidf,
                zscore(tfidf),
                zscore(tfidf.T).T,
                paragraph_semantic_z,
                paragraph_keywords,
                prototype,
                section_item,
                section_category,
                section_known & ~section_category,
                np.broadcast_to(~section_known, section_item.shape),
                inverse_rank(prototype + paragraph_semantic_z + paragraph_keywords),
                section_item * semantic_z,
                compares[:, None] & self.is_comparison_[None, :],
                specific[:, None] * self.is_results_[None, :],
                supervised,
                zscore(supervised),
            ],
            axis=-1,
        ).astype(np.float32)
        out[rows] = block
        return out
