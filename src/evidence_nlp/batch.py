"""Batch pre-screening of an intake folder: one report per file, one summary table for the office.

Every file is analysed in isolation: a bad file becomes a row in errors.csv, never a stopped
batch. Reports are written atomically, so an interrupted run leaves no half-written file, and a
re-run skips files whose report is up to date (same file sha256, tool version, guideline and
encoder).
"""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import json
import os
import re
import signal
import sys
import tempfile
import threading
import urllib.parse
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


# A file this short is not a narrative: one sentence of evidence for one clause is ~30 characters
# (the shortest narratives the tests feed the batch have 44); a real self-evaluation has thousands.
MIN_NARRATIVE_CHARS = 30
# Files an intake folder often holds beside the narratives (the folder's own notes, licences).
NOT_NARRATIVE_NAMES = re.compile(r"^(readme|license|licence|copying|changelog|changes)([._-].*)?$", re.IGNORECASE)
SKIPPED_PREFIX = "skipped: "  # an errors.csv row that is a warning, not an error (exit code 0)


@dataclass(frozen=True)
class BatchItem:
    path: Path  # the input file
    relative: str  # its path under the intake folder, used for the report name
    report_path: Path
    root: Path | None = None  # the intake folder: the file is read only if it lies inside it
    # Carried on the item (not as arguments) so that the worker pool's jobs take them along.
    html_path: Path | None = None  # the reviewer HTML report (batch --html), beside the JSON
    applicant_html_path: Path | None = None  # the applicant HTML report (batch --applicant-html)
    min_chars: int = MIN_NARRATIVE_CHARS  # shorter texts (non-space characters) are skipped


@dataclass(frozen=True)
class Outcome:
    item: BatchItem
    # What the summary needs of the report (report_summary), not the report itself: a batch keeps
    # one outcome per file, and whole reports (passage texts) would grow memory with the intake.
    summary: dict[str, Any] | None
    error: str | None
    skipped: bool = False  # an up-to-date report was reused
    seconds: float = 0.0
    not_narrative: str | None = None  # why the file was skipped as not a narrative (a warning)
    # MinHash fingerprints of the text paragraphs (templating.py), ~20 KB, for copies across the intake.
    fingerprints: Any = None


@dataclass(frozen=True)
class Intake:
    items: list[BatchItem]  # files to analyse
    problems: list[tuple[str, str]]  # (path, reason): entries that cannot be analysed (errors)
    skipped: list[tuple[str, str]]  # (path, reason): files that are clearly not narratives (warnings)


def _matches(relative: str, patterns: Collection[str]) -> bool:
    """A glob against the path under the intake folder; a pattern without "/" also matches the
    file name alone, so --exclude 'draft*' catches drafts in sub-folders too."""
    name = relative.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(relative, p) or ("/" not in p and fnmatch.fnmatchcase(name, p)) for p in patterns)


def discover(input_dir: Path, reports_dir: Path) -> tuple[list[BatchItem], list[tuple[str, str]]]:
    """Supported files under input_dir (recursively, in sorted order) and (path, reason) for
    entries that cannot be analysed. Directory symlinks are not followed, so loops cannot trap us."""
    intake = scan_intake(input_dir, reports_dir)
    return intake.items, intake.problems


