"""`evidence-nlp feedback import | stats`: reviewer-page exports into gold files, and their statistics
(docs/feedback.md). A typer sub-app; cli.py mounts it with `app.add_typer(feedback_app, name="feedback")`."""

from __future__ import annotations

from pathlib import Path

import typer

from .cli_help import _Command, _Group
from .errors import EvidenceError

feedback_app = typer.Typer(
    cls=_Group,
    no_args_is_help=True,
    add_completion=False,
    help="Reviewer feedback: import the reviewer page's exports as gold files, and their statistics.",
)

GUIDELINE_OPTION = typer.Option(
    None, "--guideline", "-g", help="Guideline file (YAML/JSON); default: the bundled Jiangsu individual guide."
)


def _fail(message: str) -> None:
    typer.echo(f"error: {' '.join(message.split())}", err=True)


def _guideline_or_exit(guideline: Path | None):
    from .guideline import load_guideline

    try:
        return load_guideline(guideline)
    except EvidenceError as exc:
        _fail(str(exc))
        raise typer.Exit(2) from None


@feedback_app.command("import", cls=_Command)
def import_command(
    files: list[Path] = typer.Argument(..., help="Exports downloaded from reviewer pages (导出复核结果)."),
    into: Path = typer.Option(Path("corpus/feedback"), "--into", help="The feedback folder the gold files go to."),
    narrative: list[Path] = typer.Option(
        [],
        "--narrative",
        "-n",
        help="Narrative files, or folders of them, to find each export's document in by SHA-256"
        " (default: the export's own folder).",
    ),
    guideline: Path | None = GUIDELINE_OPTION,
) -> None:
    """Check each export against its narrative (SHA-256, passage offsets) and write its gold file."""
    from .feedback import import_export

    loaded = _guideline_or_exit(guideline)
    failed = 0
    for file in files:
        try:
            result = import_export(file, into, loaded, narrative)
        except EvidenceError as exc:
            _fail(str(exc))
            failed += 1
            continue
        except OSError as exc:
            _fail(f"{file}: cannot write into {into} ({exc.strerror or exc})")
            failed += 1
            continue
        typer.echo(result.line())
    if failed:
        raise typer.Exit(1)


@feedback_app.command("stats", cls=_Command)
def stats_command(
    folder: Path = typer.Argument(Path("corpus/feedback"), help="The feedback folder."),
    guideline: Path | None = GUIDELINE_OPTION,
) -> None:
    """How often reviewers changed each clause's status, the most-corrected clauses, agreement between reviewers."""
    from .feedback import feedback_statistics, format_feedback_statistics

    loaded = _guideline_or_exit(guideline)
    try:
        stats = feedback_statistics(folder, loaded)
    except EvidenceError as exc:
        _fail(str(exc))
        raise typer.Exit(2) from None
    typer.echo(format_feedback_statistics(stats), nl=False)


@feedback_app.command("check", cls=_Command)
def check_command(
    folder: Path = typer.Argument(Path("corpus/feedback"), help="The feedback folder."),
    guideline: Path | None = GUIDELINE_OPTION,
) -> None:
    """The corpus checks (as `corpus check --gold FOLDER`) over a feedback folder."""
    from .feedback import check_feedback_folder

    loaded = _guideline_or_exit(guideline)
    try:
        problems = check_feedback_folder(folder, loaded)
    except EvidenceError as exc:
        _fail(str(exc))
        raise typer.Exit(2) from None
    for problem in problems:
        typer.echo(problem, err=True)
    if problems:
        typer.echo(f"{len(problems)} problems", err=True)
        raise typer.Exit(1)
    typer.echo(f"{folder}: feedback gold consistent")
