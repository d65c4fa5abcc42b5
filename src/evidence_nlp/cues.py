"""Surface cues in Chinese narrative text: specific evidence, comparisons with the past and with
benchmarks, and trends. Pure functions over strings, shared by the matcher and coverage stages."""

from __future__ import annotations

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


def fold_width(text: str) -> str:
    """The text the cues read: full-width digits, % and punctuation folded to ASCII (NFKC), so
    "１２％" and "12%" give the same cues; invisible characters dropped; traditional characters of
    the cue vocabulary folded to simplified (較上年 = 较上年, 高於行業平均 = 高于行业平均)."""
    return unicodedata.normalize("NFKC", text).translate(_FOLD)


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*\s*(?:%|‰|个百分点|万元|亿元|元|项|篇|人|名|次|件|台|天|小时|分钟|万|倍)?")
_YEAR = re.compile(r"(?<!\d)(19[89]\d|20[0-4]\d)(?:\s*年|(?=\s*[-—~至到|/、，,]))")
_CN_COUNT = re.compile(r"[一二三四五六七八九十两百千]+(?:项|篇|名|人|次|件|个|余项|余名|余人|余篇)")
_NAMED = re.compile(r"《[^》]{2,40}》|“[^”]{2,30}”|\b[A-Z][A-Za-z0-9]{1,}\b")

# Comparison with the applicant's own past: before/after figures, year-on-year wording.
_PAST = re.compile(
    r"同比|环比|较上年|比上年|较去年|比去年|较往年|与上年相比|与去年相比|较\d{4}年|比\d{4}年|"
    r"由\s*\d{4}\s*年?[^。；;]{0,30}?(?:提[升高]|增[长加]|下降|降[低至]|减少|上升)|"
    r"从\s*\d{4}\s*年?[^。；;]{0,30}?(?:提[升高]|增[长加]|下降|降[低至]|减少|上升)|"
    r"(?:由|从)[^。；;，,]{0,20}?\d[^。；;]{0,25}?(?:提[升高]|增[长加]|下降|降低|减少|上升|降|升)了?(?:到|至)|"
    r"(?:提[升高]|增[长加]|下降|降低|减少|上升)(?:了)?\s*\d+(?:\.\d+)?\s*(?:个百分点|%|倍)|"
    r"连续\s*[三四五六七八九十\d]+\s*年[^。；;]{0,20}?(?:提[升高]|增[长加]|下降|降低|保持|位居|上升)|"
    r"逐年(?:提[升高]|增[长加]|下降|降低|上升)|翻了?[一二两三]番|"
    # "2021年以前只有1项资格，目前已取得5项": a before/now contrast without a verb of change
    r"(?:以前|之前|以往)[^。；;]{0,40}?(?:目前|现在|如今)"
)
# Comparison with an external reference. A title or award alone is not a comparison.
_BENCHMARK = re.compile(
    r"行业平均|行业均值|全国平均|全省平均|全市平均|平均水平|行业标杆|标杆企业|标杆单位|对标|与标杆|"
    r"同行业?|同类(?:企业|产品|医院|学校|单位|网点|岗位)|行业内?领先|行业先进|国内领先|国内先进|"
    r"国际领先|国际先进|世界领先|世界先进|行业第一|全国第一|全省第一|全市第一|全国前列|全省前列|"
    r"排名第[一二三四五六七八九十\d]|位居[^。；;]{0,8}(?:第|前)|高于[^。；;]{0,12}(?:平均|行业|同行|标准|全国|全省|全市)|"
    r"优于[^。；;]{0,12}(?:平均|行业|同行|标准|全国|全省|全市|国家)|领先于|竞争对手|"
    # "比全体参评人员平均分高出16分", "全省同品牌网点平均", "短于国际文献报道的50至75例", "位列全国前10%"
    r"比[^。；;]{0,20}?平均[^。；;]{0,15}?(?:高|多|快|低|少|短)|"
    r"(?:全国|全省|全市|全区|行业|同行|同类|同品牌)[^。；;\n]{0,10}?平均|"
    r"(?:高于|低于|优于|短于|快于|少于|多于)[^。；;]{0,15}?(?:国际|国内|文献|报道)|"
    r"位列[^。；;]{0,15}?前\s*\d+(?:\.\d+)?\s*%"
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
            bool(re.search(r"连续\s*[三四五六七八九十3-9]\s*年[^。；;]{0,30}?\d", folded)) and len(numbers(folded)) >= 3
        )
    other_figures = [n for n in numbers(folded) if not re.fullmatch(r"(19|20)\d\d", n.strip())]
    return len(other_figures) >= 3
