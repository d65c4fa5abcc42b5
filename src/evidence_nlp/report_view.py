"""The view model of the reports: plain data built once from an Analysis and its schema-2 report
dict, shared by the HTML templates and the Markdown template (render.py).

Every value a person reads is decided here, once: a clause's status, its confidence in words, the
paragraph a passage sits in, what a flag means. The templates only lay it out, so the reviewer page,
the applicant page and the Markdown say the same thing about every clause.

One source of truth per clause: a clause's status is `report["clauses"]` (the matrix, the clause
sections, the comparisons table and the flags all read it from there). For a comparison clause
(7.1c–7.3c) that status is the guide's rule over the item's comparisons (coverage.comparison_status),
so the comparisons table and the clause agree; the clause-level flag of a comparison clause is
explained by what the comparisons lack, not by the generic "only general statements" message.
The results-data table reads `report["results"]` and the depth marks `report["clauses"][].depth`,
as written: the page shows the report's judgement of each measure and layer, it does not redo it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from .coverage import COVERED, MISSING, WEAK
from .depth import LAYER_NAMES, LAYERS
from .guideline import Clause, Guideline
from .measures import STABLE_TOLERANCE
from .pipeline import Analysis
from .report import CONFIDENCE_LABELS, POSSIBLE_LABEL, STATUS_LABELS, STATUS_MARKS, status_counts

STATUSES = (COVERED, WEAK, MISSING)
# Words addressed to the applicant ("您") differ a little from the reviewer's terse labels.
APPLICANT_LABELS = {COVERED: "已覆盖", WEAK: "证据薄弱", MISSING: "未找到证据"}
# Flag codes of the report contract, in words; the codes themselves are never shown to people.
FLAG_LABELS = {
    "clause_missing": "条款缺失",
    "clause_weak": "证据薄弱",
    "clause_possible": "可能已涉及，请核对",
    "comparison_past_missing": "缺少与以往比对",
    "comparison_benchmark_missing": "缺少标杆比对",
    "trend_missing": "缺少趋势",
}
# What each flag means, short (the report's messages repeat the clause id and text).
FLAG_EXPLANATIONS = {
    "clause_missing": "未找到对应的段落",
    "clause_weak": "仅有一般性表述或简单提及",
    "clause_possible": "有段落接近本条款，但未达到匹配阈值",
    "comparison_past_missing": "未与个人以往结果比对",
    "trend_missing": "与以往比对不足三个时间点，难以显示趋势",
    "comparison_benchmark_missing": "未与标杆、同行或行业水平比对",
}
FLAG_TONES = {"clause_missing": MISSING, "clause_possible": "possible"}
COMPARISON_KINDS = (("past", "与以往比对"), ("benchmark", "与标杆比对"), ("trend", "趋势（≥3 个时间点）"))
APPLICANT_POSSIBLE = "可能已涉及，请补充具体做法和数据"
CONTEXT_CHARS = 60  # text shown before/after an evidence passage, within its paragraph
EXCERPT_CHARS = 90  # applicant excerpts
OPENING_CHARS = 14  # opening words of a paragraph, quoted so the applicant can find it
MAX_EVIDENCE = 5  # evidence passages shown in full per clause; the rest are listed as links
MAX_CLOSEST = 3  # closest passages per gap clause in the applicant report
DISCLAIMER = "本报告由软件自动生成，仅供参考；最终评价以评审专家的意见为准。"
# Evidence depth: the one-character marks of the matrix, in depth.LAYERS order (方法 / 展开 / 结果).
DEPTH_MARKS = {"method": "方", "deployment": "展", "result": "果"}
DEPTH_LEGEND = "方 / 展 / 果：证据写到了采用的做法、工作展开（范围、频次、人员）、实施结果；实心为有，空心为无。"
# The results-data table: the guideline's judgement of a trend (with the direction of good) in words.
TREND_JUDGEMENTS = {"improving": "改善", "stable": "持平", "worsening": "变差"}
TREND_RANKS = {"improving": 3, "stable": 2, "worsening": 1}  # sort key; movement without a judgement: 0
SPARK_WIDTH, SPARK_HEIGHT, SPARK_PAD = 84, 24, 3
PROBABILITY_LEGEND = (
    "判断把握（高 / 中 / 低）：工具对该条款状态判断的可靠程度，不是质量分。"
    "概率：匹配模型认为某段落写的是该条款的可能性（0–1），仅供复核时参考，同样不是质量分。"
)


def applicant_words(text: str) -> str:
    """Guideline text addressed to the applicant, in the report's polite 您 (the guideline's
    guidance says 你)."""
    return text.replace("你", "您")


# --- highlighting -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """A run of text, marked when it is one of the clause's keywords."""

    text: str
    mark: bool = False


def keyword_pattern(keywords: Iterable[str]) -> re.Pattern[str] | None:
    words = sorted({k for k in keywords if k.strip()}, key=lambda k: (-len(k), k))
    if not words:
        return None
    return re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)


def _spans(text: str, pattern: re.Pattern[str] | None) -> list[tuple[int, int]]:
    return [] if pattern is None else [m.span() for m in pattern.finditer(text) if m.end() > m.start()]


