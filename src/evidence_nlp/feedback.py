"""Reviewer feedback: exports of the reviewer page's corrections turned into gold files, their
statistics, and feedback gold for training and evaluation (docs/feedback.md).

An export (format "evidence-nlp-review", version 1) names the document's SHA-256, the guideline,
the tool version, encoder and matcher, the reviewer's name if given, the tool's verdict as the page
showed it (statuses, evidence and near-miss passages, comparisons, every passage's offsets) and the
reviewer's corrections, each with passage offsets.

Importing one checks it against the narrative (the file with that SHA-256, re-segmented here: every
passage the export names must be the same passage with the same offsets) and writes a gold file in
the corpus format (docs/annotation-guide.md) into the feedback folder, beside a copy of the
narrative. The corpus format labels every paragraph and every clause, so **silence is
confirmation**: a verdict the reviewer left alone is kept as gold. The gold file's `feedback` block
keeps apart what the reviewer decided (status, passage and comparison decisions) from what they left
alone, so statistics and the `reviewed` figures of evaluate_feedback use the decisions only.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import metrics
from .coverage import COVERED, MISSING, WEAK, comparison_status
from .errors import EvidenceError
from .evaluate import (
    COMPARISON_KINDS,
    SPLIT_FILE,
    SPLITS,
    STATUSES,
    GoldDocument,
    check_corpus,
    check_gold,
    format_summaries,
    load_gold,
    load_split,
    run_documents,
    shared_paragraphs,
    summarise_results,
)
from .guideline import Guideline
from .ingest import SUPPORTED_SUFFIXES, Document, read_document, read_file_bytes
from .pipeline import Analyzer
from .report import write_atomic
from .segment import Segmentation, Segmenter

EXPORT_FORMAT = "evidence-nlp-review"
EXPORT_VERSION = 1
DEFAULT_FOLDER = Path("corpus/feedback")
# One document in five (by its SHA-256, so every reviewer's file of it lands in the same split) is
# held out for evaluation; the others can be trained on (train --with-feedback).
TEST_EVERY = 5
MAX_NARRATIVE_BYTES = 50 * 1024 * 1024  # files larger than this are not hashed while searching
SPLITS_COMMENT = (
    "Split of the reviewer-feedback gold, by document SHA-256 (feedback.split_for): test is held out "
    "for evaluation, train may be trained on (train --with-feedback). Written by `feedback import`."
)


class FeedbackError(EvidenceError):
    """An export that cannot be imported; the message is one line naming the file."""


# --- reading an export --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewExport:
    path: Path
    export_sha256: str  # of the export file itself: names an anonymous reviewer's gold file
    sha256: str  # the document's
    file_name: str
    chars: int
    guideline_id: str
    guideline_sha256: str
    tool: str  # "evidence-nlp 0.1.0"
    encoder: str
    matcher: str
    reviewer: str  # "" when not given
    exported_at: str
    clauses: dict[str, dict[str, Any]]  # the tool's verdict: status, evidence, near
    comparisons: dict[str, dict[str, bool]]
    passages: dict[str, tuple[int, int, str]]  # id -> start, end, kind
    corrections: tuple[dict[str, Any], ...]


def _need(condition: bool, path: Path, what: str) -> None:
    if not condition:
        raise FeedbackError(f"{path}: not a reviewer-page export ({what})")


def _text(value: Any) -> str:
    return " ".join(str(value).split())


def read_export(path: Path) -> ReviewExport:
    """An export file, its structure checked (not yet against the narrative)."""
    try:
        raw = read_file_bytes(path)
    except EvidenceError as exc:
        raise FeedbackError(str(exc)) from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise FeedbackError(f"{path}: not JSON ({_text(exc)})") from None
    _need(isinstance(data, dict) and data.get("format") == EXPORT_FORMAT, path, f"format is not {EXPORT_FORMAT!r}")
    if data.get("version") != EXPORT_VERSION:
        raise FeedbackError(f"{path}: export version {data.get('version')!r}; this evidence-nlp reads version 1")
    try:
        document, guideline, tool, verdict = data["document"], data["guideline"], data["tool"], data["tool_verdict"]
        sha256 = str(document["sha256"]).lower()
        _need(re.fullmatch(r"[0-9a-f]{64}", sha256) is not None, path, "document.sha256 is not a SHA-256")
        passages = {str(k): (int(v[0]), int(v[1]), str(v[2])) for k, v in verdict["passages"].items()}
        clauses = {
            str(cid): {
                "status": str(c["status"]),
                "evidence": [str(p) for p in c["evidence"]],
                "near": [str(p) for p in c["near"]],
            }
            for cid, c in verdict["clauses"].items()
        }
        comparisons = {
            str(item): {kind: bool(flags[kind]) for kind in COMPARISON_KINDS}
            for item, flags in verdict["comparisons"].items()
        }
        corrections = tuple(dict(c) for c in data["corrections"])
        export = ReviewExport(
            path=path,
            export_sha256=hashlib.sha256(raw).hexdigest(),
            sha256=sha256,
            file_name=str(document.get("file_name", "")),
            chars=int(document["chars"]),
            guideline_id=str(guideline["id"]),
            guideline_sha256=str(guideline.get("sha256", "")),
            tool=f"{tool['name']} {tool['version']}",
            encoder=str(data.get("encoder", "")),
            matcher=str(data.get("matcher", "")),
            reviewer=_text(data.get("reviewer") or ""),
            exported_at=str(data.get("exported_at", "")),
            clauses=clauses,
            comparisons=comparisons,
            passages=passages,
            corrections=corrections,
        )
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise FeedbackError(f"{path}: not a reviewer-page export (bad or missing {_text(exc)})") from None
    for cid, clause in export.clauses.items():
        if clause["status"] not in STATUSES:
            raise FeedbackError(f"{path}: tool verdict of {cid} has bad status {clause['status']!r}")
    return export


def find_narrative(export: ReviewExport, candidates: Sequence[Path]) -> Path:
    """The narrative the export was made from, by SHA-256: a file named in `candidates`, or one in
    a folder named there (not recursive). The export's own folder is searched when none is named."""
    search = list(candidates) or [export.path.parent]
    named_files = [c for c in search if c.is_file()]
    for path in _candidate_files(search):
        try:
            raw = read_file_bytes(path)
        except EvidenceError:
            continue
        if hashlib.sha256(raw).hexdigest() == export.sha256:
            return path
    if len(named_files) == 1 and len(search) == 1:
        actual = hashlib.sha256(read_file_bytes(named_files[0])).hexdigest()
        raise FeedbackError(
            f"{export.path}: made from a document with SHA-256 {export.sha256[:12]}…, "
            f"but {named_files[0]} has SHA-256 {actual[:12]}… (another file or another version of it)"
        )
    where = ", ".join(str(c) for c in search)
    raise FeedbackError(
        f"{export.path}: no narrative with SHA-256 {export.sha256[:12]}… ({export.file_name or 'unnamed'}) "
        f"in {where}; name it with --narrative"
    )


