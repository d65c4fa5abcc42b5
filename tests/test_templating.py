"""Templated / copied narratives across an intake (evidence_nlp.templating): planted copies built
from corpus narratives must be found, with their offsets; guide wording and stock phrases must not
make a pair."""

from __future__ import annotations

import csv
import pickle
import random
from pathlib import Path

import pytest

from evidence_nlp.guideline import Guideline
from evidence_nlp.ingest import read_document
from evidence_nlp.templating import (
    DUPLICATE_COLUMNS,
    STOCK_FLOOR,
    DocumentFingerprints,
    TemplateDetector,
    normalise,
    paragraph_fingerprints,
    write_duplicates_csv,
)

ANNOTATED = Path(__file__).resolve().parents[1] / "corpus" / "annotated"
NARRATIVES = [
    "weld_craftsman_zhou",
    "boiler_operator_xu",
    "cnc_operator_wu",
    "teacher_principal_li",
    "software_cto_han",
    "cardiology_director_xie",
    "rail_siding_dispatcher_liu",
    "ehs_manager_song",
    "rd_chemist_jiang",
    "auto_parts_gm_gu",
    "power_grid_engineer_huang",
]
PLEDGE = "今后，我将继续坚持以习近平新时代中国特色社会主义思想为指导，牢记初心使命，立足本职岗位，为推动高质量发展贡献自己的全部力量。"


def _paragraphs(name: str) -> list[str]:
    """The narrative's text paragraphs (blank-line blocks long enough to be fingerprinted)."""
    text = read_document(ANNOTATED / f"{name}.txt").text
    return [p.strip() for p in text.split("\n\n") if len(normalise(p)) >= 30]


@pytest.fixture(scope="module")
def corpus() -> dict[str, list[str]]:
    return {name: _paragraphs(name) for name in NARRATIVES}


def _document(paragraphs: list[str]) -> tuple[str, list[tuple[int, int]]]:
    text = "\n\n".join(paragraphs)
    spans, start = [], 0
    for paragraph in paragraphs:
        spans.append((start, start + len(paragraph)))
        start += len(paragraph) + 2
    return text, spans


def _detect(documents: dict[str, list[str]], guideline: Guideline | None, **options) -> TemplateDetector:
    detector = TemplateDetector(**options)
    for name, paragraphs in documents.items():
        text, spans = _document(paragraphs)
        detector.add(name, paragraph_fingerprints(text, spans, guideline))
    return detector


def _span_of(paragraphs: list[str], index: int) -> tuple[int, int]:
    return _document(paragraphs)[1][index]


def _rewrite_numbers(text: str) -> str:
    return "".join(str((int(ch) + 3) % 10) if ch.isascii() and ch.isdigit() else ch for ch in text)


def _edit_characters(text: str, count: int, seed: int) -> str:
    rng = random.Random(seed)
    chars = list(text)
    for _ in range(count):
        chars[rng.randrange(len(chars))] = "某"
    return "".join(chars)


def test_verbatim_paragraph_found_with_its_offsets(corpus, guideline):
    copied = corpus["weld_craftsman_zhou"][3]
    host = corpus["boiler_operator_xu"][:5] + [copied] + corpus["boiler_operator_xu"][5:]
    documents = {"a_weld": corpus["weld_craftsman_zhou"], "b_boiler": host, **{n: corpus[n] for n in NARRATIVES[2:6]}}
    pairs = _detect(documents, guideline).pairs()
    assert [(p.applicant_a, p.applicant_b, p.shared) for p in pairs] == [("a_weld", "b_boiler", 1)]
    shared = pairs[0].paragraphs[0]
    assert (shared.start_a, shared.end_a) == _span_of(corpus["weld_craftsman_zhou"], 3)
    assert (shared.start_b, shared.end_b) == _span_of(host, 5)
    assert shared.similarity == 1.0 and pairs[0].max_similarity == 1.0
    assert shared.excerpt_a == " ".join(copied.split())[:40]


