"""Parse one untrusted .docx/.pdf in a short-lived worker process (issue 10 item 4).

A 1 MB PDF can hold a compressed stream that unpacks to gigabytes, and the unpacking runs inside
C code that neither a SIGALRM time limit nor anything else in the process can interrupt. So the
parse runs in a child forked for the one file, under an address-space limit (RLIMIT_AS), and the
parent waits for it in a way a signal does interrupt: the batch's per-file time limit (or this
module's own TIME_LIMIT) ends the wait, and the child is killed with SIGKILL. The child sends its
result back as JSON over a pipe (never pickle: the parent does not run what a child could forge).

Where os.fork is missing (Windows) the parse runs in-process, without these limits.
"""

from __future__ import annotations

import json
import math
import os
import select
import signal
import time
import traceback
from collections.abc import Callable
from typing import Any

from .errors import EvidenceError, IngestError

# The memory one parse may use beyond what the process held when it forked (bytes of address
# space). Real narratives need a few tens of MB.
MEMORY_LIMIT = 1 << 30
# A parse still running after this many seconds is killed, even when the caller set no time limit.
TIME_LIMIT = 300.0
# The most a worker may send back (JSON of the text); MAX_TEXT_CHARS in ingest keeps real ones far below.
MAX_RESULT_BYTES = 64 << 20
ISOLATED = hasattr(os, "fork")


def describe_memory_limit(limit: int | None = None) -> str:
    limit = MEMORY_LIMIT if limit is None else limit
    if limit >= 1 << 30 and limit % (1 << 30) == 0:
        return f"{limit >> 30} GiB"
    return f"{limit / (1 << 20):g} MiB"


def out_of_memory_reason() -> str:
    return f"ran out of the {describe_memory_limit()} memory allowed for one file (a compressed bomb?): not read"


def run_isolated(reader: Callable[[bytes, str], tuple], raw: bytes, name: str) -> tuple:
    """reader(raw, name) run in a worker process; its IngestError or result come back as they were."""
    if not ISOLATED:  # pragma: no cover - Windows
        return reader(raw, name)
    read_end, write_end = os.pipe()
    # SIGALRM (the batch's time limit) is held off until the child is known: a timeout that
    # struck between fork and the try below would leave the child running.
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    try:
        pid = os.fork()
    except BaseException:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        os.close(read_end)
        os.close(write_end)
        raise
    if pid == 0:  # the child: never returns
        os.close(read_end)
        _child(reader, raw, name, write_end)
    os.close(write_end)
    try:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        message = _receive(read_end, name)
    finally:
        os.close(read_end)
        _reap(pid)
    return _unpack(message, name)


def _child(reader: Callable[[bytes, str], tuple], raw: bytes, name: str, fd: int) -> None:
    status = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        _limit_resources()
        try:
            text, encoding, headings, warnings = reader(raw, name)
            message: dict[str, Any] = {"ok": [text, encoding, [list(h) for h in headings], list(warnings)]}
        except IngestError as exc:
            message = {"error": exc.reason}
        except MemoryError:
            message = {"memory": True}
        data = json.dumps(message, ensure_ascii=False).encode("utf-8", "surrogatepass")
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except BaseException:  # noqa: BLE001 - anything else: say so on stderr, exit non-zero
        status = 70
        try:
            traceback.print_exc()
        except BaseException:  # noqa: BLE001
            pass
    finally:
        os._exit(status)


def _limit_resources() -> None:
    import resource

    used = _address_space()
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = used + MEMORY_LIMIT
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    # A backstop for a child whose parent died: its CPU time is bounded by itself too.
    seconds = math.ceil(TIME_LIMIT) + 5
    soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard == resource.RLIM_INFINITY or hard > seconds:
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, hard if hard != resource.RLIM_INFINITY else seconds + 5))


def _address_space() -> int:
    """Bytes of address space this process holds now (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm", "rb") as handle:
            return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _receive(fd: int, name: str) -> bytes:
    deadline = time.monotonic() + TIME_LIMIT
    chunks: list[bytes] = []
    size = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise IngestError(name, f"timed out after {TIME_LIMIT:g} s")
        ready, _, _ = select.select([fd], [], [], left)  # a SIGALRM handler's exception ends the wait
        if not ready:
            continue
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_RESULT_BYTES:
            raise IngestError(name, f"more than {MAX_RESULT_BYTES >> 20} MB of extracted text: not read")
        chunks.append(chunk)


def _reap(pid: int) -> None:
    """Kill the child if it still runs (a timeout, an interrupt) and collect it."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    except (ChildProcessError, ProcessLookupError):  # pragma: no cover - already collected
        pass


def _unpack(data: bytes, name: str) -> tuple:
    try:
        message = json.loads(data.decode("utf-8", "surrogatepass")) if data else None
    except ValueError:
        message = None
    if not isinstance(message, dict):
        # The child died without a word: under RLIMIT_AS a failed allocation in C code can abort
        # the process instead of raising MemoryError.
        raise IngestError(
            name,
            "the parser stopped unexpectedly (the file may need more than the "
            f"{describe_memory_limit()} memory allowed for one file): not read",
        )
    if "ok" in message:
        text, encoding, headings, warnings = message["ok"]
        return text, encoding, tuple(tuple(h) for h in headings), tuple(warnings)
    if "memory" in message:
        raise IngestError(name, out_of_memory_reason())
    reason = message.get("error")
    if isinstance(reason, str):
        raise IngestError(name, reason)
    raise EvidenceError(f"{name}: the parser sent an unreadable answer")  # pragma: no cover
