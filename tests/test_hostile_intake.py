"""An intake folder from strangers (issue 10): it must not make the batch read the office's own
files, plant formulas in its spreadsheets, hang it, or leave it half-written; two batches into
one output folder are refused; every failure is one line in plain words. docs/security.md maps
each test here to the defence it checks."""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import re
import resource
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evidence_nlp import batch
from evidence_nlp import report as report_module
from evidence_nlp.batch import discover, run_batch
from evidence_nlp.cli import app
from evidence_nlp.errors import IngestError
from evidence_nlp.ingest import read_document
from evidence_nlp.report import write_atomic

from .conftest import SAMPLES
from .test_ingest import _minimal_pdf

runner = CliRunner()
NARRATIVE = "一、顾客\n\n我每季度开展顾客满意度调查，满意度达到96.5%，较上年提升2个百分点。\n"
SECRET = "办公室机密 office-secret-7f3a：本机口令与名单。\n"  # must never reach a report or a summary
DOCX = SAMPLES / "pm_no_headings.docx"
# The longest any test below may take in a child process before it counts as a hang.
HANG_SECONDS = 120
NAME_MAX = 255  # bytes in a file name on ext4, XFS, tmpfs


def batch_cli(intake: Path | str, out: Path, *options: str):
    return runner.invoke(app, ["batch", str(intake), "--out", str(out), "--encoder", "lexical", *options])


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def errors_by_file(out: Path) -> dict[str, str]:
    return {Path(row["file"]).name: row["error"] for row in read_csv(out / "errors.csv")}


def all_output_text(out: Path) -> str:
    """Every report, summary and error table the batch wrote, as text."""
    parts = [p.read_text(encoding="utf-8-sig") for p in out.rglob("*") if p.suffix in (".json", ".csv")]
    return "\n".join(parts)


def run_child(args: list[str], limits: dict[int, int] | None = None, **kwargs) -> subprocess.CompletedProcess:
    """`python -m evidence_nlp ARGS` in a child process that cannot hang the suite (a timeout) or
    take the machine's memory (RLIMIT_AS), with more resource limits if asked."""
    limits = {resource.RLIMIT_AS: 4 << 30, **(limits or {})}

    def preexec() -> None:
        for kind, value in limits.items():
            resource.setrlimit(kind, (value, value))
        if hasattr(signal, "SIGXFSZ"):  # over RLIMIT_FSIZE a write then fails with EFBIG, as on a full disk
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "evidence_nlp", *args],
        capture_output=True,
        text=True,
        timeout=HANG_SECONDS,
        preexec_fn=preexec,
        env=env,
        **kwargs,
    )


@pytest.fixture()
def secret(tmp_path: Path) -> Path:
    """A file of the office's, outside the intake folder."""
    path = tmp_path / "office" / "secret.txt"
    path.parent.mkdir()
    path.write_text(SECRET + NARRATIVE, encoding="utf-8")
    return path


# -- 1. symbolic links cannot lead outside the intake folder ------------------------------------


def test_symlinks_pointing_outside_the_intake_are_errors_and_never_read(tmp_path, secret):
    intake = tmp_path / "intake"
    intake.mkdir()
    (intake / "good.txt").write_text(NARRATIVE, encoding="utf-8")
    os.symlink(secret, intake / "absolute.txt")
    os.symlink(os.path.relpath(secret, intake), intake / "relative.txt")  # ../office/secret.txt
    os.symlink("/etc/os-release", intake / "os-release.txt")
    os.symlink("good.txt", intake / "inside.txt")  # resolves inside the intake: read
    out = tmp_path / "out"
    result = batch_cli(intake, out)
    assert result.exit_code == 1
    reason = "symbolic link pointing outside the intake folder: not read"
    assert errors_by_file(out) == {"absolute.txt": reason, "relative.txt": reason, "os-release.txt": reason}
    assert sorted(row["file"] for row in read_csv(out / "summary.csv")) == ["good.txt", "inside.txt"]
    assert "office-secret" not in all_output_text(out)
    assert "office-secret" not in result.output


