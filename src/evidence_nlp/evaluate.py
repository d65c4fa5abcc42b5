"""Evaluate the pipeline against annotated documents (corpus/annotated/NAME.gold.json).

Gold format: see docs/evaluation.md. Paragraphs are blank-line blocks with offsets into the
decoded text; each lists every clause it gives evidence for. A paragraph's predicted set is the
union of the clauses assigned to the passages inside it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import metrics
from .coverage import COVERED, MISSING, WEAK, comparison_status
from .errors import EvidenceError
from .guideline import Guideline
from .ingest import SUPPORTED_SUFFIXES, Document, read_document
from .pipeline import Analysis, Analyzer

STATUSES = (COVERED, WEAK, MISSING)
SPLITS = ("train", "dev", "test")
SPLIT_FILE = "splits.json"


@dataclass(frozen=True)
class GoldParagraph:
    start: int
    end: int
    heading: bool
    clauses: frozenset[str]


HEADING_FORMS = ("guide-items", "guide-categories", "own-ordered", "own-unordered", "none")
COMPARISON_KINDS = ("past", "benchmark", "trend")


@dataclass(frozen=True)
class GoldDocument:
    name: str
    path: Path  # the narrative file (txt/docx/…) next to the gold file
    paragraphs: tuple[GoldParagraph, ...]
    clause_status: dict[str, str]
    comparisons: dict[str, dict[str, bool]]  # item -> past / benchmark / trend
    profile: str = ""
    writer: str = ""  # who wrote the narrative: the unit of grouped cross-validation
    annotator: str = ""
    form: dict[str, Any] = field(default_factory=dict)  # headings (HEADING_FORMS), style, tables
    # The gold file itself: NAME.gold.json in the corpus, NAME.<reviewer>.gold.json from feedback.
    gold_path: Path | None = None

    @property
    def has_headings(self) -> bool:
        """Documents whose structure comes from headings (more than a title line)."""
        return sum(p.heading for p in self.paragraphs) >= 3

    @property
    def heading_form(self) -> str:
        return str(self.form.get("headings") or ("headed" if self.has_headings else "none"))


class GoldError(EvidenceError):
    pass


def _narrative_path(gold_path: Path, name: str) -> Path:
    for suffix in SUPPORTED_SUFFIXES:
        candidate = gold_path.with_name(name + suffix)
        if candidate.exists():
            return candidate
    raise GoldError(f"{gold_path}: no narrative file {name}.txt/.docx/.md/.pdf beside it")


def load_gold(path: Path) -> GoldDocument:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        name = data["doc"]
        paragraphs = tuple(
            GoldParagraph(int(p["start"]), int(p["end"]), bool(p["heading"]), frozenset(p["clauses"]))
            for p in data["paragraphs"]
        )
        return GoldDocument(
            name=name,
            path=_narrative_path(path, name),
            paragraphs=paragraphs,
            clause_status=dict(data["clause_status"]),
            comparisons={
                k: {kind: bool(v[kind]) for kind in COMPARISON_KINDS if kind in v}
                for k, v in data["comparisons"].items()
            },
            profile=str(data.get("profile", "")),
            writer=str(data.get("writer", "")),
            annotator=str(data.get("annotator", "")),
            form=dict(data.get("form", {})),
            gold_path=path,
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise GoldError(f"{path}: unreadable gold annotation ({type(exc).__name__}: {exc})") from None


def load_split(gold_dir: Path, split: str) -> list[GoldDocument]:
    """Gold documents of one split ("train", "dev", "test", "train+dev" or "all")."""
    files = sorted(gold_dir.glob("*.gold.json"))
    if not files:
        raise GoldError(f"{gold_dir}: no *.gold.json files")
    documents = [load_gold(f) for f in files]
    if split == "all":
        return documents
    split_path = gold_dir / SPLIT_FILE
    try:
        splits = json.loads(split_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GoldError(f"{split_path}: cannot read the split file ({exc})") from None
    wanted: set[str] = set()
    for part in split.split("+"):
        if part not in SPLITS:
            raise GoldError(f"unknown split {part!r}: use train, dev, test, train+dev or all")
        wanted |= set(splits.get(part, []))
    return [d for d in documents if d.name in wanted]


def check_gold(document: GoldDocument, guideline: Guideline, text: str | None = None) -> list[str]:
    """Problems with one gold annotation (empty list when consistent); `text` is the narrative's
    text when the caller has read it already."""
    problems = []
    if text is None:
        try:
            text = read_document(document.path).text
        except EvidenceError as exc:
            return [str(exc)]
    ids = set(guideline.clause_ids)
    previous_end = 0
    cited: set[str] = set()
    for index, paragraph in enumerate(document.paragraphs):
        where = f"paragraph {index} [{paragraph.start}:{paragraph.end}]"
        if not 0 <= paragraph.start < paragraph.end <= len(text):
            problems.append(f"{where}: offsets outside the text ({len(text)} chars)")
            continue
        if paragraph.start < previous_end:
            problems.append(f"{where}: overlaps the previous paragraph")
        span = text[paragraph.start : paragraph.end]
        if span != span.strip():
            problems.append(f"{where}: does not start/end on text")
        previous_end = paragraph.end
        unknown = paragraph.clauses - ids
        if unknown:
            problems.append(f"{where}: unknown clause ids {sorted(unknown)}")
        if paragraph.heading and paragraph.clauses:
            problems.append(f"{where}: a heading cites clauses")
        cited |= paragraph.clauses
    missing_ids = ids - set(document.clause_status)
    if missing_ids:
        problems.append(f"clause_status lacks {sorted(missing_ids)}")
    for cid, status in document.clause_status.items():
        if cid not in ids:
            problems.append(f"clause_status: unknown clause {cid}")
        elif status not in STATUSES:
            problems.append(f"clause_status {cid}: bad status {status!r}")
        elif status == MISSING and cid in cited:
            problems.append(f"{cid} is 'missing' but a paragraph cites it")
        elif status != MISSING and cid not in cited:
            problems.append(f"{cid} is {status!r} but no paragraph cites it")
    for item in guideline.comparison_items():
        flags = document.comparisons.get(item.id)
        if flags is None or set(flags) != set(COMPARISON_KINDS):
            problems.append(f"comparisons {item.id}: needs past, benchmark and trend")
            continue
        if flags["trend"] and not flags["past"]:
            problems.append(f"comparisons {item.id}: a trend is a past comparison too, but past is false")
        expected = comparison_status(flags["past"], flags["benchmark"])
        actual = document.clause_status.get(item.comparison_clause or "")
        if actual != expected:
            problems.append(
                f"{item.comparison_clause} is {actual!r} but the comparisons of {item.id} make it {expected!r}"
            )
    if not document.writer:
        problems.append("no writer recorded")
    if document.form.get("headings") not in HEADING_FORMS:
        problems.append(f"form.headings must be one of {', '.join(HEADING_FORMS)}")
    return problems


def _paragraph_key(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum())


def _shingles(key: str) -> set[str]:
    return {key[i : i + 5] for i in range(len(key) - 4)}


def shared_paragraphs(
    documents: Sequence[GoldDocument],
    min_chars: int = 20,
    near_threshold: float = 0.8,
    texts: dict[str, str] | None = None,
) -> list[tuple[str, int, str, int, float]]:
    """Pairs of text paragraphs from different narratives that are the same or nearly so:
    (doc, paragraph index, other doc, other paragraph index, Jaccard of their 5-character shingles).
    MinHash LSH (datasketch) proposes candidates at a lower threshold than the one that counts, so
    that its estimate misses few real near-copies; each candidate is then measured exactly."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=max(0.3, near_threshold - 0.3), num_perm=128)
    shingles: dict[str, set[str]] = {}
    found = []
    for position, document in enumerate(documents):
        if texts is not None and document.name not in texts:
            continue  # unreadable: reported by check_gold
        text = texts[document.name] if texts is not None else read_document(document.path).text
        for index, paragraph in enumerate(document.paragraphs):
            key = _paragraph_key(text[paragraph.start : paragraph.end])
            if paragraph.heading or len(key) < min_chars:
                continue
            grams = _shingles(key)
            minhash = MinHash(num_perm=128, seed=1)
            minhash.update_batch([g.encode() for g in grams])
            # Keyed by position: two reviewers' gold files for one narrative share its name.
            label = f"{position}\x00{document.name}\x00{index}"
            for other in lsh.query(minhash):
                _, other_doc, other_index = other.split("\x00")
                if other_doc == document.name:
                    continue
                exact = len(grams & shingles[other]) / len(grams | shingles[other])
                if exact >= near_threshold:
                    found.append((document.name, index, other_doc, int(other_index), round(exact, 2)))
            lsh.insert(label, minhash)
            shingles[label] = grams
    return found


