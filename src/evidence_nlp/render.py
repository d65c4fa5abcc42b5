"""Render: reports for people, built from an Analysis and its schema-1 report dict.

* `render_reviewer_html`: a reviewer-assist report, one self-contained HTML file (coverage matrix,
  per-clause evidence in context with near-misses, comparisons, flags, the full text).
* `render_applicant_html` / `render_applicant_markdown`: a gap report written to the applicant, in
  Chinese: which clauses are missing or weak, what evidence would cover them, the closest passages.

Pure functions, standard library only. Everything that comes from the narrative (and from the
guideline file) is escaped; the only script in the reviewer page is the static one below, and the
page's Content-Security-Policy admits that script alone (by hash), no network and no other code.
Nothing time- or machine-dependent is written: the same report gives the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Iterable
from pathlib import PurePath
from typing import Any

from .coverage import COVERED, MISSING, WEAK
from .guideline import Category, Clause, Guideline
from .pipeline import Analysis
from .report import CONFIDENCE_LABELS, POSSIBLE_LABEL, STATUS_LABELS, STATUS_MARKS, status_counts

STATUSES = (COVERED, WEAK, MISSING)
# Words addressed to the applicant ("您") differ a little from the reviewer's terse labels.
APPLICANT_LABELS = {COVERED: "已覆盖", WEAK: "证据薄弱", MISSING: "未找到证据"}
FLAG_LABELS = {
    "clause_missing": "条款缺失",
    "clause_weak": "证据薄弱",
    "clause_possible": "可能已涉及，请核对",
    "comparison_past_missing": "缺少与以往比对",
    "comparison_benchmark_missing": "缺少标杆比对",
    "trend_missing": "缺少趋势",
}
COMPARISON_KINDS = (("past", "与以往比对"), ("benchmark", "与标杆比对"), ("trend", "趋势（≥3 个时间点）"))
CONTEXT_CHARS = 60  # text shown before/after an evidence passage, within its paragraph
EXCERPT_CHARS = 90  # applicant excerpts
MAX_EVIDENCE = 5  # evidence passages shown in full per clause; the rest are listed as links
MAX_CLOSEST = 3  # closest passages per gap clause in the applicant report

FONT_STACK = (
    '"PingFang SC","Noto Sans CJK SC","Source Han Sans SC","Hiragino Sans GB","Microsoft YaHei",'
    '"WenQuanYi Micro Hei",sans-serif'
)

_CSS_BASE = """
:root{--ink:#1f2933;--muted:#52606d;--line:#d9e2ec;--bg:#f5f7fa;--accent:#1f4e79;
--cov:#2f7d32;--cov-bg:#e3f2e1;--weak:#a86400;--weak-bg:#fff1d6;--miss:#b42318;--miss-bg:#fde4e1;}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);font-family:FONTS;font-size:15px;line-height:1.75;
font-variant-numeric:tabular-nums}
main{max-width:1120px;margin:0 auto;padding:16px 32px 64px;background:#fff;min-height:100vh;
box-shadow:0 0 0 1px var(--line)}
h1{font-size:24px;margin:8px 0 4px;letter-spacing:.02em}
h2{font-size:19px;margin:36px 0 12px;padding-bottom:6px;border-bottom:2px solid var(--accent);color:var(--accent)}
h3{font-size:16px;margin:24px 0 8px}
h4{font-size:14px;margin:14px 0 6px;color:var(--muted);font-weight:600}
a{color:var(--accent);text-decoration:none}
a:hover{text-decoration:underline}
.subtitle{color:var(--muted);margin:0 0 16px}
table{border-collapse:collapse;width:100%;margin:8px 0 16px}
th,td{border:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
thead th{background:#eef2f7;font-weight:600}
td.nowrap{white-space:nowrap}
.meta-table th{width:120px;background:#f8fafc;font-weight:600;color:var(--muted)}
.meta-table td{word-break:break-all}
code,.mono{font-family:"SFMono-Regular",Menlo,Consolas,"Liberation Mono",monospace;font-size:12.5px}
.badge{display:inline-block;padding:0 8px;border-radius:10px;font-size:12.5px;font-weight:600;white-space:nowrap}
.badge.status-covered{color:var(--cov);background:var(--cov-bg)}
.badge.status-weak{color:var(--weak);background:var(--weak-bg)}
.badge.status-missing{color:var(--miss);background:var(--miss-bg)}
.yes{color:var(--cov);font-weight:600}
.no{color:var(--miss);font-weight:600}
mark{background:#ffe58f;color:inherit;padding:0 1px;border-radius:2px}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}
.card{flex:1 1 150px;border:1px solid var(--line);border-radius:6px;padding:10px 14px}
.card .n{font-size:26px;font-weight:700;line-height:1.2}
.card.status-covered .n{color:var(--cov)}
.card.status-weak .n{color:var(--weak)}
.card.status-missing .n{color:var(--miss)}
.note{color:var(--muted);font-size:13px}
.quote{border-left:3px solid var(--line);padding:2px 0 2px 12px;margin:6px 0;color:var(--ink)}
footer{margin-top:48px;padding-top:12px;border-top:1px solid var(--line);color:var(--muted);font-size:12.5px}
@media print{
@page{size:A4;margin:16mm 14mm}
body{background:#fff;font-size:10.5pt}
main{max-width:none;padding:0;box-shadow:none}
a{color:inherit}
h2,h3,h4{break-after:avoid}
tr,.card,.quote{break-inside:avoid}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
.no-print{display:none!important}
}
""".replace("FONTS", FONT_STACK)

_CSS_REVIEWER = """
nav.toc{position:sticky;top:0;z-index:5;background:rgba(255,255,255,.96);border-bottom:1px solid var(--line);
margin:-16px -32px 8px;padding:8px 32px;display:flex;gap:18px;flex-wrap:wrap;align-items:center;font-size:14px}
nav.toc .spacer{flex:1}
nav.toc button{font:inherit;font-size:13px;border:1px solid var(--line);background:#fff;border-radius:4px;
padding:2px 10px;cursor:pointer;color:var(--ink)}
nav.toc button[aria-pressed="true"]{background:var(--accent);border-color:var(--accent);color:#fff}
[id]{scroll-margin-top:56px}
table.matrix{border-top:1px solid var(--line)}
table.matrix td,table.matrix th{padding:4px;border:none;border-bottom:1px solid var(--line)}
table.matrix th.cat{width:150px;font-weight:600;vertical-align:middle;padding-left:8px}
table.matrix td.sum{font-size:12px;color:var(--muted);white-space:nowrap;vertical-align:middle;width:120px;
text-align:right;padding-right:8px}
td.clause-cell{width:74px;text-align:center;padding:4px 3px}
td.clause-cell a{display:block;padding:6px 2px;color:inherit;text-decoration:none;border-radius:4px}
td.clause-cell a:hover{outline:2px solid var(--accent)}
td.clause-cell .cid{display:block;font-weight:700;font-size:13.5px}
td.clause-cell .st{display:block;font-size:11.5px}
td.clause-cell.status-covered a{background:var(--cov-bg);color:var(--cov)}
td.clause-cell.status-weak a{background:var(--weak-bg);color:var(--weak)}
td.clause-cell.status-missing a{background:var(--miss-bg);color:var(--miss)}
.legend{display:flex;gap:16px;font-size:13px;color:var(--muted);margin-bottom:4px}
section.clause{border:1px solid var(--line);border-left:5px solid var(--line);border-radius:4px;padding:10px 16px 12px;
margin:14px 0}
section.clause.status-covered{border-left-color:var(--cov)}
section.clause.status-weak{border-left-color:var(--weak)}
section.clause.status-missing{border-left-color:var(--miss)}
section.clause:target{box-shadow:0 0 0 3px #b3d4f5}
.clause-head{display:flex;gap:10px;align-items:baseline;flex-wrap:wrap}
.clause-head .cid{font-size:17px;font-weight:700}
.clause-head .item{color:var(--muted)}
.clause-head .score{margin-left:auto;font-size:13px;color:var(--muted)}
.clause-text{margin:6px 0;font-weight:500}
.guidance{font-size:13px;color:var(--muted);margin:2px 0 6px}
ol.passages{list-style:none;padding:0;margin:0}
.pcard{border:1px solid var(--line);border-radius:4px;padding:6px 10px;margin:6px 0;background:#fcfdfe}
.badge.possible{background:#e8eefc;color:#1f4e79;border:1px dashed #1f4e79}
.confidence{font-size:13px;color:var(--muted)}
.pcard.near{border-style:dashed;background:#fff}
.pmeta{font-size:12.5px;color:var(--muted);display:flex;gap:12px;flex-wrap:wrap;align-items:center}
.bar{display:inline-block;width:70px;height:6px;background:#e4e7eb;border-radius:3px;vertical-align:middle}
.bar i{display:block;height:6px;border-radius:3px;background:var(--accent)}
.ctx{margin:4px 0 0;white-space:pre-wrap}
.ctx .around{color:#9aa5b1}
.ctx .hit{background:#eef5fc;border-radius:2px}
.review{margin-top:8px;font-size:12.5px;color:var(--muted);border-top:1px dotted var(--line);padding-top:6px}
body[data-filter="gaps"] section.clause.status-covered{display:none}
#fulltext{white-space:pre-wrap;word-break:break-word;border:1px solid var(--line);border-radius:4px;padding:16px 20px;
line-height:1.9;font-size:14.5px}
#fulltext .passage.kind-heading{font-weight:700;color:var(--accent)}
#fulltext .passage::before{content:attr(data-pid);font:11px/1 "SFMono-Regular",Menlo,Consolas,monospace;
color:#9aa5b1;margin-right:4px;vertical-align:super}
#fulltext .passage.is-evidence{background:#fff6cc;border-bottom:2px solid #f0c000}
#fulltext .passage.is-near{border-bottom:2px dashed #9aa5b1}
#fulltext .passage:target{outline:3px solid #7fb2e5;background:#dcecfb}
@media print{
nav.toc{display:none}
section.clause{break-inside:avoid-page}
.pcard{break-inside:avoid}
#fulltext-section{break-before:page}
#fulltext{border:none;padding:0}
td.clause-cell a{padding:3px 1px}
body[data-filter="gaps"] section.clause.status-covered{display:block}
}
"""

_CSS_APPLICANT = """
section.gap{border:1px solid var(--line);border-radius:4px;padding:10px 16px;margin:12px 0}
section.gap.status-weak{border-left:5px solid var(--weak)}
section.gap.status-missing{border-left:5px solid var(--miss)}
.gap-head{display:flex;gap:10px;align-items:baseline;flex-wrap:wrap}
.gap-head .cid{font-weight:700;font-size:16px}
dl{margin:6px 0}
dt{font-weight:600;color:var(--muted);font-size:13px;margin-top:6px}
dd{margin:2px 0 0}
ul.closest{margin:4px 0;padding-left:20px}
.covered-list{color:var(--muted);font-size:14px}
@media print{section.gap{break-inside:avoid}}
"""

# The reviewer page's only script: a filter for covered clauses, and un-hiding a clause that a
# link points at. Static: nothing from the narrative is ever placed in it.
_REVIEWER_JS = """
(function () {
  var buttons = document.querySelectorAll("button[data-filter]");
  function setFilter(value) {
    document.body.setAttribute("data-filter", value);
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].setAttribute("aria-pressed", buttons[i].getAttribute("data-filter") === value ? "true" : "false");
    }
  }
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].addEventListener("click", function (event) {
      setFilter(event.currentTarget.getAttribute("data-filter"));
    });
  }
  function reveal() {
    var target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target && target.offsetParent === null) {
      setFilter("all");
      target.scrollIntoView();
    }
  }
  window.addEventListener("hashchange", reveal);
  setFilter("all");
})();
"""


def _csp(script: str | None) -> str:
    scripts = "'none'"
    if script is not None:
        digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
        scripts = f"'sha256-{digest}'"
    return f"default-src 'none'; script-src {scripts}; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def _e(value: Any) -> str:
    """HTML-escape any value for text or a double-quoted attribute."""
    return html.escape(str(value), quote=True)


def _score(value: float) -> str:
    return f"{value:.2f}"


class _View:
    """Lookups shared by the renderers: report entries by id, clause texts, passage scores."""

    def __init__(self, analysis: Analysis, report: dict[str, Any]) -> None:
        self.analysis = analysis
        self.report = report
        self.guideline: Guideline = analysis.guideline
        self.text: str = analysis.document.text
        self.clauses: dict[str, dict[str, Any]] = {c["id"]: c for c in report["clauses"]}
        self.passages: dict[str, dict[str, Any]] = {p["id"]: p for p in report["passages"]}
        self.scores: dict[str, dict[str, float]] = {
            p["id"]: {c["id"]: c["score"] for c in p["clauses"]} for p in report["passages"]
        }
        self.counts = status_counts(report)
        self.file_name = PurePath(report["document"]["path"]).name or report["document"]["path"]

    def clause_ids(self) -> list[str]:
        """Clause ids in guideline order (the report lists the same clauses)."""
        return [cid for cid in self.guideline.clause_ids if cid in self.clauses]

    def category_clauses(self, category: Category) -> list[str]:
        return [
            cid
            for item_id in category.item_ids
            for cid in self.guideline.items[item_id].clause_ids
            if cid in self.clauses
        ]

    def clause(self, cid: str) -> Clause:
        return self.guideline.clauses[cid]

    def item_label(self, cid: str) -> str:
        item = self.guideline.items[self.clause(cid).item_id]
        return f"{item.id} {item.title}"

    def item_title(self, cid: str) -> str:
        return self.guideline.items[self.clause(cid).item_id].title

    def section_label(self, section: str | None) -> str:
        if not section:
            return ""
        if section in self.guideline.items:
            return f"{section} {self.guideline.items[section].title}"
        for category in self.guideline.categories:
            if category.id == section:
                return f"{category.id} {category.title}"
        return section

    def near_miss_probability(self, pid: str, cid: str) -> float | None:
        proba = self.analysis.proba
        row = int(pid.lstrip("p") or 0) - 1
        column = self.analysis.guideline.clause_ids.index(cid)
        if proba is None or not 0 <= row < proba.shape[0]:
            return None
        return float(proba[row, column])

    def passage_score(self, pid: str, cid: str) -> float | None:
        score = self.scores.get(pid, {}).get(cid)
        if score is None:
            # A passage the status model promoted from near-miss to evidence carries the clause score.
            clause = self.clauses[cid]
            if clause["evidence"] and clause["evidence"][0] == pid:
                return clause["score"]
        return score

    def evidence_roles(self) -> tuple[set[str], set[str]]:
        evidence = {pid for c in self.report["clauses"] for pid in c["evidence"]}
        near = {pid for c in self.report["clauses"] for pid in c["near_misses"]} - evidence
        return evidence, near

    def gaps(self) -> list[str]:
        return [cid for cid in self.clause_ids() if self.clauses[cid]["status"] != COVERED]


# --- highlighting -------------------------------------------------------------------------------


def _keyword_pattern(keywords: Iterable[str]) -> re.Pattern[str] | None:
    words = sorted({k for k in keywords if k.strip()}, key=lambda k: (-len(k), k))
    if not words:
        return None
    return re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)


def _spans(text: str, pattern: re.Pattern[str] | None) -> list[tuple[int, int]]:
    return [] if pattern is None else [m.span() for m in pattern.finditer(text) if m.end() > m.start()]


def _marked(text: str, pattern: re.Pattern[str] | None) -> str:
    """Escaped text with the pattern's matches wrapped in <mark>."""
    out, cursor = [], 0
    for start, end in _spans(text, pattern):
        out.append(_e(text[cursor:start]))
        out.append(f"<mark>{_e(text[start:end])}</mark>")
        cursor = end
    out.append(_e(text[cursor:]))
    return "".join(out)


def _excerpt_bounds(text: str, pattern: re.Pattern[str] | None, width: int) -> tuple[int, int]:
    """A window of about `width` characters, around the first keyword when there is one."""
    if len(text) <= width:
        return 0, len(text)
    spans = _spans(text, pattern)
    start = 0 if not spans else max(0, spans[0][0] - width // 4)
    start = min(start, len(text) - width)
    return start, start + width


def _excerpt_plain(text: str, pattern: re.Pattern[str] | None, width: int = EXCERPT_CHARS) -> str:
    flat = " ".join(text.split())
    start, end = _excerpt_bounds(flat, pattern, width)
    return ("…" if start else "") + flat[start:end] + ("…" if end < len(flat) else "")


def _excerpt_html(text: str, pattern: re.Pattern[str] | None, width: int = EXCERPT_CHARS) -> str:
    flat = " ".join(text.split())
    start, end = _excerpt_bounds(flat, pattern, width)
    return ("…" if start else "") + _marked(flat[start:end], pattern) + ("…" if end < len(flat) else "")


def _clause_pattern(clause: Clause) -> re.Pattern[str] | None:
    return _keyword_pattern(clause.keywords)


# --- shared page parts ----------------------------------------------------------------------------


def _page(title: str, css: str, body: str, script: str | None = None, body_attrs: str = "") -> str:
    script_tag = f"<script>{script}</script>\n" if script is not None else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_e(_csp(script))}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS_BASE}{css}</style>\n</head>\n"
        f"<body{body_attrs}>\n<main>\n{body}</main>\n{script_tag}</body>\n</html>\n"
    )


def _count_cards(view: _View, labels: dict[str, str]) -> str:
    cards = "".join(
        f'<div class="card status-{s}"><div class="n">{view.counts[s]}</div>'
        f"<div>{STATUS_MARKS[s]} {_e(labels[s])}</div></div>"
        for s in STATUSES
    )
    return f'<div class="cards">{cards}</div>\n'


def _warnings(view: _View) -> str:
    warnings = view.report["document"]["warnings"]
    if not warnings:
        return ""
    items = "".join(f"<li>{_e(w)}</li>" for w in warnings)
    return f'<p class="note">读取提示：</p><ul class="note">{items}</ul>\n'


# --- reviewer report ------------------------------------------------------------------------------


def _passage_link(pid: str) -> str:
    return f'<a class="plink mono" href="#passage-{_e(pid)}">{_e(pid)}</a>'


def _reviewer_header(view: _View) -> str:
    report = view.report
    doc, tool, enc, guide = report["document"], report["tool"], report["encoder"], report["guideline"]
    rows = [
        ("申报材料", f"<strong>{_e(view.file_name)}</strong>"),
        ("文件 SHA-256", f'<span class="mono">{_e(doc["sha256"])}</span>'),
        ("格式 / 编码", f"{_e(doc['format'])} / {_e(doc['encoding'])}，{_e(doc['chars'])} 字"),
        ("对照指南", f'{_e(guide["title"])}（<span class="mono">{_e(guide["id"])}</span>）'),
        ("分析工具", f"{_e(tool['name'])} {_e(tool['version'])}"),
        ("编码器", f"{_e(enc['name'])}，{_e(enc['dim'])} 维"),
    ]
    table = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return (
        '<header id="top">\n<h1>自评报告证据审阅报告</h1>\n'
        f'<p class="subtitle">{_e(guide["title"])} · 逐条证据映射（评审辅助，供人工复核）</p>\n'
        f'<table class="meta-table">{table}</table>\n'
        f"{_count_cards(view, STATUS_LABELS)}{_warnings(view)}</header>\n"
    )


def _reviewer_nav() -> str:
    return (
        '<nav class="toc no-print" aria-label="目录">'
        '<a href="#matrix">覆盖矩阵</a><a href="#clauses">逐条证据</a><a href="#comparisons">结果比对</a>'
        '<a href="#flags">问题标记</a><a href="#fulltext-section">全文</a><span class="spacer"></span>'
        '<button type="button" data-filter="all" aria-pressed="true">全部条款</button>'
        '<button type="button" data-filter="gaps" aria-pressed="false">仅薄弱/缺失</button>'
        "</nav>\n"
    )


def _matrix(view: _View) -> str:
    rows = []
    width = max((len(view.category_clauses(c)) for c in view.guideline.categories), default=0)
    for category in view.guideline.categories:
        cids = view.category_clauses(category)
        cells = []
        for cid in cids:
            clause = view.clauses[cid]
            status = clause["status"]
            tip = f"{cid} {view.item_label(cid)}：{STATUS_LABELS[status]} {_score(clause['score'])}"
            cells.append(
                f'<td class="clause-cell status-{_e(status)}" data-clause="{_e(cid)}" data-status="{_e(status)}">'
                f'<a href="#clause-{_e(cid)}" title="{_e(tip)}"><span class="cid">{_e(cid)}</span>'
                f'<span class="st">{STATUS_MARKS[status]} {STATUS_LABELS[status]}</span></a></td>'
            )
        cells.extend('<td class="pad"></td>' for _ in range(width - len(cids)))
        counts = {s: sum(view.clauses[c]["status"] == s for c in cids) for s in STATUSES}
        summary = " · ".join(f"{STATUS_LABELS[s]} {counts[s]}" for s in STATUSES)
        rows.append(
            f'<tr><th class="cat" scope="row">{_e(category.id)}. {_e(category.title)}</th>{"".join(cells)}'
            f'<td class="sum">{summary}</td></tr>'
        )
    legend = "".join(
        f'<span><span class="badge status-{s}">{STATUS_MARKS[s]} {STATUS_LABELS[s]}</span></span>' for s in STATUSES
    )
    return (
        '<section id="matrix">\n<h2>覆盖矩阵</h2>\n'
        f'<div class="legend">{legend}<span>点击条款查看证据</span></div>\n'
        f'<table class="matrix"><tbody>{"".join(rows)}</tbody></table>\n</section>\n'
    )


def _context_html(view: _View, passage: dict[str, Any], pattern: re.Pattern[str] | None) -> str:
    """The passage with keywords marked, between dimmed text of its own paragraph."""
    text, start, end = view.text, passage["start"], passage["end"]
    before = text[max(0, start - CONTEXT_CHARS) : start].rsplit("\n", 1)[-1]
    after = text[end : end + CONTEXT_CHARS].split("\n", 1)[0]
    lead = ("…" if before and start - len(before) > 0 and text[start - len(before) - 1] != "\n" else "") + before
    tail = after + ("…" if after and end + len(after) < len(text) and text[end + len(after)] != "\n" else "")
    parts = []
    if lead:
        parts.append(f'<span class="around">{_e(lead)}</span>')
    parts.append(f'<span class="hit">{_marked(passage["text"], pattern)}</span>')
    if tail:
        parts.append(f'<span class="around">{_e(tail)}</span>')
    return f'<p class="ctx">{"".join(parts)}</p>'


def _passage_card(view: _View, pid: str, cid: str, near: bool, pattern: re.Pattern[str] | None) -> str:
    passage = view.passages.get(pid)
    if passage is None:
        return f'<li class="pcard">{_e(pid)}（不在段落列表中）</li>'
    score = None if near else view.passage_score(pid, cid)
    meta = [_passage_link(pid), f"<span>第 {passage['start']}–{passage['end']} 字</span>"]
    if passage["section"]:
        meta.append(f"<span>所在章节：{_e(view.section_label(passage['section']))}</span>")
    if score is not None:
        width = max(0.0, min(1.0, float(score))) * 100
        meta.append(
            f"<span>概率 <strong>{_score(score)}</strong> "
            f'<span class="bar"><i style="width:{width:.0f}%"></i></span></span>'
        )
    elif near:
        # Near-misses are unassigned: under the match threshold, or past the per-passage clause cap.
        probability = view.near_miss_probability(pid, cid)
        shown = f"概率 {_score(probability)}，" if probability is not None else ""
        meta.append(f"<span>{shown}未计入证据</span>")
    others = [c["id"] for c in passage["clauses"] if c["id"] != cid]
    if others:
        links = " ".join(f'<a href="#clause-{_e(o)}">{_e(o)}</a>' for o in others)
        meta.append(f"<span>也是证据：{links}</span>")
    kind = "pcard near" if near else "pcard"
    return f'<li class="{kind}"><div class="pmeta">{"".join(meta)}</div>{_context_html(view, passage, pattern)}</li>'


def _comparison_note(view: _View, cid: str) -> str:
    item_id = view.clause(cid).item_id
    comparison = view.report["comparisons"].get(item_id)
    if not view.clause(cid).is_comparison or comparison is None:
        return ""
    parts = []
    for key, label in COMPARISON_KINDS:
        mark = '<span class="yes">✓</span>' if comparison[key] else '<span class="no">✗</span>'
        parts.append(f"{label} {mark}")
    return f'<p class="note">结果比对：{"　".join(parts)}（<a href="#comparisons">详见比对表</a>）</p>'


def _clause_section(view: _View, cid: str) -> str:
    clause, entry = view.clause(cid), view.clauses[cid]
    status = entry["status"]
    pattern = _clause_pattern(clause)
    evidence, near = entry["evidence"], entry["near_misses"]
    shown, rest = evidence[:MAX_EVIDENCE], evidence[MAX_EVIDENCE:]
    parts = [
        f'<section class="clause status-{_e(status)}" id="clause-{_e(cid)}" data-status="{_e(status)}">',
        '<div class="clause-head">'
        f'<span class="cid">{_e(cid)}</span><span class="item">{_e(view.item_label(cid))}</span>'
        f'<span class="badge status-{_e(status)}">{STATUS_MARKS[status]} {STATUS_LABELS[status]}</span>'
        + (f'<span class="badge possible">{POSSIBLE_LABEL}</span>' if entry.get("possible") else "")
        + f'<span class="confidence">{_e(_confidence_words(entry))}</span>'
        f'<span class="score" title="最佳段落的匹配概率（0–1），不是质量分">最高概率 {_score(entry["score"])}</span>'
        '<a class="no-print" href="#matrix" title="回到覆盖矩阵">↑ 矩阵</a></div>',
        f'<p class="clause-text">{_e(clause.text)}</p>',
    ]
    if clause.guidance:
        parts.append(f'<p class="guidance">应有证据：{_e(clause.guidance)}</p>')
    if clause.keywords:
        parts.append(f'<p class="guidance">关键词：{_e("、".join(clause.keywords))}</p>')
    parts.append(_comparison_note(view, cid))
    parts.append(f"<h4>证据段落（{len(evidence)}）</h4>")
    if evidence:
        cards = "".join(_passage_card(view, pid, cid, False, pattern) for pid in shown)
        parts.append(f'<ol class="passages evidence">{cards}</ol>')
        if rest:
            parts.append(f'<p class="note">另有 {len(rest)} 段：{" ".join(_passage_link(p) for p in rest)}</p>')
    else:
        parts.append('<p class="note">未找到达到匹配阈值的段落。</p>')
    if near:
        cards = "".join(_passage_card(view, pid, cid, True, pattern) for pid in near)
        parts.append(f"<h4>接近阈值的段落（{len(near)}，供复核时改判）</h4>")
        parts.append(f'<ol class="passages near-misses">{cards}</ol>')
    parts.append(
        '<div class="review">复核意见：☐ 同意　☐ 改判为 ☐ 覆盖 ☐ 薄弱 ☐ 缺失　'
        "备注：________________________________</div>"
    )
    parts.append("</section>")
    return "\n".join(p for p in parts if p) + "\n"


def _confidence_words(entry: dict[str, Any]) -> str:
    return f"判断把握：{CONFIDENCE_LABELS.get(entry.get('confidence', ''), '中')}"


def _clause_sections(view: _View) -> str:
    out = ['<section id="clauses">\n<h2>逐条证据</h2>\n']
    for category in view.guideline.categories:
        cids = view.category_clauses(category)
        if not cids:
            continue
        out.append(f'<h3 id="category-{_e(category.id)}">{_e(category.id)}. {_e(category.title)}</h3>\n')
        out.extend(_clause_section(view, cid) for cid in cids)
    out.append("</section>\n")
    return "".join(out)


def _comparisons_table(view: _View) -> str:
    comparisons = view.report["comparisons"]
    head = "".join(f"<th>{label}</th>" for _, label in COMPARISON_KINDS)
    rows = []
    for item_id, comparison in comparisons.items():
        item = view.guideline.items.get(item_id)
        title = f"{item_id} {item.title}" if item else item_id
        target = item.comparison_clause if item else None
        name = f'<a href="#clause-{_e(target)}">{_e(title)}</a>' if target else _e(title)
        cells = []
        for key, _ in COMPARISON_KINDS:
            links = " ".join(_passage_link(pid) for pid in comparison["evidence"][key])
            mark = '<span class="yes">✓ 有</span>' if comparison[key] else '<span class="no">✗ 无</span>'
            cells.append(f"<td>{mark}{'　' + links if links else ''}</td>")
        rows.append(f'<tr data-item="{_e(item_id)}"><th scope="row">{name}</th>{"".join(cells)}</tr>')
    body = "".join(rows) or f'<tr><td colspan="{len(COMPARISON_KINDS) + 1}">本指南无比对条款。</td></tr>'
    return (
        '<section id="comparisons">\n<h2>结果比对</h2>\n'
        '<p class="note">结果类评分项是否与申报人以往结果比对、是否与标杆/同行/行业水平比对，'
        "以及是否在三个及以上时间点上显示趋势；链接指向全文中的依据段落。</p>\n"
        f'<table class="comparisons"><thead><tr><th>评分项</th>{head}</tr></thead><tbody>{body}</tbody></table>\n'
        "</section>\n"
    )


def _flags_list(view: _View) -> str:
    flags = view.report["flags"]
    rows = []
    for flag in flags:
        tone = "missing" if flag["code"].endswith("missing") else "weak"
        clause = flag["clause"]
        link = f'<a class="mono" href="#clause-{_e(clause)}">{_e(clause)}</a>' if clause else ""
        rows.append(
            f'<tr data-code="{_e(flag["code"])}"><td class="nowrap"><span class="badge status-{tone}">'
            f"{_e(FLAG_LABELS.get(flag['code'], flag['code']))}</span></td><td>{link}</td>"
            f'<td>{_e(flag["message"])}</td><td class="mono note">{_e(flag["code"])}</td></tr>'
        )
    body = "".join(rows) or '<tr><td colspan="4">无。</td></tr>'
    return (
        f'<section id="flags">\n<h2>问题标记（{len(flags)}）</h2>\n'
        '<table class="flags"><thead><tr><th>类型</th><th>条款</th><th>说明</th><th>代码</th></tr></thead>'
        f"<tbody>{body}</tbody></table>\n</section>\n"
    )


def _full_text(view: _View) -> str:
    """The document text exactly, passages wrapped in spans (labels come from CSS, not text)."""
    text = view.text
    evidence, near = view.evidence_roles()
    clause_of: dict[str, list[str]] = {}
    for entry in view.report["clauses"]:
        for pid in entry["evidence"]:
            clause_of.setdefault(pid, []).append(entry["id"])
    out, cursor = [], 0
    for passage in sorted(view.report["passages"], key=lambda p: (p["start"], p["end"])):
        pid = passage["id"]
        start, end = max(passage["start"], cursor), min(passage["end"], len(text))
        if start > cursor:
            out.append(_e(text[cursor:start]))
        classes = ["passage", f"kind-{passage['kind']}"]
        if pid in evidence:
            classes.append("is-evidence")
        elif pid in near:
            classes.append("is-near")
        cids = clause_of.get(pid, [])
        tip = f"{pid} · 证据：{' '.join(cids)}" if cids else pid
        out.append(
            f'<span class="{" ".join(classes)}" id="passage-{_e(pid)}" data-pid="{_e(pid)}" '
            f'data-clauses="{_e(" ".join(cids))}" title="{_e(tip)}">{_e(text[start:end]) if end > start else ""}</span>'
        )
        cursor = max(cursor, end)
    out.append(_e(text[cursor:]))
    return (
        '<section id="fulltext-section">\n<h2>申报材料全文</h2>\n'
        '<p class="note">黄色底纹：被引为证据的段落；虚线：接近阈值的段落。'
        "段落编号（p1、p2…）与上文证据链接对应。</p>\n"
        f'<div id="fulltext" lang="zh-CN">{"".join(out)}</div>\n</section>\n'
    )


def _footer(view: _View, audience: str) -> str:
    tool = view.report["tool"]
    return (
        f"<footer>{_e(audience)}由 {_e(tool['name'])} {_e(tool['version'])} 根据"
        f"《{_e(view.report['guideline']['title'])}》自动生成，结论须经人工复核。"
        f'申报材料 SHA-256：<span class="mono">{_e(view.report["document"]["sha256"])}</span></footer>\n'
    )


def render_reviewer_html(analysis: Analysis, report: dict[str, Any]) -> str:
    """The reviewer-assist report: one self-contained HTML page."""
    view = _View(analysis, report)
    body = "".join(
        [
            _reviewer_nav(),
            _reviewer_header(view),
            _matrix(view),
            _clause_sections(view),
            _comparisons_table(view),
            _flags_list(view),
            _full_text(view),
            _footer(view, "本审阅报告"),
        ]
    )
    title = f"证据审阅报告 · {view.file_name}"
    return _page(title, _CSS_REVIEWER, body, _REVIEWER_JS, ' data-filter="all"')


# --- applicant report -----------------------------------------------------------------------------


def _closest(view: _View, cid: str) -> list[tuple[str, str]]:
    """(passage id, role) for the passages that came closest: weak evidence first, then near-misses."""
    entry = view.clauses[cid]
    found = [(pid, "evidence") for pid in entry["evidence"]] + [(pid, "near") for pid in entry["near_misses"]]
    return [(pid, role) for pid, role in found if pid in view.passages][:MAX_CLOSEST]


def _role_label(role: str) -> str:
    return "已识别为相关内容，但证据不够具体" if role == "evidence" else "内容接近，但尚不足以对应本条款"


def _status_advice(status: str, possible: bool = False) -> str:
    if possible:
        return (
            f"{POSSIBLE_LABEL}：报告中有段落可能已经写到本条款（见下），但与本条款的对应不够明确。"
            "如果已经写到，建议在该段点明与本条款的关系，并补充具体做法、数据或事例；如果没有，再补写一段。"
        )
    if status == MISSING:
        return "自评报告中没有找到对应本条款的内容，建议专门补写一段。"
    return "自评报告提到了相关内容，但多为一般性表述，建议补充具体做法、数据、次数、时间或项目名称。"


def _comparison_gaps(view: _View) -> list[tuple[str, list[str]]]:
    """(item id, missing comparison labels) for the results items that lack a comparison."""
    gaps = []
    for item_id, comparison in view.report["comparisons"].items():
        missing = []
        if not comparison["past"]:
            missing.append("未与您本人以往的结果比对")
        elif not comparison["trend"]:
            missing.append("与以往比对不足三个时间点，难以显示趋势")
        if not comparison["benchmark"]:
            missing.append("未与标杆、同行或行业水平比对")
        if missing:
            gaps.append((item_id, missing))
    return gaps


def _intro_text(view: _View) -> str:
    counts = view.counts
    total = sum(counts.values())
    return (
        f"本报告对照《{view.report['guideline']['title']}》的 {total} 项条款，逐条检查了您的自评报告"
        f"“{view.file_name}”：已覆盖 {counts[COVERED]} 项，证据薄弱 {counts[WEAK]} 项，"
        f"未找到证据 {counts[MISSING]} 项。下面按类目列出需要补充的条款、指南原文、建议补充的证据，"
        "以及报告中与之最接近的段落，供您修改时参考。"
    )


_DISCLAIMER = "本报告由软件自动生成，仅供参考；最终评价以评审专家的意见为准。"


def _item_title(view: _View, item_id: str) -> str:
    item = view.guideline.items.get(item_id)
    return f"{item_id} {item.title}" if item else item_id


def render_applicant_html(analysis: Analysis, report: dict[str, Any]) -> str:
    """The gap report for the applicant, as one self-contained HTML page (no script)."""
    view = _View(analysis, report)
    parts = [
        '<header id="top">\n<h1>自评报告差距分析</h1>\n',
        f'<p class="subtitle">致申报人 · {_e(report["guideline"]["title"])}</p>\n',
        f"<p>{_e(_intro_text(view))}</p>\n",
        _count_cards(view, APPLICANT_LABELS),
        f'<p class="note">{_e(_DISCLAIMER)}</p>\n',
        _warnings(view),
        "</header>\n",
    ]
    gaps = view.gaps()
    if gaps:
        rows = "".join(
            f'<tr><td class="nowrap"><a class="mono" href="#gap-{_e(cid)}">{_e(cid)}</a></td>'
            f'<td class="nowrap">{_e(view.item_label(cid))}</td>'
            f'<td><span class="badge status-{view.clauses[cid]["status"]}">'
            f"{APPLICANT_LABELS[view.clauses[cid]['status']]}</span>"
            + (f'<br><span class="badge possible">{POSSIBLE_LABEL}</span>' if view.clauses[cid].get("possible") else "")
            + f"</td><td>{_e(view.clause(cid).text)}</td></tr>"
            for cid in gaps
        )
        parts.append(
            '<section id="overview">\n<h2>需要补充的条款一览</h2>\n'
            "<table><thead><tr><th>条款</th><th>评分项</th><th>状态</th><th>指南原文</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>\n</section>\n"
        )
    for category in view.guideline.categories:
        cids = view.category_clauses(category)
        if not cids:
            continue
        parts.append(f'<section class="category" id="category-{_e(category.id)}">\n')
        parts.append(f"<h2>{_e(category.id)}. {_e(category.title)}</h2>\n")
        covered = [cid for cid in cids if view.clauses[cid]["status"] == COVERED]
        if len(covered) == len(cids):
            parts.append('<p class="covered-list">本类目各条款均已覆盖，无需补充。</p>\n')
        elif covered:
            parts.append(f'<p class="covered-list">已覆盖：{_e("、".join(covered))}</p>\n')
        for cid in cids:
            status = view.clauses[cid]["status"]
            if status == COVERED:
                continue
            clause = view.clause(cid)
            pattern = _clause_pattern(clause)
            closest = _closest(view, cid)
            if closest:
                items = "".join(
                    f'<li><span class="mono">{_e(pid)}</span>'
                    + (
                        f"（{_e(view.section_label(view.passages[pid]['section']))}）"
                        if view.passages[pid]["section"]
                        else ""
                    )
                    + f'<span class="note">　{_role_label(role)}</span>'
                    f'<div class="quote">{_excerpt_html(view.passages[pid]["text"], pattern)}</div></li>'
                    for pid, role in closest
                )
                near_html = f'<ul class="closest">{items}</ul>'
            else:
                near_html = "<p>报告中没有与本条款接近的段落。</p>"
            guidance = _e(clause.guidance) if clause.guidance else "请结合本条款要求补充具体事例和数据。"
            parts.append(
                f'<section class="gap status-{status}" id="gap-{_e(cid)}" data-clause="{_e(cid)}">'
                f'<div class="gap-head"><span class="cid">{_e(cid)}</span><span>{_e(view.item_title(cid))}</span>'
                f'<span class="badge status-{status}">{STATUS_MARKS[status]} {APPLICANT_LABELS[status]}</span>'
                + (f'<span class="badge possible">{POSSIBLE_LABEL}</span>' if view.clauses[cid].get("possible") else "")
                + f'<span class="confidence">{_e(_confidence_words(view.clauses[cid]))}</span></div>'
                f"<p>{_e(_status_advice(status, bool(view.clauses[cid].get('possible'))))}</p>"
                f"<dl><dt>指南原文</dt><dd>{_e(clause.text)}</dd>"
                f'<dt>建议补充的证据</dt><dd class="guidance">{guidance}</dd>'
                f"<dt>报告中最接近的段落</dt><dd>{near_html}</dd></dl></section>\n"
            )
        parts.append("</section>\n")
    parts.append(_applicant_comparisons_html(view))
    parts.append(_footer(view, "本差距分析"))
    title = f"自评报告差距分析 · {view.file_name}"
    return _page(title, _CSS_APPLICANT, "".join(parts))


def _applicant_comparisons_html(view: _View) -> str:
    comparisons = view.report["comparisons"]
    if not comparisons:
        return ""
    head = "".join(f"<th>{label}</th>" for _, label in COMPARISON_KINDS)
    rows = "".join(
        f'<tr data-item="{_e(item_id)}"><th scope="row">{_e(_item_title(view, item_id))}</th>'
        + "".join(
            '<td><span class="yes">✓ 有</span></td>' if c[key] else '<td><span class="no">✗ 缺少</span></td>'
            for key, _ in COMPARISON_KINDS
        )
        + "</tr>"
        for item_id, c in comparisons.items()
    )
    advice = []
    for item_id, missing in _comparison_gaps(view):
        item = view.guideline.items.get(item_id)
        clause = view.guideline.clauses.get(item.comparison_clause) if item and item.comparison_clause else None
        guidance = (
            f'<br><span class="guidance">建议：{_e(clause.guidance)}</span>' if clause and clause.guidance else ""
        )
        advice.append(
            f'<li data-item="{_e(item_id)}"><strong>{_e(_item_title(view, item_id))}</strong>：'
            f"{_e('；'.join(missing))}。{guidance}</li>"
        )
    advice_html = f"<ul>{''.join(advice)}</ul>" if advice else "<p>各结果评分项均已与以往和标杆进行了比对。</p>"
    return (
        '<section id="comparisons">\n<h2>结果比对（7.1–7.3）</h2>\n'
        "<p>结果类评分项需要用数据说明水平，并与您本人以往的结果（最好三个及以上年份，以显示趋势）"
        "以及标杆、同行或行业水平进行比对。</p>\n"
        f"<table><thead><tr><th>评分项</th>{head}</tr></thead><tbody>{rows}</tbody></table>\n"
        f"{advice_html}\n</section>\n"
    )


# --- Markdown -------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~#])")


def md_escape(text: str) -> str:
    """Escape text for Markdown (CommonMark/GFM) placed after a line's own prefix (a list marker, a
    label, a heading mark): no emphasis, code, links, HTML, table cells or entities can come out of
    it, and it stays on one line. Marks that only act at the start of a line are left alone."""
    text = " ".join(str(text).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")  # no raw HTML, no entities
    return _MD_SPECIAL.sub(r"\\\1", text)


def render_applicant_markdown(analysis: Analysis, report: dict[str, Any]) -> str:
    """The gap report for the applicant, as Markdown."""
    view = _View(analysis, report)
    lines = [
        "# 自评报告差距分析",
        "",
        f"致申报人 · {md_escape(report['guideline']['title'])}",
        "",
        md_escape(_intro_text(view)),
        "",
        f"- 自评报告：{md_escape(view.file_name)}（SHA-256：{md_escape(report['document']['sha256'])}）",
        f"- 已覆盖 {view.counts[COVERED]} 项 · 证据薄弱 {view.counts[WEAK]} 项 · 未找到证据 {view.counts[MISSING]} 项",
        "",
        f"> {md_escape(_DISCLAIMER)}",
        "",
    ]
    for warning in report["document"]["warnings"]:
        lines += [f"> 读取提示：{md_escape(warning)}", ""]
    gaps = view.gaps()
    if gaps:
        lines += ["## 需要补充的条款一览", "", "| 条款 | 评分项 | 状态 |", "|---|---|---|"]
        lines += [
            f"| {md_escape(cid)} | {md_escape(view.item_label(cid))} "
            f"| {APPLICANT_LABELS[view.clauses[cid]['status']]} |"
            for cid in gaps
        ]
        lines.append("")
    for category in view.guideline.categories:
        cids = view.category_clauses(category)
        if not cids:
            continue
        lines += [f"## {md_escape(category.id)}. {md_escape(category.title)}", ""]
        covered = [cid for cid in cids if view.clauses[cid]["status"] == COVERED]
        if len(covered) == len(cids):
            lines += ["本类目各条款均已覆盖，无需补充。", ""]
        elif covered:
            lines += [f"已覆盖：{md_escape('、'.join(covered))}", ""]
        for cid in cids:
            status = view.clauses[cid]["status"]
            if status == COVERED:
                continue
            clause = view.clause(cid)
            pattern = _clause_pattern(clause)
            guidance = clause.guidance or "请结合本条款要求补充具体事例和数据。"
            lines += [
                f"### {md_escape(cid)} {md_escape(view.item_title(cid))} — {APPLICANT_LABELS[status]}",
                "",
                md_escape(_status_advice(status)),
                "",
                f"- **指南原文：** {md_escape(clause.text)}",
                f"- **建议补充的证据：** {md_escape(guidance)}",
            ]
            closest = _closest(view, cid)
            if closest:
                lines.append("- **报告中最接近的段落：**")
                for pid, role in closest:
                    passage = view.passages[pid]
                    where = f"，{md_escape(view.section_label(passage['section']))}" if passage["section"] else ""
                    lines.append(
                        f"  - {md_escape(pid)}（{_role_label(role)}{where}）："
                        f"“{md_escape(_excerpt_plain(passage['text'], pattern))}”"
                    )
            else:
                lines.append("- **报告中最接近的段落：** 没有与本条款接近的段落。")
            lines.append("")
    if report["comparisons"]:
        lines += [
            "## 结果比对（7.1–7.3）",
            "",
            "结果类评分项需要用数据说明水平，并与您本人以往的结果（最好三个及以上年份，以显示趋势）以及标杆、同行或行业水平进行比对。",
            "",
            "| 评分项 | " + " | ".join(md_escape(label) for _, label in COMPARISON_KINDS) + " |",
            "|---" * (len(COMPARISON_KINDS) + 1) + "|",
        ]
        for item_id, c in report["comparisons"].items():
            marks = " | ".join("✓ 有" if c[key] else "✗ 缺少" for key, _ in COMPARISON_KINDS)
            lines.append(f"| {md_escape(_item_title(view, item_id))} | {marks} |")
        lines.append("")
        comparison_gaps = _comparison_gaps(view)
        for item_id, missing in comparison_gaps:
            item = view.guideline.items.get(item_id)
            clause = view.guideline.clauses.get(item.comparison_clause) if item and item.comparison_clause else None
            advice = f"建议：{md_escape(clause.guidance)}" if clause and clause.guidance else ""
            lines.append(f"- **{md_escape(_item_title(view, item_id))}**：{md_escape('；'.join(missing))}。{advice}")
        if not comparison_gaps:
            lines.append("各结果评分项均已与以往和标杆进行了比对。")
        lines.append("")
    tool = report["tool"]
    lines.append(
        f"---\n\n本差距分析由 {md_escape(tool['name'])} {md_escape(tool['version'])} 自动生成，结论须经人工复核。"
    )
    return "\n".join(lines) + "\n"
