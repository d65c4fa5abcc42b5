from __future__ import annotations

from evidence_nlp.ingest import Document
from evidence_nlp.segment import Segmenter, split_sentences


def _doc(text: str, headings: tuple[tuple[int, int], ...] = ()) -> Document:
    return Document("mem.txt", text, "utf-8", "0" * 64, "txt", headings)


STRUCTURED = """自评报告

一、意识与素质
（一）卓越意识
我坚持质量第一，2023年组织质量讲评40次。
（二）职业素质
1. 严格执行标准，规范操作。
2. 带徒10名，其中3人成为技师。

三、顾客
3.2 顾客满意
我每季度开展顾客满意度调查。

（二）目标与计划的实施
我按月跟踪计划执行进度。

第七部分 结果
（1）学习成果
取得高级技师证书。
① 创新成果
获实用新型专利2项。
"""


def test_every_passage_reproduces_its_text_and_stays_in_order(guideline):
    seg = Segmenter(guideline).segment(_doc(STRUCTURED))
    previous_end = 0
    for passage in seg.passages:
        assert STRUCTURED[passage.start : passage.end] == passage.text
        assert passage.start >= previous_end
        previous_end = passage.end
    assert [p.id for p in seg.passages] == [f"p{i}" for i in range(1, len(seg.passages) + 1)]


def test_headings_are_linked_to_guideline_sections(guideline):
    seg = Segmenter(guideline).segment(_doc(STRUCTURED))
    links = {h.text: h.section for h in seg.headings}
    assert links["一、意识与素质"] == "1"
    assert links["（一）卓越意识"] == "1.1"
    assert links["（二）职业素质"] == "1.2"
    assert links["三、顾客"] == "3"
    assert links["3.2 顾客满意"] == "3.2"
    assert links["（二）目标与计划的实施"] == "2.2"  # the longer title wins over 目标与计划
    assert links["第七部分 结果"] == "7"
    assert links["（1）学习成果"] == "7.2"
    assert links["① 创新成果"] == "7.3"
    assert "1. 严格执行标准，规范操作。" not in links  # a numbered list item is not a heading
    sections = {p.text: p.section for p in seg.passages if p.kind == "text"}
    assert sections["我每季度开展顾客满意度调查。"] == "3.2"
    assert sections["2. 带徒10名，其中3人成为技师。"] == "1.2"
    assert sections["获实用新型专利2项。"] == "7.3"


def test_ordinal_subheadings_under_a_linked_category(guideline):
    text = "二、目标与计划\n（一）我的做法\n参与制定公司规划。\n（二）落实情况\n按月检查进度。"
    seg = Segmenter(guideline).segment(_doc(text))
    assert [h.section for h in seg.headings] == ["2", "2.1", "2.2"]


def test_narrative_without_headings_has_no_sections(guideline):
    text = "本人从事焊接工作二十年，坚持质量第一。\n\n我每季度开展顾客满意度调查，满意度96%。"
    seg = Segmenter(guideline).segment(_doc(text))
    assert not seg.headings
    assert [p.section for p in seg.passages] == [None, None]
    assert len(seg.paragraphs) == 2


def test_docx_heading_styles_count_as_headings(guideline):
    text = "我的顾客观\n\n我每季度开展顾客满意度调查。"
    seg = Segmenter(guideline).segment(_doc(text, headings=((0, 5),)))
    assert seg.passages[0].kind == "heading"


def test_long_paragraphs_are_split_into_sentence_groups(guideline):
    sentence = "我组织班组开展质量攻关活动，完成了十二项改进课题。"
    text = sentence * 20
    seg = Segmenter(guideline, max_passage_chars=100, target_passage_chars=60).segment(_doc(text))
    assert len(seg.passages) > 1
    assert all(p.text.endswith("。") and len(p.text) <= 60 for p in seg.passages)
    assert "".join(p.text for p in seg.passages) == text
    assert {p.paragraph for p in seg.passages} == {0}


def test_single_newline_paragraphs_split_after_sentence_end(guideline):
    text = "我坚持学习，取得硕士学位。\n我带徒8名。\n指标 | 2022 | 2023\n合格率 | 98% | 99%"
    seg = Segmenter(guideline).segment(_doc(text))
    spans = [text[s.start : s.end] for s in seg.paragraphs]
    assert spans == ["我坚持学习，取得硕士学位。", "我带徒8名。", "指标 | 2022 | 2023\n合格率 | 98% | 99%"]


def test_split_sentences_keeps_offsets():
    text = "第一句。第二句！“引号。”第三行\n第四行"
    spans = split_sentences(text, 0, len(text))
    assert [text[s.start : s.end] for s in spans] == ["第一句。", "第二句！", "“引号。”", "第三行", "第四行"]
