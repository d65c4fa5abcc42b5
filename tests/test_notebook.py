"""Execute the evaluation notebook headless so it cannot rot."""

from __future__ import annotations

import nbformat
from nbclient import NotebookClient

from .conftest import ROOT


def test_evaluation_notebook_runs(monkeypatch):
    monkeypatch.setenv("EVIDENCE_NLP_ROOT", str(ROOT))
    monkeypatch.setenv("EVIDENCE_NLP_SPLIT", "dev")
    notebook = nbformat.read(ROOT / "notebooks" / "evaluation.ipynb", as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT / "notebooks")}}
    ).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "split dev:" in text and "with headings" in text
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the plots were drawn
