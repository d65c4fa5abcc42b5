"""Results measures (LeTCI): every indicator a narrative reports with values, its points in time,
the external references it is compared with, and per measure its level, trend and comparisons.

Rule-based over the text of each paragraph; every offset is into the document text, so
`text[start:end]` is what was read. The direction of good per measure (合格率 ↑, 不良率 ↓) comes
from the guideline data (`measure_directions`), not from this code.
"""

from __future__ import annotations

import argparse
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# --------------------------------------------------------------------------------------------
# Data


@dataclass(frozen=True)
class Point:
    time: str | None
    value: float
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Reference:
    kind: str  # "average" | "peer" | "rank" | "standard" | "evaluation" | "other"
    text: str
    value: float | None
    start: int
    end: int


@dataclass(frozen=True)
class Measure:
    name: str
    name_start: int
    name_end: int
    unit: str | None
    direction: str | None  # "up" | "down" | None
    points: tuple[Point, ...]
    references: tuple[Reference, ...]
    paragraph_start: int
    paragraph_end: int


@dataclass(frozen=True)
class MeasureAssessment:
    level: float | None  # the latest value
    level_time: str | None
    trend: str | None  # "improving" | "stable" | "worsening" | None
    has_trend: bool  # three or more dated points, whatever the direction
    past: bool  # two or more points of this measure
    benchmark: bool  # at least one external reference


REFERENCE_KINDS = ("average", "peer", "rank", "standard", "evaluation", "other")
DIRECTIONS = ("up", "down")

# --------------------------------------------------------------------------------------------
# Folding and numbers


def _fold(text: str) -> str:
    """Full-width digits, % and punctuation folded to ASCII, one character for one, so offsets in
    the folded text are offsets in the original (NFKC alone can change the length)."""
    out = []
    for char in text:
        folded = unicodedata.normalize("NFKC", char)
        out.append(folded if len(folded) == 1 else char)
    return "".join(out)


_CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_MULTIPLIER = {"十": 10, "百": 100, "千": 1000, "万": 10000}
_CN_NUM = "[零〇一二两三四五六七八九十百千]+"


def chinese_number(value: str) -> int | None:
    """一 … 九千九百九十九 (十二 → 12, 两百 → 200, 一百零五 → 105); None when malformed."""
    if not value or any(c not in _CN_DIGIT and c not in _CN_MULTIPLIER for c in value):
        return None
    total, digit = 0, None
    for char in value:
        if char in "零〇" and total:
            continue  # "一百零五": a placeholder inside the number
        if char in _CN_DIGIT:
            if digit is not None and _CN_DIGIT[char] != 0:
                return None  # "三一": two digits in a row
            digit = _CN_DIGIT[char]
        else:
            multiplier = _CN_MULTIPLIER[char]
            total += (1 if digit is None else digit) * multiplier
            digit = None
    return total + (digit or 0)


def _number(raw: str) -> float | None:
    raw = raw.replace(",", "")
    try:
        return float(raw)
    except ValueError:
        number = chinese_number(raw)
        return None if number is None else float(number)


# Units, longest first so "个工作日" wins over "个" and "人次" over "人".
_UNITS = tuple(
    "个百分点 个工作日 工作日 万人次 人次 万元 亿元 万件 万米 万吨 万台 学时 课时 小时 分钟"
    " PPM ppm % ‰ 元 项 篇 人 名 次 件 台 天 分 个 家 例 起 条 套 本 门 批次 批 吨 公里 倍"
    " 位 支 部 期 场 户 亩 秒 万方 立方米 兆帕 MPa 毫米 mm 公斤 千克 kg 万字 米 张 块 道 份 度 成 h".split()
)
_UNIT_RE = "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
_ARABIC = r"\d+(?:,\d{3}(?!\d))*(?:\.\d+)?"
_YEAR = r"(?:19[89]\d|20[0-4]\d)"
# A value and its unit. A unit must not run on into a time word ("8个月", "3天内" is fine).
_VALUE = re.compile(
    r"(?P<num>" + _ARABIC + r"|" + _CN_NUM + r")\s*(?P<approx>余|多)?\s*(?P<unit>" + _UNIT_RE + r")?(?![月年岁日号])"
)
_TIME_WORDS = (
    r"实施前|实施后|改进前|改进后|改善前|改善后|整改前|整改后|攻关前|攻关后|以前|之前|目前|现在|如今|去年|今年|上年"
)
_YEAR_TIME = re.compile(
    r"(?P<year>" + _YEAR + r")\s*年?(?P<part>上半年|下半年|一季度|二季度|三季度|四季度|底|末|初|全年|度)?(?!\d)"
)
_CHANGE = (
    r"(?:提[升高]|增[长加]|下降|降[低至到]?|减少|减|上升|升[至到]?|缩短|缩减|压缩|扩大|优化|改善|加快|"
    r"攀升|跃升|增至|达到)"
)
_BOUNDARY = '，,。；;：:！？!?\n（()）“”"、|\t'
_SENTENCE_END = "。；;！？!?\n"


def _unit_of(unit: str | None) -> str | None:
    return unit or None


# --------------------------------------------------------------------------------------------
# References


@dataclass(frozen=True)
class _Found:
    start: int
    end: int


def _ref_value(group: str = "value") -> str:
    return (
        r"(?:约|为|是|仅|达)?\s*(?P<"
        + group
        + r">"
        + _ARABIC
        + r")\s*(?:%|‰|分|天|个工作日|小时|分钟|万元|元|PPM|ppm)?"
    )


