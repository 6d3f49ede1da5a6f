"""In a real kernel, a cell ending in ``qmon.submit(...)`` displays the live job widget."""

from __future__ import annotations

import nbformat
import pytest

from .._support import BELL
from .conftest import execute_notebook

WIDGET = "application/vnd.jupyter.widget-view+json"

pytestmark = pytest.mark.slow

SUBMIT = f"""import qmon_jupyter as qmon
bell = {BELL!r}
qmon.submit(bell, shots=1000, seed=1, name="bell in a kernel")"""


@pytest.fixture(scope="module")
def notebook(tmp_path_factory):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(SUBMIT),
        nbformat.v4.new_code_cell("job = qmon.get_manager().jobs()[-1]\nprint(repr(job))"),
        nbformat.v4.new_code_cell("for i in qmon.progress(range(5), name='scan'):\n    pass"),
        nbformat.v4.new_code_cell("quiet = list(qmon.progress(range(3), display=False))"),
        nbformat.v4.new_code_cell("gone = list(qmon.progress(range(3), leave=False))"),
    ]
    return execute_notebook(nb, tmp_path_factory)


@pytest.fixture(scope="module")
def outputs(notebook):
    return [cell.outputs for cell in notebook.cells]


def widget_state(notebook, output):
    """The saved state of the widget an output displays (nbclient stores it)."""
    states = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    return states[output.data[WIDGET]["model_id"]]["state"]


def test_a_cell_ending_in_submit_displays_a_widget_view(outputs):
    results = [out for out in outputs[0] if out.output_type == "execute_result"]
    assert len(results) == 1, outputs[0]
    data = results[0].data
    assert WIDGET in data
    assert data[WIDGET]["model_id"]
    assert "JobWidget" in data["text/plain"]


def test_the_job_repr_in_a_kernel_stays_informative(outputs):
    text = "".join(out.text for out in outputs[1] if out.output_type == "stream")
    assert "<ExecutionJob 'bell in a kernel' id=" in text


def test_a_progress_loop_shows_its_widget_in_its_own_cell_like_tqdm(outputs):
    shown = [out for out in outputs[2] if out.output_type == "display_data"]
    assert len(shown) == 1, outputs[2]
    assert WIDGET in shown[0].data
    assert "JobWidget" in shown[0].data["text/plain"]
    assert not [out for out in outputs[3] if out.output_type == "display_data"]


def test_a_loop_is_a_compact_bar_and_a_submitted_job_a_card(notebook, outputs):
    (loop,) = [out for out in outputs[2] if out.output_type == "display_data"]
    (job,) = [out for out in outputs[0] if out.output_type == "execute_result"]
    assert widget_state(notebook, loop)["compact"] is True
    assert widget_state(notebook, loop)["job"]["name"] == "scan"
    assert widget_state(notebook, job)["compact"] is False


def test_leave_false_clears_the_loops_output_when_it_ends(outputs):
    shown = [out for out in outputs[4] if out.output_type == "display_data"]
    assert len(shown) == 1, outputs[4]
    assert WIDGET not in shown[0].data  # updated in place by its display id
    assert shown[0].data["text/plain"] == ""
