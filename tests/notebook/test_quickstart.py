"""notebooks/quickstart.ipynb runs top to bottom in a real kernel."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from .conftest import execute_notebook

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "quickstart.ipynb"
WIDGET = "application/vnd.jupyter.widget-view+json"


def _outputs(nb):
    for cell in nb.cells:
        if cell.cell_type == "code":
            yield from cell.outputs


def _text(nb):
    parts = []
    for out in _outputs(nb):
        if out.output_type == "stream":
            parts.append(out.text)
        elif "data" in out:
            parts.append(str(out.data.get("text/plain", "")))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    return execute_notebook(nbformat.read(NOTEBOOK, as_version=4), tmp_path_factory)


def test_the_quickstart_runs_without_errors(executed):
    errors = [out for out in _outputs(executed) if out.output_type == "error"]
    assert errors == [], [f"{e.ename}: {e.evalue}" for e in errors]


def test_the_quickstart_shows_the_dashboard_and_live_job_widgets(executed):
    widgets = [out for out in _outputs(executed) if WIDGET in out.get("data", {})]
    assert len(widgets) >= 3
    text = _text(executed)
    assert "ExecutionDashboard" in text
    assert "JobWidget" in text


def test_the_quickstart_demonstrates_each_step(executed):
    text = _text(executed)
    assert "'00'" in text  # the Bell counts
    assert "'11'" in text
    assert "line 5 of the cell, column 5" in text  # the OpenQASM mistake, as the editor counts
    assert "after pause: paused" in text
    assert "after resume: running" in text
    assert "finally: completed converged" in text
    assert "cancelled as asked" in text
    assert "parameter sweep" in text  # %qmon jobs lists the loop
    assert "success_rate" in text


def test_the_committed_notebook_has_no_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
