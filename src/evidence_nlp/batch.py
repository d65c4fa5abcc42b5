"""Batch pre-screening of an intake folder: one report per file, one summary table for the office.

Every file is analysed in isolation: a bad file becomes a row in errors.csv, never a stopped
batch. Reports are written atomically, so an interrupted run leaves no half-written file, and a
re-run skips files whose report is up to date (same file sha256, tool version, guideline and
encoder).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__
from .coverage import COVERED, MISSING, WEAK
from .errors import EvidenceError, OutputFolderError
from .guideline import Guideline
from .ingest import SUPPORTED_SUFFIXES, display_path, read_document, read_file_bytes

STATUS_WEIGHT = {COVERED: 1.0, WEAK: 0.5, MISSING: 0.0}
HEATMAP_MAX_ROWS = 100


@dataclass(frozen=True)
class BatchItem:
    path: Path  # the input file
    relative: str  # its path under the intake folder, used for the report name
    report_path: Path
    root: Path | None = None  # the intake folder: the file is read only if it lies inside it


@dataclass(frozen=True)
class Outcome:
    item: BatchItem
    # What the summary needs of the report (report_summary), not the report itself: a batch keeps
    # one outcome per file, and whole reports (passage texts) would grow memory with the intake.
    summary: dict[str, Any] | None
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
        taken = set(dirs)  # report names in this folder: the sub-folders' and those given so far
        for name in sorted(files):
            path = Path(root) / name
            relative = path.relative_to(input_dir).as_posix()
            if path.is_symlink() and not path.exists():
                problems.append((display_path(str(path)), "broken or looping symbolic link"))
                continue
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                continue
            report_name = report_file_name(name, relative, taken)
            taken.add(report_name)
            report_path = reports_dir / Path(relative).parent / report_name
            items.append(BatchItem(path, relative, report_path, input_dir))
        for name in list(dirs):
            if (Path(root) / name).is_symlink():
                problems.append((display_path(str(Path(root) / name)), "symbolic link to a folder: not followed"))
    return items, problems


# The longest file name most file systems allow (ext4, XFS, APFS, NTFS: 255 bytes or UTF-16 units).
MAX_NAME_BYTES = 255


def report_file_name(name: str, relative: str, taken: Collection[str] = ()) -> str:
    """`<name>.json`, unless that is longer than a file name may be or is taken by a folder beside
    it (`a.txt` next to a folder `a.txt.json/`, whose reports go in reports/a.txt.json/): then the
    name cut to fit plus a hash of the file's path, which keeps it unique. The report itself keeps
    the original name (document.path)."""
    plain = f"{name}.json"
    if len(os.fsencode(plain)) <= MAX_NAME_BYTES and plain not in taken:
        return plain
    attempt = 0
    while True:  # a second round only if a file was named to collide with this hash
        key = relative if attempt == 0 else f"{relative}\0{attempt}"
        suffix = "-" + hashlib.sha256(os.fsencode(key)).hexdigest()[:12] + ".json"
        room = MAX_NAME_BYTES - len(suffix)
        kept, size = [], 0
        for character in name:  # cut between characters, never inside a UTF-8 sequence
            size += len(os.fsencode(character))
            if size > room:
                break
            kept.append(character)
        candidate = "".join(kept) + suffix
        if candidate not in taken:
            return candidate
        attempt += 1


def file_sha256(path: Path, root: Path | None = None) -> str:
    """sha256 of a file, opened as the analysis opens it (regular files inside root only)."""
    return hashlib.sha256(read_file_bytes(path, root)).hexdigest()


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
            and report["document"]["sha256"] == file_sha256(item.path, item.root)
        )
    except (OSError, ValueError, KeyError, TypeError, EvidenceError):
        return None  # re-analyse; a file that cannot be read then gets its reason in errors.csv
    return report if same else None


class FileTimeout(EvidenceError):
    pass


@contextmanager
def time_limit(seconds: float | None, path: Path | str) -> Iterator[None]:
    """Bound the time spent on one file (SIGALRM; main thread of a Unix process).

    Whatever exception leaves the block after the limit expired is reported as the timeout: a
    parser that catches the FileTimeout and raises its own error must not make a slow file look
    corrupt."""
    # SIGALRM exists on Unix only and can be handled only in the main thread.
    if not seconds or not hasattr(signal, "SIGALRM") or threading.current_thread() is not threading.main_thread():
        yield
        return
    message = f"{path}: timed out after {seconds:g} s"
    expired = threading.Event()

    def expire(signum: int, frame: object) -> None:
        expired.set()
        raise FileTimeout(message)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except FileTimeout:
        raise
    except Exception as exc:
        if expired.is_set():
            raise FileTimeout(message) from exc
        raise
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def report_summary(report: dict[str, Any]) -> dict[str, Any]:
    """The fields of a report the batch summary reads: a few hundred bytes per file."""
    return {
        "document": {"chars": report["document"]["chars"], "encoding": report["document"]["encoding"]},
        "encoder": {"name": report["encoder"]["name"]},
        "clauses": [{"id": c["id"], "status": c["status"]} for c in report["clauses"]],
        "comparisons": {
            item: {kind: comparison[kind] for kind in ("past", "benchmark", "trend")}
            for item, comparison in report["comparisons"].items()
        },
    }


def analyse_item(analyzer: Any, item: BatchItem, timeout: float | None) -> Outcome:
    """Analyse one file and write its report; any failure becomes the outcome's error."""
    import time

    from .report import build_report, to_json, write_atomic

    shown = display_path(str(item.path))
    start = time.perf_counter()
    try:
        with time_limit(timeout, shown):
            # Read here rather than through analyzer.analyze: only a regular file inside the
            # intake folder is opened (ingest.read_file_bytes).
            document = read_document(item.path, item.root)
            analysis = analyzer.analyze_document(document)
            analysis.timings["ingest"] = time.perf_counter() - start
            report = build_report(analysis)
            write_atomic(item.report_path, to_json(report))
    except EvidenceError as exc:
        return Outcome(item, None, str(exc), seconds=time.perf_counter() - start)
    except OSError as exc:  # the report could not be written (name too long, disk full …)
        return Outcome(item, None, f"{shown}: cannot write report ({exc.strerror or exc})")
    except Exception as exc:  # one broken file must never stop the batch
        return Outcome(item, None, " ".join(f"{shown}: internal error ({type(exc).__name__}: {exc})".split()))
    return Outcome(item, report_summary(report), None, seconds=time.perf_counter() - start)


