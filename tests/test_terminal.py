"""What a person sees in the terminal (issue 12 items 7 and 10): a summary that fits the terminal,
in Chinese, coloured only on a terminal; --version, -h and help without Python type hints; report
formats from the --out suffix; a missing default gold corpus explained."""

from __future__ import annotations

import io
import re

import pytest
from rich.cells import cell_len
from rich.console import Console
from typer.testing import CliRunner

from evidence_nlp import __version__
from evidence_nlp.cli import app
from evidence_nlp.report import print_summary, text_summary

from .conftest import SAMPLES

runner = CliRunner()
STRUCTURED = SAMPLES / "welder_structured_gbk.txt"
TYPE_HINT = re.compile(r"<(bool|int|float|str|path|list\[|int range)")


@pytest.fixture(scope="module")
def welder(lexical_analyzer):
    return lexical_analyzer.analyze(STRUCTURED)


def test_the_summary_fits_80_columns_and_speaks_chinese():
    result = runner.invoke(app, ["analyze", str(STRUCTURED), "--encoder", "lexical"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(cell_len(line) for line in lines) <= 80
    assert "\x1b[" not in result.stdout  # not a terminal: no colour codes
    assert "过往" in result.stdout and "标杆" in result.stdout and "趋势" in result.stdout
    assert not re.search(r"\b(past|benchmark|trend)\b", result.stdout)
    assert not re.search(r"\[p\d+ @\d+\]", result.stdout)  # no internal passage ids and offsets
    assert re.search(r"第\d+段 ", result.stdout)
    assert "7.3 创新成果" in result.stdout and "条款 39:" in result.stdout


def test_the_summary_takes_a_wider_terminal(welder):
    narrow, wide = text_summary(welder, width=60), text_summary(welder, width=140)
    assert max(cell_len(line) for line in narrow.splitlines()) <= 60
    assert max(cell_len(line) for line in wide.splitlines()) > 100  # the evidence column grows


def test_colour_only_on_a_terminal(welder):
    coloured, plain = io.StringIO(), io.StringIO()
    print_summary(welder, console=Console(file=coloured, width=100, force_terminal=True, color_system="standard"))
    print_summary(welder, console=Console(file=plain, width=100))
    assert "\x1b[" in coloured.getvalue() and "\x1b[" not in plain.getvalue()


def test_narrative_text_is_never_rich_markup(lexical_analyzer, tmp_path):
    path = tmp_path / "[bold]markup[red].txt"
    path.write_text("一、顾客\n\n我每季度开展[red]顾客满意度调查[/red]，满意度达到96.5%。\n", encoding="utf-8")
    summary = text_summary(lexical_analyzer.analyze(path), width=200)
    assert "[bold]markup[red].txt" in summary and "[red]顾客满意度调查" in summary


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(flag):
    result = runner.invoke(app, [flag])
    assert result.exit_code == 0 and result.stdout == f"evidence-nlp {__version__}\n"


@pytest.mark.parametrize("command", [[], ["analyze"], ["batch"], ["report"], ["evaluate"], ["corpus", "check"]])
def test_h_is_help_without_type_hints(command):
    short = runner.invoke(app, [*command, "-h"])
    long = runner.invoke(app, [*command, "--help"])
    assert short.exit_code == 0 and short.stdout == long.stdout and "Usage:" in short.stdout
    assert not TYPE_HINT.search(short.stdout), short.stdout


def test_evaluate_help_names_every_file_it_writes():
    help_text = " ".join(runner.invoke(app, ["evaluate", "-h"], env={"COLUMNS": "200"}).stdout.split())
    assert "per_clause.csv" in help_text and "per_document.csv" in help_text


def test_report_refuses_an_out_suffix_it_cannot_write(tmp_path):
    target = tmp_path / "pm.txt"
    result = runner.invoke(app, ["report", str(STRUCTURED), "--kind", "applicant", "--out", str(target)])
    assert result.exit_code == 2 and not target.exists()
    assert "cannot tell the format from '.txt'" in result.stderr and "--format" in result.stderr
    mismatch = runner.invoke(
        app, ["report", str(STRUCTURED), "--kind", "applicant", "--out", str(tmp_path / "a.html"), "--format", "md"]
    )
    assert mismatch.exit_code == 2 and "does not match" in mismatch.stderr


def test_report_takes_the_format_from_the_suffix(tmp_path):
    for name, start in (("a.md", "#"), ("a.htm", "<!DOCTYPE html>")):
        args = ["report", str(STRUCTURED), "--kind", "applicant", "--out", str(tmp_path / name), "-e", "lexical"]
        assert runner.invoke(app, args).exit_code == 0
        assert (tmp_path / name).read_text(encoding="utf-8").startswith(start)
    forced = ["report", str(STRUCTURED), "-k", "applicant", "-o", str(tmp_path / "b.txt"), "-f", "md", "-e", "lexical"]
    assert runner.invoke(app, forced).exit_code == 0  # asked for explicitly: written as asked


def test_a_missing_default_gold_corpus_says_where_to_point(tmp_path, monkeypatch):
    import evidence_nlp.resources as resources

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(resources, "corpus_path", lambda relative: tmp_path / "no-corpus" / relative)
    for command in (["corpus", "stats"], ["evaluate", "-e", "lexical"], ["corpus", "check"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2, command
        assert result.stderr.startswith("error: no annotated corpus found") and "--gold DIR" in result.stderr


def test_the_default_gold_corpus_is_found_from_another_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["corpus", "stats"])
    assert result.exit_code == 0, result.output