_REFERENCE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "evaluation",
        re.compile(
            r"经[^，,。；;\n]{0,30}?(?:评价|鉴定|评审|评定|认定|验收|查新|检测|评估)[^，,。；;\n]{0,8}?"
            r"(?:达到|为|属于?|处于|填补)[^，,。；;\n]{0,14}?(?:水平|领先|先进|空白)"
        ),
    ),
    (
        "rank",
        re.compile(
            r"(?:(?:在)?(?:全国|全省|全市|全区|全行业|行业|系统内|集团内?|"
            + _ARABIC
            + r"\s*(?:家|个|名|支|所)|"
            + _CN_NUM
            + r"(?:家|个|名|支|所))[^，,。；;\n]{0,16}?(?:排名|位列|位居|名列|获得?|列|居)?"
            r"|(?:排名|位列|位居|名列|获得?))第\s*(?P<value>"
            + _ARABIC
            + r"|"
            + _CN_NUM
            + r")\s*(?:名|位)?(?![一二三四五六七八九十\d]*(?:届|次|批|期|发明人|作者|完成人|起草人|"
            r"章|条|节|部分|轮|年|季|天|个|项|时间))"
        ),
    ),
    (
        "average",
        re.compile(
            r"(?:高于|低于|优于|超过|好于|少于|多于|比|较)[^，,。；;\n\d]{0,16}?平均(?:分|值|水平|数)?(?:[^，,。；;\n\d]{0,6}?"
            + _ref_value()
            + r")?"
        ),
    ),
    (
        "average",
        re.compile(
            r"(?:行业|全国|全省|全市|全区|全县|同行业?|区域|集团|全院|系统|同类[^，,。；;\n]{0,8}?|[\u4e00-\u9fff]{2,8}?企业)"
            r"[^，,。；;\n\d]{0,10}?平均(?:水平|值|数)?(?:[^，,。；;\n\d]{0,6}?" + _ref_value() + r")?"
        ),
    ),
    (
        "peer",
        re.compile(
            r"(?:比|较|优于|高于|低于|好于|超过|领先于?)[^，,。；;\n]{0,14}?(?:同类|同行|进口|国外|竞争对手|标杆|同级|兄弟)"
            r"[^，,。；;\n\d]{0,14}?(?:(?:高|低|少|多|快|慢|短|长|节约|降低|提高)了?\s*(?:约|近)?(?P<value>"
            + _ARABIC
            + r")\s*(?:%|倍|个百分点|PPM|ppm|分)?)"
            r"|(?:比|较|优于|高于|低于|好于|超过|领先于?)[^，,。；;\n]{0,14}?(?:同类|同行|进口|国外|竞争对手|标杆|同级|兄弟)"
            r"[^，,。；;\n\d]{0,14}"
            r"|标杆(?:企业|班组|单位|水平)(?:[^，,。；;\n\d]{0,8}?" + _ref_value("value2") + r")?"
        ),
    ),
    (
        "standard",
        re.compile(
            r"(?:(?:优于|高于|低于|严于|达到|满足|符合|超过)[^，,。；;\n]{0,8}?)?(?:国家|国际|行业|地方|企业)?标准(?:要求)?"
            r"(?:[^，,。；;\n\d]{0,6}?(?:[≥≤><]|不低于|不高于|不超过|不少于)\s*(?P<value>" + _ARABIC + r")\s*%?)?"
            r"|(?:顾客|客户|主机厂|考核|合同)要求(?:值)?\s*(?:[≥≤><]|不低于|不高于)?\s*(?P<value2>"
            + _ARABIC
            + r")\s*%?"
        ),
    ),
)


def _find_references(folded: str, start: int, end: int) -> list[Reference]:
    found: list[Reference] = []
    taken: list[tuple[int, int]] = []
    segment = folded[start:end]
    for kind, pattern in _REFERENCE_PATTERNS:
        for match in pattern.finditer(segment):
            s, e = start + match.start(), start + match.end()
            if kind == "standard":
                # "参与编写企业标准" names a document, not a comparison: a standard counts only with a
                # comparison verb before it or a figure after it.
                has_value = match.groupdict().get("value") or match.groupdict().get("value2")
                if not has_value and not re.match(r"优于|高于|低于|严于|超过", match.group(0)):
                    continue
            if kind == "average" and not re.search(r"平均", match.group(0)):
                continue
            if any(s < te and ts < e for ts, te in taken):
                continue
            raw = match.groupdict().get("value") or match.groupdict().get("value2")
            value = _number(raw) if raw else None
            found.append(Reference(kind=kind, text="", value=value, start=s, end=e))
            taken.append((s, e))
    return sorted(found, key=lambda r: r.start)


# --------------------------------------------------------------------------------------------
# Tables


_CELL_SPLIT = re.compile(r"\s*[|｜\t]\s*")
_REFERENCE_HEADER = re.compile(r"平均|对标|标杆|行业|同行|要求|标准")
_SKIP_HEADER = re.compile(r"目标|计划|备注|说明")
_UNIT_IN_NAME = re.compile(r"[（(]([^（）()]{1,8})[）)]\s*$")
_CELL_NUMBER = re.compile(r"^\s*[约≈]?\s*(" + _ARABIC + r")\s*(%|‰)?\s*$")


def _cells(line: str, offset: int) -> list[tuple[str, int, int]]:
    """The cells of a flattened table row with their offsets (stripped)."""
    cells, position = [], 0
    for part in re.split(r"([|｜\t])", line):
        if part in ("|", "｜", "\t"):
            position += 1
            continue
        stripped = part.strip()
        lead = len(part) - len(part.lstrip())
        if stripped:
            cells.append((stripped, offset + position + lead, offset + position + lead + len(stripped)))
        else:
            cells.append(("", offset + position, offset + position))
        position += len(part)
    return cells


def _header_year(cell: str) -> str | None:
    match = re.fullmatch(r"(" + _YEAR + r")\s*年?(上半年|下半年|度)?", cell.strip())
    return (match.group(1) + (match.group(2) or "").replace("度", "")) if match else None


def _name_and_unit(cell: str, start: int) -> tuple[str, int, int, str | None]:
    match = _UNIT_IN_NAME.search(cell)
    unit = None
    name = cell
    if match:
        inner = match.group(1).strip()
        name = cell[: match.start()].rstrip()
        if not re.search(r"\d|制|来源|注", inner):
            unit = inner
    return name, start, start + len(name), unit


def _reference_kind(text: str) -> str:
    if re.search(r"平均", text):
        return "average"
    if re.search(r"标杆|同行|同类|进口", text):
        return "peer"
    if re.search(r"要求|标准", text):
        return "standard"
    if re.search(r"第\s*\d|排名", text):
        return "rank"
    return "other"


