"""The annotated corpus, its validator, evaluation against gold and reproducible training."""

from __future__ import annotations

import json
import shutil

import numpy as np
from typer.testing import CliRunner

from evidence_nlp.cli import app
from evidence_nlp.evaluate import check_gold, compare, load_gold, load_split, passage_paragraphs
from evidence_nlp.segment import Passage

from .conftest import ROOT

GOLD = ROOT / "corpus" / "annotated"
runner = CliRunner()


def test_corpus_is_consistent_and_split():
    result = runner.invoke(app, ["corpus", "check", "--gold", str(GOLD)])
    assert result.exit_code == 0, result.output
    splits = json.loads((GOLD / "splits.json").read_text(encoding="utf-8"))
    names = {p.name.removesuffix(".gold.json") for p in GOLD.glob("*.gold.json")}
    assert len(names) >= 16
    assert set(splits["train"]) | set(splits["dev"]) | set(splits["test"]) == names
    assert not set(splits["test"]) & (set(splits["train"]) | set(splits["dev"]))
    documents = load_split(GOLD, "all")
    assert {d.path.suffix for d in documents} >= {".txt", ".docx"}
    assert any(d.has_headings for d in documents) and any(not d.has_headings for d in documents)


def test_corpus_check_rejects_inconsistent_gold(tmp_path, guideline):
    for name in ("weld_craftsman_zhou.txt", "weld_craftsman_zhou.gold.json"):
        shutil.copy(GOLD / name, tmp_path / name)
    (tmp_path / "splits.json").write_text('{"train": ["weld_craftsman_zhou"], "dev": [], "test": []}')
    gold_path = tmp_path / "weld_craftsman_zhou.gold.json"
    data = json.loads(gold_path.read_text(encoding="utf-8"))
    data["paragraphs"][3]["clauses"].append("9.9z")
    data["paragraphs"][4]["end"] = 10**7
    missing = next(c for c, s in data["clause_status"].items() if s == "missing")
    data["paragraphs"][5]["clauses"].append(missing)
    gold_path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    problems = check_gold(load_gold(gold_path), guideline)
    assert any("unknown clause ids ['9.9z']" in p for p in problems)
    assert any("offsets outside the text" in p for p in problems)
    assert any(f"{missing} is 'missing' but a paragraph cites it" in p for p in problems)
    result = runner.invoke(app, ["corpus", "check", "--gold", str(tmp_path)])
    assert result.exit_code == 1 and "problems in 1 documents" in result.output


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
    assert evaluation["split"] == "dev" and len(evaluation["documents"]) == 5
    for key in (
        "mapping",
        "top1_accuracy",
        "status_accuracy",
        "status_macro_f1",
        "gap_detection",
        "comparison_accuracy",
    ):
        assert key in evaluation["overall"]
    # A trained matcher must beat chance by a wide margin on documents it was not trained on.
    assert evaluation["overall"]["mapping"]["f1"] > 0.6
    assert evaluation["overall"]["comparison_accuracy"] > 0.8
    import pandas as pd

    table = pd.read_csv(tmp_path / "per_clause.csv")
    assert len(table) == 39 and list(table.columns[:2]) == ["clause", "gold_paragraphs"]


def test_unknown_split_is_a_clear_error():
    result = runner.invoke(app, ["evaluate", "--gold", str(GOLD), "--split", "validation"])
    assert result.exit_code == 2 and "unknown split 'validation'" in result.output


def test_train_reproduces_the_committed_model(tmp_path):
    committed = ROOT / "models" / "matcher-usem3.json"
    out = tmp_path / "model.json"
    result = runner.invoke(app, ["train", "--gold", str(GOLD), "--out", str(out)])
    assert result.exit_code == 0, result.output
    fresh, stored = json.loads(out.read_text(encoding="utf-8")), json.loads(committed.read_text(encoding="utf-8"))
    same_libraries = all(fresh["manifest"][k] == stored["manifest"][k] for k in ("scikit_learn", "numpy"))
    if same_libraries:  # byte for byte, as promised, where the numeric libraries are the same
        assert out.read_bytes() == committed.read_bytes(), "models/ is stale: run `evidence-nlp train`"
    else:  # another numpy/scikit-learn may differ in the last digits, never in substance
        assert fresh["features"] == stored["features"] and fresh["manifest"]["train"] == stored["manifest"]["train"]
        assert np.allclose(fresh["weights"], stored["weights"], atol=1e-3)
        assert abs(fresh["threshold"] - stored["threshold"]) <= 0.05
    manifest = fresh["manifest"]
    assert manifest["train"] and manifest["dev"] and not set(manifest["train"]) & set(manifest["dev"])
    splits = json.loads((GOLD / "splits.json").read_text(encoding="utf-8"))
    assert not set(splits["test"]) & set(manifest["train"] + manifest["dev"])
