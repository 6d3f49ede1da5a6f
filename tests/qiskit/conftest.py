"""Fixtures for the Qiskit primitives: a manager that always shuts down."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from qmon_jupyter.jobs import JobManager

if TYPE_CHECKING:
    from collections.abc import Iterator

pytest.importorskip("qiskit", reason="the qiskit extra is not installed")


@pytest.fixture
def manager() -> Iterator[JobManager]:
    manager = JobManager(max_concurrent_jobs=2, kernel_id="qiskit-test")
    try:
        yield manager
    finally:
        manager.shutdown(wait=True, cancel_futures=True, cancel_running=True)