def highlight(text: str, pattern: re.Pattern[str] | None) -> list[Segment]:
    """The text cut into plain and marked runs (the templates escape both)."""
    out, cursor = [], 0
    for start, end in _spans(text, pattern):
        if start > cursor:
            out.append(Segment(text[cursor:start]))
        out.append(Segment(text[start:end], True))
        cursor = end
    if cursor < len(text) or not out:
        out.append(Segment(text[cursor:]))
    return out


def _excerpt_bounds(text: str, pattern: re.Pattern[str] | None, width: int) -> tuple[int, int]:
    """A window of about `width` characters, around the first keyword when there is one."""
    if len(text) <= width:
        return 0, len(text)
    spans = _spans(text, pattern)
    start = 0 if not spans else max(0, spans[0][0] - width // 4)
    start = min(start, len(text) - width)
    return start, start + width


def excerpt(text: str, pattern: re.Pattern[str] | None, width: int = EXCERPT_CHARS) -> list[Segment]:
    """About `width` characters of the text on one line, keywords marked, with "…" where cut."""
    flat = " ".join(text.split())
    start, end = _excerpt_bounds(flat, pattern, width)
    segments = highlight(flat[start:end], pattern)
    if start:
        segments.insert(0, Segment("…"))
    if end < len(flat):
        segments.append(Segment("…"))
    return segments


def plain(segments: Iterable[Segment]) -> str:
    return "".join(s.text for s in segments)


# --- the view model -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PassageView:
    id: str  # internal passage id: anchors only, never shown as text
    anchor: str  # "passage-p3"
    paragraph: int  # 1-based paragraph number, headings counted, as in the applicant's Word file
    label: str  # "第3段", or "第12段（2/3）" for a part of a long paragraph
    short: str  # "¶3" / "¶12.2", the mark in the full text
    where: str  # title attribute: the internal id and the character offsets
    opening: str  # the paragraph's opening words, "本人周建国，1975年…"
    first: bool  # the passage starts its paragraph
    section: str  # "1.1 卓越意识", or ""
    kind: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class EvidenceView:
    """A passage as evidence (or near-miss) of one clause."""

    passage: PassageView
    near: bool
    score: float | None  # the match probability (reviewer page only)
    score_text: str  # "0.97", or "" when unknown
    bar: int  # 0–100, the probability bar's width
    also: tuple[str, ...]  # other clauses this passage is evidence for
    lead: str  # dimmed text of the paragraph before the passage
    hit: tuple[Segment, ...]  # the passage, keywords marked
    tail: str  # dimmed text after it
    excerpt: tuple[Segment, ...]  # the applicant's one-line excerpt
    show_opening: bool  # the excerpt does not already start with the paragraph's opening words
    role: str  # the applicant's words for why it is shown


@dataclass(frozen=True)
class ComparisonKindView:
    key: str
    label: str
    present: bool
    evidence: tuple[PassageView, ...]


@dataclass
class ComparisonView:
    item_id: str
    title: str  # "7.2 学习成果"
    clause_id: str | None  # the item's comparison clause (7.2c)
    kinds: tuple[ComparisonKindView, ...]
    missing: tuple[str, ...]  # what the applicant should add, in words addressed to 您
    guidance: str
    clause: ClauseView | None = None


@dataclass(frozen=True)
class FlagView:
    code: str  # attribute only
    label: str  # the code in words
    tone: str  # missing / weak / possible: the badge colour
    detail: str  # what it means for this report


@dataclass(frozen=True)
class DepthLayerView:
    """One layer of a clause's evidence (做法 / 展开 / 结果) and the sentence that shows it."""

    key: str  # method / deployment / result (attribute only)
    mark: str  # 方 / 展 / 果
    label: str  # 做法 / 展开 / 结果
    present: bool
    sentence: str  # the sentence, whitespace flattened; "" when the layer is absent
    passage: PassageView | None  # the passage the sentence sits in
    same_as: str = ""  # the label of an earlier layer shown by the same sentence ("做法"), quoted once


@dataclass(frozen=True)
class DepthView:
    layers: tuple[DepthLayerView, ...]  # in depth.LAYERS order
    summary: str  # "做法✓ 展开✗ 结果✓"
    explanation: str  # "只有做法和展开，没有结果"; "" when all three show
    advice: str  # "补充该做法取得的数据"; "" when nothing is missing

    @property
    def complete(self) -> bool:
        return all(layer.present for layer in self.layers)


@dataclass(frozen=True)
class SparklineView:
    """A measure's points as an inline SVG polyline: coordinates rounded to 1 decimal, as text."""

    width: int
    height: int
    points: str  # "3.0,21.0 42.0,12.0 81.0,3.0"
    last_x: str
    last_y: str
    tone: str  # improving / worsening / neutral: the line's colour
    label: str  # what the line shows, in words (aria-label)


@dataclass(frozen=True)
class MeasureRowView:
    """One measure of the results-data table."""

    order: int  # document order within the item: the table's first order
    name: str
    unit: str
    level: str  # "99.68%", the latest value
    level_time: str  # "2023年", "近三年", or ""
    level_value: float | None  # sort key
    points: str  # every point in words, "2021年 99.21%；2022年 99.46%"
    trend_text: str  # "下降，改善" / "持平" / "上升" / "—"
    trend_rank: int | None  # sort key
    judgement: str  # improving / stable / worsening / "" (attribute only)
    past: bool
    benchmark: bool
    trend: bool
    references: tuple[str, ...]  # reference texts as the narrative writes them
    passage: PassageView
    sparkline: SparklineView | None


@dataclass(frozen=True)
class StatementRowView:
    """A comparison the cues found in a passage without a parsed measure."""

    passage: PassageView
    kinds: tuple[str, ...]  # the comparisons it shows, in words
    excerpt: str


@dataclass(frozen=True)
class ResultsItemView:
    item_id: str
    title: str  # "7.1 工作绩效"
    summary: str  # "指标 9 项：有以往比对 6 项，有趋势 6 项，有标杆比对 2 项"
    measures: tuple[MeasureRowView, ...]
    statements: tuple[StatementRowView, ...]


@dataclass
class ClauseView:
    id: str
    anchor: str
    item_id: str
    item_label: str  # "1.2 职业素质"
    item_title: str
    category_id: str
    text: str
    guidance: str
    applicant_guidance: str
    keywords: str
    status: str
    status_label: str  # 覆盖 / 薄弱 / 缺失
    applicant_label: str  # 已覆盖 / 证据薄弱 / 未找到证据
    mark: str  # ● ◐ ○
    confidence: str  # 高 / 中 / 低
    possible: bool
    score: float
    score_text: str
    is_comparison: bool
    evidence: tuple[EvidenceView, ...]  # shown in full
    more_evidence: tuple[PassageView, ...]  # listed as links
    evidence_count: int
    near: tuple[EvidenceView, ...]
    closest: tuple[EvidenceView, ...]  # the applicant's closest passages
    advice: str  # the applicant's one-paragraph advice
    tooltip: str
    flags: list[FlagView] = field(default_factory=list)
    comparison: ComparisonView | None = None
    depth: DepthView | None = None  # process clauses with evidence
    depth_advice: str = ""  # the applicant's words on the missing layers, "" when none are
    is_process: bool = False  # a process clause (categories 1–6): its evidence has depth layers

    @property
    def deepen(self) -> bool:
        """Covered, but its evidence lacks a layer: the applicant page says what to add."""
        return self.status == COVERED and bool(self.depth_advice)

    @property
    def gap(self) -> bool:
        return self.status != COVERED


@dataclass(frozen=True)
class CategoryView:
    id: str
    title: str
    clauses: tuple[ClauseView, ...]
    gaps: tuple[ClauseView, ...]
    covered_ids: tuple[str, ...]
    deepen: tuple[ClauseView, ...]  # covered clauses whose evidence lacks a layer
    summary: str  # "覆盖 3 · 薄弱 1 · 缺失 0"
    pad: int  # empty matrix cells after the row's clauses (desktop table)


@dataclass(frozen=True)
class CountView:
    status: str
    count: int
    label: str
    applicant_label: str
    mark: str


@dataclass(frozen=True)
class FullTextPiece:
    """A run of the document text; a passage when `passage` is set."""

    text: str
    passage: PassageView | None = None
    classes: str = ""
    clauses: str = ""
    title: str = ""


@dataclass(frozen=True)
class ProvenanceRow:
    label: str
    value: str
    mono: bool = False


@dataclass(frozen=True)
class ReviewOption:
    """One choice of a select in the correction UI."""

    value: str
    label: str


@dataclass(frozen=True)
class ReviewView:
    """What the reviewer page's correction UI needs beyond the report itself.

    `data` is the tool's verdict as the page shows it (statuses, every evidence and near-miss
    passage, the comparisons, every passage's offsets) plus the document's identity: the page
    script exports it with the reviewer's corrections, so an export can be turned into a gold file
    without re-running the tool (feedback.py). Ids and offsets only, no narrative text."""

    data: str  # JSON, compact, deterministic
    passages: tuple[ReviewOption, ...]  # text passages a reviewer can add as evidence
    clauses: tuple[ReviewOption, ...]  # the clauses they can add it for
    storage_key: str  # localStorage key: one record per document


@dataclass
class ReportView:
    file_name: str
    guideline_title: str
    guideline_id: str
    tool: str  # "evidence-nlp 0.1.0"
    sha256: str
    counts: tuple[CountView, ...]
    total: int
    categories: tuple[CategoryView, ...]
    clauses: tuple[ClauseView, ...]
    gaps: tuple[ClauseView, ...]
    comparisons: tuple[ComparisonView, ...]
    results: tuple[ResultsItemView, ...]
    flagged: tuple[ClauseView, ...]  # clauses with flags, in guideline order
    other_flags: tuple[FlagView, ...]  # flags of no clause in this guideline
    flag_count: int
    warnings: tuple[str, ...]
    fulltext: tuple[FullTextPiece, ...]
    provenance: tuple[ProvenanceRow, ...]
    verdict: str  # the reviewer's one-line verdict
    intro: str  # the applicant's introduction
    counts_line: str
    disclaimer: str = DISCLAIMER
    probability_legend: str = PROBABILITY_LEGEND
    depth_legend: str = DEPTH_LEGEND
    statuses: dict[str, dict[str, str]] = field(default_factory=dict)
    review: ReviewView | None = None

    def clause(self, cid: str) -> ClauseView:
        return next(c for c in self.clauses if c.id == cid)


def _score_text(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


# --- the results-data table -----------------------------------------------------------------------


def number_text(value: float) -> str:
    """A measured value as the narrative would write it: 99.68, 0.18, 13.9, 200 (no exponent)."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def time_words(time: str | None) -> str:
    """A point's time in words: a bare year gets 年 ("2023" → "2023年"), others as written."""
    if not time:
        return ""
    return f"{time}年" if re.fullmatch(r"\d{4}", time) else time


def movement(first: float, last: float) -> str:
    """上升 / 持平 / 下降 between two values, with the tolerance assess_measure calls stable."""
    scale = max(abs(first), abs(last), 1e-9)
    if abs(last - first) / scale < STABLE_TOLERANCE:
        return "持平"
    return "上升" if last > first else "下降"


def trend_words(points: list[dict[str, Any]], judgement: str | None) -> tuple[str, int | None]:
    """The change of a measure in words and its sort rank: the raw movement (上升/持平/下降) and,
    when the report judges it with the direction of good, 改善/持平/变差 ("下降，改善")."""
    if len(points) < 2:
        return "—", None
    # The same points the report's trend judges (dated ones, when there are three), so the words agree.
    dated = [p for p in points if p.get("time")]
    series = dated if len(dated) >= 3 else points
    moved = movement(float(series[0]["value"]), float(series[-1]["value"]))
    if judgement == "stable":
        return "持平", TREND_RANKS["stable"]
    if judgement in TREND_JUDGEMENTS:
        return f"{moved}，{TREND_JUDGEMENTS[judgement]}", TREND_RANKS[judgement]
    return moved, 0


def sparkline(values: list[float], tone: str, label: str) -> SparklineView | None:
    """An inline SVG line over a measure's values in document order; None under two points. The
    points are spread evenly (times are often not numbers: 近三年, 2021年起); the highest value is at
    the top whatever the direction of good, which the line's colour gives."""
    if len(values) < 2:
        return None
    low, high = min(values), max(values)
    inner_w, inner_h = SPARK_WIDTH - 2 * SPARK_PAD, SPARK_HEIGHT - 2 * SPARK_PAD
    coords = []
    for index, value in enumerate(values):
        x = SPARK_PAD + inner_w * index / (len(values) - 1)
        y = SPARK_PAD + (inner_h / 2 if high == low else inner_h * (high - value) / (high - low))
        coords.append((f"{x:.1f}", f"{y:.1f}"))
    return SparklineView(
        width=SPARK_WIDTH,
        height=SPARK_HEIGHT,
        points=" ".join(f"{x},{y}" for x, y in coords),
        last_x=coords[-1][0],
        last_y=coords[-1][1],
        tone=tone,
        label=label,
    )


class _Builder:
    def __init__(self, analysis: Analysis, report: dict[str, Any]) -> None:
        self.analysis = analysis
        self.report = report
        self.guideline: Guideline = analysis.guideline
        self.text: str = analysis.document.text
        self.entries: dict[str, dict[str, Any]] = {c["id"]: c for c in report["clauses"]}
        self.raw_passages: dict[str, dict[str, Any]] = {p["id"]: p for p in report["passages"]}
        self.scores: dict[str, dict[str, float]] = {
            p["id"]: {c["id"]: c["score"] for c in p["clauses"]} for p in report["passages"]
        }
        self.passages = self._passages()

    # -- passages ----------------------------------------------------------------------------
    def _passages(self) -> dict[str, PassageView]:
        segmentation = self.analysis.segmentation
        paragraph_of = {p.id: p.paragraph for p in segmentation.passages}
        spans = segmentation.paragraphs
        parts: dict[int, list[str]] = {}
        for passage in self.report["passages"]:
            parts.setdefault(paragraph_of.get(passage["id"], -1), []).append(passage["id"])
        views = {}
        for index, passage in enumerate(self.report["passages"]):
            pid = passage["id"]
            paragraph = paragraph_of.get(pid)
            if paragraph is None or not 0 <= paragraph < len(spans):
                # Not from this segmentation (a report built elsewhere): count passages instead.
                number, siblings, span_text, first = index + 1, [pid], passage["text"], True
            else:
                number, siblings = paragraph + 1, parts[paragraph]
                span_text = self.text[spans[paragraph].start : spans[paragraph].end]
                first = passage["start"] <= spans[paragraph].start
            label, short = f"第{number}段", f"¶{number}"
            if len(siblings) > 1:
                part = siblings.index(pid) + 1
                label += f"（{part}/{len(siblings)}）"
                short += f".{part}"
            flat = " ".join(span_text.split())
            opening = flat[:OPENING_CHARS] + ("…" if len(flat) > OPENING_CHARS else "")
            views[pid] = PassageView(
                id=pid,
                anchor=f"passage-{pid}",
                paragraph=number,
                label=label,
                short=short,
                where=f"段落编号 {pid}，全文第 {passage['start']}–{passage['end']} 字",
                opening=opening,
                first=first,
                section=self.section_label(passage["section"]),
                kind=passage["kind"],
                start=passage["start"],
                end=passage["end"],
                text=passage["text"],
            )
        return views

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
        if proba is None or cid not in self.guideline.clause_ids:
            return None
        row = int(pid.lstrip("p") or 0) - 1
        if not 0 <= row < proba.shape[0]:
            return None
        return float(proba[row, self.guideline.clause_ids.index(cid)])

    def passage_score(self, pid: str, cid: str) -> float | None:
        score = self.scores.get(pid, {}).get(cid)
        if score is None:
            # A passage the status model promoted from near-miss to evidence carries the clause score.
            entry = self.entries[cid]
            if entry["evidence"] and entry["evidence"][0] == pid:
                return entry["score"]
        return score

    def _context(self, passage: PassageView) -> tuple[str, str]:
        text, start, end = self.text, passage.start, passage.end
        before = text[max(0, start - CONTEXT_CHARS) : start].rsplit("\n", 1)[-1]
        after = text[end : end + CONTEXT_CHARS].split("\n", 1)[0]
        lead = ("…" if before and start - len(before) > 0 and text[start - len(before) - 1] != "\n" else "") + before
        tail = after + ("…" if after and end + len(after) < len(text) and text[end + len(after)] != "\n" else "")
        return lead, tail

    def evidence(self, pid: str, cid: str, near: bool, role: str, pattern: re.Pattern[str] | None) -> EvidenceView:
        passage = self.passages[pid]
        score = self.near_miss_probability(pid, cid) if near else self.passage_score(pid, cid)
        lead, tail = self._context(passage)
        short = tuple(excerpt(passage.text, pattern))
        also = tuple(c["id"] for c in self.raw_passages[pid]["clauses"] if c["id"] != cid)
        return EvidenceView(
            passage=passage,
            near=near,
            score=score,
            score_text=_score_text(score),
            bar=round(max(0.0, min(1.0, float(score))) * 100) if score is not None else 0,
            also=also,
            lead=lead,
            hit=tuple(highlight(passage.text, pattern)),
            tail=tail,
            excerpt=short,
            show_opening=not passage.first or short[0].text == "…",
            role=role,
        )

    def passage_at(self, offset: int) -> PassageView | None:
        """The passage a document offset falls in (a depth sentence lies inside its evidence)."""
        for raw in self.report["passages"]:
            if raw["start"] <= offset < raw["end"]:
                return self.passages[raw["id"]]
        return None

    # -- evidence depth ------------------------------------------------------------------------
    def depth(self, entry: dict[str, Any]) -> DepthView | None:
        depth = entry.get("depth")
        if not depth:
            return None
        layers: list[DepthLayerView] = []
        shown: dict[tuple[int, int], str] = {}  # sentence offsets -> the first layer that quotes it
        for key in LAYERS:
            layer = depth["layers"][key]
            present = bool(layer["present"]) and layer["start"] is not None and layer["end"] is not None
            span = (layer["start"], layer["end"]) if present else None
            layers.append(
                DepthLayerView(
                    key=key,
                    mark=DEPTH_MARKS[key],
                    label=LAYER_NAMES[key],
                    present=present,
                    sentence=" ".join(self.text[span[0] : span[1]].split()) if span else "",
                    passage=self.passage_at(span[0]) if span else None,
                    same_as=shown.get(span, "") if span else "",
                )
            )
            if span and span not in shown:
                shown[span] = LAYER_NAMES[key]
        return DepthView(
            layers=tuple(layers),
            summary=" ".join(f"{layer.label}{'✓' if layer.present else '✗'}" for layer in layers),
            explanation=depth["explanation"],
            advice=depth["advice"],
        )

    @staticmethod
    def depth_advice(depth: DepthView | None) -> str:
        """The missing layers, in words to the applicant; "" when the evidence shows all three."""
        if depth is None or not depth.advice:
            return ""
        return applicant_words(
            f"从做法、展开、结果三个层次看，本条款现有的段落{depth.explanation}，建议{depth.advice}。"
        )

    # -- clauses -------------------------------------------------------------------------------
    def clause(self, cid: str) -> ClauseView:
        clause: Clause = self.guideline.clauses[cid]
        entry = self.entries[cid]
        item = self.guideline.items[clause.item_id]
        status, possible = entry["status"], bool(entry.get("possible"))
        pattern = keyword_pattern(clause.keywords)
        known = [pid for pid in entry["evidence"] if pid in self.passages]
        near_ids = [pid for pid in entry["near_misses"] if pid in self.passages]
        evidence_role = "您写到了相关内容，但证据还不够具体" if not possible else "这一段可能已经写到本条款"
        evidence = tuple(self.evidence(pid, cid, False, evidence_role, pattern) for pid in known[:MAX_EVIDENCE])
        near = tuple(self.evidence(pid, cid, True, "内容接近，但尚不足以对应本条款", pattern) for pid in near_ids)
        closest = (evidence + near)[:MAX_CLOSEST]
        confidence = CONFIDENCE_LABELS.get(entry.get("confidence", ""), "中")
        depth = self.depth(entry)
        depth_advice = self.depth_advice(depth)
        if status == COVERED:
            advice = depth_advice
        else:
            advice = self.advice(status, possible, bool(closest))
            if status == WEAK and depth_advice:
                advice += depth_advice
        return ClauseView(
            id=cid,
            anchor=f"clause-{cid}",
            item_id=item.id,
            item_label=f"{item.id} {item.title}",
            item_title=item.title,
            category_id=clause.category_id,
            text=clause.text,
            guidance=clause.guidance,
            applicant_guidance=applicant_words(clause.guidance or "请结合本条款要求补充具体事例和数据。"),
            keywords="、".join(clause.keywords),
            status=status,
            status_label=STATUS_LABELS[status],
            applicant_label=APPLICANT_LABELS[status],
            mark=STATUS_MARKS[status],
            confidence=confidence,
            possible=possible,
            score=float(entry["score"]),
            score_text=_score_text(entry["score"]) if known else "",
            is_comparison=clause.is_comparison,
            evidence=evidence,
            more_evidence=tuple(self.passages[pid] for pid in known[MAX_EVIDENCE:]),
            evidence_count=len(known),
            near=near,
            closest=closest,
            advice=advice,
            tooltip=f"{cid} {item.title}：{STATUS_LABELS[status]}，判断把握{confidence}"
            + ("，可能已涉及" if possible else "")
            + (f"；证据层次 {depth.summary}" if depth else ""),
            depth=depth,
            depth_advice=depth_advice,
            is_process=clause.kind == "process",
        )

    @staticmethod
    def advice(status: str, possible: bool, has_passage: bool) -> str:
        if possible:
            return (
                f"{APPLICANT_POSSIBLE}。您的报告中有一段可能已经写到本条款（见下），但写得不够明确。"
                "建议在该段点明它回答的是本条款，并补充具体做法、数据、次数或事例。"
            )
        if status == MISSING:
            if has_passage:
                return "您的报告中没有找到对应本条款的内容（下列段落只是接近），建议专门补写一段。"
            return "您的报告中没有找到对应本条款的内容，建议专门补写一段。"
        return "您的报告提到了相关内容，但多为一般性表述，建议补充具体做法、数据、次数、时间或项目名称。"

    # -- comparisons ---------------------------------------------------------------------------
    def comparisons(self, clauses: dict[str, ClauseView]) -> tuple[ComparisonView, ...]:
        out = []
        for item_id, comparison in self.report["comparisons"].items():
            item = self.guideline.items.get(item_id)
            kinds = tuple(
                ComparisonKindView(
                    key,
                    label,
                    bool(comparison[key]),
                    tuple(self.passages[pid] for pid in comparison["evidence"][key] if pid in self.passages),
                )
                for key, label in COMPARISON_KINDS
            )
            missing = []
            if not comparison["past"]:
                missing.append("未与您本人以往的结果比对")
            elif not comparison["trend"]:
                missing.append("与以往比对不足三个时间点，难以显示趋势")
            if not comparison["benchmark"]:
                missing.append("未与标杆、同行或行业水平比对")
            clause_id = item.comparison_clause if item else None
            clause = self.guideline.clauses.get(clause_id) if clause_id else None
            out.append(
                ComparisonView(
                    item_id=item_id,
                    title=f"{item_id} {item.title}" if item else item_id,
                    clause_id=clause_id if clause_id in clauses else None,
                    kinds=kinds,
                    missing=tuple(missing),
                    guidance=applicant_words(clause.guidance) if clause and clause.guidance else "",
                    clause=clauses.get(clause_id) if clause_id else None,
                )
            )
        return tuple(out)

    # -- the results-data table ----------------------------------------------------------------
    def measure_row(self, order: int, row: dict[str, Any]) -> MeasureRowView:
        measure, assessment = row["measure"], row["assessment"] or {}
        unit = measure.get("unit") or ""
        points = measure["points"]
        judgement = assessment.get("trend")
        trend_text, trend_rank = trend_words(points, judgement)
        level_value = assessment.get("level")
        level = f"{number_text(float(level_value))}{unit}" if level_value is not None else "—"
        said = "；".join(
            " ".join(part for part in (time_words(p.get("time")), f"{number_text(float(p['value']))}{unit}") if part)
            for p in points
        )
        tone = judgement if judgement in ("improving", "worsening") else "neutral"
        return MeasureRowView(
            order=order,
            name=measure["name"],
            unit=unit,
            level=level,
            level_time=time_words(assessment.get("level_time")),
            level_value=float(level_value) if level_value is not None else None,
            points=said,
            trend_text=trend_text,
            trend_rank=trend_rank,
            judgement=judgement or "",
            past=bool(row["past"]),
            benchmark=bool(row["benchmark"]),
            trend=bool(row["trend"]),
            references=tuple(r["text"] for r in measure.get("references") or []),
            passage=self.passages[row["passage"]],
            sparkline=sparkline([float(p["value"]) for p in points], tone, f"{measure['name']}：{said}"),
        )

    def statement_row(self, row: dict[str, Any]) -> StatementRowView:
        passage = self.passages[row["passage"]]
        return StatementRowView(
            passage=passage,
            kinds=tuple(label for key, label in COMPARISON_KINDS if row[key]),
            excerpt=plain(excerpt(passage.text, None, EXCERPT_CHARS)),
        )

    def row_place(self, row: dict[str, Any]) -> tuple[int, int]:
        start = self.passages[row["passage"]].start
        return start, row["measure"]["name_start"] if row["measure"] else start

    def results(self) -> tuple[ResultsItemView, ...]:
        results = self.report.get("results") or {"rows": [], "items": {}}
        rows = [r for r in results["rows"] if r["passage"] in self.passages]
        order = {item_id: index for index, item_id in enumerate(self.guideline.items)}
        out = []
        for item_id in sorted(results["items"], key=lambda i: (order.get(i, len(order)), i)):
            counts = results["items"][item_id]
            mine = [r for r in rows if r["item"] == item_id]
            # Document order: the passage, then the measure's place in it.
            measures = sorted((r for r in mine if r["kind"] == "measure" and r["measure"]), key=self.row_place)
            statements = sorted((r for r in mine if r["kind"] == "statement"), key=self.row_place)
            item = self.guideline.items.get(item_id)
            summary = (
                f"指标 {counts['measures']} 项：有以往比对 {counts['with_past']} 项，"
                f"有趋势 {counts['with_trend']} 项，有标杆比对 {counts['with_benchmark']} 项"
            )
            if counts.get("statements"):
                summary += f"；另有比对语句 {counts['statements']} 处"
            out.append(
                ResultsItemView(
                    item_id=item_id,
                    title=f"{item_id} {item.title}" if item else item_id,
                    summary=summary,
                    measures=tuple(self.measure_row(i, r) for i, r in enumerate(measures)),
                    statements=tuple(self.statement_row(r) for r in statements),
                )
            )
        return tuple(out)

    # -- flags ---------------------------------------------------------------------------------
    def flag(self, flag: dict[str, Any], clauses: dict[str, ClauseView]) -> FlagView:
        code = flag["code"]
        clause = clauses.get(flag["clause"] or "")
        detail = FLAG_EXPLANATIONS.get(code, flag["message"])
        if code.startswith("clause_") and clause is not None and clause.comparison is not None:
            # The status of 7.xc is the item's comparisons: say which are there and which are not.
            detail = "，".join(f"{k.label}{'有' if k.present else '无'}" for k in clause.comparison.kinds[:2])
        return FlagView(code, FLAG_LABELS.get(code, "需复核"), FLAG_TONES.get(code, WEAK), detail)

    # -- full text -----------------------------------------------------------------------------
    def fulltext(self) -> tuple[FullTextPiece, ...]:
        text = self.text
        evidence = {pid for c in self.report["clauses"] for pid in c["evidence"]}
        near = {pid for c in self.report["clauses"] for pid in c["near_misses"]} - evidence
        clause_of: dict[str, list[str]] = {}
        for entry in self.report["clauses"]:
            for pid in entry["evidence"]:
                clause_of.setdefault(pid, []).append(entry["id"])
        out, cursor = [], 0
        for raw in sorted(self.report["passages"], key=lambda p: (p["start"], p["end"])):
            pid = raw["id"]
            passage = self.passages[pid]
            start, end = max(raw["start"], cursor), min(raw["end"], len(text))
            if start > cursor:
                out.append(FullTextPiece(text[cursor:start]))
            classes = ["passage", f"kind-{raw['kind']}"]
            if pid in evidence:
                classes.append("is-evidence")
            elif pid in near:
                classes.append("is-near")
            cids = clause_of.get(pid, [])
            title = f"{passage.label} · 证据：{' '.join(cids)}" if cids else passage.label
            out.append(
                FullTextPiece(text[start:end] if end > start else "", passage, " ".join(classes), " ".join(cids), title)
            )
            cursor = max(cursor, end)
        out.append(FullTextPiece(text[cursor:]))
        return tuple(out)

    # -- the correction UI ----------------------------------------------------------------------
    def review(self, clauses: dict[str, ClauseView]) -> ReviewView:
        report = self.report
        data = {
            "document": {
                "sha256": report["document"]["sha256"],
                "file_name": PurePath(report["document"]["path"]).name or report["document"]["path"],
                "format": report["document"]["format"],
                "chars": report["document"]["chars"],
            },
            "guideline": {"id": report["guideline"]["id"], "sha256": report["guideline"]["sha256"]},
            "tool": {"name": report["tool"]["name"], "version": report["tool"]["version"]},
            "encoder": report["encoder"]["name"],
            "matcher": str(report.get("matcher", "")),
            "clauses": {
                cid: {
                    "status": self.entries[cid]["status"],
                    "evidence": list(self.entries[cid]["evidence"]),
                    "near": list(self.entries[cid]["near_misses"]),
                }
                for cid in clauses
            },
            "comparisons": {
                item: {kind: bool(c[kind]) for kind, _ in COMPARISON_KINDS} for item, c in report["comparisons"].items()
            },
            "comparison_clauses": {
                item: self.guideline.items[item].comparison_clause
                for item in report["comparisons"]
                if item in self.guideline.items and self.guideline.items[item].comparison_clause in clauses
            },
            "passages": {p["id"]: [p["start"], p["end"], p["kind"]] for p in report["passages"]},
        }
        passages = []
        for raw in report["passages"]:
            if raw["kind"] == "heading":
                continue  # headings cite nothing (annotation guide §1)
            view = self.passages[raw["id"]]
            flat = " ".join(view.text.split())
            opening = flat[:OPENING_CHARS] + ("…" if len(flat) > OPENING_CHARS else "")
            passages.append(ReviewOption(raw["id"], f"{view.label} {opening}"))
        return ReviewView(
            data=json.dumps(data, ensure_ascii=False, separators=(",", ":")),
            passages=tuple(passages),
            clauses=tuple(ReviewOption(c.id, f"{c.id} {c.item_title}") for c in clauses.values()),
            storage_key=f"evidence-nlp-review:{report['document']['sha256']}",
        )

    # -- the whole report ----------------------------------------------------------------------
    def build(self) -> ReportView:
        report, guideline = self.report, self.guideline
        order = [cid for cid in guideline.clause_ids if cid in self.entries]
        clauses = {cid: self.clause(cid) for cid in order}
        comparisons = self.comparisons(clauses)
        for comparison in comparisons:
            if comparison.clause is not None:
                comparison.clause.comparison = comparison
                if comparison.clause.gap:
                    # 7.xc is rated by its item's comparisons: the advice says which are missing.
                    comparison.clause.advice = (
                        f"本条款看的是结果比对：{'；'.join(comparison.missing)}。"
                        "建议用逐年数据与您本人以往的结果比对（最好三个及以上年份），并与标杆、同行或行业水平比对。"
                    )
        other_flags = []
        for flag in report["flags"]:
            clause = clauses.get(flag["clause"] or "")
            if clause is not None:
                clause.flags.append(self.flag(flag, clauses))
            else:
                other_flags.append(self.flag(flag, clauses))
        categories = []
        width = max(
            (sum(len(guideline.items[i].clause_ids) for i in c.item_ids) for c in guideline.categories), default=0
        )
        for category in guideline.categories:
            views = tuple(
                clauses[cid]
                for item_id in category.item_ids
                for cid in guideline.items[item_id].clause_ids
                if cid in clauses
            )
            if not views:
                continue
            counts = {s: sum(c.status == s for c in views) for s in STATUSES}
            categories.append(
                CategoryView(
                    id=category.id,
                    title=category.title,
                    clauses=views,
                    gaps=tuple(c for c in views if c.gap),
                    covered_ids=tuple(c.id for c in views if not c.gap),
                    deepen=tuple(c for c in views if c.deepen),
                    summary=" · ".join(f"{STATUS_LABELS[s]} {counts[s]}" for s in STATUSES),
                    pad=width - len(views),
                )
            )
        counts = status_counts(report)
        total = sum(counts.values())
        file_name = PurePath(report["document"]["path"]).name or report["document"]["path"]
        doc, tool, encoder = report["document"], report["tool"], report["encoder"]
        flagged = tuple(c for c in clauses.values() if c.flags)
        verdict = f"{total} 项条款：覆盖 {counts[COVERED]} 项，薄弱 {counts[WEAK]} 项，缺失 {counts[MISSING]} 项；" + (
            f"{len(flagged)} 项条款需要复核（见下方问题标记）。" if flagged else "没有需要复核的条款。"
        )
        intro = (
            f"本报告对照《{report['guideline']['title']}》的 {total} 项条款，逐条检查了您的自评报告"
            f"“{file_name}”：已覆盖 {counts[COVERED]} 项，证据薄弱 {counts[WEAK]} 项，"
            f"未找到证据 {counts[MISSING]} 项。下面按类目列出需要补充的条款、指南原文、建议补充的证据，"
            "以及您的报告中与之最接近的段落（按段落顺序编号，标题也算一段），供您修改时参考。"
        )
        provenance = (
            ProvenanceRow("申报材料", file_name),
            ProvenanceRow("文件 SHA-256", doc["sha256"], True),
            ProvenanceRow("格式 / 编码", f"{doc['format']} / {doc['encoding']}，{doc['chars']} 字"),
            ProvenanceRow("对照指南", f"{report['guideline']['title']}（{report['guideline']['id']}）"),
            ProvenanceRow("指南 SHA-256", report["guideline"]["sha256"], True),
            ProvenanceRow("分析工具", f"{tool['name']} {tool['version']}"),
            ProvenanceRow("编码器", f"{encoder['name']}，{encoder['dim']} 维"),
            ProvenanceRow("匹配模型", str(report.get("matcher", "")), True),
        )
        return ReportView(
            file_name=file_name,
            guideline_title=report["guideline"]["title"],
            guideline_id=report["guideline"]["id"],
            tool=f"{tool['name']} {tool['version']}",
            sha256=doc["sha256"],
            counts=tuple(
                CountView(s, counts[s], STATUS_LABELS[s], APPLICANT_LABELS[s], STATUS_MARKS[s]) for s in STATUSES
            ),
            total=total,
            categories=tuple(categories),
            clauses=tuple(clauses.values()),
            gaps=tuple(c for c in clauses.values() if c.gap),
            comparisons=comparisons,
            results=self.results(),
            flagged=flagged,
            other_flags=tuple(other_flags),
            flag_count=len(report["flags"]),
            warnings=tuple(doc["warnings"]),
            fulltext=self.fulltext(),
            provenance=provenance,
            verdict=verdict,
            intro=intro,
            counts_line=(f"已覆盖 {counts[COVERED]} 项 · 证据薄弱 {counts[WEAK]} 项 · 未找到证据 {counts[MISSING]} 项"),
            statuses={s: {"label": STATUS_LABELS[s], "mark": STATUS_MARKS[s]} for s in STATUSES},
            review=self.review(clauses),
        )


def build_view(analysis: Analysis, report: dict[str, Any]) -> ReportView:
    """The view model of one report: every renderer reads this, nothing else."""
    return _Builder(analysis, report).build()


__all__ = [
    "APPLICANT_LABELS",
    "APPLICANT_POSSIBLE",
    "COMPARISON_KINDS",
    "FLAG_LABELS",
    "MAX_CLOSEST",
    "MAX_EVIDENCE",
    "POSSIBLE_LABEL",
    "ReportView",
    "ReviewOption",
    "ReviewView",
    "Segment",
    "build_view",
    "excerpt",
    "highlight",
    "keyword_pattern",
    "plain",
]
