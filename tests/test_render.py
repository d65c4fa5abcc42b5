"""Reports for people: the reviewer HTML, the applicant HTML and Markdown, and `evidence-nlp report`."""

from __future__ import annotations

import base64
import copy
import hashlib
import html
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import escape as markup_escape
from typer.testing import CliRunner

from evidence_nlp import render, report_view
from evidence_nlp.cli import app
from evidence_nlp.coverage import comparison_status
from evidence_nlp.ingest import read_document
from evidence_nlp.report import build_report

from . import conftest
from .conftest import SAMPLES

runner = CliRunner()
STRUCTURED = SAMPLES / "welder_structured_gbk.txt"
SCRIPT = '<script>alert("x")</script>'
IMG = "<img src=x onerror=alert(1)>"
MARKDOWN_PAYLOAD = "**粗体** [链接](javascript:alert(1)) | 竖线 &lt;b&gt;"


def escape(value) -> str:
    """As the templates escape (markupsafe: &#34; and &#39; for quotes)."""
    return str(markup_escape(value))


class Visible(HTMLParser):
    """The text a reader sees: everything outside <script>, <style> and attributes."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self.feed(text)
        self.text = "".join(self.parts)

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style", "title")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style", "title")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


class Elements(HTMLParser):
    """Every start tag as (tag, attributes), in document order."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k.rstrip("_")) == v for k, v in attrs.items())]

    def with_class(self, tag: str, cls: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag and cls in a.get("class", "").split()]

    def ids(self) -> set[str]:
        return {a["id"] for _, a in self.tags if "id" in a}


def _section(page: str, element_id: str) -> str:
    """The HTML of one <section id=…> (clause sections do not nest sections)."""
    start = page.index(f'id="{element_id}"')
    return page[start : page.index("</section>", start)]


def _covered_lines(report, guideline) -> dict[str, str]:
    """The applicant report's one-line summary of covered clauses, per category: "nothing to add"
    only when no covered clause lacks a depth layer either."""
    status = {c["id"]: c["status"] for c in report["clauses"]}
    deeper = {c["id"] for c in report["clauses"] if c["depth"] and c["depth"]["advice"]}
    lines = {}
    for category in guideline.categories:
        cids = [cid for item_id in category.item_ids for cid in guideline.items[item_id].clause_ids]
        covered = [cid for cid in cids if status[cid] == "covered"]
        if len(covered) == len(cids):
            lines[category.id] = "本类目各条款均已覆盖" + ("。" if deeper & set(cids) else "，无需补充。")
        elif covered:
            lines[category.id] = "已覆盖：" + "、".join(covered)
    return lines


def _markdown_categories(markdown: str) -> dict[str, str]:
    """The applicant Markdown's text per category (## N. title … up to the next ## heading)."""
    parts = re.split(r"^## ", markdown, flags=re.M)[1:]
    return {m.group(1): part for part in parts if (m := re.match(r"(\d+)\. ", part))}


@pytest.fixture(scope="module")
def welder(analyzer):
    analysis = analyzer.analyze(STRUCTURED)
    return analysis, build_report(analysis)


@pytest.fixture(scope="module")
def reviewer(welder) -> str:
    return render.render_reviewer_html(*welder)


@pytest.fixture(scope="module")
def applicant(welder) -> str:
    return render.render_applicant_html(*welder)


@pytest.fixture(scope="module")
def markdown(welder) -> str:
    return render.render_applicant_markdown(*welder)


@pytest.fixture(scope="module")
def hostile(analyzer, tmp_path_factory):
    """The welder sample with script/HTML/Markdown payloads in its text and in its file name."""
    text = read_document(STRUCTURED).text
    text = text.replace("我也积极履行社会责任，", f"我也积极履行社会责任{SCRIPT}，", 1)
    text = text.replace("本人周建国，", f"本人周建国{IMG}，", 1)
    text = text.replace("我坚持“每天练一根焊条”", f"我坚持{MARKDOWN_PAYLOAD}“每天练一根焊条”", 1)
    assert text.count(SCRIPT) == text.count(IMG) == 1
    path = tmp_path_factory.mktemp("hostile") / 'evil<b>&"q".txt'
    path.write_text(text, encoding="utf-8")
    analysis = analyzer.analyze(path)
    return analysis, build_report(analysis)


# --- reviewer report ----------------------------------------------------------------------------


def test_matrix_has_one_cell_per_clause_with_its_status(reviewer, welder, guideline):
    _, report = welder
    cells = Elements(reviewer).with_class("td", "clause-cell")
    assert [c["data-clause"] for c in cells] == guideline.clause_ids and len(cells) == 39
    statuses = {c["id"]: c["status"] for c in report["clauses"]}
    for cell in cells:
        classes = cell["class"].split()
        assert f"status-{statuses[cell['data-clause']]}" in classes
        assert sum(c.startswith("status-") for c in classes) == 1
    matrix = _section(reviewer, "matrix")
    links = [a["href"] for a in Elements(matrix).find("a") if a.get("href", "").startswith("#clause-")]
    assert links == [f"#clause-{cid}" for cid in guideline.clause_ids]
    assert len(set(statuses.values())) >= 2  # the sample exercises more than one colour


