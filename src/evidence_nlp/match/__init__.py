"""The match stage: which clauses each passage gives evidence for.

- `features.py`: the signals per (passage, clause) pair (similarity, keywords, TF-IDF, sections,
  cues, prototypes, supervised scores);
- `scorer.py`: the supervised clause scorer learned from the annotated corpus;
- `decode.py`: reading the document as a whole (own-words headings linked by their ordinal);
- `matcher.py`: the linear model over the features, and the assignment of clauses to passages.

Clause status and comparisons are the coverage stage's (coverage.py); fitting is train.py's.
"""

from .features import FEATURES, ClauseFeatures, TfidfModel
from .matcher import DEFAULT_BIAS, DEFAULT_WEIGHTS, ClauseMatcher, ClauseScore, LinearModel, PassageMatch
from .scorer import ClauseScorer

__all__ = [
    "DEFAULT_BIAS",
    "DEFAULT_WEIGHTS",
    "FEATURES",
    "ClauseFeatures",
    "ClauseMatcher",
    "ClauseScore",
    "ClauseScorer",
    "LinearModel",
    "PassageMatch",
    "TfidfModel",
]
