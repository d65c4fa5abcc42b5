"""Bad input from applicants the award office does not control: every file gets a correct report
or one line `error: FILE: reason` (exit 1, the other files still analysed), never a traceback,
a hang or silent data loss."""

from __future__ import annotations

import io
import json
import os
import random
import re
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evidence_nlp import ingest
from evidence_nlp.cli import app
from evidence_nlp.errors import IngestError
from evidence_nlp.ingest import Document, read_document
from evidence_nlp.report import build_report, to_json

from .conftest import FLAG_CODES, SAMPLES
from .test_ingest import _minimal_pdf

runner = CliRunner()
STRUCTURED = SAMPLES / "welder_structured_gbk.txt"
DOCX = SAMPLES / "pm_no_headings.docx"
NARRATIVE = "一、顾客\n\n我每季度开展顾客满意度调查，满意度达到96.5%，较上年提升2个百分点。\n"
RESULTS = (
    "七、结果\n"
    "（一）工作绩效\n"
    "2021年、2022年、2023年焊缝一次合格率分别为98.1%、98.9%、99.6%，较上年提升0.7个百分点，"
    "高于行业平均水平1.2个百分点。\n"
    "（三）创新成果\n"
    "获实用新型专利3项。\n"
)
FLAGS = FLAG_CODES


def check_report(report: dict, text: str, guideline, max_passage_chars: int = 400) -> None:
    """The report contract (docs/report-schema.md) for the document `text`."""
    assert report["schema_version"] == 2
    assert report["document"]["chars"] == len(text)
    assert len(report["document"]["sha256"]) == 64
    previous_end = 0
    for number, passage in enumerate(report["passages"], start=1):
        assert passage["id"] == f"p{number}"
        assert text[passage["start"] : passage["end"]] == passage["text"]
        assert previous_end <= passage["start"] < passage["end"]  # in order, no overlap, never empty
        assert passage["end"] - passage["start"] <= max_passage_chars
        assert passage["kind"] in ("heading", "text")
        assert passage["kind"] == "text" or not passage["clauses"]
        previous_end = passage["end"]
    assert [c["id"] for c in report["clauses"]] == guideline.clause_ids
    passage_ids = {p["id"] for p in report["passages"]}
    for clause in report["clauses"]:
        assert clause["status"] in ("covered", "weak", "missing")
        assert set(clause["evidence"]) <= passage_ids and set(clause["near_misses"]) <= passage_ids
        assert (clause["status"] == "missing") == (not clause["evidence"])
    assert set(report["comparisons"]) == {"7.1", "7.2", "7.3"}
    assert {f["code"] for f in report["flags"]} <= FLAGS


def error_lines(result) -> list[str]:
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert all(line.startswith("error: ") for line in lines), lines
    return lines


def analyze_cli(files: list[Path], out: Path, *options: str):
    return runner.invoke(app, ["analyze", *map(str, files), "--out", str(out), *options])


def _docx_bytes(*paragraphs: str) -> bytes:
    import docx

    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _encrypted_docx() -> bytes:
    ooxml = pytest.importorskip("msoffcrypto.format.ooxml")
    out = io.BytesIO()
    ooxml.OOXMLFile(io.BytesIO(DOCX.read_bytes())).encrypt("secret", out)
    return out.getvalue()


def _encrypted_pdf(user_password: str) -> bytes:
    pypdf = pytest.importorskip("pypdf")
    source = _minimal_pdf(b"BT /F1 12 Tf 20 100 Td (Customer satisfaction 96%) Tj ET")
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(source)))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _image_only_pdf() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (400, 200), "white")
    ImageDraw.Draw(image).rectangle((20, 20, 380, 60), fill="black")  # a "scanned" line of text
    out = io.BytesIO()
    image.save(out, format="PDF")
    return out.getvalue()


def _legacy_doc() -> bytes:
    """The start of a Word 97-2003 .doc: an OLE compound file with a WordDocument stream."""
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500 + "WordDocument".encode("utf-16-le") + b"\x00" * 500


