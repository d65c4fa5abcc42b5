"""Report: the schema-2 JSON contract and a readable terminal summary of an Analysis."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from . import __version__
from .coverage import COVERED, HIGH, LOW, MEDIUM, MISSING, WEAK
from .depth import ClauseDepth
from .measures import measure_to_dict
from .pipeline import Analysis

SCHEMA_VERSION = 2
STATUS_LABELS = {COVERED: "覆盖", WEAK: "薄弱", MISSING: "缺失"}
STATUS_MARKS = {COVERED: "●", WEAK: "◐", MISSING: "○"}
# How sure the tool is of a clause's status, in words a clerk reads (not a probability).
CONFIDENCE_LABELS = {HIGH: "高", MEDIUM: "中", LOW: "低"}
POSSIBLE_LABEL = "可能已涉及，请核对"


def build_report(analysis: Analysis) -> dict[str, Any]:
    """The report as plain data, keys in contract order; see docs/report-schema.md."""
    guideline, document = analysis.guideline, analysis.document
    assigned = {m.passage_id: m.clauses for m in analysis.matches}
    excluded = {m.passage_id: m.excluded for m in analysis.matches if m.excluded}
    depth = {d.clause_id: _depth_entry(d) for d in analysis.depth}
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "evidence-nlp", "version": __version__},
        "guideline": {"id": guideline.id, "title": guideline.title, "sha256": guideline.sha256},
        "document": {
            "path": document.path,
            "sha256": document.sha256,
            "format": document.format,
            "encoding": document.encoding,
            "chars": len(document.text),
            "warnings": list(document.warnings),
        },
        "encoder": {"name": analysis.encoder_name, "dim": analysis.encoder_dim},
        "matcher": analysis.matcher_model,
        "passages": [
            {
                "id": p.id,
                "start": p.start,
                "end": p.end,
                "text": p.text,
                "kind": p.kind,
                "section": p.section,
                "clauses": [{"id": c.clause_id, "score": c.score} for c in assigned.get(p.id, ())],
                "not_about_applicant": excluded.get(p.id),
            }
            for p in analysis.segmentation.passages
        ],
        "clauses": [
            {
                "id": c.clause_id,
                "status": c.status,
                "score": c.score,
                "evidence": list(c.evidence),
                "near_misses": list(c.near_misses),
                "confidence": c.confidence,
                "possible": c.possible,
                "depth": depth.get(c.clause_id),
            }
            for c in analysis.coverage.clauses
        ],
        "comparisons": {
            item_id: {
                "past": c.past,
                "benchmark": c.benchmark,
                "trend": c.trend,
                "evidence": {
                    "past": list(c.past_evidence),
                    "benchmark": list(c.benchmark_evidence),
                    "trend": list(c.trend_evidence),
                },
            }
            for item_id, c in analysis.coverage.comparisons.items()
        },
        "results": _results_table(analysis),
        "flags": [{"code": f.code, "clause": f.clause, "message": f.message} for f in analysis.coverage.flags],
    }


def _depth_entry(depth: ClauseDepth) -> dict[str, Any]:
    layers = {
        e.layer: {"present": e.present, "start": e.start, "end": e.end, "score": round(e.score, 3)}
        for e in depth.layers
    }
    return {"layers": layers, "explanation": depth.explanation, "advice": depth.advice}


def _results_table(analysis: Analysis) -> dict[str, Any]:
    """The results-data table (coverage.ResultRow): one row per measure or comparison statement,
    and per results item how many measures show a past comparison, a trend and a benchmark."""
    rows = []
    for row in analysis.coverage.results:
        entry: dict[str, Any] = {"item": row.item_id, "passage": row.passage_id}
        if row.measure is None:
            entry.update(kind="statement", measure=None, assessment=None)
        else:
            assessment = row.assessment
            entry.update(
                kind="measure",
                measure=measure_to_dict(row.measure),
                assessment={"level": assessment.level, "level_time": assessment.level_time, "trend": assessment.trend},
            )
        entry.update(past=row.past, benchmark=row.benchmark, trend=row.trend)
        rows.append(entry)
    items = {}
    for item_id in analysis.coverage.comparisons:
        mine = [r for r in analysis.coverage.results if r.item_id == item_id and r.measure is not None]
        items[item_id] = {
            "measures": len(mine),
            "with_past": sum(r.past for r in mine),
            "with_trend": sum(r.trend for r in mine),
            "with_benchmark": sum(r.benchmark for r in mine),
            "statements": sum(r.measure is None and r.item_id == item_id for r in analysis.coverage.results),
        }
    return {"rows": rows, "items": items}


def to_json(report: dict[str, Any]) -> str:
    """Deterministic serialisation: same report, same bytes."""
    return json.dumps(report, ensure_ascii=False, indent=2) + "\n"


def write_atomic(path: Path, content: str) -> None:
    """Write via a temporary file and rename, so an interrupted run leaves no half-written file.

    If any step fails (a full disk fails the write itself, often only at the last flush), the
    temporary file is removed before the OSError goes on: no stray .tmp is ever left behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8")
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        try:
            view = memoryview(data)
            while view:  # os.write may write less than asked
                view = view[os.write(handle, view) :]
        finally:
            os.close(handle)
        os.chmod(temporary, 0o644)  # mkstemp creates 0600; reports are ordinary files
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def status_counts(report: dict[str, Any]) -> dict[str, int]:
    counts = {COVERED: 0, WEAK: 0, MISSING: 0}
    for clause in report["clauses"]:
        counts[clause["status"]] += 1
    return counts