def test_a_file_swapped_for_a_symlink_after_discovery_is_not_read(tmp_path, secret, lexical_analyzer):
    """The check is made when the file is opened, not only when the folder is listed."""
    intake = tmp_path / "intake"
    (intake / "sub").mkdir(parents=True)
    (intake / "swapped.txt").write_text(NARRATIVE, encoding="utf-8")
    (intake / "sub" / "a.txt").write_text(NARRATIVE, encoding="utf-8")
    items, problems = discover(intake, tmp_path / "out" / "reports")
    assert [i.relative for i in items] == ["swapped.txt", "sub/a.txt"] and not problems
    (intake / "swapped.txt").unlink()
    os.symlink(secret, intake / "swapped.txt")
    (intake / "sub").rename(intake / "sub-old")  # the folder itself becomes a link to the office's folder
    (secret.parent / "a.txt").write_text(SECRET + NARRATIVE, encoding="utf-8")
    os.symlink(secret.parent, intake / "sub")
    outcomes = run_batch(items, lexical_analyzer, {})
    assert [o.summary for o in outcomes] == [None, None]
    assert outcomes[0].error == f"{intake}/swapped.txt: symbolic link pointing outside the intake folder: not read"
    assert outcomes[1].error == (
        f"{intake}/sub/a.txt: the file or a folder on its path was replaced by a symbolic link: not read"
    )
    assert not (tmp_path / "out" / "reports").exists()


def test_an_up_to_date_check_does_not_follow_a_swapped_symlink(tmp_path, secret):
    """The re-run check hashes the file as the analysis reads it: a report stays reusable only
    for the same regular file, and a link swapped in is an error, not a skipped file."""
    intake = tmp_path / "intake"
    intake.mkdir()
    (intake / "a.txt").write_text(NARRATIVE, encoding="utf-8")
    out = tmp_path / "out"
    assert batch_cli(intake, out).exit_code == 0
    (intake / "a.txt").unlink()
    os.symlink(secret, intake / "a.txt")
    result = batch_cli(intake, out)
    assert result.exit_code == 1 and "0 up to date" in result.stdout
    assert errors_by_file(out) == {"a.txt": "symbolic link pointing outside the intake folder: not read"}


# -- 6. FIFOs and devices are never opened ----------------------------------------------------


def test_fifo_and_a_symlink_to_dev_zero_are_errors_not_a_hang(tmp_path):
    intake = tmp_path / "intake"
    intake.mkdir()
    (intake / "good.txt").write_text(NARRATIVE, encoding="utf-8")
    os.mkfifo(intake / "pipe.txt")
    os.symlink("/dev/zero", intake / "zero.txt")
    out = tmp_path / "out"
    # --timeout 0: no per-file alarm that could rescue a blocked read; the child's own timeout
    # and memory limit keep a regression from hanging the suite or filling the memory.
    result = run_child(["batch", str(intake), "--out", str(out), "--encoder", "lexical", "--timeout", "0"])
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert errors_by_file(out) == {
        "pipe.txt": "a named pipe (FIFO), not a regular file: not read",
        "zero.txt": "symbolic link pointing outside the intake folder: not read",
    }
    assert [row["file"] for row in read_csv(out / "summary.csv")] == ["good.txt"]


def test_read_document_refuses_fifos_and_devices_a_user_names(tmp_path):
    """analyze follows a link the user names, but only to a regular file (in a child process:
    opening a FIFO for reading would block this one)."""
    os.mkfifo(tmp_path / "pipe.txt")
    os.symlink("/dev/zero", tmp_path / "zero.txt")
    files = [str(tmp_path / "pipe.txt"), str(tmp_path / "zero.txt")]
    result = run_child(["analyze", *files, "--encoder", "lexical", "--timeout", "0"])
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"error: {tmp_path}/pipe.txt: a named pipe (FIFO), not a regular file: not read",
        f"error: {tmp_path}/zero.txt: a device, not a regular file: not read",
    ]


# -- 2. no formula cells from untrusted names --------------------------------------------------

# (A tab or CR in a file name is shown escaped, as \t or \r, so a name cannot start a cell with one.)
FORMULA_NAMES = ['=HYPERLINK("https:x.example","y").txt', "+1.txt", "-2.txt", "@SUM(A1).txt"]


def test_csv_safe_quotes_every_formula_trigger():
    for trigger in ("=", "+", "-", "@", "\t", "\r"):
        assert batch.csv_safe(trigger + "1+1") == "'" + trigger + "1+1"
    assert batch.csv_safe("a=1") == "a=1" and batch.csv_safe(-5) == -5 and batch.csv_safe(None) is None


