"""Reviewer feedback: exports of the reviewer page imported as gold files, their statistics, and
feedback gold for training and evaluation (src/evidence_nlp/feedback.py, cli_feedback.py).

Exports are built here as the page script builds them: the tool's verdict the page embeds (read
back from the rendered HTML) plus corrections. tests/test_browser_feedback.py makes a real one.
"""

from __future__ import annotations

import copy
import html
import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evidence_nlp import feedback, render
from evidence_nlp.cli_feedback import feedback_app
from evidence_nlp.evaluate import check_gold
from evidence_nlp.ingest import read_document
from evidence_nlp.report import build_report

from .conftest import ROOT, SAMPLES

runner = CliRunner()
STRUCTURED = SAMPLES / "welder_structured_gbk.txt"
ANNOTATED = ROOT / "corpus" / "annotated"


@pytest.fixture(scope="module")
def welder(analyzer):
    analysis = analyzer.analyze(STRUCTURED)
    report = build_report(analysis)
    page = render.render_reviewer_html(analysis, report)
    embedded = re.search(r'<div id="review-data" hidden data-review="([^"]*)"', page).group(1)
    return {"analysis": analysis, "report": report, "data": json.loads(html.unescape(embedded))}


def test_the_sample_verdicts_these_tests_correct(welder):
    """The tool's verdicts on the sample that the corrections below assume (a new model may change
    them: then pick other clauses)."""
    clauses = welder["data"]["clauses"]
    assert clauses["1.1a"]["status"] == "covered" and "p3" in clauses["1.1a"]["evidence"]
    assert clauses["3.1c"]["status"] == "covered" and clauses["3.1c"]["evidence"] == ["p17"]
    assert clauses["7.4b"]["status"] == "weak" and clauses["7.4b"]["evidence"] == ["p47"]
    assert clauses["3.2b"]["status"] == "covered" and clauses["1.1b"]["status"] == "covered"
    assert clauses["1.2c"]["status"] == "weak" and clauses["1.2c"]["evidence"] == ["p8"]
    assert clauses["2.1a"]["status"] == "missing" and not clauses["2.1a"]["evidence"]
    assert "p7" in clauses["7.1a"]["near"] and "p29" not in clauses["7.1c"]["evidence"] + clauses["7.1c"]["near"]
    assert welder["data"]["passages"]["p1"][2] == "heading" and welder["data"]["passages"]["p11"][2] == "text"


def make_export(data, corrections, reviewer="", exported_at="2025-03-01T08:00:00.000Z"):
    """An export as reviewer.js writes it (a copy: tests change exports, never the page's data)."""
    data = copy.deepcopy(data)
    return {
        "format": "evidence-nlp-review",
        "version": 1,
        "document": data["document"],
        "guideline": data["guideline"],
        "tool": data["tool"],
        "encoder": data["encoder"],
        "matcher": data["matcher"],
        "reviewer": reviewer,
        "exported_at": exported_at,
        "tool_verdict": {k: data[k] for k in ("clauses", "comparisons", "passages")},
        "corrections": corrections,
    }


def status(data, cid, value):
    tool = data["clauses"][cid]["status"]
    return {"type": "clause_status", "clause": cid, "tool": tool, "value": value, "changed": value != tool}


def passage(data, cid, pid, value, kind="passage"):
    start, end, _ = data["passages"][pid]
    entry = {"type": kind, "clause": cid, "passage": pid, "start": start, "end": end, "changed": True}
    if kind == "passage":
        tool = "evidence" if pid in data["clauses"][cid]["evidence"] else "near"
        entry.update(tool=tool, value=value, changed=value != (tool == "evidence"))
    return entry


def comparison(data, item, kind, value):
    tool = data["comparisons"][item][kind]
    return {"type": "comparison", "item": item, "kind": kind, "tool": tool, "value": value, "changed": value != tool}