def scan_intake(
    input_dir: Path,
    reports_dir: Path,
    include: Collection[str] = (),
    exclude: Collection[str] = (),
    html: bool = False,
    applicant_html: bool = False,
    min_chars: int = MIN_NARRATIVE_CHARS,
) -> Intake:
    """The intake folder's files to analyse, its entries that cannot be (errors) and the files
    skipped as not narratives (README, LICENSE, CHANGELOG …: warnings). Paths in problems and
    skipped are relative to input_dir, as in summary.csv. include/exclude: globs on that relative
    path (a file must match one include, if any are given, and no exclude)."""
    items: list[BatchItem] = []
    problems: list[tuple[str, str]] = []
    skipped: list[tuple[str, str]] = []
    for root, dirs, files in os.walk(input_dir, followlinks=False):
        dirs.sort()
        taken = set(dirs)  # report names in this folder: the sub-folders' and those given so far
        for name in sorted(files):
            path = Path(root) / name
            relative = path.relative_to(input_dir).as_posix()
            if (include and not _matches(relative, include)) or _matches(relative, exclude):
                continue
            if path.is_symlink() and not path.exists():
                problems.append((display_path(relative), "broken or looping symbolic link"))
                continue
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                continue
            if NOT_NARRATIVE_NAMES.match(name):
                skipped.append(
                    (display_path(relative), f"{SKIPPED_PREFIX}a README, LICENSE or CHANGELOG file, not a narrative")
                )
                continue
            report_name = report_file_name(name, relative, taken)
            taken.add(report_name)
            report_path = reports_dir / Path(relative).parent / report_name
            stem = report_path.name.removesuffix(".json")
            items.append(
                BatchItem(
                    path,
                    relative,
                    report_path,
                    input_dir,
                    html_path=report_path.with_name(f"{stem}.reviewer.html") if html else None,
                    applicant_html_path=report_path.with_name(f"{stem}.applicant.html") if applicant_html else None,
                    min_chars=min_chars,
                )
            )
        for name in list(dirs):
            if (Path(root) / name).is_symlink():
                relative = (Path(root) / name).relative_to(input_dir).as_posix()
                problems.append((display_path(relative), "symbolic link to a folder: not followed"))
    return Intake(items, problems, skipped)


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
    encoder and trained matcher, and the HTML reports asked for exist beside it."""
    for page in (item.html_path, item.applicant_html_path):
        if page is not None and not page.is_file():
            return None  # a re-run with --html renders the pages the first run did not write
    from .report import SCHEMA_VERSION

    try:
        report = json.loads(item.report_path.read_text(encoding="utf-8"))
        same = (
            report.get("schema_version") == SCHEMA_VERSION
            and report["tool"]["version"] == __version__
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
        "results": report.get("results", {}).get("items", {}),
        # Process clauses with evidence, and how many of them show all three layers (方法/展开/结果).
        "depth": [
            sum(c.get("depth") is not None for c in report["clauses"]),
            sum(c.get("depth") is not None and not c["depth"]["explanation"] for c in report["clauses"]),
        ],
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
            chars = len("".join(document.text.split()))
            if chars < item.min_chars:
                reason = f"{SKIPPED_PREFIX}{chars} characters of text, too short for a narrative"
                return Outcome(item, None, None, seconds=time.perf_counter() - start, not_narrative=reason)
            analysis = analyzer.analyze_document(document)
            analysis.timings["ingest"] = time.perf_counter() - start
            report = build_report(analysis)
            # The pages first: the JSON is what marks the file up to date (up_to_date).
            if item.html_path is not None:
                from .render import render_reviewer_html

                write_atomic(item.html_path, render_reviewer_html(analysis, report))
            if item.applicant_html_path is not None:
                from .render import render_applicant_html

                write_atomic(item.applicant_html_path, render_applicant_html(analysis, report))
            write_atomic(item.report_path, to_json(report))
            fingerprints = _fingerprints(analyzer, document, analysis.segmentation)
    except EvidenceError as exc:
        return Outcome(item, None, str(exc), seconds=time.perf_counter() - start)
    except OSError as exc:  # the report could not be written (name too long, disk full …)
        return Outcome(item, None, f"{shown}: cannot write report ({exc.strerror or exc})")
    except Exception as exc:  # one broken file must never stop the batch
        return Outcome(item, None, " ".join(f"{shown}: internal error ({type(exc).__name__}: {exc})".split()))
    return Outcome(item, report_summary(report), None, seconds=time.perf_counter() - start, fingerprints=fingerprints)


def _fingerprints(analyzer: Any, document: Any, segmentation: Any = None) -> Any:
    """The paragraph fingerprints of one narrative (templating.paragraph_fingerprints)."""
    from .templating import paragraph_fingerprints

    segmentation = segmentation or analyzer.segmenter.segment(document)
    spans = [(span.start, span.end) for span in segmentation.paragraphs]
    return paragraph_fingerprints(document.text, spans, analyzer.guideline)


def _fingerprints_of_unchanged(analyzer: Any, item: BatchItem) -> Any:
    """Fingerprints for a file whose report is reused: read and segmented again (no matching);
    None when it cannot be read now, which only leaves it out of the copy check."""
    try:
        return _fingerprints(analyzer, read_document(item.path, item.root))
    except (EvidenceError, OSError):
        return None


def shared_paragraphs(outcomes: list[Outcome]) -> tuple[list[Any], list[Any]]:
    """(pairs of applicants sharing near-identical paragraphs, stock paragraphs found in too many
    applicants to be copies), by MinHash LSH over the outcomes in intake order (so the result does
    not depend on which worker finished first). Linear in the intake: no pair of applicants is
    compared unless their paragraphs collide in the LSH index."""
    from .templating import TemplateDetector

    detector = TemplateDetector()
    for outcome in outcomes:
        if outcome.fingerprints is not None and outcome.summary is not None:
            detector.add(display_path(outcome.item.relative), outcome.fingerprints)
    return detector.pairs(), detector.stock()


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
            fingerprints = _fingerprints_of_unchanged(analyzer, item)
            outcomes[index] = Outcome(item, report_summary(report), None, skipped=True, fingerprints=fingerprints)
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
# The office reviews complete applications first: rows go review → check → incomplete, and by
# score (highest first) within a priority; the file name breaks ties so the order is stable.
PRIORITY_ORDER = ("review", "check", "incomplete")
SORT_NOTE = (
    "排序：先按优先级（优先评审 → 需核查 → 材料不全），同一优先级内按预审得分从高到低，"
    "即先评审材料完整的申报。点击文件名打开该申报人的报告。"
)
PRIORITY_NOTE_ZH = (
    "预审得分 = 100 ×（覆盖 + 0.5 × 薄弱）/ 条款数 − 5 × 缺少的比对（7.1–7.3 的以往或标杆比对），最低 0。"
    "优先级：优先评审（≥ 70，材料完整，先评审）、需核查（50–70）、材料不全（< 50，请申报人补充证据）。"
)


def prescreen(report: dict[str, Any]) -> tuple[float, str, int]:
    """(prescreen_score, priority, missing comparisons) as documented in PRIORITY_NOTE."""
    clauses = report["clauses"]
    completeness = 100.0 * sum(STATUS_WEIGHT[c["status"]] for c in clauses) / max(1, len(clauses))
    missing_comparisons = sum((not c["past"]) + (not c["benchmark"]) for c in report["comparisons"].values())
    score = max(0.0, round(completeness - 5 * missing_comparisons, 1))
    priority = "review" if score >= 70 else "check" if score >= 50 else "incomplete"
    return score, priority, missing_comparisons


def priority_sort_key(row: dict[str, Any]) -> tuple[int, float, str]:
    return PRIORITY_ORDER.index(row["priority"]), -row["prescreen_score"], row["file"]


def report_link(item: BatchItem, out_dir: Path) -> str:
    """The applicant's report relative to the output folder (where summary.xlsx lies): the
    reviewer HTML page where batch --html wrote one, else the JSON report."""
    target = item.html_path if item.html_path is not None and item.html_path.is_file() else item.report_path
    return Path(os.path.relpath(target, out_dir)).as_posix()


def summary_rows(
    outcomes: list[Outcome], guideline: Guideline, out_dir: Path | None = None, pairs: list[Any] | None = None
) -> list[dict[str, Any]]:
    """One row per analysed file, sorted for the office (priority_sort_key). With out_dir, each
    row also names its report (the `report` column, relative to out_dir); with pairs
    (shared_paragraphs), how many of its paragraphs recur in other applicants' narratives."""
    copied = copy_columns(pairs) if pairs is not None else None
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
        if out_dir is not None:
            row["report"] = display_path(report_link(outcome.item, out_dir))
        if copied is not None:
            row.update(copied.get(row["file"], {"shared_paragraphs": 0, "shared_with": ""}))
        answered, deep = report.get("depth", [0, 0])
        row["full_depth"] = round(deep / answered, 3) if answered else 0.0
        results = report.get("results", {})
        row["measures"] = sum(item["measures"] for item in results.values())
        row["measures_with_trend"] = sum(item["with_trend"] for item in results.values())
        row["measures_with_benchmark"] = sum(item["with_benchmark"] for item in results.values())
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
    rows.sort(key=priority_sort_key)
    return rows


