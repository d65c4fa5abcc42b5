"""The reviewer page's correction UI in headless Chromium: corrections made by keyboard and mouse,
exported (a real download), restored after a reload, imported with `feedback import`, and the
resulting gold file accepted by the corpus checks.

Chromium and its launch are tests/test_browser.py's (same fixtures): without Chromium or playwright
the tests skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from evidence_nlp import render
from evidence_nlp.cli_feedback import feedback_app
from evidence_nlp.feedback import check_feedback_folder, load_feedback
from evidence_nlp.report import build_report

from .test_browser import PHONE, STRUCTURED, VIEWPORT, _open, browser  # noqa: F401  (browser: the fixture)

runner = CliRunner()


@pytest.fixture(scope="module")
def welder_page(analyzer, tmp_path_factory):
    analysis = analyzer.analyze(STRUCTURED)
    report = build_report(analysis)
    path = tmp_path_factory.mktemp("feedback-page") / "welder.reviewer.html"
    path.write_text(render.render_reviewer_html(analysis, report), encoding="utf-8")
    return {"path": path, "report": report}


def _context(browser, viewport):  # noqa: F811
    context = browser.new_context(viewport=viewport, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.problems = []
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: page.problems.append(str(exc)))
    page.requests = []
    page.on("request", lambda r: page.requests.append(r.url))
    return context, page


def _clauses(report):
    return {c["id"]: c for c in report["clauses"]}


def test_correct_export_reload_and_import(browser, welder_page, tmp_path, guideline):  # noqa: F811
    report = welder_page["report"]
    clauses = _clauses(report)
    # The sample's verdicts this test corrects (if the model changes, pick other clauses).
    assert clauses["1.2c"]["status"] == "weak" and clauses["1.2c"]["evidence"]
    assert clauses["7.4b"]["status"] == "weak" and clauses["7.4b"]["evidence"] == ["p47"]
    assert clauses["2.1a"]["status"] == "missing" and not clauses["2.1a"]["evidence"]
    assert "p16" in clauses["5.1a"]["near_misses"]
    assert not report["comparisons"]["7.3"]["benchmark"]
    # 7.3c's evidence for the benchmark: a results paragraph the tool did not list under 7.3c.
    listed = clauses["7.3c"]["evidence"] + clauses["7.3c"]["near_misses"]
    texts = {p["id"] for p in report["passages"] if p["kind"] == "text"}
    benchmark_passage = next(pid for pid in ("p45", "p36", "p43") if pid in texts and pid not in listed)
    past = report["comparisons"]["7.3"]["past"]

    context, page = _context(browser, VIEWPORT)
    try:
        _open(page, welder_page["path"])
        page.fill("#reviewer-name", "王审核")
        page.select_option('select[data-review-status="1.1a"]', "covered")  # a confirmation
        page.select_option('select[data-review-status="1.2c"]', "covered")
        # Keyboard only: focus the near-miss's 是证据 button and press Enter, then Space on another.
        page.focus('section[id="clause-5.1a"] button[data-pid="p16"][data-value="yes"]')
        page.keyboard.press("Enter")
        page.focus('section[id="clause-7.4b"] button[data-pid="p47"][data-value="no"]')
        page.keyboard.press("Space")
        page.select_option('select[data-review-status="7.4b"]', "missing")
        # 2.1a: weak with no evidence yet is flagged on the page until a paragraph is added.
        page.select_option('select[data-review-status="2.1a"]', "weak")
        assert "⚠" in page.locator('[data-review-note="2.1a"]').inner_text()
        page.click('#fulltext span[data-pid="p11"]')  # clicking a paragraph picks it
        assert page.input_value("#add-passage") == "p11"
        page.select_option("#add-clause", "2.1a")
        page.click("#add-evidence")
        assert page.locator('[data-review-note="2.1a"]').inner_text() == "复核添加证据：第11段"
        # 7.3: a benchmark the tool missed, and the paragraph that gives it as 7.3c's evidence.
        page.select_option('select[data-review-comparison="7.3"][data-kind="benchmark"]', "true")
        page.select_option("#add-passage", benchmark_passage)
        page.select_option("#add-clause", "7.3c")
        page.click("#add-evidence")
        assert "已记录 9 条复核意见" in page.inner_text("#review-status")

        with page.expect_download() as download_info:
            page.click("#export-review")
        download = download_info.value
        assert download.suggested_filename == f"review-{report['document']['sha256'][:12]}.json"
        export_path = tmp_path / download.suggested_filename
        download.save_as(export_path)

        # Reopening the file restores every correction from localStorage.
        page.reload()
        page.wait_for_load_state("load")
        assert page.input_value("#reviewer-name") == "王审核"
        assert page.input_value('select[data-review-status="1.2c"]') == "covered"
        assert page.input_value('select[data-review-status="7.4b"]') == "missing"
        assert page.input_value('select[data-review-comparison="7.3"][data-kind="benchmark"]') == "true"
        pressed = 'section[id="clause-5.1a"] button[data-pid="p16"][data-value="yes"]'
        assert page.get_attribute(pressed, "aria-pressed") == "true"
        assert page.locator("#added-evidence li").count() == 2
        assert page.problems == []
        assert all(url.startswith(("file://", "blob:")) for url in page.requests)
    finally:
        context.close()

    exported = json.loads(export_path.read_text(encoding="utf-8"))
    assert exported["format"] == "evidence-nlp-review" and exported["reviewer"] == "王审核"
    assert exported["document"]["sha256"] == report["document"]["sha256"]
    assert exported["guideline"]["id"] == report["guideline"]["id"] and exported["matcher"] == report["matcher"]
    assert exported["tool"] == report["tool"]
    passages = {p["id"]: p for p in report["passages"]}
    for correction in exported["corrections"]:
        if "passage" in correction:
            assert [correction["start"], correction["end"]] == [
                passages[correction["passage"]]["start"],
                passages[correction["passage"]]["end"],
            ]

    into = tmp_path / "feedback"
    result = runner.invoke(feedback_app, ["import", str(export_path), "--into", str(into), "-n", str(STRUCTURED)])
    assert result.exit_code == 0, result.output
    assert check_feedback_folder(into, guideline) == []
    from evidence_nlp.cli import app  # the corpus command itself accepts the folder

    checked = runner.invoke(app, ["corpus", "check", "--gold", str(into)])
    assert checked.exit_code == 0, checked.output
    (document,) = load_feedback(into)
    gold = document.gold
    assert gold.annotator == "王审核"
    assert gold.clause_status["1.2c"] == "covered" and gold.clause_status["7.4b"] == "missing"
    assert gold.clause_status["2.1a"] == "weak" and gold.clause_status["7.3c"] == ("covered" if past else "weak")
    assert gold.comparisons["7.3"]["benchmark"] is True

    def cites(pid: str) -> frozenset[str]:
        start = passages[pid]["start"]
        return next(p.clauses for p in gold.paragraphs if p.start <= start < p.end)

    assert "5.1a" in cites("p16") and "2.1a" in cites("p11") and "7.3c" in cites(benchmark_passage)
    assert "7.4b" not in cites("p47")


def test_controls_are_keyboard_reachable_and_visible_on_a_phone(browser, welder_page):  # noqa: F811
    context, page = _context(browser, PHONE)
    try:
        _open(page, welder_page["path"])
        # Keyboard: from one verdict button, Tab reaches the next, and the focus ring shows.
        page.focus('section[id="clause-1.1a"] button[data-value="yes"]')
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => [document.activeElement.dataset.evidence, document.activeElement.textContent,"
            " getComputedStyle(document.activeElement).outlineStyle]"
        )
        assert focused[:2] == ["1.1a", "不是证据"] and focused[2] != "none"
        # Every correction control has a visible name and fits in the phone's width.
        controls = page.locator("main button, main select, main input")
        boxes = controls.evaluate_all(
            """cs => cs.filter(c => c.offsetParent !== null && !c.closest('nav'))
                .map(c => [c.getBoundingClientRect().right, (c.labels && c.labels.length) || c.textContent.trim().length
                           || (c.closest('[aria-label]') ? 1 : 0)])"""
        )
        assert boxes and max(right for right, _ in boxes) <= PHONE["width"]
        assert all(named for _, named in boxes)
        page.focus("#export-review")
        page.keyboard.press("Tab")
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert page.evaluate("document.activeElement.id") == "clear-review" and outline != "none"
        assert page.problems == []
    finally:
        context.close()
