"""The supervised clause scorer on small hand-made data."""

from __future__ import annotations

import json
import zlib

import numpy as np

from evidence_nlp.match import ClauseScorer

TEXTS = [
    "我带徒弟十二人，其中五人取得高级工证书",
    "徒弟们在技能大赛中获奖，我坚持师带徒",
    "客户投诉后我当天到现场，了解客户需求",
    "每季度走访客户，倾听客户意见和建议",
    "通过QC小组分析原因，制定对策，不良率下降",
    "运用PDCA循环持续改进，识别改进机会",
]
LABELS = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1]], dtype=bool)
CLAUSES = ("4.2b", "3.1a", "6.1a")
SECTIONS = ["4.2", None, "3.1", None, None, "6.1"]


def _fitted(vectors=None):
    vectors = np.zeros((len(TEXTS), 0)) if vectors is None else vectors
    return ClauseScorer(CLAUSES, ["3", "4", "6"], c=4.0, n_features=2**10).fit(TEXTS, vectors, SECTIONS, LABELS)


def test_scorer_ranks_the_right_clause_first_for_unseen_wording():
    scorer = _fitted()
    unseen = ["师傅带徒弟，徒弟考取证书", "上门听取客户的意见", "用QC方法分析原因并改进"]
    proba = scorer.predict_proba(unseen, np.zeros((3, 0)), [None, None, None])
    assert proba.shape == (3, 3) and ((0 <= proba) & (proba <= 1)).all()
    assert list(proba.argmax(axis=1)) == [0, 1, 2]


def test_a_heading_category_pulls_towards_its_clauses():
    scorer = _fitted()
    text = ["客户投诉后我到现场了解客户需求"]
    plain = scorer.predict_proba(text, np.zeros((1, 0)), [None])[0]
    under_learning = scorer.predict_proba(text, np.zeros((1, 0)), ["4.2"])[0]
    assert under_learning[0] > plain[0] and under_learning[1] < plain[1]


def test_stored_scorer_predicts_exactly_what_the_fitted_one_does():
    vectors = np.random.default_rng(0).normal(size=(len(TEXTS), 4)).astype(np.float32)
    scorer = _fitted(vectors)
    stored = ClauseScorer.from_dict(json.loads(json.dumps(scorer.to_dict())))
    probe = ["我坚持师带徒，带出高级工", "改进不良率"]
    probe_vectors = vectors[:2]
    np.testing.assert_array_equal(
        scorer.predict_proba(probe, probe_vectors, [None, "6.1"]),
        stored.predict_proba(probe, probe_vectors, [None, "6.1"]),
    )


def test_character_ngrams_ignore_width_and_case_and_are_stable():
    scorer = _fitted()
    assert np.array_equal(scorer._counts("ＱＣ小组")[0], scorer._counts("qc小组")[0])
    # crc32, not Python's salted hash(): the same indices in every process.
    expected = sorted({zlib.crc32(g.encode("utf-8")) % 2**10 for g in ("徒", "弟", "徒弟")})
    assert scorer._counts("徒弟")[0].tolist() == expected


def test_a_scorer_for_another_encoder_is_a_clear_error_at_load_time():
    import pytest
    from typer.testing import CliRunner

    from evidence_nlp.cli import app

    from .conftest import ROOT

    with pytest.raises(ValueError, match="trained on 4-dimensional vectors, this encoder gives 0"):
        _fitted(np.zeros((len(TEXTS), 4), dtype=np.float32)).check_inputs(0)
    sample = ROOT / "corpus" / "samples" / "welder_structured_gbk.txt"
    model = ROOT / "models" / "matcher-usem3.json"
    result = CliRunner().invoke(app, ["analyze", str(sample), "--encoder", "lexical", "--matcher", str(model)])
    assert result.exit_code == 2 and "use the matcher model trained for this encoder" in result.output


def test_a_clause_always_cited_in_training_is_always_predicted():
    labels = LABELS.copy()
    labels[:, 2] = True
    scorer = ClauseScorer(CLAUSES, ["3", "4", "6"], n_features=2**10).fit(TEXTS, np.zeros((6, 0)), SECTIONS, labels)
    assert scorer.predict_proba(["任何一段话"], np.zeros((1, 0)), [None])[0, 2] > 0.99
