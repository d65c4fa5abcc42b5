"""End to end in a real headless Chromium: the reports as a reader sees them.

Chromium is Debian's (`apt-get install chromium`, as .ci/run does), driven from Python by the
playwright package over its own pipe (playwright's bundled browsers are never downloaded). Without
Chromium or playwright the tests skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from evidence_nlp import render
from evidence_nlp.ingest import read_document
from evidence_nlp.report import build_report

from .conftest import SAMPLES

STRUCTURED = SAMPLES / "welder_structured_gbk.txt"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# Payloads in the narrative: executed, each would leave a trace the tests look for.
SCRIPT_PAYLOAD = '<script>window.__pwned = 1; document.title = "pwned"</script>'
IMG_PAYLOAD = '<img src=x onerror="window.__pwned = 2">'
VIEWPORT = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}  # a common phone in CSS pixels
WIDTHS = {"desktop": VIEWPORT, "phone": PHONE}
DOCS = Path(__file__).resolve().parents[1] / "docs"


def _unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"headless Chromium is required in CI: {reason}")
    pytest.skip(reason)


def _chromium_path() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        _unavailable("chromium not installed (apt-get install chromium)")
    return path


@pytest.fixture(scope="module")
def browser():
    path = _chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        try:
            instance = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        except Exception as exc:  # a broken browser install: same rule as a missing one
            _unavailable(f"cannot start {path}: {exc}")
        yield instance
        instance.close()


def _new_page(browser, viewport):
    context = browser.new_context(viewport=viewport, java_script_enabled=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.problems = []  # console errors and uncaught exceptions, e.g. a script the CSP blocked
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: page.problems.append(str(exc)))
    page.requests = []
    page.on("request", lambda r: page.requests.append(r.url))
    return context, page


@pytest.fixture
def page(browser):
    context, page = _new_page(browser, VIEWPORT)
    yield page
    context.close()


@pytest.fixture(params=list(WIDTHS), ids=list(WIDTHS))
def sized_page(browser, request):
    """A page at desktop width (1280 px) and at phone width (390 px)."""
    context, page = _new_page(browser, WIDTHS[request.param])
    page.viewport = WIDTHS[request.param]
    yield page
    context.close()


@pytest.fixture(scope="module")
def sample(analyzer, tmp_path_factory):
    """The bundled welder sample as it is: the reports people see (and the README's screenshots)."""
    analysis = analyzer.analyze(STRUCTURED)
    report = build_report(analysis)
    folder = tmp_path_factory.mktemp("sample")
    pages = {"report": report}
    for kind, function in (("reviewer", render.render_reviewer_html), ("applicant", render.render_applicant_html)):
        pages[kind] = folder / f"welder.{kind}.html"
        pages[kind].write_text(function(analysis, report), encoding="utf-8")
    return pages


@pytest.fixture(scope="module")
def narrative(analyzer, tmp_path_factory):
    """The welder sample with payloads in a weak clause's passage, the opening and the results."""
    text = read_document(STRUCTURED).text
    text = text.replace("我也积极履行社会责任，", f"我也积极履行社会责任{SCRIPT_PAYLOAD}，", 1)
    text = text.replace("本人周建国，", f"本人周建国{IMG_PAYLOAD}，", 1)
    assert SCRIPT_PAYLOAD in text and IMG_PAYLOAD in text
    folder = tmp_path_factory.mktemp("browser")
    source = folder / "welder_with_payloads.txt"
    source.write_text(text, encoding="utf-8")
    analysis = analyzer.analyze(source)
    report = build_report(analysis)
    reviewer = folder / "reviewer.html"
    reviewer.write_text(render.render_reviewer_html(analysis, report), encoding="utf-8")
    applicant = folder / "applicant.html"
    applicant.write_text(render.render_applicant_html(analysis, report), encoding="utf-8")
    return {"analysis": analysis, "report": report, "reviewer": reviewer, "applicant": applicant}


def _open(page, path: Path) -> None:
    page.goto(path.as_uri())
    page.wait_for_load_state("load")


def _assert_inert(page) -> None:
    assert page.evaluate("window.__pwned") is None
    assert "pwned" not in page.title()
    assert page.locator("img, iframe, object, embed").count() == 0
    assert page.problems == []
    assert all(url.startswith("file://") for url in page.requests)  # nothing but the file itself


def test_reviewer_report_in_chromium(page, narrative, tmp_path, guideline):
    _open(page, narrative["reviewer"])
    page.screenshot(path=str(tmp_path / "reviewer.png"))
    assert (tmp_path / "reviewer.png").stat().st_size > 10_000
    assert page.title().startswith("证据审阅报告")

    cells = page.locator("td.clause-cell")
    assert cells.count() == 39
    assert cells.evaluate_all("cells => cells.map(c => c.dataset.clause)") == guideline.clause_ids
    statuses = {c["id"]: c["status"] for c in narrative["report"]["clauses"]}
    for cid in ("1.1a", "1.2c", "7.3c"):
        assert f"status-{statuses[cid]}" in page.locator(f'td.clause-cell[data-clause="{cid}"]').get_attribute("class")

    # Clicking a clause cell far down the matrix brings its evidence section into view.
    assert page.evaluate("window.scrollY") == 0
    page.click('td.clause-cell[data-clause="7.4b"] a')
    page.wait_for_function("location.hash === '#clause-7.4b'")
    assert page.evaluate("window.scrollY") > 0
    box = page.locator('section[id="clause-7.4b"]').bounding_box()
    assert 0 <= box["y"] < VIEWPORT["height"] / 2
    assert page.locator('section[id="clause-7.4b"]').is_visible()
    page.screenshot(path=str(tmp_path / "reviewer-7.4b.png"))

    # An evidence link brings its passage in the full text into view.
    link = page.locator('section[id="clause-1.2c"] a.plink').first
    target = link.get_attribute("href")[1:]
    link.click()
    passage = page.locator(f'[id="{target}"]')
    assert -1 <= passage.bounding_box()["y"] < VIEWPORT["height"]

    # The full text is the document's text, exactly; the payloads are text in it, not elements.
    full_text = page.locator("#fulltext")
    assert full_text.evaluate("e => e.textContent") == narrative["analysis"].document.text
    assert SCRIPT_PAYLOAD in full_text.inner_text() and IMG_PAYLOAD in full_text.inner_text()
    assert page.locator("script").count() == 1  # the report's own
    _assert_inert(page)


def test_reviewer_script_runs_and_print_layout(page, narrative, tmp_path):
    _open(page, narrative["reviewer"])
    covered = page.locator("section.clause.status-covered").first
    weak = page.locator("section.clause.status-weak").first
    assert covered.is_visible() and weak.is_visible()
    # The report's own script (admitted by the CSP hash) filters the clause list.
    page.click('button[data-filter="gaps"]')
    assert page.get_attribute("body", "data-filter") == "gaps"
    assert not covered.is_visible() and weak.is_visible()
    # A link to a hidden clause shows it again.
    cid = covered.get_attribute("id").removeprefix("clause-")
    page.click(f'td.clause-cell[data-clause="{cid}"] a')
    page.wait_for_function("document.body.dataset.filter === 'all'")
    assert covered.is_visible()
    # Printing: no navigation bar, every clause, and a PDF comes out.
    page.emulate_media(media="print")
    assert not page.locator("nav.toc").is_visible()
    page.pdf(path=str(tmp_path / "reviewer.pdf"), format="A4", print_background=True)
    assert (tmp_path / "reviewer.pdf").read_bytes().startswith(b"%PDF")
    _assert_inert(page)


def test_applicant_report_in_chromium(page, narrative, tmp_path):
    _open(page, narrative["applicant"])
    page.screenshot(path=str(tmp_path / "applicant.png"), full_page=True)
    assert (tmp_path / "applicant.png").stat().st_size > 10_000
    report = narrative["report"]
    gaps = [c["id"] for c in report["clauses"] if c["status"] != "covered"]
    assert page.locator("section.gap").evaluate_all("s => s.map(e => e.dataset.clause)") == gaps
    assert page.locator("script").count() == 0
    page.click(f'a[href="#gap-{gaps[-1]}"]')
    # Scrolled into view; fractional CSS pixels can leave the top a sub-pixel above 0.
    assert -1 <= page.locator(f'[id="gap-{gaps[-1]}"]').bounding_box()["y"] < VIEWPORT["height"]
    body = page.locator("body").inner_text()
    assert "自评报告差距分析" in body and "建议补充的证据" in body
    payload_passages = {p["id"] for p in report["passages"] if SCRIPT_PAYLOAD in p["text"]}
    shown = page.locator("section.gap li[data-passage]").evaluate_all("l => l.map(e => e.dataset.passage)")
    if payload_passages & set(shown):
        assert SCRIPT_PAYLOAD in body
    _assert_inert(page)


# --- as a person sees them, at desktop and at phone width ------------------------------------------


def _overflow(page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


@pytest.mark.parametrize("kind", ["reviewer", "applicant"])
def test_no_horizontal_overflow(sized_page, sample, kind):
    page = sized_page
    _open(page, sample[kind])
    width, inner = _overflow(page)
    assert width <= inner, f"{kind} page is {width} px wide in a {inner} px window"
    # Nothing sticks out of the page either (a table cut off by overflow:hidden would hide rows).
    outside = page.evaluate(
        """() => [...document.querySelectorAll("main *")]
            .filter(e => !e.closest("nav") && e.getBoundingClientRect().right > window.innerWidth + 0.5)
            .map(e => e.tagName + "." + e.className).slice(0, 5)"""
    )
    assert outside == []
    _assert_inert(page)


def test_matrix_fits_and_keeps_names_whole(sized_page, sample):
    page = sized_page
    _open(page, sample["reviewer"])
    # Category names on one or two lines, never one character per line; every clause cell visible.
    lines = page.locator("table.matrix th.cat").evaluate_all(
        """cs => cs.map(c => { const r = document.createRange(); r.selectNodeContents(c);
            return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size; })"""
    )
    assert len(lines) == 7 and max(lines) <= 2, lines
    cells = page.locator("td.clause-cell")
    assert cells.count() == 39
    rights = cells.evaluate_all("cs => cs.map(c => c.getBoundingClientRect().right)")
    assert max(rights) <= page.viewport["width"]
    assert all(cells.nth(i).is_visible() for i in range(cells.count()))


@pytest.mark.parametrize("cid", ["1.1a", "5.2b", "7.4b"])
def test_clicked_clause_heading_is_below_the_sticky_header(sized_page, sample, cid):
    page = sized_page
    _open(page, sample["reviewer"])
    page.click(f'td.clause-cell[data-clause="{cid}"] a')
    page.wait_for_function(f"location.hash === '#clause-{cid}'")
    page.wait_for_timeout(100)
    nav = page.locator("nav.toc").bounding_box()
    head = page.locator(f'section[id="clause-{cid}"] .clause-head')
    box = head.bounding_box()
    assert nav["y"] == 0 and nav["height"] <= 60  # one row, also on a phone
    assert box["y"] >= nav["y"] + nav["height"], f"{cid}'s heading hidden under the header"
    assert box["y"] + box["height"] <= page.viewport["height"]
    for part in (".cid", ".badge"):  # the clause id and its status, in view
        part_box = head.locator(part).first.bounding_box()
        assert part_box["y"] >= nav["height"] and part_box["y"] + part_box["height"] <= page.viewport["height"]
    assert head.locator(".cid").inner_text() == cid


def test_verdict_within_the_first_two_screens(sized_page, sample):
    page = sized_page
    _open(page, sample["reviewer"])
    tops = page.evaluate(
        """() => Object.fromEntries(["flags", "comparisons"].map(
            id => [id, document.getElementById(id).getBoundingClientRect().top + window.scrollY]))"""
    )
    height = page.viewport["height"]
    assert tops["flags"] < tops["comparisons"] < 2 * height, tops
    # The comparisons table itself starts within the two screens, not only its heading.
    table = page.locator("table.comparisons").bounding_box()
    assert table["y"] < 2 * height
    # People read words: no internal flag codes on the page.
    text = page.locator("main").inner_text()
    assert "clause_missing" not in text and "comparison_benchmark_missing" not in text


def _levels(page, item_id: str) -> list[float | None]:
    return page.locator(f'table.results[data-item="{item_id}"] tbody tr').evaluate_all(
        "rows => rows.map(r => r.dataset.sortLevel === '' ? null : Number(r.dataset.sortLevel))"
    )


def test_results_table_sorts_by_mouse_and_keyboard(sized_page, sample):
    page = sized_page
    _open(page, sample["reviewer"])
    table = page.locator('table.results[data-item="7.1"]')
    first = table.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.sortName)")
    rows = [r for r in sample["report"]["results"]["rows"] if r["item"] == "7.1" and r["kind"] == "measure"]
    assert len(first) == len(rows) >= 6  # the sample's 2021–2023 table
    header = table.locator('th[data-sort-key="level"]')
    header.locator("button").click()
    assert header.get_attribute("aria-sort") == "ascending"
    ascending = _levels(page, "7.1")
    assert ascending == sorted(ascending)
    # The keyboard: the header is a button, Enter sorts the other way and Space back again.
    header.locator("button").focus()
    page.keyboard.press("Enter")
    assert header.get_attribute("aria-sort") == "descending" and _levels(page, "7.1") == ascending[::-1]
    page.keyboard.press("Space")
    assert header.get_attribute("aria-sort") == "ascending"
    assert table.locator('th[data-sort-key="order"]').get_attribute("aria-sort") == "none"
    # Back to document order by the 出处 column.
    table.locator('th[data-sort-key="order"] button').click()
    assert table.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.sortName)") == first
    # Sparklines are drawn, inside their cells.
    spark = table.locator("svg.spark").first.bounding_box()
    assert spark["width"] > 40 and spark["x"] + spark["width"] <= page.viewport["width"]
    _assert_inert(page)


