"""Turn annotated .txt narratives into the other forms an intake receives — .docx with Word heading
styles and real tables, text-layer .pdf, GBK-encoded .txt — keeping their gold labels.

Usage (from the repository root, in the project's virtual environment):
    python corpus/tools/convert_forms.py docx corpus/annotated/NAME.txt ...
    python corpus/tools/convert_forms.py pdf  corpus/annotated/NAME.txt ...   # needs chromium
    python corpus/tools/convert_forms.py gbk  corpus/annotated/NAME.txt ...

The new file replaces NAME.txt; NAME.gold.json gets offsets into the text evidence-nlp reads from
the new file (each gold paragraph is found again, ignoring whitespace), so `corpus check` holds.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from evidence_nlp.ingest import read_document

TABLE_ROW = re.compile(r"\s\|\s")


def _blocks(text: str, gold: dict) -> list[tuple[str, bool]]:
    return [(text[p["start"] : p["end"]], p["heading"]) for p in gold["paragraphs"]]


def write_docx(blocks: list[tuple[str, bool]], target: Path) -> None:
    import docx

    document = docx.Document()
    for value, heading in blocks:
        lines = value.split("\n")
        if not heading and len(lines) > 1 and all(TABLE_ROW.search(line) for line in lines):
            rows = [[cell.strip() for cell in line.split("|")] for line in lines]
            table = document.add_table(rows=len(rows), cols=max(len(r) for r in rows))
            for r, cells in enumerate(rows):
                for c, cell in enumerate(cells):
                    table.cell(r, c).text = cell
        elif heading:
            level = 1 if re.match(r"^[一二三四五六七八九十]+、|^第.部分|^\d+[、.．]\s*\D", value) else 2
            document.add_heading(value, level=level)
        else:
            document.add_paragraph(value)
    document.save(target)


def write_pdf(blocks: list[tuple[str, bool]], target: Path) -> None:
    body = []
    for value, heading in blocks:
        tag = "h2" if heading else "p"
        body.append(f"<{tag}>{html.escape(value).replace(chr(10), '<br>')}</{tag}>")
    page = (
        '<!doctype html><html><head><meta charset="utf-8"><style>'
        "body{font-family:'Noto Serif CJK SC','Noto Sans CJK SC',serif;font-size:12pt;line-height:1.6;margin:2cm}"
        "h2{font-size:14pt}</style></head><body>" + "\n".join(body) + "</body></html>"
    )
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "narrative.html"
        source.write_text(page, encoding="utf-8")
        subprocess.run(
            [
                "chromium",
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                f"--user-data-dir={tmp}/profile",
                "--no-pdf-header-footer",
                f"--print-to-pdf={target}",
                source.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


def realign(gold: dict, old_text: str, new_text: str) -> dict:
    """Gold paragraphs located in the new text. Whitespace is ignored, and so are characters that
    the conversion substituted one for one (a PDF font may extract 户 as 戶): the two texts are
    aligned by their longest common blocks (difflib), and each paragraph spans from its first to its
    last aligned character."""
    from difflib import SequenceMatcher

    old_positions = [i for i, ch in enumerate(old_text) if not ch.isspace()]
    new_positions = [i for i, ch in enumerate(new_text) if not ch.isspace()]
    old_squeezed = "".join(old_text[i] for i in old_positions)
    new_squeezed = "".join(new_text[i] for i in new_positions)
    mapping: dict[int, int] = {}
    matcher = SequenceMatcher(None, old_squeezed, new_squeezed, autojunk=False)
    for a, b, size in matcher.get_matching_blocks():
        for k in range(size):
            mapping[a + k] = b + k
    old_index = {pos: k for k, pos in enumerate(old_positions)}
    paragraphs = []
    for p in gold["paragraphs"]:
        first, last = old_index[p["start"]], old_index[p["end"] - 1]
        aligned = [mapping[k] for k in range(first, last + 1) if k in mapping]
        if len(aligned) < 0.9 * (last - first + 1):
            raise SystemExit(f"{gold['doc']}: paragraph at {p['start']} not found in the converted text")
        paragraphs.append({**p, "start": new_positions[aligned[0]], "end": new_positions[aligned[-1]] + 1})
    return {**gold, "paragraphs": paragraphs}


def convert(kind: str, txt: Path) -> None:
    gold_path = txt.with_name(txt.stem + ".gold.json")
    gold = json.loads(gold_path.read_text(encoding="utf-8"))
    text = txt.read_text(encoding="utf-8")
    blocks = _blocks(text, gold)
    if kind == "gbk":
        target = txt
        raw = text.encode("gbk")  # raises on characters GBK lacks: pick another narrative
        target.write_bytes(raw)
    else:
        target = txt.with_suffix("." + kind)
        (write_docx if kind == "docx" else write_pdf)(blocks, target)
    new_text = read_document(target).text
    gold = realign(gold, text, new_text)
    gold["form"] = {**gold.get("form", {}), "file": kind}
    gold_path.write_text(json.dumps(gold, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    if target != txt:
        txt.unlink()
    print(f"{target}: {len(new_text)} chars, {len(gold['paragraphs'])} paragraphs realigned")


if __name__ == "__main__":
    kind, *paths = sys.argv[1:]
    if kind not in ("docx", "pdf", "gbk") or not paths:
        raise SystemExit(__doc__)
    for path in paths:
        convert(kind, Path(path))