def test_every_clause_has_a_section_with_text_status_and_score(reviewer, welder, guideline):
    _, report = welder
    sections = {s["id"]: s for s in Elements(reviewer).find("section") if s.get("id", "").startswith("clause-")}
    assert list(sections) == [f"clause-{cid}" for cid in guideline.clause_ids]
    for clause in report["clauses"]:
        body = _section(reviewer, f"clause-{clause['id']}")
        assert sections[f"clause-{clause['id']}"]["data-status"] == clause["status"]
        assert escape(guideline.clauses[clause["id"]].text) in body
        if clause["evidence"]:
            assert f"最佳证据概率 {clause['score']:.2f}" in body
        else:  # no evidence, no "0.00" beside a near-miss's probability
            assert "最佳证据概率" not in body
        assert f"判断把握：{report_view.CONFIDENCE_LABELS[clause['confidence']]}" in body
        for pid in clause["evidence"]:
            assert f'href="#passage-{pid}"' in body
        if clause["near_misses"]:
            near = body[body.index('class="passages near-misses"') :]
            for pid in clause["near_misses"]:
                assert f'href="#passage-{pid}"' in near
        else:
            assert "near-misses" not in body


def test_evidence_is_shown_with_scores_and_marked_keywords(reviewer, welder, guideline):
    analysis, report = welder
    scores = {p["id"]: {c["id"]: c["score"] for c in p["clauses"]} for p in report["passages"]}
    texts = {p["id"]: p["text"] for p in report["passages"]}
    marked = 0
    for clause in report["clauses"]:
        body = _section(reviewer, f"clause-{clause['id']}")
        evidence = body[: body.find("near-misses")] if "near-misses" in body else body
        for pid in clause["evidence"][: render.MAX_EVIDENCE]:
            if clause["id"] in scores[pid]:
                assert f"匹配概率 <strong>{scores[pid][clause['id']]:.2f}</strong>" in evidence
        keywords = guideline.clauses[clause["id"]].keywords
        hits = {k for pid in clause["evidence"][: render.MAX_EVIDENCE] for k in keywords if k in texts[pid]}
        for keyword in hits:
            assert f"<mark>{escape(keyword)}</mark>" in evidence or any(
                keyword in longer and f"<mark>{longer}</mark>" in evidence for longer in keywords
            )
        marked += bool(hits)
    assert marked >= 20


def test_every_internal_link_has_a_target(reviewer):
    elements = Elements(reviewer)
    ids = elements.ids()
    hrefs = [a["href"] for a in elements.find("a") if "href" in a]
    assert hrefs and all(h.startswith("#") for h in hrefs)  # nothing leaves the page
    assert {h[1:] for h in hrefs} <= ids
    assert any(h.startswith("#passage-") for h in hrefs)


def test_full_text_is_shown_exactly_with_every_passage(reviewer, welder):
    analysis, report = welder
    start = reviewer.index('<div id="fulltext"')
    inner = reviewer[reviewer.index(">", start) + 1 : reviewer.index("</div>", start)]
    assert html.unescape(re.sub(r"<[^>]+>", "", inner)) == analysis.document.text
    spans = {s["id"]: s for s in Elements(inner).find("span")}
    assert list(spans) == [f"passage-{p['id']}" for p in report["passages"]]
    evidence = {pid for c in report["clauses"] for pid in c["evidence"]}
    for passage in report["passages"]:
        classes = spans[f"passage-{passage['id']}"]["class"].split()
        assert ("is-evidence" in classes) == (passage["id"] in evidence)
        assert f"kind-{passage['kind']}" in classes


def test_verdict_first_provenance_last(reviewer, welder):
    """Totals, flags and comparisons lead; the matrix and the evidence follow; provenance at the bottom."""
    _, report = welder
    order = [reviewer.index(f'id="{i}"') for i in ("top", "flags", "comparisons", "results", "matrix", "clauses")]
    order += [reviewer.index('id="fulltext-section"'), reviewer.index('id="provenance"')]
    assert order == sorted(order)
    provenance = _section(reviewer, "provenance")
    for value in (
        report["document"]["sha256"],
        report["guideline"]["sha256"],
        report["matcher"],
        f"{report['tool']['name']} {report['tool']['version']}",
        f"{report['encoder']['name']}，{report['encoder']['dim']} 维",
        report["guideline"]["title"],
    ):
        assert escape(value) in provenance
    for value in (report["document"]["sha256"], report["matcher"], f"{report['encoder']['name']}，"):
        assert reviewer.index(escape(value)) > reviewer.index('id="provenance"')  # not above the verdict
    assert "welder_structured_gbk.txt" in reviewer[: reviewer.index('id="flags"')]


