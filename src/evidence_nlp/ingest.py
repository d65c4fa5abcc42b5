"""Ingest: read a .txt/.md/.docx/.pdf file into a Document (decoded text + provenance).

Offsets everywhere in evidence-nlp index `Document.text`: the decoded text with newlines
normalised to "\\n" (for .docx/.pdf, the extracted text, blocks separated by a blank line).
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
import unicodedata
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import sandbox
from .errors import EvidenceError, IngestError

TEXT_SUFFIXES = (".txt", ".md")
SUPPORTED_SUFFIXES = (*TEXT_SUFFIXES, ".docx", ".pdf")
_CID = re.compile(r"\(cid:\d+\)")
# A .docx whose parts unpack to more than this is refused before parsing (a zip bomb would
# otherwise exhaust memory and time); real narratives unpack to a few MB.
MAX_DOCX_UNCOMPRESSED = 256 * 1024 * 1024
# Bounds on what one .docx/.pdf may yield (a 50,000-page PDF would otherwise take gigabytes);
# generous for real narratives, which run to tens of pages and tens of thousands of characters.
# Memory and time per file are bounded by the worker process that parses it (sandbox.py).
MAX_PDF_PAGES = 300
MAX_TEXT_CHARS = 2_000_000
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


# NUL and the control bytes above: what a text pasted from another program may carry a few of.
_STRAY_BYTES = b"\x00" + _CONTROL_BYTES
_STRAY_NAMES = {0: "NUL", 7: "BEL", 8: "backspace", 11: "vertical tab", 27: "ESC"}


def _drop_stray_controls(raw: bytes, path: str) -> tuple[bytes, str]:
    """A text that _looks_binary only because of a few stray control bytes (at most 1 %), without
    them, and a warning saying so; IngestError (binary data) for anything else.

    Dropping bytes below 0x20 cannot split a character: in UTF-8, GBK and GB18030 every byte of a
    multi-byte character is 0x30 or above. \t, \n, \r and \f are kept (not in _STRAY_BYTES)."""
    kept = raw.translate(None, _STRAY_BYTES)
    dropped = len(raw) - len(kept)
    if dropped * 100 > len(raw) or any(raw.startswith(magic) for magic, _ in _MAGIC) or _utf16_nuls(raw):
        raise IngestError(path, _binary_reason(raw))
    counts = Counter(b for b in raw if b in _STRAY_BYTES)
    kinds = ", ".join(
        f"{count} {_STRAY_NAMES.get(byte, f'0x{byte:02x}')}" for byte, count in sorted(counts.items())[:5]
    )
    more = ", …" if len(counts) > 5 else ""
    warning = (
        f"{dropped} control character(s) that do not belong in a text ({kinds}{more}) were dropped: "
        "pasted from another program?"
    )
    return kept, warning


def _utf16_nuls(raw: bytes) -> bool:
    """The NULs are those of UTF-16 text without a byte-order mark (every ASCII character has one,
    always at the same parity), not a few stray ones (any parity)."""
    even, odd = raw[0::2].count(0), raw[1::2].count(0)
    return even + odd >= 4 and max(even, odd) >= 0.9 * (even + odd) and _looks_like_utf16(raw)


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
        # A few stray NULs or control bytes in a text: read it without them, with a warning.
        kept, warning = _drop_stray_controls(raw, path)
        try:
            text, encoding, warnings = _decode_plain(kept, path)
        except IngestError:
            raise IngestError(path, _binary_reason(raw)) from None
        return text, encoding, (warning, *warnings)
    return _decode_plain(raw, path)


def _decode_plain(raw: bytes, path: str) -> tuple[str, str, tuple[str, ...]]:
    """Text without a byte-order mark: UTF-8, else GBK/GB18030."""
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
            infos = package.infolist()
    except Exception as exc:  # a damaged central directory
        _reraise_memory_error(exc)
        raise IngestError(path, "corrupt .docx: its zip directory is damaged (truncated file?)") from None
    unpacked = sum(info.file_size for info in infos)
    if "[Content_Types].xml" not in {info.filename for info in infos}:  # every Office Open XML package has one
        raise IngestError(path, "not a Word document: the zip has no [Content_Types].xml (a zip archive renamed?)")
    if unpacked > MAX_DOCX_UNCOMPRESSED:
        raise IngestError(
            path,
            f"corrupt .docx (unpacks to {unpacked:,} bytes, over the limit of {MAX_DOCX_UNCOMPRESSED:,})",
        )
    # The sizes above are what the zip says; python-docx reads each part whole, so a part that
    # unpacks to more than its header declares would be unpacked whole first (gigabytes from a few
    # MB). Unpack each part here in bounded chunks, up to its declared size and no further.
    for info in infos:
        reason = _member_size_lie(raw, info)
        if reason:
            raise IngestError(path, reason)
    characters = counted = 0
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
            if len(blocks) > counted:
                counted = len(blocks)
                characters += len(blocks[-1][0])
                if characters > MAX_TEXT_CHARS:
                    raise IngestError(path, _too_much_text())
    except EvidenceError:  # a FileTimeout from the batch's time limit must stay one
        raise
    except Exception as exc:  # python-docx raises many types on damaged packages
        _reraise_memory_error(exc)
        raise IngestError(path, _docx_failure(exc)) from None
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
    from pdfminer.pdfpage import PDFPage

    pages: list[str] = []
    needs_ocr: list[int] = []
    characters = 0
    try:
        with pdfplumber.open(io.BytesIO(raw)) as pdf:
            # pdf.pages builds every page at once: count them one by one first, and stop early.
            for count, _ in enumerate(PDFPage.create_pages(pdf.doc), start=1):
                if count > MAX_PDF_PAGES:
                    raise IngestError(path, f"more than {MAX_PDF_PAGES} pages (the limit for one file): not read")
            for number, page in enumerate(pdf.pages, start=1):
                value = fold_radicals(_normalise_newlines(page.extract_text() or "")).strip()
                if _CID.search(value) and len(_CID.sub("", value).strip()) < len(value) / 2:
                    needs_ocr.append(number)  # glyphs without a Unicode map: text is unreadable
                    continue
                if value:
                    pages.append(value)
                    characters += len(value)
                    if characters > MAX_TEXT_CHARS:
                        raise IngestError(path, _too_much_text())
    except EvidenceError:  # a FileTimeout from the batch's time limit must stay one
        raise
    except Exception as exc:  # pdfminer raises many types on damaged or encrypted files
        _reraise_memory_error(exc)
        if _password_error(exc):
            raise IngestError(path, "encrypted .pdf: cannot extract text") from None
        raise IngestError(path, _pdf_failure(exc)) from None
    if not pages:
        if needs_ocr:
            raise IngestError(path, "PDF text has no Unicode mapping: needs OCR")
        raise IngestError(path, "scanned PDF: no extractable text")
    warnings = (f"pages {', '.join(map(str, needs_ocr))} have no Unicode text map and need OCR",) if needs_ocr else ()
    # A broken ToUnicode map can yield lone surrogates, which no UTF-8 report could hold.
    return _LONE_SURROGATE.sub("\ufffd", "\n\n".join(pages)), "pdf", (), warnings


def _too_much_text() -> str:
    return f"more than {MAX_TEXT_CHARS:,} characters of text (the limit for one file): not read"


def _reraise_memory_error(exc: BaseException) -> None:
    """A parser's wrapped MemoryError (pdfplumber wraps everything) as the MemoryError it is: the
    worker process reports it as the memory limit, not as a damaged file."""
    if any(isinstance(current, MemoryError) for current in _exception_chain(exc)):
        raise MemoryError from None


_INFLATE_INPUT = 64 * 1024  # compressed bytes fed to zlib at a time
_INFLATE_OUTPUT = 1 << 20  # the most zlib may unpack from them in one step


def _member_size_lie(raw: bytes, info: zipfile.ZipInfo) -> str | None:
    """Why a zip member cannot be trusted (it unpacks to more than its header declares), or None.

    Unpacked in bounded steps and stopped one step past the declared size, so the check itself
    never holds more than a megabyte. Other damage is left to the parser's own messages."""
    if info.compress_type == zipfile.ZIP_STORED or info.flag_bits & 0x1:  # stored: nothing unpacks; encrypted
        return None
    part = display_path(info.filename[:80])
    if info.compress_type != zipfile.ZIP_DEFLATED:  # Word writes only stored and deflated parts
        return f"corrupt .docx: the part {part} uses a compression method Word does not use: not read"
    header = raw[info.header_offset : info.header_offset + 30]
    if len(header) < 30 or not header.startswith(b"PK\x03\x04"):
        return None
    start = info.header_offset + 30 + int.from_bytes(header[26:28], "little") + int.from_bytes(header[28:30], "little")
    data = memoryview(raw)[start : start + info.compress_size]
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    produced = 0
    try:
        for offset in range(0, len(data), _INFLATE_INPUT):
            chunk: bytes | memoryview = data[offset : offset + _INFLATE_INPUT]
            while chunk and not inflater.eof:
                produced += len(inflater.decompress(chunk, _INFLATE_OUTPUT))
                if produced > info.file_size:
                    return (
                        f"corrupt .docx: the part {part} unpacks to more than the {info.file_size:,} bytes "
                        "its zip header declares (a zip bomb?): not read"
                    )
                chunk = inflater.unconsumed_tail
            if inflater.eof:
                break
    except zlib.error:
        return None  # damaged: python-docx says so
    return None