def check_corpus(
    documents: Sequence[GoldDocument], splits: dict[str, list[str]], texts: dict[str, str] | None = None
) -> list[str]:
    """Problems of the corpus as a whole: splits that leak writers, shared paragraphs."""
    problems = []
    names = {d.name for d in documents}
    assigned = [n for s in SPLITS for n in splits.get(s, [])]
    for name in sorted(names - set(assigned)):
        problems.append(f"{SPLIT_FILE}: {name} is in no split")
    for name in sorted({n for n in assigned if assigned.count(n) > 1}):
        problems.append(f"{SPLIT_FILE}: {name} is in more than one split")
    for name in sorted(set(assigned) - names):
        problems.append(f"{SPLIT_FILE}: {name} has no gold file")
    writer_of = {d.name: d.writer for d in documents}
    writers_in = {s: {writer_of[n] for n in splits.get(s, []) if n in writer_of} for s in SPLITS}
    # Every split is writer-disjoint: test is never tuned on, and dev tunes on writers train never saw.
    for a, b in (("test", "train"), ("test", "dev"), ("dev", "train")):
        for writer in sorted(writers_in[a] & writers_in[b]):
            problems.append(f"{SPLIT_FILE}: writer {writer} is in the {a} split and in {b}")
    declared = splits.get("writers")
    if isinstance(declared, dict):
        for split in SPLITS:
            if set(declared.get(split, [])) != writers_in[split]:
                problems.append(
                    f"{SPLIT_FILE}: 'writers' says {split} is {sorted(declared.get(split, []))}, "
                    f"its documents are by {sorted(writers_in[split])}"
                )
    for doc, index, other, other_index, score in shared_paragraphs(documents, texts=texts):
        problems.append(f"{doc} paragraph {index} and {other} paragraph {other_index} share text (Jaccard {score})")
    return problems


