from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from evidence_nlp.errors import IngestError
from evidence_nlp.ingest import read_document

TEXT = "一、顾客\n\n我每季度开展顾客满意度调查，满意度达到96.5%。\n"


def test_utf8_with_and_without_bom(tmp_path):
    plain = tmp_path / "a.txt"
    plain.write_bytes(TEXT.encode("utf-8"))
    bom = tmp_path / "b.txt"
    bom.write_bytes(b"\xef\xbb\xbf" + TEXT.encode("utf-8"))
    assert read_document(plain).encoding == "utf-8"
    doc = read_document(bom)
    assert doc.encoding == "utf-8-sig" and doc.text == TEXT  # the BOM is not part of the text


def test_gbk_and_gb18030_are_detected_not_guessed(tmp_path):
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes(TEXT.encode("gbk"))
    doc = read_document(gbk)
    assert doc.encoding == "gbk" and doc.text == TEXT
    # "𠀀" exists only in GB18030 (4-byte sequence), not in GBK.
    wide = tmp_path / "gb18030.txt"
    wide.write_bytes(("罕见字𠀀" + TEXT).encode("gb18030"))
    doc = read_document(wide)
    assert doc.encoding == "gb18030" and doc.text.startswith("罕见字𠀀")


def test_crlf_is_normalised_and_markdown_is_text(tmp_path):
    path = tmp_path / "c.md"
    path.write_bytes(TEXT.replace("\n", "\r\n").encode("utf-8"))
    doc = read_document(path)
    assert "\r" not in doc.text and doc.text == TEXT and doc.format == "md"


def test_docx_paragraphs_headings_and_tables(tmp_path):
    import docx

    document = docx.Document()
    document.add_heading("三、顾客", level=1)
    document.add_paragraph("我每季度开展顾客满意度调查。")
    table = document.add_table(rows=2, cols=3)
    for r, row in enumerate([["指标", "2022年", "2023年"], ["满意度", "94%", "97%"]]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.add_paragraph("以上数据来自第三方测评。")
    path = tmp_path / "d.docx"
    document.save(path)
    doc = read_document(path)
    assert (
        doc.text
        == "三、顾客\n\n我每季度开展顾客满意度调查。\n\n指标 | 2022年 | 2023年\n满意度 | 94% | 97%\n\n以上数据来自第三方测评。"
    )
    assert doc.heading_spans == ((0, 4),)
    assert doc.encoding == "docx"


def _stream(data: bytes) -> bytes:
    return b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def _minimal_pdf(content: bytes, to_unicode: bytes | None = None) -> bytes:
    """A one-page PDF whose page draws `content` (a content stream), optionally with a ToUnicode
    CMap on its font (how a PDF says which characters its glyphs stand for)."""
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica%s >>" % (b" /ToUnicode 6 0 R" if to_unicode else b"")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        _stream(content),
        font,
        *([_stream(to_unicode)] if to_unicode else []),
    ]
    return build_pdf(objects)