MIXED_PREFIX = "一、顾客\n\n我每季度开展顾客满意度调查。\n".encode()
MIXED = MIXED_PREFIX + "这一段是从旧文档粘贴的GBK文字。".encode("gbk") + "\n满意度达到96.5%。\n".encode()

# name, file content (bytes, or a function giving them), the exact reason
BAD_INPUTS = [
    ("empty.txt", b"", "empty file"),
    ("blank.md", b" \r\n\t\n  \n", "empty file"),
    ("ideographic-spaces.txt", "\u3000\u3000\n\u3000".encode(), "no text (only whitespace)"),
    ("zero-width.txt", "\ufeff\u200b\u200b\n\u200d\u2060\n".encode(), "no text (only whitespace)"),
    ("bom-only.txt", b"\xef\xbb\xbf", "no text (only whitespace)"),
    ("junk.txt", lambda: random.Random(0).randbytes(4096), "binary data, not a text file"),
    (
        "renamed-docx.txt",
        lambda: DOCX.read_bytes(),
        "binary data, not a text file (looks like a zip package, e.g. .docx; check the file extension)",
    ),
    (
        "renamed-png.txt",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200),
        "binary data, not a text file (looks like a PNG image; check the file extension)",
    ),
    (
        "high-bytes.txt",
        lambda: bytes(random.Random(1).choices(range(0x81, 0xFF), k=4000)),
        "cannot decode text: not UTF-8, UTF-16 or GBK/GB18030 (binary data or another encoding?)",
    ),
    (
        "big5.txt",
        ("繁體中文自評報告：顧客滿意度較上年提升，高於行業平均水平。" * 5).encode("big5"),
        "cannot decode text: looks like Big5 (traditional Chinese); save the file as UTF-8",
    ),
    ("utf32.txt", ("\ufeff" + NARRATIVE).encode("utf-32-le"), "unsupported encoding UTF-32; save the file as UTF-8"),
    (
        "mixed.txt",
        MIXED,
        f"cannot decode text: mixed encodings (UTF-8 with 16 invalid bytes, the first at line 4, byte {len(MIXED_PREFIX)});"
        " save the whole file as UTF-8",
    ),
    ("truncated.docx", lambda: DOCX.read_bytes()[: len(DOCX.read_bytes()) // 2], "corrupt .docx (not a zip package)"),
    ("locked.docx", _encrypted_docx, "encrypted (password-protected) .docx"),
    ("legacy.docx", _legacy_doc, "a Word 97-2003 .doc, not a .docx: save it as .docx"),
    ("locked.pdf", lambda: _encrypted_pdf("secret"), "encrypted .pdf: cannot extract text"),
    ("scan.pdf", _image_only_pdf, "scanned PDF: no extractable text"),
    (
        "truncated.pdf",
        _minimal_pdf(b"BT /F1 12 Tf 20 100 Td (Hello) Tj ET")[:200],
        "corrupt .pdf: the file ends too early (truncated or incompletely uploaded?)",
    ),
    (
        "utf16-no-bom.txt",
        NARRATIVE.encode("utf-16-le"),
        "binary data, not a text file (looks like UTF-16 without a byte-order mark; save the file as UTF-8)",
    ),
]


@pytest.mark.parametrize(("name", "content", "reason"), BAD_INPUTS, ids=[case[0] for case in BAD_INPUTS])
def test_bad_input_gives_the_exact_reason(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content() if callable(content) else content)
    with pytest.raises(IngestError) as err:
        read_document(path)
    assert str(err.value) == f"{path}: {reason}"


def test_one_cli_call_with_every_bad_input_still_writes_the_good_reports(tmp_path, guideline):
    """The default encoder, as the award office runs it: one `analyze` call over a mixed intake."""
    intake = tmp_path / "intake"
    intake.mkdir()
    expected = []
    for name, content, reason in BAD_INPUTS:
        path = intake / name
        path.write_bytes(content() if callable(content) else content)
        expected.append(f"error: {path}: {reason}")
    good = intake / "good.txt"
    good.write_text(RESULTS, encoding="utf-8")
    files = [intake / name for name, _, _ in BAD_INPUTS]
    out = tmp_path / "out"
    result = analyze_cli([files[0], STRUCTURED, *files[1:], DOCX, good], out)
    assert result.exit_code == 1
    assert error_lines(result) == expected
    assert sorted(p.name for p in out.iterdir()) == ["good.json", "pm_no_headings.json", "welder_structured_gbk.json"]
    for path in (STRUCTURED, DOCX, good):
        report = json.loads((out / f"{path.stem}.json").read_text(encoding="utf-8"))
        check_report(report, read_document(path).text, guideline)
        assert report["encoder"]["name"] != "lexical"
    assert result.stdout.count("wrote ") == 3


def test_encrypted_pdf_without_a_user_password_is_read(tmp_path, lexical_analyzer, guideline):
    """Only an owner password (printing/copying restrictions): any viewer opens it, so do we."""
    path = tmp_path / "restricted.pdf"
    path.write_bytes(_encrypted_pdf(""))
    analysis = lexical_analyzer.analyze(path)
    assert analysis.document.text == "Customer satisfaction 96%"
    check_report(build_report(analysis), analysis.document.text, guideline)


def test_docx_that_unpacks_too_large_is_refused_before_parsing(tmp_path, monkeypatch):
    path = tmp_path / "bomb.docx"
    path.write_bytes(_docx_bytes("我每季度开展顾客满意度调查。" * 2000))
    monkeypatch.setattr(ingest, "MAX_DOCX_UNCOMPRESSED", 50_000)
    with pytest.raises(IngestError, match=r"corrupt \.docx \(unpacks to [\d,]+ bytes, over the limit of 50,000\)"):
        read_document(path)
    monkeypatch.undo()
    assert read_document(path).text.startswith("我每季度")


def test_five_megabyte_narrative_finishes_with_bounded_passages(tmp_path, lexical_analyzer, guideline):
    sample = read_document(STRUCTURED).text
    copies = 5 * 2**20 // len(sample.encode("utf-8")) + 1
    path = tmp_path / "huge.txt"
    path.write_text("\n\n".join([sample] * copies), encoding="utf-8")
    assert path.stat().st_size >= 5 * 2**20
    start = time.perf_counter()
    analysis = lexical_analyzer.analyze(path)
    seconds = time.perf_counter() - start
    # Linear stages: ingest and segmentation of 5 MB stay far below the matcher's cost.
    assert analysis.timings["ingest"] + analysis.timings["segment"] < 10, analysis.timings
    assert seconds < 300, analysis.timings
    report = build_report(analysis)
    check_report(report, analysis.document.text, guideline)
    assert len(report["passages"]) > 10_000
    # Every copy is segmented alike: the same passage texts recur copy after copy.
    first = [p["text"] for p in report["passages"] if p["start"] < len(sample)]
    assert [p["text"] for p in report["passages"][: len(first)]] * copies == [p["text"] for p in report["passages"]]


def test_fifty_thousand_characters_without_punctuation(tmp_path, lexical_analyzer, guideline):
    words = "本人从事焊接工作二十年坚持质量第一带领班组攻克殷瓦钢焊接难题"
    text = (words * (50_000 // len(words) + 1))[:50_000]
    path = tmp_path / "run-on.txt"
    path.write_text(text, encoding="utf-8")
    analysis = lexical_analyzer.analyze(path)
    report = build_report(analysis)
    check_report(report, text, guideline)
    passages = report["passages"]
    assert len(passages) == 125 and {p["end"] - p["start"] for p in passages} == {400}
    assert "".join(p["text"] for p in passages) == text  # nothing lost between passages


def test_run_on_line_is_cut_at_commas_and_spaces(lexical_analyzer):
    text = "，".join(f"第{i}项工作按期完成" for i in range(3000)) + "\n" + "word " * 4000
    analysis = lexical_analyzer.analyze_document(Document("run-on.txt", text, "utf-8", "0" * 64, "txt"))
    passages = analysis.segmentation.passages
    assert all(p.end - p.start <= 400 and text[p.start : p.end] == p.text for p in passages)
    chinese = [p for p in passages if p.text.startswith("第")]
    assert all(p.text.endswith("，") or p is chinese[-1] for p in chinese)  # cut after a comma
    assert all(re.fullmatch(r"(word ?)+", p.text) for p in passages if p.text.startswith("word"))  # whole words


def test_utf8_file_cut_inside_a_character_is_read_with_a_warning(tmp_path, lexical_analyzer, guideline):
    path = tmp_path / "cut.txt"
    path.write_bytes(NARRATIVE.encode() + "满意".encode()[:4])
    result = analyze_cli([path], tmp_path / "out", "--encoder", "lexical")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "cut.json").read_text(encoding="utf-8"))
    assert report["document"]["encoding"] == "utf-8"
    assert report["document"]["warnings"] == [
        "the file ends inside a UTF-8 character: its last 1 byte(s) were dropped (truncated file?)"
    ]
    check_report(report, NARRATIVE + "满", guideline)


def test_gbk_paste_in_utf8_is_named_and_gbk_files_still_decode(tmp_path):
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes((NARRATIVE + "这一段是从旧文档粘贴的GBK文字。").encode("gbk"))
    assert read_document(gbk).encoding == "gbk"
    # Mostly UTF-8 with two GBK characters: the reason says where, instead of "not UTF-8 or GBK".
    path = tmp_path / "mixed.txt"
    assert len(NARRATIVE.encode()) == 111
    path.write_bytes(NARRATIVE.encode() * 3 + "中文".encode("gbk") + NARRATIVE.encode())
    with pytest.raises(
        IngestError, match=rf"mixed encodings \(UTF-8 with 4 invalid bytes, the first at line 10, byte {3 * 111}\)"
    ):
        read_document(path)
    traditional = tmp_path / "traditional-gbk.txt"
    traditional.write_bytes(("繁體中文自評報告：顧客滿意度較上年提升，高於行業平均水平。" * 3).encode("gbk"))
    assert read_document(traditional).text.startswith("繁體中文")  # GBK holds traditional characters too
    # Two GBK-looking characters without their context decode only to private-use code points.
    soup = tmp_path / "soup.txt"
    soup.write_bytes(b"\xaa\xa1\xab\xa2\xac\xa3" * 20)
    with pytest.raises(IngestError, match="binary data or another encoding"):
        read_document(soup)


def test_control_and_zero_width_characters(tmp_path, lexical_analyzer, guideline):
    text = (
        "\u200b三、顾客\n"
        "我每季度\x07开展顾客满意度调查\x1b[31m，\u200b满意度达到96.5%\ufeff。\n"
        "\ufeff七、结果\n"
        "（一）工作绩效\n"
        "焊缝一次合格率同\u200b比提升1\u200b2%，高于行\u200d业平均水平。\n"
    )
    path = tmp_path / "controls.txt"
    path.write_text(text, encoding="utf-8")
    result = analyze_cli([path], tmp_path / "out", "--encoder", "lexical")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "controls.json").read_text(encoding="utf-8"))
    check_report(report, text, guideline)
    headings = {p["text"]: p["section"] for p in report["passages"] if p["kind"] == "heading"}
    assert headings == {"三、顾客": "3", "七、结果": "7", "（一）工作绩效": "7.1"}  # zero-width chars trimmed
    assert report["comparisons"]["7.1"]["past"] and report["comparisons"]["7.1"]["benchmark"]
    assert "\x07" in report["passages"][1]["text"] and "\x1b[31m" in report["passages"][1]["text"]


