"""The guideline as data: load and validate a clause tree from a YAML/JSON file in corpus/."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import GuidelineError
from .resources import default_guideline_path

CLAUSE_ID = re.compile(r"^(\d+)\.(\d+)([a-z])$")
ITEM_ID = re.compile(r"^(\d+)\.(\d+)$")
CATEGORY_ID = re.compile(r"^\d+$")
KINDS = ("process", "results")
# Guideline files are untrusted input too (docs/security.md). The bundled guide is 26 KB with 39
# clauses; these bounds leave a generous margin and stop a crafted file before it costs anything.
MAX_GUIDELINE_BYTES = 1_000_000
MAX_CLAUSES = 400
MESSAGE_VALUE_CHARS = 60  # a bad value is quoted in an error message up to this length
# measure_directions: name fragments of results measures and which way is better. The bundled
# lexicon has a few dozen entries; a fragment is a short phrase.
MAX_MEASURE_DIRECTIONS = 2_000
MAX_MEASURE_FRAGMENT_CHARS = 30
MEASURE_DIRECTIONS = ("up", "down")


@dataclass(frozen=True)
class Clause:
    id: str
    item_id: str
    category_id: str
    text: str
    kind: str
    keywords: tuple[str, ...] = ()
    exemplars: tuple[str, ...] = ()
    guidance: str = ""
    is_comparison: bool = False


@dataclass(frozen=True)
class Item:
    id: str
    category_id: str
    title: str
    kind: str
    clause_ids: tuple[str, ...]
    comparison_clause: str | None = None


@dataclass(frozen=True)
class Category:
    id: str
    title: str
    item_ids: tuple[str, ...]


@dataclass(frozen=True)
class CoreConcept:
    id: str
    title: str
    text: str


@dataclass(frozen=True)
class Guideline:
    id: str
    title: str
    source: str
    sha256: str
    core_concepts: tuple[CoreConcept, ...]
    categories: tuple[Category, ...]
    items: dict[str, Item] = field(repr=False)
    clauses: dict[str, Clause] = field(repr=False)
    # name fragment of a results measure -> "up" | "down" (which way is better), e.g. 合格率: up
    measure_directions: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def clause_ids(self) -> list[str]:
        """All clause ids in guideline order."""
        return list(self.clauses)

    def comparison_items(self) -> list[Item]:
        """Results items whose last clause asks for comparison with the past and benchmarks."""
        return [item for item in self.items.values() if item.comparison_clause]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "core_concepts": [c.__dict__ for c in self.core_concepts],
            "categories": [
                {
                    "id": cat.id,
                    "title": cat.title,
                    "items": [
                        {
                            "id": self.items[iid].id,
                            "title": self.items[iid].title,
                            "kind": self.items[iid].kind,
                            "comparison_clause": self.items[iid].comparison_clause,
                            "clauses": [
                                {"id": cid, "text": self.clauses[cid].text} for cid in self.items[iid].clause_ids
                            ],
                        }
                        for iid in cat.item_ids
                    ],
                }
                for cat in self.categories
            ],
        }


def _quoted(value: Any) -> str:
    """A value for an error message, never longer than MESSAGE_VALUE_CHARS."""
    text = repr(value) if isinstance(value, str) else f"a {type(value).__name__}"
    return text if len(text) <= MESSAGE_VALUE_CHARS else text[: MESSAGE_VALUE_CHARS - 1] + "…"


MAX_YAML_NODES = 200_000  # the bundled guide has about 1,500 nodes


def _safe_yaml(text: str) -> Any:
    """yaml.safe_load with aliases bounded: an alias bomb (a 1.5 KB file whose anchors expand to
    gigabytes once its values are walked) is refused after composing, before anything is built,
    by counting the nodes as they would be expanded."""
    import yaml  # only needed for YAML guidelines

    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        count, stack = 0, [root]
        while stack:
            node = stack.pop()
            count += 1
            if count > MAX_YAML_NODES:
                raise GuidelineError(f"YAML expands to more than {MAX_YAML_NODES:,} values (aliases used as a bomb?)")
            if isinstance(node, yaml.SequenceNode):
                stack.extend(node.value)
            elif isinstance(node, yaml.MappingNode):
                stack.extend(part for pair in node.value for part in pair)
        return loader.construct_document(root)
    finally:
        loader.dispose()


def _read_mapping(path: Path) -> dict[str, Any]:
    try:
        size = path.stat().st_size
        if size > MAX_GUIDELINE_BYTES:
            raise GuidelineError(
                f"{path}: guideline file is {size:,} bytes, more than the {MAX_GUIDELINE_BYTES:,} allowed"
            )
        raw = path.read_bytes()
    except FileNotFoundError:
        raise GuidelineError(f"{path}: guideline file not found") from None
    except OSError as exc:
        raise GuidelineError(f"{path}: cannot read guideline file ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            data = _safe_yaml(text)
    except GuidelineError as exc:
        raise GuidelineError(f"{path}: {exc}") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise GuidelineError(f"{path}: not valid UTF-8 JSON/YAML ({' '.join(str(exc).split())})") from None
    except Exception as exc:  # yaml.YAMLError and friends
        reason = " ".join(str(exc).split())  # YAML's messages span lines; errors are one line
        raise GuidelineError(f"{path}: cannot parse guideline ({type(exc).__name__}: {reason})") from None
    if not isinstance(data, dict):
        raise GuidelineError(f"{path}: top level must be a mapping with id, title and categories")
    return data


def _require(entry: Any, key: str, where: str, path: Path, kind: type = str) -> Any:
    if not isinstance(entry, dict):
        raise GuidelineError(f"{path}: {where}: expected a mapping, got {type(entry).__name__}")
    value = entry.get(key)
    if kind is str and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if value is not None and not isinstance(value, kind):
        raise GuidelineError(f"{path}: {where}: '{key}' must be a {kind.__name__}, got {_quoted(value)}")
    if not isinstance(value, kind) or (kind in (str, list) and not value):
        raise GuidelineError(f"{path}: {where}: missing or empty '{key}'")
    return value


def _strings(entry: dict[str, Any], key: str, where: str, path: Path) -> tuple[str, ...]:
    values = entry.get(key) or []
    if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
        raise GuidelineError(f"{path}: {where}: '{key}' must be a list of non-empty strings")
    return tuple(values)


def _measure_directions(data: dict[str, Any], path: Path) -> dict[str, str]:
    """The optional `measure_directions` mapping: fragment -> "up" | "down"."""
    raw = data.get("measure_directions")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise GuidelineError(f"{path}: measure_directions must be a mapping of name fragments to up/down")
    if len(raw) > MAX_MEASURE_DIRECTIONS:
        raise GuidelineError(
            f"{path}: measure_directions has more than {MAX_MEASURE_DIRECTIONS:,} entries; a lexicon has a few dozen"
        )
    directions: dict[str, str] = {}
    for fragment, direction in raw.items():
        if not isinstance(fragment, str) or not fragment.strip():
            raise GuidelineError(
                f"{path}: measure_directions: a fragment must be non-empty text, got {_quoted(fragment)}"
            )
        if len(fragment) > MAX_MEASURE_FRAGMENT_CHARS:
            raise GuidelineError(
                f"{path}: measure_directions: fragment {_quoted(fragment)} is longer than "
                f"{MAX_MEASURE_FRAGMENT_CHARS} characters"
            )
        if direction not in MEASURE_DIRECTIONS:
            raise GuidelineError(
                f"{path}: measure_directions: {_quoted(fragment)} must be one of {', '.join(MEASURE_DIRECTIONS)}, "
                f"got {_quoted(direction)}"
            )
        directions[fragment.strip()] = direction
    return directions


def load_guideline(path: str | Path | None = None) -> Guideline:
    """Load and validate a guideline file; raise GuidelineError naming the bad entry."""
    path = Path(path) if path is not None else default_guideline_path()
    data = _read_mapping(path)
    gid = _require(data, "id", "guideline", path)
    title = _require(data, "title", "guideline", path)
    concepts = tuple(
        CoreConcept(
            id=_require(c, "id", f"core_concepts[{i}]", path),
            title=_require(c, "title", f"core_concepts[{i}]", path),
            text=_require(c, "text", f"core_concepts[{i}]", path),
        )
        for i, c in enumerate(data.get("core_concepts") or [])
    )
    categories: list[Category] = []
    items: dict[str, Item] = {}
    clauses: dict[str, Clause] = {}
    for ci, cat in enumerate(_require(data, "categories", "guideline", path, list)):
        cat_id = _require(cat, "id", f"categories[{ci}]", path)
        where_cat = f"category {cat_id}"
        if not CATEGORY_ID.match(cat_id):
            raise GuidelineError(f"{path}: {where_cat}: id must be a number like '3'")
        if any(c.id == cat_id for c in categories):
            raise GuidelineError(f"{path}: {where_cat}: duplicate category id")
        item_ids = []
        for ii, item in enumerate(_require(cat, "items", where_cat, path, list)):
            item_id = _require(item, "id", f"{where_cat} items[{ii}]", path)
            where_item = f"item {item_id}"
            match = ITEM_ID.match(item_id)
            if not match or match.group(1) != cat_id:
                raise GuidelineError(f"{path}: {where_item}: id must look like '{cat_id}.N' under category {cat_id}")
            if item_id in items:
                raise GuidelineError(f"{path}: {where_item}: duplicate item id")
            kind = item.get("kind", "process")
            if kind not in KINDS:
                raise GuidelineError(
                    f"{path}: {where_item}: kind must be one of {', '.join(KINDS)}, got {_quoted(kind)}"
                )
            comparison = item.get("comparison_clause")
            if comparison is not None and not isinstance(comparison, str):
                raise GuidelineError(
                    f"{path}: {where_item}: comparison_clause must be a clause id, got {_quoted(comparison)}"
                )
            clause_ids = []
            for ki, clause in enumerate(_require(item, "clauses", where_item, path, list)):
                cid = _require(clause, "id", f"{where_item} clauses[{ki}]", path)
                where = f"clause {cid}"
                cmatch = CLAUSE_ID.match(cid)
                if not cmatch or f"{cmatch.group(1)}.{cmatch.group(2)}" != item_id:
                    raise GuidelineError(f"{path}: {where}: id must look like '{item_id}a' under item {item_id}")
                if cid in clauses:
                    raise GuidelineError(f"{path}: {where}: duplicate clause id")
                if len(clauses) >= MAX_CLAUSES:
                    raise GuidelineError(f"{path}: more than {MAX_CLAUSES} clauses; a guideline has a few dozen")
                guidance = clause.get("guidance") or ""
                if not isinstance(guidance, str):
                    raise GuidelineError(f"{path}: {where}: 'guidance' must be text, got {_quoted(guidance)}")
                clauses[cid] = Clause(
                    id=cid,
                    item_id=item_id,
                    category_id=cat_id,
                    text=_require(clause, "text", where, path),
                    kind=kind,
                    keywords=_strings(clause, "keywords", where, path),
                    exemplars=_strings(clause, "exemplars", where, path),
                    guidance=guidance,
                    is_comparison=cid == comparison,
                )
                clause_ids.append(cid)
            if comparison is not None and comparison not in clause_ids:
                raise GuidelineError(
                    f"{path}: {where_item}: comparison_clause {_quoted(comparison)} is not one of its clauses"
                )
            if comparison is not None and kind != "results":
                raise GuidelineError(f"{path}: {where_item}: only results items may have a comparison_clause")
            items[item_id] = Item(
                id=item_id,
                category_id=cat_id,
                title=_require(item, "title", where_item, path),
                kind=kind,
                clause_ids=tuple(clause_ids),
                comparison_clause=comparison,
            )
            item_ids.append(item_id)
        categories.append(Category(id=cat_id, title=_require(cat, "title", where_cat, path), item_ids=tuple(item_ids)))
    return Guideline(
        id=gid,
        title=title,
        source=str(path),
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        core_concepts=concepts,
        categories=tuple(categories),
        items=items,
        clauses=clauses,
        measure_directions=_measure_directions(data, path),
    )