def copy_columns(pairs: list[Any]) -> dict[str, dict[str, Any]]:
    """Per applicant: paragraphs shared with other applicants (summed over pairs) and the
    applicant it shares most with (duplicates.csv lists every shared paragraph)."""
    shared: dict[str, int] = {}
    best: dict[str, str] = {}
    for pair in pairs:  # most shared paragraphs first (TemplateDetector.pairs)
        for mine, other in ((pair.applicant_a, pair.applicant_b), (pair.applicant_b, pair.applicant_a)):
            shared[mine] = shared.get(mine, 0) + pair.shared
            best.setdefault(mine, other)
    return {name: {"shared_paragraphs": count, "shared_with": best[name]} for name, count in shared.items()}


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
STATUS_LABELS_ZH = {COVERED: "覆盖", WEAK: "薄弱", MISSING: "缺失"}
PRIORITY_LABELS_ZH = {"review": "优先评审", "check": "需核查", "incomplete": "材料不全"}
PRIORITY_FILLS = {"review": "C6EFCE", "check": "FFEB9C", "incomplete": "FFC7CE"}
COMPARISON_LABELS_ZH = {"past": "与以往比对", "benchmark": "与标杆比对", "trend": "趋势"}
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


DEFAULT_COLUMNS = ["file", "chars", "encoder", "covered", "weak", "missing", "priority"]


