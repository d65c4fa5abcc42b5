"""The bundled samples, analysed as a user first meets the tool, agree with their gold."""

from __future__ import annotations

import pytest

from evidence_nlp.coverage import COVERED
from evidence_nlp.evaluate import load_gold

from .conftest import ROOT

SAMPLES = [("welder_structured_gbk.txt", "weld_craftsman_zhou"), ("pm_no_headings.docx", "software_pm_deng")]


@pytest.mark.parametrize("sample, gold_name", SAMPLES)
def test_sample_statuses_agree_with_their_gold(analyzer, sample, gold_name):
    gold = load_gold(ROOT / "corpus" / "annotated" / f"{gold_name}.gold.json")
    analysis = analyzer.analyze(ROOT / "corpus" / "samples" / sample)
    status = {c.clause_id: c.status for c in analysis.coverage.clauses}
    agree = sum(status[cid] == gold.clause_status[cid] for cid in status) / len(status)
    assert agree >= 0.8, f"{sample}: {agree:.2f} of the clause statuses agree with the gold"
    # No gap flag on a clause the applicant answered with substance: the applicant would be told
    # to write what they already wrote.
    told_to_write = [cid for cid, s in status.items() if s != COVERED and gold.clause_status[cid] == COVERED]
    assert not told_to_write, f"{sample}: flagged as gaps but covered in the gold: {told_to_write}"
    # The comparison clauses follow the comparisons, as the gold's do.
    for item in analysis.guideline.comparison_items():
        assert status[item.comparison_clause] == gold.clause_status[item.comparison_clause]


def test_the_welders_integrity_paragraph_answers_1_1a(analyzer):
    """The issue's example: p3 (一次做对、焊焊合格 … 对检验数据从不弄虚作假) is a textbook 1.1a answer."""
    analysis = analyzer.analyze(ROOT / "corpus" / "samples" / "welder_structured_gbk.txt")
    clause = next(c for c in analysis.coverage.clauses if c.clause_id == "1.1a")
    assert clause.status != "missing" and "p3" in clause.evidence
