"""Statistics of the annotated corpus: who wrote it, in which forms, and what it covers."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .coverage import COVERED, MISSING, WEAK
from .evaluate import SPLIT_FILE, GoldDocument


def corpus_statistics(gold_dir: Path, documents: Sequence[GoldDocument]) -> dict[str, Any]:
    splits = json.loads((gold_dir / SPLIT_FILE).read_text(encoding="utf-8"))
    split_of = {name: split for split, names in splits.items() if isinstance(names, list) for name in names}
    # Characters of each narrative's text, up to the end of its last paragraph.
    lengths = [max((p.end for p in d.paragraphs), default=0) for d in documents]
    status_shares = []
    for document in documents:
        counts = Counter(document.clause_status.values())
        status_shares.append({s: counts[s] / len(document.clause_status) for s in (COVERED, WEAK, MISSING)})
    text_paragraphs = [p for d in documents for p in d.paragraphs if not p.heading]
    comparisons: dict[str, Counter] = {}
    for document in documents:
        for item, flags in document.comparisons.items():
            comparisons.setdefault(item, Counter()).update(k for k, v in flags.items() if v)
    writers = Counter(d.writer for d in documents)
    return {
        "documents": len(documents),
        "writers": dict(sorted(writers.items())),
        "writers_by_split": {
            split: sorted({d.writer for d in documents if split_of.get(d.name) == split})
            for split in ("train", "dev", "test")
        },
        "documents_by_split": dict(Counter(split_of.get(d.name, "none") for d in documents)),
        "heading_forms": dict(Counter(d.heading_form for d in documents).most_common()),
        "styles": dict(Counter(str(d.form.get("style", "?")) for d in documents).most_common()),
        "with_tables": sum(bool(d.form.get("tables")) for d in documents),
        "file_types": dict(Counter(d.path.suffix for d in documents).most_common()),
        "characters": {
            "min": min(lengths),
            "median": int(statistics.median(lengths)),
            "max": max(lengths),
            "total": sum(lengths),
        },
        "text_paragraphs": len(text_paragraphs),
        "paragraph_clause_counts": dict(sorted(Counter(min(len(p.clauses), 4) for p in text_paragraphs).items())),
        "status_mean_share": {
            s: round(statistics.fmean(x[s] for x in status_shares), 3) for s in (COVERED, WEAK, MISSING)
        },
        "documents_nothing_missing": sum(x[MISSING] == 0 for x in status_shares),
        "documents_thin": sum(x[WEAK] + x[MISSING] >= 1 / 3 for x in status_shares),
        "comparisons": {item: dict(sorted(c.items())) for item, c in sorted(comparisons.items())},
    }


def format_statistics(stats: dict[str, Any]) -> str:
    lines = [f"{stats['documents']} documents from {len(stats['writers'])} writers"]
    lines.append("writers: " + ", ".join(f"{w} {n}" for w, n in stats["writers"].items()))
    for split, writers in stats["writers_by_split"].items():
        lines.append(f"  {split}: {stats['documents_by_split'].get(split, 0)} documents, writers {', '.join(writers)}")
    lines.append("heading forms: " + ", ".join(f"{k} {v}" for k, v in stats["heading_forms"].items()))
    lines.append("styles: " + ", ".join(f"{k} {v}" for k, v in stats["styles"].items()))
    lines.append(f"with flattened tables: {stats['with_tables']}")
    lines.append("files: " + ", ".join(f"{k} {v}" for k, v in stats["file_types"].items()))
    c = stats["characters"]
    lines.append(f"characters: min {c['min']}, median {c['median']}, max {c['max']}, total {c['total']}")
    counts = stats["paragraph_clause_counts"]
    lines.append(
        f"text paragraphs: {stats['text_paragraphs']}; citing 0/1/2/3/4+ clauses: "
        + "/".join(str(counts.get(n, 0)) for n in range(5))
    )
    share = stats["status_mean_share"]
    lines.append(
        f"status mix (mean share per document): covered {share['covered']:.2f}, weak {share['weak']:.2f}, "
        f"missing {share['missing']:.2f}; nothing missing in {stats['documents_nothing_missing']}, "
        f"thin (a third or more weak/missing) {stats['documents_thin']}"
    )
    for item, flags in stats["comparisons"].items():
        lines.append(f"comparisons {item}: " + ", ".join(f"{k} {v}" for k, v in flags.items()))
    return "\n".join(lines)
