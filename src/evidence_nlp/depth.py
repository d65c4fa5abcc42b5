"""Evidence depth per clause: which of the three layers award forms ask for its evidence shows —
the method used (采用方法), how widely and regularly it is applied (工作展开), and what it achieved
(实施结果) — with the one sentence that shows each layer best (issue 13, part 2).

The labeller reads sentences of the clause's evidence passages with the cue table below; a layer is
present when its best sentence scores at least the layer's threshold. Gold: corpus/depth/NAME.depth.json
(format in the module's evaluate_depth docstring); runner: `python -m evidence_nlp.depth --split train,dev`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import cues, metrics
from .guideline import Guideline, load_guideline
from .ingest import read_document

METHOD, DEPLOYMENT, RESULT = "method", "deployment", "result"
LAYERS = (METHOD, DEPLOYMENT, RESULT)

# Chinese numerals and figures, as counts are written either way (3个班组, 三个班组, 十余名).
_N = r"(?:\d+(?:[.,]\d+)*|[一二两三四五六七八九十百千万几数多]+)\s*(?:余|多)?"
_YEAR = r"(?:19[89]\d|20[0-4]\d)\s*年"
_NOT_END = r"[^。！？；;!?\n]"  # inside one sentence
# Things a method acts on or produces: a rule, procedure, tool, body, plan (制度, 流程, 清单, 小组…).
_OBJECT = (
    r"(?:制度|机制|流程|办法|方法|方式|法|体系|规范|标准|规程|细则|守则|规矩|规定|清单|台账|档案|记录|日志|表|卡|单|"
    r"系统|平台|软件|程序|工具|模板|模型|装置|工装|夹具|设备|工艺|技术|看板|矩阵|数据库|库|"
    r"小组|委员会|专班|团队|工作室|学院|课堂|班|队|岗|"
    r"课程|教材|手册|指导书|指南|计划|规划|方案|路线|预案|任务|课题|项目|活动|"
    r"会议|例会|会|讲评|巡查|巡线|巡检|检查|点检|复盘|评审|评估|测评|调查|问卷|走访|演练|培训|竞赛|比武)"
)

# The cue table: layer → (name, pattern, weight). A sentence's score for a layer is the sum of the
# weights of the cues that match it, capped at 1; negative weights mark wording that looks like a
# layer and is not (a slogan is no method, a target is no result).
CUES: dict[str, tuple[tuple[str, str, float], ...]] = {
    METHOD: (
        # "建立了…制度", "编写了作业指导书", "采用分组盥洗": an action verb with a concrete object.
        (
            "action+object",
            r"(?:建立|建起|健全|制定|制订|采用|运用|利用|使用|用上|编写|编制|编印|汇编|设计|引入|导入|引进|推行|实行|实施|"
            r"开发|研制|研发|提出|修订|完善|组建|成立|创办|创建|创立|设立|设置|开通|搭建|上线|改造|规定|确立|明确|"
            r"整理|总结|形成|配备|安装|启用|试制|改进|调整|优化|推出|开设|举办|召开)了?"
            + _NOT_END
            + r"{0,24}?"
            + _OBJECT,
            1.0,
        ),
        # Named quality and management methods.
        (
            "named method",
            r"PDCA|[5678]S|8D|QC|鱼骨图|因果图|FMEA|SPC|六西格玛|6σ|精益|TPM|防错|5个为什么|五个为什么|5\s*[Ww]hy|"
            r"5W[12]H|头脑风暴|SWOT|PEST|五力模型|帕累托|排列图|柏拉图|对标|标准化作业|目视化|看板管理|OKR|KPI|"
            r"平衡计分卡|MES|ERP|CRM|BIM|AI|双盲|三检制|首件检验|交接班|班前会|传帮带|师带徒|导师制",
            1.0,
        ),
        # "通过…的方式", "通过开展…", "用鱼骨图分析", "用…核对": a way of doing spelled out.
        (
            "by means of",
            r"通过"
            + _NOT_END
            + r"{1,20}?(?:的方式|方式|办法|形式|手段|途径)|通过(?:开展|组织|建立|采用|运用|引入|实施|推行|召开|"
            r"举办|设立|启用|读取|对比|比对|分析|测试|拆解|走访|调研|培训|联合)|[用以靠]"
            + _NOT_END
            + r"{1,14}?(?:分析|排查|检测|核对|记录|跟踪|统计|识别|追溯|监控|管理|核查|比对|验证|测算|判读)",
            0.8,
        ),
        # Described actions on the work: organising, analysing, checking, training, visiting.
        (
            "described action",
            r"(?:组织|主持|牵头|主导|开展|带领|带着|带|拉着|邀请|约请|陪|跟着|逐一|逐条|逐项|逐台|逐个|一条条|一条一条|一项一项|一张张|亲自|和|与)"
            + _NOT_END
            + r"{0,20}?(?:分析|研讨|座谈|培训|演练|评审|巡查|检查|攻关|复盘|对标|测评|调查|讨论|论证|试验|测试|观察|"
            r"记录|标注|走访|走一遍|核对|审定|梳理|排查|改|授课|讲解|辅导|示范|点评|交流|学习)",
            0.8,
        ),
        # Checking and recording by hand: 核对门禁与系统记录, 做了方法验证, 导出…画成柱状图.
        (
            "check",
            r"核对|比对|核查|复核|验证|登记|导出|画成|贴在|标注|定性|授权|盲样|考核|设计了|改了|办了|做了|定了",
            0.6,
        ),
        # A rule or routine that is described: "排期前必须有验收标准", "拍不清就重飞", "三样做完才能单独出外业".
        (
            "rule",
            r"必须|一律|不许|不准|不得|才能|才可|前要|之前要|就重|都要|实行|严格执行|按照" + _NOT_END + r"{0,12}?程序",
            0.6,
        ),
        # A frequency with an action: "每周五对一次进度", "每月查看一次" is a routine that is done.
        (
            "routine",
            r"每"
            + _NOT_END
            + r"{1,8}?(?:一次|一遍|一回|一轮)|每(?:天|日|周|月|年|季度|学期|次|批次?)"
            + _NOT_END
            + r"{0,8}?(?:看|查|对|开|做|讲|点评|召开|组织|开展|检查|核对|抽查|巡|复盘|分析|统计|测评)",
            0.6,
        ),
        # A bare attitude or slogan (我始终坚持质量第一, 坚持顾客至上, 践行…价值观) is not a method.
        (
            "slogan",
            r"(?:始终|一直|坚持|注重|重视|秉持|秉承|信奉|践行|牢记|树立|恪守|坚守|弘扬|倡导|信守)"
            + _NOT_END
            + r"{0,16}?(?:理念|意识|第一|至上|为本|为先|原则|宗旨|价值观|文化|精神|初心|使命|底线|信念|追求|态度|作风)",
            -1.0,
        ),
        # Generic intentions with no how: 积极推动, 努力营造, 不断提升, 持续优化, 希望….
        (
            "generic",
            r"积极|努力|不断|持续|切实|进一步|力求|力争|希望|致力于|高度重视|始终|全力|营造|打造|推动|促进|加强|提升",
            -0.3,
        ),
    ),
    DEPLOYMENT: (
        # Frequency: 每周, 每月一次, 每批次, 定期, 每学期至少两次.
        (
            "frequency",
            r"每(?:天|日|晚|早|周|星期|月|个月|季度?|半年|年|学期|批次?|班|次|轮|炉|单|件)|每(?:周|星期)[一二三四五六日天]|"
            r"定期|按(?:日|周|月|季|年|批)|常态化|日常|例行|月度|季度|"
            + _N
            + r"(?:天|周|个?月|年)一次|一(?:天|周|月|年)"
            + _N
            + r"次",
            1.0,
        ),
        # Scope: 覆盖, 全车间, 所有, 各班组, 推广到, 3个班组, 86家供应商.
        (
            "scope",
            r"覆盖|全覆盖|全(?:车间|厂|公司|院|园|校|员|行|所|站|线|班|科|局|市|省|区|县|集团|流程|过程|系统|体|面推行|面推广|面实施)|"
            r"所有|各个?(?:班组|部门|科室|车间|条线|单位|环节|层级|门店|网点|班|年级|小组|岗位|工序|项目|分公司|子公司|病区|片区)|"
            r"每(?:个|名|位|条|项|家|基|台|户|人|道)|推广(?:到|至|给|应用|使用)|复制到|辐射|延伸到|扩大到|扩展到|"
            + _N
            + r"(?:个|家|所|条|座|支)(?:班组|车间|部门|科室|门店|站点|网点|分公司|子公司|单位|项目|班|小组|基地|社区|"
            r"村|学校|医院|层面|方面|维度|环节|工序|产线|生产线|线路|区域|片区|城市|省份|客户|顾客|供应商|企业|工厂)",
            1.0,
        ),
        # Who takes part or is reached: 带领12名组员, 全体员工参加, 培训80人次.
        (
            "people",
            r"带领"
            + _N
            + r"(?:名|位|个|人)|"
            + _N
            + r"人次|"
            + _N
            + r"(?:名|位)(?:员工|职工|组员|学员|教师|老师|徒弟|同事|"
            r"护士|医生|技术人员|骨干|家长|代表|管理者|讲师|班组长|队员|志愿者|选手)|"
            + _N
            + r"人(?:参加|参与|次)|全体|人人|"
            r"每人|" + _N + r"(?:份|场|期|批|轮)",
            1.0,
        ),
        # Duration, since when: 自2018年起, 坚持十年, 连续三年, 多年来, 至今.
        (
            "duration",
            r"(?:自|从)\s*"
            + _YEAR
            + r"(?:起|以来|开始)|"
            + _YEAR
            + r"(?:起|以来)|坚持了?"
            + _N
            + r"年|连续"
            + _N
            + r"(?:年|届|次|期)|"
            + _N
            + r"年来|多年来|长期|至今|迄今|累计|先后|历时|"
            + _N
            + r"年如一日|"
            r"工作" + _N + r"年|" + _N + r"年(?:里|间|中)|" + _N + r"(?:次|场)(?:异物|活动|培训|讲座)?",
            1.0,
        ),
        # A plan for later is not yet deployment: "公司2025年要在盐城布第一批机巢".
        ("plan", r"要在|将在|将要|计划|打算|准备|拟", -1.0),
        # Slogans and intentions: 始终带头践行…价值观, 持续优化, 希望.
        ("slogan", r"践行|价值观|理念|希望|口号|empower|持续优化|不断提升", -1.0),
    ),
    RESULT: (
        # A figure with a change: 由96%提高到99%, 下降一半, 减少到6分钟, 降至26起.
        (
            "change",
            r"(?:提高|提升|下降|降低|减少|缩短|增加|增长|上升|压缩|扩大|翻)(?:了|到|至|为)?\s*(?:\d|一半|[一二两三四五六七八九十]+(?:倍|番|成))|"
            r"(?:降|减|缩|升|增|提高|提升|增加|减少)(?:至|到)\s*\d|由"
            + _NOT_END
            + r"{0,30}?(?:变成|变为|提高|提升|下降|降低|减少|"
            r"缩短|增加|增长|上升|到|至)",
            1.0,
        ),
        # Money saved or earned: 节约成本30万元, 产生经济效益约1,850万元.
        (
            "money",
            r"(?:节约|节省|减少|降低|挽回|创造|产生|增加|新增|增收|创收|实现|带来|避免)"
            + _NOT_END
            + r"{0,16}?\d[\d.,]*\s*(?:万元|亿元|元|万)|经济效益",
            1.0,
        ),
        # Outcomes and recognition: 获得, 获评, 授权, 通过验收, 评为, 续签, 零投诉, 未发生事故.
        (
            "outcome",
            r"获[得评奖颁]|荣获|获"
            + _N
            + r"等奖|授权|通过"
            + _NOT_END
            + r"{0,16}?(?:验收|鉴定|认证|评审|评价|评估|考核|审核)|"
            r"(?:被)?评为|入选|取得"
            + _NOT_END
            + r"{0,24}?(?:成绩|成果|专利)|达到"
            + _NOT_END
            + r"{0,14}?(?:水平|标准|要求)|(?:零|未发生|没有发生|无一)"
            + _NOT_END
            + r"{0,4}?(?:投诉|事故|缺陷|差错|返工|召回|断供|失误|纠纷)|续签|签了|解决了|消除|杜绝|攻克|带出了?|培养出|"
            r"成为|提前完成|超额完成|全部(?:完成|建成|关闭|达标|达到|通过|合格)|按时|按期|如期|顺利|"
            + _N
            + r"(?:项|个|件|篇|次)(?:专利|成果|奖)",
            1.0,
        ),
        # Learning outcomes: 考取…资格, 通过…考试, 评上副研究馆员, 修完…课程, 毕业.
        (
            "qualification",
            r"考取|考了|考上|评上|晋升|升为|毕业|修完|结业|通过"
            + _NOT_END
            + r"{0,20}?(?:考试|注册|答辩)|取得"
            + _NOT_END
            + r"{0,24}?(?:资格|证书|学位|职称)|发表",
            1.0,
        ),
        # What happened afterwards: 后来…, 第二年…, 现在初筛基本靠它, 不受影响, 没再发生.
        (
            "afterwards",
            r"后来|此后|之后|从此|第二年|两年后|三年后|如今|现在|目前|终于|再也|不再|没再|不受影响|取消了|以内|降为|最少|最多|"
            r"最高|第一次|首次|领奖台|接收了|为" + _N + r"(?:名|户|家|位|人)",
            0.6,
        ),
        # A measured rate named in the evidence (一次合格率, 满意度): weaker alone, often with a figure.
        ("rate", r"达成率|完成率|合格率|满意[度率]", 0.6),
        # Praise from customers or others: 顾客来信表扬, 好评, 锦旗.
        ("praise", r"表扬|好评|感谢信|锦旗|致函|赞誉|称赞|点赞|肯定|认可|夸", 1.0),
        # A level reached: 按期关闭率100%, 得了96分, 达成31项, 清除过40多次.
        (
            "level",
            r"(?:率|度|得了|达成|达到|完成|实现|保持|稳定在|共|已有|已经|过)\s*"
            + _N
            + r"\s*(?:%|‰|分|项|个|次|件|人|名|家|篇|台|天|小时|分钟|倍)",
            0.6,
        ),
        # Targets and plans are not results: 确定了2025年营业收入30亿元等目标, 力争, 计划.
        ("target", r"目标|力争|计划|预计|拟|将要|争取|打算|要求", -1.0),
        # Intentions are no outcome: 努力让顾客满意, 不断提升满意度.
        ("intention", r"努力|希望|不断提升|致力于|力求", -1.0),
        # A future year is a plan: "由2020年的18%提高到2025年的50%以上", "三年内…达到95%以上".
        ("future", r"(?:到|至|在)\s*20(?:2[5-9]|3\d)\s*年|[一二两三四五]年内|不少于|以上(?:的)?目标", -0.6),
    ),
}

# A sentence's layer score must reach this for the layer to be present (tuned on train/dev gold).
THRESHOLDS = {METHOD: 0.6, DEPLOYMENT: 1.0, RESULT: 0.4}

# Keyword hits of the clause that still make a sentence likelier to be the one shown for a layer.
RELEVANCE_CAP = 1

_COMPILED = {layer: tuple((name, re.compile(p), w) for name, p, w in table) for layer, table in CUES.items()}

# Chinese names of the layers, for explanations: 做法 / 展开 / 结果.
LAYER_NAMES = {METHOD: "做法", DEPLOYMENT: "展开", RESULT: "结果"}
# What an applicant should add, by the set of missing layers.
_ADVICE = {
    frozenset({METHOD}): "写明取得这些成效所采用的具体做法（制度、方法、工具或步骤）",
    frozenset({DEPLOYMENT}): "补充该做法的覆盖范围和频次",
    frozenset({RESULT}): "补充该做法取得的数据",
    frozenset({DEPLOYMENT, RESULT}): "补充该做法的覆盖范围和频次，以及取得的数据",
    frozenset({METHOD, DEPLOYMENT}): "写明所采用的具体做法，以及它的覆盖范围和频次",
    frozenset({METHOD, RESULT}): "写明所采用的具体做法，以及取得的数据",
    frozenset(LAYERS): "写明所采用的具体做法、它的覆盖范围和频次，以及取得的数据",
}


@dataclass(frozen=True)
class LayerEvidence:
    layer: str
    present: bool
    start: int | None  # offsets of the sentence that shows the layer best, into the document text
    end: int | None
    sentence: str | None
    score: float  # best sentence's score for the layer, 0..1 (also when under the threshold)

    def to_dict(self) -> dict[str, Any]:
        return {
            "present": self.present,
            "start": self.start,
            "end": self.end,
            "sentence": self.sentence,
            "score": self.score,
        }


@dataclass(frozen=True)
class ClauseDepth:
    clause_id: str
    layers: tuple[LayerEvidence, ...]  # in LAYERS order

    def layer(self, name: str) -> LayerEvidence:
        return self.layers[LAYERS.index(name)]

    @property
    def present(self) -> tuple[str, ...]:
        return tuple(e.layer for e in self.layers if e.present)

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(e.layer for e in self.layers if not e.present)

    @property
    def explanation(self) -> str:
        """Why the evidence is thin, in Chinese: "只有做法，没有展开和结果"; "" when all three layers show."""
        if not self.missing:
            return ""
        missing = _join(LAYER_NAMES[name] for name in self.missing)
        if not self.present:
            return f"没有{missing}"
        return f"只有{_join(LAYER_NAMES[name] for name in self.present)}，没有{missing}"

    @property
    def advice(self) -> str:
        """What the applicant should add: "补充该做法的覆盖范围和频次，以及取得的数据"; "" when nothing is missing."""
        return _ADVICE.get(frozenset(self.missing), "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "clause": self.clause_id,
            "layers": {e.layer: e.to_dict() for e in self.layers},
            "explanation": self.explanation,
            "advice": self.advice,
        }


def _join(names) -> str:
    """做法 / 做法和结果 / 做法、展开和结果."""
    names = list(names)
    return names[0] if len(names) == 1 else "、".join(names[:-1]) + "和" + names[-1]


_BOUNDARY = "。！？；;!?"
_CLOSING = "”’」』）)】》\"'"
_LIST_MARKER = re.compile(r"\s*(?:[-•·*●▪]|\d+[、.．)）]|[（(]\d+[)）]|[一二三四五六七八九十]+、)")


def _hard_wrapped(span_text: str, at: int, longest_line: int) -> bool:
    """A line break inside a sentence of a hard-wrapped paragraph ("交上去\\n两遍"): the line before
    is nearly full length, ends in no punctuation, and the next line is no list item."""
    line_start = span_text.rfind("\n", 0, at) + 1
    line = span_text[line_start:at].rstrip()
    if not line or line[-1] in _BOUNDARY + '：:，,、）)”"' or len(line) < 0.8 * longest_line:
        return False
    return not _LIST_MARKER.match(span_text[at + 1 :])


def sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentences of text[start:end] as offsets into text: the text up to and including each 。！？；
    (with a closing quote or bracket right after it) and the text between line breaks, without
    surrounding whitespace. A line break that only hard-wraps a sentence (the narrative was pasted
    with fixed-width lines) does not end it, so the cues see the sentence whole."""
    span = text[start:end]
    longest = max((len(line.rstrip()) for line in span.split("\n")), default=0)
    found, begin, i = [], 0, 0
    while i < len(span):
        char = span[i]
        if char in _BOUNDARY:
            stop = i + 1
            while stop < len(span) and span[stop] in _CLOSING:
                stop += 1
            found.append((begin, stop))
            begin = i = stop
            continue
        if char == "\n" and not _hard_wrapped(span, i, longest):
            found.append((begin, i))
            begin = i + 1
        i += 1
    found.append((begin, len(span)))
    result = []
    for a, b in found:
        piece = span[a:b]
        stripped = piece.strip()
        if len(stripped.strip(_BOUNDARY + _CLOSING)) < 2:
            continue
        a += len(piece) - len(piece.lstrip())
        result.append((start + a, start + a + len(stripped)))
    return result


