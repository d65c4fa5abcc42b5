"""Surface cues in Chinese narrative text: specific evidence, comparisons with the past and with
benchmarks, and trends. Pure functions over strings, shared by the matcher and coverage stages."""

from __future__ import annotations

import functools
import re
import unicodedata

# Traditional characters of the cue vocabulary (the patterns below and the guideline's titles,
# keywords and exemplars) and their simplified forms, one character each (generated with OpenCC).
_TRADITIONAL = (
    "並佔來係個們傳傾僅價億優內兩冊別則創劃動務勞勢勵區協參員問單嚴國圍圖團執堅報場夠夥學實寫將專對導崗師帶幫廣後徑從復愛態應戰戶採揚揮撐擇擊擔據數斷於昇時晉書會桿業極榮標樹機檢檯權歷況"
    "減測準溝滿漲潛為熱營爭牽獎獲獻現瑪環產當發盡監盤眾碩確礎稱積穩競節範糾紀納級細終組結給統經綫網線編縮總績織續義習聯職聽臨臺與舉萬藝蘇處號術衛衝裏裝裡製複見規視覺觀計訓訪設訴評話認誠"
    "說説誰課調談論講證識議護譽讀變負貢貧責資質賬賽趨跡踐蹟蹤軟較輸轉辦這連週進運過達遠選醫針鋒鍵鍾鐘鑑鑽長門開間閱閲關隊際險雙難電鞏響項須預領頭頸頻題額願類顧顯風養餘饋驅驗體魚麼點黨"
)
_SIMPLIFIED = (
    "并占来系个们传倾仅价亿优内两册别则创划动务劳势励区协参员问单严国围图团执坚报场够伙学实写将专对导岗师带帮广后径从复爱态应战户采扬挥撑择击担据数断于升时晋书会杆业极荣标树机检台权历况"
    "减测准沟满涨潜为热营争牵奖获献现玛环产当发尽监盘众硕确础称积稳竞节范纠纪纳级细终组结给统经线网线编缩总绩织续义习联职听临台与举万艺苏处号术卫冲里装里制复见规视觉观计训访设诉评话认诚"
    "说说谁课调谈论讲证识议护誉读变负贡贫责资质账赛趋迹践迹踪软较输转办这连周进运过达远选医针锋键钟钟鉴钻长门开间阅阅关队际险双难电巩响项须预领头颈频题额愿类顾显风养余馈驱验体鱼么点党"
)
# Zero-width and other invisible format characters (ZWSP, ZWNJ/ZWJ, bidi marks, word joiner, BOM,
# soft hyphen): text pasted from web pages carries them inside words ("同\u200b比").
_INVISIBLE = "\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff"
_FOLD = str.maketrans(_TRADITIONAL, _SIMPLIFIED, _INVISIBLE)


# The same passage or sentence is folded by several stages (cues, measures, depth): remembered,
# bounded; a pure function of its argument.
@functools.lru_cache(maxsize=4096)
def fold_width(text: str) -> str:
    """The text the cues read: full-width digits, % and punctuation folded to ASCII (NFKC), so
    "１２％" and "12%" give the same cues; invisible characters dropped; traditional characters of
    the cue vocabulary folded to simplified (較上年 = 较上年, 高於行業平均 = 高于行业平均)."""
    return unicodedata.normalize("NFKC", text).translate(_FOLD)


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*\s*(?:%|‰|个百分点|万元|亿元|元|项|篇|人|名|次|件|台|天|小时|分钟|万|倍)?")
_YEAR = re.compile(r"(?<!\d)(19[89]\d|20[0-4]\d)(?:\s*年|(?=\s*[-—~至到|/、，,]))")
_CN_COUNT = re.compile(r"[一二三四五六七八九十两百千]+(?:项|篇|名|人|次|件|个|余项|余名|余人|余篇)")
_NAMED = re.compile(r"《[^》]{2,40}》|“[^”]{2,30}”|\b[A-Z][A-Za-z0-9]{1,}\b")