def _table_measures(
    text: str, rows: list[list[tuple[str, int, int]]], paragraph: tuple[int, int], directions: Mapping[str, str]
) -> list[Measure]:
    header = rows[0]
    years = [_header_year(c[0]) for c in header]
    measures: list[Measure] = []
    if (
        header
        and re.fullmatch(r"年份|年度|时间|年", header[0][0])
        or (len(rows) > 1 and all(_header_year(r[0][0]) for r in rows[1:] if r))
    ):
        # Transposed: one row per year, one column per measure.
        for column in range(1, len(header)):
            name, ns, ne, unit = _name_and_unit(header[column][0], header[column][1])
            points = []
            for row in rows[1:]:
                year = _header_year(row[0][0]) if row else None
                if column < len(row):
                    point = _cell_point(text, row[column], year)
                    if point:
                        points.append(point)
                        unit = unit or ("%" if point.text.endswith("%") else None)
            if points and name:
                measures.append(_measure(name, ns, ne, unit, directions, points, [], paragraph))
        return measures
    year_columns = [i for i, y in enumerate(years) if y]
    reference_columns = [
        i
        for i, c in enumerate(header)
        if i and not years[i] and _REFERENCE_HEADER.search(c[0]) and not _SKIP_HEADER.search(c[0])
    ]
    for row in rows[1:]:
        if not row or not row[0][0]:
            continue
        name, ns, ne, unit = _name_and_unit(row[0][0], row[0][1])
        values = row[1:]
        cells_by_column: dict[int, tuple[str, int, int]] = {}
        if len(row) == len(header):
            cells_by_column = dict(enumerate(row))
        else:
            # A short row (a measure started later): its figures belong to the latest years.
            numeric = [c for c in values if _CELL_NUMBER.match(c[0])]
            for column, cell in zip(year_columns[-len(numeric) :] if numeric else [], numeric, strict=False):
                cells_by_column[column] = cell
        points = []
        for column in year_columns:
            cell = cells_by_column.get(column)
            point = _cell_point(text, cell, years[column]) if cell else None
            if point:
                points.append(point)
                unit = unit or ("%" if point.text.endswith("%") else None)
        references = []
        for column in reference_columns:
            cell = cells_by_column.get(column)
            if cell and re.search(r"\d", cell[0]):
                number = re.search(_ARABIC, cell[0])
                kind = _reference_kind(cell[0] + " " + header[column][0])
                references.append(
                    Reference(kind, cell[0], _number(number.group(0)) if number else None, cell[1], cell[2])
                )
        if not points:
            continue
        if re.search(r"平均|标杆", name) and measures:
            # "全国PCI主要并发症发生率平均值 | 1.7% | …": the benchmark of the row above.
            previous = measures[-1]
            extra = tuple(
                Reference("average" if "平均" in name else "peer", p.text, p.value, p.start, p.end) for p in points
            )
            measures[-1] = _replace(previous, references=previous.references + extra)
            continue
        measures.append(_measure(name, ns, ne, unit, directions, points, references, paragraph))
    return measures


def _cell_point(text: str, cell: tuple[str, int, int] | None, time: str | None) -> Point | None:
    if cell is None:
        return None
    match = _CELL_NUMBER.match(_fold(cell[0]))
    if not match:
        return None
    value = _number(match.group(1))
    if value is None:
        return None
    start = cell[1] + match.start(1)
    end = cell[1] + match.end(2 if match.group(2) else 1)
    return Point(time, value, text[start:end], start, end)


# --------------------------------------------------------------------------------------------
# Prose


@dataclass
class _Mention:
    value: float
    start: int
    end: int
    unit: str | None
    time: str | None
    name: tuple[int, int] | None  # span of its own name, None when it continues the previous measure
    group: int  # mentions of one phrase (由A到B, 分别为a、b、c) share a group


_NAME_STRIP_TAIL = re.compile(
    r"(?:的|为|是|达到|达|共|累计|共计|总计|合计|约|近|超过|突破|有|仅|只有|保持在?|稳定在|在|了|高达|均|都|已|已达|"
    r"年均|平均|每年|全年|提升至|提高到|增至|降至|降到|分别|依次|从|由|增长|下降|减少|提高|提升|以上|以下|实现|计|总|同比|比|较)+$"
)
# Words after which the name of what was counted begins: "获授权国家发明专利1项" → 国家发明专利.
_NAME_CUT = re.compile(
    r".*(?:获得?|取得|荣获|授权|发表|出版|完成|实现|带出|带领|培养出?|考取|申报|申请|提出|编写|主持|参与|节约|节省|创造|"
    r"挽回|减少|降低|提高|提升|使得?|让|将|把|其中|本人|我们|我|年来|年中|年内|以来|期间|目前|现在|如今|截至|至今|已|共|累计|全年|通过)"
)
_SKIP_CONTEXT = re.compile(
    r"目标|计划|力争|争取|预计|拟|设定|规划|要求|标准规定|每天|每周|每月|每年|每次|每班|每人|每台|每件"
)
_EFFORT = re.compile(r"共有|现有|拥有|下辖|管理着?|其中有|一个班连我|全班")
_PLAN = re.compile(r"目标|规划|力争|争取|预计|预算")
_INTRODUCTION = re.compile(r"现任|出生|位于|始建于|成立于|占地|拥有客房|在岗员工|现管理|主要为|服务国内外")
_ENUMERATED = re.compile(
    r"\s*(?:个|项|条|名)?(?:关键|潜在|主要|重点|具体)?(?:因素|因子|要因|指标|内容|检查点|措施|对策|方面|环节|步骤|部门|岗位|城市|科室|小组|类)"
)
_PROSE_COUNT_UNITS = tuple("个 次 位 台 天 分 部 期 场 门 本 条 批 支 户".split())
_HEADCOUNT = re.compile(r"员工|职工|成员|人员|团队|班组|科室|护士|医生|队员|组员")
_NAME_CHARS = re.compile(r"[\u4e00-\u9fffA-Za-z]")


def _clause_start(folded: str, position: int, floor: int) -> int:
    i = position
    while i > floor and folded[i - 1] not in _BOUNDARY:
        i -= 1
    return i


def _full_sentence_start(folded: str, position: int, floor: int) -> int:
    """Start of the sentence up to the last full stop (a list after a colon stays one sentence)."""
    i = position
    while i > floor and folded[i - 1] not in "。！？!?\n":
        i -= 1
    return i


