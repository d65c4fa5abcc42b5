"""Locate the data files shipped with evidence-nlp (guideline, jieba dictionary, trained models).

The canonical copies live in the repository's corpus/ and models/; a wheel carries them under
evidence_nlp/data/ (see pyproject's force-include), an editable install reads the repository.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent / "data"
_REPOSITORY = Path(__file__).resolve().parents[2]


def _find(folder: str, relative: str) -> Path:
    for root in (_PACKAGE / folder, _REPOSITORY / folder):
        candidate = root / relative
        if candidate.exists():
            return candidate
    return _REPOSITORY / folder / relative


def corpus_path(relative: str) -> Path:
    """A bundled corpus file, e.g. 'guidelines/jiangsu-individual.yaml'."""
    return _find("corpus", relative)


def model_path(relative: str) -> Path:
    """A bundled trained model, e.g. 'matcher-usem3.json'."""
    return _find("models", relative)


def default_guideline_path() -> Path:
    return corpus_path("guidelines/jiangsu-individual.yaml")


def user_dictionary_path() -> Path:
    return corpus_path("jieba_userdict.txt")