def _candidate_files(search: Sequence[Path]) -> list[Path]:
    files = []
    for entry in search:
        if entry.is_dir():
            files += sorted(p for p in entry.iterdir() if p.suffix.lower() in SUPPORTED_SUFFIXES and p.is_file())
        elif entry.is_file():
            files.append(entry)
    return [f for f in files if f.stat().st_size <= MAX_NARRATIVE_BYTES]


# --- an export against its narrative: the gold file ---------------------------------------------


@dataclass
class FeedbackGold:
    """A gold file built from one export: its JSON and what the reviewer decided."""

    gold: dict[str, Any]
    decisions: int
    changed: int


def _check_against_narrative(
    export: ReviewExport, document: Document, segmentation: Segmentation, guideline: Guideline
) -> None:
    where = export.path
    if document.sha256 != export.sha256:
        raise FeedbackError(
            f"{where}: made from a document with SHA-256 {export.sha256[:12]}…, "
            f"{document.path} has {document.sha256[:12]}…"
        )
    if export.chars != len(document.text):
        raise FeedbackError(
            f"{where}: the export counts {export.chars} characters, the narrative has {len(document.text)}"
        )
    if export.guideline_id != guideline.id:
        raise FeedbackError(f"{where}: made with guideline {export.guideline_id!r}, not {guideline.id!r}")
    unknown = sorted(set(export.clauses) - set(guideline.clause_ids))
    if unknown or set(export.clauses) != set(guideline.clause_ids):
        lacking = sorted(set(guideline.clause_ids) - set(export.clauses))
        raise FeedbackError(
            f"{where}: clauses differ from guideline {guideline.id} (unknown {unknown}, lacking {lacking})"
        )
    mine = {p.id: (p.start, p.end, p.kind) for p in segmentation.passages}
    for pid, span in export.passages.items():
        if pid not in mine:
            raise FeedbackError(f"{where}: passage {pid} [{span[0]}:{span[1]}] is not a passage of the narrative")
        if mine[pid] != span:
            raise FeedbackError(
                f"{where}: passage {pid} is [{span[0]}:{span[1]}] in the export but "
                f"[{mine[pid][0]}:{mine[pid][1]}] in the narrative (made by {export.tool}?)"
            )
    if len(mine) != len(export.passages):
        raise FeedbackError(f"{where}: the export has {len(export.passages)} passages, the narrative {len(mine)}")
    for cid, clause in export.clauses.items():
        for pid in clause["evidence"] + clause["near"]:
            if pid not in mine:
                raise FeedbackError(f"{where}: {cid} cites passage {pid}, not a passage of the narrative")


