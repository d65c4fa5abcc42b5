"""Ingest: read a .txt/.md/.docx/.pdf file into a Document (decoded text + provenance).

Offsets everywhere in evidence-nlp index `Document.text`: the decoded text with newlines
normalised to "\\n" (for .docx/.pdf, the extracted text, blocks separated by a blank line).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .errors import IngestError

TEXT_SUFFIXES = (".txt", ".md")
SUPPORTED_SUFFIXES = (*TEXT_SUFFIXES, ".docx", ".pdf")
_CID = re.compile(r"\(cid:\d+\)")
# A .docx whose parts unpack to more than this is refused before parsing (a zip bomb would
# otherwise exhaust memory and time); real narratives unpack to a few MB.
MAX_DOCX_UNCOMPRESSED = 256 * 1024 * 1024
# Characters that render as nothing: a file made only of these and whitespace has no text.
_INVISIBLE = "\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff"
_VISIBLE = re.compile(f"[^\\s\\x00-\\x1f\\x7f{_INVISIBLE}]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# PDF fonts often map a glyph shared by a radical and an ideograph to the radical's code point, so
# "本人" extracts as "本⼈" (KANGXI RADICAL MAN) and "长" as "⻓": the words then match nothing. The
# Kangxi radicals fold to their ideographs by NFKC; the simplified radicals (which NFKC leaves alone)
# by this table. One character for one, so offsets are unchanged.
_RADICAL_FOLD = {
    **{cp: unicodedata.normalize("NFKC", chr(cp)) for cp in range(0x2F00, 0x2FD6)},
    **{
        ord(k): v
        for k, v in zip(
            "⺟⺠⺩⻄⻅⻆⻈⻉⻋⻐⻓⻔⻘⻚⻛⻜⻝⻠⻢⻤⻥⻦⻧⻨⻩⻪⻬⻮⻰⻳",
            "母民王西见角讠贝车钅长门青页风飞食饣马鬼鱼鸟卤麦黄黾齐齿龙龟",
            strict=True,
        )
    },
}


def fold_radicals(text: str) -> str:
    """CJK radical code points (as badly mapped PDF fonts emit them) as the ideographs they stand for."""
    return text.translate(_RADICAL_FOLD)


# Magic numbers of formats that are sometimes renamed to .txt.
_MAGIC = (
    (b"PK\x03\x04", "a zip package, e.g. .docx"),
    (b"%PDF", "a PDF"),
    (b"\xd0\xcf\x11\xe0", "an OLE compound file, e.g. .doc"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"{\\rtf", "an RTF document"),
)


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


def display_path(path: str) -> str:
    """A file name safe for a one-line message: control and format characters (bidi overrides),
    line separators and undecodable file-name bytes (lone surrogates) are shown escaped."""
    out = []
    for ch in path:
        category = unicodedata.category(ch)
        if 0xDC80 <= ord(ch) <= 0xDCFF:  # a byte that is not UTF-8, as os.fsdecode keeps it
            out.append(f"\\x{ord(ch) - 0xDC00:02x}")
        elif category in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            out.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            out.append(ch)
    return "".join(out)


_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13))


def _looks_binary(raw: bytes) -> bool:
    """NUL bytes anywhere, or more than 2% other control bytes (ESC, BEL, … in a rare text)."""
    if b"\x00" in raw:
        return True
    controls = len(raw) - len(raw.translate(None, _CONTROL_BYTES))
    return controls > max(8, len(raw) // 50)


def _binary_reason(raw: bytes) -> str:
    kind = next((name for magic, name in _MAGIC if raw.startswith(magic)), None)
    if kind:
        return f"binary data, not a text file (looks like {kind}; check the file extension)"
    if _looks_like_utf16(raw):
        return "binary data, not a text file (looks like UTF-16 without a byte-order mark; save the file as UTF-8)"
    return "binary data, not a text file"


def _looks_like_utf16(raw: bytes) -> bool:
    """NUL bytes because the text is UTF-16 without a BOM: it decodes to printable text."""
    sample = raw[:65536]
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            text = sample[: len(sample) // 2 * 2].decode(encoding)
        except UnicodeDecodeError:
            continue
        printable = sum(1 for ch in text if ch.isprintable() or ch in "\n\r\t")
        if text and "\x00" not in text and printable >= 0.98 * len(text):
            return True
    return False


def _hanzi_outside_gb2312(text: str) -> float:
    """Share of CJK ideographs outside GB2312 (the 6,763 common simplified characters)."""
    counts = Counter(re.findall(r"[\u4e00-\u9fff]", text))
    total = sum(counts.values())
    if not total:
        return 0.0
    rare = 0
    for ch, count in counts.items():
        try:
            ch.encode("gb2312")
        except UnicodeEncodeError:
            rare += count
    return rare / total


def _decode_utf8(raw: bytes, path: str, encoding: str) -> tuple[str, str, tuple[str, ...]] | None:
    """UTF-8, or a file that is UTF-8 except for some bytes: a truncated last character is dropped
    with a warning; anything else is mixed encodings, refused (decoding it all as GBK would give
    mojibake, guessing per byte run would invent text). None when the file does not look like UTF-8."""
    body = raw[3:] if encoding == "utf-8-sig" else raw
    try:
        return _normalise_newlines(body.decode("utf-8")), encoding, ()
    except UnicodeDecodeError as exc:
        error = exc
    if error.reason == "unexpected end of data" and error.end == len(body) and len(body) - error.start < 4:
        try:
            text = body[: error.start].decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            cut = len(body) - error.start
            warning = f"the file ends inside a UTF-8 character: its last {cut} byte(s) were dropped (truncated file?)"
            return _normalise_newlines(text), encoding, (warning,)
    lenient = body.decode("utf-8", "surrogateescape")
    invalid = len(re.findall("[\udc80-\udcff]", lenient))
    non_ascii = len(body.translate(None, bytes(range(128))))  # bytes >= 0x80
    if encoding == "utf-8-sig" or non_ascii - invalid > invalid:  # mostly valid multi-byte UTF-8
        start = error.start + len(raw) - len(body)
        line = raw.count(b"\n", 0, start) + 1
        raise IngestError(
            path,
            f"cannot decode text: mixed encodings (UTF-8 with {invalid} invalid bytes, the first at line {line}, "
            f"byte {start}); save the whole file as UTF-8",
        )
    return None


def _decode(raw: bytes, path: str) -> tuple[str, str, tuple[str, ...]]:
    if raw.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        raise IngestError(path, "unsupported encoding UTF-32; save the file as UTF-8")
    if raw.startswith(b"\xef\xbb\xbf"):
        decoded = _decode_utf8(raw, path, "utf-8-sig")  # a file that declares UTF-8 is never read as GBK
        if decoded is None:  # pragma: no cover - _decode_utf8 raises instead for utf-8-sig
            raise IngestError(path, "cannot decode text: invalid UTF-8")
        return decoded
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError:
            raise IngestError(path, "cannot decode text: invalid UTF-16") from None
        if "\x00" in text:
            raise IngestError(path, _binary_reason(raw))
        return _normalise_newlines(text), "utf-16", ()
    if _looks_binary(raw):
        raise IngestError(path, _binary_reason(raw))
    decoded = _decode_utf8(raw, path, "utf-8")
    if decoded is not None:
        return decoded
    # GBK is a subset of GB18030: decoding as GB18030 never loses a GBK document.
    for encoding in ("gbk", "gb18030"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        _check_plausible_gbk(raw, text, path)
        return _normalise_newlines(text), encoding, ()
    raise IngestError(path, "cannot decode text: not UTF-8, UTF-16 or GBK/GB18030")


def _check_plausible_gbk(raw: bytes, text: str, path: str) -> None:
    """GB18030 decodes almost any byte soup: refuse text that is Big5 read as GBK (the
    characters come out as rare ones) or mostly private-use code points (binary data)."""
    if _hanzi_outside_gb2312(text) > 0.25:
        try:
            raw.decode("big5")
        except UnicodeDecodeError:
            pass  # e.g. traditional characters written in GBK
        else:
            raise IngestError(path, "cannot decode text: looks like Big5 (traditional Chinese); save the file as UTF-8")
    non_ascii = len(re.findall(r"[^\x00-\x7f]", text))
    private = len(re.findall("[\ue000-\uf8ff\U000f0000-\U0010ffff]", text))
    if private > max(2, non_ascii // 50):
        raise IngestError(
            path, "cannot decode text: not UTF-8, UTF-16 or GBK/GB18030 (binary data or another encoding?)"
        )


def _read_text_file(raw: bytes, path: str) -> tuple[str, str, tuple[tuple[int, int], ...], tuple[str, ...]]:
    text, encoding, warnings = _decode(raw, path)
    return text, encoding, (), warnings


def _read_docx(raw: bytes, path: str) -> tuple[str, str, tuple[tuple[int, int], ...], tuple[str, ...]]:
    import io

    try:
        import docx
        from docx.table import Table
    except ImportError:  # pragma: no cover - declared dependency
        raise IngestError(path, "python-docx is not installed") from None
    if not zipfile.is_zipfile(io.BytesIO(raw)):
        if not raw.startswith(b"\xd0\xcf\x11\xe0"):
            raise IngestError(path, "corrupt .docx (not a zip package)")
        # An OLE compound file: Word wraps an encrypted .docx in one (streams EncryptionInfo and
        # EncryptedPackage); a Word 97-2003 .doc renamed to .docx has a WordDocument stream.
        if "WordDocument".encode("utf-16-le") in raw and "EncryptedPackage".encode("utf-16-le") not in raw:
            raise IngestError(path, "a Word 97-2003 .doc, not a .docx: save it as .docx")
        raise IngestError(path, "encrypted (password-protected) .docx")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as package:
            unpacked = sum(info.file_size for info in package.infolist())
    except Exception as exc:  # a damaged central directory
        raise IngestError(path, f"corrupt .docx ({type(exc).__name__})") from None
    if unpacked > MAX_DOCX_UNCOMPRESSED:
        raise IngestError(
            path,
            f"corrupt .docx (unpacks to {unpacked:,} bytes, over the limit of {MAX_DOCX_UNCOMPRESSED:,})",
        )
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
    # XML cannot hold lone surrogates, but keep the guarantee that text encodes as UTF-8 explicit.
    return _LONE_SURROGATE.sub("\ufffd", "\n\n".join(parts)), "docx", tuple(headings), ()


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
                value = fold_radicals(_normalise_newlines(page.extract_text() or "")).strip()
                if _CID.search(value) and len(_CID.sub("", value).strip()) < len(value) / 2:
                    needs_ocr.append(number)  # glyphs without a Unicode map: text is unreadable
                    continue
                if value:
                    pages.append(value)
    except Exception as exc:  # pdfminer raises many types on damaged or encrypted files
        if _password_error(exc):
            raise IngestError(path, "encrypted .pdf: cannot extract text") from None
        raise IngestError(path, f"corrupt .pdf ({type(exc).__name__})") from None
    if not pages:
        if needs_ocr:
            raise IngestError(path, "PDF text has no Unicode mapping: needs OCR")
        raise IngestError(path, "scanned PDF: no extractable text")
    warnings = (f"pages {', '.join(map(str, needs_ocr))} have no Unicode text map and need OCR",) if needs_ocr else ()
    # A broken ToUnicode map can yield lone surrogates, which no UTF-8 report could hold.
    return _LONE_SURROGATE.sub("\ufffd", "\n\n".join(pages)), "pdf", (), warnings


def _password_error(exc: BaseException) -> bool:
    """pdfplumber wraps pdfminer's PDFPasswordIncorrect in PdfminerException: look inside."""
    seen: list[BaseException] = []
    queue = [exc]
    while queue and len(seen) < 20:
        current = queue.pop()
        seen.append(current)
        name = type(current).__name__.lower()
        if "password" in name or "encrypt" in name or "encrypt" in str(current).lower():
            return True
        queue += [a for a in current.args if isinstance(a, BaseException)]
        queue += [e for e in (current.__cause__, current.__context__) if e is not None]
    return False


_READERS = {".txt": _read_text_file, ".md": _read_text_file, ".docx": _read_docx, ".pdf": _read_pdf}


def read_document(path: str | Path) -> Document:
    """Read one input file; raise IngestError (file + reason) for anything unusable."""
    file = Path(path)
    name = display_path(str(path))
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
    if not _VISIBLE.search(text):  # whitespace, control and zero-width characters only
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