# -- predictions against gold -------------------------------------------------------------------
@dataclass
class DocumentResult:
    gold: GoldDocument
    analysis: Analysis
    paragraph_gold: list[set[str]] = field(default_factory=list)
    paragraph_predicted: list[set[str]] = field(default_factory=list)
    paragraph_best: list[str | None] = field(default_factory=list)
    # Per text paragraph, the best passage probability of every clause (ranking metrics).
    paragraph_scores: list[np.ndarray] = field(default_factory=list)
    status_predicted: dict[str, str] = field(default_factory=dict)
    confidence_predicted: dict[str, str] = field(default_factory=dict)
    comparisons_predicted: dict[str, dict[str, bool]] = field(default_factory=dict)


def passage_paragraphs(passages: Sequence, paragraphs: Sequence[GoldParagraph]) -> list[int | None]:
    """Index of the gold paragraph each passage overlaps most (None when it overlaps none)."""
    owners: list[int | None] = []
    for passage in passages:
        best, best_overlap = None, 0
        for index, paragraph in enumerate(paragraphs):
            overlap = min(passage.end, paragraph.end) - max(passage.start, paragraph.start)
            if overlap > best_overlap:
                best, best_overlap = index, overlap
        owners.append(best)
    return owners


def compare(gold: GoldDocument, analysis: Analysis, proba: np.ndarray | None = None) -> DocumentResult:
    result = DocumentResult(gold, analysis)
    passages = analysis.segmentation.passages
    owners = passage_paragraphs(passages, gold.paragraphs)
    assigned = {m.passage_id: {c.clause_id for c in m.clauses} for m in analysis.matches}
    clause_ids = analysis.guideline.clause_ids
    for index, paragraph in enumerate(gold.paragraphs):
        if paragraph.heading:
            continue
        inside = [i for i, owner in enumerate(owners) if owner == index]
        predicted: set[str] = set()
        for i in inside:
            predicted |= assigned.get(passages[i].id, set())
        best = None
        row = np.zeros(len(clause_ids))
        if proba is not None and inside:
            row = proba[inside].max(axis=0)
            best = clause_ids[int(row.argmax())] if row.max() > 0 else None
        result.paragraph_gold.append(set(paragraph.clauses))
        result.paragraph_predicted.append(predicted)
        result.paragraph_best.append(best)
        result.paragraph_scores.append(np.asarray(row, dtype=np.float64))
    result.status_predicted = {c.clause_id: c.status for c in analysis.coverage.clauses}
    result.confidence_predicted = {c.clause_id: c.confidence for c in analysis.coverage.clauses}
    result.comparisons_predicted = {
        item: {"past": c.past, "benchmark": c.benchmark, "trend": c.trend}
        for item, c in analysis.coverage.comparisons.items()
    }
    return result


def _run_document(analyzer: Analyzer, gold: GoldDocument) -> DocumentResult:
    document: Document = read_document(gold.path)
    analysis = analyzer.analyze_document(document)
    return compare(gold, analysis, analysis.proba)


