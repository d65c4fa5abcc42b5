"""Train the matcher's logistic model on the train split and tune its thresholds on dev.

The result is a JSON file in models/ (weights, per-clause bias, thresholds, coverage parameters
and a manifest). Training is deterministic: the same corpus, guideline, encoder and library
versions give a byte-identical file.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .coverage import StatusModel
from .embed import MemoEncoder, window_texts
from .evaluate import GoldDocument, compare, passage_paragraphs, summarise
from .ingest import read_document
from .match import FEATURES, ClauseScorer, LinearModel
from .pipeline import Analyzer

THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.2, 0.81, 0.05))
COVERED_MIN_SCORES = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
COVERED_MIN_SPECIFICITY = (0.0, 0.34, 0.67, 1.0)
COVERED_MIN_PROBABILITIES = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)  # the learned status model's
POSSIBLE_MIN_SCORES = (0.25, 0.3, 0.35, 0.4)  # floor above which a clause is "possible", not missing

# The committed model once came from lbfgs stopped at its default tolerance: the stopping point
# depended on the CPU's floating-point kernels, so a fresh machine retrained a first weight of
# -1.433 against the committed -1.463, while the converged optimum is -1.378. Newton-Cholesky
# solves the (convex, L2-regularised) problem to a tight tolerance, so any machine lands on the same
# optimum; the stored weights are rounded well above the differences that remain (~1e-5).
SOLVER = {"solver": "newton-cholesky", "tol": 1e-10, "max_iter": 200}
WEIGHT_DECIMALS = 4


def single_threaded():
    """One BLAS/OpenMP thread: no summation-order differences between thread counts."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def _prototypes(sums: np.ndarray, clause_ids: Sequence[str]) -> dict[str, tuple[float, ...]]:
    norms = np.linalg.norm(sums, axis=1)
    return {
        cid: tuple(round(float(x), 5) for x in sums[i] / norms[i]) for i, cid in enumerate(clause_ids) if norms[i] > 0
    }


def _cross_fit_groups(documents: Sequence[GoldDocument], k: int = 5) -> list[int]:
    """A fold number per document for cross-fitting: by writer when there are several, so a
    document's supervised scores come from a scorer that never read its writer; else by document."""
    writers = sorted({d.writer for d in documents})
    keys = [d.writer for d in documents] if len(writers) >= 2 else [d.name for d in documents]
    order = sorted(set(keys))
    return [order.index(key) % min(k, len(order)) for key in keys]


