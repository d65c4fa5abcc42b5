"""Evaluation metrics as pure functions over plain Python values (tested on hand-made cases)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class PRF:
    precision: float
    recall: float
    f1: float
    support: int  # gold positives

    def as_dict(self) -> dict[str, float]:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1, "support": self.support}


def prf(true_positives: int, predicted: int, gold: int) -> PRF:
    precision = true_positives / predicted if predicted else 0.0
    recall = true_positives / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PRF(round(precision, 4), round(recall, 4), round(f1, 4), gold)


def micro_prf(pairs: Iterable[tuple[set[str], set[str]]]) -> PRF:
    """Micro precision/recall/F1 over (unit, label) pairs; each item is (gold set, predicted set)."""
    tp = predicted = gold = 0
    for gold_set, predicted_set in pairs:
        tp += len(gold_set & predicted_set)
        predicted += len(predicted_set)
        gold += len(gold_set)
    return prf(tp, predicted, gold)


def top1_accuracy(pairs: Iterable[tuple[set[str], str | None]]) -> float:
    """Share of units whose best-scoring label is in their (non-empty) gold set."""
    hits = total = 0
    for gold_set, best in pairs:
        if not gold_set:
            continue
        total += 1
        hits += best in gold_set
    return round(hits / total, 4) if total else 0.0


def figure(value: float | None) -> str:
    """A figure for a table: three decimals, or a dash where nothing could be measured."""
    return "—" if value is None else f"{value:.3f}"


def accuracy(gold: Sequence[object], predicted: Sequence[object]) -> float:
    if not gold:
        return 0.0
    return round(sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold), 4)


def macro_f1(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> float:
    """Unweighted mean of per-label F1 (labels absent from both sides count as F1 = 0 only if
    they appear in gold or predictions; otherwise they are skipped)."""
    scores = []
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, predicted, strict=True))
        n_pred = sum(p == label for p in predicted)
        n_gold = sum(g == label for g in gold)
        if n_pred or n_gold:
            scores.append(prf(tp, n_pred, n_gold).f1)
    return round(sum(scores) / len(scores), 4) if scores else 0.0


def binary_prf(gold: Sequence[bool], predicted: Sequence[bool]) -> PRF:
    tp = sum(g and p for g, p in zip(gold, predicted, strict=True))
    return prf(tp, sum(predicted), sum(gold))


def confusion(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> dict[str, dict[str, int]]:
    """confusion[gold][predicted] counts."""
    table = {g: {p: 0 for p in labels} for g in labels}
    for g, p in zip(gold, predicted, strict=True):
        table[g][p] += 1
    return table


def precision_at_recall(labels: Sequence[bool], scores: Sequence[float], recall: float) -> float:
    """Interpolated precision at `recall`, as CUAD reports it: the best precision of any
    score-ranked list that reaches that share of the positives. Tied scores are taken as one block
    (never split in the ranking's favour), so pairs nobody scored come in together, at their base
    rate. 0.0 when there are no positives."""
    positives = sum(labels)
    if not positives:
        return 0.0
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    needed = recall * positives - 1e-9
    best = 0.0
    hits = i = 0
    while i < len(order):
        j = i
        while j < len(order) and scores[order[j]] == scores[order[i]]:
            hits += bool(labels[order[j]])
            j += 1
        if hits >= needed:
            best = max(best, hits / j)
        i = j
    return round(best, 4)