def run_documents(
    analyzer: Analyzer, documents: Sequence[GoldDocument], workers: int | None = None
) -> list[DocumentResult]:
    """Analyse and compare every document; in one process per core by default (parallel.py), each
    worker forked with the analyzer (and any vectors it remembers) already loaded."""
    from .parallel import default_workers, map_in_workers

    workers = default_workers(len(documents)) if workers is None else workers
    if workers > 1:
        analyzer.warm_up()
    results: dict[int, DocumentResult] = dict(map_in_workers(_run_document, documents, analyzer, workers))
    return [results[i] for i in range(len(documents))]


def summarise(results: Sequence[DocumentResult], guideline: Guideline) -> dict[str, Any]:
    """All figures for a set of documents."""
    pairs = [(g, p) for r in results for g, p in zip(r.paragraph_gold, r.paragraph_predicted, strict=True)]
    best = [(g, b) for r in results for g, b in zip(r.paragraph_gold, r.paragraph_best, strict=True)]
    gold_status = [r.gold.clause_status[c] for r in results for c in guideline.clause_ids]
    predicted_status = [r.status_predicted[c] for r in results for c in guideline.clause_ids]
    comparison_gold, comparison_predicted = [], []
    trend_gold, trend_predicted = [], []
    for r in results:
        for item, flags in r.gold.comparisons.items():
            for kind in ("past", "benchmark"):
                comparison_gold.append(flags[kind])
                comparison_predicted.append(r.comparisons_predicted.get(item, {}).get(kind, False))
            if "trend" in flags:
                trend_gold.append(flags["trend"])
                trend_predicted.append(r.comparisons_predicted.get(item, {}).get("trend", False))
    by_confidence: dict[str, dict[str, Any]] = {}
    for band in ("high", "medium", "low"):
        chosen = [
            r.gold.clause_status[c] == r.status_predicted[c]
            for r in results
            for c in guideline.clause_ids
            if r.confidence_predicted.get(c) == band
        ]
        by_confidence[band] = {
            "clauses": len(chosen),
            "status_accuracy": metrics.accuracy(chosen, [True] * len(chosen)),
        }
    ids = guideline.clause_ids
    ranked_labels = [cid in g for r in results for g in r.paragraph_gold for cid in ids]
    ranked_scores = [float(x) for r in results for row in r.paragraph_scores for x in row]
    return {
        "documents": len(results),
        "paragraphs": len(pairs),
        "mapping": metrics.micro_prf(pairs).as_dict(),
        "top1_accuracy": metrics.top1_accuracy(best),
        "status_accuracy": metrics.accuracy(gold_status, predicted_status),
        "status_macro_f1": metrics.macro_f1(gold_status, predicted_status, STATUSES),
        "status_confusion": metrics.confusion(gold_status, predicted_status, STATUSES),
        # How often the status is right in each confidence band the reports show (高/中/低).
        "status_by_confidence": by_confidence,
        "gap_detection": metrics.binary_prf(
            [s != COVERED for s in gold_status], [s != COVERED for s in predicted_status]
        ).as_dict(),
        "comparison_accuracy": metrics.accuracy(comparison_gold, comparison_predicted),
        "trend_accuracy": metrics.accuracy(trend_gold, trend_predicted) if trend_gold else None,
        # The operating point a reviewer aid needs: how clean the candidates are when 90 % of the
        # gold (paragraph, clause) pairs are shown (CUAD's precision at 90 % recall).
        "precision_at_90_recall": metrics.precision_at_recall(ranked_labels, ranked_scores, 0.9),
    }


def per_clause_table(results: Sequence[DocumentResult], guideline: Guideline) -> list[dict[str, Any]]:
    """Mapping and status errors per clause, worst mapping F1 first."""
    rows = []
    for cid in guideline.clause_ids:
        pairs = [
            ({cid} & g, {cid} & p)
            for r in results
            for g, p in zip(r.paragraph_gold, r.paragraph_predicted, strict=True)
        ]
        score = metrics.micro_prf(pairs)
        status_errors = sum(r.gold.clause_status[cid] != r.status_predicted[cid] for r in results)
        rows.append(
            {
                "clause": cid,
                "gold_paragraphs": score.support,
                "precision": score.precision,
                "recall": score.recall,
                "f1": score.f1,
                "status_errors": status_errors,
            }
        )
    return sorted(rows, key=lambda row: (row["f1"], -row["gold_paragraphs"], row["clause"]))


def evaluate(analyzer: Analyzer, documents: Sequence[GoldDocument]) -> dict[str, Any]:
    results = run_documents(analyzer, documents)
    guideline = analyzer.guideline
    return {
        "encoder": analyzer.encoder_name,
        "model": analyzer.matcher.model_.source,
        "documents": [r.gold.name for r in results],
        **summarise_results(results, guideline),
    }