def _full_width(text: str) -> str:
    return text.translate(str.maketrans("0123456789%.,;:!?()", "０１２３４５６７８９％．，；：！？（）"))


def test_full_width_and_half_width_figures_give_the_same_comparisons(analyzer, lexical_analyzer):
    full = _full_width(RESULTS)
    assert full != RESULTS and "９８．１％" in full
    for current in (analyzer, lexical_analyzer):
        reports = [
            build_report(current.analyze_document(Document("r.txt", value, "utf-8", "0" * 64, "txt")))
            for value in (RESULTS, full)
        ]
        assert reports[0]["comparisons"] == reports[1]["comparisons"]
        assert reports[0]["comparisons"]["7.1"] == {
            "past": True,
            "benchmark": True,
            "trend": True,
            "evidence": {"past": ["p3"], "benchmark": ["p3"], "trend": ["p3"]},
        }
        assert [(p["start"], p["end"], p["section"]) for p in reports[0]["passages"]] == [
            (p["start"], p["end"], p["section"]) for p in reports[1]["passages"]
        ]


def test_traditional_characters(tmp_path, lexical_analyzer, guideline):
    text = (
        "七、結果\n"
        "（一）工作績效\n"
        "2021年、2022年、2023年焊縫一次合格率分別為98.1%、98.9%、99.6%，較上年提升0.7個百分點，"
        "高於行業平均水平1.2個百分點。\n"
        "（三）創新成果\n"
        "獲實用新型專利3項。\n"
    )
    path = tmp_path / "繁體.txt"
    path.write_text(text, encoding="utf-8")
    result = analyze_cli([path], tmp_path / "out", "--encoder", "lexical")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "繁體.json").read_text(encoding="utf-8"))
    check_report(report, text, guideline)
    assert [p["section"] for p in report["passages"]] == ["7", "7.1", "7.1", "7.3", "7.3"]
    comparison = report["comparisons"]["7.1"]
    assert comparison["past"] and comparison["benchmark"] and comparison["trend"]
    assert not report["comparisons"]["7.3"]["past"]