def write_summary(
    rows: list[dict[str, Any]],
    errors: list[tuple[str, str]],
    out_dir: Path,
    guideline: Guideline,
    warnings: list[tuple[str, str]] | None = None,
) -> None:
    """summary.csv (machine column names), summary.xlsx (for the office), errors.csv (errors, then
    the files skipped as not narratives, whose reason starts with SKIPPED_PREFIX), heatmap.png."""
    import pandas as pd

    columns = list(rows[0]) if rows else DEFAULT_COLUMNS
    frame = pd.DataFrame(rows, columns=columns)
    # File names, error messages and guideline titles come from outside: no cell may be a formula.
    summary_csv = _csv_safe_frame(frame)
    errors_csv = _csv_safe_frame(pd.DataFrame(list(errors) + list(warnings or ()), columns=["file", "error"]))
    _atomic_path(out_dir / "summary.csv", lambda p: summary_csv.to_csv(p, index=False, encoding="utf-8-sig"))
    _atomic_path(out_dir / "errors.csv", lambda p: errors_csv.to_csv(p, index=False, encoding="utf-8-sig"))
    _atomic_path(out_dir / "summary.xlsx", lambda p: _write_xlsx(rows, columns, p, guideline))
    if rows:
        _atomic_path(out_dir / "heatmap.png", lambda p: _write_heatmap(rows, p, guideline))


