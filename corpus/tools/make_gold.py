"""Build NAME.gold.json from NAME.txt and the annotator's NAME.draft.json.

The draft lists, in document order, one entry per paragraph (blocks separated by a blank line):
    {"doc": "NAME", "writer": "w01-...", "annotator": "w01-...", "profile": "one line",
     "form": {"headings": "guide-items", "style": "first-person", "tables": false},
     "paragraphs": [{"starts": "一、意识与素质", "heading": true, "clauses": []},
                    {"starts": "本人周建国", "heading": false, "clauses": ["1.1a", "7.1a"]}, ...],
     "clause_status": {"1.1a": "covered", ...all 39 ids},
     "comparisons": {"7.1": {"past": true, "benchmark": false, "trend": true}, "7.2": {...}, "7.3": {...}}}

`starts` is the first few characters of the paragraph (at least 4, or all of a shorter one): it catches a draft that has
slipped by one paragraph, which would otherwise shift every label after it. This script computes
the character offsets so annotators never count characters by hand, and checks every rule of
docs/annotation-guide.md that a machine can check. It needs only the standard library, so writers
and annotators can run it anywhere:

    python corpus/tools/make_gold.py corpus/annotated/NAME.txt   # writes NAME.gold.json
    python corpus/tools/make_gold.py --check corpus/annotated/NAME.txt   # checks only
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

CLAUSE_IDS = [
    *(f"1.1{x}" for x in "abc"),
    *(f"1.2{x}" for x in "abc"),
    *(f"2.1{x}" for x in "ab"),
    *(f"2.2{x}" for x in "abc"),
    *(f"3.1{x}" for x in "abc"),
    *(f"3.2{x}" for x in "ab"),
    *(f"4.1{x}" for x in "ab"),
    *(f"4.2{x}" for x in "ab"),
    *(f"5.1{x}" for x in "ab"),
    *(f"5.2{x}" for x in "ab"),
    *(f"6.1{x}" for x in "ab"),
    *(f"6.2{x}" for x in "ab"),
    *(f"7.1{x}" for x in "abc"),
    *(f"7.2{x}" for x in "abc"),
    *(f"7.3{x}" for x in "abc"),
    *(f"7.4{x}" for x in "ab"),
]
STATUSES = {"covered", "weak", "missing"}
HEADING_FORMS = {"guide-items", "guide-categories", "own-ordered", "own-unordered", "none"}
COMPARISON_ITEMS = ("7.1", "7.2", "7.3")


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """Blocks separated by blank lines, trimmed of surrounding whitespace."""
    spans = []
    for match in re.finditer(r"\S(?:.*\S)?(?:\n[ \t\u3000]*\S.*)*", text):
        start, end = match.span()
        block = text[start:end].rstrip()
        spans.append((start, start + len(block)))
    return spans


def comparison_status(flags: dict[str, bool]) -> str:
    """7.xc follows the item's comparisons: both → covered, one → weak, none → missing."""
    count = bool(flags.get("past")) + bool(flags.get("benchmark"))
    return ("missing", "weak", "covered")[count]