def build_pdf(objects: list[bytes]) -> bytes:
    """A PDF of these objects (1 is the catalogue), with a cross-reference table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_pdf_radical_code_points_fold_to_ideographs(tmp_path):
    # Fonts that share one glyph between a radical and an ideograph often map it to the radical:
    # such a PDF "says" 本⼈ (KANGXI RADICAL MAN) and ⻓ (C-SIMPLIFIED LONG) for 本人 and 长.
    cmap = (
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
        b"1 begincodespacerange <00> <FF> endcodespacerange\n"
        b"3 beginbfchar <41> <672C> <42> <2F08> <43> <2ED3> endbfchar\n"
        b"endcmap CMapName currentdict /CMap defineresource pop end end"
    )
    path = tmp_path / "radicals.pdf"
    path.write_bytes(_minimal_pdf(b"BT /F1 12 Tf 20 100 Td (ABC) Tj ET", to_unicode=cmap))
    assert read_document(path).text == "本人长"


def test_pdf_text_layer(tmp_path):
    path = tmp_path / "t.pdf"
    path.write_bytes(_minimal_pdf(b"BT /F1 12 Tf 20 100 Td (Customer satisfaction 96%) Tj ET"))
    doc = read_document(path)
    assert doc.format == "pdf" and "Customer satisfaction 96%" in doc.text


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty file"),
        ("blank.txt", b" \n\t\n", "empty file"),
        ("fullwidth-blank.txt", "\u3000\u3000\n".encode(), "no text (only whitespace)"),
        ("junk.txt", bytes(range(256)) * 4, "binary data, not a text file"),
        ("bad.txt", b"\xff\xfe\xfd" * 0 + b"abc \x81\x20\x81\x20 \xfe\xff\x80", "cannot decode text"),
        ("report.rtf", b"{\\rtf1}", "unsupported file type '.rtf'"),
        ("broken.docx", b"PK\x03\x04 not really a zip", "corrupt .docx"),
        ("locked.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "encrypted (password-protected) .docx"),
        ("broken.pdf", b"%PDF-1.4\nthis is not a pdf body", "corrupt .pdf"),
        ("fake.pdf", b"hello, not a pdf", "corrupt .pdf (no PDF header)"),
    ],
)
def test_bad_inputs_give_a_reason_naming_the_file(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(IngestError) as err:
        read_document(path)
    assert str(err.value).startswith(str(path) + ": ")
    assert reason in str(err.value)


def test_scanned_pdf_without_text_layer(tmp_path):
    path = tmp_path / "scan.pdf"
    path.write_bytes(_minimal_pdf(b"0 0 1 rg 10 10 100 100 re f"))  # a filled rectangle, no text
    with pytest.raises(IngestError, match="scanned PDF: no extractable text"):
        read_document(path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(IngestError, match="file not found"):
        read_document(tmp_path / "missing.txt")
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    with pytest.raises(IngestError, match="is a directory"):
        read_document(folder)


def test_docx_that_is_a_zip_but_not_a_document(tmp_path):
    path = tmp_path / "zip.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(IngestError, match=r"not a Word document: the zip has no \[Content_Types\]\.xml"):
        read_document(Path(path))


# Issue 10 item 13: a text with a few stray control bytes (pasted from another program) is read.
NARRATIVE = ("一、顾客\n\n我每季度开展顾客满意度调查，满意度达到96.5%，较上年提升2个百分点。\n" * 8).rstrip("\n")


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_a_text_with_a_stray_nul_and_control_characters_is_read_without_them(tmp_path, encoding):
    stray = NARRATIVE.replace("满意度调查", "满意度\x00调查", 1).replace("百分点", "百分\x1b点\x07", 1) + "\t完\r\n"
    path = tmp_path / "pasted.txt"
    path.write_bytes(stray.encode(encoding))
    doc = read_document(path)
    assert doc.encoding == encoding
    assert doc.text == NARRATIVE + "\t完\n"  # \t kept, \r\n normalised as before, the rest dropped
    assert doc.warnings == (
        "3 control character(s) that do not belong in a text (1 NUL, 1 BEL, 1 ESC) were dropped: "
        "pasted from another program?",
    )


def test_the_dropped_control_characters_are_a_warning_in_the_report(tmp_path, lexical_analyzer):
    from evidence_nlp.report import build_report

    path = tmp_path / "pasted.txt"
    path.write_bytes(NARRATIVE.encode() + b"\x00\n")
    report = build_report(lexical_analyzer.analyze_document(read_document(path)))
    assert any("1 NUL" in warning for warning in report["document"]["warnings"])


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        # More than 1 % control bytes: not a text with a few stray ones.
        (NARRATIVE.encode() + b"\x00" * 40, "binary data, not a text file"),
        (bytes(range(256)) * 4, "binary data, not a text file"),
        (b"\x89PNG\r\n\x1a\n" + NARRATIVE.encode() + b"\x00", "binary data, not a text file (looks like a PNG image"),
        # UTF-16 without a byte-order mark has a NUL in every ASCII character, all at one parity.
        (NARRATIVE.encode("utf-16-le"), "looks like UTF-16 without a byte-order mark"),
        # Few control bytes, but what is left is no text either.
        (bytes(range(0x81, 0xFF)) * 30 + b"\x00", "binary data, not a text file"),
    ],
)
def test_truly_binary_files_are_still_refused(tmp_path, content, reason):
    path = tmp_path / "binary.txt"
    path.write_bytes(content)
    with pytest.raises(IngestError) as err:
        read_document(path)
    assert reason in err.value.reason
