from __future__ import annotations

import json
from pathlib import Path

import pytest

from evidence_nlp.measures import (
    Measure,
    Point,
    assess_measure,
    chinese_number,
    direction_of,
    evaluate_measures,
    extract_measures,
    format_measure_evaluation,
    measure_to_dict,
)

DIRECTIONS = {"合格率": "up", "不良率": "down", "投诉": "down", "周期": "down", "满意度": "up", "及时率": "up"}


def _extract(text: str) -> list[Measure]:
    measures = extract_measures(text, [(0, len(text))], DIRECTIONS)
    for m in measures:  # every offset slices to what it quotes
        assert text[m.name_start : m.name_end] == m.name
        assert all(text[p.start : p.end] == p.text for p in m.points)
        assert all(text[r.start : r.end] == r.text for r in m.references)
    return measures


def _points(measure: Measure) -> list[tuple[str | None, float]]:
    return [(p.time, p.value) for p in measure.points]


def test_from_year_to_year_with_an_industry_average():
    (m,) = _extract("一次探伤合格率由2020年的98.1%提高到2024年的99.5%，高于行业平均97.5%。")
    assert m.name == "一次探伤合格率" and m.unit == "%" and m.direction == "up"
    assert _points(m) == [("2020", 98.1), ("2024", 99.5)]
    assert [(r.kind, r.value) for r in m.references] == [("average", 97.5)]
    assessment = assess_measure(m)
    assert assessment.level == 99.5 and assessment.past and assessment.benchmark and assessment.trend is None


def test_before_and_after_without_years():
    (m,) = _extract("审批周期从12个工作日缩短到7个工作日。")
    assert m.name == "审批周期" and m.unit == "个工作日" and m.direction == "down"
    assert _points(m) == [("之前", 12.0), ("之后", 7.0)]


def test_kept_for_five_years_is_one_point():
    (m,) = _extract("产品合格率连续五年保持在99.8%以上。")
    assert _points(m) == [("连续五年", 99.8)]
    assert not assess_measure(m).past


def test_year_by_year_list_is_one_measure_with_a_trend():
    (m,) = _extract("客户满意度2021年为92%，2022年为94%，2023年达到97%。")
    assert m.name == "客户满意度"
    assert _points(m) == [("2021", 92.0), ("2022", 94.0), ("2023", 97.0)]
    assert assess_measure(m).trend == "improving"


def test_respectively_with_years_and_a_down_measure():
    (m,) = _extract("2021年、2022年、2023年顾客投诉分别为12起、8起、5起。")
    assert m.direction == "down" and _points(m) == [("2021", 12.0), ("2022", 8.0), ("2023", 5.0)]
    assert assess_measure(m).trend == "improving"  # fewer complaints is better


def test_a_falling_down_measure_improves_and_a_falling_up_measure_worsens():
    (bad,) = _extract("不良率2021年为1.2%，2022年为0.9%，2023年为0.5%。")
    assert assess_measure(bad).trend == "improving"
    (good,) = _extract("合格率2021年为99.2%，2022年为98.0%，2023年为96.5%。")
    assert assess_measure(good).trend == "worsening"
    (flat,) = _extract("合格率2021年为99.0%，2022年为99.1%，2023年为99.0%。")
    assert assess_measure(flat).trend == "stable"


def test_flattened_table_with_years_and_a_reference_column():
    text = (
        "指标 | 2021年 | 2022年 | 2023年 | 行业平均\n"
        "一次合格率（%） | 96.2 | 97.8 | 99.1 | 97.0\n"
        "顾客投诉率 | 0.8% | 0.6% | 0.3% | 0.9%"
    )
    first, second = _extract(text)
    assert first.name == "一次合格率" and first.unit == "%"
    assert _points(first) == [("2021", 96.2), ("2022", 97.8), ("2023", 99.1)]
    assert [(r.kind, r.value) for r in first.references] == [("average", 97.0)]
    assert second.direction == "down" and assess_measure(second).trend == "improving"
    assert [p.text for p in second.points] == ["0.8%", "0.6%", "0.3%"]


def test_transposed_table_with_one_row_per_year():
    text = "年份 | 培训人次 | 授权专利（项）\n2021年 | 120 | 2\n2022年 | 150 | 3\n2023年 | 180 | 5"
    training, patents = _extract(text)
    assert training.name == "培训人次" and patents.unit == "项"
    assert _points(patents) == [("2021", 2.0), ("2022", 3.0), ("2023", 5.0)]