def training_pairs(
    analyzer: Analyzer, documents: Sequence[GoldDocument]
) -> tuple[
    np.ndarray,
    np.ndarray,
    np.ndarray,
    dict[str, tuple[float, ...]],
    ClauseScorer | None,
    dict[str, tuple[dict[str, tuple[float, ...]], ClauseScorer | None]],
]:
    """(features, clause index, label) for every (text passage, clause) pair, the clause
    prototypes, the supervised scorer, and per document the held-out prototypes and scorer its
    features were computed with (for anything else learned from the training documents).

    A passage's labels are the clauses of the gold paragraph it falls in. Each document's
    prototype feature comes from the other documents' passages (leave one out), and its
    supervised scores from a scorer fitted on the other writers (cross-fitting), so the model does
    not learn to trust a feature that saw the answer."""
    clause_ids = analyzer.guideline.clause_ids
    matcher = analyzer.matcher
    prepared = []
    for gold in documents:
        segmentation = analyzer.segmenter.segment(read_document(gold.path))
        passages = segmentation.passages
        owners = passage_paragraphs(passages, gold.paragraphs)
        keep, labels = [], []
        for i, owner in enumerate(owners):
            if passages[i].kind == "text" and owner is not None and not gold.paragraphs[owner].heading:
                keep.append(i)
                labels.append([cid in gold.paragraphs[owner].clauses for cid in clause_ids])
        labels_array = np.asarray(labels, dtype=bool).reshape(len(keep), len(clause_ids))
        sums = np.zeros((len(clause_ids), analyzer.encoder_dim or 1))
        if matcher.encoder is not None and keep:
            vectors = matcher.passage_vectors([passages[i].text for i in keep]).astype(np.float64)
            sums = labels_array.T.astype(np.float64) @ vectors
        # The scorer's view: one row per segmented paragraph, labelled by the gold paragraph of its
        # first text passage (a heading's or an unowned paragraph's row has no clause).
        text_rows, _, paragraph_row = matcher.paragraph_rows(passages)
        inputs = matcher.paragraph_inputs(passages)
        paragraph_labels = np.zeros((len(inputs[0]), len(clause_ids)), dtype=bool)
        for i, row in reversed(list(zip(text_rows, paragraph_row, strict=True))):
            owner = owners[i]
            paragraph_labels[row] = (
                [cid in gold.paragraphs[owner].clauses for cid in clause_ids] if owner is not None else False
            )
        prepared.append((passages, keep, labels_array, sums, inputs, paragraph_labels, segmentation.headings))
    total = sum(p[3] for p in prepared)
    folds = _cross_fit_groups(documents)

    def fit_scorer(members: Sequence[int]) -> ClauseScorer | None:
        if not members:
            return None
        texts = [t for m in members for t in prepared[m][4][0]]
        vectors = np.concatenate([prepared[m][4][1] for m in members])
        sections = [x for m in members for x in prepared[m][4][2]]
        labels = np.concatenate([prepared[m][5] for m in members])
        categories = sorted({c.category_id for c in analyzer.guideline.clauses.values()})
        return ClauseScorer(clause_ids, categories).fit(texts, vectors, sections, labels)

    fold_scorers = {fold: fit_scorer([m for m, f in enumerate(folds) if f != fold]) for fold in sorted(set(folds))}
    base = matcher.model_
    rows, clause_index, labels = [], [], []
    held_out: dict[str, tuple[dict[str, tuple[float, ...]], ClauseScorer | None]] = {}
    for index, (passages, keep, labels_array, sums, _, _, headings) in enumerate(prepared):
        prototypes = _prototypes(total - sums, clause_ids) if matcher.encoder is not None else {}
        held_out[documents[index].name] = (prototypes, fold_scorers[folds[index]])
        matcher.model_ = replace(base, prototypes=prototypes, scorer=fold_scorers[folds[index]])
        # Headings linked as analysis links them (pipeline.Analyzer), by the held-out scorer; the
        # links only add sections, so the passages and their labels stay row for row the same.
        features = matcher.features(matcher.link_headings(passages, headings))
        for row, i in enumerate(keep):
            rows.append(features[i])
            clause_index.append(np.arange(len(clause_ids)))
            labels.append(labels_array[row])
    matcher.model_ = base
    prototypes = _prototypes(total, clause_ids) if matcher.encoder is not None else {}
    # Rounded so that last-bit differences between BLAS builds cannot change the fitted weights.
    return (
        np.concatenate(rows).astype(np.float64).round(4),
        np.concatenate(clause_index),
        np.concatenate(labels),
        prototypes,
        fit_scorer(range(len(prepared))),
        held_out,
    )


def fit_model(
    features: np.ndarray, clause_index: np.ndarray, labels: np.ndarray, clause_ids: Sequence[str], c: float = 1.0
) -> LinearModel:
    from sklearn.linear_model import LogisticRegression

    one_hot = np.eye(len(clause_ids))[clause_index]
    design = np.hstack([features, one_hot])
    classifier = LogisticRegression(C=c, **SOLVER)
    with single_threaded():
        classifier.fit(design, labels)
    coef = classifier.coef_[0]
    weights = tuple(round(float(w), WEIGHT_DECIMALS) for w in coef[: len(FEATURES)])
    clause_bias = {
        cid: round(float(b), WEIGHT_DECIMALS) for cid, b in zip(clause_ids, coef[len(FEATURES) :], strict=True)
    }
    return LinearModel(weights, round(float(classifier.intercept_[0]), WEIGHT_DECIMALS), 0.5, clause_bias)


def _objective(summary: dict[str, Any]) -> float:
    return summary["mapping"]["f1"]


def tune(analyzer: Analyzer, model: LinearModel, dev: Sequence[GoldDocument]) -> tuple[LinearModel, dict[str, Any]]:
    """Pick the assignment threshold (paragraph mapping F1), then the coverage parameters
    (clause-status accuracy), on the dev documents. Neither changes the match probabilities, so
    each dev document is analysed once and only re-assessed per candidate."""
    analyzer.set_model(model)
    analyses = [analyzer.analyze_document(read_document(gold.path)) for gold in dev]

    def score(candidate: LinearModel) -> dict[str, Any]:
        analyzer.set_model(candidate)
        results = [compare(g, analyzer.reassess(a), a.proba) for g, a in zip(dev, analyses, strict=True)]
        return {"overall": summarise(results, analyzer.guideline)}

    best: tuple[float, LinearModel, dict[str, Any]] | None = None
    for threshold in THRESHOLDS:
        candidate = replace(model, threshold=threshold)
        result = score(candidate)
        value = _objective(result["overall"])
        if best is None or value > best[0] + 1e-9:
            best = (value, candidate, result)
    assert best is not None
    model = best[1]
    best_status: tuple[float, dict[str, float], dict[str, Any]] | None = None
    for min_score, min_specificity, floor in itertools.product(
        COVERED_MIN_SCORES, COVERED_MIN_SPECIFICITY, POSSIBLE_MIN_SCORES
    ):
        coverage = {
            "covered_min_score": min_score,
            "covered_min_specificity": min_specificity,
            "possible_min_score": floor,
        }
        result = score(replace(model, coverage=coverage))
        value = _status_objective(result)
        if best_status is None or value > best_status[0] + 1e-9:
            best_status = (value, coverage, result)
    assert best_status is not None
    model = replace(model, coverage=best_status[1])
    analyzer.set_model(model)
    return model, best_status[2]