def test_formula_like_file_names_are_text_in_xlsx_and_quoted_in_csv(tmp_path, monkeypatch):
    intake = tmp_path / "intake"
    intake.mkdir()
    for name in FORMULA_NAMES:
        (intake / name).write_text(NARRATIVE, encoding="utf-8")
    (intake / "=cmd|' -C calc'!A0.txt").write_bytes(b"")  # an error row whose file cell starts with =
    out = tmp_path / "out"
    monkeypatch.chdir(intake)  # `batch .`: the error rows' paths then start with the name itself
    result = batch_cli(".", out)
    assert result.exit_code == 1
    from openpyxl import load_workbook

    workbook = load_workbook(out / "summary.xlsx")
    cells = [cell for sheet in workbook for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert cells and all(cell.data_type != "f" for cell in cells)
    files = [cell.value for cell in workbook["summary"]["A"][1:]]
    assert sorted(files) == sorted(FORMULA_NAMES)  # the names themselves, as text
    summary = read_csv(out / "summary.csv")
    assert sorted(row["file"] for row in summary) == sorted("'" + name for name in FORMULA_NAMES)
    assert read_csv(out / "errors.csv") == [{"file": "'=cmd|' -C calc'!A0.txt", "error": "empty file"}]
    for path in (out / "summary.csv", out / "errors.csv"):
        for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))):
            assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row), row


# -- 3. one batch at a time per output folder --------------------------------------------------


