from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from evidence_nlp.errors import GuidelineError
from evidence_nlp.guideline import MAX_GUIDELINE_BYTES, load_guideline
from evidence_nlp.resources import default_guideline_path


def test_bundled_guideline_matches_the_seed_structure(guideline):
    assert guideline.id == "jiangsu-individual"
    assert len(guideline.core_concepts) == 8
    assert [c.title for c in guideline.categories] == [
        "意识与素质",
        "目标与计划",
        "顾客",
        "学习与发展",
        "工作过程",
        "改进与创新",
        "结果",
    ]
    assert len(guideline.items) == 16
    assert len(guideline.clauses) == 39
    assert guideline.clause_ids[0] == "1.1a" and guideline.clause_ids[-1] == "7.4b"
    assert guideline.clauses["3.2a"].text == "如何测量分析顾客的满意程度，并利用反馈信息不断改进自身以及组织的工作。"
    assert [i.id for i in guideline.comparison_items()] == ["7.1", "7.2", "7.3"]
    assert {c.id for c in guideline.clauses.values() if c.is_comparison} == {"7.1c", "7.2c", "7.3c"}
    assert guideline.clauses["7.4a"].kind == "results" and guideline.clauses["6.2b"].kind == "process"
    assert all(c.guidance for c in guideline.clauses.values())


def test_clause_text_is_verbatim_from_the_seed(guideline):
    seed = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_b7ecd9d9c13402df.txt"
    if not seed.exists():
        pytest.skip("seed guide not beside the checkout")
    text = seed.read_text(encoding="utf-8")
    for clause in guideline.clauses.values():
        assert clause.text in text, clause.id


def _write(tmp_path: Path, data: dict, name: str = "g.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _base() -> dict:
    return yaml.safe_load(default_guideline_path().read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["categories"][0]["items"][0]["clauses"].append(
                dict(d["categories"][0]["items"][0]["clauses"][0])
            ),
            "clause 1.1a: duplicate clause id",
        ),
        (
            lambda d: d["categories"][2]["items"][1]["clauses"][0].update(id="3.3a"),
            "clause 3.3a: id must look like '3.2a'",
        ),
        (lambda d: d["categories"][1]["items"][0].update(id="5.1"), "item 5.1: id must look like '2.N'"),
        (lambda d: d["categories"][0]["items"][1]["clauses"][2].pop("text"), "clause 1.2c: missing or empty 'text'"),
        (
            lambda d: d["categories"][6]["items"][0].update(comparison_clause="7.1z"),
            "item 7.1: comparison_clause '7.1z'",
        ),
        (lambda d: d["categories"][3]["items"][0].update(kind="outcome"), "item 4.1: kind must be one of"),
        (
            lambda d: d["categories"][0]["items"][0]["clauses"][0].update(keywords="质量"),
            "clause 1.1a: 'keywords' must be a list",
        ),
        (lambda d: d.pop("categories"), "guideline: missing or empty 'categories'"),
    ],
)
def test_validation_names_the_bad_entry(tmp_path, mutate, message):
    data = _base()
    mutate(data)
    path = _write(tmp_path, data)
    with pytest.raises(GuidelineError) as err:
        load_guideline(path)
    assert message in str(err.value)
    assert str(path) in str(err.value)


def test_unreadable_or_malformed_files_fail_clearly(tmp_path):
    with pytest.raises(GuidelineError, match="guideline file not found"):
        load_guideline(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(GuidelineError, match="cannot parse guideline"):
        load_guideline(bad)
    scalar = tmp_path / "scalar.json"
    scalar.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(GuidelineError, match="top level must be a mapping"):
        load_guideline(scalar)


def test_another_guideline_file_in_json_works(tmp_path):
    data = {
        "id": "mini",
        "title": "迷你指南",
        "categories": [
            {
                "id": "1",
                "title": "顾客",
                "items": [
                    {"id": "1.1", "title": "顾客满意", "clauses": [{"id": "1.1a", "text": "如何测量顾客满意。"}]}
                ],
            }
        ],
    }
    path = tmp_path / "mini.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    mini = load_guideline(path)
    assert mini.clause_ids == ["1.1a"] and mini.items["1.1"].kind == "process"


# -- untrusted guideline files (docs/security.md) -------------------------------------------------
_BOMB_ANCHORS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
    f"*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n"
    for i in range(8)
)


