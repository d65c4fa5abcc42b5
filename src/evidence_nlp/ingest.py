"""Ingest: read a .txt/.md/.docx/.pdf file into a Document (decoded text + provenance).

Offsets everywhere in evidence-nlp index `Document.text`: the decoded text with newlines
normalised to "\\n" (for .docx/.pdf, the extracted text, blocks separated by a blank line).
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .errors import IngestError

TEXT_SUFFIXES = (".txt", ".md")
SUPPORTED_SUFFIXES = (*TEXT_SUFFIXES, ".docx", ".pdf")
_CID = re.compile(r"\(cid:\d+\)")


@dataclass(frozen=True)
class Document:
    path: str
    text: str
    encoding: str
    sha256: str
    format: str
    # (start, end) spans of paragraphs the source marks as headings (docx heading styles).
    heading_spans: tuple[tuple[int, int], ...] = ()
    warnings: tuple[str, ...] = field(default=())


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _looks_binary(raw: bytes) -> bool:
    sample = raw[:65536]
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return controls > max(8, len(sample) // 50)


def decode_text(raw: bytes, path: str) -> tuple[str, str]:
    """Decode bytes as UTF-8 (BOM or not), UTF-16 with BOM, or GB18030; return (text, encoding)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        candidates = ["utf-8-sig"]
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    else:
        if _looks_binary(raw):
            raise IngestError(path, "binary data, not a text file")
        # GBK is a subset of GB18030: decoding as GB18030 never loses a GBK document.
        candidates = ["utf-8", "gbk", "gb18030"]
    for encoding in candidates:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        return _normalise_newlines(text), encoding
    raise IngestError(path, "cannot decode text: not UTF-8, UTF-16 or GBK/GB18030")


def _read_text_file(raw: bytes, path: str) -> tuple[str, str, tuple[tuple[int, int], ...], tuple[str, ...]]:
    text, encoding = decode_text(raw, path)
    return text, encoding, (), ()


def _read_docx(raw: bytes, path: str) -> tuple[str, str, tuple[tuple[int, int], ...], tuple[str, ...]]:
    import io

    try:
        import docx
        from docx.table import Table
    except ImportError:  # pragma: no cover - declared dependency
        raise IngestError(path, "python-docx is not installed") from None
    if not zipfile.is_zipfile(io.BytesIO(raw)):
        reason = (
            "encrypted (password-protected) .docx"
            if raw.startswith(b"\xd0\xcf\x11\xe0")
            else "corrupt .docx (not a zip package)"
        )
        raise IngestError(path, reason)
    try:
        document = docx.Document(io.BytesIO(raw))
        blocks: list[tuple[str, bool]] = []
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                rows = []
                for row in block.rows:
                    cells: list[str] = []
                    for cell in row.cells:  # merged cells repeat: keep each once per row
                        value = " ".join(cell.text.split())
                        if not cells or cells[-1] != value:
                            cells.append(value)
                    if any(cells):
                        rows.append(" | ".join(cells))
                if rows:
                    blocks.append(("\n".join(rows), False))
            else:
                value = block.text.strip()
                if value:
                    style = (block.style.name if block.style is not None else "") or ""
                    is_heading = style.lower().startswith(("heading", "title")) or style.startswith("标题")
                    blocks.append((_normalise_newlines(value), is_heading))
    except IngestError:
        raise
    except Exception as exc:  # python-docx raises many types on damaged packages
        raise IngestError(path, f"corrupt .docx ({type(exc).__name__})") from None
    parts, headings, offset = [], [], 0
    for value, is_heading in blocks:
        if parts:
            offset += 2
        if is_heading:
            headings.append((offset, offset + len(value)))
        parts.append(value)
        offset += len(value)
    return "\n\n".join(parts), "docx", tuple(headings), ()


def _read_pdf(raw: bytes, path: str) -> tuple[str, str, tuple[tuple[int, int], ...], tuple[str, ...]]:
    import io
    import logging

    try:
        import pdfplumber
    except ImportError:  # pragma: no cover - declared dependency
        raise IngestError(path, "pdfplumber is not installed") from None
    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    if not raw.startswith(b"%PDF"):
        raise IngestError(path, "corrupt .pdf (no PDF header)")
    pages: list[str] = []
    needs_ocr: list[int] = []
    try:
        with pdfplumber.open(io.BytesIO(raw)) as pdf:
            for number, page in enumerate(pdf.pages, start=1):
                value = _normalise_newlines(page.extract_text() or "").strip()
                if _CID.search(value) and len(_CID.sub("", value).strip()) < len(value) / 2:
                    needs_ocr.append(number)  # glyphs without a Unicode map: text is unreadable
                    continue
                if value:
                    pages.append(value)
    except Exception as exc:  # pdfminer raises many types on damaged or encrypted files
        name = type(exc).__name__
        if "password" in name.lower() or "encrypt" in str(exc).lower():
            raise IngestError(path, "encrypted .pdf: cannot extract text") from None
        raise IngestError(path, f"corrupt .pdf ({name})") from None
    if not pages:
        if needs_ocr:
            raise IngestError(path, "PDF text has no Unicode mapping: needs OCR")
        raise IngestError(path, "scanned PDF: no extractable text")
    warnings = (f"pages {', '.join(map(str, needs_ocr))} have no Unicode text map and need OCR",) if needs_ocr else ()
    return "\n\n".join(pages), "pdf", (), warnings


_READERS = {".txt": _read_text_file, ".md": _read_text_file, ".docx": _read_docx, ".pdf": _read_pdf}


def read_document(path: str | Path) -> Document:
    """Read one input file; raise IngestError (file + reason) for anything unusable."""
    file = Path(path)
    name = str(path)
    suffix = file.suffix.lower()
    if suffix not in _READERS:
        raise IngestError(
            name, f"unsupported file type '{suffix or '(none)'}' (supported: {', '.join(SUPPORTED_SUFFIXES)})"
        )
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise IngestError(name, "file not found") from None
    except IsADirectoryError:
        raise IngestError(name, "is a directory, not a file") from None
    except PermissionError:
        raise IngestError(name, "permission denied") from None
    except OSError as exc:
        raise IngestError(name, f"cannot read file ({exc.strerror or exc})") from None
    if not raw.strip():
        raise IngestError(name, "empty file")
    text, encoding, headings, warnings = _READERS[suffix](raw, name)
    if not text.strip():
        raise IngestError(name, "no text (only whitespace)")
    return Document(
        path=name,
        text=text,
        encoding=encoding,
        sha256=hashlib.sha256(raw).hexdigest(),
        format=suffix.lstrip("."),
        heading_spans=headings,
        warnings=warnings,
    )
