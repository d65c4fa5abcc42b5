"""Interleaved A/B of `evidence-nlp batch` against an earlier checkout, on one intake.

Usage: python benchmarks/ab_batch.py --baseline /tmp/old [--docs 200] [--workers 2] [--rounds 2]

`--baseline` is a checkout of an earlier commit (e.g. `git worktree add /tmp/pre13 4c4bb5c`). Each
round runs the baseline's batch and then the current one (PYTHONPATH set to each checkout's src/),
so a busy machine slows both alike; prints each time, the best of each and their ratio. Asserts
nothing: the machines are noisy.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from intake_benchmark import build_intake  # noqa: E402


def timed_batch(checkout: Path, intake: Path, workers: int) -> float:
    out = tempfile.mkdtemp(prefix="ab-out-")
    env = {**os.environ, "PYTHONPATH": str(checkout / "src")}
    command = [sys.executable, "-m", "evidence_nlp", "batch", str(intake), "--out", out, "--workers", str(workers)]
    start = time.perf_counter()
    try:
        subprocess.run(command, env=env, cwd=checkout, capture_output=True, check=False)
        return time.perf_counter() - start
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, required=True)
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ab-intake-"))
    try:
        intake = work / "intake"
        build_intake(intake, args.docs)
        times: dict[str, list[float]] = {"baseline": [], "current": []}
        for _ in range(args.rounds):
            for name, checkout in (("baseline", args.baseline.resolve()), ("current", ROOT)):
                times[name].append(timed_batch(checkout, intake, args.workers))
                print(f"{name:8} {times[name][-1]:6.1f} s", flush=True)
        best = {name: min(values) for name, values in times.items()}
        print(
            f"best of {args.rounds}: baseline {best['baseline']:.1f} s, current {best['current']:.1f} s, "
            f"current / baseline x{best['current'] / best['baseline']:.3f}"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