def corrections_of_a_careful_reviewer(data):
    """What the written gold of this text (corpus/annotated/weld_craftsman_zhou) says against the tool."""
    return [
        status(data, "1.1a", "covered"),  # a confirmation
        status(data, "3.1c", "missing"),
        passage(data, "3.1c", "p17", False),
        status(data, "7.4b", "missing"),
        passage(data, "7.4b", "p47", False),
        passage(data, "7.1a", "p7", True),  # a near-miss that is evidence
        passage(data, "7.1c", "p29", True, kind="added_evidence"),
        status(data, "3.2b", "weak"),
    ]


def write(tmp_path: Path, export: dict, name: str = "review.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    return path


def do_import(*args: str):
    return runner.invoke(feedback_app, ["import", *args])


def test_the_page_embeds_the_reports_verdict(welder):
    data, report = welder["data"], welder["report"]
    assert data["document"]["sha256"] == report["document"]["sha256"]
    assert {cid: c["status"] for cid, c in data["clauses"].items()} == {c["id"]: c["status"] for c in report["clauses"]}
    assert data["passages"] == {p["id"]: [p["start"], p["end"], p["kind"]] for p in report["passages"]}
    assert data["comparison_clauses"] == {"7.1": "7.1c", "7.2": "7.2c", "7.3": "7.3c"}


def test_import_writes_a_gold_file_the_corpus_checks_accept(welder, tmp_path, guideline):
    data = welder["data"]
    export = write(tmp_path, make_export(data, corrections_of_a_careful_reviewer(data), reviewer="李复核"))
    into = tmp_path / "feedback"
    result = do_import(str(export), "--into", str(into), "--narrative", str(SAMPLES))
    assert result.exit_code == 0, result.output
    assert re.fullmatch(
        r"written \S+\.gold\.json: 8 decisions \(7 changed\), split \w+, narrative \S+\n", result.stdout
    )
    assert feedback.check_feedback_folder(into, guideline) == []
    (document,) = feedback.load_feedback(into)
    gold, block = document.gold, document.feedback
    assert gold.annotator == "李复核" and gold.writer == f"submission-{data['document']['sha256'][:12]}"
    assert document.path.name.startswith("welder-structured-gbk-373c708d.")
    # The narrative is copied beside its gold file, byte for byte.
    assert gold.path.read_bytes() == STRUCTURED.read_bytes()
    assert check_gold(gold, guideline) == []
    # Corrections applied; everything the reviewer left alone is the tool's verdict (silence confirms).
    expected = {cid: c["status"] for cid, c in data["clauses"].items()}
    expected.update({"3.1c": "missing", "7.4b": "missing", "3.2b": "weak"})
    assert gold.clause_status == expected
    text = read_document(STRUCTURED).text

    def cites(pid):
        start = data["passages"][pid][0]
        return next(p.clauses for p in gold.paragraphs if p.start <= start < p.end)

    assert "3.1c" not in cites("p17") and "7.4b" not in cites("p47")
    assert {"7.1a", "7.1c"} <= cites("p7") | cites("p29") and "7.1c" in cites("p29")
    assert "1.1a" in cites("p3")  # unchanged evidence stays
    assert all(text[p.start : p.end] == text[p.start : p.end].strip() for p in gold.paragraphs)
    assert block["silence"] == "confirmed" and block["reviewer"] == "李复核"
    assert block["status_decisions"]["1.1a"] == {"tool": "covered", "value": "covered"}
    assert block["tool_clause_status"]["3.1c"] == "covered"
    added = [d for d in block["passage_decisions"] if d["tool"] == "added"]
    assert added == [
        {
            "clause": "7.1c",
            "passage": "p29",
            "start": data["passages"]["p29"][0],
            "end": data["passages"]["p29"][1],
            "tool": "added",
            "value": True,
        }
    ]


def test_the_imported_gold_agrees_with_the_written_gold_where_corrected(welder, tmp_path, guideline):
    """The careful reviewer's statuses match the written gold of the same text on the clauses corrected."""
    from evidence_nlp.evaluate import load_gold

    data = welder["data"]
    into = tmp_path / "feedback"
    export = write(tmp_path, make_export(data, corrections_of_a_careful_reviewer(data), reviewer="李复核"))
    assert do_import(str(export), "--into", str(into), "-n", str(STRUCTURED)).exit_code == 0
    (document,) = feedback.load_feedback(into)
    written = load_gold(ANNOTATED / "weld_craftsman_zhou.gold.json")
    for cid in ("3.1c", "7.4b", "3.2b", "1.1a"):
        assert document.gold.clause_status[cid] == written.clause_status[cid]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e: e["document"].update(sha256="0" * 64), "no narrative with SHA-256 000000000000…"),
        (lambda e: e["corrections"][2].update(start=e["corrections"][2]["start"] + 1), "gives offsets"),
        (lambda e: e["tool_verdict"]["passages"]["p5"].__setitem__(1, 99999), "passage p5 is ["),
        (lambda e: e["tool_verdict"]["passages"].update(p999=[0, 3, "text"]), "p999 [0:3] is not a passage"),
        (lambda e: e["document"].update(chars=5), "the export counts 5 characters"),
        (lambda e: e["guideline"].update(id="other-guide"), "made with guideline 'other-guide'"),
        (lambda e: e.update(format="something"), "not a reviewer-page export"),
        (lambda e: e.pop("tool_verdict"), "not a reviewer-page export (bad or missing 'tool_verdict')"),
    ],
)
def test_a_mismatched_export_is_one_clear_line(welder, tmp_path, change, message):
    export = make_export(welder["data"], corrections_of_a_careful_reviewer(welder["data"]), reviewer="李复核")
    change(export)
    path = write(tmp_path, export)
    result = do_import(str(path), "--into", str(tmp_path / "fb"), "-n", str(SAMPLES))
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith(f"error: {path}: ")
    assert message in result.stderr
    assert not list(tmp_path.glob("fb/*.gold.json"))