def summarise_results(results: Sequence[DocumentResult], guideline: Guideline) -> dict[str, Any]:
    """Overall figures, the with/without-headings split, figures per heading form, per clause and
    per document."""
    with_headings = [r for r in results if r.gold.has_headings]
    without = [r for r in results if not r.gold.has_headings]
    forms = sorted({r.gold.heading_form for r in results})
    return {
        "overall": summarise(results, guideline),
        "with_headings": summarise(with_headings, guideline),
        "without_headings": summarise(without, guideline),
        "by_heading_form": {
            form: summarise([r for r in results if r.gold.heading_form == form], guideline) for form in forms
        },
        "per_clause": per_clause_table(results, guideline),
        "per_document": [
            {
                "doc": r.gold.name,
                "writer": r.gold.writer,
                "headings": r.gold.has_headings,
                "heading_form": r.gold.heading_form,
                **_short(summarise([r], guideline)),
            }
            for r in results
        ],
    }


def _short(summary: dict[str, Any]) -> dict[str, Any]:
    return {
        "mapping_f1": summary["mapping"]["f1"],
        "status_accuracy": summary["status_accuracy"],
        "gap_f1": summary["gap_detection"]["f1"],
        "comparison_accuracy": summary["comparison_accuracy"],
    }


SUMMARY_HEADER = (
    f"{'':28}{'docs':>5}{'map P':>7}{'map R':>7}{'map F1':>7}{'top1':>7}{'P@90R':>7}"
    f"{'status':>7}{'macroF1':>8}{'gap P':>7}{'gap R':>7}{'gap F1':>7}{'cmp':>6}{'trend':>6}"
)


def summary_row(label: str, s: dict[str, Any]) -> str:
    m, g = s["mapping"], s["gap_detection"]
    return (
        f"{label:28}{s['documents']:>5}{m['precision']:>7.3f}{m['recall']:>7.3f}{m['f1']:>7.3f}"
        f"{s['top1_accuracy']:>7.3f}{s['precision_at_90_recall']:>7.3f}{s['status_accuracy']:>7.3f}"
        f"{s['status_macro_f1']:>8.3f}{g['precision']:>7.3f}{g['recall']:>7.3f}{g['f1']:>7.3f}"
        f"{s['comparison_accuracy']:>6.3f}{metrics.figure(s['trend_accuracy']):>6}"
    )


def format_summaries(evaluation: dict[str, Any]) -> list[str]:
    lines = [SUMMARY_HEADER]
    for key, label in (
        ("overall", "all"),
        ("with_headings", "with headings"),
        ("without_headings", "without headings"),
    ):
        if evaluation[key]["documents"]:
            lines.append(summary_row(label, evaluation[key]))
    for form, summary in evaluation.get("by_heading_form", {}).items():
        lines.append(summary_row(f"  headings: {form}", summary))
    return lines


def format_evaluation(evaluation: dict[str, Any], worst: int = 10) -> str:
    lines = [f"encoder {evaluation['encoder']}, model {evaluation['model']}, {len(evaluation['documents'])} documents"]
    lines += format_summaries(evaluation)
    lines.append("")
    lines.append("clause status by confidence (as the reports show it):")
    for band, label in (("high", "高"), ("medium", "中"), ("low", "低")):
        entry = evaluation["overall"]["status_by_confidence"][band]
        lines.append(f"  {band:7}{label} {entry['clauses']:>5} clauses  status accuracy {entry['status_accuracy']:.3f}")
    lines.append("")
    lines.append(f"worst {worst} clauses (paragraph mapping):")
    lines.append(f"  {'clause':8}{'gold':>6}{'P':>7}{'R':>7}{'F1':>7}{'status err':>12}")
    for row in evaluation["per_clause"][:worst]:
        lines.append(
            f"  {row['clause']:8}{row['gold_paragraphs']:>6}{row['precision']:>7.2f}{row['recall']:>7.2f}"
            f"{row['f1']:>7.2f}{row['status_errors']:>12}"
        )
    lines.append("")
    lines.append("per document:")
    for row in evaluation["per_document"]:
        lines.append(
            f"  {row['doc']:34} {row['heading_form']:16} map F1 {row['mapping_f1']:.3f}"
            f"  status {row['status_accuracy']:.3f}"
            f"  gap F1 {row['gap_f1']:.3f}  cmp {row['comparison_accuracy']:.3f}"
        )
    return "\n".join(lines) + "\n"
