"""Metric code on hand-made cases with known answers."""

from __future__ import annotations

import pytest

from evidence_nlp import metrics


def test_micro_prf_over_paragraph_label_sets():
    pairs = [
        ({"1.1a", "1.1b"}, {"1.1a"}),  # 1 tp, 1 fn
        ({"3.2a"}, {"3.2a", "3.2b"}),  # 1 tp, 1 fp
        (set(), {"7.1a"}),  # 1 fp
        ({"6.1a"}, set()),  # 1 fn
    ]
    score = metrics.micro_prf(pairs)
    assert score.precision == pytest.approx(2 / 4)
    assert score.recall == pytest.approx(2 / 4)
    assert score.f1 == pytest.approx(0.5)
    assert score.support == 4


def test_prf_with_nothing_predicted_or_nothing_gold():
    assert metrics.micro_prf([(set(), set())]).f1 == 0.0
    assert metrics.prf(0, 0, 3).recall == 0.0
    assert metrics.prf(3, 3, 3).f1 == 1.0


def test_top1_accuracy_ignores_paragraphs_without_gold():
    pairs = [({"1.1a"}, "1.1a"), ({"3.2a", "3.2b"}, "3.2b"), ({"5.1a"}, "6.1a"), (set(), "7.1a"), ({"2.1a"}, None)]
    assert metrics.top1_accuracy(pairs) == pytest.approx(2 / 4)


def test_three_class_accuracy_macro_f1_and_confusion():
    gold = ["covered", "covered", "weak", "missing", "missing", "weak"]
    pred = ["covered", "weak", "weak", "missing", "covered", "missing"]
    assert metrics.accuracy(gold, pred) == pytest.approx(3 / 6)
    # covered: P 1/2 R 1/2 F1 .5; weak: P 1/2 R 1/2 F1 .5; missing: P 1/2 R 1/2 F1 .5
    assert metrics.macro_f1(gold, pred, ["covered", "weak", "missing"]) == pytest.approx(0.5)
    table = metrics.confusion(gold, pred, ["covered", "weak", "missing"])
    assert table["covered"] == {"covered": 1, "weak": 1, "missing": 0}
    assert table["missing"]["covered"] == 1 and table["weak"]["missing"] == 1


def test_gap_detection_is_binary_prf():
    gold_gap = [True, True, False, False, True]
    predicted_gap = [True, False, True, False, True]
    score = metrics.binary_prf(gold_gap, predicted_gap)
    assert score.precision == pytest.approx(2 / 3, abs=1e-4) and score.recall == pytest.approx(2 / 3, abs=1e-4)


def test_mismatched_lengths_are_an_error():
    with pytest.raises(ValueError):
        metrics.accuracy(["covered"], ["covered", "weak"])


def test_precision_at_recall_takes_the_shortest_ranked_list_reaching_the_recall():
    labels = [True, False, True, False, True, False]
    scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
    # 3 positives: 90 % recall needs all 3, reached at rank 5 (3 of 5 are right).
    assert metrics.precision_at_recall(labels, scores, 0.9) == pytest.approx(3 / 5)
    # 2 of 3 (>= 60 %) are reached at rank 3.
    assert metrics.precision_at_recall(labels, scores, 0.6) == pytest.approx(2 / 3, abs=1e-4)


def test_precision_at_recall_takes_tied_scores_whole():
    # A tie at 0.5 between a hit and a miss: the block is taken whole, not split in the hit's favour.
    assert metrics.precision_at_recall([True, True, False], [0.9, 0.5, 0.5], 0.9) == pytest.approx(2 / 3, abs=1e-4)
    # A positive nobody scored is reached only by listing every unscored pair: precision falls to that block's.
    assert metrics.precision_at_recall([True, False, True, False], [0.9, 0.8, 0.0, 0.0], 0.9) == 0.5
    assert metrics.precision_at_recall([False, False], [0.3, 0.2], 0.9) == 0.0


def test_precision_at_recall_is_interpolated():
    # 2 of 3 positives are first reached at rank 4 (precision 0.5), but rank 5 reaches all 3 at 0.6:
    # the best precision at any recall of at least the target counts.
    assert metrics.precision_at_recall([True, False, False, True, True], [5, 4, 3, 2, 1], 0.6) == 0.6