def _die_with_parent(parent: int) -> None:
    """Have the kernel kill this worker when the batch process dies (Linux prctl
    PR_SET_PDEATHSIG): after a kill -9 of the batch, orphaned workers would go on writing reports
    into a folder the next run already owns. Elsewhere a no-op."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0) != 0:
        return  # unsupported kernel: the parent-alive check below still catches a dead parent
    if os.getppid() != parent:  # the batch died before prctl took effect
        os._exit(1)


def _build_analyzer(options: dict[str, Any]) -> Any:
    """A worker's own Analyzer, where workers cannot inherit the parent's (no fork)."""
    from .pipeline import Analyzer

    return Analyzer(**options)


def _analyse_job(analyzer: Any, job: tuple[BatchItem, float | None]) -> Outcome:
    item, timeout = job
    return analyse_item(analyzer, item, timeout)


def run_batch(
    items: list[BatchItem],
    analyzer: Any,
    analyzer_options: dict[str, Any],
    workers: int | None = None,
    timeout: float | None = None,
    force: bool = False,
    progress: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Analyse items (skipping up-to-date ones unless force); outcomes in input order.

    workers: processes, each with one BLAS thread (parallel.py); default one per core. The work
    per file is `analyse_item(analyzer, item, timeout)`, which holds no global state: an engine
    such as Dask or Ray can map it over files on many machines (docs/performance.md)."""
    from .parallel import WorkerPool, default_workers

    outcomes: dict[int, Outcome] = {}
    todo: list[tuple[int, BatchItem]] = []
    for index, item in enumerate(items):
        matcher = analyzer.matcher.model_.source
        report = None if force else up_to_date(item, analyzer.guideline, analyzer.encoder_name, matcher)
        if report is not None:
            outcomes[index] = Outcome(item, report_summary(report), None, skipped=True)
            if progress:
                progress(outcomes[index])
        else:
            todo.append((index, item))
    workers = default_workers(len(todo)) if workers is None else min(workers, max(1, len(todo)))
    if workers <= 1:
        for index, item in todo:
            outcomes[index] = analyse_item(analyzer, item, timeout)
            if progress:
                progress(outcomes[index])
    else:
        # Workers fork from this process with everything loaded (or rebuild it from the options).
        analyzer.warm_up()
        hook = functools.partial(_die_with_parent, os.getpid())
        with WorkerPool(workers, analyzer, _build_analyzer, analyzer_options, hook) as pool:
            futures = {pool.submit(_analyse_job, (item, timeout)): (index, item) for index, item in todo}
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
        report = outcome.summary
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
# A cell starting with one of these is run as a formula by Excel, LibreOffice or Google Sheets
# (=HYPERLINK(...) in a file name sent by an applicant): OWASP's CSV-injection guidance.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """A text cell that a spreadsheet would take for a formula, with a leading single quote."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _csv_safe_frame(frame: Any) -> Any:
    """The frame with every text cell and column name made safe by csv_safe."""
    return frame.rename(columns=csv_safe).map(csv_safe)


