"""Report: the schema-1 JSON contract and a readable terminal summary of an Analysis."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from . import __version__
from .coverage import COVERED, HIGH, LOW, MEDIUM, MISSING, WEAK
from .pipeline import Analysis

SCHEMA_VERSION = 1
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
        "flags": [{"code": f.code, "clause": f.clause, "message": f.message} for f in analysis.coverage.flags],
    }


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


def text_summary(analysis: Analysis, report: dict[str, Any] | None = None, evidence_chars: int = 40) -> str:
    """A per-category summary for the terminal."""
    report = report or build_report(analysis)
    guideline = analysis.guideline
    clauses = {c["id"]: c for c in report["clauses"]}
    passages = {p["id"]: p for p in report["passages"]}
    counts = status_counts(report)
    doc = report["document"]
    lines = [
        f"{doc['path']}  ({doc['chars']} 字, {doc['encoding']}, encoder {report['encoder']['name']})",
        f"条款 {len(clauses)}: ● 覆盖 {counts[COVERED]}  ◐ 薄弱 {counts[WEAK]}  ○ 缺失 {counts[MISSING]}",
        "",
    ]
    for category in guideline.categories:
        lines.append(f"{category.id}. {category.title}")
        for item_id in category.item_ids:
            item = guideline.items[item_id]
            for cid in item.clause_ids:
                clause = clauses[cid]
                where = ""
                if clause["evidence"]:
                    passage = passages[clause["evidence"][0]]
                    snippet = passage["text"].replace("\n", " ")
                    snippet = snippet[:evidence_chars] + ("…" if len(snippet) > evidence_chars else "")
                    where = f"  [{passage['id']} @{passage['start']}] {snippet}"
                label = STATUS_LABELS[clause["status"]]
                if clause.get("possible"):
                    label += f"（{POSSIBLE_LABEL}）"
                sure = CONFIDENCE_LABELS.get(clause.get("confidence", ""), "中")
                lines.append(f"  {STATUS_MARKS[clause['status']]} {cid} {item.title} {label} 把握{sure}{where}")
        lines.append("")
    lines.append("把握：判断的可靠程度（高 / 中 / 低），不是质量分；[p4 @269] 为段落编号和它在全文中的字符位置。")
    lines.append("")
    lines.append("结果比对 (past 以往 / benchmark 标杆 / trend 趋势):")
    for item_id, comparison in report["comparisons"].items():
        marks = "  ".join(f"{name} {'✓' if comparison[name] else '✗'}" for name in ("past", "benchmark", "trend"))
        lines.append(f"  {item_id} {guideline.items[item_id].title}: {marks}")
    for warning in doc["warnings"]:
        lines.append(f"warning: {warning}")
    return "\n".join(lines) + "\n"