def status_training_data(
    analyzer: Analyzer,
    documents: Sequence[GoldDocument],
    held_out: dict[str, tuple[dict[str, tuple[float, ...]], ClauseScorer | None]] | None = None,
) -> tuple[np.ndarray, list[str], list[str]]:
    """Clause-level features (coverage.STATUS_FEATURES), their clause ids and gold statuses, for
    the clauses the status model decides (not 7.xc, which follow the comparisons). With
    `held_out`, each training document is analysed with the prototypes and scorer that never saw
    it, as its match features were: the final scorer has memorised the training paragraphs."""
    from .coverage import status_features

    model = analyzer.matcher.model_
    guideline = analyzer.guideline
    decided = [i for i, cid in enumerate(guideline.clause_ids) if not guideline.clauses[cid].is_comparison]
    rows, clause_ids, labels = [], [], []
    for gold in documents:
        if held_out is not None and gold.name in held_out:
            prototypes, scorer = held_out[gold.name]
            analyzer.set_model(replace(model, prototypes=prototypes or model.prototypes, scorer=scorer))
        analysis = analyzer.analyze_document(read_document(gold.path))
        analyzer.set_model(model)
        features = status_features(guideline, analysis.segmentation.passages, analysis.proba)
        rows.append(features[decided])
        clause_ids += [guideline.clause_ids[i] for i in decided]
        labels += [gold.clause_status[guideline.clause_ids[i]] for i in decided]
    return np.concatenate(rows), clause_ids, labels


def fit_status_model(
    features: np.ndarray, clause_ids: Sequence[str], labels: Sequence[str], c: float = 1.0
) -> StatusModel:
    from sklearn.linear_model import LogisticRegression

    known = tuple(dict.fromkeys(clause_ids))
    design = StatusModel((), (), (), known).design(features, clause_ids)
    classifier = LogisticRegression(C=c, **SOLVER)
    with single_threaded():
        classifier.fit(design, labels)
    return StatusModel(
        tuple(str(c) for c in classifier.classes_),
        tuple(tuple(round(float(w), WEIGHT_DECIMALS) for w in row) for row in classifier.coef_),
        tuple(round(float(b), WEIGHT_DECIMALS) for b in classifier.intercept_),
        known,
    )


def tune_status(
    analyzer: Analyzer, model: LinearModel, dev: Sequence[GoldDocument]
) -> tuple[LinearModel, dict[str, Any]]:
    """The learned status model's covered threshold and the "possible" floor, chosen on dev by
    the status objective; the dev documents are analysed once and re-assessed per candidate."""
    analyzer.set_model(model)
    analyses = [analyzer.analyze_document(read_document(gold.path)) for gold in dev]
    best: tuple[float, LinearModel, dict[str, Any]] | None = None
    for probability in COVERED_MIN_PROBABILITIES:
        for floor in POSSIBLE_MIN_SCORES:
            candidate = replace(
                model,
                status_model={**model.status_model, "covered_min_probability": probability},
                coverage={**model.coverage, "possible_min_score": floor},
            )
            analyzer.set_model(candidate)
            results = [compare(g, analyzer.reassess(a), a.proba) for g, a in zip(dev, analyses, strict=True)]
            result = {"overall": summarise(results, analyzer.guideline)}
            value = _status_objective(result)
            if best is None or value > best[0] + 1e-9:
                best = (value, candidate, result)
    assert best is not None
    analyzer.set_model(best[1])
    return best[1], best[2]


def _status_objective(result: dict[str, Any]) -> float:
    return result["overall"]["status_accuracy"] + result["overall"]["gap_detection"]["f1"]