def _sentence_bounds(folded: str, position: int, floor: int, ceiling: int) -> tuple[int, int]:
    s = position
    while s > floor and folded[s - 1] not in _SENTENCE_END:
        s -= 1
    e = position
    while e < ceiling and folded[e] not in _SENTENCE_END:
        e += 1
    return s, e


def _name_before(folded: str, position: int, floor: int) -> tuple[int, int] | None:
    """The phrase that names the value at `position`: the clause before it, with times, verbs and
    fillers cut away; None when nothing nameable is left."""
    start = _clause_start(folded, position, floor)
    segment = folded[start:position]
    # Times are not names: drop a leading or trailing year ("2023年客户满意度", "满意度2023年").
    cut = _NAME_CUT.match(segment)
    offset = cut.end() if cut else 0
    rest = segment[offset:]
    rest_stripped = re.sub(
        r"(?:"
        + _YEAR
        + r"\s*年?(?:上半年|下半年|底|末|初|度)?|近[一二三四五六七八九十\d]+年|[一二三四五六七八九十\d]+年来)",
        lambda m: " " * len(m.group(0)),
        rest,
    )
    rest_stripped = re.sub(_TIME_WORDS, lambda m: " " * len(m.group(0)), rest_stripped)
    # Keep the last run of name characters (the phrase nearest the value).
    trimmed = _NAME_STRIP_TAIL.sub("", rest_stripped.rstrip()).rstrip()
    runs = list(re.finditer(r"[^\s]+", trimmed))
    if not runs:
        return None
    last = runs[-1]
    # "满意度 2021年为": the name before the year when the run after it is only filler
    s, e = start + offset + last.start(), start + offset + last.end()
    word = folded[s:e]
    word_clean = re.sub(r"^(?:的|和|及|与|并|且|也|还|再|又|就|都|使|让|对|在|从|由)+", "", word)
    s += len(word) - len(word_clean)
    if e - s > 14:
        s = e - 14
    if e <= s or not _NAME_CHARS.search(folded[s:e]):
        return None
    return s, e


def _name_after(folded: str, position: int, ceiling: int) -> tuple[int, int] | None:
    """ "获得3项国家发明专利": the name after the value."""
    e = position
    while e < ceiling and folded[e] not in _BOUNDARY and e - position < 12:
        e += 1
    segment = folded[position:e]
    match = re.match(r"(?:的)?([\u4e00-\u9fffA-Za-z]{2,12})", segment)
    if not match or re.match(r"以上|以下|左右|之多|多|余", match.group(1)):
        return None
    return position + match.start(1), position + match.end(1)


_PERIOD = re.compile(
    r"(?P<range>" + _YEAR + r"\s*年?\s*(?:至|到|—|-|~|～)+\s*" + _YEAR + r"\s*年?)|"
    r"(?P<since>" + _YEAR + r"\s*年(?:以来|起))|"
    r"(?P<year>" + _YEAR + r")\s*年?(?P<part>上半年|下半年|一季度|二季度|三季度|四季度)?(?![\d月])|"
    r"(?P<span>近(?:"
    + _CN_NUM
    + r"|\d+)年|(?:"
    + _CN_NUM
    + r"|\d+)年来|(?:"
    + _CN_NUM
    + r"|\d+)年(?:累计|内)|一年内|全年|累计)|"
    r"(?P<word>" + _TIME_WORDS + r")"
)


def _time_before(folded: str, position: int, floor: int) -> str | None:
    """The year or period the value at `position` belongs to: the last time phrase before it in
    its sentence ("2023年", "近三年", "2021年以来", "实施后")."""
    s, _ = _sentence_bounds(folded, position, floor, position)
    found = list(_PERIOD.finditer(folded, s, position))
    if not found:
        return None
    match = found[-1]
    if match.group("year"):
        return match.group("year") + (match.group("part") or "")
    text = match.group(0).strip()
    if match.group("word"):
        return {"以前": "之前", "现在": "目前", "如今": "目前"}.get(text, text)
    return text