def _bomb_guideline(tmp_path, field: str):
    """The bundled guide with an alias bomb (9^9 leaves) as one clause's `field`."""
    data = yaml.safe_load(default_guideline_path().read_text(encoding="utf-8"))
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    target = data["categories"][6]["items"][0]
    key = "comparison_clause" if field == "comparison_clause" else None
    if key:
        old = f"comparison_clause: {target['comparison_clause']}"
        assert old in text
        text = text.replace(old, "comparison_clause: *i", 1)
    else:
        old = f"guidance: {data['categories'][0]['items'][0]['clauses'][0]['guidance']}"
        assert old in text
        text = text.replace(old, "guidance: *i", 1)
    path = tmp_path / f"bomb-{field}.yaml"
    path.write_text(_BOMB_ANCHORS + text, encoding="utf-8")
    return path


def _load_in_child(path, limit_bytes: int = 1 << 30) -> subprocess.CompletedProcess:
    """Load a guideline in a child process whose address space is capped (1 GB): a bomb that got
    through would die of MemoryError there instead of taking the test machine down."""
    code = (
        "import resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({limit_bytes}, {limit_bytes}))\n"
        "from evidence_nlp.errors import GuidelineError\n"
        "from evidence_nlp.guideline import load_guideline\n"
        "try:\n"
        "    load_guideline(sys.argv[1])\n"
        "except GuidelineError as exc:\n"
        "    print('GuidelineError:', exc)\n"
        "    sys.exit(3)\n"
    )
    return subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("field", ["guidance", "comparison_clause"])
def test_a_yaml_alias_bomb_is_refused_with_bounded_memory(tmp_path, field):
    result = _load_in_child(_bomb_guideline(tmp_path, field))
    assert result.returncode == 3, result.stderr[-500:]
    assert "expands to more than" in result.stdout and len(result.stdout) < 300


def test_a_guideline_with_thousands_of_clauses_is_refused_quickly(tmp_path):
    items = "".join(
        f"  - id: '1.{n}'\n    title: 项{n}\n    clauses:\n"
        + "".join(f"    - id: '1.{n}{letter}'\n      text: 条款\n" for letter in "abcdefghijklmnopqrstuvwxy")
        for n in range(1, 801)
    )  # 800 items x 25 clauses = 20,000
    path = tmp_path / "huge.yaml"
    path.write_text("id: huge\ntitle: huge\ncategories:\n- id: '1'\n  title: 一\n  items:\n" + items, encoding="utf-8")
    with pytest.raises(GuidelineError, match="clause"):
        load_guideline(path)
    path.write_bytes(b"id: x\n" + b"#" * (MAX_GUIDELINE_BYTES + 1))
    with pytest.raises(GuidelineError, match="bytes"):
        load_guideline(path)


def test_a_bad_value_is_quoted_short_in_the_error(tmp_path):
    data = yaml.safe_load(default_guideline_path().read_text(encoding="utf-8"))
    data["categories"][6]["items"][0]["comparison_clause"] = "x" * 100_000
    path = tmp_path / "long.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(GuidelineError) as error:
        load_guideline(path)
    assert "not one of its clauses" in str(error.value) and len(str(error.value)) < 400


def test_bundled_guideline_has_a_measure_direction_lexicon(guideline):
    directions = guideline.measure_directions
    assert directions["合格率"] == "up" and directions["不良率"] == "down"
    assert directions["投诉"] == "down" and directions["满意度"] == "up" and directions["周期"] == "down"
    assert set(directions.values()) == {"up", "down"}


def test_measure_directions_is_optional(tmp_path):
    data = _base()
    data.pop("measure_directions", None)
    assert load_guideline(_write(tmp_path, data)).measure_directions == {}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["合格率"], "measure_directions must be a mapping"),
        ({"合格率": "higher"}, "'合格率' must be one of up, down, got 'higher'"),
        ({"合格率": None}, "'合格率' must be one of up, down"),
        ({"  ": "up"}, "a fragment must be non-empty text"),
        ({"率" * 31: "up"}, "is longer than 30 characters"),
    ],
)
def test_bad_measure_directions_name_the_entry(tmp_path, value, message):
    data = _base()
    data["measure_directions"] = value
    with pytest.raises(GuidelineError, match=re.escape(message)):
        load_guideline(_write(tmp_path, data))


def test_a_huge_measure_direction_lexicon_is_refused(tmp_path):
    from evidence_nlp.guideline import MAX_MEASURE_DIRECTIONS

    data = _base()
    data["measure_directions"] = {f"指标{i}": "up" for i in range(MAX_MEASURE_DIRECTIONS + 1)}
    with pytest.raises(GuidelineError, match="more than 2,000 entries"):
        load_guideline(_write(tmp_path, data))
