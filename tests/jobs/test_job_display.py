"""How a job shows itself outside a kernel: IPython falls back to an informative repr."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

import pytest

import qmon_jupyter
from qmon_jupyter.core.identity import detect_kernel_id
from qmon_jupyter.jobs import JobManager

from .._support import BELL


@pytest.fixture
def shell():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    yield shell
    InteractiveShell.clear_instance()


@pytest.fixture
def finished_job():
    manager = JobManager(max_concurrent_jobs=1, kernel_id="test-kernel")
    try:
        job = manager.submit(BELL, shots=100, seed=1, name="bell pair")
        assert job.wait(timeout=30)
        yield job
    finally:
        manager.shutdown(wait=True, cancel_futures=True)
        manager.events.close()


def test_repr_names_the_job_its_id_status_and_progress(finished_job):
    text = repr(finished_job)
    assert "'bell pair'" in text
    assert f"id={finished_job.id}" in text
    assert "completed" in text
    assert "100%" in text


def test_ipython_outside_a_kernel_displays_the_text_repr(shell, finished_job):
    data, metadata = shell.display_formatter.format(finished_job)
    assert data == {"text/plain": repr(finished_job)}
    assert metadata == {}


def test_a_shell_without_a_kernel_gets_the_text_repr_even_with_ipykernel_loaded(
    shell, finished_job
):
    # The widget display is registered and ipykernel is imported, but this
    # shell has no kernel: the widget side declines and the repr is shown.
    importlib.import_module("ipykernel.ipkernel")
    qmon_jupyter._register_job_display(shell)
    data, _ = shell.display_formatter.format(finished_job)
    assert data == {"text/plain": repr(finished_job)}


def test_an_ipython_cell_ending_in_a_job_prints_its_repr(shell, finished_job, capsys):
    shell.user_ns["job"] = finished_job
    result = shell.run_cell("job", store_history=False)
    assert result.success, result.error_in_exec
    assert repr(finished_job) in capsys.readouterr().out


def test_outside_a_kernel_the_kernel_id_names_the_process():
    assert detect_kernel_id() == f"pid-{os.getpid()}"


def test_importing_the_store_does_not_import_the_job_layer():
    code = "import sys, qmon_jupyter.store; print('qmon_jupyter.jobs' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "False"