def _raw_scores(sentence: str) -> dict[str, float]:
    """Each layer's summed cue weights, uncapped (more cues, more clearly the layer)."""
    return dict(zip(_COMPILED, _raw_score_values(sentence), strict=True))


# A sentence serves several clauses' evidence: its scores are computed once (bounded memo).
@lru_cache(maxsize=8192)
def _raw_score_values(sentence: str) -> tuple[float, ...]:
    folded = cues.fold_width(sentence).replace("\n", "")
    scores = {}
    for layer, table in _COMPILED.items():
        total = sum(weight for _, pattern, weight in table if pattern.search(folded))
        if layer == RESULT and cues.mentions_past_comparison(folded):
            total += 1.0
        scores[layer] = total
    return tuple(scores.values())


def layer_scores(sentence: str) -> dict[str, float]:
    """Each layer's score of one sentence, 0..1: the weights of its matching cues, summed and capped.
    A result also counts when cues.mentions_past_comparison sees a before/after value."""
    return {layer: round(min(1.0, max(0.0, total)), 4) for layer, total in _raw_scores(sentence).items()}


@lru_cache(maxsize=1)
def _default_guideline() -> Guideline:
    return load_guideline()


def _clause_keywords(clause_id: str, guideline: Guideline | None) -> tuple[str, ...]:
    guideline = guideline or _default_guideline()
    clause = guideline.clauses.get(clause_id)
    return tuple(cues.fold_width(k) for k in clause.keywords) if clause else ()


