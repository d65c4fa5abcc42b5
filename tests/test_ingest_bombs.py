"""Decompression bombs and oversized documents (issue 10 items 4 and 5): a small .pdf or .docx
that unpacks to gigabytes, or holds tens of thousands of pages, is refused in one line and never
takes the machine's memory; the per-file time limit stops a parse stuck in C code.

Each bomb is built here, about 1 MB on disk, and parsed in a child process under a 1 GiB
address-space limit (RLIMIT_AS): code that unpacked the bomb whole would fail that child, and the
test reports the peak memory the child and its parse worker reached. docs/security.md maps each
test to its defence."""

from __future__ import annotations

import io
import json
import resource
import signal
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from evidence_nlp import ingest
from evidence_nlp.batch import FileTimeout, time_limit
from evidence_nlp.errors import IngestError
from evidence_nlp.ingest import read_document

from .conftest import SAMPLES
from .test_ingest import build_pdf

DOCX = SAMPLES / "pm_no_headings.docx"
GiB = 1 << 30
MiB = 1 << 20
# The parse worker (not the test child) holds the unpacked data: the child itself stays well below this.
CHILD_PEAK = 512 * MiB

_READ_IN_CHILD = """
import json, resource, sys
from evidence_nlp.errors import IngestError
from evidence_nlp.ingest import read_document
try:
    document = read_document(sys.argv[1])
    result = {"text": len(document.text)}
except IngestError as exc:
    result = {"error": exc.reason}
except MemoryError:
    result = {"error": "MemoryError in the reading process"}
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec, so it would be pytest's own peak.
with open("/proc/self/status") as status:
    result["peak"] = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) * 1024
result["worker_peak"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps(result))
"""