def test_english_only_text(tmp_path, lexical_analyzer, analyzer, guideline):
    text = (
        "1. Customer focus\n\n"
        "I survey our customers every quarter; satisfaction rose from 92% in 2021 to 97% in 2023.\n\n"
        "2. Improvement\n\nWe ran 12 QC circles and saved 1.2 million yuan.\n"
    )
    path = tmp_path / "english.txt"
    path.write_text(text, encoding="utf-8")
    for current in (lexical_analyzer, analyzer):
        analysis = current.analyze(path)
        report = build_report(analysis)
        check_report(report, text, guideline)
        assert analysis.document.encoding == "utf-8"
        assert [p["kind"] for p in report["passages"]] == ["heading", "text", "heading", "text"]


def test_html_and_script_payloads_stay_plain_text(tmp_path, guideline):
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    text = f"# 三、顾客 {payload}\n\n我每季度开展顾客满意度调查。{payload}&amp;&lt;\n\n</p><!-- {{{{7*7}}}} -->\n"
    path = tmp_path / "payload.md"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    result = analyze_cli([path], out, "--encoder", "lexical")
    assert result.exit_code == 0, result.output
    raw = (out / "payload.json").read_text(encoding="utf-8")
    assert payload.replace('"', '\\"') in raw  # JSON string escaping only: no HTML escaping, no stripping
    report = json.loads(raw)
    check_report(report, text, guideline)
    assert sum(payload in p["text"] for p in report["passages"]) == 2
    assert any(p["text"] == "</p><!-- {{7*7}} -->" for p in report["passages"])
    summary = runner.invoke(app, ["analyze", str(path), "--encoder", "lexical"])
    assert summary.exit_code == 0 and "payload.md" in summary.output