def clause_depth(
    text: str, evidence_spans: Sequence[tuple[int, int]], clause_id: str, guideline: Guideline | None = None
) -> ClauseDepth:
    """The three layers of one clause's evidence: for each, the best sentence of the spans (offsets
    into text), present when its score reaches THRESHOLDS. Among sentences that show a layer, one
    that uses the clause's keywords (guideline, default the bundled guide) is preferred, since an
    evidence paragraph often serves two clauses; then more cues, then the earlier sentence."""
    keywords = _clause_keywords(clause_id, guideline)
    seen: set[tuple[int, int]] = set()
    scored: list[tuple[int, int, dict[str, float], dict[str, float], int]] = []
    for span_start, span_end in sorted(set(evidence_spans)):
        for a, b in sentences(text, max(0, span_start), min(len(text), span_end)):
            if (a, b) in seen:
                continue
            seen.add((a, b))
            raw = _raw_scores(text[a:b])
            folded = cues.fold_width(text[a:b])
            relevance = sum(k in folded for k in keywords)
            scored.append((a, b, layer_scores(text[a:b]), raw, relevance))
    layers = []
    for layer in LAYERS:
        passing = [s for s in scored if s[2][layer] >= THRESHOLDS[layer]]
        if passing:
            a, b, scores, _, _ = max(passing, key=lambda s: (min(s[4], RELEVANCE_CAP), s[3][layer], -s[0]))
            layers.append(LayerEvidence(layer, True, a, b, text[a:b], scores[layer]))
        else:
            best = max((s[2][layer] for s in scored), default=0.0)
            layers.append(LayerEvidence(layer, False, None, None, None, best))
    return ClauseDepth(clause_id, tuple(layers))


