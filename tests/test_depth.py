"""Evidence depth per clause (evidence_nlp.depth): layer cues, sentence offsets, explanations, evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evidence_nlp.depth import (
    DEPLOYMENT,
    LAYERS,
    METHOD,
    RESULT,
    THRESHOLDS,
    ClauseDepth,
    LayerEvidence,
    clause_depth,
    evaluate_depth,
    format_depth_evaluation,
    layer_scores,
    main,
    sentences,
)


def _shows(sentence: str, layer: str) -> bool:
    return layer_scores(sentence)[layer] >= THRESHOLDS[layer]


@pytest.mark.parametrize(
    "sentence",
    [
        "我建立了班前五分钟质量讲评制度。",
        "我们采用PDCA循环推进改进。",
        "我用鱼骨图分析了返工的原因。",
        "我编写了《焊接作业指导书》。",
        "通过师带徒的方式培养新人。",
    ],
)
def test_method_sentences(sentence: str) -> None:
    assert _shows(sentence, METHOD)


@pytest.mark.parametrize("sentence", ["我始终坚持质量第一。", "我们坚持顾客至上的理念。", "我始终注重质量意识。"])
def test_a_slogan_is_no_method(sentence: str) -> None:
    assert not _shows(sentence, METHOD)


@pytest.mark.parametrize(
    "sentence",
    [
        "每周组织一次质量讲评。",
        "该做法已推广到全车间。",
        "我带领12名组员开展攻关。",
        "自2018年起坚持至今。",
        "覆盖3个班组。",
    ],
)
def test_deployment_sentences(sentence: str) -> None:
    assert _shows(sentence, DEPLOYMENT)


@pytest.mark.parametrize(
    "sentence",
    [
        "一次合格率由96%提高到99.2%。",
        "顾客投诉下降了40%。",
        "全年节约成本30万元。",
        "我获得授权发明专利2项。",
        "顾客专门来信表扬。",
    ],
)
def test_result_sentences(sentence: str) -> None:
    assert _shows(sentence, RESULT)


def test_a_target_is_no_result() -> None:
    assert not _shows("计划到2026年把合格率提高到99%以上的目标。", RESULT)
    assert not _shows("我带领12名组员开展攻关。", RESULT)


def test_sentence_offsets_slice_the_text() -> None:
    text = "标题\n\n我说：“质量第一。”然后建立了制度；每周检查一次！\n覆盖全车间？"
    found = sentences(text, 4, len(text))
    assert [text[a:b] for a, b in found] == ["我说：“质量第一。”", "然后建立了制度；", "每周检查一次！", "覆盖全车间？"]
    assert all(4 <= a < b <= len(text) for a, b in found)


def test_a_hard_wrapped_line_does_not_end_the_sentence() -> None:
    text = "我每天晚上看一遍飞行日志，每周五对一次进\n度，落后的段下周优先排。"
    assert [text[a:b] for a, b in sentences(text, 0, len(text))] == [text.replace("\n", "\n")]
    listed = "我的做法：\n- 每年读30本书\n- 每月去一次现场"
    assert len(sentences(listed, 0, len(listed))) == 3


def test_clause_depth_picks_one_sentence_per_layer_with_offsets() -> None:
    text = (
        "前言。\n\n"
        "我始终坚持质量第一。我建立了首件检验制度，每批次由班组长核对。"
        "自2021年推行以来覆盖全车间8个班组。一次合格率由95.1%提高到99.3%。\n\n"
        "别的段落：获得专利。"
    )
    start = text.index("我始终")
    end = text.index("\n\n别的")
    depth = clause_depth(text, [(start, end)], "5.1a")
    assert depth.clause_id == "5.1a"
    assert [e.layer for e in depth.layers] == list(LAYERS)
    assert depth.present == LAYERS and depth.explanation == "" and depth.advice == ""
    for evidence in depth.layers:
        assert evidence.start is not None and evidence.end is not None
        assert start <= evidence.start < evidence.end <= end
        assert text[evidence.start : evidence.end] == evidence.sentence
    assert "首件检验制度" in depth.layer(METHOD).sentence
    assert "合格率" in depth.layer(RESULT).sentence
    # Text outside the evidence spans is never read: the patent belongs to another paragraph.
    assert "专利" not in depth.layer(RESULT).sentence


def test_only_a_method_explains_weak_evidence() -> None:
    text = "我建立了班前五分钟质量讲评制度。"
    depth = clause_depth(text, [(0, len(text))], "1.1a")
    assert depth.present == (METHOD,)
    assert depth.explanation == "只有做法，没有展开和结果"
    assert depth.advice == "补充该做法的覆盖范围和频次，以及取得的数据"
    assert depth.to_dict()["layers"][DEPLOYMENT] == {
        "present": False,
        "start": None,
        "end": None,
        "sentence": None,
        "score": depth.layer(DEPLOYMENT).score,
    }


def test_a_slogan_alone_has_no_layer() -> None:
    text = "我始终坚持质量第一，努力让顾客满意。"
    depth = clause_depth(text, [(0, len(text))], "1.1a")
    assert depth.layer(METHOD).present is False
    assert depth.explanation.startswith("没有做法")
    assert clause_depth(text, [], "1.1a").explanation == "没有做法、展开和结果"


def _layers(method: bool, deployment: bool, result: bool) -> ClauseDepth:
    flags = dict(zip(LAYERS, (method, deployment, result), strict=True))
    return ClauseDepth("x", tuple(LayerEvidence(n, flags[n], None, None, None, 0.0) for n in LAYERS))


def test_explanations_and_advice_for_every_gap() -> None:
    assert _layers(True, True, False).explanation == "只有做法和展开，没有结果"
    assert _layers(True, True, False).advice == "补充该做法取得的数据"
    assert _layers(True, False, True).advice == "补充该做法的覆盖范围和频次"
    assert _layers(False, True, True).explanation == "只有展开和结果，没有做法"
    assert _layers(False, False, False).advice == "写明所采用的具体做法、它的覆盖范围和频次，以及取得的数据"
    assert all(_layers(*flags).advice for flags in [(False, True, False), (False, False, True)])


def _write_corpus(tmp_path: Path) -> tuple[Path, Path, str]:
    annotated, depth_dir = tmp_path / "annotated", tmp_path / "depth"
    annotated.mkdir()
    depth_dir.mkdir()
    para_a = "我建立了首件检验制度，每批次由班组长核对。一次合格率由95.1%提高到99.3%。"
    para_b = "我始终坚持质量第一。"
    text = "标题\n\n" + para_a + "\n\n" + para_b + "\n"
    (annotated / "doc.txt").write_text(text, encoding="utf-8")
    a_start = text.index(para_a)
    b_start = text.index(para_b)
    gold = {
        "doc": "doc",
        "paragraphs": [
            {"start": 0, "end": 2, "heading": True, "clauses": []},
            {"start": a_start, "end": a_start + len(para_a), "heading": False, "clauses": ["5.1a"]},
            {"start": b_start, "end": b_start + len(para_b), "heading": False, "clauses": ["1.1a"]},
        ],
        "clause_status": {},
        "comparisons": {},
    }
    (annotated / "doc.gold.json").write_text(json.dumps(gold, ensure_ascii=False), encoding="utf-8")
    (annotated / "splits.json").write_text(json.dumps({"train": ["doc"], "dev": [], "test": ["other"]}), "utf-8")
    method_end = text.index("。", a_start) + 1
    result_start = method_end
    absent = {"present": False, "start": None, "end": None}
    depth = {
        "document": "doc",
        "annotator": "test",
        "clauses": {
            # The gold says deployment is absent: the labeller's 每批次 is a false positive.
            "5.1a": {
                "method": {"present": True, "start": a_start, "end": method_end},
                "deployment": absent,
                "result": {"present": True, "start": result_start, "end": a_start + len(para_a)},
                "note": "",
            },
            # The gold says a method is there where the labeller sees a slogan: a false negative.
            "1.1a": {
                "method": {"present": True, "start": b_start, "end": b_start + len(para_b)},
                "deployment": absent,
                "result": absent,
                "note": "",
            },
        },
    }
    (depth_dir / "doc.depth.json").write_text(json.dumps(depth, ensure_ascii=False), encoding="utf-8")
    return annotated, depth_dir, text


def test_evaluate_depth_on_a_tiny_gold(tmp_path: Path) -> None:
    annotated, depth_dir, _ = _write_corpus(tmp_path)
    result = evaluate_depth(depth_dir, annotated, ["doc", "missing"])
    assert result["instances"] == 2 and result["documents"] == 1
    assert result["without_gold"] == ["missing"]
    method, deployment, result_layer = (result["layers"][n] for n in LAYERS)
    assert (method["precision"], method["recall"], method["accuracy"]) == (1.0, 0.5, 0.5)
    assert method["kappa"] == 0.0  # gold all positive: agreement no better than chance
    assert method["sentence_agreement"] == 1.0 and method["sentence_pairs"] == 1
    assert deployment["precision"] == 0.0 and deployment["predicted_present"] == 1
    assert deployment["accuracy"] == 0.5 and deployment["kappa"] == 0.0
    assert result_layer["accuracy"] == 1.0 and result_layer["kappa"] == 1.0
    assert result_layer["sentence_agreement"] == 1.0
    assert result["all_layers_accuracy"] == 0.0
    assert result["warnings"] == []
    report = format_depth_evaluation(result)
    assert "method" in report and "no depth gold yet: missing" in report


def test_a_gold_sentence_outside_the_evidence_is_flagged(tmp_path: Path) -> None:
    annotated, depth_dir, _ = _write_corpus(tmp_path)
    data = json.loads((depth_dir / "doc.depth.json").read_text(encoding="utf-8"))
    data["clauses"]["1.1a"]["method"].update(start=0, end=2)
    (depth_dir / "doc.depth.json").write_text(json.dumps(data), encoding="utf-8")
    warnings = evaluate_depth(depth_dir, annotated, ["doc"])["warnings"]
    assert warnings == ["doc 1.1a method: gold sentence 0-2 outside the evidence"]


def test_runner_reads_the_splits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    annotated, depth_dir, _ = _write_corpus(tmp_path)
    assert main(["--gold", str(depth_dir), "--annotated", str(annotated), "--split", "train", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["instances"] == 2
    main(["--gold", str(depth_dir), "--annotated", str(annotated), "--split", "test"])
    assert "0 clause instances" in capsys.readouterr().out