_MISSING_MEMBER = re.compile(r"There is no item named '(.+)' in the archive")
# Packages that are Office Open XML but not Word: python-docx names their main part's content type.
_OTHER_OFFICE = (
    ("spreadsheetml", "an Excel workbook (.xlsx) renamed to .docx"),
    ("presentationml", "a PowerPoint presentation (.pptx) renamed to .docx"),
)


def _docx_failure(exc: BaseException) -> str:
    """Why python-docx could not read a package, in words (never an exception class name)."""
    message = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    missing = _MISSING_MEMBER.search(message)
    if missing:
        member = missing.group(1)
        if member.endswith("document.xml"):
            return f"not a Word document: the zip has no {member}"
        return f"corrupt .docx: the part {member} it refers to is missing"
    if "is not a Word file" in message:
        other = next((name for key, name in _OTHER_OFFICE if key in message), None)
        return f"not a Word document: {other}" if other else "not a Word document: its main part is not a Word body"
    position = getattr(exc, "position", None)  # lxml's XMLSyntaxError: (line, column)
    if position is not None:
        return f"corrupt .docx: a part is not well-formed XML (line {position[0]}, column {position[1]})"
    if isinstance(exc, (zipfile.BadZipFile, EOFError)) or type(exc).__module__ == "zlib":
        return "corrupt .docx: a compressed part cannot be unpacked (damaged or truncated file)"
    return "corrupt .docx: its parts cannot be read as a Word document"