def passage_spans(passage_ids: Sequence[str], passages: Sequence[Any]) -> list[tuple[int, int]]:
    """(start, end) of the passages named in a ClauseCoverage's evidence, for clause_depth."""
    by_id = {p.id: p for p in passages}
    return [(by_id[pid].start, by_id[pid].end) for pid in passage_ids if pid in by_id]


# --- evaluation against corpus/depth/NAME.depth.json -------------------------------------------


def _kappa(gold: Sequence[bool], predicted: Sequence[bool]) -> float | None:
    """Cohen's kappa of two binary labelings; None when undefined (both constant and equal)."""
    n = len(gold)
    if not n:
        return None
    observed = sum(g == p for g, p in zip(gold, predicted, strict=True)) / n
    gold_yes, predicted_yes = sum(gold) / n, sum(predicted) / n
    expected = gold_yes * predicted_yes + (1 - gold_yes) * (1 - predicted_yes)
    if expected >= 1.0:
        return None
    return round((observed - expected) / (1 - expected), 4)


def _load_depth_gold(path: Path) -> dict[str, Any]:
    from .evaluate import GoldError  # evaluate imports the pipeline, which imports this

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        clauses = data["clauses"]
        for cid, entry in clauses.items():
            for layer in LAYERS:
                value = entry[layer]
                present = bool(value["present"])
                if present and not (isinstance(value["start"], int) and isinstance(value["end"], int)):
                    raise ValueError(f"{cid} {layer}: present without integer offsets")
        return data
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise GoldError(f"{path}: unreadable depth annotation ({type(exc).__name__}: {exc})") from None


