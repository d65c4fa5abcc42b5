"""Grouped cross-validation by writer: how the matcher does on writing it has never seen.

Each fold holds out whole writers; the matcher is trained on the other writers (tuned on a
writer-disjoint slice of them, as `evidence-nlp train` tunes on dev) and scored on the held-out
ones. No writer is ever in both the training and the scoring side of a fold.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from typing import Any

from . import metrics
from .embed import MemoEncoder
from .evaluate import DocumentResult, GoldDocument, format_summaries, run_documents, summarise, summarise_results
from .match import LinearModel
from .pipeline import Analyzer
from .train import encode_corpus, single_threaded, train

# Figures reported as mean ± sd over folds (dotted paths into evaluate.summarise's dict).
FOLD_FIGURES = (
    "mapping.precision",
    "mapping.recall",
    "mapping.f1",
    "top1_accuracy",
    "precision_at_90_recall",
    "status_accuracy",
    "status_macro_f1",
    "gap_detection.precision",
    "gap_detection.recall",
    "gap_detection.f1",
    "comparison_accuracy",
    "trend_accuracy",
)


def writer_folds(documents: Sequence[GoldDocument], k: int) -> list[list[str]]:
    """k groups of writers with about equal numbers of documents (largest writer first into the
    smallest fold; ties by name, so the folds are the same on every machine)."""
    counts: dict[str, int] = {}
    for document in documents:
        counts[document.writer] = counts.get(document.writer, 0) + 1
    if len(counts) < 2:
        raise ValueError("grouped cross-validation needs documents from at least 2 writers")
    k = min(k, len(counts))
    folds: list[list[str]] = [[] for _ in range(k)]
    sizes = [0] * k
    for writer in sorted(counts, key=lambda w: (-counts[w], w)):
        target = min(range(k), key=lambda i: (sizes[i], i))
        folds[target].append(writer)
        sizes[target] += counts[writer]
    return folds


def _figure(summary: dict[str, Any], path: str) -> float | None:
    value: Any = summary
    for part in path.split("."):
        value = value[part]
    return None if value is None else float(value)


def cross_validate(
    analyzer: Analyzer,
    documents: Sequence[GoldDocument],
    k: int = 5,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Train and score one model per fold; per-fold figures, mean ± sd, and the held-out
    documents of all folds pooled (overall, per heading form, per clause, per document)."""
    if analyzer.encoder is not None and not isinstance(analyzer.matcher.encoder, MemoEncoder):
        # Every fold re-encodes the same passages: encode each text once for the whole run.
        analyzer.matcher.encoder = MemoEncoder(analyzer.matcher.encoder)
    writers = {d.writer for d in documents}
    if len(writers) < 3:
        raise ValueError(
            f"cross-validation by writer needs at least 3 writers (here {len(writers)}): each fold trains on "
            "one writer-disjoint group, tunes on another and scores a third"
        )
    folds = writer_folds(documents, k)
    for index, held_out in enumerate(folds):
        if len(writers - set(held_out)) < 2:
            raise ValueError(f"fold {index + 1} leaves fewer than 2 writers to train and tune on: use more folds")
    pooled: list[DocumentResult] = []
    per_fold = []
    with single_threaded():
        encode_corpus(analyzer, documents)  # every fold reads the same vectors
        for index, held_out in enumerate(folds):
            test_docs = [d for d in documents if d.writer in held_out]
            rest = [d for d in documents if d.writer not in held_out]
            rest_writers = writers - set(held_out)
            # Tune on a writer-disjoint slice of the training writers, the way train tunes on dev;
            # the slice rotates with the fold, so the folds are not all tuned on one writer's style.
            inner = writer_folds(rest, max(2, min(5, len(rest_writers))))
            dev_writers = set(inner[index % len(inner)])
            dev_docs = [d for d in rest if d.writer in dev_writers]
            train_docs = [d for d in rest if d.writer not in dev_writers]
            analyzer.set_model(LinearModel.default())
            model, _ = train(analyzer, train_docs, dev_docs)
            analyzer.set_model(model)
            results = run_documents(analyzer, test_docs)
            pooled += results
            summary = summarise(results, analyzer.guideline)
            per_fold.append(
                {
                    "fold": index + 1,
                    "test_writers": sorted(held_out),
                    "dev_writers": sorted(dev_writers),
                    "train_writers": sorted({d.writer for d in train_docs}),
                    "train_documents": len(train_docs),
                    "dev_documents": len(dev_docs),
                    "summary": summary,
                }
            )
            if progress:
                progress(
                    f"fold {index + 1}/{len(folds)}: held out {', '.join(sorted(held_out))} "
                    f"({len(test_docs)} docs), mapping F1 {summary['mapping']['f1']:.3f}"
                )
    analyzer.set_model(LinearModel.default())
    figures = {}
    for path in FOLD_FIGURES:
        # A fold whose documents cannot measure a figure (no trend in its gold) leaves it out.
        values = [v for f in per_fold if (v := _figure(f["summary"], path)) is not None]
        figures[path] = {
            "mean": round(statistics.fmean(values), 4) if values else None,
            "sd": round(statistics.stdev(values), 4) if len(values) > 1 else (0.0 if values else None),
        }
    return {
        "encoder": analyzer.encoder_name,
        "folds": per_fold,
        "mean_sd": figures,
        "pooled": summarise_results(pooled, analyzer.guideline),
        "documents": [r.gold.name for r in pooled],
    }


def format_cross_validation(result: dict[str, Any]) -> str:
    folds = result["folds"]
    lines = [
        f"grouped {len(folds)}-fold cross-validation by writer, encoder {result['encoder']}, "
        f"{len(result['documents'])} documents"
    ]
    width = max(len(p) for p in FOLD_FIGURES)
    lines.append(
        f"{'figure':{width}}  {'mean':>7}  {'sd':>6}  " + "  ".join(f"{'f' + str(f['fold']):>6}" for f in folds)
    )
    for path in FOLD_FIGURES:
        figure = result["mean_sd"][path]
        values = "  ".join(f"{metrics.figure(_figure(f['summary'], path)):>6}" for f in folds)
        lines.append(
            f"{path:{width}}  {metrics.figure(figure['mean']):>7}  {metrics.figure(figure['sd']):>6}  {values}"
        )
    lines.append("")
    lines.append("held-out documents of all folds, pooled:")
    lines += format_summaries(result["pooled"])
    lines.append("")
    for fold in folds:
        lines.append(
            f"fold {fold['fold']}: test {', '.join(fold['test_writers'])}; tuned on {', '.join(fold['dev_writers'])}; "
            f"{fold['train_documents']} train / {fold['dev_documents']} dev documents"
        )
    return "\n".join(lines) + "\n"
