"""Grouped cross-validation by writer and inter-annotator agreement."""

from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from evidence_nlp.cli import app
from evidence_nlp.crossval import cross_validate, writer_folds
from evidence_nlp.evaluate import load_split
from evidence_nlp.match import LinearModel
from evidence_nlp.pipeline import Analyzer

from .conftest import ROOT

GOLD = ROOT / "corpus" / "annotated"
runner = CliRunner()
SMALL = {
    "writer-a": ["weld_craftsman_zhou", "nurse_head_wang"],
    "writer-b": ["cnc_operator_wu", "hotel_manager_qian"],
    "writer-c": ["rnd_lead_gao", "thin_shop_owner_chen"],
}


def _small_corpus(folder):
    """Six corpus narratives re-attributed to three writers, two each."""
    for writer, names in SMALL.items():
        for name in names:
            for path in GOLD.glob(name + ".*"):
                if path.name.endswith(".gold.json"):
                    data = json.loads(path.read_text(encoding="utf-8"))
                    data["writer"] = writer
                    (folder / path.name).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
                elif not path.name.endswith(".draft.json"):
                    shutil.copy(path, folder / path.name)
    names = [n for names in SMALL.values() for n in names]
    (folder / "splits.json").write_text(json.dumps({"train": names, "dev": [], "test": []}))


def test_writer_folds_keep_writers_whole_and_balance_documents(tmp_path):
    _small_corpus(tmp_path)
    documents = load_split(tmp_path, "all")
    folds = writer_folds(documents, 3)
    assert sorted(w for fold in folds for w in fold) == sorted(SMALL)
    assert all(len(fold) == 1 for fold in folds)
    assert writer_folds(documents, 3) == folds  # the same folds on every run
    assert len(writer_folds(documents, 10)) == 3  # never more folds than writers


def test_cross_validation_never_scores_a_writer_it_trained_on(tmp_path):
    _small_corpus(tmp_path)
    documents = load_split(tmp_path, "all")
    analyzer = Analyzer(encoder="lexical", model=LinearModel.default())
    result = cross_validate(analyzer, documents, k=3)
    assert len(result["folds"]) == 3
    for fold in result["folds"]:
        test, dev, trained = set(fold["test_writers"]), set(fold["dev_writers"]), set(fold["train_writers"])
        assert test and dev and trained and not (test & dev or test & trained or dev & trained)
        assert fold["train_documents"] + fold["dev_documents"] == 4
    assert len({tuple(f["dev_writers"]) for f in result["folds"]}) > 1  # tuning rotates between writers
    assert sorted(result["documents"]) == sorted(d.name for d in documents)
    f1 = result["mean_sd"]["mapping.f1"]
    assert 0.0 < f1["mean"] <= 1.0 and f1["sd"] >= 0.0
    assert result["pooled"]["overall"]["documents"] == 6
    assert analyzer.matcher.model_.source == "default"  # no fold's model is left behind


def test_cross_validation_needs_three_writers_and_says_so(tmp_path):
    _small_corpus(tmp_path)
    data = json.loads((tmp_path / "splits.json").read_text())
    (tmp_path / "splits.json").write_text(
        json.dumps({"train": SMALL["writer-a"] + SMALL["writer-b"], "dev": [], "test": SMALL["writer-c"]})
    )
    args = ["evaluate", "--gold", str(tmp_path), "--cv", "writers", "--encoder", "lexical"]
    result = runner.invoke(app, [*args, "--split", "train"])
    assert result.exit_code == 2 and "needs at least 3 writers (here 2)" in result.output
    (tmp_path / "splits.json").write_text(json.dumps(data))
    result = runner.invoke(app, [*args, "--split", "all", "--folds", "2"])
    assert result.exit_code == 2 and "use more folds" in result.output


def test_evaluate_cv_writers_command(tmp_path):
    _small_corpus(tmp_path)
    out = tmp_path / "out"
    args = ["evaluate", "--gold", str(tmp_path), "--cv", "writers", "--folds", "3", "--split", "all"]
    result = runner.invoke(app, [*args, "--encoder", "lexical", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "grouped 3-fold cross-validation by writer" in result.output
    assert "mapping.f1" in result.output and "headings:" in result.output
    saved = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
    assert len(saved["folds"]) == 3 and "mean_sd" in saved


def test_agreement_of_a_blind_second_annotation(tmp_path):
    first, second = tmp_path / "gold", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    _small_corpus(first)
    name = "weld_craftsman_zhou"
    shutil.copy(first / f"{name}.txt", second / f"{name}.txt")
    data = json.loads((first / f"{name}.gold.json").read_text(encoding="utf-8"))
    data["annotator"] = "second"
    result = runner.invoke(app, ["corpus", "agree", str(second), "--gold", str(first)])
    assert result.exit_code == 2 and "no *.gold.json" in result.output
    (second / f"{name}.gold.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(app, ["corpus", "agree", str(second), "--gold", str(first)])
    assert result.exit_code == 0, result.output
    assert "F1 1.000" in result.output and "accuracy 1.000" in result.output
    # The second annotator drops every citation of one paragraph and calls a clause weak.
    text_paragraph = next(p for p in data["paragraphs"] if len(p["clauses"]) >= 2)
    dropped = len(text_paragraph["clauses"])
    text_paragraph["clauses"] = []
    covered = next(c for c, s in data["clause_status"].items() if s == "covered" and not c.endswith("c"))
    data["clause_status"][covered] = "weak"
    (second / f"{name}.gold.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    from evidence_nlp.agreement import agreement
    from evidence_nlp.guideline import load_guideline

    figures = agreement(first, second, load_guideline())
    gold_citations = figures["mapping"]["support"]
    assert figures["mapping"]["precision"] == 1.0
    assert abs(figures["mapping"]["recall"] - (gold_citations - dropped) / gold_citations) < 1e-3
    assert abs(figures["status_accuracy"] - 38 / 39) < 1e-3
    assert figures["gap_detection"]["precision"] < 1.0


def test_corpus_stats_describes_writers_forms_and_status_mix():
    result = runner.invoke(app, ["corpus", "stats", "--gold", str(GOLD)])
    assert result.exit_code == 0, result.output
    documents = load_split(GOLD, "all")
    assert f"{len(documents)} documents from {len({d.writer for d in documents})} writers" in result.output
    for line in ("heading forms:", "status mix", "comparisons 7.1:", "test:"):
        assert line in result.output