def _prose_mentions(folded: str, start: int, end: int, masked: list[tuple[int, int]]) -> list[_Mention]:
    mentions: list[_Mention] = []
    group = 0

    def free(s: int, e: int) -> bool:
        return not any(s < me and ms < e for ms, me in masked)

    def value_ok(match: re.Match[str]) -> bool:
        num, unit = match.group("num"), match.group("unit")
        s = match.start()
        before = folded[max(start, s - 1) : s]
        after = folded[match.end() : match.end() + 2]
        if re.fullmatch(_YEAR, num) and (not unit or unit in ("年",)):
            return False
        if before and (before in "第第" or re.match(r"[A-Za-z/.\-_#№]", before)):
            return False
        if re.match(r"\d|[A-Za-z]", after) and not unit:
            return False
        if not unit and not re.match(r"\d", num):
            return False  # a bare Chinese numeral ("三条要因" has a unit; "五" alone is prose)
        if re.match(r"[A-Za-z]", before) or folded[max(start, s - 1) : s] in ("表", "图", "附", "第", "Ra", "级"):
            return False
        if re.match(r"(?:不低于|不高于|不少于|不超过|≥|≤|>|<)\s*$", folded[max(start, s - 3) : s]) or re.search(
            r"(?:不低于|不高于|不少于|不超过|≥|≤)\s*$", folded[max(start, s - 4) : s]
        ):
            return False  # a threshold (目标、标准), not an achieved value
        if re.match(_CN_NUM, num) and not re.match(r"\d", num):
            if num in ("一", "零", "〇", "千", "百", "十") or unit in _PROSE_COUNT_UNITS:
                return False  # "一次合格率", "三个方面", "五条措施": prose, not counts
            if folded[max(start, s - 1) : s] in ("每", "这", "那", "几", "哪", "前", "后", "单", "同", "逐"):
                return False
        if not unit:
            lead = folded[max(start, s - 4) : s]
            if not re.search(r"(?:为|达到?|是|至|到|降到|升到|高达)\s*$", lead):
                return False
        if len(num.replace(",", "").split(".")[0]) >= 7 and not unit:
            return False  # phone numbers, patent numbers
        return True

    # 1. 由/从 A 变化到 B (再到 C)
    change = re.compile(
        r"(?:(?:由|从)\s*)?(?:(?P<y1>"
        + _YEAR
        + r")\s*年?(?:底|末|初)?的?\s*)?(?P<v1>"
        + _ARABIC
        + r")\s*(?:余|多)?\s*(?P<u1>"
        + _UNIT_RE
        + r")?"
        r"[^，,。；;\d\n]{0,8}?" + _CHANGE + r"了?(?:到|至|为)?\s*(?:(?P<y2>" + _YEAR + r")\s*年?(?:底|末)?的?\s*)?"
        r"(?P<v2>" + _ARABIC + r")\s*(?:余|多)?\s*(?P<u2>" + _UNIT_RE + r")?(?![月年岁日号\d])"
    )
    chain = re.compile(
        r"[，,]?\s*(?:再|又|进一步|继而|并)[^，,。；;\d\n]{0,6}?(?:到|至)\s*(?:(?P<y>"
        + _YEAR
        + r")\s*年?(?:底|末)?的?\s*)?"
        r"(?P<v>" + _ARABIC + r")\s*(?P<u>" + _UNIT_RE + r")?"
    )
    for match in change.finditer(folded, start, end):
        u1, u2 = match.group("u1"), match.group("u2")
        if not (u1 or u2) and not match.group(0).startswith(("由", "从")):
            continue
        if u1 and u2 and u1 != u2 and "个百分点" not in (u1, u2):
            continue
        if re.fullmatch(_YEAR, match.group("v1")) and (match.group("y1") or not u1):
            continue
        if not free(match.start("v1"), match.end("v2")):
            continue
        if match.group("u2") == "个百分点" or re.search(
            r"(?:提[升高]|增[长加]|下降|降低|减少)了\s*$", folded[match.end("v1") : match.start("v2")]
        ):
            continue  # "提高了3个百分点": a change, not a second level
        if not match.group(0).startswith(("由", "从")) and not re.search(
            r"(?:到|至|为)\s*(?:" + _YEAR + r"\s*年?的?)?\s*$", folded[match.end("v1") : match.start("v2")]
        ):
            continue
        group += 1
        y1, y2 = match.group("y1"), match.group("y2")
        t1 = y1 or "之前"
        t2 = y2 or "之后"
        unit = u2 or u1
        anchor = match.start()
        name = _name_before(folded, anchor, start)
        mentions.append(
            _Mention(
                _number(match.group("v1")) or 0.0,
                match.start("v1"),
                match.end("u1") if u1 else match.end("v1"),
                unit,
                t1,
                name,
                group,
            )
        )
        mentions.append(
            _Mention(
                _number(match.group("v2")) or 0.0,
                match.start("v2"),
                match.end("u2") if u2 else match.end("v2"),
                unit,
                t2,
                None,
                group,
            )
        )
        masked.append((match.start("v1"), match.end()))
        position = match.end()
        while True:
            more = chain.match(folded, position, end)
            if not more:
                break
            mentions.append(
                _Mention(
                    _number(more.group("v")) or 0.0,
                    more.start("v"),
                    more.end("u") if more.group("u") else more.end("v"),
                    unit,
                    more.group("y"),
                    None,
                    group,
                )
            )
            masked.append((more.start("v"), more.end()))
            position = more.end()

    # 2. 连续N年保持在V以上
    keep = re.compile(
        r"连续\s*(?P<n>\d+|"
        + _CN_NUM
        + r")\s*年[^，,。；;\d\n]{0,8}?(?:保持在?|稳定在|均?(?:达到|在|为|超过|高于|低于|控制在))\s*"
        r"(?P<v>" + _ARABIC + r")\s*(?P<u>" + _UNIT_RE + r")?"
    )
    for match in keep.finditer(folded, start, end):
        if not free(match.start("v"), match.end()):
            continue
        group += 1
        name = _name_before(folded, match.start(), start)
        mentions.append(
            _Mention(
                _number(match.group("v")) or 0.0,
                match.start("v"),
                match.end("u") if match.group("u") else match.end("v"),
                match.group("u"),
                folded[match.start() : match.start("n")] + match.group("n") + "年",
                name,
                group,
            )
        )
        masked.append((match.start("v"), match.end()))

    # 3. 分别为 a、b、c (with the years listed before)
    series = re.compile(
        r"(?:分别|依次)(?:为|是|达到?|有|增长|提高到|提升至|下降到|降至)?\s*[:：]?\s*(?P<values>"
        + _ARABIC
        + r"\s*(?:"
        + _UNIT_RE
        + r")?(?:\s*[、，,和及]\s*"
        + _ARABIC
        + r"\s*(?:"
        + _UNIT_RE
        + r")?)+)"
    )
    for match in series.finditer(folded, start, end):
        if not free(match.start("values"), match.end("values")):
            continue
        s, _ = _sentence_bounds(folded, match.start(), start, end)
        listed = [m.group(1) for m in re.finditer(r"(" + _YEAR + r")\s*年?(?![\d—\-~至到])", folded[s : match.start()])]
        span = re.search(
            r"(" + _YEAR + r")\s*(?:年)?\s*[—\-~至到]+\s*(" + _YEAR + r")\s*年?", folded[s : match.start()]
        )
        values = list(re.finditer(r"(" + _ARABIC + r")\s*(" + _UNIT_RE + r")?", match.group("values")))
        if span and not listed:
            first, last = int(span.group(1)), int(span.group(2))
            listed = [str(y) for y in range(first, last + 1)] if 0 < last - first < 12 else []
        times: list[str | None] = listed[-len(values) :] if len(listed) >= len(values) else [None] * len(values)
        if len(listed) < len(values) and len(values) == 2:
            continue  # "专利和论文分别为3项、5篇": two measures, left to the plain scan
        group += 1
        name = _name_before(folded, match.start(), start)
        base = match.start("values")
        for index, (value, time) in enumerate(zip(values, times, strict=True)):
            vs, ve = base + value.start(1), base + value.end(2 if value.group(2) else 1)
            mentions.append(
                _Mention(
                    _number(value.group(1)) or 0.0,
                    vs,
                    ve,
                    value.group(2) or values[-1].group(2),
                    time,
                    name if index == 0 else None,
                    group,
                )
            )
        masked.append((match.start("values"), match.end("values")))

    # 4. Every other value with a unit (or after 为/达到), named by the phrase before or after it.
    for match in _VALUE.finditer(folded, start, end):
        s, e = match.start(), match.end()
        if not free(s, e) or not value_ok(match):
            continue
        value = _number(match.group("num"))
        if value is None:
            continue
        unit = match.group("unit")
        clause = _clause_start(folded, s, start)
        context = folded[clause:s]
        full_sentence = folded[_full_sentence_start(folded, s, start) : s]
        if _SKIP_CONTEXT.search(context) or _EFFORT.search(context) or _PLAN.search(full_sentence):
            continue
        if _INTRODUCTION.search(full_sentence):
            continue
        after = folded[e : e + 6]
        if (
            unit in ("人", "名", "个", "位")
            and (_HEADCOUNT.search(context) or _HEADCOUNT.match(after))
            and not re.search(r"培训|培养|带出|带徒|带教|获|考取|取得|晋升|通过|新增|发展|输送", context)
        ):
            continue
        if re.search(r"等\s*$", context) or _ENUMERATED.match(after):
            continue  # "跌倒、非计划拔管等12项指标": the size of a list, not a result
        if re.match(r"\s*(?:至|到|~|～|-|—)\s*\d", after) or re.search(r"\d\s*(?:至|~|～|-|—)\s*$", context):
            continue  # a range ("1至2名后备人选", "200至2,000元")
        if re.search(r"满分\s*$", context) or (unit == "度" and re.match(r"评价|考核|全景|视角", after)):
            continue
        if unit == "成":
            value, unit = value * 10, "%"
        name = _name_before(folded, s, start)
        if name is None and unit:
            name = _name_after(folded, e, end)
        time = _time_before(folded, s, start)
        group += 1
        mentions.append(_Mention(value, s, e, unit, time, name, group))
    return sorted(mentions, key=lambda m: m.start)