def test_a_named_narrative_with_another_sha256_is_refused(welder, tmp_path):
    other = tmp_path / "other.txt"
    other.write_text(read_document(STRUCTURED).text + "\n补充一句。\n", encoding="utf-8")
    path = write(tmp_path, make_export(welder["data"], [status(welder["data"], "1.1a", "covered")]))
    result = do_import(str(path), "--into", str(tmp_path / "fb"), "-n", str(other))
    assert result.exit_code == 1
    assert f"but {other} has SHA-256" in result.stderr and "373c708d9c7b…" in result.stderr


@pytest.mark.parametrize(
    ("corrections", "message"),
    [
        (lambda d: [status(d, "2.1a", "covered")], "2.1a is 'covered' but no passage is evidence for it"),
        (lambda d: [passage(d, "2.1a", "p11", True, kind="added_evidence")], "2.1a is still the tool's 'missing'"),
        (lambda d: [status(d, "1.1a", "missing"), passage(d, "1.1a", "p3", True)], "1.1a is set to 'missing'"),
        (lambda d: [comparison(d, "7.2", "trend", True), comparison(d, "7.2", "past", False)], "7.2: a trend is"),
        (lambda d: [status(d, "7.1c", "missing")], "7.1c set to 'missing', but the comparisons of 7.1 make it"),
        (
            lambda d: [
                comparison(d, "7.2", "past", True),
                comparison(d, "7.2", "benchmark", False),
                comparison(d, "7.2", "trend", False),
                *(passage(d, "7.2c", pid, False) for pid in d["clauses"]["7.2c"]["evidence"]),
            ],
            "7.2c is 'weak' but no passage is evidence",
        ),
        (lambda d: [{"type": "clause_status", "clause": "9.9z", "value": "weak"}], "clause '9.9z'"),
        (lambda d: [passage(d, "1.1a", "p1", True, kind="added_evidence")], "headings cite nothing"),
    ],
)
def test_inconsistent_corrections_are_refused(welder, tmp_path, corrections, message):
    path = write(tmp_path, make_export(welder["data"], corrections(welder["data"])))
    result = do_import(str(path), "--into", str(tmp_path / "fb"), "-n", str(SAMPLES))
    assert result.exit_code == 1 and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_removing_all_evidence_of_a_clause_makes_it_missing(welder, tmp_path, guideline):
    data = welder["data"]
    path = write(tmp_path, make_export(data, [passage(data, "1.2c", "p8", False)], reviewer="周"))
    assert do_import(str(path), "--into", str(tmp_path / "fb"), "-n", str(SAMPLES)).exit_code == 0
    (document,) = feedback.load_feedback(tmp_path / "fb")
    assert document.gold.clause_status["1.2c"] == "missing"
    assert document.feedback["derived"] == {"1.2c": "no evidence left after the reviewer's corrections"}
    assert check_gold(document.gold, guideline) == []


