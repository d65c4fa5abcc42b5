from __future__ import annotations

import pytest

from evidence_nlp import cues


@pytest.mark.parametrize(
    "text",
    [
        "一次合格率由2021年的96.2%提升至2023年的99.1%",
        "客户投诉同比下降35%",
        "人均产值较上年增长12%",
        "不良率从3.2%降至0.8%",
        "专利授权量比2021年增加了5项",
    ],
)
def test_past_comparisons(text):
    assert cues.mentions_past_comparison(text)


@pytest.mark.parametrize(
    "text",
    ["高于行业平均水平2个百分点", "达到国际先进水平", "在全省同类医院中排名第一", "优于标杆企业", "与同行相比领先"],
)
def test_benchmark_comparisons(text):
    assert cues.mentions_benchmark(text)


@pytest.mark.parametrize("text", ["获得全国五一劳动奖章", "本人始终重视顾客满意。", "我荣获江苏工匠称号"])
def test_awards_and_slogans_are_not_comparisons(text):
    assert not cues.mentions_past_comparison(text)
    assert not cues.mentions_benchmark(text)


def test_trend_needs_three_time_points():
    assert cues.shows_trend("2021年、2022年、2023年满意度分别为92%、94%、97%")
    assert cues.shows_trend("指标 | 2021年 | 2022年 | 2023年\n合格率 | 98% | 99% | 99.5%")
    assert not cues.shows_trend("满意度由2022年的92%提升至2023年的97%")  # two points: before/after
    assert not cues.shows_trend("指标 | 2021年 | 2022年 | 2023年")  # a header row is no measure


def test_full_width_digits_give_the_same_cues():
    half = "合格率同比提高12%，高于行业平均水平"
    full = "合格率同比提高１２％，高于行业平均水平"
    assert cues.mentions_past_comparison(full) == cues.mentions_past_comparison(half) is True
    assert cues.mentions_benchmark(full) == cues.mentions_benchmark(half) is True
    assert cues.specificity(full) == cues.specificity(half) > 0


def test_specificity_separates_generic_claims_from_evidence():
    assert cues.specificity("本人始终重视顾客满意，努力做好服务工作。") == 0
    assert cues.specificity("2023年开展满意度调查4次，满意度96.5%，整改问题12项。") == 1.0


@pytest.mark.parametrize(
    "text",
    [
        "得分92分，比全体参评人员平均分（76分）高出16分",
        "指标 2021年 2022年 2023年 2023年全省同品牌网点平均",
        "学习曲线约为35例，明显短于国际文献报道的50至75例",
        "综合成绩位列全国参评医师前10%",
    ],
)
def test_benchmark_comparisons_without_the_usual_words(text):
    assert cues.mentions_benchmark(text)


def test_before_and_now_contrast_is_a_past_comparison():
    assert cues.mentions_past_comparison("2021年以前，我只持有质量工程师一项职业资格，目前已取得5项资格证书")