def test_comparisons_and_flags(reviewer, welder):
    _, report = welder
    comparisons = _section(reviewer, "comparisons")
    for item_id, comparison in report["comparisons"].items():
        row = comparisons[comparisons.index(f'data-item="{item_id}"') :].split("</tr>", 1)[0]
        cells = row.split("<td>")[1:]
        assert len(cells) == 3
        for cell, key in zip(cells, ("past", "benchmark", "trend"), strict=True):
            assert ("✓" in cell) == comparison[key]
            assert re.findall(r'href="#passage-(p\d+)"', cell) == comparison["evidence"][key]
    flags = _section(reviewer, "flags")
    codes = [a["data-code"] for _, a in Elements(flags).tags if "data-code" in a]
    assert sorted(codes) == sorted(f["code"] for f in report["flags"])
    seen = Visible(flags).text
    for flag in report["flags"]:
        assert report_view.FLAG_LABELS[flag["code"]] in seen
        assert f'data-clause="{flag["clause"]}"' in flags


def test_no_internal_codes_or_ids_in_what_people_read(reviewer, applicant, markdown):
    people = reviewer[: reviewer.index('id="provenance"')]  # the provenance table names the matcher file
    for page in (Visible(people).text, Visible(applicant).text, markdown):
        for code in conftest.FLAG_CODES:
            assert code not in page
        assert not re.search(r"\bp\d+\b", page)  # passage ids: paragraphs are 第N段
        assert not re.search(r"@\d+", page)
    # Probabilities are for reviewers only, and explained there in one line.
    assert "概率" not in Visible(applicant).text and "概率" not in markdown
    assert report_view.PROBABILITY_LEGEND in Visible(reviewer).text


def test_one_status_per_clause_in_every_view(reviewer, applicant, welder, guideline):
    """Issue 12 item 3: the matrix, the clause section, the comparisons table and the flags agree."""
    _, report = welder
    elements = Elements(reviewer)
    matrix = {c["data-clause"]: c["data-status"] for c in elements.with_class("td", "clause-cell")}
    sections = {s["id"][len("clause-") :]: s["data-status"] for s in elements.with_class("section", "clause")}
    assert matrix == sections == {c["id"]: c["status"] for c in report["clauses"]}
    comparisons = _section(reviewer, "comparisons")
    for item_id, comparison in report["comparisons"].items():
        cid = guideline.items[item_id].comparison_clause
        assert matrix[cid] == comparison_status(comparison["past"], comparison["benchmark"])
        row = comparisons[comparisons.index(f'data-item="{item_id}"') :].split("</tr>", 1)[0]
        assert f'class="badge status-{matrix[cid]}"' in row
    flagged = {li["data-clause"]: li["data-status"] for li in Elements(_section(reviewer, "flags")).find("li")}
    for flag in report["flags"]:
        assert flagged[flag["clause"]] == matrix[flag["clause"]]
        expected = {"clause_missing": "missing", "clause_weak": "weak", "clause_possible": "weak"}.get(flag["code"])
        if expected:
            assert matrix[flag["clause"]] == expected
    assert {cid for cid, s in matrix.items() if s != "covered"} <= set(flagged)
    # The applicant page lists the same gaps with the same statuses.
    gaps = {s["data-clause"]: s["class"] for s in Elements(applicant).with_class("section", "gap")}
    assert {cid: next(c[7:] for c in cls.split() if c.startswith("status-")) for cid, cls in gaps.items()} == {
        cid: s for cid, s in matrix.items() if s != "covered"
    }


def test_self_contained_and_only_its_own_script(reviewer):
    assert reviewer.startswith("<!DOCTYPE html>")
    for forbidden in ("http://", "https://", "<link", "src=", "url(", "@import", "<iframe", "<img"):
        assert forbidden not in reviewer
    scripts = re.findall(r"<script>(.*?)</script>", reviewer, re.S)
    assert scripts == [render._REVIEWER_JS]
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"script-src &#39;sha256-{digest}&#39;" in reviewer
    assert '"PingFang SC","Noto Sans CJK SC","Source Han Sans SC"' in reviewer and "@media print" in reviewer


def test_rendering_is_deterministic(welder, reviewer, applicant, markdown):
    assert render.render_reviewer_html(*welder) == reviewer
    assert render.render_applicant_html(*welder) == applicant
    assert render.render_applicant_markdown(*welder) == markdown


def test_applicant_text_is_escaped_everywhere(hostile):
    analysis, report = hostile
    reviewer = render.render_reviewer_html(analysis, report)
    applicant = render.render_applicant_html(analysis, report)
    for page in (reviewer, applicant):
        assert SCRIPT not in page and IMG not in page
        assert "<img" not in page and "<b>" not in page
        assert "evil&lt;b&gt;&amp;&#34;q&#34;.txt" in page  # the file name, in the header or intro
    assert escape(SCRIPT) in reviewer and escape(IMG) in reviewer
    assert escape(MARKDOWN_PAYLOAD) in reviewer  # "&lt;" stays text: shown as "&lt;", not "<"
    assert re.findall(r"<script>(.*?)</script>", reviewer, re.S) == [render._REVIEWER_JS]
    assert "<script" not in applicant and "script-src &#39;none&#39;" in applicant
    # The payload passage is among the closest passages of a gap: its excerpt shows it as text.
    payload_passages = {p["id"] for p in report["passages"] if SCRIPT in p["text"]}
    view = report_view.build_view(analysis, report)
    closest = {e.passage.id for c in view.gaps for e in c.closest}
    assert payload_passages & closest
    assert escape(SCRIPT) in applicant


