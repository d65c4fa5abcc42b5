"""The batch's summary sheet as the award office uses it (issue 12 item 5) and the batch's scope
(item 8): sorted by priority, filterable, Chinese headers with a legend, a link per applicant to a
report that exists; files that are not narratives skipped with a warning row; --include/--exclude."""

from __future__ import annotations

import csv
import shutil
import urllib.parse
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from evidence_nlp.batch import MIN_NARRATIVE_CHARS, PRIORITY_ORDER
from evidence_nlp.cli import MIN_NARRATIVE_CHARS as CLI_MIN_NARRATIVE_CHARS
from evidence_nlp.cli import app

from .conftest import SAMPLES

runner = CliRunner()
# Short, but a narrative: one clause's worth of evidence, so it ranks last (incomplete).
SHORT_NARRATIVE = "一、顾客\n\n我每季度开展顾客满意度调查，满意度达到96.5%，较上年提升2个百分点。\n"
PRIORITY_LABELS = {"优先评审": "review", "需核查": "check", "材料不全": "incomplete"}


def batch(intake: Path, out: Path, *options: str):
    return runner.invoke(app, ["batch", str(intake), "--out", str(out), "--encoder", "lexical", *options])


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture()
def intake(tmp_path: Path) -> Path:
    folder = tmp_path / "intake"
    (folder / "第二批").mkdir(parents=True)
    # File-name order (a_short first) is not the office's order (the complete ones first).
    (folder / "a_short.txt").write_text(SHORT_NARRATIVE, encoding="utf-8")
    shutil.copy(SAMPLES / "welder_structured_gbk.txt", folder / "welder.txt")
    shutil.copy(SAMPLES / "pm_no_headings.docx", folder / "第二批" / "pm #1.docx")  # '#' must survive the link
    return folder


def _sheet_rows(out: Path) -> tuple[list[str], list[list]]:
    sheet = load_workbook(out / "summary.xlsx")["summary"]
    rows = [list(row) for row in sheet.iter_rows()]
    return [c.value for c in rows[0]], rows[1:]


def test_the_sheet_is_sorted_filterable_and_links_each_html_report(intake, tmp_path):
    out = tmp_path / "out"
    result = batch(intake, out, "--html")
    assert result.exit_code == 0, result.output
    workbook = load_workbook(out / "summary.xlsx")
    sheet = workbook["summary"]
    header = [c.value for c in sheet[1]]
    rows = [list(row) for row in sheet.iter_rows(min_row=2)]
    assert len(rows) == 3
    column = {name: header.index(name) for name in ("文件", "预审得分", "优先级", "报告")}
    keys = [
        (PRIORITY_ORDER.index(PRIORITY_LABELS[r[column["优先级"]].value]), -r[column["预审得分"]].value) for r in rows
    ]
    assert keys == sorted(keys)
    assert rows[-1][column["文件"]].value == "a_short.txt"  # first by name, last by priority
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(row=1, column=len(header)).column_letter}4"
    assert sheet.freeze_panes == "B2"
    assert sheet.column_dimensions["A"].width >= len("第二批/pm #1.docx")
    for row in rows:
        for cell in (row[column["文件"]], row[column["报告"]]):
            target = urllib.parse.unquote(cell.hyperlink.target)
            assert not Path(target).is_absolute() and target.endswith(".reviewer.html")
            assert (out / target).is_file()
    assert (
        (out / urllib.parse.unquote(rows[0][0].hyperlink.target))
        .read_text(encoding="utf-8")
        .startswith("<!DOCTYPE html>")
    )
    # Words a clerk reads: Chinese headers (machine names in the legend), 是/否, percentages.
    assert "coverage_1_意识与素质" not in header and "1 意识与素质 覆盖率" in header
    legend = {row[1]: row[0] for row in workbook["字段说明"].iter_rows(min_row=2, values_only=True)}
    assert legend["prescreen_score"] == "预审得分" and legend["coverage_1_意识与素质"] == "1 意识与素质 覆盖率"
    assert set(legend) == set(read_csv(out / "summary.csv")[0])
    past = header.index("7.1 与以往比对")
    assert {r[past].value for r in rows} <= {"是", "否"}
    coverage = rows[0][header.index("1 意识与素质 覆盖率")]
    assert coverage.number_format == "0%" and 0 <= coverage.value <= 1
    assert "先评审" in workbook["notes"]["A1"].value


