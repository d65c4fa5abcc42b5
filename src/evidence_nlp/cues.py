"""Surface cues in Chinese narrative text: specific evidence, comparisons with the past and with
benchmarks, and trends. Pure functions over strings, shared by the matcher and coverage stages."""

from __future__ import annotations

import re
import unicodedata


# Full-width digits, % and punctuation are common in Chinese documents: fold them first (NFKC),
# so "１２％" and "12%" give the same cues.
def fold_width(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*\s*(?:%|‰|个百分点|万元|亿元|元|项|篇|人|名|次|件|台|天|小时|分钟|万|倍)?")
_YEAR = re.compile(r"(?<!\d)(19[89]\d|20[0-4]\d)(?:\s*年|(?=\s*[-—~至到|/、，,]))")
_CN_COUNT = re.compile(r"[一二三四五六七八九十两百千]+(?:项|篇|名|人|次|件|个|余项|余名|余人|余篇)")
_NAMED = re.compile(r"《[^》]{2,40}》|“[^”]{2,30}”|\b[A-Z][A-Za-z0-9]{1,}\b")

# Comparison with the applicant's own past: before/after figures, year-on-year wording.
_PAST = re.compile(
    r"同比|环比|较上年|比上年|较去年|比去年|较往年|与上年相比|与去年相比|较\d{4}年|比\d{4}年|"
    r"由\s*\d{4}\s*年?[^。；]{0,30}?(?:提[升高]|增[长加]|下降|降[低至]|减少|上升)|"
    r"从\s*\d{4}\s*年?[^。；]{0,30}?(?:提[升高]|增[长加]|下降|降[低至]|减少|上升)|"
    r"(?:由|从)[^。；，]{0,20}?\d[^。；]{0,25}?(?:提[升高]|增[长加]|下降|降低|减少|上升|降|升)了?(?:到|至)|"
    r"(?:提[升高]|增[长加]|下降|降低|减少|上升)(?:了)?\s*\d+(?:\.\d+)?\s*(?:个百分点|%|倍)|"
    r"连续\s*[三四五六七八九十\d]+\s*年[^。；]{0,20}?(?:提[升高]|增[长加]|下降|降低|保持|位居|上升)|"
    r"逐年(?:提[升高]|增[长加]|下降|降低|上升)|翻了?[一二两三]番"
)
# Comparison with an external reference. A title or award alone is not a comparison.
_BENCHMARK = re.compile(
    r"行业平均|行业均值|全国平均|全省平均|全市平均|平均水平|行业标杆|标杆企业|标杆单位|对标|与标杆|"
    r"同行业?|同类(?:企业|产品|医院|学校|单位|网点|岗位)|行业内?领先|行业先进|国内领先|国内先进|"
    r"国际领先|国际先进|世界领先|世界先进|行业第一|全国第一|全省第一|全市第一|全国前列|全省前列|"
    r"排名第[一二三四五六七八九十\d]|位居[^。；]{0,8}(?:第|前)|高于[^。；]{0,12}(?:平均|行业|同行|标准|全国|全省|全市)|"
    r"优于[^。；]{0,12}(?:平均|行业|同行|标准|全国|全省|全市|国家)|领先于|竞争对手"
)


def numbers(text: str) -> list[str]:
    return _NUMBER.findall(fold_width(text))


def years(text: str) -> set[str]:
    return set(_YEAR.findall(fold_width(text)))


def specificity(text: str) -> float:
    """How concrete a passage is, 0..1: figures, counts, years and named things (methods,
    standards, projects). Generic claims ("本人始终重视顾客满意") score 0."""
    folded = fold_width(text)
    hits = len(_NUMBER.findall(folded)) + len(_CN_COUNT.findall(folded)) + len(_NAMED.findall(folded))
    return min(1.0, hits / 3.0)


def mentions_past_comparison(text: str) -> bool:
    return _PAST.search(fold_width(text)) is not None


def mentions_benchmark(text: str) -> bool:
    return _BENCHMARK.search(fold_width(text)) is not None


def shows_trend(text: str) -> bool:
    """One measure given for three or more time points (the usual minimum for a trend): at least
    three distinct years and three figures besides the years, or a table row of three figures."""
    folded = fold_width(text)
    for line in folded.split("\n"):
        cells = [c.strip() for c in re.split(r"[|｜\t]", line) if c.strip()]
        figures = [
            c
            for c in cells[1:]
            if re.fullmatch(r"[-+]?\d+(?:\.\d+)?\s*(?:%|‰|[^\d\s]{0,3})", c)
            and not re.fullmatch(r"(?:19|20)\d\d\s*年?", c)
        ]
        if len(figures) >= 3:
            return True
    distinct_years = years(folded)
    if len(distinct_years) < 3:
        return (
            bool(re.search(r"连续\s*[三四五六七八九十3-9]\s*年[^。；]{0,30}?\d", folded)) and len(numbers(folded)) >= 3
        )
    other_figures = [n for n in numbers(folded) if not re.fullmatch(r"(19|20)\d\d", n.strip())]
    return len(other_figures) >= 3