def test_applicant_gap_table_is_readable_on_a_phone(browser, sample):
    context, page = _new_page(browser, PHONE)
    try:
        _open(page, sample["applicant"])
        widths = page.locator("#overview td:last-child").evaluate_all(
            "cs => cs.map(c => c.getBoundingClientRect().width)"
        )
        assert widths and min(widths) >= PHONE["width"] * 0.6  # the clause text gets the row's width
    finally:
        context.close()


SHOTS = {
    "reviewer-report.png": ("reviewer", VIEWPORT, 1700),
    "applicant-report.png": ("applicant", VIEWPORT, 1700),
    "reviewer-report-phone.png": ("reviewer", PHONE, 2 * PHONE["height"]),
    "applicant-report-phone.png": ("applicant", PHONE, 2 * PHONE["height"]),
}


@pytest.mark.skipif(os.environ.get("UPDATE_SCREENSHOTS") != "1", reason="UPDATE_SCREENSHOTS=1 rewrites docs/*.png")
def test_update_screenshots(browser, sample):
    """`UPDATE_SCREENSHOTS=1 pytest tests/test_browser.py -k screenshots` rewrites the README's
    screenshots of the bundled sample: the first screens at desktop and at phone width."""
    for name, (kind, viewport, height) in SHOTS.items():
        context, page = _new_page(browser, viewport)
        try:
            _open(page, sample[kind])
            clip = {"x": 0, "y": 0, "width": viewport["width"], "height": height}
            page.screenshot(path=str(DOCS / name), full_page=True, clip=clip)
        finally:
            context.close()
        assert 10_000 < (DOCS / name).stat().st_size < 600_000