# pdfminer's exception classes, by name (pdfplumber wraps them), and what each means.
_PDF_FAILURES = (
    ("PSEOF", "corrupt .pdf: the file ends too early (truncated or incompletely uploaded?)"),
    ("PDFNoValidXRef", "corrupt .pdf: its cross-reference table is damaged"),
    ("PDFNoOutlines", "corrupt .pdf: its document structure is damaged"),
)


def _pdf_failure(exc: BaseException) -> str:
    """Why pdfplumber could not read a PDF, in words (never an exception class name)."""
    for current in _exception_chain(exc):
        name = type(current).__name__
        reason = next((text for key, text in _PDF_FAILURES if name == key), None)
        if reason:
            return reason
        if "/Root" in str(current):
            return "corrupt .pdf: it has no document catalogue (/Root); the file is damaged or not really a PDF"
        if type(current).__module__ == "zlib":
            return "corrupt .pdf: a compressed stream is damaged"
    return "corrupt .pdf: its structure is damaged, no text could be extracted"


def _exception_chain(exc: BaseException) -> list[BaseException]:
    """exc, the exceptions it wraps (in args) and its causes, at most 20."""
    seen: list[BaseException] = []
    queue = [exc]
    while queue and len(seen) < 20:
        current = queue.pop()
        seen.append(current)
        queue += [a for a in current.args if isinstance(a, BaseException)]
        queue += [e for e in (current.__cause__, current.__context__) if e is not None]
    return seen


def _password_error(exc: BaseException) -> bool:
    """pdfplumber wraps pdfminer's PDFPasswordIncorrect in PdfminerException: look inside."""
    for current in _exception_chain(exc):
        name = type(current).__name__.lower()
        if "password" in name or "encrypt" in name or "encrypt" in str(current).lower():
            return True
    return False


_READERS = {".txt": _read_text_file, ".md": _read_text_file, ".docx": _read_docx, ".pdf": _read_pdf}
_ISOLATED_READERS = (_read_docx, _read_pdf)


# The parse worker forks from this process: a parser library imported here once is inherited by
# every worker, instead of being imported afresh in each (0.3 s of a 0.5 s .docx read).
_PARSER_MODULES = {".docx": ("docx", "docx.table"), ".pdf": ("pdfplumber",)}


def _import_parser(suffix: str) -> None:
    import importlib

    for module in _PARSER_MODULES.get(suffix, ()):
        try:
            importlib.import_module(module)
        except ImportError:
            pass  # the worker reports it for this file


def read_document(path: str | Path, root: str | Path | None = None) -> Document:
    """Read one input file; raise IngestError (file + reason) for anything unusable.

    With root (the intake folder of a batch), only a regular file whose resolved path lies inside
    root is read: see read_file_bytes."""
    file = Path(path)
    name = display_path(str(path))
    suffix = file.suffix.lower()
    if suffix not in _READERS:
        raise IngestError(
            name, f"unsupported file type '{suffix or '(none)'}' (supported: {', '.join(SUPPORTED_SUFFIXES)})"
        )
    raw = read_file_bytes(file, root)
    if not raw.strip():
        raise IngestError(name, "empty file")
    reader = _READERS[suffix]
    if reader in _ISOLATED_READERS:  # parsers of compressed formats: memory and time bounded (sandbox.py)
        _import_parser(suffix)
        text, encoding, headings, warnings = sandbox.run_isolated(reader, raw, name)
    else:
        text, encoding, headings, warnings = reader(raw, name)
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