def read_in_child(path: Path, memory: int = GiB) -> dict:
    """read_document(path) in a child process limited to `memory` bytes of address space; its
    error (or text length) and the peak resident memory of it and of its parse worker."""
    if not sys.platform.startswith("linux"):
        pytest.skip("RLIMIT_AS and /proc/self/status are what Linux offers")

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    done = subprocess.run(
        [sys.executable, "-c", _READ_IN_CHILD, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=limit,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.splitlines()[-1])
    print(f"{path.name}: peak {result['peak'] / MiB:.0f} MiB, parse worker {result['worker_peak'] / MiB:.0f} MiB")
    return result


def deflate_zeros(size: int) -> bytes:
    """A raw deflate stream that unpacks to `size` zero bytes (a multiple of 1 MiB), about 1 KB per
    MiB, built without ever holding the zeros: one fully flushed block of 1 MiB, repeated."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = compressor.compress(bytes(MiB)) + compressor.flush(zlib.Z_FULL_FLUSH)
    return block * (size // MiB) + b"\x03\x00"  # an empty final block ends the stream


def zlib_zeros(size: int) -> bytes:
    """deflate_zeros in a zlib wrapper (PDF's FlateDecode); Adler-32 of n zeros is (n mod 65521) << 16 | 1."""
    return b"\x78\xda" + deflate_zeros(size) + (((size % 65521) << 16) | 1).to_bytes(4, "big")


def pdf_with_content(content: bytes, flate: bool = False) -> bytes:
    stream = b"<< /Length %d%s >>\nstream\n" % (len(content), b" /Filter /FlateDecode" if flate else b"")
    return build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
            stream + content + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


def pdf_with_pages(count: int) -> bytes:
    """A PDF of `count` empty pages (about 100 bytes each)."""
    kids = b" ".join(b"%d 0 R" % (3 + i) for i in range(count))
    tree = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count)
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >>"
    return build_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", tree, *[page] * count])


HELLO = b"BT /F1 12 Tf 20 100 Td (Customer satisfaction rose to 96 percent) Tj ET"


# -- 4. PDF bombs ------------------------------------------------------------------------------


def test_a_pdf_whose_stream_unpacks_to_a_gigabyte_is_refused_within_the_memory_limit(tmp_path):
    bomb = tmp_path / "bomb.pdf"
    bomb.write_bytes(pdf_with_content(zlib_zeros(GiB), flate=True))
    assert bomb.stat().st_size < 2 * MiB
    result = read_in_child(bomb)
    assert result["error"] == "ran out of the 1 GiB memory allowed for one file (a compressed bomb?): not read"
    assert result["peak"] < CHILD_PEAK  # the bomb was unpacked in the worker, which the limit stopped


def test_a_pdf_with_tens_of_thousands_of_pages_is_refused_by_its_page_count(tmp_path):
    many = tmp_path / "pages.pdf"
    many.write_bytes(pdf_with_pages(20_000))
    assert many.stat().st_size < 4 * MiB
    started = time.perf_counter()
    result = read_in_child(many)
    assert result["error"] == "more than 300 pages (the limit for one file): not read"
    assert result["peak"] < CHILD_PEAK and result["worker_peak"] < CHILD_PEAK
    assert time.perf_counter() - started < 20  # counted one by one, stopped at page 301


def test_page_and_text_bounds_are_module_constants(tmp_path, monkeypatch):
    pdf = tmp_path / "three.pdf"
    pdf.write_bytes(pdf_with_pages(3))
    monkeypatch.setattr(ingest, "MAX_PDF_PAGES", 2)
    with pytest.raises(IngestError, match=r"more than 2 pages \(the limit for one file\)"):
        read_document(pdf)
    text = tmp_path / "text.pdf"
    text.write_bytes(pdf_with_content(HELLO))
    monkeypatch.setattr(ingest, "MAX_TEXT_CHARS", 10)
    with pytest.raises(IngestError, match=r"more than 10 characters of text \(the limit for one file\)"):
        read_document(text)
    docx = tmp_path / "long.docx"
    docx.write_bytes(DOCX.read_bytes())
    with pytest.raises(IngestError, match=r"more than 10 characters of text"):
        read_document(docx)
    monkeypatch.undo()
    assert "Customer satisfaction" in read_document(text).text


# -- 4. the time limit stops a parse stuck where no signal reaches ------------------------------


def _stuck(marker: Path, seconds: float):
    """A stand-in for pdfplumber.open that runs like C code unpacking a bomb: SIGALRM (the time
    limit) cannot interrupt it; when it finishes it leaves a marker file."""

    def open_(*args, **kwargs):
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        try:
            time.sleep(seconds)
            marker.write_text("the parse ran to its end")
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        raise AssertionError("not reached in a killed worker")

    return open_


def test_the_per_file_time_limit_kills_a_parse_that_ignores_signals(tmp_path, monkeypatch):
    import pdfplumber

    pdf = tmp_path / "stuck.pdf"
    pdf.write_bytes(pdf_with_content(HELLO))
    marker = tmp_path / "finished"
    monkeypatch.setattr(pdfplumber, "open", _stuck(marker, 4))
    started = time.perf_counter()
    with pytest.raises(FileTimeout, match="timed out after 0.5 s"), time_limit(0.5, pdf):
        read_document(pdf)
    assert time.perf_counter() - started < 3
    time.sleep(max(0.0, started + 5 - time.perf_counter()))  # past the end of the stuck parse
    assert not marker.exists()  # the worker was killed, not left running


def test_a_parse_over_the_worker_time_limit_is_killed_without_a_batch_limit(tmp_path, monkeypatch):
    import pdfplumber

    from evidence_nlp import sandbox

    pdf = tmp_path / "stuck.pdf"
    pdf.write_bytes(pdf_with_content(HELLO))
    marker = tmp_path / "finished"
    monkeypatch.setattr(pdfplumber, "open", _stuck(marker, 3))
    monkeypatch.setattr(sandbox, "TIME_LIMIT", 0.5)
    with pytest.raises(IngestError, match=r"stuck\.pdf: timed out after 0\.5 s$"):
        read_document(pdf)
    time.sleep(3.5)
    assert not marker.exists()


def test_a_worker_that_dies_is_one_line_not_a_crash(tmp_path, monkeypatch):
    import os

    import pdfplumber

    pdf = tmp_path / "crash.pdf"
    pdf.write_bytes(pdf_with_content(HELLO))
    test_process = os.getpid()

    def crash(*args, **kwargs):
        if os.getpid() == test_process:
            raise AssertionError("parsed in the test process, not in a worker")
        os.kill(os.getpid(), signal.SIGKILL)  # as the kernel ends a process that overflowed its stack

    monkeypatch.setattr(pdfplumber, "open", crash)
    with pytest.raises(IngestError, match="the parser stopped unexpectedly"):
        read_document(pdf)


# -- 5. a .docx whose zip headers lie about the unpacked sizes ----------------------------------


def docx_with_lying_part(member: str, size: int, declared: int) -> bytes:
    """The sample .docx with `member` replaced by `size` zero bytes deflated, its zip headers
    declaring `declared` bytes (with the CRC of the first `declared` zeros, so that a reader that
    stops at the declared size sees nothing wrong)."""
    stream = deflate_zeros(size)
    out = io.BytesIO()
    with zipfile.ZipFile(DOCX) as source:
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                if info.filename != member:
                    target.writestr(info.filename, source.read(info))
            target.writestr(zipfile.ZipInfo(member), stream, compress_type=zipfile.ZIP_STORED)
        data = bytearray(out.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as package:
        info = package.getinfo(member)
    crc = zlib.crc32(bytes(declared)).to_bytes(4, "little")
    local = info.header_offset  # local header: method at 8, CRC at 14, sizes at 18 (packed) and 22
    data[local + 8 : local + 10] = (8).to_bytes(2, "little")
    data[local + 14 : local + 18] = crc
    data[local + 22 : local + 26] = declared.to_bytes(4, "little")
    name = member.encode()
    central = data.index(b"PK\x01\x02")  # the central directory entry of `member`
    while data[central + 46 : central + 46 + len(name)] != name:
        central = data.index(b"PK\x01\x02", central + 4)
    data[central + 10 : central + 12] = (8).to_bytes(2, "little")  # central: method at 10, CRC at 16, size at 24
    data[central + 16 : central + 20] = crc
    data[central + 24 : central + 28] = declared.to_bytes(4, "little")
    return bytes(data)


def test_a_docx_whose_zip_headers_understate_the_sizes_is_refused_unpacking_no_more(tmp_path):
    bomb = tmp_path / "lying.docx"
    bomb.write_bytes(docx_with_lying_part("word/document.xml", GiB, declared=100_000))
    assert bomb.stat().st_size < 2 * MiB
    with zipfile.ZipFile(bomb) as package:  # what the zip says: nothing to worry about
        assert sum(info.file_size for info in package.infolist()) < 1 * MiB
    result = read_in_child(bomb)
    assert result["error"] == (
        "corrupt .docx: the part word/document.xml unpacks to more than the 100,000 bytes its zip header "
        "declares (a zip bomb?): not read"
    )
    assert result["peak"] < CHILD_PEAK and result["worker_peak"] < CHILD_PEAK


def test_a_docx_whose_parts_unpack_to_their_declared_sizes_reads_as_before(tmp_path):
    copy = tmp_path / "honest.docx"
    copy.write_bytes(DOCX.read_bytes())
    assert read_document(copy).text == read_document(DOCX).text != ""
