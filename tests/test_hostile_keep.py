"""Attacks the tool already withstood when the intake was first attacked (issue 10, "Keep"): each
stays a regression test. Parsing runs in a child process under a 1 GB address-space limit where a
regression could exhaust memory, so it fails the test instead of the machine."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from evidence_nlp.errors import GuidelineError, IngestError
from evidence_nlp.guideline import load_guideline
from evidence_nlp.ingest import read_document
from evidence_nlp.resources import default_guideline_path

SECRET = Path("/etc/hostname")


def _docx_with_body(tmp_path: Path, document_xml: str, name: str) -> Path:
    """A real .docx (python-docx's blank document) whose word/document.xml is replaced."""
    import docx

    buffer = io.BytesIO()
    docx.Document().save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = document_xml.encode("utf-8") if info.filename == "word/document.xml" else source.read(info)
            target.writestr(info.filename, data)
    return path


_BODY = (
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    ' xmlns:xi="http://www.w3.org/2001/XInclude"><w:body>{}</w:body></w:document>'
)


def _read_in_child(path: Path, limit: int = 1 << 30) -> subprocess.CompletedProcess:
    code = (
        "import resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))\n"
        "from evidence_nlp.errors import IngestError\n"
        "from evidence_nlp.ingest import read_document\n"
        "try:\n"
        "    sys.stdout.write(read_document(sys.argv[1]).text)\n"
        "except IngestError as exc:\n"
        "    print('IngestError:', exc)\n"
        "    sys.exit(3)\n"
    )
    return subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(not SECRET.exists(), reason="needs a readable file to try to exfiltrate")
def test_xxe_and_xinclude_in_a_docx_never_read_local_files(tmp_path):
    secret = SECRET.read_text().strip()
    xxe = f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file://{SECRET}">]>' + _BODY.format(
        "<w:p><w:r><w:t>本人&x;</w:t></w:r></w:p>"
    )
    xinclude = _BODY.format(f'<w:p><w:r><w:t>本人<xi:include href="{SECRET}" parse="text"/></w:t></w:r></w:p>')
    for name, body in (("xxe.docx", xxe), ("xinclude.docx", xinclude)):
        result = _read_in_child(_docx_with_body(tmp_path, body, name))
        assert result.returncode in (0, 3), result.stderr[-500:]
        assert secret not in result.stdout


def test_billion_laughs_and_deep_nesting_in_a_docx_stay_bounded(tmp_path):
    entities = '<!ENTITY a "lollollollollollollollollollol">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9)
    )
    laughs = f'<?xml version="1.0"?><!DOCTYPE d [{entities}]>' + _BODY.format("<w:p><w:r><w:t>&j;</w:t></w:r></w:p>")
    deep = _BODY.format("<w:p>" * 100_000 + "</w:p>" * 100_000)
    for name, body in (("laughs.docx", laughs), ("deep.docx", deep)):
        result = _read_in_child(_docx_with_body(tmp_path, body, name))
        assert result.returncode in (0, 3), f"{name}: {result.stderr[-500:]}"
        assert len(result.stdout) < 1_000_000


def test_yaml_python_tags_in_a_guideline_run_nothing(tmp_path):
    marker = tmp_path / "pwned"
    text = default_guideline_path().read_text(encoding="utf-8")
    path = tmp_path / "tagged.yaml"
    path.write_text(
        text.replace("id: jiangsu-individual", f'id: !!python/object/apply:os.system ["touch {marker}"]', 1),
        encoding="utf-8",
    )
    assert "python/object" in path.read_text(encoding="utf-8")
    with pytest.raises(GuidelineError):
        load_guideline(path)
    assert not marker.exists()


def test_an_honest_zip_bomb_docx_is_refused_before_parsing(tmp_path):
    from evidence_nlp.ingest import MAX_DOCX_UNCOMPRESSED

    path = tmp_path / "honest.docx"
    chunk = b"\0" * (16 * 1024 * 1024)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        with package.open("word/document.xml", "w", force_zip64=True) as member:  # sizes declared honestly
            for _ in range(MAX_DOCX_UNCOMPRESSED // len(chunk) + 1):
                member.write(chunk)
    assert path.stat().st_size < 2 * 1024 * 1024
    with pytest.raises(IngestError):
        read_document(path)