def test_tab_separated_table_row():
    text = "指标\t2022年\t2023年\n顾客满意度\t90.1\t93.4"
    (m,) = _extract(text)
    assert _points(m) == [("2022", 90.1), ("2023", 93.4)]


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("班组焊接质量在8家船厂同类班组对标中排名第一。", "rank", 1.0),
        ("整机能耗比同类进口机型低12%。", "peer", 12.0),
        ("该技术经省级成果评价达到国际先进水平，一次交验合格率达到99.2%。", "evaluation", None),
        ("产品合格率达到99.6%，优于国家标准。", "standard", None),
    ],
)
def test_references(text, kind, value):
    measures = _extract(text)
    references = [r for m in measures for r in m.references]
    assert [(r.kind, r.value) for r in references] == [(kind, value)]


def test_chinese_numerals():
    assert [chinese_number(v) for v in ("三", "十二", "二十", "两百", "一百零五")] == [3, 12, 20, 200, 105]
    assert chinese_number("三一") is None
    patents, apprentices = _extract("近三年获授权发明专利三项，带出徒弟十二名。")
    assert (patents.name, patents.points[0].value, patents.points[0].text) == ("发明专利", 3.0, "三项")
    assert (apprentices.name, apprentices.points[0].value) == ("徒弟", 12.0)
    (share,) = _extract("返修率比2020年下降了五成。")
    assert share.points[0].value == 50.0 and share.unit == "%"


@pytest.mark.parametrize(
    "text",
    [
        "目标：2025年合格率达到99.9%。",
        "我出生于1978年，从事焊接工作20年，电话13912345678。",
        "这是一个好方法，一次合格率很高。",
        "首件一次合格率不低于98%。",
    ],
)
def test_no_measure_in_biography_plans_thresholds_or_prose(text):
    assert _extract(text) == []


def test_offsets_are_into_the_whole_text_across_paragraphs():
    text = "一、结果\n\n合格率由96.8%提高到99.6%。\n\n投诉由12起减少到3起。"
    paragraphs = [(0, 4), (6, 24), (26, len(text))]
    measures = extract_measures(text, paragraphs, DIRECTIONS)
    assert [(m.name, m.paragraph_start) for m in measures] == [("合格率", 6), ("投诉", 26)]
    assert all(text[p.start : p.end] == p.text for m in measures for p in m.points)


def test_full_width_digits_keep_offsets():
    text = "满意度由９２％提高到９７％。"
    (m,) = _extract(text)
    assert _points(m) == [("之前", 92.0), ("之后", 97.0)] and m.points[0].text == "９２％"


def test_direction_longest_fragment_wins():
    assert direction_of("投诉处理及时率", DIRECTIONS) == "up"
    assert direction_of("顾客投诉", DIRECTIONS) == "down"
    assert direction_of("营业收入", DIRECTIONS) is None


def test_trend_needs_three_dated_points():
    m = Measure(
        "合格率",
        0,
        3,
        "%",
        "up",
        (Point(None, 1, "1", 0, 1), Point(None, 2, "2", 0, 1), Point(None, 3, "3", 0, 1)),
        (),
        0,
        9,
    )
    assessment = assess_measure(m)
    assert assessment.past and not assessment.has_trend and assessment.trend is None


def test_evaluation_on_a_tiny_hand_made_gold(tmp_path: Path):
    annotated = tmp_path / "annotated"
    gold_dir = tmp_path / "measures"
    annotated.mkdir()
    gold_dir.mkdir()
    text = "合格率由96.8%提高到99.6%，高于行业平均97.5%。\n\n近三年获授权发明专利3项。"
    (annotated / "doc.txt").write_text(text, encoding="utf-8")
    paragraphs = [{"start": 0, "end": 30, "heading": False, "clauses": []}]
    paragraphs.append({"start": 32, "end": len(text), "heading": False, "clauses": []})
    (annotated / "doc.gold.json").write_text(json.dumps({"paragraphs": paragraphs}), encoding="utf-8")
    predicted = extract_measures(text, [(0, 30), (32, len(text))], DIRECTIONS)
    gold = [measure_to_dict(m) for m in predicted]
    # the gold has one more measure the tool misses, and a point with another time
    gold[0]["points"][1]["time"] = "2023"
    gold.append(
        {
            "name": "论文",
            "name_start": 32,
            "name_end": 34,
            "unit": "篇",
            "direction": "up",
            "points": [],
            "references": [],
        }
    )
    (gold_dir / "doc.measures.json").write_text(json.dumps({"document": "doc", "measures": gold}), encoding="utf-8")
    result = evaluate_measures(gold_dir, ["doc", "absent"], DIRECTIONS, annotated_dir=annotated)
    assert result["measures"]["tp"] == 2 and result["measures"]["precision"] == 1.0
    assert result["measures"]["recall"] == pytest.approx(2 / 3)
    assert result["points"]["tp"] == 2 and result["point_values"]["tp"] == 3
    assert result["references"]["f1"] == 1.0
    assert result["flags"]["past"]["accuracy"] == 1.0 and result["flags"]["benchmark"]["n"] == 2
    assert "documents with gold measures: 1" in format_measure_evaluation(result)
