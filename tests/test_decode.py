"""Own-words headings are linked by their ordinal where the content beneath agrees."""

from __future__ import annotations

import numpy as np

from evidence_nlp.guideline import load_guideline
from evidence_nlp.match.decode import link_ordinal_headings
from evidence_nlp.segment import Heading, Passage

GUIDELINE = load_guideline()
CATEGORIES = tuple(GUIDELINE.clauses[c].category_id for c in GUIDELINE.clause_ids)


def _document(titles: list[str], about: list[str]) -> tuple[list[Passage], list[Heading], np.ndarray]:
    """One heading per title and two text passages under it, scored as about `about[k]`."""
    passages, headings, rows = [], [], []
    position = 0
    for title, category in zip(titles, about, strict=True):
        headings.append(Heading(position, position + len(title), title, 1, "cn", None))
        passages.append(Passage(f"p{len(passages) + 1}", position, position + len(title), title, "heading", None, 0))
        rows.append(None)
        for _ in range(2):
            position += 20
            passages.append(Passage(f"p{len(passages) + 1}", position, position + 10, "正文", "text", None, 0))
            rows.append(category)
        position += 20
    scores = np.full((len(passages), len(CATEGORIES)), 0.05, dtype=np.float32)
    for r, category in enumerate(rows):
        if category is not None:
            scores[r, [c == category for c in CATEGORIES]] = 0.8
    return passages, headings, scores


def test_numbered_own_words_headings_follow_the_guide_when_the_content_agrees():
    titles = ["一、守住底线", "二、把目标层层压实", "三、用心读懂每一位宾客", "五、把标准做到极致", "七、用数据说话"]
    passages, headings, scores = _document(titles, ["1", "2", "3", "5", "7"])
    linked = link_ordinal_headings(passages, headings, scores, CATEGORIES)
    assert [p.section for p in linked if p.kind == "text"] == ["1", "1", "2", "2", "3", "3", "5", "5", "7", "7"]
    assert [p.section for p in linked if p.kind == "heading"] == ["1", "2", "3", "5", "7"]
    assert [(p.start, p.end, p.text) for p in linked] == [(p.start, p.end, p.text) for p in passages]


def test_content_overrides_one_heading():
    titles = ["一、守住底线", "二、把目标层层压实", "三、车间里的人", "四、在学习中成长"]
    passages, headings, scores = _document(titles, ["1", "2", "4", "4"])  # 三 is about learning
    linked = link_ordinal_headings(passages, headings, scores, CATEGORIES)
    assert [p.section for p in linked if p.kind == "text"] == ["1", "1", "2", "2", None, None, "4", "4"]


def test_headings_out_of_the_guides_order_stay_unlinked():
    titles = ["一、先说结果", "二、技术创新", "三、客户", "四、目标与团队"]
    passages, headings, scores = _document(titles, ["7", "6", "3", "2"])
    linked = link_ordinal_headings(passages, headings, scores, CATEGORIES)
    assert all(p.section is None for p in linked)


def test_unnumbered_or_linked_headings_are_left_alone():
    titles = ["一、守住底线", "二、把目标层层压实", "三、用心读懂每一位宾客"]
    passages, headings, scores = _document(titles, ["1", "2", "3"])
    headings[1] = Heading(headings[1].start, headings[1].end, headings[1].text, 1, None, None)
    assert all(p.section is None for p in link_ordinal_headings(passages, headings, scores, CATEGORIES))
    assert all(p.section is None for p in link_ordinal_headings(passages[:4], headings[:1], scores, CATEGORIES))
