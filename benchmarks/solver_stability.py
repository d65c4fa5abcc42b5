"""How far last-bit differences in the features move the fitted weights, per solver.

Rounding the features to 4 decimals (as training does) can still flip an entry by 1e-4 when another
CPU's float kernels land on the other side of a rounding boundary. This script flips 1 % of the
entries by ±1e-4 and refits with each solver; a solver whose weights move by more than the stored
precision (1e-4) makes `evidence-nlp train` machine-dependent.

Usage: python benchmarks/solver_stability.py [--gold corpus/annotated]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from evidence_nlp.embed import MemoEncoder
from evidence_nlp.evaluate import load_split
from evidence_nlp.match import LinearModel
from evidence_nlp.pipeline import Analyzer
from evidence_nlp.train import SOLVER, single_threaded, training_pairs

SOLVERS = {
    "lbfgs (default tolerance, the old training)": {"solver": "lbfgs", "max_iter": 5000},
    "newton-cholesky (tol 1e-10, the current training)": SOLVER,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=Path("corpus/annotated"))
    args = parser.parse_args()
    analyzer = Analyzer(model=LinearModel.default())
    analyzer.matcher.encoder = MemoEncoder(analyzer.matcher.encoder)
    with single_threaded():
        features, clause_index, labels, *_ = training_pairs(analyzer, load_split(args.gold, "train"))
    rng = np.random.default_rng(0)
    flipped = features.copy()
    mask = rng.random(features.shape) < 0.01
    flipped[mask] += rng.choice([-1e-4, 1e-4], size=int(mask.sum()))
    one_hot = np.eye(len(analyzer.guideline.clause_ids))[clause_index]
    print(f"{features.shape[0]} training pairs, {int(mask.sum())} feature entries flipped by 1e-4")
    for name, options in SOLVERS.items():
        weights = []
        for design in (features, flipped):
            with single_threaded():
                fitted = LogisticRegression(C=1.0, **options).fit(np.hstack([design, one_hot]), labels)
            weights.append(fitted.coef_[0][: features.shape[1]])
        change = np.abs(weights[0] - weights[1]).max()
        print(f"{name}: first weight {weights[0][0]:.4f}, largest weight change {change:.1e}")


if __name__ == "__main__":
    main()