def test_a_second_batch_into_the_same_output_folder_is_refused(tmp_path):
    intake = tmp_path / "intake"
    intake.mkdir()
    (intake / "good.txt").write_text(NARRATIVE, encoding="utf-8")
    out = tmp_path / "out"
    holder = subprocess.Popen(  # another batch, holding the lock
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from evidence_nlp.batch import output_lock\n"
            "with output_lock(Path(sys.argv[1])):\n    print('locked', flush=True); sys.stdin.readline()",
            str(out),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        result = batch_cli(intake, out)
        assert result.exit_code == 2
        assert result.stderr.splitlines() == [
            f"error: {out}: another batch is writing to this output folder (it holds .evidence-nlp.lock); "
            "wait for it to finish or choose another --out"
        ]
        assert not (out / "reports").exists() and not (out / "summary.csv").exists()
    finally:
        holder.communicate("\n", timeout=HANG_SECONDS)
    assert batch_cli(intake, out).exit_code == 0  # released: the next batch runs


def test_a_batch_killed_with_kill_9_leaves_no_stale_lock(tmp_path):
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from evidence_nlp.batch import output_lock\n"
            "with output_lock(Path(sys.argv[1])):\n    print('locked', flush=True); time.sleep(600)",
            str(out),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    holder.kill()
    holder.wait(timeout=HANG_SECONDS)
    intake = tmp_path / "intake"
    intake.mkdir()
    (intake / "good.txt").write_text(NARRATIVE, encoding="utf-8")
    assert batch_cli(intake, out).exit_code == 0


# -- 8. a slow file is a timeout, not a corrupt file -------------------------------------------


def _slow(*args, **kwargs):
    time.sleep(30)


def _slow_then_own_error(*args, **kwargs):
    """A parser that catches the timeout and raises an error of its own."""
    try:
        time.sleep(30)
    except Exception as exc:
        raise ValueError("parser gave up") from exc


@pytest.mark.parametrize("slow", [_slow, _slow_then_own_error], ids=["sleeps", "swallows-the-timeout"])
@pytest.mark.parametrize("name", ["slow.docx", "slow.pdf"])
def test_a_file_over_the_time_limit_is_reported_as_timed_out(tmp_path, monkeypatch, lexical_analyzer, name, slow):
    import docx
    import pdfplumber

    intake = tmp_path / "intake"
    intake.mkdir()
    if name.endswith(".docx"):
        (intake / name).write_bytes(DOCX.read_bytes())
        monkeypatch.setattr(docx, "Document", slow)
    else:
        (intake / name).write_bytes(_minimal_pdf(b"BT /F1 12 Tf 20 100 Td (Customer satisfaction 96%) Tj ET"))
        monkeypatch.setattr(pdfplumber, "open", slow)
    items, _ = discover(intake, tmp_path / "out")
    started = time.perf_counter()
    (outcome,) = run_batch(items, lexical_analyzer, {}, timeout=0.3)
    assert time.perf_counter() - started < 10
    assert outcome.error == f"{intake}/{name}: timed out after 0.3 s"


# -- 9. a full disk: one line, no traceback, no stray temporary files --------------------------


def test_write_atomic_removes_its_temporary_file_when_the_disk_fills(tmp_path, monkeypatch):
    real_write = os.write
    written: list[int] = []

    def disk_fills(fd: int, data) -> int:
        if written:  # the first block goes to disk, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(real_write(fd, bytes(data[:4096])))
        return written[-1]

    monkeypatch.setattr(report_module.os, "write", disk_fills)
    with pytest.raises(OSError) as err:
        write_atomic(tmp_path / "out" / "report.json", "长" * 10_000)
    assert err.value.errno == errno.ENOSPC and written == [4096]
    assert list((tmp_path / "out").iterdir()) == []


def _tmp_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp") or p.name.startswith("tmp")]


def test_batch_and_analyze_on_a_full_disk_fail_in_one_line_without_tmp_files(tmp_path):
    """RLIMIT_FSIZE makes every write past 4 KB fail (EFBIG), as a full disk fails it (ENOSPC)."""
    intake = tmp_path / "intake"
    intake.mkdir()
    for number in range(3):
        (intake / f"{number}.txt").write_text(NARRATIVE * (number + 1), encoding="utf-8")
    out = tmp_path / "out"
    limits = {resource.RLIMIT_FSIZE: 4096}
    result = run_child(["batch", str(intake), "--out", str(out), "--encoder", "lexical"], limits)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors[-1].startswith(f"error: {out}: cannot write the summary (")
    assert all("cannot write report (File too large)" in line for line in errors[:-1]) and len(errors) == 4
    assert _tmp_files(out) == []
    single = run_child(
        ["analyze", str(intake / "0.txt"), "--out", str(tmp_path / "one"), "--encoder", "lexical"], limits
    )
    assert single.returncode == 1 and "Traceback" not in single.stderr
    assert single.stderr.splitlines() == [f"error: {intake}/0.txt: cannot write report (File too large)"]
    assert list((tmp_path / "one").iterdir()) == []


# -- 11. any valid file name gets its own report ------------------------------------------------


def test_long_names_and_a_folder_named_like_a_report_each_get_a_report(tmp_path):
    intake = tmp_path / "intake"
    (intake / "a.txt.json").mkdir(parents=True)  # its reports go in reports/a.txt.json/
    names = ["长" * 84 + ".md", "x" * 249 + ".txt", "y" * 251 + ".md", "a.txt"]
    assert [len(n.encode()) for n in names] == [255, 253, 254, 5]
    for name in names:
        (intake / name).write_text(NARRATIVE, encoding="utf-8")
    (intake / "a.txt.json" / "b.txt").write_text(NARRATIVE, encoding="utf-8")
    out = tmp_path / "out"
    result = batch_cli(intake, out)
    assert result.exit_code == 0, result.output
    assert "5 files: 5 analysed" in result.stdout
    reports = [p for p in (out / "reports").rglob("*.json") if p.is_file()]
    assert len(reports) == 5 and all(len(p.name.encode()) <= NAME_MAX for p in reports)
    originals = sorted(json.loads(p.read_text(encoding="utf-8"))["document"]["path"] for p in reports)
    assert originals == sorted(str(intake / n) for n in [*names, "a.txt.json/b.txt"])
    assert (out / "reports" / "a.txt.json" / "b.txt.json").is_file()
    again = batch_cli(intake, out)  # the derived names are stable: a re-run reuses every report
    assert "0 analysed, 5 up to date" in again.stdout


def test_report_names_stay_valid_and_unique():
    assert batch.report_file_name("a.txt", "a.txt") == "a.txt.json"
    hashed = batch.report_file_name("a.txt", "a.txt", taken={"a.txt.json"})
    assert re.fullmatch(r"a\.txt-[0-9a-f]{12}\.json", hashed)
    # a file named to collide with that hash gets another one
    assert batch.report_file_name("a.txt", "a.txt", taken={"a.txt.json", hashed}) not in {hashed, "a.txt.json"}
    long = batch.report_file_name("长" * 84 + ".md", "长" * 84 + ".md")
    assert len(long.encode()) <= NAME_MAX and long.encode().decode("utf-8").startswith("长" * 78)
    other = batch.report_file_name("长" * 84 + ".txt", "长" * 84 + ".txt")
    assert other != long  # same cut-off prefix, different files: different hashes


# -- 12. reasons in words, not exception class names --------------------------------------------


def _zip(members: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _docx_members() -> dict[str, bytes]:
    with zipfile.ZipFile(DOCX) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _xlsx() -> bytes:
    from openpyxl import Workbook

    buffer = io.BytesIO()
    Workbook().save(buffer)
    return buffer.getvalue()


def _docx_with_a_damaged_part() -> bytes:
    raw = bytearray(DOCX.read_bytes())
    raw[raw.find(b"word/document.xml") + 140] ^= 0xFF  # inside word/document.xml's deflate data
    return bytes(raw)


PLAIN_REASONS = [
    (
        "zip-renamed.docx",
        lambda: _zip({"hello.txt": "hi"}),
        "not a Word document: the zip has no [Content_Types].xml (a zip archive renamed?)",
    ),
    (
        "no-body.docx",
        lambda: _zip({k: v for k, v in _docx_members().items() if k != "word/document.xml"}),
        "not a Word document: the zip has no word/document.xml",
    ),
    (
        "bad-xml.docx",
        lambda: _zip({**_docx_members(), "word/document.xml": b"<w:document"}),
        "corrupt .docx: a part is not well-formed XML (line 1, column 12)",
    ),
    ("workbook.docx", _xlsx, "not a Word document: an Excel workbook (.xlsx) renamed to .docx"),
    (
        "damaged.docx",
        _docx_with_a_damaged_part,
        "corrupt .docx: a compressed part cannot be unpacked (damaged or truncated file)",
    ),
    (
        "truncated.pdf",
        lambda: _minimal_pdf(b"BT /F1 12 Tf 20 100 Td (Hello) Tj ET")[:200],
        "corrupt .pdf: the file ends too early (truncated or incompletely uploaded?)",
    ),
    (
        "no-root.pdf",
        lambda: b"%PDF-1.4\nthis is not a pdf body",
        "corrupt .pdf: it has no document catalogue (/Root); the file is damaged or not really a PDF",
    ),
]
EXCEPTION_NAME = re.compile(r"\b\w*(Error|Exception)\b|\((KeyError|PSEOF|FileTimeout)\)")


@pytest.mark.parametrize(("name", "content", "reason"), PLAIN_REASONS, ids=[case[0] for case in PLAIN_REASONS])
def test_damaged_documents_are_explained_in_words(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content())
    with pytest.raises(IngestError) as err:
        read_document(path)
    assert err.value.reason == reason
    assert not EXCEPTION_NAME.search(reason)


def test_a_file_name_that_looks_like_mathtext_does_not_break_the_heatmap(tmp_path):
    intake = tmp_path / "intake"
    intake.mkdir()
    (intake / "a$\\frac{$.txt").write_text(
        "一、顾客\n\n我每季度开展顾客满意度调查，满意度达到96.5%，较上年提升2个百分点。\n", encoding="utf-8"
    )
    result = CliRunner().invoke(app, ["batch", str(intake), "--out", str(tmp_path / "out"), "--encoder", "lexical"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "heatmap.png").stat().st_size > 0


def _children(pid: int) -> list[int]:
    """Live child processes of `pid`, from /proc (Linux)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux's prctl")
def test_workers_die_with_a_killed_batch_and_a_rerun_finishes(tmp_path):
    intake = tmp_path / "intake"
    intake.mkdir()
    sources = sorted((SAMPLES.parent / "annotated").glob("*.txt"))[:24]
    for source in sources:
        (intake / source.name).write_bytes(source.read_bytes())
    out = tmp_path / "out"
    command = [sys.executable, "-m", "evidence_nlp", "batch", str(intake), "--out", str(out), "--workers", "2"]
    batch = subprocess.Popen(
        [*command, "--encoder", "lexical"], cwd=SAMPLES.parents[1], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    workers: list[int] = []
    while time.monotonic() < deadline and len(workers) < 2 and batch.poll() is None:
        workers = _children(batch.pid)
        time.sleep(0.05)
    assert len(workers) >= 2, "the batch never started its workers"
    batch.send_signal(signal.SIGKILL)
    batch.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.1)
    assert not [w for w in workers if _alive(w)], "workers outlived the killed batch"
    rerun = subprocess.run(
        [*command, "--encoder", "lexical"], cwd=SAMPLES.parents[1], capture_output=True, text=True, timeout=600
    )
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert len(list((out / "reports").rglob("*.json"))) == len(sources)
    assert not list(out.rglob("*.tmp"))