def evaluate_depth(gold_dir: Path, annotated_dir: Path, names: Sequence[str]) -> dict[str, Any]:
    """Labels of clause_depth against corpus/depth/NAME.depth.json for each NAME that has one.

    Gold format: {"document": NAME, "annotator": …, "clauses": {CLAUSE: {"method" | "deployment" |
    "result": {"present": bool, "start": int | None, "end": int | None}, "note": str}}}, offsets into
    read_document(narrative).text. The labeller reads the paragraphs of annotated_dir/NAME.gold.json
    that cite the clause. Per layer: accuracy, precision, recall, F1 and Cohen's kappa of "present",
    and sentence agreement: the share of instances present in both whose predicted sentence overlaps
    the gold sentence."""
    from .evaluate import load_gold  # evaluate imports the pipeline, which imports this

    pairs: dict[str, list[tuple[bool, bool]]] = {layer: [] for layer in LAYERS}
    overlaps: dict[str, list[bool]] = {layer: [] for layer in LAYERS}
    rows, missing, warnings = [], [], []
    for name in names:
        depth_path = gold_dir / f"{name}.depth.json"
        if not depth_path.exists():
            missing.append(name)
            continue
        depth = _load_depth_gold(depth_path)
        document = load_gold(annotated_dir / f"{name}.gold.json")
        text = read_document(document.path).text
        for clause_id, entry in sorted(depth["clauses"].items()):
            spans = [(p.start, p.end) for p in document.paragraphs if clause_id in p.clauses and not p.heading]
            if not spans:
                warnings.append(f"{name} {clause_id}: no paragraph of the gold file cites the clause")
            predicted = clause_depth(text, spans, clause_id)
            row: dict[str, Any] = {"document": name, "clause": clause_id}
            for layer in LAYERS:
                gold_layer, mine = entry[layer], predicted.layer(layer)
                gold_present = bool(gold_layer["present"])
                pairs[layer].append((gold_present, mine.present))
                row[layer] = (gold_present, mine.present)
                if gold_present:
                    g_start, g_end = int(gold_layer["start"]), int(gold_layer["end"])
                    if not any(a <= g_start and g_end <= b for a, b in spans):
                        warnings.append(
                            f"{name} {clause_id} {layer}: gold sentence {g_start}-{g_end} outside the evidence"
                        )
                    if mine.present:
                        assert mine.start is not None and mine.end is not None
                        overlaps[layer].append(mine.start < g_end and g_start < mine.end)
            rows.append(row)
    layers = {}
    for layer in LAYERS:
        gold = [g for g, _ in pairs[layer]]
        predicted = [p for _, p in pairs[layer]]
        prf = metrics.binary_prf(gold, predicted)
        layers[layer] = {
            "accuracy": metrics.accuracy(gold, predicted),
            "precision": prf.precision,
            "recall": prf.recall,
            "f1": prf.f1,
            "kappa": _kappa(gold, predicted),
            "gold_present": sum(gold),
            "predicted_present": sum(predicted),
            "sentence_agreement": round(sum(overlaps[layer]) / len(overlaps[layer]), 4) if overlaps[layer] else None,
            "sentence_pairs": len(overlaps[layer]),
        }
    exact = [all(row[layer][0] == row[layer][1] for layer in LAYERS) for row in rows]
    return {
        "documents": len({row["document"] for row in rows}),
        "instances": len(rows),
        "layers": layers,
        "all_layers_accuracy": round(sum(exact) / len(exact), 4) if exact else 0.0,
        "per_instance": rows,
        "without_gold": missing,  # names with no NAME.depth.json (yet)
        "warnings": warnings,
    }