def _replace(measure: Measure, **changes: Any) -> Measure:
    values = {**measure.__dict__, **changes}
    return Measure(**values)


def direction_of(name: str, directions: Mapping[str, str]) -> str | None:
    """The direction of good for a measure name: the longest lexicon fragment it contains wins, so
    "投诉处理及时率" (及时率 ↑) beats 投诉 (↓)."""
    best: tuple[int, str] | None = None
    for fragment, direction in directions.items():
        if fragment and fragment in name and (best is None or len(fragment) > best[0]):
            best = (len(fragment), direction)
    return best[1] if best else None


def _measure(
    name: str,
    name_start: int,
    name_end: int,
    unit: str | None,
    directions: Mapping[str, str],
    points: Sequence[Point],
    references: Sequence[Reference],
    paragraph: tuple[int, int],
) -> Measure:
    return Measure(
        name=name,
        name_start=name_start,
        name_end=name_end,
        unit=unit,
        direction=direction_of(name, directions),
        points=tuple(points),
        references=tuple(references),
        paragraph_start=paragraph[0],
        paragraph_end=paragraph[1],
    )


def _prose_measures(
    text: str, folded: str, start: int, end: int, paragraph: tuple[int, int], directions: Mapping[str, str]
) -> list[Measure]:
    references = _find_references(folded, start, end)
    masked = [(r.start, r.end) for r in references]
    mentions = _prose_mentions(folded, start, end, masked)
    built: list[tuple[tuple[int, int], str | None, list[_Mention]]] = []
    for mention in mentions:
        if mention.name is None and built:
            name_span, unit, members = built[-1]
            same_sentence = not any(c in _SENTENCE_END for c in folded[members[-1].end : mention.start])
            compatible = unit is None or mention.unit is None or mention.unit == unit
            if (members[-1].group == mention.group) or (same_sentence and compatible and mention.time is not None):
                members.append(mention)
                continue
        if mention.name is None:
            continue
        built.append((mention.name, mention.unit, [mention]))
    measures = []
    for (ns, ne), unit, members in built:
        points = [Point(m.time, m.value, text[m.start : m.end], m.start, m.end) for m in members]
        name = text[ns:ne]
        measures.append(_measure(name, ns, ne, unit, directions, points, [], paragraph))
    # Each reference belongs to the measure its sentence names ("班组返修率已优于标杆班组水平"),
    # else to the measure whose values come last before it, else to the first one.
    for reference in references:
        reference = Reference(
            reference.kind, text[reference.start : reference.end], reference.value, reference.start, reference.end
        )
        target = _reference_target(folded, reference, measures, start)
        if target is not None:
            measures[target] = _replace(measures[target], references=measures[target].references + (reference,))
            continue
        # "整机能耗比同类进口机型低12%", "宾客满意度排名第3位": a measure known only by its comparison.
        name = _name_before(folded, reference.start, start)
        if name is not None:
            measures.append(_measure(text[name[0] : name[1]], *name, None, directions, [], [reference], paragraph))
    return measures


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _reference_target(folded: str, reference: Reference, measures: Sequence[Measure], floor: int) -> int | None:
    """The measure a reference compares: the one its sentence names, else the last one with values
    before it in the same sentence; None when its sentence has no measure."""
    s, _ = _sentence_bounds(folded, reference.start, floor, reference.start)
    context = _bigrams(folded[s : reference.start])
    scored = [(len(_bigrams(m.name) & context), i) for i, m in enumerate(measures) if m.name_start < reference.start]
    best = max(scored, default=(0, -1))
    if best[0] >= 2:
        return best[1]
    before = (
        [
            i
            for i, m in enumerate(measures)
            if s <= m.name_start < reference.start or (m.points and s <= m.points[-1].start < reference.start)
        ]
        if measures
        else []
    )
    if before:
        return max(before, key=lambda i: measures[i].points[-1].end if measures[i].points else measures[i].name_end)
    return None


