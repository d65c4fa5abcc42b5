"""Agreement between two annotations of the same narratives (the gold and a blind second one).

The second annotator labels the same text without seeing the gold; their agreement is the ceiling
that the tool's figures should be read against. Figures take the gold as reference: mapping
precision is "of the second annotator's citations, the share the gold also has".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import metrics
from .coverage import COVERED
from .evaluate import STATUSES, GoldDocument, GoldError, load_gold
from .guideline import Guideline
from .ingest import read_document


def _paired(first: GoldDocument, second: GoldDocument) -> list[tuple[set[str], set[str]]] | None:
    """Clause sets of the same text paragraphs in both annotations; a paragraph that either
    annotator calls a heading is left out, as evaluate leaves headings out of the tool's figures.
    When the writer reworded a sentence after the second copy
    was taken, the paragraphs are paired in order, provided there are as many and each pair is
    nearly the same text (similarity >= 0.8); None when a paragraph was rewritten beyond that, as
    the two annotators then labelled different texts."""
    from difflib import SequenceMatcher

    spans_first = [(p.start, p.end) for p in first.paragraphs]
    spans_second = [(p.start, p.end) for p in second.paragraphs]
    if spans_first != spans_second:
        text_first, text_second = read_document(first.path).text, read_document(second.path).text
        if len(spans_first) != len(spans_second) or any(
            SequenceMatcher(None, text_first[a:b], text_second[c:d], autojunk=False).ratio() < 0.8
            for (a, b), (c, d) in zip(spans_first, spans_second, strict=True)
        ):
            return None
    return [
        (set(p.clauses), set(q.clauses))
        for p, q in zip(first.paragraphs, second.paragraphs, strict=True)
        if not (p.heading or q.heading)
    ]


def _comparison_pairs(first: GoldDocument, second: GoldDocument, guideline: Guideline, kind: str) -> list[tuple]:
    """(first, second) flags of one kind for every results item, where both annotations have it."""
    pairs = []
    for item in guideline.comparison_items():
        a, b = first.comparisons.get(item.id, {}), second.comparisons.get(item.id, {})
        if kind in a and kind in b:
            pairs.append((a[kind], b[kind]))
    return pairs


def agreement(gold_dir: Path, second_dirs: Path | Sequence[Path], guideline: Guideline) -> dict[str, Any]:
    """Figures pooled over every document that one of the second annotators labelled."""
    folders = [second_dirs] if isinstance(second_dirs, Path) else list(second_dirs)
    second_files = []
    for folder in folders:
        files = sorted(folder.glob("*.gold.json"))
        if not files:
            raise GoldError(f"{folder}: no *.gold.json files")
        second_files += files
    pairs, status_first, status_second, rows, skipped = [], [], [], [], []
    comparisons: list[tuple] = []
    trends: list[tuple] = []
    for path in second_files:
        second = load_gold(path)
        first_path = gold_dir / path.name
        if not first_path.exists():
            raise GoldError(f"{path}: no gold annotation {first_path}")
        first = load_gold(first_path)
        doc_pairs = _paired(first, second)
        if doc_pairs is None:
            skipped.append(first.name)
            continue
        pairs += doc_pairs
        ids = guideline.clause_ids
        doc_status_first = [first.clause_status[c] for c in ids]
        doc_status_second = [second.clause_status[c] for c in ids]
        status_first += doc_status_first
        status_second += doc_status_second
        for kind in ("past", "benchmark"):
            comparisons += _comparison_pairs(first, second, guideline, kind)
        trends += _comparison_pairs(first, second, guideline, "trend")
        rows.append(
            {
                "doc": first.name,
                "writer": first.writer,
                "annotators": [first.annotator, second.annotator],
                "mapping_f1": metrics.micro_prf(doc_pairs).f1,
                "status_accuracy": metrics.accuracy(doc_status_first, doc_status_second),
            }
        )
    if not rows:
        raise GoldError(f"no document could be paired with its gold annotation (skipped: {', '.join(skipped)})")
    from sklearn.metrics import cohen_kappa_score

    kappa = float(cohen_kappa_score(status_first, status_second, labels=list(STATUSES)))
    return {
        "documents": len(rows),
        "paragraphs": len(pairs),
        "mapping": metrics.micro_prf(pairs).as_dict(),
        "paragraph_exact_agreement": metrics.accuracy([g for g, _ in pairs], [s for _, s in pairs]),
        "status_accuracy": metrics.accuracy(status_first, status_second),
        "status_kappa": round(kappa, 4) if math.isfinite(kappa) else None,  # undefined for one label
        "gap_detection": metrics.binary_prf(
            [s != COVERED for s in status_first], [s != COVERED for s in status_second]
        ).as_dict(),
        "comparison_accuracy": metrics.accuracy([a for a, _ in comparisons], [b for _, b in comparisons]),
        "trend_accuracy": metrics.accuracy([a for a, _ in trends], [b for _, b in trends]) if trends else None,
        "per_document": rows,
        "skipped": skipped,  # rewritten after the second annotator's copy was taken
    }


def format_agreement(result: dict[str, Any]) -> str:
    m, g = result["mapping"], result["gap_detection"]
    kappa, trend = metrics.figure(result["status_kappa"]), metrics.figure(result["trend_accuracy"])
    lines = [
        f"{result['documents']} documents, {result['paragraphs']} paragraphs annotated twice (gold = reference)",
        f"paragraph mapping   P {m['precision']:.3f}  R {m['recall']:.3f}  F1 {m['f1']:.3f}"
        f"   same clause set {result['paragraph_exact_agreement']:.3f}",
        f"clause status       accuracy {result['status_accuracy']:.3f}  Cohen's kappa {kappa}",
        f"gap detection       P {g['precision']:.3f}  R {g['recall']:.3f}  F1 {g['f1']:.3f}",
        f"comparisons         past/benchmark {result['comparison_accuracy']:.3f}  trend {trend}",
        "",
    ]
    if result["skipped"]:
        lines.insert(1, f"skipped (text rewritten after the second copy was taken): {', '.join(result['skipped'])}")
    for row in result["per_document"]:
        lines.append(
            f"  {row['doc']:34} {row['writer']:24} {row['annotators'][1]:18} map F1 {row['mapping_f1']:.3f}"
            f"  status {row['status_accuracy']:.3f}"
        )
    return "\n".join(lines) + "\n"