def test_markup_from_the_narrative_is_inert_in_markdown(hostile):
    markdown_it = pytest.importorskip("markdown_it")
    analysis, report = hostile
    md = render.render_applicant_markdown(analysis, report)
    assert SCRIPT not in md and IMG not in md and "<b>" not in md
    rendered = markdown_it.MarkdownIt("commonmark").enable("table").render(md)  # raw HTML allowed here
    assert "<script" not in rendered and "<img" not in rendered and "<b>" not in rendered
    assert "javascript:" not in re.findall(r'href="([^"]*)"', rendered)
    assert "<strong>粗体</strong>" not in rendered
    assert "evil&lt;b&gt;&amp;&quot;q&quot;.txt" in rendered


def test_md_escape():
    assert render.md_escape("a*b_c`d[e](f)|g~h#i\\j") == "a\\*b\\_c\\`d\\[e\\](f)\\|g\\~h\\#i\\\\j"
    assert render.md_escape("<b>&amp;</b>") == "&lt;b&gt;&amp;amp;&lt;/b&gt;"
    assert render.md_escape("两行\n文字\t之间") == "两行 文字 之间"


def test_highlight_and_excerpt():
    pattern = report_view.keyword_pattern(["质量", "质量意识", "a<b"])
    assert report_view.highlight("强化质量意识<script>a<B", pattern) == [
        report_view.Segment("强化"),
        report_view.Segment("质量意识", True),
        report_view.Segment("<script>"),
        report_view.Segment("a<B", True),
    ]
    assert report_view.highlight("无关键词 & <x>", None) == [report_view.Segment("无关键词 & <x>")]
    segments = report_view.excerpt("甲" * 50 + "质量" + "乙" * 100, pattern, width=40)
    assert segments[0].text == "…" and segments[-1].text == "…" and report_view.Segment("质量", True) in segments
    assert len(report_view.plain(segments)) == 42


def test_marks_are_escaped_in_the_page(hostile):
    analysis, report = hostile
    page = render.render_reviewer_html(analysis, report)
    assert "<mark>社会责任</mark>&lt;script&gt;" in page or "社会责任&lt;script&gt;" in page


# --- applicant report ---------------------------------------------------------------------------


def _paragraph_labels(analysis) -> dict[str, str]:
    """第N段 of each passage: the paragraph's place in the document, headings counted."""
    counts: dict[int, int] = {}
    for p in analysis.segmentation.passages:
        counts[p.paragraph] = counts.get(p.paragraph, 0) + 1
    return {p.id: f"第{p.paragraph + 1}段" for p in analysis.segmentation.passages if counts[p.paragraph] == 1}


def test_applicant_html_lists_exactly_the_gaps_with_guidance(applicant, welder, guideline):
    analysis, report = welder
    paragraphs = _paragraph_labels(analysis)
    gaps = [c["id"] for c in report["clauses"] if c["status"] != "covered"]
    sections = Elements(applicant).with_class("section", "gap")
    assert [s["data-clause"] for s in sections] == gaps
    for clause in report["clauses"]:
        cid = clause["id"]
        if clause["status"] == "covered":
            assert f'id="gap-{cid}"' not in applicant
            continue
        body = _section(applicant, f"gap-{cid}")
        assert f"status-{clause['status']}" in sections[gaps.index(cid)]["class"]
        assert escape(guideline.clauses[cid].text) in body
        assert escape(report_view.applicant_words(guideline.clauses[cid].guidance)) in body
        closest = (clause["evidence"] + clause["near_misses"])[: render.MAX_CLOSEST]
        for pid in closest:
            assert f'data-passage="{pid}"' in body
            assert f'<span class="where">{paragraphs[pid]}</span>' in body
        if not closest:
            assert "没有与本条款接近的段落" in body
        if clause["possible"]:
            assert report_view.APPLICANT_POSSIBLE in body and "专门补写一段" not in body
    for category_id, line in _covered_lines(report, guideline).items():  # covered clauses, briefly
        assert f'<p class="covered-list">{line}</p>' in _section(applicant, f"category-{category_id}")
    assert "<script" not in applicant and "致申报人" in applicant