def _correction_passage(export: ReviewExport, correction: dict[str, Any]) -> str:
    pid = str(correction.get("passage", ""))
    if pid not in export.passages:
        raise FeedbackError(f"{export.path}: a correction names passage {pid!r}, not a passage of the narrative")
    start, end, _ = export.passages[pid]
    if (correction.get("start"), correction.get("end")) != (start, end):
        raise FeedbackError(
            f"{export.path}: the correction of {correction.get('clause')} on passage {pid} gives offsets "
            f"[{correction.get('start')}:{correction.get('end')}], the narrative's passage is [{start}:{end}]"
        )
    return pid


@dataclass
class _Decisions:
    status: dict[str, str] = field(default_factory=dict)
    evidence_yes: dict[str, set[str]] = field(default_factory=dict)
    evidence_no: dict[str, set[str]] = field(default_factory=dict)
    added: dict[str, set[str]] = field(default_factory=dict)
    comparisons: dict[tuple[str, str], bool] = field(default_factory=dict)


def _decisions(export: ReviewExport, guideline: Guideline) -> _Decisions:
    decided = _Decisions()
    items = {item.id for item in guideline.comparison_items()}
    for correction in export.corrections:
        kind, cid = correction.get("type"), str(correction.get("clause", ""))
        if kind in ("clause_status", "passage", "added_evidence") and cid not in guideline.clauses:
            raise FeedbackError(f"{export.path}: a correction names clause {cid!r}, not in guideline {guideline.id}")
        if kind == "clause_status":
            value = correction.get("value")
            if value not in STATUSES:
                raise FeedbackError(f"{export.path}: {cid}: bad status {value!r}")
            decided.status[cid] = str(value)
        elif kind == "passage":
            pid = _correction_passage(export, correction)
            if not isinstance(correction.get("value"), bool):
                raise FeedbackError(f"{export.path}: {cid} passage {pid}: value must be true or false")
            target = decided.evidence_yes if correction["value"] else decided.evidence_no
            target.setdefault(cid, set()).add(pid)
        elif kind == "added_evidence":
            pid = _correction_passage(export, correction)
            if export.passages[pid][2] == "heading":
                raise FeedbackError(f"{export.path}: {cid}: passage {pid} is a heading, and headings cite nothing")
            decided.added.setdefault(cid, set()).add(pid)
        elif kind == "comparison":
            item, flag = str(correction.get("item", "")), correction.get("kind")
            if item not in items or flag not in COMPARISON_KINDS or not isinstance(correction.get("value"), bool):
                raise FeedbackError(f"{export.path}: bad comparison correction {item!r} {flag!r}")
            decided.comparisons[(item, str(flag))] = correction["value"]
        else:
            raise FeedbackError(f"{export.path}: unknown correction type {kind!r}")
    return decided


def heading_form(segmentation: Segmentation) -> str:
    """form.headings, estimated from the segmenter's headings and the guideline sections they link to
    (own-words headings are recorded as own-unordered: their order is not judged here)."""
    if len(segmentation.headings) < 3:
        return "none"
    sections = [h.section for h in segmentation.headings if h.section]
    if len(sections) * 2 < len(segmentation.headings):
        return "own-unordered"
    return "guide-items" if sum("." in s for s in sections) * 2 >= len(sections) else "guide-categories"