def test_lightly_edited_paragraphs_found(corpus, guideline):
    source = corpus["cnc_operator_wu"]
    # a few characters changed, a name swapped, other figures: still the same paragraph
    edited = [
        _edit_characters(source[2], 4, seed=1),
        _rewrite_numbers(source[6].replace("我", "本人")),
        _edit_characters(_rewrite_numbers(source[9]), 3, seed=2),
    ]
    host = corpus["teacher_principal_li"][:3] + edited + corpus["teacher_principal_li"][3:]
    pairs = _detect(
        {"cnc": source, "teacher": host, "cardiology": corpus["cardiology_director_xie"]}, guideline
    ).pairs()
    assert len(pairs) == 1 and (pairs[0].applicant_a, pairs[0].applicant_b) == ("cnc", "teacher")
    assert pairs[0].shared == 3
    assert [(p.start_a, p.end_a) for p in pairs[0].paragraphs] == [_span_of(source, i) for i in (2, 6, 9)]
    assert [(p.start_b, p.end_b) for p in pairs[0].paragraphs] == [_span_of(host, i) for i in (3, 4, 5)]
    assert all(0.5 <= p.similarity < 1.0 for p in pairs[0].paragraphs if p is not pairs[0].paragraphs[1])


def test_reordered_narrative_shares_every_paragraph(corpus, guideline):
    source = corpus["software_cto_han"]
    shuffled = source[:]
    random.Random(3).shuffle(shuffled)
    pairs = _detect({"original": source, "reordered": shuffled, "other": corpus["ehs_manager_song"]}, guideline).pairs()
    assert len(pairs) == 1
    assert pairs[0].shared == len(source)
    for shared in pairs[0].paragraphs:
        text_a, _ = _document(source)
        text_b, _ = _document(shuffled)
        assert text_a[shared.start_a : shared.end_a] == text_b[shared.start_b : shared.end_b]


def test_narrative_rewritten_from_one_template(corpus, guideline):
    source = corpus["weld_craftsman_zhou"]
    swaps = {"周建国": "陈立新", "江苏长舟船舶重工有限公司": "南通海丰造船有限公司", "长舟": "海丰", "南通": "泰州"}

    def rewrite(paragraph: str) -> str:
        for old, new in swaps.items():
            paragraph = paragraph.replace(old, new)
        return _rewrite_numbers(paragraph)

    templated = [rewrite(p) for p in source]
    assert sum(a != b for a, b in zip(source, templated, strict=True)) > len(source) // 2
    documents = {"zhou": source, "chen": templated, **{n: corpus[n] for n in NARRATIVES[1:5]}}
    pairs = _detect(documents, guideline).pairs()
    assert [(p.applicant_a, p.applicant_b) for p in pairs] == [("chen", "zhou")]
    assert pairs[0].shared >= 0.9 * len(source)


def test_guide_wording_alone_makes_no_pair(corpus, guideline):
    clauses = guideline.clauses
    quoted = f"对照指南，{clauses['1.1a'].text}{clauses['1.1c'].text}{clauses['3.1b'].text}{clauses['4.2b'].text}"
    first = corpus["rail_siding_dispatcher_liu"]
    second = corpus["rd_chemist_jiang"]
    # the clause sentences as a paragraph of their own, and appended to a short paragraph of each
    documents = {
        "liu": first[:2] + [quoted] + [first[2][:40] + clauses["6.2a"].text + clauses["6.2b"].text] + first[3:],
        "jiang": second[:4] + [quoted] + [second[4][:40] + clauses["6.2a"].text + clauses["6.2b"].text] + second[5:],
    }
    assert _detect(documents, guideline).pairs() == []
    fingerprints = paragraph_fingerprints(*_document(documents["liu"]), guideline)
    assert fingerprints.guideline_paragraphs >= 1
    # without the guideline the same documents do pair: the test above can fail
    assert _detect(documents, None).pairs() != []


def test_stock_pledge_in_many_documents_is_no_copy(corpus, guideline):
    documents = {name: corpus[name] + [PLEDGE] for name in NARRATIVES[:8]}
    documents.update({name: corpus[name] for name in NARRATIVES[8:]})
    detector = _detect(documents, guideline)
    assert detector.pairs() == []
    stock = detector.stock()
    assert [(s.documents, s.applicant) for s in stock] == [(8, NARRATIVES[0])]
    assert stock[0].excerpt == PLEDGE[:40]


def test_pledge_in_a_few_documents_still_counts(corpus, guideline):
    documents = {name: corpus[name] + ([PLEDGE] if i < STOCK_FLOOR else []) for i, name in enumerate(NARRATIVES)}
    detector = _detect(documents, guideline)
    assert detector.stock() == []
    assert len(detector.pairs()) == STOCK_FLOOR * (STOCK_FLOOR - 1) // 2