def format_depth_evaluation(result: dict[str, Any]) -> str:
    lines = [
        f"{result['instances']} clause instances in {result['documents']} documents"
        f"   all three layers right {result['all_layers_accuracy']:.3f}",
        f"{'layer':11} {'gold+':>5} {'pred+':>5} {'acc':>6} {'P':>6} {'R':>6} {'F1':>6} {'kappa':>6} {'sentence':>9}",
    ]
    for layer, m in result["layers"].items():
        sentence = metrics.figure(m["sentence_agreement"])
        lines.append(
            f"{layer:11} {m['gold_present']:5d} {m['predicted_present']:5d} {m['accuracy']:6.3f} {m['precision']:6.3f}"
            f" {m['recall']:6.3f} {m['f1']:6.3f} {metrics.figure(m['kappa']):>6} {sentence:>9}"
            f" (n={m['sentence_pairs']})"
        )
    if result["without_gold"]:
        lines.append(f"no depth gold yet: {', '.join(result['without_gold'])}")
    lines += [f"warning: {w}" for w in result["warnings"]]
    return "\n".join(lines) + "\n"


def split_names(annotated_dir: Path, splits: Sequence[str]) -> list[str]:
    """Narrative names of the given splits, from annotated_dir/splits.json, in order."""
    from .evaluate import SPLIT_FILE, SPLITS, GoldError  # evaluate imports the pipeline, which imports this

    data = json.loads((annotated_dir / SPLIT_FILE).read_text(encoding="utf-8"))
    names: list[str] = []
    for split in splits:
        if split not in SPLITS:
            raise GoldError(f"unknown split {split!r}: use {', '.join(SPLITS)}")
        names += [n for n in data.get(split, []) if n not in names]
    return names


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m evidence_nlp.depth", description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=Path("corpus/depth"), help="folder of NAME.depth.json")
    parser.add_argument("--annotated", type=Path, default=Path("corpus/annotated"), help="folder of NAME.gold.json")
    parser.add_argument("--split", default="train,dev", help="comma-separated splits of splits.json (train,dev,test)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    names = split_names(args.annotated, [s.strip() for s in args.split.split(",") if s.strip()])
    assignments = args.gold / "assignments.json"
    if assignments.exists():  # only the narratives chosen for depth annotation, so "no gold yet" means pending
        assigned = {i["document"] for i in json.loads(assignments.read_text(encoding="utf-8"))["instances"]}
        names = [n for n in names if n in assigned]
    result = evaluate_depth(args.gold, args.annotated, names)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        print(format_depth_evaluation(result), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