def build_gold(
    export: ReviewExport, document: Document, guideline: Guideline, name: str, annotator: str
) -> FeedbackGold:
    """The gold file of one export, checked against its narrative; FeedbackError naming every
    inconsistency (a changed status with no evidence left, a trend without a past comparison …)."""
    segmentation = Segmenter(guideline).segment(document)
    _check_against_narrative(export, document, segmentation, guideline)
    decided = _decisions(export, guideline)
    comparisons = {
        item: {kind: decided.comparisons.get((item, kind), flags[kind]) for kind in COMPARISON_KINDS}
        for item, flags in export.comparisons.items()
    }
    comparison_clause = {
        item.comparison_clause: item.id for item in guideline.comparison_items() if item.comparison_clause
    }
    heading_passages = {pid for pid, (_, _, kind) in export.passages.items() if kind == "heading"}
    problems: list[str] = []
    for item, flags in comparisons.items():
        if flags["trend"] and not flags["past"]:
            problems.append(f"{item}: a trend is a past comparison too, but past is 无")
    status: dict[str, str] = {}
    cited: dict[str, set[str]] = {}
    derived: dict[str, str] = {}
    for cid in guideline.clause_ids:
        tool = export.clauses[cid]
        yes = decided.evidence_yes.get(cid, set()) | decided.added.get(cid, set())
        passages = (set(tool["evidence"]) - decided.evidence_no.get(cid, set()) | yes) - heading_passages
        explicit = decided.status.get(cid)
        item = comparison_clause.get(cid)
        if item is not None and item in comparisons:
            final = comparison_status(comparisons[item]["past"], comparisons[item]["benchmark"])
            if explicit is not None and explicit != final:
                problems.append(f"{cid} set to {explicit!r}, but the comparisons of {item} make it {final!r}")
        else:
            final = explicit or tool["status"]
        if final == MISSING:
            if yes:
                reason = "set to 'missing'" if explicit else "still the tool's 'missing'; choose covered or weak"
                problems.append(f"{cid} is {reason}, but passages {sorted(yes)} are marked as its evidence")
            passages = set()  # a missing clause is cited by no paragraph
        elif not passages:
            if explicit is None and item is None:
                final, derived[cid] = MISSING, "no evidence left after the reviewer's corrections"
            else:
                problems.append(f"{cid} is {final!r} but no passage is evidence for it: add one or choose 'missing'")
        status[cid], cited[cid] = final, passages
    if problems:
        raise FeedbackError(f"{export.path}: " + "; ".join(problems))

    paragraph_of = {p.id: p.paragraph for p in segmentation.passages}
    headings = {p.paragraph for p in segmentation.passages if p.kind == "heading"}
    labels: list[set[str]] = [set() for _ in segmentation.paragraphs]
    for cid, pids in cited.items():
        for pid in pids:
            labels[paragraph_of[pid]].add(cid)
    order = {cid: i for i, cid in enumerate(guideline.clause_ids)}
    status_decisions = {
        cid: {"tool": export.clauses[cid]["status"], "value": value}
        for cid, value in sorted(decided.status.items(), key=lambda kv: order[kv[0]])
    }
    passage_decisions = []
    for cid in guideline.clause_ids:
        tool_evidence = set(export.clauses[cid]["evidence"])
        for value, pids in ((True, decided.evidence_yes.get(cid, set())), (False, decided.evidence_no.get(cid, set()))):
            for pid in pids:
                start, end, _ = export.passages[pid]
                source = "evidence" if pid in tool_evidence else "near"
                passage_decisions.append(
                    {"clause": cid, "passage": pid, "start": start, "end": end, "tool": source, "value": value}
                )
        for pid in decided.added.get(cid, set()):
            start, end, _ = export.passages[pid]
            passage_decisions.append(
                {"clause": cid, "passage": pid, "start": start, "end": end, "tool": "added", "value": True}
            )
    passage_decisions.sort(key=lambda d: (order[d["clause"]], d["start"]))
    comparison_decisions = [
        {"item": item, "kind": kind, "tool": export.comparisons[item][kind], "value": value}
        for (item, kind), value in sorted(decided.comparisons.items())
    ]
    changed = (
        sum(d["tool"] != d["value"] for d in status_decisions.values())
        + sum((d["tool"] == "evidence") != d["value"] for d in passage_decisions)
        + sum(d["tool"] != d["value"] for d in comparison_decisions)
    )
    decisions = len(status_decisions) + len(passage_decisions) + len(comparison_decisions)
    gold = {
        "doc": name,
        "writer": f"submission-{export.sha256[:12]}",
        "annotator": annotator,
        "profile": f"reviewer feedback on {export.file_name or name} (reviewer page of {export.tool})",
        "form": {
            "headings": heading_form(segmentation),
            "style": "submission",
            "tables": " | " in document.text,
            "file": document.encoding if document.format == "txt" else document.format,
        },
        "paragraphs": [
            {
                "start": span.start,
                "end": span.end,
                "heading": index in headings,
                "clauses": sorted(labels[index], key=order.__getitem__),
            }
            for index, span in enumerate(segmentation.paragraphs)
        ],
        "clause_status": status,
        "comparisons": comparisons,
        "feedback": {
            "source": EXPORT_FORMAT,
            "reviewer": export.reviewer,
            "exported_at": export.exported_at,
            "export_sha256": export.export_sha256,
            "document_sha256": export.sha256,
            "file_name": export.file_name,
            "tool": export.tool,
            "encoder": export.encoder,
            "matcher": export.matcher,
            "guideline": {"id": export.guideline_id, "sha256": export.guideline_sha256},
            "silence": "confirmed",  # unchanged tool verdicts are kept as gold (module docstring)
            "tool_clause_status": {cid: export.clauses[cid]["status"] for cid in guideline.clause_ids},
            "tool_comparisons": export.comparisons,
            "status_decisions": status_decisions,
            "passage_decisions": passage_decisions,
            "comparison_decisions": comparison_decisions,
            "derived": derived,
        },
    }
    return FeedbackGold(gold, decisions, changed)