# -- opening untrusted files ------------------------------------------------------------------
# A FIFO blocks the reader forever and a device (a symlink to /dev/zero) never ends, so only
# regular files are opened; the type is checked before opening (lstat/stat) and again on the open
# descriptor (fstat), so a file swapped between the two checks is refused too.
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
# Walking the intake folder one component at a time from an open descriptor of the folder, each
# component opened with O_NOFOLLOW, is what keeps a folder swapped for a symlink mid-batch from
# leading outside it; it needs openat(2) (every Unix; not Windows).
_CONFINED_WALK = bool(_NOFOLLOW) and os.open in os.supports_dir_fd and os.stat in os.supports_dir_fd


def _not_regular(mode: int) -> str | None:
    """Why a file of this st_mode is not read, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory, not a file"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO), not a regular file: not read"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not a regular file: not read"
    if stat.S_ISSOCK(mode):
        return "a socket, not a regular file: not read"
    if stat.S_ISLNK(mode):
        return "a symbolic link that changed while it was being read: not read"
    return "not a regular file: not read"


def _read_all(fd: int) -> bytes:
    with open(fd, "rb", closefd=False) as handle:
        return handle.read()


def _os_error_reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "file not found"
    if isinstance(exc, IsADirectoryError):
        return "is a directory, not a file"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if exc.errno in (errno.ELOOP, errno.ENOTDIR):  # O_NOFOLLOW met a symlink: swapped during the batch
        return "the file or a folder on its path was replaced by a symbolic link: not read"
    return f"cannot read file ({exc.strerror or exc})"


def _read_regular(checked: os.stat_result, open_file: Callable[[], int], name: str) -> bytes:
    """The bytes of a file checked by name to be regular, opened only after that check (a FIFO or
    device is never opened), and read only if the descriptor is still that file."""
    reason = _not_regular(checked.st_mode)
    if reason is not None:
        raise IngestError(name, reason)
    fd = open_file()
    try:
        return _read_checked(fd, checked, name)
    finally:
        os.close(fd)


def _read_checked(fd: int, expected: os.stat_result, name: str) -> bytes:
    """The bytes of an open descriptor, if it is still the regular file that was checked by name."""
    opened = os.fstat(fd)
    reason = _not_regular(opened.st_mode)
    if reason is None and (opened.st_dev, opened.st_ino) != (expected.st_dev, expected.st_ino):
        reason = "the file was replaced while it was being read: not read"
    if reason is not None:
        raise IngestError(name, reason)
    return _read_all(fd)


def _inside(path: str, root: str) -> bool:
    return os.path.commonpath([path, root]) == root


def read_file_bytes(path: str | Path, root: str | Path | None = None) -> bytes:
    """The bytes of a regular file; IngestError naming the file otherwise.

    Without root (a file the user named) a symbolic link is followed, but only to a regular file.
    With root (an intake folder from strangers) the file's resolved path must lie inside root:
    a symbolic link pointing outside it is refused, and the file is opened by walking from root
    with O_NOFOLLOW, so nothing swapped in after this check can lead outside either."""
    name = display_path(str(path))
    try:
        if root is None:
            return _read_regular(os.stat(path), lambda: os.open(path, _OPEN_FLAGS), name)
        return _read_confined(Path(path), Path(root), name)
    except OSError as exc:
        raise IngestError(name, _os_error_reason(exc)) from None


def _read_confined(path: Path, root: Path, name: str) -> bytes:
    real_root = os.path.realpath(root)
    relative = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
    if os.path.islink(path):  # resolve it once: a link to a file inside the intake is fine
        target = os.path.realpath(path)
        if not _inside(target, real_root):
            raise IngestError(name, "symbolic link pointing outside the intake folder: not read")
        relative = os.path.relpath(target, real_root)
    parts = Path(relative).parts
    if not parts or parts[0] == os.pardir:
        raise IngestError(name, "outside the intake folder: not read")
    if not _CONFINED_WALK:  # pragma: no cover - Windows: check the resolved path, then the descriptor
        target = os.path.realpath(os.path.join(real_root, relative))
        if not _inside(target, real_root):
            raise IngestError(name, "outside the intake folder: not read")
        return _read_regular(os.lstat(target), lambda: os.open(target, _OPEN_FLAGS), name)
    folder = os.open(real_root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts[:-1]:
            inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | _NOFOLLOW, dir_fd=folder)
            os.close(folder)
            folder = inner
        checked = os.stat(parts[-1], dir_fd=folder, follow_symlinks=False)
        return _read_regular(checked, lambda: os.open(parts[-1], _OPEN_FLAGS | _NOFOLLOW, dir_fd=folder), name)
    finally:
        os.close(folder)