def test_applicant_reports_list_the_missing_comparisons(applicant, markdown, welder, guideline):
    _, report = welder
    expected = {
        item_id for item_id, c in report["comparisons"].items() if not (c["past"] and c["benchmark"] and c["trend"])
    }
    listed = {li["data-item"] for li in Elements(applicant).find("li") if "data-item" in li}
    assert listed == expected and expected  # the sample lacks some comparisons (7.3 at least)
    comparisons = _section(applicant, "comparisons")
    for item_id, c in report["comparisons"].items():
        item = guideline.items[item_id]
        marks = " | ".join("✓ 有" if c[key] else "✗ 缺少" for key in ("past", "benchmark", "trend"))
        assert f"| {item_id} {item.title} | {marks} |" in markdown
        if item_id not in expected:
            continue
        advice = comparisons[comparisons.index(f'<li data-item="{item_id}">') :].split("</li>", 1)[0]
        line = next(ln for ln in markdown.splitlines() if ln.startswith(f"- **{item_id} {item.title}**："))
        for text in (advice, line):
            assert ("未与您本人以往的结果比对" in text) == (not c["past"])
            assert ("未与标杆、同行或行业水平比对" in text) == (not c["benchmark"])
            assert ("难以显示趋势" in text) == (c["past"] and not c["trend"])
        guidance = report_view.applicant_words(guideline.clauses[item.comparison_clause].guidance)
        assert escape(guidance) in advice
        assert render.md_escape(guidance) in line


def test_applicant_markdown_lists_exactly_the_gaps_with_guidance(markdown, welder, guideline):
    analysis, report = welder
    paragraphs = _paragraph_labels(analysis)
    gaps = [c["id"] for c in report["clauses"] if c["status"] != "covered"]
    headings = re.findall(r"^### (\S+) ", markdown, re.M)
    assert headings == gaps
    blocks = dict(zip(headings, re.split(r"^### .*$", markdown, flags=re.M)[1:], strict=True))
    for cid in gaps:
        clause = guideline.clauses[cid]
        assert f"- **指南原文：** {render.md_escape(clause.text)}" in blocks[cid]
        assert f"- **建议补充的证据：** {render.md_escape(report_view.applicant_words(clause.guidance))}" in blocks[cid]
        entry = next(c for c in report["clauses"] if c["id"] == cid)
        for pid in (entry["evidence"] + entry["near_misses"])[: render.MAX_CLOSEST]:
            assert f"  - {paragraphs[pid]}（" in blocks[cid]
        if entry["possible"]:
            assert report_view.APPLICANT_POSSIBLE in blocks[cid] and "专门补写一段" not in blocks[cid]
    assert markdown.startswith("# 自评报告差距分析\n")
    assert all(f"## {c.id}. {c.title}\n" in markdown for c in guideline.categories)
    categories = _markdown_categories(markdown)
    for category_id, line in _covered_lines(report, guideline).items():
        assert f"\n{line}\n" in categories[category_id]


def test_applicant_is_addressed_as_nin(applicant, markdown, welder):
    """您 throughout, also in the guideline's guidance (which says 你)."""
    assert "你" not in Visible(applicant).text and "你" not in markdown
    assert "您" in Visible(applicant).text and "您" in markdown


def test_applicant_quotes_paragraph_openings(applicant, welder):
    analysis, report = welder
    view = report_view.build_view(analysis, report)
    quoted = [e for c in view.gaps for e in c.closest]
    assert quoted
    for e in quoted:
        paragraph = analysis.segmentation.paragraphs[e.passage.paragraph - 1]
        words = " ".join(analysis.document.text[paragraph.start : paragraph.end].split())
        assert e.passage.opening.rstrip("…") == words[: len(e.passage.opening.rstrip("…"))]
        if e.show_opening:
            assert escape(f"以“{e.passage.opening}”开头") in applicant