# --- importing into the feedback folder ---------------------------------------------------------


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:40]


def document_name(export: ReviewExport) -> str:
    """The narrative's name in the feedback folder: its file name's stem and the SHA-256's start, so
    two submissions called 自评报告.docx never share a name."""
    stem = slug(Path(export.file_name).stem) or "submission"
    return f"{stem}-{export.sha256[:8]}"


def reviewer_key(export: ReviewExport) -> tuple[str, str]:
    """(annotator, file-name part). A named reviewer is their name, made unique in file names by a
    hash of it (reviewers' names are mostly Chinese); an anonymous export is its own annotator,
    named by the export file's hash, so it can never replace another reviewer's file."""
    if export.reviewer:
        digest = hashlib.sha256(export.reviewer.encode("utf-8")).hexdigest()[:8]
        return export.reviewer, "-".join(p for p in (slug(export.reviewer), digest) if p)
    anonymous = f"anonymous-{export.export_sha256[:8]}"
    return anonymous, anonymous


def split_for(sha256: str) -> str:
    return "test" if int(sha256[:8], 16) % TEST_EVERY == 0 else "train"


@dataclass(frozen=True)
class ImportResult:
    export: Path
    gold: Path
    narrative: Path
    action: str  # written / replaced / kept (a newer export of the same reviewer is already there)
    split: str
    decisions: int
    changed: int

    def line(self) -> str:
        return (
            f"{self.action} {self.gold}: {self.decisions} decisions ({self.changed} changed), "
            f"split {self.split}, narrative {self.narrative.name}"
        )


def _read_splits(into: Path) -> dict[str, Any]:
    path = into / SPLIT_FILE
    if not path.exists():
        return {"_comment": SPLITS_COMMENT, **{s: [] for s in SPLITS}}
    try:
        splits = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FeedbackError(f"{path}: cannot read the split file ({_text(exc)})") from None
    return splits


