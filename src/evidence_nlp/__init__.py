"""evidence-nlp: clause-by-clause evidence analysis of Chinese quality-award self-evaluations."""

__version__ = "0.1.0"