HOSTILE_NAMES = [
    "my report 2023.txt",
    "周建国 自评报告（终稿）.txt",
    "a$HOME;rm -rf ~ & echo `id` 'q' \"d\" |x> (1).txt",
    "-dash-first.txt",
    "*?[x].md",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_file_names_with_spaces_chinese_and_shell_metacharacters(tmp_path, guideline, name):
    path = tmp_path / name
    path.write_text(NARRATIVE, encoding="utf-8")
    empty = tmp_path / f"empty {name}"
    empty.write_bytes(b"")
    out = tmp_path / "out dir;$x"
    result = analyze_cli([path, empty], out, "--encoder", "lexical")
    assert result.exit_code == 1
    assert error_lines(result) == [f"error: {empty}: empty file"]
    report = json.loads((out / f"{path.stem}.json").read_text(encoding="utf-8"))
    assert report["document"]["path"] == str(path)
    check_report(report, NARRATIVE, guideline)
    assert [p.name for p in out.iterdir()] == [f"{path.stem}.json"]


def test_control_characters_in_a_file_name_cannot_forge_error_lines(tmp_path):
    path = tmp_path / "x\nerror: forged.txt: fine\r\u202e.txt"
    path.write_bytes(b"")
    result = analyze_cli([path], tmp_path / "out", "--encoder", "lexical")
    assert result.exit_code == 1
    assert error_lines(result) == [f"error: {tmp_path}/x\\nerror: forged.txt: fine\\r\\u202e.txt: empty file"]


def _undecodable_name(tmp_path: Path) -> Path:
    path = tmp_path / os.fsdecode(b"bad\xff\xfe name.txt")  # not UTF-8: Python keeps lone surrogates
    try:
        path.write_text(NARRATIVE, encoding="utf-8")
    except (OSError, UnicodeEncodeError):  # pragma: no cover - a file system that insists on UTF-8
        pytest.skip("the file system refuses non-UTF-8 names")
    return path


def test_undecodable_file_name_bytes_are_escaped_in_the_report(tmp_path, lexical_analyzer, guideline):
    path = _undecodable_name(tmp_path)
    report = build_report(lexical_analyzer.analyze(path))
    assert report["document"]["path"] == f"{tmp_path}/bad\\xff\\xfe name.txt"
    to_json(report).encode("utf-8")  # a lone surrogate here would make the report unwritable
    check_report(report, NARRATIVE, guideline)
    empty = tmp_path / os.fsdecode(b"empty\xff.txt")
    empty.write_bytes(b"")
    with pytest.raises(IngestError) as err:
        read_document(empty)
    assert str(err.value) == f"{tmp_path}/empty\\xff.txt: empty file"


def test_undecodable_file_name_through_the_cli(tmp_path):
    path = _undecodable_name(tmp_path)
    result = analyze_cli([path, STRUCTURED], tmp_path / "out", "--encoder", "lexical")
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "out").iterdir())) == 2


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode; see the monkeypatched test")
def test_unreadable_file_with_chmod(tmp_path):  # pragma: no cover - CI runs as root
    path = tmp_path / "locked.txt"
    path.write_text(NARRATIVE, encoding="utf-8")
    path.chmod(0)
    try:
        result = analyze_cli([path, STRUCTURED], tmp_path / "out", "--encoder", "lexical")
    finally:
        path.chmod(0o644)
    assert result.exit_code == 1
    assert error_lines(result) == [f"error: {path}: permission denied"]