def test_reviewers_never_overwrite_each_other(welder, tmp_path):
    data = welder["data"]
    into = tmp_path / "fb"
    first = write(tmp_path, make_export(data, [status(data, "3.2b", "weak")], reviewer="李复核"), "a.json")
    second = write(tmp_path, make_export(data, [status(data, "3.2b", "covered")], reviewer="王复核"), "b.json")
    assert do_import(str(first), str(second), "--into", str(into), "-n", str(SAMPLES)).exit_code == 0
    files = sorted(into.glob("*.gold.json"))
    assert len(files) == 2
    # The same reviewer's later export replaces their file; an earlier one never does.
    later = write(
        tmp_path,
        make_export(
            data,
            [status(data, "3.2b", "missing"), passage(data, "3.2b", "p19", False)],
            reviewer="李复核",
            exported_at="2025-04-01T00:00:00.000Z",
        ),
        "c.json",
    )
    result = do_import(str(later), "--into", str(into), "-n", str(SAMPLES))
    assert result.exit_code == 0 and result.stdout.startswith("replaced ")
    result = do_import(str(first), "--into", str(into), "-n", str(SAMPLES))
    assert result.exit_code == 0 and result.stdout.startswith("kept ")
    statuses = {d.gold.annotator: d.gold.clause_status["3.2b"] for d in feedback.load_feedback(into)}
    assert statuses == {"李复核": "missing", "王复核": "covered"}
    # A file at the target name that holds someone else's review is refused, left as it was.
    target = next(f for f in files if json.loads(f.read_text(encoding="utf-8"))["annotator"] == "王复核")
    forged = json.loads(target.read_text(encoding="utf-8"))
    forged["annotator"] = "别人"
    target.write_text(json.dumps(forged, ensure_ascii=False), encoding="utf-8")
    before = target.read_bytes()
    result = do_import(str(second), "--into", str(into), "-n", str(SAMPLES))
    assert result.exit_code == 1 and "holds '别人''s review, not '王复核''s; not overwritten" in result.stderr
    assert target.read_bytes() == before
    # Anonymous exports each get their own file.
    anonymous = [
        write(tmp_path, make_export(data, [status(data, "1.2c", s)]), f"anon-{s}.json") for s in ("weak", "covered")
    ]
    assert do_import(*map(str, anonymous), "--into", str(into), "-n", str(SAMPLES)).exit_code == 0
    assert len(list(into.glob("*anonymous-*.gold.json"))) == 2


def test_splits_follow_the_document_sha256(welder, tmp_path):
    data = welder["data"]
    into = tmp_path / "fb"
    path = write(tmp_path, make_export(data, [status(data, "1.1a", "covered")], reviewer="李复核"))
    assert do_import(str(path), "--into", str(into), "-n", str(SAMPLES)).exit_code == 0
    splits = json.loads((into / "splits.json").read_text(encoding="utf-8"))
    expected = feedback.split_for(data["document"]["sha256"])
    assert splits[expected] == [feedback.document_name(feedback.read_export(path))]
    assert [s for s in ("train", "dev", "test") if splits[s]] == [expected]
    assert feedback.split_for("0" * 64) == "test" and feedback.split_for("1" + "0" * 63) == "train"