def draft_problems(text: str, draft: dict) -> list[str]:
    """Every machine-checkable rule of the annotation guide, applied to one draft."""
    errors = []
    spans = paragraph_spans(text)
    paras = draft.get("paragraphs", [])
    if not draft.get("writer"):
        errors.append("no 'writer' recorded")
    form = draft.get("form", {})
    if form.get("headings") not in HEADING_FORMS:
        errors.append(f"form.headings must be one of {sorted(HEADING_FORMS)}")
    if len(spans) != len(paras):
        errors.append(f"text has {len(spans)} paragraphs, draft lists {len(paras)}")
    for i, ((s, e), para) in enumerate(zip(spans, paras, strict=False)):
        starts = re.sub(r"\s", "", str(para.get("starts", "")))
        actual = re.sub(r"\s", "", text[s:e])
        if len(starts) < min(4, len(actual)) or not actual.startswith(starts):
            errors.append(f"paragraph {i}: 'starts' {para.get('starts')!r} but the text starts {text[s : s + 12]!r}")
    status = draft.get("clause_status", {})
    if sorted(status) != sorted(CLAUSE_IDS):
        errors.append(f"clause_status keys differ from the 39 ids: {sorted(set(status) ^ set(CLAUSE_IDS))}")
    for cid, value in status.items():
        if value not in STATUSES:
            errors.append(f"{cid}: bad status {value!r}")
    cited = set()
    for i, para in enumerate(paras):
        for cid in para.get("clauses", []):
            if cid not in CLAUSE_IDS:
                errors.append(f"paragraph {i}: unknown clause {cid}")
            cited.add(cid)
        if para.get("heading") and para.get("clauses"):
            errors.append(f"paragraph {i}: a heading cites clauses")
        if len(set(para.get("clauses", []))) != len(para.get("clauses", [])):
            errors.append(f"paragraph {i}: a clause is listed twice")
    for cid in CLAUSE_IDS:
        if status.get(cid) == "missing" and cid in cited:
            errors.append(f"{cid} is 'missing' but a paragraph cites it")
        if status.get(cid) in ("covered", "weak") and cid not in cited:
            errors.append(f"{cid} is {status[cid]!r} but no paragraph cites it")
    comparisons = draft.get("comparisons", {})
    for item in COMPARISON_ITEMS:
        comp = comparisons.get(item, {})
        if set(comp) != {"past", "benchmark", "trend"} or not all(isinstance(v, bool) for v in comp.values()):
            errors.append(f"comparisons {item} needs past, benchmark and trend booleans")
            continue
        if comp["trend"] and not comp["past"]:
            errors.append(f"comparisons {item}: a trend (3+ points of one measure) is also a past comparison")
        expected = comparison_status(comp)
        if status.get(f"{item}c") != expected:
            errors.append(f"{item}c is {status.get(f'{item}c')!r} but the comparisons of {item} make it {expected!r}")
    return errors


def main(argv: list[str]) -> int:
    check_only = "--check" in argv
    paths = [a for a in argv if a != "--check"]
    if len(paths) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    txt = Path(paths[0])
    raw = txt.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:  # a narrative that convert_forms.py re-encoded as GBK
        text = raw.decode("gb18030")
    if "\r" in text:
        print(f"{txt}: use LF line endings", file=sys.stderr)
        return 1
    draft_path = txt.with_name(txt.stem + ".draft.json")
    draft = json.loads(draft_path.read_text(encoding="utf-8"))
    spans = paragraph_spans(text)
    errors = draft_problems(text, draft)
    if errors:
        for e in errors:
            print(f"{txt}: {e}", file=sys.stderr)
        print("paragraphs of the text:", file=sys.stderr)
        for i, (s, e) in enumerate(spans[:300]):
            print(f"  [{i}] {text[s:e][:30]!r}", file=sys.stderr)
        return 1
    if check_only:
        print(f"{txt}: ok, {len(spans)} paragraphs, {len(text)} chars")
        return 0
    gold = {
        "doc": draft["doc"],
        "writer": draft["writer"],
        "annotator": draft.get("annotator", draft["writer"]),
        "profile": draft.get("profile", ""),
        "form": draft["form"],
        "paragraphs": [
            {"start": s, "end": e, "heading": bool(p["heading"]), "clauses": list(p["clauses"])}
            for (s, e), p in zip(spans, draft["paragraphs"], strict=True)
        ],
        "clause_status": {cid: draft["clause_status"][cid] for cid in CLAUSE_IDS},
        "comparisons": {
            k: {f: bool(draft["comparisons"][k][f]) for f in ("past", "benchmark", "trend")} for k in COMPARISON_ITEMS
        },
    }
    out = txt.with_name(txt.stem + ".gold.json")
    out.write_text(json.dumps(gold, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out}: {len(spans)} paragraphs, {len(text)} chars")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