def import_export(path: Path, into: Path, guideline: Guideline, narratives: Sequence[Path] = ()) -> ImportResult:
    """Check one export against its narrative and write its gold file (and a copy of the narrative,
    and the document's split) into the feedback folder `into`."""
    export = read_export(path)
    source = find_narrative(export, narratives)
    document = read_document(source)
    name = document_name(export)
    annotator, key = reviewer_key(export)
    built = build_gold(export, document, guideline, name, annotator)
    into.mkdir(parents=True, exist_ok=True)
    narrative = into / f"{name}{source.suffix.lower()}"
    if narrative.exists():
        if hashlib.sha256(read_file_bytes(narrative)).hexdigest() != export.sha256:
            raise FeedbackError(f"{path}: {narrative} exists and is another document; not overwritten")
    else:
        narrative.write_bytes(read_file_bytes(source))
    target = into / f"{name}.{key}.gold.json"
    action = "written"
    if target.exists():
        try:
            existing = json.loads(target.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise FeedbackError(f"{target}: unreadable, not overwritten ({_text(exc)})") from None
        if existing.get("annotator") != annotator:
            raise FeedbackError(
                f"{path}: {target} holds {existing.get('annotator')!r}'s review, not {annotator!r}'s; not overwritten"
            )
        if str(existing.get("feedback", {}).get("exported_at", "")) > export.exported_at:
            action = "kept"  # the reviewer's later export is already in: an older one never replaces it
        else:
            action = "replaced"
    if action != "kept":
        write_atomic(target, json.dumps(built.gold, ensure_ascii=False, indent=1) + "\n")
    splits = _read_splits(into)
    split = next((s for s in SPLITS if name in splits.get(s, [])), None)
    if split is None:
        split = split_for(export.sha256)
        splits.setdefault(split, []).append(name)
        splits[split] = sorted(set(splits[split]))
        write_atomic(into / SPLIT_FILE, json.dumps(splits, ensure_ascii=False, indent=1) + "\n")
    return ImportResult(path, target, narrative, action, split, built.decisions, built.changed)


def check_feedback_folder(folder: Path, guideline: Guideline) -> list[str]:
    """The corpus checks (`corpus check --gold FOLDER` runs the same ones) over a feedback folder:
    every gold file by check_gold, the folder by check_corpus; one line per problem."""
    problems = []
    texts: dict[str, str] = {}
    documents = load_split(folder, "all")
    for document in documents:
        try:
            texts[document.name] = read_document(document.path).text
        except EvidenceError as exc:
            problems.append(f"{document.path}: {exc}")
            continue
        problems += [f"{document.path}: {p}" for p in check_gold(document, guideline, texts[document.name])]
    splits = _read_splits(folder)
    problems += [f"{folder}: {p}" for p in check_corpus(one_per_document(documents), splits, texts)]
    return problems


def one_per_document(documents: Sequence[GoldDocument]) -> list[GoldDocument]:
    """The first gold file of each document: several reviewers' files of one narrative share its name,
    and the corpus-wide checks (splits, shared paragraphs) are about narratives, not reviews."""
    seen: dict[str, GoldDocument] = {}
    for document in documents:
        seen.setdefault(document.name, document)
    return list(seen.values())


# --- loading feedback gold ----------------------------------------------------------------------


@dataclass(frozen=True)
class FeedbackDocument:
    gold: GoldDocument
    path: Path  # the gold file
    feedback: dict[str, Any]


def load_feedback(folder: Path, split: str = "all") -> list[FeedbackDocument]:
    """Feedback gold files of one split (train, test, train+test or all), each with its feedback block."""
    files = sorted(folder.glob("*.gold.json"))
    if not files:
        raise FeedbackError(f"{folder}: no feedback gold files (*.gold.json); import exports with `feedback import`")
    wanted: set[str] | None = None
    if split != "all":
        splits = _read_splits(folder)
        wanted = set()
        for part in split.split("+"):
            if part not in SPLITS:
                raise FeedbackError(f"unknown split {part!r}: use train, test, train+test or all")
            wanted |= set(splits.get(part, []))
    out = []
    for path in files:
        gold = load_gold(path)
        if wanted is not None and gold.name not in wanted:
            continue
        try:
            feedback = dict(json.loads(path.read_text(encoding="utf-8")).get("feedback") or {})
        except (OSError, ValueError) as exc:
            raise FeedbackError(f"{path}: unreadable ({_text(exc)})") from None
        out.append(FeedbackDocument(gold, path, feedback))
    return out


@dataclass(frozen=True)
class TrainingDocuments:
    train: list[GoldDocument]
    dev: list[GoldDocument]
    feedback: list[str]  # the feedback gold files added to train
    left_out: list[str]  # feedback files left out: they share text with a dev or test narrative


def training_documents(gold_dir: Path, feedback_dir: Path) -> TrainingDocuments:
    """What `train --with-feedback` trains on: the corpus's train split plus the feedback folder's
    train split, tuned on the corpus's dev split. A feedback document that shares a paragraph with
    a dev or test narrative is left out, so no held-out text is trained on."""
    train, dev, test = (load_split(gold_dir, s) for s in ("train", "dev", "test"))
    feedback = load_feedback(feedback_dir, "train")
    held_out = {d.name for d in dev + test}
    shared = shared_paragraphs([*dev, *test, *one_per_document([f.gold for f in feedback])])
    leaking = {a for a, _, b, _, _ in shared if b in held_out} | {b for a, _, b, _, _ in shared if a in held_out}
    kept = [f for f in feedback if f.gold.name not in leaking]
    left = [f for f in feedback if f.gold.name in leaking]
    return TrainingDocuments(
        train=[*train, *(f.gold for f in kept)],
        dev=dev,
        feedback=[str(f.path) for f in kept],
        left_out=[str(f.path) for f in left],
    )


# --- evaluation on reviewer-corrected documents -------------------------------------------------


def evaluate_feedback(analyzer: Analyzer, folder: Path, split: str = "test") -> dict[str, Any]:
    """The tool's figures on reviewer-corrected documents, apart from the written corpus: the usual
    figures against the feedback gold (where silence counts as confirmation, so they lean towards the
    tool that made the pages), and `reviewed`: agreement with the reviewers' own decisions only."""
    documents = load_feedback(folder, split)
    if not documents:
        raise FeedbackError(f"{folder}: split {split!r} has no feedback documents")
    results = run_documents(analyzer, [d.gold for d in documents])
    status_pairs, comparison_pairs = [], []
    for document, result in zip(documents, results, strict=True):
        for cid in document.feedback.get("status_decisions", {}):
            status_pairs.append((document.gold.clause_status[cid], result.status_predicted.get(cid)))
        for decision in document.feedback.get("comparison_decisions", []):
            predicted = result.comparisons_predicted.get(decision["item"], {}).get(decision["kind"])
            comparison_pairs.append((decision["value"], predicted))
    passages = _passage_decision_pairs(documents, results)
    return {
        "encoder": analyzer.encoder_name,
        "model": analyzer.matcher.model_.source,
        "split": split,
        "documents": [str(d.path) for d in documents],
        **summarise_results(results, analyzer.guideline),
        "reviewed": {
            "status_decisions": len(status_pairs),
            "status_accuracy": _agreement(status_pairs),
            "passage_decisions": len(passages),
            "passage_accuracy": _agreement(passages),
            "comparison_decisions": len(comparison_pairs),
            "comparison_accuracy": _agreement(comparison_pairs),
        },
    }


def _agreement(pairs: Sequence[tuple[Any, Any]]) -> float | None:
    return metrics.accuracy([a for a, _ in pairs], [b for _, b in pairs]) if pairs else None


def _passage_decision_pairs(documents: Sequence[FeedbackDocument], results: Sequence[Any]) -> list[tuple[bool, bool]]:
    """(reviewer's verdict, the tool now cites the clause in that passage's paragraph) per decision."""
    pairs = []
    for document, result in zip(documents, results, strict=True):
        text_paragraphs = [p for p in document.gold.paragraphs if not p.heading]
        for decision in document.feedback.get("passage_decisions", []):
            for index, paragraph in enumerate(text_paragraphs):
                if paragraph.start <= decision["start"] < paragraph.end:
                    pairs.append((bool(decision["value"]), decision["clause"] in result.paragraph_predicted[index]))
                    break
    return pairs


def format_feedback_evaluation(result: dict[str, Any]) -> str:
    reviewed = result["reviewed"]
    lines = [
        f"reviewer-corrected documents (split {result['split']}): {len(result['documents'])} gold files; "
        "unchanged verdicts count as confirmed",
        *format_summaries(result),
        "against the reviewers' own decisions only:",
        f"  clause status      {reviewed['status_decisions']:>5} decisions  "
        f"agreement {metrics.figure(reviewed['status_accuracy'])}",
        f"  evidence passages  {reviewed['passage_decisions']:>5} decisions  "
        f"agreement {metrics.figure(reviewed['passage_accuracy'])}",
        f"  comparisons        {reviewed['comparison_decisions']:>5} decisions  "
        f"agreement {metrics.figure(reviewed['comparison_accuracy'])}",
    ]
    return "\n".join(lines) + "\n"


# --- statistics ---------------------------------------------------------------------------------


def feedback_statistics(folder: Path, guideline: Guideline) -> dict[str, Any]:
    """How often reviewers changed each clause's status, the most-corrected clauses, and agreement
    between reviewers of the same document."""
    documents = load_feedback(folder, "all")
    ids = guideline.clause_ids
    reviews = Counter[str]()
    status_changed = Counter[str]()
    corrections = Counter[str]()
    for document in documents:
        feedback = document.feedback
        tool_status = feedback.get("tool_clause_status", {})
        decided = feedback.get("status_decisions", {})
        for cid in ids:
            reviews[cid] += 1
            if cid in tool_status and document.gold.clause_status.get(cid) != tool_status[cid]:
                status_changed[cid] += 1
                corrections[cid] += 1
            elif cid in decided and decided[cid]["value"] != decided[cid]["tool"]:
                corrections[cid] += 1
        for decision in feedback.get("passage_decisions", []):
            corrections[decision["clause"]] += (decision["tool"] == "evidence") != decision["value"]
        comparison_clause = {i.id: i.comparison_clause for i in guideline.comparison_items()}
        for decision in feedback.get("comparison_decisions", []):
            cid = comparison_clause.get(decision["item"])
            if cid and decision["value"] != decision["tool"]:
                corrections[cid] += 1
    per_clause = [
        {
            "clause": cid,
            "reviews": reviews[cid],
            "status_changed": status_changed[cid],
            "change_rate": status_changed[cid] / reviews[cid] if reviews[cid] else 0.0,
            "corrections": corrections[cid],
        }
        for cid in ids
    ]
    most = sorted(
        (r for r in per_clause if r["corrections"]), key=lambda r: (-r["corrections"], ids.index(r["clause"]))
    )
    return {
        "gold_files": len(documents),
        "documents": len({d.gold.name for d in documents}),
        "reviewers": len({d.gold.annotator for d in documents}),
        "decisions": sum(
            len(d.feedback.get(k, []))
            for d in documents
            for k in ("status_decisions", "passage_decisions", "comparison_decisions")
        ),
        "per_clause": per_clause,
        "most_corrected": most[:10],
        "agreement": reviewer_agreement(documents, guideline),
    }


def reviewer_agreement(documents: Sequence[FeedbackDocument], guideline: Guideline) -> dict[str, Any]:
    """Pairs of reviewers of the same document: clause-status agreement (all clauses, and the clauses
    that at least one of the two decided explicitly), Cohen's kappa, and paragraph-label F1."""
    by_document: dict[str, list[FeedbackDocument]] = {}
    for document in documents:
        by_document.setdefault(document.gold.name, []).append(document)
    rows = []
    status_a: list[str] = []
    status_b: list[str] = []
    decided_pairs: list[tuple[str, str]] = []
    for name, reviews in sorted(by_document.items()):
        for i in range(len(reviews)):
            for j in range(i + 1, len(reviews)):
                a, b = reviews[i], reviews[j]
                first = [a.gold.clause_status[c] for c in guideline.clause_ids]
                second = [b.gold.clause_status[c] for c in guideline.clause_ids]
                status_a += first
                status_b += second
                decided = set(a.feedback.get("status_decisions", {})) | set(b.feedback.get("status_decisions", {}))
                pairs = [
                    (a.gold.clause_status[c], b.gold.clause_status[c]) for c in guideline.clause_ids if c in decided
                ]
                decided_pairs += pairs
                paragraphs = [
                    (set(p.clauses), set(q.clauses))
                    for p, q in zip(a.gold.paragraphs, b.gold.paragraphs, strict=True)
                    if not (p.heading or q.heading)
                ]
                rows.append(
                    {
                        "doc": name,
                        "reviewers": [a.gold.annotator, b.gold.annotator],
                        "status_agreement": metrics.accuracy(first, second),
                        "decided_clauses": len(pairs),
                        "decided_status_agreement": _agreement(pairs),
                        "paragraph_f1": metrics.micro_prf(paragraphs).f1,
                    }
                )
    kappa = None
    if rows:
        from sklearn.metrics import cohen_kappa_score

        value = float(cohen_kappa_score(status_a, status_b, labels=[COVERED, WEAK, MISSING]))
        kappa = round(value, 4) if math.isfinite(value) else None
    return {
        "pairs": len(rows),
        "status_agreement": metrics.accuracy(status_a, status_b) if rows else None,
        "status_kappa": kappa,
        "decided_status_agreement": _agreement(decided_pairs),
        "per_pair": rows,
    }


def format_feedback_statistics(stats: dict[str, Any]) -> str:
    lines = [
        f"{stats['gold_files']} feedback gold files on {stats['documents']} documents "
        f"by {stats['reviewers']} reviewers, {stats['decisions']} explicit decisions",
        "",
        "clause status changed by reviewers (clauses changed at least once):",
    ]
    changed = [r for r in stats["per_clause"] if r["status_changed"]]
    for row in changed:
        lines.append(
            f"  {row['clause']:6} {row['status_changed']:>3} of {row['reviews']:>3} reviews  ({row['change_rate']:.0%})"
        )
    if not changed:
        lines.append("  none")
    lines += ["", "most-corrected clauses (status changes, evidence marked or added, comparisons):"]
    for row in stats["most_corrected"]:
        lines.append(f"  {row['clause']:6} {row['corrections']:>3} corrections")
    if not stats["most_corrected"]:
        lines.append("  none")
    agreement = stats["agreement"]
    lines += ["", "agreement between reviewers of the same document:"]
    if not agreement["pairs"]:
        lines.append("  no document has two reviewers yet")
    else:
        lines.append(
            f"  {agreement['pairs']} pairs: clause status {metrics.figure(agreement['status_agreement'])}, "
            f"Cohen's kappa {metrics.figure(agreement['status_kappa'])}, on clauses either decided "
            f"{metrics.figure(agreement['decided_status_agreement'])}"
        )
        for row in agreement["per_pair"]:
            lines.append(
                f"  {row['doc']:34} {' / '.join(row['reviewers'])}: status {row['status_agreement']:.3f}, "
                f"decided {metrics.figure(row['decided_status_agreement'])} ({row['decided_clauses']} clauses), "
                f"paragraph F1 {row['paragraph_f1']:.3f}"
            )
    return "\n".join(lines) + "\n"