def test_unreadable_file(tmp_path, monkeypatch):
    path = tmp_path / "locked.txt"
    path.write_text(NARRATIVE, encoding="utf-8")
    read_all = ingest._read_all
    denied_inode = path.stat().st_ino

    def denied(fd: int) -> bytes:
        if os.fstat(fd).st_ino == denied_inode:
            raise PermissionError(13, "Permission denied", str(path))
        return read_all(fd)

    monkeypatch.setattr(ingest, "_read_all", denied)
    out = tmp_path / "out"
    result = analyze_cli([path, STRUCTURED], out, "--encoder", "lexical")
    assert result.exit_code == 1
    assert error_lines(result) == [f"error: {path}: permission denied"]
    assert [p.name for p in out.iterdir()] == ["welder_structured_gbk.json"]


def test_io_error_while_reading(tmp_path, monkeypatch):
    path = tmp_path / "flaky.txt"
    path.write_text(NARRATIVE, encoding="utf-8")

    def failing(fd: int) -> bytes:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(ingest, "_read_all", failing)
    with pytest.raises(IngestError) as err:
        read_document(path)
    assert str(err.value) == f"{path}: cannot read file (Input/output error)"


GUIDELINE = """\
id: g
title: 测试指南
categories:
  - id: "1"
    title: 顾客
    items:
      - id: "1.1"
        title: 顾客满意
        clauses:
          - id: 1.1a
            text: 了解顾客满意情况。
"""