def test_without_html_the_links_open_the_json_reports(intake, tmp_path):
    out = tmp_path / "out"
    assert batch(intake, out).exit_code == 0
    header, rows = _sheet_rows(out)
    for row in rows:
        target = urllib.parse.unquote(row[0].hyperlink.target)
        assert target.endswith(".json") and (out / target).is_file()
    assert not list(out.rglob("*.html"))


def test_a_rerun_with_html_writes_the_pages_the_first_run_did_not(intake, tmp_path):
    out = tmp_path / "out"
    assert batch(intake, out).exit_code == 0
    again = batch(intake, out, "--html", "--applicant-html")
    assert "3 analysed, 0 up to date" in again.stdout
    assert len(list(out.rglob("*.reviewer.html"))) == 3 and len(list(out.rglob("*.applicant.html"))) == 3
    assert "0 analysed, 3 up to date" in batch(intake, out, "--html").stdout


def test_readme_and_a_ten_character_file_are_skipped_with_a_warning_row(intake, tmp_path):
    (intake / "README.md").write_text("# 受理说明\n\n" + SHORT_NARRATIVE * 20, encoding="utf-8")
    (intake / "第二批" / "LICENSE.txt").write_text(SHORT_NARRATIVE * 20, encoding="utf-8")
    (intake / "tiny.txt").write_text("十个字的简短文件啊。", encoding="utf-8")
    out = tmp_path / "out"
    result = batch(intake, out)
    assert result.exit_code == 0, result.output  # warnings, not errors
    assert "0 errors, 3 skipped as not narratives" in result.stdout
    assert "warning: tiny.txt: skipped: 10 characters of text" in result.stderr
    errors = {row["file"]: row["error"] for row in read_csv(out / "errors.csv")}
    assert set(errors) == {"README.md", "第二批/LICENSE.txt", "tiny.txt"}
    assert all(reason.startswith("skipped: ") for reason in errors.values())
    files = {row["file"] for row in read_csv(out / "summary.csv")}
    assert files == {"a_short.txt", "welder.txt", "第二批/pm #1.docx"}
    assert not (out / "reports" / "tiny.txt.json").exists() and not (out / "reports" / "README.md.json").exists()


def test_a_skip_and_an_error_together_exit_1(intake, tmp_path):
    (intake / "tiny.txt").write_text("短", encoding="utf-8")
    (intake / "corrupt.docx").write_bytes(b"PK\x03\x04 broken zip")
    out = tmp_path / "out"
    result = batch(intake, out)
    assert result.exit_code == 1 and "1 errors, 1 skipped" in result.stdout
    rows = read_csv(out / "errors.csv")
    assert rows[0] == {"file": "corrupt.docx", "error": "corrupt .docx (not a zip package)"}
    assert rows[1]["file"] == "tiny.txt" and rows[1]["error"].startswith("skipped: ")


def test_min_chars_sets_the_floor(intake, tmp_path):
    assert CLI_MIN_NARRATIVE_CHARS == MIN_NARRATIVE_CHARS
    out = tmp_path / "out"
    result = batch(intake, out, "--min-chars", "200")
    assert result.exit_code == 0 and "1 skipped" in result.stdout
    assert [row["file"] for row in read_csv(out / "errors.csv")] == ["a_short.txt"]


def test_include_and_exclude_globs_on_the_relative_path(intake, tmp_path):
    only = tmp_path / "only"
    assert batch(intake, only, "--include", "第二批/*").exit_code == 0
    assert [row["file"] for row in read_csv(only / "summary.csv")] == ["第二批/pm #1.docx"]
    without = tmp_path / "without"
    result = batch(intake, without, "--exclude", "第二批/*", "--exclude", "a_*")
    assert result.exit_code == 0 and "1 files: 1 analysed" in result.stdout
    assert [row["file"] for row in read_csv(without / "summary.csv")] == ["welder.txt"]
    by_name = tmp_path / "by_name"  # a glob without "/" also matches the bare name in sub-folders
    assert batch(intake, by_name, "--include", "*.docx", "--include", "welder*").exit_code == 0
    assert sorted(row["file"] for row in read_csv(by_name / "summary.csv")) == ["welder.txt", "第二批/pm #1.docx"]