def column_legend(name: str, guideline: Guideline) -> tuple[str, str]:
    """(Chinese header, meaning) of a summary column, for summary.xlsx and its 字段说明 sheet."""
    fixed = {
        "file": ("文件", "申报材料在受理文件夹中的路径；点击打开该申报人的报告"),
        "report": ("报告", "该申报人的报告（batch --html 时为 HTML 评审报告，否则为 JSON），相对本表所在文件夹"),
        "chars": ("字数", "正文字符数"),
        "encoding": ("文字编码", "文件的文字编码"),
        "encoder": ("句向量模型", "分析所用的句向量模型"),
        "covered": ("覆盖条款数", "判为覆盖的条款个数"),
        "weak": ("薄弱条款数", "判为证据薄弱的条款个数"),
        "missing": ("缺失条款数", "未找到证据的条款个数"),
        "missing_comparisons": ("缺少的比对", "7.1–7.3 缺少的以往比对或标杆比对个数"),
        "prescreen_score": ("预审得分", PRIORITY_NOTE_ZH),
        "shared_paragraphs": (
            "疑似雷同段落",
            "与其他申报人的材料几乎相同的段落数（MinHash 比对，指南原文和常见套话不计）；详见 duplicates.csv",
        ),
        "shared_with": ("雷同最多的申报人", "与本材料雷同段落最多的另一份申报材料"),
        "full_depth": (
            "三层齐全比例",
            "有证据的过程条款中，证据同时写出采用方法、工作展开和实施结果的比例",
        ),
        "measures": ("成果指标数", "7.1–7.3 中带数值的成果指标个数（成果数据表）"),
        "measures_with_trend": ("有趋势的指标数", "有三个及以上时间点的成果指标个数"),
        "measures_with_benchmark": ("有标杆的指标数", "与行业、同行或评价机构等外部参照比对的成果指标个数"),
        "priority": ("优先级", PRIORITY_NOTE_ZH + SORT_NOTE),
    }
    if name in fixed:
        return fixed[name]
    if name in guideline.clauses:
        return name, f"条款 {name}：{guideline.clauses[name].text}（覆盖 / 薄弱 / 缺失）"
    for category in guideline.categories:
        if name == f"coverage_{category.id}_{category.title}":
            return f"{category.id} {category.title} 覆盖率", f"第 {category.id} 类条款的覆盖率：覆盖计 1，薄弱计 0.5"
    for item_id in guideline.items:
        for kind, label in COMPARISON_LABELS_ZH.items():
            if name == f"{item_id}_{kind}":
                return f"{item_id} {label}", f"{item_id} {guideline.items[item_id].title}的结果是否有{label}（是 / 否）"
    return name, ""