def test_stats_count_changes_and_agreement(welder, tmp_path, guideline):
    data = welder["data"]
    into = tmp_path / "fb"
    first = make_export(data, corrections_of_a_careful_reviewer(data), reviewer="李复核")
    second = make_export(data, [status(data, "3.2b", "weak"), status(data, "1.1b", "weak")], reviewer="王复核")
    paths = [write(tmp_path, first, "a.json"), write(tmp_path, second, "b.json")]
    assert do_import(*map(str, paths), "--into", str(into), "-n", str(SAMPLES)).exit_code == 0
    stats = feedback.feedback_statistics(into, guideline)
    rows = {r["clause"]: r for r in stats["per_clause"]}
    assert rows["3.2b"]["status_changed"] == 2 and rows["3.2b"]["change_rate"] == 1.0
    assert rows["3.1c"]["status_changed"] == 1 and rows["1.1a"]["status_changed"] == 0
    assert rows["3.1c"]["corrections"] == 2  # its status and its passage
    assert stats["most_corrected"][0]["clause"] in ("3.1c", "7.4b", "3.2b")
    agreement = stats["agreement"]
    assert agreement["pairs"] == 1
    # They differ on 3.1c, 7.4b (only the first changed them) and 1.1b (only the second): 36 of 39.
    assert agreement["status_agreement"] == pytest.approx(36 / 39, abs=1e-4)
    # Clauses either decided: 1.1a, 3.1c, 7.4b, 3.2b, 1.1b; they agree on 1.1a and 3.2b.
    assert agreement["decided_status_agreement"] == pytest.approx(2 / 5, abs=1e-4)
    # Two reviews of one narrative: the folder still passes the corpus checks (one narrative, two files).
    assert feedback.check_feedback_folder(into, guideline) == []
    result = runner.invoke(feedback_app, ["stats", str(into)])
    assert result.exit_code == 0, result.output
    assert "2 feedback gold files on 1 documents by 2 reviewers" in result.stdout
    assert re.search(r"3\.2b\s+2 of\s+2 reviews\s+\(100%\)", result.stdout)
    assert "李复核 / 王复核" in result.stdout or "王复核 / 李复核" in result.stdout


def test_stats_and_check_of_an_empty_folder(tmp_path):
    result = runner.invoke(feedback_app, ["stats", str(tmp_path)])
    assert result.exit_code == 2 and "no feedback gold files" in result.stderr


def test_one_bad_export_does_not_stop_the_others(welder, tmp_path):
    data = welder["data"]
    good = write(tmp_path, make_export(data, [status(data, "1.1a", "covered")], reviewer="李复核"), "good.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    result = do_import(str(bad), str(good), "--into", str(tmp_path / "fb"), "-n", str(SAMPLES))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {bad}: not JSON") and result.stdout.startswith("written ")


