"""The pipeline: ingest → segment → embed/match → coverage, over one Document at a time."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .coverage import MISSING, Coverage, CoverageAssessor, StatusModel
from .depth import ClauseDepth, clause_depth, passage_spans
from .embed import Encoder, load_encoder
from .guideline import Guideline, load_guideline
from .ingest import Document, read_document
from .match import ClauseMatcher, LinearModel, PassageMatch
from .resources import model_path
from .segment import Segmentation, Segmenter
from .tokenize import Tokenizer


@dataclass(frozen=True)
class Analysis:
    guideline: Guideline
    document: Document
    segmentation: Segmentation
    matches: tuple[PassageMatch, ...]
    coverage: Coverage
    encoder_name: str
    encoder_dim: int
    matcher_model: str  # trained model file and hash ("matcher-usem3.json@…"), or "default"
    # Wall seconds per stage; kept out of the JSON report so reports stay byte-identical.
    timings: dict[str, float] = field(default_factory=dict, compare=False)
    # (passages x clauses) match probabilities, for evaluation and near-miss display.
    proba: np.ndarray | None = field(default=None, compare=False, repr=False)
    # Evidence depth (method / deployment / result) of every process clause with evidence.
    depth: tuple[ClauseDepth, ...] = ()


def default_model_path(encoder_name: str) -> Path:
    """The trained matcher for an encoder, e.g. models/matcher-usem3.json."""
    return model_path(f"matcher-{encoder_name.replace(':', '_').replace('/', '_')}.json")


class Analyzer:
    """Holds the loaded guideline, encoder and matcher so a batch pays for them once."""

    def __init__(
        self,
        guideline: Guideline | str | Path | None = None,
        encoder: Encoder | str | None = "usem3",
        model: LinearModel | str | Path | None = None,
        segmenter_options: dict | None = None,
        coverage_options: dict | None = None,
    ) -> None:
        self.guideline = guideline if isinstance(guideline, Guideline) else load_guideline(guideline)
        self.encoder = load_encoder(encoder) if isinstance(encoder, str) else encoder
        name = self.encoder.name if self.encoder is not None else "lexical"
        if model is None:
            path = default_model_path(name)
            model = LinearModel.load(path) if path.exists() else LinearModel.default()
        elif not isinstance(model, LinearModel):
            model = LinearModel.load(model)
        self.encoder_name = name
        self.encoder_dim = self.encoder.dim if self.encoder is not None else 0
        self.segmenter = Segmenter(self.guideline, **(segmenter_options or {}))
        self.matcher = ClauseMatcher(self.encoder, Tokenizer(), model).fit(self.guideline)
        self.coverage_options = coverage_options or {}
        self.assessor = self._assessor(model)

    def warm_up(self) -> Analyzer:
        """Load now what loads on first use (jieba's dictionary, the encoder's weights): before
        forking workers, so that they inherit it instead of each loading it again."""
        if self.matcher.tokenizer is not None:
            self.matcher.tokenizer.words("预热")
        load = getattr(self.encoder, "load", None)
        if load is not None:
            load()
        elif self.encoder is not None:
            self.encoder.encode(["预热"])
        return self

    def _assessor(self, model: LinearModel) -> CoverageAssessor:
        # Coverage parameters tuned with the model apply unless the caller overrides them.
        status = StatusModel.from_dict(model.status_model) if model.status_model else None
        return CoverageAssessor(
            **{**model.coverage, "status_model": status, "match_threshold": model.threshold, **self.coverage_options}
        )

    def set_model(self, model: LinearModel) -> None:
        """Swap the matcher's model and its coverage parameters (used when tuning)."""
        self.matcher.model_ = model
        self.assessor = self._assessor(model)

    def analyze_document(self, document: Document) -> Analysis:
        timings = {}
        start = time.perf_counter()
        segmentation = self.segmenter.segment(document)
        timings["segment"] = time.perf_counter() - start
        start = time.perf_counter()
        with self.matcher.encoding_memo():
            # Own-words headings are linked from the content beneath them (match/decode.py).
            segmentation = replace(
                segmentation, passages=self.matcher.link_headings(segmentation.passages, segmentation.headings)
            )
            matches, proba = self.matcher.match(segmentation.passages)
        timings["match"] = time.perf_counter() - start
        start = time.perf_counter()
        coverage = self.assessor.assess(self.guideline, segmentation.passages, matches, proba)
        depth = self.depth(document, segmentation.passages, coverage)
        timings["coverage"] = time.perf_counter() - start
        return Analysis(
            guideline=self.guideline,
            document=document,
            segmentation=segmentation,
            matches=tuple(matches),
            coverage=coverage,
            encoder_name=self.encoder_name,
            encoder_dim=self.encoder_dim,
            matcher_model=self.matcher.model_.source,
            timings=timings,
            proba=proba,
            depth=depth,
        )

    def depth(self, document: Document, passages, coverage: Coverage) -> tuple[ClauseDepth, ...]:
        """Which of 方法 / 展开 / 结果 the evidence of each answered process clause shows (depth.py)."""
        return tuple(
            clause_depth(document.text, passage_spans(c.evidence, passages), c.clause_id, self.guideline)
            for c in coverage.clauses
            if c.status != MISSING and self.guideline.clauses[c.clause_id].kind == "process" and c.evidence
        )

    def reassess(self, analysis: Analysis) -> Analysis:
        """The same analysis under the current model's threshold and coverage parameters, reusing
        its match probabilities: for tuning those parameters, which leave the probabilities alone."""
        assert analysis.proba is not None
        passages = analysis.segmentation.passages
        matches = self.matcher.assign(analysis.proba, passages)
        coverage = self.assessor.assess(self.guideline, passages, matches, analysis.proba)
        return replace(analysis, matches=tuple(matches), coverage=coverage, matcher_model=self.matcher.model_.source)

    def analyze(self, path: str | Path) -> Analysis:
        start = time.perf_counter()
        document = read_document(path)
        ingest_seconds = time.perf_counter() - start
        analysis = self.analyze_document(document)
        analysis.timings["ingest"] = ingest_seconds
        return analysis
