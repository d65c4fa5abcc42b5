"""Coverage: rate every clause covered / weak / missing and check results comparisons.

covered = at least one confidently matched passage with specific evidence (figures, counts,
named methods or projects); weak = only generic claims or low-confidence passing mentions;
missing = no passage. Results items with a comparison clause (7.1–7.3) are checked for
comparison with the applicant's own past, with external benchmarks, and for a trend (one
measure at three or more time points, the usual minimum for a trend in excellence scoring).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from . import cues
from .guideline import Guideline
from .match import PassageMatch
from .measures import Measure, MeasureAssessment, assess_measure, extract_measures
from .segment import Passage

COVERED, WEAK, MISSING = "covered", "weak", "missing"
HIGH, MEDIUM, LOW = "high", "medium", "low"


def comparison_status(past: bool, benchmark: bool) -> str:
    """7.1c/7.2c/7.3c follow the item's comparisons (docs/annotation-guide.md §4): compared with the
    past and with a benchmark → covered, with one of the two → weak, with neither → missing."""
    return (MISSING, WEAK, COVERED)[bool(past) + bool(benchmark)]


@dataclass(frozen=True)
class ClauseCoverage:
    clause_id: str
    status: str
    score: float  # best evidence probability, 0 when missing
    evidence: tuple[str, ...]  # passage ids, best first
    near_misses: tuple[str, ...] = ()  # passages just under the match threshold, best first
    # How sure the status is: "high", "medium" or "low" (see CoverageAssessor.confidence).
    confidence: str = "medium"
    # Weak only because a passage came close (a near-miss above the floor): "可能已涉及，请核对".
    possible: bool = False


@dataclass(frozen=True)
class Comparison:
    item_id: str
    past: bool
    benchmark: bool
    trend: bool
    past_evidence: tuple[str, ...]
    benchmark_evidence: tuple[str, ...]
    trend_evidence: tuple[str, ...]


@dataclass(frozen=True)
class Flag:
    code: str
    clause: str | None
    message: str


@dataclass(frozen=True)
class Coverage:
    clauses: tuple[ClauseCoverage, ...]
    comparisons: dict[str, Comparison] = field(default_factory=dict)
    flags: tuple[Flag, ...] = ()
    # The results-data table (LeTCI) the comparisons are read from, in document order per item.
    results: tuple[ResultRow, ...] = ()


@dataclass(frozen=True)
class ResultRow:
    """One row of the results-data table of a results item (7.1–7.3): a measure reported with
    values in one of the item's passages (offsets into the document), or, where the comparison
    cues (cues.py) find a comparison whose figures the extractor did not parse, the passage as a
    comparison statement (measure None). An item's past / benchmark / trend are the OR of its rows,
    so the table and the flags cannot disagree."""

    item_id: str
    passage_id: str
    measure: Measure | None
    assessment: MeasureAssessment | None
    past: bool
    benchmark: bool
    trend: bool


def _shifted(measure: Measure, offset: int) -> Measure:
    """A measure found in a passage's text, with its offsets moved into the document's."""
    return replace(
        measure,
        name_start=measure.name_start + offset,
        name_end=measure.name_end + offset,
        paragraph_start=measure.paragraph_start + offset,
        paragraph_end=measure.paragraph_end + offset,
        points=tuple(replace(p, start=p.start + offset, end=p.end + offset) for p in measure.points),
        references=tuple(replace(r, start=r.start + offset, end=r.end + offset) for r in measure.references),
    )


_RELATIVE_TIME = re.compile(r"之前|之后|以前|以后|[—–~～至-]")


def result_rows(item_id: str, passage: Passage, directions: dict[str, str]) -> list[ResultRow]:
    """The table rows one passage gives a results item: its measures, plus a statement row for a
    comparison the cues see and no parsed measure carries."""
    rows = []
    for found in extract_measures(passage.text, [(0, len(passage.text))], directions):
        assessment = assess_measure(found)
        # A past comparison is one measure at two named times (由2020年的…到2024年的…, 之前/之后);
        # two undated figures are often two different counts (专利4项……近三年6项).
        dated = len({point.time for point in found.points if point.time}) >= 2
        # A trend is one measure at three distinct points in time: before/after markers and ranges
        # (2021—2024年) are not points, and a figure restated is one point (cues.shows_trend).
        times = {point.time for point in found.points if point.time and not _RELATIVE_TIME.search(point.time)}
        rows.append(
            ResultRow(
                item_id,
                passage.id,
                _shifted(found, passage.start),
                assessment,
                assessment.past and dated,
                assessment.benchmark,
                assessment.has_trend and len(times) >= 3,
            )
        )
    trend = cues.shows_trend(passage.text)
    past = trend or cues.mentions_past_comparison(passage.text)
    benchmark = cues.mentions_benchmark(passage.text)
    unparsed = {
        "past": past and not any(r.past for r in rows),
        "benchmark": benchmark and not any(r.benchmark for r in rows),
        "trend": trend and not any(r.trend for r in rows),
    }
    if any(unparsed.values()):
        rows.append(ResultRow(item_id, passage.id, None, None, **unparsed))
    return rows


STATUS_FEATURES = (
    "best_score",  # best probability of any passage for the clause (assigned or not)
    "second_score",  # second-best passage probability
    "passages_over_0.5",  # log(1 + passages with probability >= 0.5)
    "passages_over_0.3",  # ... >= 0.3
    "passages_over_0.2",  # ... >= 0.2: passing mentions
    "score_sum",  # sum of all passages' probabilities, capped at 3
    "best_specific_score",  # max over passages of probability x specificity (cues.specificity)
    "best_passage_specificity",  # specificity of the best passage
    "specific_over_0.3",  # most specific passage with probability >= 0.3
    "document_coverage",  # share of the document's clauses with a passage >= 0.5 (thin applications)
    "heading",  # 1 under a heading linked to the clause's item, 0.5 to its category, else 0
    "document_length",  # log(characters / 1000)
)


@dataclass(frozen=True)
class StatusModel:
    """Multinomial logistic model from STATUS_FEATURES plus one indicator per clause (clauses
    differ in how often applicants answer them thinly) to covered / weak / missing. A clause is
    covered when P(covered) >= covered_min_probability, else the likelier of weak and missing."""

    classes: tuple[str, ...]
    coef: tuple[tuple[float, ...], ...]
    intercept: tuple[float, ...]
    clause_ids: tuple[str, ...] = ()
    covered_min_probability: float = 0.5

    @classmethod
    def from_dict(cls, data: dict) -> StatusModel:
        if list(data["features"]) != list(STATUS_FEATURES):
            raise ValueError(f"status model features {data['features']} do not match {list(STATUS_FEATURES)}")
        return cls(
            tuple(data["classes"]),
            tuple(tuple(r) for r in data["coef"]),
            tuple(data["intercept"]),
            tuple(data.get("clause_ids") or ()),
            float(data.get("covered_min_probability", 0.5)),
        )

    def to_dict(self) -> dict:
        return {
            "features": list(STATUS_FEATURES),
            "clause_ids": list(self.clause_ids),
            "classes": list(self.classes),
            "coef": [list(r) for r in self.coef],
            "intercept": list(self.intercept),
            "covered_min_probability": self.covered_min_probability,
        }

    def design(self, features: np.ndarray, clause_ids: Sequence[str]) -> np.ndarray:
        """Features and the clause indicators, one row per clause."""
        indicators = np.asarray([[cid == known for known in self.clause_ids] for cid in clause_ids], dtype=np.float64)
        return np.hstack([features, indicators.reshape(len(clause_ids), len(self.clause_ids))])

    def predict_proba(self, features: np.ndarray, clause_ids: Sequence[str]) -> np.ndarray:
        logits = self.design(features, clause_ids) @ np.asarray(self.coef).T + np.asarray(self.intercept)
        logits -= logits.max(axis=1, keepdims=True)
        weights = np.exp(logits)
        return weights / weights.sum(axis=1, keepdims=True)

    def predict(self, features: np.ndarray, clause_ids: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """Statuses and the probability of each chosen status."""
        proba = self.predict_proba(features, clause_ids)
        covered = self.classes.index(COVERED)
        statuses, sure = [], []
        for row in proba:
            if row[covered] >= self.covered_min_probability:
                index = covered
            else:
                others = row.copy()
                others[covered] = -1.0
                index = int(others.argmax())
            statuses.append(self.classes[index])
            sure.append(float(row[index]))
        return statuses, np.asarray(sure)


def status_features(guideline: Guideline, passages: Sequence[Passage], proba: np.ndarray) -> np.ndarray:
    """(n_clauses, len(STATUS_FEATURES)) clause-level features: the clause's evidence over the
    whole document, whatever the match threshold assigned."""
    text = [i for i, p in enumerate(passages) if p.kind == "text"]
    n_clauses = len(guideline.clause_ids)
    scores = np.asarray(proba, dtype=np.float64)[text] if text else np.zeros((1, n_clauses))
    specificity = np.asarray([cues.specificity(passages[i].text) for i in text] or [0.0])
    sections = {passages[i].section for i in text if passages[i].section}
    categories = {s.split(".")[0] for s in sections}
    ordered = np.sort(scores, axis=0)
    best = ordered[-1]
    second = ordered[-2] if len(scores) > 1 else np.zeros(n_clauses)
    share = float((best >= 0.5).mean())
    length = float(np.log(max(1, passages[-1].end if passages else 1) / 1000.0))
    rows = []
    for column, cid in enumerate(guideline.clause_ids):
        clause = guideline.clauses[cid]
        values = scores[:, column]
        rows.append(
            [
                best[column],
                second[column],
                np.log1p((values >= 0.5).sum()),
                np.log1p((values >= 0.3).sum()),
                np.log1p((values >= 0.2).sum()),
                min(3.0, float(values.sum())),
                float((values * specificity).max()),
                float(specificity[int(values.argmax())]),
                float(((values >= 0.3) * specificity).max()),
                share,
                1.0 if clause.item_id in sections else 0.5 if clause.category_id in categories else 0.0,
                length,
            ]
        )
    return np.asarray(rows, dtype=np.float64).round(4)


class CoverageAssessor:
    """Parameters: covered_min_score, the probability a passage needs to count as solid evidence;
    covered_min_specificity, how concrete it must be (cues.specificity); near_miss_min_score,
    the floor for listing near-misses for reviewers; possible_min_score, the floor above which a
    clause with no matched passage is never "missing" but weak and "possible" (可能已涉及，请核对):
    telling an applicant to write what they already wrote costs more than a reviewer's glance;
    status_model, a trained StatusModel that replaces the two thresholds when given;
    match_threshold, the matcher's assignment threshold (the confidence margins are measured
    from it)."""

    def __init__(
        self,
        covered_min_score: float = 0.6,
        covered_min_specificity: float = 0.34,
        near_miss_min_score: float = 0.2,
        max_near_misses: int = 3,
        possible_min_score: float = 0.3,
        status_model: StatusModel | None = None,
        match_threshold: float = 0.5,
    ) -> None:
        self.covered_min_score = covered_min_score
        self.covered_min_specificity = covered_min_specificity
        self.near_miss_min_score = near_miss_min_score
        self.max_near_misses = max_near_misses
        self.possible_min_score = possible_min_score
        self.status_model = status_model
        self.match_threshold = match_threshold

    def confidence(self, status: str, best: float) -> str:
        """How far the clause's best passage probability lies from the boundary its status
        depends on: the match threshold for covered/weak, the "possible" floor for missing.
        A margin of 0.25 or more is high, 0.1 or more medium, less is low (docs/evaluation.md
        gives each band's measured accuracy)."""
        boundary = self.match_threshold if status != MISSING else self.possible_min_score
        margin = abs(best - boundary)
        return HIGH if margin >= 0.25 else MEDIUM if margin >= 0.1 else LOW

    def assess(
        self,
        guideline: Guideline,
        passages: Sequence[Passage],
        matches: Sequence[PassageMatch],
        proba: np.ndarray,
    ) -> Coverage:
        by_id = {p.id: p for p in passages}
        evidence: dict[str, list[tuple[float, str]]] = {cid: [] for cid in guideline.clause_ids}
        for match in matches:
            for clause in match.clauses:
                evidence[clause.clause_id].append((clause.score, match.passage_id))
        comparisons, table = self._comparisons(guideline, passages, evidence)
        learned, sure = (
            self.status_model.predict(status_features(guideline, passages, proba), guideline.clause_ids)
            if self.status_model is not None
            else (None, None)
        )
        results: list[ClauseCoverage] = []
        for column, cid in enumerate(guideline.clause_ids):
            found = sorted(evidence[cid], key=lambda pair: (-pair[0], _order(pair[1])))
            ids = tuple(pid for _, pid in found)
            scores = proba[:, column] if len(passages) else np.zeros(0)
            near = self._near_misses(scores, passages, set(ids))
            best = float(scores.max()) if len(scores) else 0.0
            clause = guideline.clauses[cid]
            possible = False
            confidence = None
            if clause.is_comparison:
                # The comparison clause is answered by the item's comparisons, wherever they sit,
                # and rated as the annotation guide rates it (comparison_status).
                comparison = comparisons[clause.item_id]
                compared = tuple(dict.fromkeys(comparison.past_evidence + comparison.benchmark_evidence))
                status = comparison_status(comparison.past, comparison.benchmark)
                # The comparison cues are precise (docs/evaluation.md): a found comparison is sure, an
                # absent one may sit under another item's heading.
                confidence = HIGH if status == COVERED else MEDIUM
                if compared:
                    ids = tuple(dict.fromkeys(ids + compared))
                    near = tuple(pid for pid in near if pid not in ids)
                    found = found or [(float(proba[_order(compared[0]) - 1, column]), compared[0])]
                else:
                    # Passages matched to the clause without a comparison in them are candidates
                    # for the reviewer, not evidence.
                    near = tuple(dict.fromkeys(ids + near))[: self.max_near_misses]
                    ids, found = (), []
            elif learned is not None:
                status = learned[column]
                # The status model's probability of its own answer (docs/evaluation.md gives each
                # band's measured accuracy).
                confidence = HIGH if sure[column] >= 0.8 else MEDIUM if sure[column] >= 0.6 else LOW
                if found and status == MISSING:
                    status = WEAK  # a matched passage is at least a passing mention
                elif not found and status != MISSING:
                    # The document's evidence says answered, though no passage reached the match
                    # threshold: the closest passage is the evidence to show.
                    if near:
                        ids, near = near[:1], near[1:]
                        found = [(float(proba[_order(ids[0]) - 1, column]), ids[0])]
                    else:
                        status = MISSING
            elif not found:
                status = MISSING
            elif any(
                score >= self.covered_min_score and cues.specificity(by_id[pid].text) >= self.covered_min_specificity
                for score, pid in found
            ):
                status = COVERED
            else:
                status = WEAK
            if status == MISSING and not clause.is_comparison and near and best >= self.possible_min_score:
                # A near-miss above the floor: the applicant may have answered the clause in words the
                # matcher does not know. Weak, marked "possible", with the passage for a check.
                status, possible, ids, near = WEAK, True, near[:1], near[1:]
                found = [(best, ids[0])]
            confidence = LOW if possible else confidence or self.confidence(status, best)
            results.append(
                ClauseCoverage(cid, status, round(found[0][0], 4) if found else 0.0, ids, near, confidence, possible)
            )
        return Coverage(tuple(results), comparisons, tuple(self._flags(guideline, results, comparisons)), table)

    def _near_misses(self, column: np.ndarray, passages: Sequence[Passage], assigned: set[str]) -> tuple[str, ...]:
        order = np.argsort(-column, kind="stable")
        near = [
            passages[i].id for i in order if column[i] >= self.near_miss_min_score and passages[i].id not in assigned
        ]
        return tuple(near[: self.max_near_misses])

    @staticmethod
    def _comparisons(
        guideline: Guideline, passages: Sequence[Passage], evidence: dict[str, list[tuple[float, str]]]
    ) -> tuple[dict[str, Comparison], tuple[ResultRow, ...]]:
        comparisons = {}
        table: list[ResultRow] = []
        extracted: dict[str, list[ResultRow]] = {}
        results_items = {item.id for item in guideline.comparison_items()}
        for item in guideline.comparison_items():
            # Everything under the item's own heading, plus passages the matcher tied to the item
            # that do not sit under another results item's heading (the heading is the stronger cue).
            ids = {pid for cid in item.clause_ids for _, pid in evidence[cid]}
            candidates = [
                p
                for p in passages
                if p.kind == "text" and (p.section == item.id or (p.id in ids and p.section not in results_items))
            ]
            rows = []
            for p in candidates:  # a passage may serve two items: extracted once
                if p.id not in extracted:
                    extracted[p.id] = result_rows("", p, guideline.measure_directions)
                rows += [replace(row, item_id=item.id) for row in extracted[p.id]]
            table += rows

            def passages_with(flag: str, rows: list[ResultRow] = rows) -> tuple[str, ...]:
                return tuple(dict.fromkeys(r.passage_id for r in rows if getattr(r, flag)))

            trend = passages_with("trend")
            past = tuple(dict.fromkeys(passages_with("past") + trend))
            benchmark = passages_with("benchmark")
            comparisons[item.id] = Comparison(item.id, bool(past), bool(benchmark), bool(trend), past, benchmark, trend)
        return comparisons, tuple(table)

    @staticmethod
    def _flags(
        guideline: Guideline, results: Sequence[ClauseCoverage], comparisons: dict[str, Comparison]
    ) -> list[Flag]:
        flags = []
        for result in results:
            clause = guideline.clauses[result.clause_id]
            if result.status == MISSING:
                flags.append(Flag("clause_missing", clause.id, f"{clause.id} 未找到证据：{clause.text}"))
            elif result.possible:
                flags.append(
                    Flag(
                        "clause_possible",
                        clause.id,
                        f"{clause.id} 可能已涉及，请核对（有段落接近本条款，但未达到匹配阈值）：{clause.text}",
                    )
                )
            elif result.status == WEAK:
                flags.append(
                    Flag("clause_weak", clause.id, f"{clause.id} 证据薄弱（仅有一般性表述或简单提及）：{clause.text}")
                )
        for item_id, comparison in comparisons.items():
            item = guideline.items[item_id]
            clause_id = item.comparison_clause
            if not comparison.past:
                flags.append(
                    Flag("comparison_past_missing", clause_id, f"{item.id} {item.title}：未与个人以往结果比对")
                )
            elif not comparison.trend:
                flags.append(
                    Flag("trend_missing", clause_id, f"{item.id} {item.title}：与以往比对不足三个时间点，难以显示趋势")
                )
            if not comparison.benchmark:
                flags.append(
                    Flag(
                        "comparison_benchmark_missing",
                        clause_id,
                        f"{item.id} {item.title}：未与标杆、同行或行业水平比对",
                    )
                )
        return flags


def _order(passage_id: str) -> int:
    return int(passage_id.lstrip("p") or 0)