def corpus_hash(documents: Sequence[GoldDocument]) -> str:
    digest = hashlib.sha256()
    for gold in sorted(documents, key=lambda d: d.name):
        digest.update(gold.name.encode())
        digest.update(gold.path.read_bytes())
        digest.update((gold.gold_path or gold.path.with_name(gold.name + ".gold.json")).read_bytes())
    return digest.hexdigest()


def encode_corpus(analyzer: Analyzer, documents: Sequence[GoldDocument], workers: int | None = None) -> int:
    """Encode every passage window of the documents once, up front, in one process per core
    (MemoEncoder.prefill): training, tuning and cross-validation then read the remembered vectors.
    Returns the number of windows."""
    from .parallel import default_workers

    memo = analyzer.matcher.encoder
    if not isinstance(memo, MemoEncoder):
        return 0
    texts = [p.text for gold in documents for p in analyzer.segmenter.segment(read_document(gold.path)).passages]
    pieces, _ = window_texts(texts, memo.max_chars)
    memo.prefill(pieces, workers=default_workers() if workers is None else workers)
    return len(pieces)


def train(
    analyzer: Analyzer, train_docs: Sequence[GoldDocument], dev_docs: Sequence[GoldDocument], c: float = 1.0
) -> tuple[LinearModel, dict[str, Any]]:
    """Fit on train_docs, tune on dev_docs; the model and its manifest. One BLAS thread throughout,
    so encoding and fitting give the same numbers whatever the machine's thread count."""
    with single_threaded():
        return _train(analyzer, train_docs, dev_docs, c)


def _train(
    analyzer: Analyzer, train_docs: Sequence[GoldDocument], dev_docs: Sequence[GoldDocument], c: float
) -> tuple[LinearModel, dict[str, Any]]:
    if analyzer.encoder is not None and not isinstance(analyzer.matcher.encoder, MemoEncoder):
        analyzer.matcher.encoder = MemoEncoder(analyzer.matcher.encoder)
    encode_corpus(analyzer, [*train_docs, *dev_docs])
    features, clause_index, labels, prototypes, scorer, held_out = training_pairs(analyzer, train_docs)
    model = fit_model(features, clause_index, labels, analyzer.guideline.clause_ids, c=c)
    model = replace(model, prototypes=prototypes, scorer=scorer)
    model, dev_result = tune(analyzer, model, dev_docs)
    # A learned status model replaces the tuned thresholds only if it does better on dev.
    status = fit_status_model(*status_training_data(analyzer, train_docs, held_out), c=c)
    candidate, candidate_result = tune_status(analyzer, replace(model, status_model=status.to_dict()), dev_docs)
    if _status_objective(candidate_result) > _status_objective(dev_result):
        model, dev_result = candidate, candidate_result
    analyzer.set_model(model)
    import sklearn

    manifest = {
        "tool_version": __version__,
        "encoder": analyzer.encoder_name,
        "guideline": {"id": analyzer.guideline.id, "sha256": analyzer.guideline.sha256},
        "train": sorted(d.name for d in train_docs),
        "dev": sorted(d.name for d in dev_docs),
        "writers": {
            "train": sorted({d.writer for d in train_docs}),
            "dev": sorted({d.writer for d in dev_docs}),
        },
        "training_data_sha256": corpus_hash([*train_docs, *dev_docs]),
        "training_pairs": int(labels.size),
        "positive_pairs": int(labels.sum()),
        "regularisation_C": c,
        "status": "learned status model" if model.status_model else "tuned thresholds",
        "solver": SOLVER["solver"],
        "scikit_learn": sklearn.__version__,
        "numpy": np.__version__,
        "dev_metrics": {
            k: dev_result["overall"][k]
            for k in (
                "mapping",
                "top1_accuracy",
                "precision_at_90_recall",
                "status_accuracy",
                "gap_detection",
                "comparison_accuracy",
            )
        },
    }
    return model, manifest


def model_json(model: LinearModel, manifest: dict[str, Any]) -> str:
    data = {
        "features": list(FEATURES),
        "weights": list(model.weights),
        "bias": model.bias,
        "clause_bias": model.clause_bias,
        "threshold": model.threshold,
        "coverage": model.coverage,
        "status_model": model.status_model,
        "manifest": manifest,
        "prototypes": {k: list(v) for k, v in model.prototypes.items()},
        "scorer": model.scorer.to_dict() if model.scorer is not None else None,
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def write_model(path: Path, model: LinearModel, manifest: dict[str, Any]) -> None:
    from .report import write_atomic

    write_atomic(path, model_json(model, manifest))
