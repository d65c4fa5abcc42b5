"""Build NAME.gold.json from NAME.txt and the annotator's NAME.draft.json.

The draft lists, in document order, one entry per paragraph (blocks separated by a blank line):
    {"doc": "NAME", "profile": "one line",
     "paragraphs": [{"heading": true, "clauses": []}, {"heading": false, "clauses": ["1.1a"]}, ...],
     "clause_status": {"1.1a": "covered", ...all 39 ids},
     "comparisons": {"7.1": {"past": true, "benchmark": false}, "7.2": {...}, "7.3": {...}}}
This script computes the character offsets so annotators never count characters by hand, and checks
the draft for consistency. Usage: python corpus/tools/make_gold.py corpus/annotated/NAME.txt
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

CLAUSE_IDS = [
    "1.1a",
    "1.1b",
    "1.1c",
    "1.2a",
    "1.2b",
    "1.2c",
    "2.1a",
    "2.1b",
    "2.2a",
    "2.2b",
    "2.2c",
    "3.1a",
    "3.1b",
    "3.1c",
    "3.2a",
    "3.2b",
    "4.1a",
    "4.1b",
    "4.2a",
    "4.2b",
    "5.1a",
    "5.1b",
    "5.2a",
    "5.2b",
    "6.1a",
    "6.1b",
    "6.2a",
    "6.2b",
    "7.1a",
    "7.1b",
    "7.1c",
    "7.2a",
    "7.2b",
    "7.2c",
    "7.3a",
    "7.3b",
    "7.3c",
    "7.4a",
    "7.4b",
]
STATUSES = {"covered", "weak", "missing"}


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """Blocks separated by blank lines, trimmed of surrounding whitespace."""
    spans = []
    for match in re.finditer(r"\S(?:.*\S)?(?:\n[ \t\u3000]*\S.*)*", text):
        start, end = match.span()
        block = text[start:end].rstrip()
        spans.append((start, start + len(block)))
    return spans


def main(txt_path: str) -> int:
    txt = Path(txt_path)
    text = txt.read_text(encoding="utf-8")
    draft_path = txt.with_name(txt.stem + ".draft.json")
    draft = json.loads(draft_path.read_text(encoding="utf-8"))
    spans = paragraph_spans(text)
    paras = draft["paragraphs"]
    errors = []
    if len(spans) != len(paras):
        errors.append(f"text has {len(spans)} paragraphs, draft lists {len(paras)}")
    status = draft["clause_status"]
    if sorted(status) != sorted(CLAUSE_IDS):
        errors.append(f"clause_status keys differ from the 39 ids: {sorted(set(status) ^ set(CLAUSE_IDS))}")
    for cid, value in status.items():
        if value not in STATUSES:
            errors.append(f"{cid}: bad status {value!r}")
    cited = set()
    for i, para in enumerate(paras):
        for cid in para["clauses"]:
            if cid not in CLAUSE_IDS:
                errors.append(f"paragraph {i}: unknown clause {cid}")
            cited.add(cid)
    for cid in CLAUSE_IDS:
        if status.get(cid) == "missing" and cid in cited:
            errors.append(f"{cid} is 'missing' but a paragraph cites it")
        if status.get(cid) in ("covered", "weak") and cid not in cited:
            errors.append(f"{cid} is {status[cid]!r} but no paragraph cites it")
    for item in ("7.1", "7.2", "7.3"):
        comp = draft["comparisons"].get(item, {})
        if set(comp) != {"past", "benchmark"}:
            errors.append(f"comparisons {item} needs past and benchmark booleans")
    if errors:
        for e in errors:
            print(f"{txt}: {e}", file=sys.stderr)
        for i, (s, e) in enumerate(spans[:200]):
            print(f"  [{i}] {text[s:e][:30]!r}", file=sys.stderr)
        return 1
    gold = {
        "doc": draft["doc"],
        "profile": draft["profile"],
        "paragraphs": [
            {"start": s, "end": e, "heading": bool(p["heading"]), "clauses": list(p["clauses"])}
            for (s, e), p in zip(spans, paras, strict=False)
        ],
        "clause_status": {cid: status[cid] for cid in CLAUSE_IDS},
        "comparisons": {k: draft["comparisons"][k] for k in ("7.1", "7.2", "7.3")},
    }
    out = txt.with_name(txt.stem + ".gold.json")
    out.write_text(json.dumps(gold, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out}: {len(spans)} paragraphs, {len(text)} chars")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