def test_rendering_is_byte_identical_in_another_process(reviewer, applicant, markdown, tmp_path):
    """No timestamps, no set or hash order: a fresh interpreter with another hash seed writes the same bytes."""
    script = (
        "import hashlib, sys\n"
        "from evidence_nlp import render\n"
        "from evidence_nlp.pipeline import Analyzer\n"
        "from evidence_nlp.guideline import load_guideline\n"
        "from evidence_nlp.report import build_report\n"
        f"a = Analyzer(load_guideline()).analyze({str(STRUCTURED)!r})\n"
        "r = build_report(a)\n"
        "for f in (render.render_reviewer_html, render.render_applicant_html, render.render_applicant_markdown):\n"
        "    print(hashlib.sha256(f(a, r).encode()).hexdigest())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == [hashlib.sha256(p.encode()).hexdigest() for p in (reviewer, applicant, markdown)]


# --- the results-data table and evidence depth (issue 13) ---------------------------------------------

WITH_STATEMENT = ("班组成员的技能水平也普遍有了提高。", "班组成员的技能水平也普遍有了提高，高于行业平均水平。")


def _measure_rows(page: str, item_id: str) -> list[str]:
    """The HTML of each measure row of one item's results table, in page order."""
    section = _section(page, "results")
    start = section.index(f'<table class="results" data-item="{item_id}">')
    table = section[start : section.index("</table>", start)]
    return [row.split("</tr>", 1)[0] for row in table.split('<tr class="measure"')[1:]]


def _cells(row: str) -> dict[str, str]:
    """A measure row's cells by their data-label."""
    return dict(re.findall(r'data-label="([^"]+)"[^>]*>(.*?)</t[dh]>', row))


def _measures(report, item_id: str) -> list[dict]:
    rows = [r for r in report["results"]["rows"] if r["item"] == item_id and r["kind"] == "measure"]
    starts = {p["id"]: p["start"] for p in report["passages"]}
    return sorted(rows, key=lambda r: (starts[r["passage"]], r["measure"]["name_start"]))


def test_results_table_shows_the_sample_measures(reviewer, welder, guideline):
    _, report = welder
    section = _section(reviewer, "results")
    assert list(report["results"]["items"]) == ["7.1", "7.2", "7.3"]
    for item_id, counts in report["results"]["items"].items():
        opening = f'<p class="results-summary" data-item="{item_id}">'
        summary = Visible(section[section.index(opening) + len(opening) :]).text
        assert summary.startswith(
            f"指标 {counts['measures']} 项：有以往比对 {counts['with_past']} 项，"
            f"有趋势 {counts['with_trend']} 项，有标杆比对 {counts['with_benchmark']} 项"
        )
        measures = _measures(report, item_id)
        rows = _measure_rows(reviewer, item_id)
        assert len(rows) == len(measures) == counts["measures"]
        for html_row, row in zip(rows, measures, strict=True):
            cells = _cells(html_row)
            measure = row["measure"]
            assert f'<th scope="row" class="mname" data-label="指标">{escape(measure["name"])}</th>' in html_row
            assert html.unescape(cells["单位"]) == (measure["unit"] or "—")
            for key, label in (("past", "以往"), ("trend", "趋势"), ("benchmark", "标杆")):
                assert ("✓" in cells[label]) == row[key]
                assert f'data-sort-{key}="{int(row[key])}"' in html_row
            assert f'href="#passage-{row["passage"]}"' in cells["出处"]
            for reference in measure["references"]:
                assert escape(reference["text"]) in cells["参照"]
    # 7.1's table 2021–2023: each measure at three years, the latest as its level, the trend in words.
    rows = {re.search(r'data-sort-name="([^"]+)"', r).group(1): _cells(r) for r in _measure_rows(reviewer, "7.1")}
    assert Visible(rows["个人焊缝RT一次合格率"]["水平"]).text == "99.68%（2023年）"
    assert Visible(rows["班组殷瓦焊缝气孔缺陷率"]["水平"]).text == "0.18%（2023年）"
    assert rows["班组殷瓦焊缝气孔缺陷率"]["变化"] == "下降，改善"  # down is good for a defect rate
    assert rows["班组焊接返修率"]["变化"] == "下降，改善"
    assert rows["班组完成焊缝长度"]["变化"] == "上升"  # no direction of good: the movement only
    assert rows["班组安全生产事故"]["变化"] == "持平"
    personal = next(r for r in _measure_rows(reviewer, "7.1") if 'data-sort-name="个人焊缝RT一次合格率"' in r)
    assert 'title="2021年 99.21%；2022年 99.46%；2023年 99.68%"' in personal  # every point, on hover
    assert section.index('id="results-7.1"') < section.index('id="results-7.2"') < section.index('id="results-7.3"')


def test_results_words_follow_the_reports_judgement():
    assert report_view.trend_words([{"time": "2021", "value": 1.65}, {"time": "2023", "value": 0.83}], None) == (
        "下降",
        0,
    )
    three = [{"time": str(y), "value": v} for y, v in ((2021, 5.0), (2022, 6.0), (2023, 7.0))]
    assert report_view.trend_words(three, "improving") == ("上升，改善", 3)
    assert report_view.trend_words(three, "worsening") == ("上升，变差", 1)
    assert report_view.trend_words(three[:1], None) == ("—", None)
    assert report_view.number_text(200.0) == "200" and report_view.number_text(0.18) == "0.18"
    assert report_view.time_words("2023") == "2023年" and report_view.time_words("近三年") == "近三年"


def test_sparkline_for_measures_with_two_points_or_more(reviewer, welder):
    _, report = welder
    seen = {1: 0, 2: 0}
    for item_id in report["results"]["items"]:
        for html_row, row in zip(_measure_rows(reviewer, item_id), _measures(report, item_id), strict=True):
            points = row["measure"]["points"]
            svgs = re.findall(r"<svg [^>]*>.*?</svg>", html_row, re.S)
            if len(points) < 2:
                assert svgs == []
                seen[1] += 1
                continue
            seen[2] += 1
            assert len(svgs) == 1
            svg = svgs[0]
            assert 'class="spark' in svg and 'role="img"' in svg and "xmlns" not in svg and "href" not in svg
            coords = re.search(r'<polyline points="([^"]+)"', svg).group(1).split()
            assert len(coords) == len(points)
            assert all(re.fullmatch(r"\d+\.\d,\d+\.\d", c) for c in coords)  # rounded to 1 decimal
            xs = [float(c.split(",")[0]) for c in coords]
            assert xs == sorted(xs) and xs[0] == report_view.SPARK_PAD
            assert xs[-1] == report_view.SPARK_WIDTH - report_view.SPARK_PAD
    assert seen[1] and seen[2]  # the sample has both
    # The highest value at the top: 个人焊缝RT一次合格率 rises, its last point is at y = the padding.
    row = next(r for r in _measure_rows(reviewer, "7.1") if 'data-sort-name="个人焊缝RT一次合格率"' in r)
    assert '<polyline points="3.0,21.0 42.0,11.4 81.0,3.0"' in row
    defect = next(r for r in _measure_rows(reviewer, "7.1") if 'data-sort-name="班组殷瓦焊缝气孔缺陷率"' in r)
    assert 'class="spark tone-improving"' in defect


def test_results_table_sorting_is_the_page_scripts_with_buttons(reviewer):
    section = _section(reviewer, "results")
    headers = [a for _, a in Elements(section).tags if "data-sort-key" in a]
    assert headers and all(h.get("aria-sort") in ("none", "ascending") for h in headers)
    # Every sortable header holds a real button (keyboard: Tab and Enter), and the script handles it.
    assert section.count('aria-sort="none"><button type="button">') + section.count(
        'aria-sort="ascending"><button type="button">'
    ) == len(headers)
    assert "table.results" in render._REVIEWER_JS and "aria-sort" in render._REVIEWER_JS


@pytest.fixture(scope="module")
def with_statement(analyzer, tmp_path_factory):
    """The welder sample with a benchmark said in words only in 7.2: a statement row."""
    text = read_document(STRUCTURED).text
    assert WITH_STATEMENT[0] in text
    path = tmp_path_factory.mktemp("statement") / "welder_statement.txt"
    path.write_text(text.replace(*WITH_STATEMENT, 1), encoding="utf-8")
    analysis = analyzer.analyze(path)
    return analysis, build_report(analysis)


def test_statement_rows_are_listed_with_their_passage(with_statement):
    analysis, report = with_statement
    statements = [r for r in report["results"]["rows"] if r["kind"] == "statement"]
    assert statements and report["results"]["items"]["7.2"]["statements"] == 1
    page = render.render_reviewer_html(analysis, report)
    section = _section(page, "results")
    for row in statements:
        listed = section[section.index(f'<ul class="statements" data-item="{row["item"]}">') :].split("</ul>", 1)[0]
        item = listed[listed.index(f'<li data-pid="{row["passage"]}">') :].split("</li>", 1)[0]
        assert "比对语句" in item and f'href="#passage-{row["passage"]}"' in item
        for key, label in report_view.COMPARISON_KINDS:
            assert (label in item) == row[key]
    assert "另有比对语句 1 处" in Visible(section).text


def test_hostile_measure_name_and_reference_are_escaped(welder):
    analysis, report = welder
    report = copy.deepcopy(report)
    row = next(r for r in report["results"]["rows"] if r["kind"] == "measure" and len(r["measure"]["points"]) >= 2)
    row["measure"]["name"] = SCRIPT
    row["measure"]["unit"] = IMG
    row["measure"]["references"] = [{"kind": "other", "text": MARKDOWN_PAYLOAD, "value": None, "start": 0, "end": 1}]
    page = render.render_reviewer_html(analysis, report)
    assert SCRIPT not in page and IMG not in page and "<img" not in page
    section = _section(page, "results")
    assert f'data-label="指标">{escape(SCRIPT)}</th>' in section
    assert f'aria-label="{escape(SCRIPT)}：' in section and f"<title>{escape(SCRIPT)}：" in section  # the sparkline
    assert escape(MARKDOWN_PAYLOAD) in section and escape(IMG) in section
    assert re.findall(r"<script>(.*?)</script>", page, re.S) == [render._REVIEWER_JS]


def test_depth_marks_in_the_matrix_agree_with_the_report(reviewer, welder, guideline):
    _, report = welder
    matrix = _section(reviewer, "matrix")
    cells = dict(re.findall(r'<td class="clause-cell[^"]*" data-clause="([^"]+)"[^>]*>(.*?)</td>', matrix))
    assert list(cells) == guideline.clause_ids
    with_depth = 0
    for clause in report["clauses"]:
        cell = cells[clause["id"]]
        marks = re.findall(r'<i class="dmark (on|off)" data-layer="(\w+)">(.)</i>', cell)
        if clause["depth"] is None:
            assert marks == []
            continue
        with_depth += 1
        layers = clause["depth"]["layers"]
        assert [(layer, on == "on") for on, layer, _ in marks] == [(k, layers[k]["present"]) for k in layers]
        assert [m for _, _, m in marks] == ["方", "展", "果"]
        names = {"method": "做法", "deployment": "展开", "result": "结果"}
        summary = " ".join(f"{names[k]}{'✓' if layers[k]['present'] else '✗'}" for k in layers)
        assert f'title="证据层次：{summary}"' in cell and f'<span class="vh">证据层次：{summary}</span>' in cell
    assert with_depth >= 20  # the sample's process clauses with evidence


def test_clause_sections_explain_the_depth_and_quote_each_layer(reviewer, welder):
    analysis, report = welder
    text = analysis.document.text
    for clause in report["clauses"]:
        section = _section(reviewer, f"clause-{clause['id']}")
        if clause["depth"] is None:
            assert "depth-detail" not in section
            continue
        detail = section[section.index('<div class="depth-detail"') :].split("</div>", 1)[0]
        depth = clause["depth"]
        assert (escape(depth["explanation"]) in detail) if depth["explanation"] else ("三个层次都有" in detail)
        if depth["advice"]:
            assert escape(depth["advice"]) in detail
        quoted = set()
        for key, layer in depth["layers"].items():
            item = detail[detail.index(f'data-layer="{key}"') :].split("</li>", 1)[0]
            assert f'data-present="{"true" if layer["present"] else "false"}"' in item
            if not layer["present"]:
                assert "未写到" in item
                continue
            sentence = " ".join(text[layer["start"] : layer["end"]].split())
            if (layer["start"], layer["end"]) in quoted:
                assert "同一句" in item  # one sentence that shows two layers is quoted once
            else:
                assert f"“{escape(sentence)}”" in item and 'href="#passage-' in item
            quoted.add((layer["start"], layer["end"]))


def test_applicant_pages_carry_the_depth_advice(applicant, markdown, welder, guideline):
    _, report = welder
    blocks = dict(
        zip(re.findall(r"^### (\S+) ", markdown, re.M), re.split(r"^### .*$", markdown, flags=re.M)[1:], strict=True)
    )
    deepened = 0
    for clause in report["clauses"]:
        depth, cid = clause["depth"], clause["id"]
        advice = depth["advice"] if depth else ""
        if clause["status"] == "weak" and advice:
            assert escape(advice) in _section(applicant, f"gap-{cid}")
            assert render.md_escape(advice) in blocks[cid]
        elif clause["status"] == "covered" and advice:
            deepened += 1
            item = applicant[applicant.index(f'<li data-clause="{cid}">') :].split("</li>", 1)[0]
            assert escape(depth["explanation"]) in item and escape(advice) in item
            line = next(ln for ln in markdown.splitlines() if ln.startswith(f"- **{cid}** "))
            assert render.md_escape(advice) in line
        elif clause["status"] == "covered":
            assert f'<li data-clause="{cid}">' not in applicant
    assert deepened  # the sample has covered clauses without 结果


# --- the CLI ------------------------------------------------------------------------------------


def test_report_command_writes_each_kind(tmp_path):
    reviewer = tmp_path / "out" / "reviewer.html"
    result = runner.invoke(app, ["report", str(STRUCTURED), "--kind", "reviewer", "--out", str(reviewer)])
    assert result.exit_code == 0, result.output
    assert re.fullmatch(
        rf"wrote {re.escape(str(reviewer))}: reviewer report, \d+ covered, \d+ weak, \d+ missing\n", result.stdout
    )
    page = reviewer.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count('class="clause-cell ') == 39
    assert reviewer.stat().st_mode & 0o777 == 0o644

    markdown = tmp_path / "gaps.md"  # the format follows the suffix
    result = runner.invoke(app, ["report", str(STRUCTURED), "--kind", "applicant", "-o", str(markdown)])
    assert result.exit_code == 0, result.output
    assert markdown.read_text(encoding="utf-8").startswith("# 自评报告差距分析")

    folder = tmp_path / "folder"
    folder.mkdir()
    result = runner.invoke(app, ["report", str(STRUCTURED), "-k", "applicant", "-o", str(folder), "-f", "html"])
    assert result.exit_code == 0, result.output
    written = folder / "welder_structured_gbk.applicant.html"
    assert [p.name for p in folder.iterdir()] == [written.name]
    assert "自评报告差距分析" in written.read_text(encoding="utf-8")


def test_report_command_errors(tmp_path):
    out = tmp_path / "r.md"
    result = runner.invoke(app, ["report", str(STRUCTURED), "--kind", "reviewer", "--out", str(out)])
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("error: ") and "reviewer report is HTML only" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1

    result = runner.invoke(
        app, ["report", str(STRUCTURED), "--kind", "reviewer", "--format", "md", "--out", str(tmp_path / "r.html")]
    )
    assert result.exit_code == 2 and "--format md" in result.stderr

    missing = tmp_path / "missing.txt"
    args = ["report", str(missing), "--kind", "applicant", "--out", str(tmp_path / "a.html"), "--encoder", "lexical"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: {missing}: file not found"

    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    result = runner.invoke(app, [*args[:1], str(empty), *args[2:]])
    assert result.exit_code == 1 and result.stderr.strip() == f"error: {empty}: empty file"

    bad = tmp_path / "g.yaml"
    bad.write_text("id: x\ntitle: y\ncategories: []\n", encoding="utf-8")
    result = runner.invoke(app, [*args, "--guideline", str(bad)])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {bad}: guideline: missing or empty 'categories'"

    result = runner.invoke(app, ["report", str(STRUCTURED), "--kind", "nobody", "--out", str(out)])
    assert result.exit_code == 2  # typer's usage error
    assert not any(Path(tmp_path).glob("*.html")) and not out.exists()
