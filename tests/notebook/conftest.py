"""Fixtures for the notebook tests: a real JobManager and widget bookkeeping."""

from __future__ import annotations

import os
import threading
import time

import pytest
from IPython.core.interactiveshell import InteractiveShell

from qmon_jupyter.jobs import JobManager
from qmon_jupyter.widget import ExecutionDashboard, JobWidget
from qmon_jupyter.widget._sync import get_publisher

from .._support import wait_until


def execute_notebook(nb, tmp_path_factory):
    """Run ``nb`` in a real python3 kernel, with a store of its own (never the user's)."""
    from nbclient import NotebookClient

    client = NotebookClient(
        nb,
        timeout=60,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path_factory.mktemp("run"))}},
    )
    env = {**os.environ, "QMON_DB": str(tmp_path_factory.mktemp("nb") / "qmon.sqlite")}
    client.execute(env=env)
    return nb


def sync_threads():
    return [t for t in threading.enumerate() if t.name == "qmon-widget-sync" and t.is_alive()]


@pytest.fixture
def manager():
    m = JobManager(max_concurrent_jobs=4, kernel_id="test-kernel", progress_interval=0.02)
    yield m
    m.shutdown(wait=True, cancel_futures=True)
    m.events.close()


@pytest.fixture
def slow_fn():
    """A function job that takes ``steps`` steps of ``step_s`` each, cooperatively."""

    def run(reporter, token, steps=50, step_s=0.01, fail_at=None):
        reporter.set(0, steps)
        reporter.stage("working")
        for i in range(steps):
            token.check()
            if fail_at is not None and i == fail_at:
                raise ValueError("deliberate failure <b>not bold</b>")
            time.sleep(step_s)
            reporter.update(1)
        return steps

    return run


@pytest.fixture(autouse=True)
def _comms_without_a_kernel(monkeypatch):
    """Widgets open the ``comm`` package's stand-in comm, as outside any kernel.

    Importing ipykernel (other test folders start kernels) replaces
    ``comm.create_comm`` with a factory whose comms send nothing without a
    running kernel; these tests count what the widgets send, so they pin the
    package's own factory.
    """
    import comm

    monkeypatch.setattr(comm, "create_comm", comm.DummyComm)


@pytest.fixture(autouse=True)
def _no_widget_leaks():
    yield
    # Every test closes what it opens; the publisher then stops on its own.
    assert wait_until(lambda: get_publisher().subscriptions == 0, timeout=5)


@pytest.fixture(scope="module")
def shell():
    return InteractiveShell.instance()


@pytest.fixture
def ip(shell):
    """The shell with ``%load_ext qmon_jupyter``; then widgets closed, ``%reset -f``, unloaded."""
    shell.run_line_magic("load_ext", "qmon_jupyter")
    yield shell
    for value in list(shell.user_ns.values()):
        if isinstance(value, (JobWidget, ExecutionDashboard)):
            value.close()
    shell.run_line_magic("reset", "-f")
    shell.run_line_magic("unload_ext", "qmon_jupyter")  # also turns autotrack off