def extract_measures(text: str, paragraphs: Sequence[tuple[int, int]], directions: Mapping[str, str]) -> list[Measure]:
    """Every measure reported with values, one per measure per paragraph, in text order."""
    folded = _fold(text)
    measures: list[Measure] = []
    for p_start, p_end in paragraphs:
        paragraph = (p_start, p_end)
        table: list[list[tuple[str, int, int]]] = []
        prose_start = p_start
        position = p_start
        found: list[Measure] = []
        for line in text[p_start:p_end].split("\n"):
            line_end = position + len(line)
            if len(re.findall(r"[|｜\t]", line)) >= 1 and len(_cells(line, position)) >= 2:
                if not table and prose_start < position:
                    found += _prose_measures(text, folded, prose_start, position, paragraph, directions)
                table.append(_cells(line, position))
                prose_start = line_end + 1
            elif table:
                found += _table_measures(text, table, paragraph, directions) if len(table) >= 2 else []
                table = []
            position = line_end + 1
        if table and len(table) >= 2:
            found += _table_measures(text, table, paragraph, directions)
        if prose_start < p_end:
            found += _prose_measures(text, folded, prose_start, p_end, paragraph, directions)
        measures += _merge_same_name(found)
    return measures


def _merge_same_name(measures: list[Measure]) -> list[Measure]:
    """One entry per measure per paragraph: two mentions with the same name join."""
    merged: dict[str, Measure] = {}
    order: list[str] = []
    for measure in measures:
        key = measure.name
        if key in merged:
            existing = merged[key]
            merged[key] = _replace(
                existing,
                points=existing.points + measure.points,
                references=existing.references + measure.references,
                unit=existing.unit or measure.unit,
            )
        else:
            merged[key] = measure
            order.append(key)
    return sorted((merged[k] for k in order), key=lambda m: m.name_start)


# --------------------------------------------------------------------------------------------
# Assessment

STABLE_TOLERANCE = 0.01  # a relative change under 1 % between first and last point is "stable"


def assess_measure(measure: Measure) -> MeasureAssessment:
    """Level (latest value), trend over three or more dated points judged with the direction of
    good, past comparison (two or more points), benchmark (an external reference)."""
    points = measure.points
    level = points[-1] if points else None
    dated = [p for p in points if p.time]
    trend = None
    has_trend = len(dated) >= 3
    if has_trend:
        first, last = dated[0].value, dated[-1].value
        scale = max(abs(first), abs(last), 1e-9)
        if abs(last - first) / scale < STABLE_TOLERANCE:
            trend = "stable"
        elif measure.direction is not None:
            better = last > first if measure.direction == "up" else last < first
            trend = "improving" if better else "worsening"
    return MeasureAssessment(
        level=level.value if level else None,
        level_time=level.time if level else None,
        trend=trend,
        has_trend=has_trend,
        past=len(points) >= 2,
        benchmark=bool(measure.references),
    )


# --------------------------------------------------------------------------------------------
# Gold files and evaluation

ANNOTATED_DIR = Path("corpus/annotated")


def measure_from_dict(entry: Mapping[str, Any], paragraphs: Sequence[tuple[int, int]] = ()) -> Measure:
    """A measure from the gold format (corpus/measures/NAME.measures.json)."""
    start = int(entry["name_start"])
    paragraph = next(((s, e) for s, e in paragraphs if s <= start < e), (start, int(entry["name_end"])))
    return Measure(
        name=str(entry["name"]),
        name_start=start,
        name_end=int(entry["name_end"]),
        unit=entry.get("unit"),
        direction=entry.get("direction"),
        points=tuple(
            Point(
                None if p.get("time") is None else str(p["time"]),
                float(p["value"]),
                str(p["text"]),
                int(p["start"]),
                int(p["end"]),
            )
            for p in entry.get("points") or []
        ),
        references=tuple(
            Reference(
                str(r["kind"]),
                str(r["text"]),
                None if r.get("value") is None else float(r["value"]),
                int(r["start"]),
                int(r["end"]),
            )
            for r in entry.get("references") or []
        ),
        paragraph_start=paragraph[0],
        paragraph_end=paragraph[1],
    )


def measure_to_dict(measure: Measure) -> dict[str, Any]:
    return {
        "name": measure.name,
        "name_start": measure.name_start,
        "name_end": measure.name_end,
        "unit": measure.unit,
        "direction": measure.direction,
        "points": [p.__dict__ for p in measure.points],
        "references": [r.__dict__ for r in measure.references],
    }


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _same_value(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def _norm_time(time: str | None) -> str | None:
    return None if time is None else re.sub(r"\s|年", "", time)


def _match_measures(predicted: Sequence[Measure], gold: Sequence[Measure]) -> list[tuple[int, int]]:
    """One-to-one pairs: name spans overlap, or same paragraph and a shared point value."""
    candidates = []
    for gi, g in enumerate(gold):
        for pi, p in enumerate(predicted):
            overlap = _overlaps((p.name_start, p.name_end), (g.name_start, g.name_end))
            same_paragraph = (
                p.paragraph_start < g.paragraph_end
                and g.paragraph_start < p.paragraph_end
                or (p.paragraph_start <= g.name_start < p.paragraph_end)
            )
            shared = sum(1 for a in p.points for b in g.points if _same_value(a.value, b.value))
            if overlap or (same_paragraph and shared):
                candidates.append((0 if overlap else 1, -shared, gi, pi))
    pairs, used_g, used_p = [], set(), set()
    for _, _, gi, pi in sorted(candidates):
        if gi not in used_g and pi not in used_p:
            pairs.append((gi, pi))
            used_g.add(gi)
            used_p.add(pi)
    return pairs


def _prf(tp: int, predicted: int, gold: int) -> dict[str, float | int]:
    precision = tp / predicted if predicted else 0.0
    recall = tp / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"tp": tp, "predicted": predicted, "gold": gold, "precision": precision, "recall": recall, "f1": f1}


def _document_text_and_paragraphs(name: str, annotated_dir: Path) -> tuple[str, list[tuple[int, int]]]:
    from .ingest import read_document

    source = next(
        (annotated_dir / f"{name}{s}" for s in (".txt", ".docx", ".pdf") if (annotated_dir / f"{name}{s}").exists()),
        None,
    )
    if source is None:
        raise FileNotFoundError(f"{annotated_dir}/{name}.txt|.docx: narrative not found")
    text = read_document(source).text
    gold_path = annotated_dir / f"{name}.gold.json"
    if gold_path.exists():
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        paragraphs = [(int(p["start"]), int(p["end"])) for p in gold["paragraphs"] if not p.get("heading")]
    else:
        paragraphs = [(m.start(), m.end()) for m in re.finditer(r"[^\n](?:[^\n]|\n(?!\n))*", text)]
    return text, paragraphs


