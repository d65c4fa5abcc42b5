"""Clause status: near-misses above the floor are "possible", never missing; confidence bands."""

from __future__ import annotations

import numpy as np

from evidence_nlp.coverage import HIGH, LOW, MISSING, WEAK, CoverageAssessor
from evidence_nlp.guideline import load_guideline
from evidence_nlp.match import ClauseScore, PassageMatch
from evidence_nlp.segment import Passage

TEXT = "我始终坚持一次做对，对检验数据从不弄虚作假。"


def _assess(best: float, **options):
    guideline = load_guideline()
    passages = [Passage("p1", 0, len(TEXT), TEXT, "text", None, 0)]
    proba = np.zeros((1, len(guideline.clause_ids)), dtype=np.float32)
    proba[0, guideline.clause_ids.index("1.1a")] = best
    matches = [PassageMatch("p1", ())]
    coverage = CoverageAssessor(near_miss_min_score=0.2, **options).assess(guideline, passages, matches, proba)
    return {c.clause_id: c for c in coverage.clauses}, coverage.flags


def test_a_near_miss_above_the_floor_is_possible_not_missing():
    clauses, flags = _assess(0.43, possible_min_score=0.3)
    clause = clauses["1.1a"]
    assert clause.status == WEAK and clause.possible and clause.evidence == ("p1",)
    assert clause.confidence == LOW
    assert any(f.code == "clause_possible" and f.clause == "1.1a" and "可能已涉及" in f.message for f in flags)
    assert not any(f.code == "clause_missing" and f.clause == "1.1a" for f in flags)


def test_below_the_floor_the_clause_stays_missing():
    clauses, _ = _assess(0.25, possible_min_score=0.3)
    assert clauses["1.1a"].status == MISSING and not clauses["1.1a"].possible
    assert clauses["1.2a"].status == MISSING and clauses["1.2a"].confidence == HIGH  # nothing came close


def test_confidence_grows_with_the_margin_from_the_boundary():
    assessor = CoverageAssessor(match_threshold=0.5, possible_min_score=0.3)
    assert [assessor.confidence(WEAK, p) for p in (0.55, 0.65, 0.9)] == ["low", "medium", "high"]
    assert [assessor.confidence(MISSING, p) for p in (0.25, 0.15, 0.0)] == ["low", "medium", "high"]


def test_matched_evidence_is_not_marked_possible():
    guideline = load_guideline()
    passages = [Passage("p1", 0, len(TEXT), TEXT, "text", None, 0)]
    proba = np.zeros((1, len(guideline.clause_ids)), dtype=np.float32)
    proba[0, guideline.clause_ids.index("1.1a")] = 0.9
    matches = [PassageMatch("p1", (ClauseScore("1.1a", 0.9),))]
    coverage = CoverageAssessor().assess(guideline, passages, matches, proba)
    clause = next(c for c in coverage.clauses if c.clause_id == "1.1a")
    assert clause.status != MISSING and not clause.possible