def test_stock_group_stops_growing_the_index(corpus, guideline):
    # 40 narratives end with the pledge: past max_documents its copies stay out of the LSH buckets
    names = [f"applicant{i:02d}" for i in range(40)]
    documents = {
        name: [corpus[NARRATIVES[i % len(NARRATIVES)]][i // len(NARRATIVES)], PLEDGE] for i, name in enumerate(names)
    }
    detector = _detect(documents, guideline, max_documents=5)
    assert detector.largest_bucket() <= 6
    assert detector.stock()[0].documents == 40
    assert detector.pairs() == []


def test_short_and_guideline_paragraphs_get_no_fingerprint(corpus, guideline):
    paragraphs = ["二、工作过程", corpus["ehs_manager_song"][1], guideline.clauses["2.1a"].text * 2]
    fingerprints = paragraph_fingerprints(*_document(paragraphs), guideline)
    assert len(fingerprints) == 1 and fingerprints.guideline_paragraphs == 1
    assert (int(fingerprints.starts[0]), int(fingerprints.ends[0])) == _span_of(paragraphs, 1)
    assert fingerprints.signatures.dtype.name == "uint32" and fingerprints.signatures.shape == (1, 64)


def test_fingerprints_are_small_to_ship(corpus, guideline):
    text, spans = _document(corpus["auto_parts_gm_gu"])
    fingerprints = paragraph_fingerprints(text, spans, guideline)
    shipped = len(pickle.dumps(fingerprints))
    assert shipped < 6 * len(text) + 1000 * len(spans)  # bytes: shingles ~4 per character
    assert isinstance(pickle.loads(pickle.dumps(fingerprints)), DocumentFingerprints)


def test_estimated_similarity_mode_finds_copies(corpus, guideline):
    source = corpus["power_grid_engineer_huang"]
    host = corpus["ehs_manager_song"] + [source[4], _edit_characters(source[7], 2, seed=5)]
    pairs = _detect({"huang": source, "song": host}, guideline, exact=False).pairs()
    assert len(pairs) == 1 and pairs[0].shared == 2


def test_results_are_deterministic_and_csv_is_formula_safe(corpus, guideline, tmp_path):
    copied = '=HYPERLINK("http://x") ' + corpus["boiler_operator_xu"][2]
    documents = {
        "=cmd|' /C calc'!A0.docx": corpus["weld_craftsman_zhou"] + [copied],
        "-b.txt": corpus["boiler_operator_xu"][:2] + [copied],
        "c.txt": corpus["cnc_operator_wu"],
    }
    first = _detect(documents, guideline).pairs()
    again = _detect(documents, guideline).pairs()
    assert first == again and len(first) == 1
    write_duplicates_csv(first, tmp_path / "one.csv")
    write_duplicates_csv(again, tmp_path / "two.csv")
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "two.csv").read_bytes()
    with open(tmp_path / "one.csv", encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert tuple(rows[0]) == DUPLICATE_COLUMNS and len(rows) == 1
    assert rows[0]["applicant_a"] == "'-b.txt" and rows[0]["applicant_b"] == "'=cmd|' /C calc'!A0.docx"
    assert rows[0]["excerpt_a"].startswith("'=HYPERLINK") and rows[0]["similarity"] == "1.00"


def test_adding_a_document_twice_is_refused(corpus, guideline):
    detector = _detect({"a": corpus["cnc_operator_wu"]}, guideline)
    with pytest.raises(ValueError):
        detector.add("a", paragraph_fingerprints(*_document(corpus["cnc_operator_wu"]), guideline))
    with pytest.raises(ValueError):
        detector.add("b", paragraph_fingerprints(*_document(corpus["cnc_operator_wu"]), guideline, num_perm=32))


def test_normalised_text_ignores_figures_punctuation_and_width():
    assert normalise("合格率由98.1%提高到２０２４年的99.5%，") == normalise("合格率由97.2％提高到2023年的99.10%。")
    assert normalise("合格率由98.1%提高到99.5%") == "合格率由0提高到0"
    assert normalise("ＱＣ小组_A") == "qc小组a"