def _text_width(value: Any) -> int:
    """Columns a value takes in a spreadsheet cell: a Chinese character is about two."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in str(value))


def _as_text(cell: Any) -> None:
    # openpyxl makes any string starting with "=" a formula; these are all text. quotePrefix is how
    # Excel itself marks text typed as 'text, so editing the cell later does not make it a formula.
    if isinstance(cell.value, str):
        cell.data_type = "s"
        cell.quotePrefix = cell.value.startswith(FORMULA_TRIGGERS)


def _write_xlsx(rows: list[dict[str, Any]], columns: list[str], path: Path, guideline: Guideline) -> None:
    import io

    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "summary"
    legend = [column_legend(name, guideline) for name in columns]
    sheet.append([header for header, _ in legend])
    for row in rows:
        values = []
        for name in columns:
            value = row.get(name)
            if isinstance(value, bool):
                value = "是" if value else "否"
            elif name == "priority":
                value = PRIORITY_LABELS_ZH.get(value, value)
            elif name in guideline.clauses:
                value = STATUS_LABELS_ZH.get(value, value)
            values.append(value)
        sheet.append(values)
    fills = {STATUS_LABELS_ZH[k]: v for k, v in STATUS_FILLS.items()}
    priority_fills = {PRIORITY_LABELS_ZH[k]: v for k, v in PRIORITY_FILLS.items()}
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for index, name in enumerate(columns, start=1):
        letter = get_column_letter(index)
        column_cells = sheet[letter][1:]
        for cell in column_cells:
            if name.startswith("coverage_") or name == "full_depth":
                cell.number_format = "0%"  # 0.333 shows as 33%, and sorts as a number
            elif name == "prescreen_score":
                cell.number_format = "0.0"
            elif name == "priority" and cell.value in priority_fills:
                cell.fill = PatternFill("solid", fgColor=priority_fills[cell.value])
            elif name in guideline.clauses and cell.value in fills:
                cell.fill = PatternFill("solid", fgColor=fills[cell.value])
        if name in guideline.clauses:
            width = 6
        else:
            longest = max([_text_width(c.value) for c in column_cells] or [0])
            width = min(50, max(8, longest + 2, min(_text_width(legend[index - 1][0]) + 2, 16)))
        sheet.column_dimensions[letter].width = width
    # Each file name (and the report column) opens that applicant's report, relative to this sheet.
    link_columns = [columns.index(n) + 1 for n in ("file", "report") if n in columns]
    if "report" in columns:
        for number, row in enumerate(rows, start=2):
            target = urllib.parse.quote(row["report"], safe="/")
            for column in link_columns:
                cell = sheet.cell(row=number, column=column)
                cell.hyperlink = target
                cell.style = "Hyperlink"
    if "priority" in columns:
        sheet.cell(row=1, column=columns.index("priority") + 1).comment = Comment(SORT_NOTE, "evidence-nlp")
    sheet.freeze_panes = "B2"  # header row and file column stay visible
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(1, len(rows) + 1)}"
    sheet.row_dimensions[1].height = 45

    fields = workbook.create_sheet("字段说明")
    fields.append(["表头", "summary.csv 字段名", "说明"])
    for name, (header, meaning) in zip(columns, legend, strict=True):
        fields.append([header, name, meaning])
    for cell in fields[1]:
        cell.font = Font(bold=True)
    for letter, width in (("A", 24), ("B", 28), ("C", 90)):
        fields.column_dimensions[letter].width = width
    fields.freeze_panes = "A2"

    notes = workbook.create_sheet("notes")
    notes["A1"] = SORT_NOTE
    notes["A2"] = PRIORITY_NOTE_ZH
    notes["A3"] = PRIORITY_NOTE
    for sheet_ in workbook.worksheets:
        for sheet_row in sheet_.iter_rows():
            for cell in sheet_row:
                _as_text(cell)
    # Built in memory and written in one go: a zip that openpyxl fails to finish on a full disk
    # would otherwise fail again, with a traceback, when the garbage collector closes it.
    buffer = io.BytesIO()
    workbook.save(buffer)
    path.write_bytes(buffer.getvalue())


def _write_heatmap(rows: list[dict[str, Any]], path: Path, guideline: Guideline) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    clause_ids = guideline.clause_ids
    # Sorted as the summary (priority, then score): the office's first applicants come first.
    # A figure of bounded size whatever the intake: the first HEATMAP_MAX_ROWS of that order; the
    # xlsx and CSV hold every one.
    ordered = sorted(rows, key=priority_sort_key) if "prescreen_score" in rows[0] else rows
    shown_rows = ordered[:HEATMAP_MAX_ROWS]
    hidden = len(rows) - len(shown_rows)
    rows = shown_rows
    values = [[STATUS_WEIGHT[row[c]] for c in clause_ids] for row in rows]
    cjk = _cjk_font()
    fonts = [cjk, "DejaVu Sans"] if cjk else ["DejaVu Sans"]
    with plt.rc_context({"font.sans-serif": fonts, "font.family": "sans-serif"}):
        height = max(2.5, 0.28 * len(rows) + 1.8)
        figure, axes = plt.subplots(figsize=(max(8, 0.3 * len(clause_ids) + 4.5), height))
        colours = ListedColormap(["#f4a6a6", "#ffe08a", "#8fd19e"])
        axes.imshow(values, aspect="auto", cmap=colours, vmin=0, vmax=1, interpolation="nearest")
        axes.set_xticks(range(len(clause_ids)), clause_ids, rotation=90, fontsize=7)
        labels = [row["file"] for row in rows]
        if not cjk:  # no font can draw Chinese names here: number them (the CSV has the names)
            labels = [name if name.isascii() else f"#{i + 1}" for i, name in enumerate(labels)]
        axes.set_yticks(range(len(rows)), labels, fontsize=7)
        # Category separators: a line between the clauses of two categories, the category on top.
        category_of = [guideline.clauses[c].category_id for c in clause_ids]
        starts = [i for i in range(len(clause_ids)) if i == 0 or category_of[i] != category_of[i - 1]]
        for start in starts[1:]:
            axes.axvline(start - 0.5, color="#333333", linewidth=1.2)
        top = axes.secondary_xaxis("top")
        ends = [*starts[1:], len(clause_ids)]
        top.set_xticks([(s + e - 1) / 2 for s, e in zip(starts, ends, strict=True)], [category_of[s] for s in starts])
        top.tick_params(length=0, labelsize=8)
        # Priority separators between review / check / incomplete.
        for index in range(1, len(rows)):
            if "priority" in rows[index] and rows[index]["priority"] != rows[index - 1]["priority"]:
                axes.axhline(index - 0.5, color="#333333", linewidth=1.2)
        # The score column, on the right.
        if "prescreen_score" in rows[0]:
            right = axes.twinx()
            right.set_ylim(axes.get_ylim())
            names = PRIORITY_LABELS_ZH if cjk else {p: p for p in PRIORITY_ORDER}
            scores = [f"{row['prescreen_score']:.1f} {names.get(row['priority'], '')}" for row in rows]
            right.set_yticks(range(len(rows)), scores, fontsize=7)
            right.tick_params(length=0)
            right.set_ylabel("预审得分" if cjk else "prescreen score", fontsize=8)
        for label in axes.get_yticklabels():
            label.set_parse_math(False)  # a file named "a$\\frac{$.txt" is a name, not mathtext
        if cjk:
            title = "各申报人条款覆盖情况（绿 覆盖，黄 薄弱，红 缺失；按优先级和预审得分排序）"
            if hidden:
                title += f"；仅列前 {len(rows)} 位，共 {len(rows) + hidden} 位，全部见 summary.xlsx"
        else:
            title = "Clause coverage per applicant (green covered, yellow weak, red missing; by priority, score)"
            if hidden:
                title += f"; first {len(rows)} of {len(rows) + hidden}, all in summary.xlsx"
        axes.set_title(title, fontsize=9)
        figure.tight_layout()
        figure.savefig(path, dpi=120, format="png")
        plt.close(figure)


def _cjk_font() -> str | None:
    """A font that can draw Chinese (e.g. Debian's fonts-noto-cjk), or None."""
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
    """(file, reason) for errors.csv: the file as summary.csv names it (relative to the intake
    folder), the reason without the file name the message starts with."""
    if outcome.error is None:
        return None
    shown = display_path(str(outcome.item.path))
    prefix = f"{shown}: "
    message = outcome.error
    return display_path(outcome.item.relative), message[len(prefix) :] if message.startswith(prefix) else message


def outcome_warning(outcome: Outcome) -> tuple[str, str] | None:
    """(file, reason) for a file skipped as not a narrative: a warning row in errors.csv."""
    if outcome.not_narrative is None:
        return None
    return display_path(outcome.item.relative), outcome.not_narrative


__all__ = [
    "BatchItem",
    "Intake",
    "Outcome",
    "csv_safe",
    "discover",
    "outcome_error",
    "outcome_warning",
    "output_lock",
    "report_file_name",
    "run_batch",
    "scan_intake",
    "summary_rows",
    "write_summary",
]