def test_training_documents_add_feedback_but_no_held_out_text(analyzer, welder, tmp_path):
    """train --with-feedback: the feedback train split joins the corpus's train split; a feedback
    document that is a held-out (dev/test) narrative is left out."""
    data = welder["data"]
    into = tmp_path / "fb"
    welder_export = write(tmp_path, make_export(data, corrections_of_a_careful_reviewer(data), reviewer="李复核"))
    assert do_import(str(welder_export), "--into", str(into), "-n", str(SAMPLES)).exit_code == 0
    held_out = ANNOTATED / "aquaculture_tech_zhou.txt"  # a test-split narrative
    shutil.copy(held_out, tmp_path / "submitted.txt")
    analysis = analyzer.analyze(tmp_path / "submitted.txt")
    report = build_report(analysis)
    page = render.render_reviewer_html(analysis, report)
    other = json.loads(html.unescape(re.search(r'data-review="([^"]*)"', page).group(1)))
    first = next(cid for cid, c in other["clauses"].items() if c["status"] == "covered")
    other_export = write(tmp_path, make_export(other, [status(other, first, "covered")], reviewer="王复核"), "o.json")
    assert do_import(str(other_export), "--into", str(into), "-n", str(tmp_path)).exit_code == 0
    splits = json.loads((into / "splits.json").read_text(encoding="utf-8"))
    names = sorted({*splits["train"], *splits["test"]})
    (into / "splits.json").write_text(json.dumps({"train": names, "dev": [], "test": []}), encoding="utf-8")
    chosen = feedback.training_documents(ANNOTATED, into)
    assert [Path(p).name.split(".")[0] for p in chosen.feedback] == ["welder-structured-gbk-373c708d"]
    assert [Path(p).name.split(".")[0] for p in chosen.left_out] == [f"submitted-{other['document']['sha256'][:8]}"]
    corpus_train = json.loads((ANNOTATED / "splits.json").read_text(encoding="utf-8"))["train"]
    assert len(chosen.train) == len(corpus_train) + 1 and chosen.train[-1].annotator == "李复核"
    assert {d.name for d in chosen.dev} == set(json.loads((ANNOTATED / "splits.json").read_text())["dev"])
    # The model manifest hashes each training document's own gold file (NAME.<reviewer>.gold.json).
    from evidence_nlp.train import corpus_hash

    assert chosen.train[-1].gold_path.name.endswith(".gold.json") and chosen.train[-1].gold_path.is_file()
    assert corpus_hash(chosen.train) != corpus_hash(chosen.train[:-1])


def test_evaluate_feedback_reports_the_reviewers_decisions_apart(analyzer, welder, tmp_path):
    data = welder["data"]
    into = tmp_path / "fb"
    export = write(tmp_path, make_export(data, corrections_of_a_careful_reviewer(data), reviewer="李复核"))
    assert do_import(str(export), "--into", str(into), "-n", str(SAMPLES)).exit_code == 0
    result = feedback.evaluate_feedback(analyzer, into, "all")
    reviewed = result["reviewed"]
    # The tool that made the page agrees with the reviewer on 1.1a only among the 4 status decisions
    # (3.1c, 7.4b and 3.2b were changed).
    assert reviewed["status_decisions"] == 4 and reviewed["status_accuracy"] == pytest.approx(1 / 4)
    # Passages: does the tool's paragraph-level assignment (the matches evaluate scores) cite the clause?
    analysis = welder["analysis"]
    paragraph_of = {p.id: p.paragraph for p in analysis.segmentation.passages}
    assigned = {m.passage_id: {c.clause_id for c in m.clauses} for m in analysis.matches}
    decisions = [("3.1c", "p17", False), ("7.4b", "p47", False), ("7.1a", "p7", True), ("7.1c", "p29", True)]
    agree = [
        value
        == any(
            cid in assigned.get(p.id, ()) for p in analysis.segmentation.passages if p.paragraph == paragraph_of[pid]
        )
        for cid, pid, value in decisions
    ]
    assert reviewed["passage_decisions"] == 4
    assert reviewed["passage_accuracy"] == pytest.approx(sum(agree) / 4, abs=1e-4) and not all(agree)
    assert result["overall"]["documents"] == 1
    # The gold keeps every unchanged verdict, so the overall status accuracy is 36 of 39.
    assert result["overall"]["status_accuracy"] == pytest.approx(36 / 39, abs=1e-4)
    text = feedback.format_feedback_evaluation(result)
    assert "unchanged verdicts count as confirmed" in text and "    4 decisions  agreement 0.250" in text
    assert feedback.split_for(data["document"]["sha256"]) == "train"  # so the held-out split is empty
    with pytest.raises(feedback.FeedbackError, match="split 'test' has no feedback documents"):
        feedback.evaluate_feedback(analyzer, into, "test")


def test_an_unknown_correction_is_refused(welder, tmp_path):
    export = make_export(welder["data"], corrections_of_a_careful_reviewer(welder["data"]), reviewer="李复核")
    export["corrections"].append({"type": "mystery"})
    result = do_import(str(write(tmp_path, export)), "--into", str(tmp_path / "fb"), "-n", str(SAMPLES))
    assert result.exit_code == 1 and "unknown correction type 'mystery'" in result.stderr