COMPARISON_LABELS = {"past": "过往", "benchmark": "标杆", "trend": "趋势"}
STATUS_STYLES = {COVERED: "green", WEAK: "yellow", MISSING: "red"}
SUMMARY_LEGEND = (
    "把握：判断的可靠程度（高/中/低），不是质量分。第N段：证据所在的段落（标题也算一段），与Word中的段落顺序一致。"
)


def summary_renderables(analysis: Analysis, report: dict[str, Any] | None = None) -> list[Any]:
    """The terminal summary as rich renderables: tables that take the console's width (the
    evidence column is cut to fit), every text from the narrative as plain Text, never markup."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    report = report or build_report(analysis)
    guideline = analysis.guideline
    clauses = {c["id"]: c for c in report["clauses"]}
    passages = {p["id"]: p for p in report["passages"]}
    paragraph_of = {p.id: p.paragraph + 1 for p in analysis.segmentation.passages}
    counts = status_counts(report)
    doc = report["document"]
    parts: list[Any] = [
        Text(f"{doc['path']}（{doc['chars']} 字，{doc['encoding']}，句向量模型 {report['encoder']['name']}）"),
        Text.assemble(
            f"条款 {len(clauses)}: ",
            (f"● 覆盖 {counts[COVERED]}", STATUS_STYLES[COVERED]),
            "  ",
            (f"◐ 薄弱 {counts[WEAK]}", STATUS_STYLES[WEAK]),
            "  ",
            (f"○ 缺失 {counts[MISSING]}", STATUS_STYLES[MISSING]),
        ),
    ]
    for category in guideline.categories:
        table = Table(
            title=Text(f"{category.id}. {category.title}", style="bold"),
            title_justify="left",
            box=box.SIMPLE_HEAD,
            expand=True,
            pad_edge=False,
        )
        table.add_column("判定", no_wrap=True)
        table.add_column("条款", no_wrap=True)
        table.add_column("项目", max_width=12, overflow="ellipsis", no_wrap=True)
        table.add_column("把握", no_wrap=True)
        table.add_column("证据（所在段落与开头）", ratio=1, overflow="ellipsis", no_wrap=True)
        for item_id in category.item_ids:
            item = guideline.items[item_id]
            for cid in item.clause_ids:
                clause = clauses[cid]
                where = Text()
                if clause.get("possible"):
                    where.append(f"{POSSIBLE_LABEL}：", style="yellow")
                if clause["evidence"]:
                    passage = passages[clause["evidence"][0]]
                    number = paragraph_of.get(passage["id"])
                    if number is not None:
                        where.append(f"第{number}段 ", style="bold")
                    where.append(" ".join(passage["text"].split()))
                status = clause["status"]
                table.add_row(
                    Text(f"{STATUS_MARKS[status]} {STATUS_LABELS[status]}", style=STATUS_STYLES[status]),
                    Text(cid),
                    Text(item.title),
                    Text(CONFIDENCE_LABELS.get(clause.get("confidence", ""), "中")),
                    where,
                )
        parts.append(table)
    parts.append(Text(SUMMARY_LEGEND, style="dim"))
    comparisons = Table(title=Text("结果比对", style="bold"), title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    comparisons.add_column("结果项目")
    for label in COMPARISON_LABELS.values():
        comparisons.add_column(label, justify="center", no_wrap=True)
    for item_id, comparison in report["comparisons"].items():
        marks = [Text("✓", style="green") if comparison[k] else Text("✗", style="red") for k in COMPARISON_LABELS]
        comparisons.add_row(Text(f"{item_id} {guideline.items[item_id].title}"), *marks)
    parts.append(comparisons)
    for warning in doc["warnings"]:
        parts.append(Text(f"提示：{warning}", style="yellow"))
    return parts


def print_summary(analysis: Analysis, report: dict[str, Any] | None = None, console: Any = None) -> None:
    """The terminal summary on stdout: as wide as the terminal (COLUMNS where it is not one, else
    80), in colour only when stdout is a terminal (and NO_COLOR is unset)."""
    from rich.console import Console

    console = console or Console(highlight=False, soft_wrap=False)
    for part in summary_renderables(analysis, report):
        console.print(part)


def text_summary(analysis: Analysis, report: dict[str, Any] | None = None, width: int = 100) -> str:
    """The terminal summary as plain text, `width` columns wide."""
    import io

    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, force_terminal=False, highlight=False)
    print_summary(analysis, report, console)
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())
