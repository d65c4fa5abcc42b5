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
    [
        "高于行业平均水平2个百分点",
        "经省级成果评价达到国际先进水平",
        "在全省同类医院中排名第一",
        "优于标杆企业",
        "与同行相比领先",
        "8家船厂同类班组对标排名第一",
        "比同类进口机型低12%",
        "在全省86名选手中获第2名",
    ],
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


@pytest.mark.parametrize("text", ["步入行业领先水平", "引领行业标杆", "达到国际先进水平", "产品质量处于国内领先地位"])
def test_a_bare_level_claim_is_no_benchmark(text):
    # docs/annotation-guide.md: a level counts only when an evaluating body confirms it.
    assert not cues.mentions_benchmark(text)


@pytest.mark.parametrize(
    "text",
    [
        "家长满意率2019年是81.3%，2023年达到96.2%",
        "卫生院的新技术新项目，2019年只有1项，2023年已有7项",
        "我由超视距驾驶员升级为教员",
        "先后完成了从讲师到高级讲师的晋升",
        "首响时长：28秒 → 9秒",
        "换夹时间由原来的15分钟缩短到3分钟",
        "外观专利从0到4项，实现了从无到有",
    ],
)
def test_past_comparisons_in_other_words(text):
    assert cues.mentions_past_comparison(text)


@pytest.mark.parametrize(
    "text",
    [
        "本人2019年取得护理学硕士学位，2021年获得专科护士资格证书，2022年晋升为主任护师",
        "2017年获评江苏工匠，2020年获全国五一劳动奖章",
    ],
)
def test_dated_achievements_are_no_past_comparison(text):
    assert not cues.mentions_past_comparison(text)
    assert not cues.shows_trend(text)


@pytest.mark.parametrize(
    "text",
    [
        "近四年门诊处方合格率依次为93.1%、95.8%、97.6%、98.9%",
        "可记录事件率：2019年1.82，2020年1.21，2021年0.86，2022年0.54",
        "客户端PPM由2021年的186下降到2022年的112、2023年的58",
        "授权发明专利：2021年1件，2022年3件，2023年5件",
    ],
)
def test_trends_in_running_text(text):
    assert cues.shows_trend(text)


@pytest.mark.parametrize(
    "text",
    [
        # Two measures at two points each, not one measure at four.
        "专利授权数由2020年的1项增加到2023年的9项，立项数由2021年的2项增至2023年的7项",
        "2021年取得AFP资格，2022年取得中级经济师职称，2023年取得CFP资格，发表论文3篇",
        "连续三年考核优秀",
    ],
)
def test_no_trend_without_one_measure_at_three_points(text):
    assert not cues.shows_trend(text)


@pytest.mark.parametrize(
    "text, reason",
    [
        ("师带徒，也称师徒制，是指由经验丰富的师傅对徒弟进行传帮带的培养方式。", "definition"),
        ("能力验证是指利用实验室间比对，按照预先制定的准则评价参加者能力的活动。", "definition"),
        ("所谓5S，就是整理、整顿、清扫、清洁、素养。", "definition"),
        ("本报讯（记者 王明）近日，省长质量奖评审组来到我市。", "news"),
        ("采访的最后，记者问他开了十年地铁，最怕什么。", "news"),
        ("离开车间那天，他带着记者走进压铸车间。", "news"),
    ],
)
def test_text_not_about_the_applicant(text, reason):
    assert cues.not_about_applicant(text) == reason


@pytest.mark.parametrize(
    "text",
    [
        "我在班组推行师带徒，也就是一名师傅带两名徒弟，三年带出高级工12名。",
        "所谓工匠精神，我理解就是把每一道焊缝焊好，这是我二十年来的信条。",
        "2023年接受《新华日报》记者专访，事迹被多家媒体报道。",
        "本人2019年取得护理学硕士学位。",
    ],
)
def test_text_about_the_applicant_is_kept(text):
    assert cues.not_about_applicant(text) is None