def _default_directions() -> dict[str, str]:
    from .guideline import load_guideline

    return dict(load_guideline().measure_directions)


def evaluate_measures(
    gold_dir: Path,
    names: Sequence[str],
    directions: Mapping[str, str] | None = None,
    annotated_dir: Path = ANNOTATED_DIR,
) -> dict[str, Any]:
    """Precision/recall/F1 of measures, points (time + value within matched measures), references
    (overlapping spans within the document) and the per-measure flags past/benchmark/trend
    (over matched measures), for the narratives in `names` that have a gold file in gold_dir."""
    directions = _default_directions() if directions is None else directions
    counts = {"measures": [0, 0, 0], "points": [0, 0, 0], "point_values": [0, 0, 0], "references": [0, 0, 0]}
    flags = {flag: {"tp": 0, "fp": 0, "fn": 0, "agree": 0, "n": 0} for flag in ("past", "benchmark", "trend")}
    documents = []
    for name in names:
        gold_path = Path(gold_dir) / f"{name}.measures.json"
        if not gold_path.exists():
            continue
        text, paragraphs = _document_text_and_paragraphs(name, Path(annotated_dir))
        data = json.loads(gold_path.read_text(encoding="utf-8"))
        gold = [measure_from_dict(entry, paragraphs) for entry in data.get("measures") or []]
        predicted = extract_measures(text, paragraphs, directions)
        pairs = _match_measures(predicted, gold)
        documents.append({"document": name, "gold": len(gold), "predicted": len(predicted), "matched": len(pairs)})
        _add(counts["measures"], len(pairs), len(predicted), len(gold))
        for gi, pi in pairs:
            g, p = gold[gi], predicted[pi]
            _add(
                counts["points"], _count_point_matches(p.points, g.points, with_time=True), len(p.points), len(g.points)
            )
            _add(
                counts["point_values"],
                _count_point_matches(p.points, g.points, with_time=False),
                len(p.points),
                len(g.points),
            )
            ga, pa = assess_measure(g), assess_measure(p)
            for flag, gold_flag, predicted_flag in (
                ("past", ga.past, pa.past),
                ("benchmark", ga.benchmark, pa.benchmark),
                ("trend", ga.has_trend, pa.has_trend),
            ):
                tally = flags[flag]
                tally["n"] += 1
                tally["agree"] += gold_flag == predicted_flag
                tally["tp"] += gold_flag and predicted_flag
                tally["fp"] += predicted_flag and not gold_flag
                tally["fn"] += gold_flag and not predicted_flag
        gold_refs = [(r.start, r.end) for m in gold for r in m.references]
        predicted_refs = [(r.start, r.end) for m in predicted for r in m.references]
        used: set[int] = set()
        tp = 0
        for span in predicted_refs:
            hit = next((i for i, g in enumerate(gold_refs) if i not in used and _overlaps(span, g)), None)
            if hit is not None:
                used.add(hit)
                tp += 1
        _add(counts["references"], tp, len(predicted_refs), len(gold_refs))
    result: dict[str, Any] = {key: _prf(*value) for key, value in counts.items()}
    result["flags"] = {
        flag: {
            **_prf(t["tp"], t["tp"] + t["fp"], t["tp"] + t["fn"]),
            "accuracy": t["agree"] / t["n"] if t["n"] else 0.0,
            "n": t["n"],
        }
        for flag, t in flags.items()
    }
    result["documents"] = documents
    return result


def _add(total: list[int], tp: int, predicted: int, gold: int) -> None:
    total[0] += tp
    total[1] += predicted
    total[2] += gold


def _count_point_matches(predicted: Sequence[Point], gold: Sequence[Point], with_time: bool) -> int:
    used: set[int] = set()
    for p in predicted:
        for i, g in enumerate(gold):
            if i in used or not _same_value(p.value, g.value):
                continue
            if with_time and _norm_time(p.time) != _norm_time(g.time):
                continue
            used.add(i)
            break
    return len(used)


def format_measure_evaluation(result: Mapping[str, Any]) -> str:
    lines = [f"documents with gold measures: {len(result['documents'])}"]
    labels = (
        ("measures", "measures"),
        ("points", "points (time + value)"),
        ("point_values", "points (value only)"),
        ("references", "references"),
    )
    for key, label in labels:
        r = result[key]
        lines.append(
            f"{label:<22} P {r['precision']:.3f}  R {r['recall']:.3f}  F1 {r['f1']:.3f}"
            f"  (tp {r['tp']}, predicted {r['predicted']}, gold {r['gold']})"
        )
    for flag, r in result["flags"].items():
        lines.append(
            f"flag {flag:<17} accuracy {r['accuracy']:.3f} over {r['n']} matched measures;"
            f"  P {r['precision']:.3f}  R {r['recall']:.3f}  F1 {r['f1']:.3f}"
        )
    return "\n".join(lines)


def _split_names(splits_path: Path, splits: Sequence[str]) -> list[str]:
    data = json.loads(splits_path.read_text(encoding="utf-8"))
    return [name for split in splits for name in data[split]]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Evaluate results-measure extraction against gold files.")
    parser.add_argument("--gold", type=Path, default=Path("corpus/measures"), help="folder of NAME.measures.json")
    parser.add_argument("--split", default="train,dev", help="comma-separated splits of corpus/annotated/splits.json")
    parser.add_argument("--annotated", type=Path, default=ANNOTATED_DIR, help="folder of the narratives")
    parser.add_argument("--json", action="store_true", help="print the full result as JSON")
    args = parser.parse_args(argv)
    names = _split_names(args.annotated / "splits.json", [s.strip() for s in args.split.split(",") if s.strip()])
    result = evaluate_measures(args.gold, names, annotated_dir=args.annotated)
    print(json.dumps(result, ensure_ascii=False, indent=1) if args.json else format_measure_evaluation(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
