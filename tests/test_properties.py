"""Properties of the pipeline on arbitrary text (hypothesis): it completes, offsets reproduce the
text, passages are ordered and bounded, every clause is reported once, output is deterministic,
and full-width forms do not change what the comparison cues detect."""

from __future__ import annotations

import json
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidence_nlp import cues
from evidence_nlp.ingest import Document
from evidence_nlp.report import build_report, to_json

# The autouse cache fixture is function-scoped; it only sets an environment variable, so sharing
# it between examples is harmless.
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
FEW = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

HEADINGS = [
    "一、顾客",
    "三、顾客",
    "（二）顾客满意",
    "（三一）我的做法",
    "3.2 顾客满意",
    "３．２ 顾客满意",
    "7.1 工作绩效",
    "5.1 我的做法",
    "（2）落实情况",
    "2、具体措施",
    "第七部分 结果",
    "七、結果",
    "（1）学习成果",
    "① 创新成果",
    "## 学习与发展",
    "1. 严格执行标准，规范操作。",
    "十十、",
    "2.",
    "（）",
]
WORDS = [
    "满意度",
    "同比",
    "较上年",
    "較上年",
    "提升",
    "提升至",
    "由",
    "从",
    "下降",
    "行业平均",
    "高于行业平均水平",
    "國內領先",
    "标杆",
    "连续三年",
    "2021年",
    "2022年",
    "2023年",
    "２０２３年",
    "12%",
    "１２％",
    "个百分点",
    "专利",
    "质量",
    " | ",
    "<script>",
    "\u200b",
    "\ufeff",
]
chinese = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
punctuation = st.sampled_from(list("。！？；，、：“”（）《》…!?;,.:%％ \t\u3000") + ["\n", "\n\n", "\n \n"])
digits = st.sampled_from(list("0123456789０１２３４５６７８９"))
heading = st.sampled_from(HEADINGS).map(lambda h: f"\n{h}\n")
fragment = st.one_of(
    st.text(chinese, min_size=1, max_size=30),
    punctuation,
    digits,
    heading,
    st.sampled_from(WORDS),
    st.text(max_size=8),  # anything Unicode: controls, combining marks, astral characters
)
narratives = st.lists(fragment, max_size=60).map("".join)
# Line by line, half of the lines headings: an outline like a real self-evaluation.
outline_line = st.one_of(st.sampled_from(HEADINGS), st.lists(fragment, max_size=8).map("".join))
outlines = st.lists(outline_line, max_size=25).map("\n".join)
# A long run without sentence punctuation now and then, to exercise the passage cutting.
long_narratives = st.tuples(narratives, st.text(chinese, min_size=300, max_size=900), narratives).map("".join)
any_narrative = st.one_of(narratives, outlines, long_narratives, st.text(max_size=300))


def _document(text: str) -> Document:
    return Document("prop.txt", text, "utf-8", "0" * 64, "txt")


def check_invariants(analyzer, guideline, text: str) -> None:
    analysis = analyzer.analyze_document(_document(text))
    limit = analyzer.segmenter.max_passage_chars
    previous_end = 0
    for number, passage in enumerate(analysis.segmentation.passages, start=1):
        assert passage.id == f"p{number}"
        assert text[passage.start : passage.end] == passage.text
        assert previous_end <= passage.start < passage.end <= len(text)
        assert passage.end - passage.start <= limit
        assert (
            passage.section is None
            or passage.section in guideline.items
            or passage.section in {c.id for c in guideline.categories}
        )
        previous_end = passage.end
    report = build_report(analysis)
    assert [c["id"] for c in report["clauses"]] == guideline.clause_ids  # each clause once, in order
    assert len({c["id"] for c in report["clauses"]}) == len(guideline.clauses)
    serialised = to_json(report)
    assert serialised == to_json(build_report(analysis))
    assert json.loads(serialised) == report
    serialised.encode("utf-8")  # writable as UTF-8


@FAST
@given(text=any_narrative)
def test_lexical_pipeline_invariants(lexical_analyzer, guideline, text):
    check_invariants(lexical_analyzer, guideline, text)


@FAST
@given(text=narratives)
def test_same_input_gives_byte_identical_json(lexical_analyzer, text):
    document = _document(text)
    first = to_json(build_report(lexical_analyzer.analyze_document(document)))
    second = to_json(build_report(lexical_analyzer.analyze_document(document)))
    assert first == second


@FEW
@given(text=any_narrative)
def test_default_pipeline_invariants(analyzer, guideline, text):
    check_invariants(analyzer, guideline, text)


def _full_width(text: str) -> str:
    """Half-width ASCII digits, letters and punctuation to their full-width forms (same length)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


comparison_fragment = st.one_of(
    st.sampled_from(WORDS),
    digits,
    punctuation,
    st.text(chinese, max_size=6),
    st.sampled_from(["由96.2%提升至99.1%", "比2021年增加了5项", "排名第1", "位居全省前3", "分别为92%、94%、97%"]),
)
comparison_text = st.lists(comparison_fragment, max_size=30).map("".join)


@FAST
@given(text=comparison_text)
def test_full_width_forms_do_not_change_comparison_cues(text):
    variants = [text, unicodedata.normalize("NFKC", text), _full_width(text)]
    for cue in (cues.mentions_past_comparison, cues.mentions_benchmark, cues.shows_trend):
        assert len({cue(v) for v in variants}) == 1, (cue.__name__, variants)
    assert len({cues.specificity(v) for v in variants}) == 1


@FAST
@given(text=outlines)
def test_full_width_forms_do_not_change_the_segmentation(lexical_analyzer, text):
    folded, wide = (lexical_analyzer.segmenter.segment(_document(v)) for v in (text, _full_width(text)))
    assert len(text) == len(_full_width(text))
    assert [(p.start, p.end, p.kind, p.section) for p in folded.passages] == [
        (p.start, p.end, p.kind, p.section) for p in wide.passages
    ]


@FAST
@given(text=comparison_text)
def test_zero_width_characters_do_not_change_comparison_cues(text):
    spaced = "\u200b".join(text)
    for cue in (cues.mentions_past_comparison, cues.mentions_benchmark, cues.shows_trend):
        assert cue(spaced) == cue(text)