_CHANGE = r"(?:提[升高]|增[长加]|下降|降[低至到]?|减少|减|上升|升[至到]?|缩短|缩减|缩|扩大|压缩|压|加|涨)"
# Comparison with the applicant's own past: before/after values, year-on-year wording, a series
# over years, a promotion from one title to the next (由高级技师晋升为特级技师), 从无到有.
_PAST = re.compile(
    r"同比|环比|较上年|比上年|较去年|比去年|较往年|与上年相比|与去年相比|较\d{4}年|比\d{4}年|与\d{4}年相比|"
    r"(?:由|从)\s*\d{4}\s*年?[^。；;]{0,30}?" + _CHANGE + r"|"
    r"(?:由|从)[^。；;]{0,25}?" + _CHANGE + r"了?(?:到|至|为)|"
    r"(?:提[升高]|增[长加]|下降|降低|减少|上升)(?:了)?\s*\d+(?:\.\d+)?\s*(?:个百分点|%|倍)|"
    r"逐年(?:提[升高]|增[长加]|下降|降低|上升)|翻了?[一二两三]番|从无到有|从零起步|从0到\d|"
    r"\d[^→\n]{0,12}→\s*[^\n]{0,12}?\d|"
    r"(?:由|从)[^。；;]{0,20}?(?:晋升|升级|晋级|升任|评)为|"
    r"(?:由|从)[^。；;]{0,12}?(?:到|至)[^。；;]{0,12}?(?:晋升|晋级|升级)|"
    # "满意度2020年为86.4%，2023年升到了95.1%", "2019年只有1项，2023年已有7项"
    r"\d{4}\s*年(?:底|末|初)?(?:的|为|是|仅|只有|仅有|共|有)?\s*\d+(?:[.,]\d+)*\s*[^\d\s，,。；;]{0,4}[，,]\s*"
    r"(?:到|至|而)?\s*\d{4}\s*年(?:底|末)?[^。；;\d]{0,4}?(?:升|提[升高]|增|降|达到|达|缩|已有|已达|突破|为|是)|"
    # "2021年以前只有1项资格，目前已取得5项": a before/now contrast, across one sentence break
    r"(?:以前|之前|以往|过去)[^\n]{0,60}?(?:目前|现在|如今|现已|已经)"
)
# An evaluating body or a formal evaluation: "经省级成果评价达到国际先进水平".
_EVALUATOR = re.compile(
    r"经[^。；;]{0,30}?(?:评价|鉴定|评审|评定|认定|验收|查新|检测|评估)|鉴定为|评定为|认定为|查新|第三方|专家(?:组|委员会)?(?:评价|鉴定|评审|认定)"
)
# Level claims: a benchmark only when an evaluating body confirms them; by themselves
# (步入行业领先水平, 引领行业标杆) they are self-descriptions.
_LEVEL = re.compile(
    r"(?:行业|业内|国内|国际|世界|省内|市内|全省|全市|全国|同类[^。；;]{0,10}?)(?:领先|先进|一流)|行业标杆"
)
# Comparison with an external reference: an average, named peers, a ranking among peers, a
# comparable product. A title or award alone is not a comparison.
_BENCHMARK = re.compile(
    r"行业平均|行业均值|全国平均|全省平均|全市平均|平均水平|标杆企业|标杆单位|对标|与标杆|"
    r"同行业?[^。；;]{0,12}?(?:相比|比|高|低|领先|优|快|前)|与同行|"
    r"同类[^。；;]{0,20}?(?:相比|低|高|少|多|快|慢|短|长|优|是|为|需|一半|仅|中|排名|第)|"
    r"(?:比|与|较|优于|高于|低于|只有|仅为)[^。；;]{0,15}?进口|进口[^。；;]{0,12}?同类|"
    r"行业第一|全国第一|全省第一|全市第一|全国前列|全省前列|全市前列|"
    r"排名第[一二三四五六七八九十\d]|排名[^。；;]{0,12}?第[一二三四五六七八九十\d]|位居[^。；;]{0,8}(?:第|前)|"
    r"(?:高于|低于|优于|好于|超过)[^。；;]{0,20}?(?:平均|行业|同行|标准|全国|全省|全市|国家|标杆|区域)|"
    r"领先于|竞争对手|"
    r"比[^。；;]{0,20}?平均[^。；;]{0,15}?(?:高|多|快|低|少|短)|"
    r"(?:全国|全省|全市|全区|全县|区域|园区|集团|全院|行业|同行|同类|同品牌|同期)[^。；;\n]{0,12}?平均|"
    r"(?:高于|低于|优于|短于|快于|少于|多于)[^。；;]{0,15}?(?:国际|国内|文献|报道)|"
    # "在143家参加实验室中处于前列", "在全省86名选手中获第2名", "全市27个参评案例中排名第一"
    r"在[^。；;]{0,20}?\d+\s*(?:家|个|所|名|位|支|座|户)[^。；;]{0,25}?(?:第|前|首|唯一|最)|"
    r"位列[^。；;]{0,15}?(?:前\s*\d+(?:\.\d+)?\s*%|第)"
)


def mentions_past_comparison(text: str) -> bool:
    return _PAST.search(fold_width(text)) is not None