def write_summary(
    rows: list[dict[str, Any]], errors: list[tuple[str, str]], out_dir: Path, guideline: Guideline
) -> None:
    import pandas as pd

    columns = list(rows[0]) if rows else ["file", "chars", "encoder", "covered", "weak", "missing", "priority"]
    frame = pd.DataFrame(rows, columns=columns)
    # File names, error messages and guideline titles come from outside: no cell may be a formula.
    summary_csv = _csv_safe_frame(frame)
    errors_csv = _csv_safe_frame(pd.DataFrame(errors, columns=["file", "error"]))
    _atomic_path(out_dir / "summary.csv", lambda p: summary_csv.to_csv(p, index=False, encoding="utf-8-sig"))
    _atomic_path(out_dir / "errors.csv", lambda p: errors_csv.to_csv(p, index=False, encoding="utf-8-sig"))
    _atomic_path(out_dir / "summary.xlsx", lambda p: _write_xlsx(frame, p, guideline))
    if rows:
        _atomic_path(out_dir / "heatmap.png", lambda p: _write_heatmap(rows, p, guideline))


def _write_xlsx(frame: Any, path: Path, guideline: Guideline) -> None:
    import io

    from openpyxl.styles import Font, PatternFill

    # Built in memory and written in one go: a zip that openpyxl fails to finish on a full disk
    # would otherwise fail again, with a traceback, when the garbage collector closes it.
    buffer = io.BytesIO()
    with __import__("pandas").ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name="summary", index=False)
        sheet = writer.sheets["summary"]
        sheet.freeze_panes = "B2"  # header row and file column stay visible
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        clause_columns = {i + 1 for i, name in enumerate(frame.columns) if name in guideline.clauses}
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    # openpyxl makes any string starting with "=" a formula; these are all text.
                    # quotePrefix is how Excel itself marks text typed as 'text, so editing the
                    # cell later does not turn it into a formula either.
                    cell.data_type = "s"
                    cell.quotePrefix = cell.value.startswith(FORMULA_TRIGGERS)
                if cell.row > 1 and cell.column in clause_columns and cell.value in STATUS_FILLS:
                    cell.fill = PatternFill("solid", fgColor=STATUS_FILLS[cell.value])
        notes = writer.book.create_sheet("notes")
        notes["A1"] = PRIORITY_NOTE
    path.write_bytes(buffer.getvalue())


def _write_heatmap(rows: list[dict[str, Any]], path: Path, guideline: Guideline) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    clause_ids = guideline.clause_ids
    # A figure of bounded size whatever the intake: the first HEATMAP_MAX_ROWS applicants (the
    # summary's order); the xlsx and CSV hold every one.
    shown_rows = rows[:HEATMAP_MAX_ROWS]
    hidden = len(rows) - len(shown_rows)
    rows = shown_rows
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
    for label in axes.get_yticklabels():
        label.set_parse_math(False)  # a file named "a$\\frac{$.txt" is a name, not mathtext
    title = "Clause coverage per applicant (green covered, yellow weak, red missing)"
    if hidden:
        title += f"; first {len(rows)} of {len(rows) + hidden}, all in summary.xlsx"
    axes.set_title(title, fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=120, format="png")
    plt.close(figure)


def _cjk_font() -> str | None:
    from matplotlib import font_manager

    for font in font_manager.fontManager.ttflist:
        if any(key in font.name for key in ("Noto Sans CJK", "Noto Serif CJK", "WenQuanYi", "Source Han", "SimHei")):
            return font.name
    return None


LOCK_NAME = ".evidence-nlp.lock"


@contextmanager
def output_lock(out_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on the output folder, or raise OutputFolderError at once if another
    batch holds it: two runs into one folder would mix their reports and summaries. filelock
    takes an flock(2) on OUT/.evidence-nlp.lock, which the kernel releases when the holder dies,
    so a batch killed with kill -9 never leaves a stale lock."""
    from filelock import FileLock, Timeout

    lock_path = out_dir / LOCK_NAME
    lock = FileLock(lock_path, timeout=0)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except Timeout:
        raise OutputFolderError(
            f"{display_path(str(out_dir))}: another batch is writing to this output folder "
            f"(it holds {LOCK_NAME}); wait for it to finish or choose another --out"
        ) from None
    except OSError as exc:
        raise OutputFolderError(
            f"{display_path(str(out_dir))}: cannot lock the output folder ({exc.strerror or exc})"
        ) from None
    try:
        yield
    finally:
        lock.release()


def outcome_error(outcome: Outcome) -> tuple[str, str] | None:
    """(file, reason) for errors.csv; the reason without the file name the message starts with."""
    if outcome.error is None:
        return None
    shown = display_path(str(outcome.item.path))
    prefix = f"{shown}: "
    message = outcome.error
    return shown, message[len(prefix) :] if message.startswith(prefix) else message


__all__ = [
    "BatchItem",
    "Outcome",
    "csv_safe",
    "discover",
    "output_lock",
    "report_file_name",
    "run_batch",
    "summary_rows",
    "write_summary",
]