BROKEN_GUIDELINES = [
    ("not-a-mapping.yaml", "- just\n- a list\n", "top level must be a mapping with id, title and categories"),
    ("no-categories.yaml", "id: x\ntitle: y\ncategories: []\n", "guideline: missing or empty 'categories'"),
    ("bad-id.yaml", GUIDELINE.replace('id: "1.1"', 'id: "2.1"'), "item 2.1: id must look like '1.N' under category 1"),
    ("no-text.yaml", GUIDELINE.replace("text: 了解顾客满意情况。", "text: ''"), "clause 1.1a: missing or empty 'text'"),
    (
        "bad-kind.yaml",
        GUIDELINE.replace("title: 顾客满意\n", "title: 顾客满意\n        kind: outcome\n"),
        "item 1.1: kind must be one of process, results, got 'outcome'",
    ),
    (
        "duplicate.yaml",
        GUIDELINE + "          - id: 1.1a\n            text: 再一次。\n",
        "clause 1.1a: duplicate clause id",
    ),
    (
        "keywords.yaml",
        GUIDELINE.replace("text: 了解顾客满意情况。", "text: 了解顾客满意情况。\n            keywords: 满意"),
        "clause 1.1a: 'keywords' must be a list of non-empty strings",
    ),
    (
        "clause-not-mapping.yaml",
        GUIDELINE.replace("- id: 1.1a", "- 1.1a\n          - id: 1.1b"),
        "item 1.1 clauses[0]: expected a mapping, got str",
    ),
]


@pytest.mark.parametrize(("name", "content", "reason"), BROKEN_GUIDELINES, ids=[c[0] for c in BROKEN_GUIDELINES])
def test_guideline_with_a_broken_schema(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    result = runner.invoke(app, ["analyze", str(STRUCTURED), "--guideline", str(path), "--encoder", "lexical"])
    assert result.exit_code == 2
    lines = error_lines(result)
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: ")
    if reason is not None:
        assert lines[0] == f"error: {path}: {reason}"
    check = runner.invoke(app, ["guideline", "--guideline", str(path)])
    assert check.exit_code == 2 and check.stderr == result.stderr


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("syntax.yaml", "id: [unclosed\n"),
        ("binary.yaml", "\x00\xff"),
        ("bad.json", '{"id": "x",'),
    ],
)
def test_guideline_that_does_not_parse(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content.encode("latin-1"))
    result = runner.invoke(app, ["analyze", str(STRUCTURED), "--guideline", str(path), "--encoder", "lexical"])
    assert result.exit_code == 2
    lines = error_lines(result)
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: ")
    assert "cannot parse guideline" in lines[0] or "not valid UTF-8 JSON/YAML" in lines[0]


def test_valid_minimal_guideline_is_accepted(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text(GUIDELINE, encoding="utf-8")
    result = runner.invoke(app, ["guideline", "--guideline", str(path)])
    assert result.exit_code == 0 and "1 clauses" in result.output


# -- reports are never lost or overwritten ----------------------------------------------------


def test_same_file_name_in_two_folders_keeps_both_reports(tmp_path):
    first, second = tmp_path / "a" / "x.txt", tmp_path / "b" / "x.txt"
    for path, text in ((first, NARRATIVE), (second, RESULTS)):
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    result = analyze_cli([first, second], out, "--encoder", "lexical")
    assert result.exit_code == 0
    paths = {json.loads(p.read_text(encoding="utf-8"))["document"]["path"] for p in out.iterdir()}
    assert paths == {str(first), str(second)}


def test_report_that_cannot_be_written_does_not_stop_the_others(tmp_path):
    long_name = tmp_path / ("长" * 84 + ".md")  # 255 bytes: fine as input, too long with .json
    long_name.write_text(NARRATIVE, encoding="utf-8")
    out = tmp_path / "out"
    result = analyze_cli([long_name, STRUCTURED], out, "--encoder", "lexical")
    assert result.exit_code == 1
    assert len(error_lines(result)) == 1 and "File name too long" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["welder_structured_gbk.json"]  # no stray .tmp file


def test_same_input_same_bytes_for_hostile_text(lexical_analyzer):
    text = "\u200b三、顾客\n\x07<script>x</script>１２％\ufeff\n" + "无标点" * 500
    document = Document("h.txt", text, "utf-8", "0" * 64, "txt")
    first = to_json(build_report(lexical_analyzer.analyze_document(document)))
    second = to_json(build_report(lexical_analyzer.analyze_document(document)))
    assert first == second