def mentions_benchmark(text: str) -> bool:
    """An external reference (docs/annotation-guide.md): an average, peers, a ranking, a comparable
    product, or a level that an evaluating body confirmed. A bare level claim is not one."""
    folded = fold_width(text)
    if _BENCHMARK.search(folded):
        return True
    return any(_LEVEL.search(s) and _EVALUATOR.search(s) for s in _sentences(folded))


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


_UNIT = r"(?:%|‰|个百分点|分|万元|亿元|元|项|篇|人次|人|名|次|件|台|天|小时|分钟|万|倍|个|家|例|公里|吨|批|位)"
# Thousands separators only as ",ddd": NFKC folds "，" to ",", and "1.82，2020年" is two values.
_VALUE = r"\d+(?:,\d{3}(?!\d))*(?:\.\d+)?"
# "2021年71.3分", "2019年1.82", "2020年的第43位": a year and, right after it, a value of the measure
# (not "2021年取得…资格", not a date "2021年3月").
_YEAR_VALUE = re.compile(
    r"(?<!\d)(?:19[89]\d|20[0-4]\d)\s*年?(?:底|末|初)?(?:的|为|是|达到?|仅|只有|共|排名?|位居)?\s*第?\s*"
    + _VALUE
    + r"\s*("
    + _UNIT
    + r"?)(?![月日号\d])"
)
# "分别为92%、94%、97%", "依次为138、96、74、62毫克": three values of one measure listed together.
_SERIES = re.compile(
    r"(?:分别|依次)(?:为|是|达到?|有|增长|提高|下降)?\s*[:：]?\s*"
    + _VALUE
    + r"\s*"
    + _UNIT
    + r"?(?:\s*[、，,和及]\s*"
    + _VALUE
    + r"\s*"
    + _UNIT
    + r"?){2,}"
)
# "由37%提高到52%，再提高到64%": a chain of three values.
_CHAIN = re.compile(
    _VALUE
    + r"\s*"
    + _UNIT
    + r"?[^。；;\d]{0,20}?(?:到|至)[^。；;\d]{0,12}?"
    + _VALUE
    + r"[^。；;\d]{0,20}?(?:再|又|进一步|继而)[^。；;\d]{0,12}?(?:到|至)[^。；;\d]{0,12}?\d"
)


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"[。；;！？!?\n]", text) if s.strip()]


def shows_trend(text: str) -> bool:
    """One measure given for three or more time points (the usual minimum for a trend): a table
    row of three figures, three values listed together (分别为…、…、…), a chain of three values
    (由A提高到B，再到C), or three years each followed by a value in the same unit. A list of dated
    achievements (2021年取得…，2022年晋升…，2023年获得…) is not a trend: no measure repeats."""
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
    for sentence in _sentences(folded):
        if _SERIES.search(sentence) or _CHAIN.search(sentence):
            return True
        # Each "由/从 A 到 B" starts a new measure: "专利由2020年的1项增加到2023年的9项，立项数由2021年
        # 的2项增至2023年的7项" is two measures at two points each, not one at four.
        for part in re.split(r"(?=[由从])", sentence):
            units: dict[str, int] = {}
            for unit in _YEAR_VALUE.findall(part):
                units[unit] = units.get(unit, 0) + 1
            if any(count >= 3 for count in units.values()):
                return True
    return False


_FIRST_PERSON = re.compile(r"我|本人|笔者|咱")
# "师带徒，也称师徒制，是指…", "所谓5S，就是…": a definition explains a term, it is no evidence.
_DEFINITION = re.compile(
    r"^[^，,。；;]{1,24}?(?:[，,]\s*)?(?:是指|指的是|也称|又称|亦称|俗称|简称[^，,。]{1,10}[，,]\s*是)|"
    r"^所谓[^，,。；;]{1,20}[，,]?\s*(?:就是|是指|即|是)"
)
# The furniture of a news report about the applicant: bylines, the reporter's visit, the interview.
_NEWS = re.compile(
    r"本报讯|编者按|本文根据|责任编辑|原标题|[（(]\s*记者[^）)]{0,20}[）)]|通讯员\s*\S{2,4}\s*(?:报道|摄)|"
    r"记者(?:问|说|看到|注意到|了解到|来到|走进|跟随|随|见到|一行)|(?:带着|告诉|给|对|向|陪同)记者"
)


def not_about_applicant(text: str) -> str | None:
    """Why a passage gives no evidence about the applicant, or None: "definition" (a term
    explained, with no first person in it), "news" (a report's byline or the reporter's visit)."""
    folded = fold_width(text).strip()
    if _NEWS.search(folded):
        return "news"
    if not _FIRST_PERSON.search(folded) and any(_DEFINITION.search(s.strip()) for s in _sentences(folded)[:1]):
        return "definition"
    return None
