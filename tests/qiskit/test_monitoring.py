"""Each primitive run is one monitored qmon job: progress, cancel, pause and resume."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit.circuit.library import efficient_su2
from qiskit.providers import JobStatus as QiskitStatus
from qiskit.quantum_info import SparsePauliOp

from qmon_jupyter import JobCancelled
from qmon_jupyter.qiskit import QmonEstimator, QmonSampler

from .._support import wait_until


def _sweep(bindings: int, width: int = 10) -> tuple:
    ansatz = efficient_su2(width, reps=2)
    values = np.random.default_rng(0).uniform(0, np.pi, size=(bindings, ansatz.num_parameters))
    return ansatz, SparsePauliOp("Z" * width), values


def test_an_estimator_run_counts_its_bindings_as_steps(manager):
    ansatz, observable, values = _sweep(12, width=4)
    job = QmonEstimator(manager=manager, name="sweep").run([(ansatz, observable, values)])
    job.result(timeout=60)
    snapshot = job.qmon_job.snapshot()
    assert (snapshot["name"], snapshot["type"], snapshot["unit"]) == (
        "sweep",
        "simulation",
        "steps",
    )
    assert snapshot["done"] == snapshot["total"] == 12
    assert job.status() is QiskitStatus.DONE
    assert job.done()
    assert job.in_final_state()


def test_a_sampler_run_counts_shots_over_every_pub_and_binding(manager):
    ansatz, _, values = _sweep(3, width=3)
    measured = ansatz.measure_all(inplace=False)
    job = QmonSampler(manager=manager).run([(measured, values, 100), (measured, values[0], 50)])
    job.result(timeout=60)
    assert job.qmon_job.snapshot()["total"] == 3 * 100 + 50


def test_cancel_stops_a_long_sweep_and_result_says_so(manager):
    ansatz, observable, values = _sweep(5000)
    job = QmonEstimator(manager=manager).run([(ansatz, observable, values)])
    wait_until(lambda: job.qmon_job.snapshot()["done"] >= 2)
    assert job.cancel()
    with pytest.raises(JobCancelled):
        job.result(timeout=30)
    assert job.cancelled()
    assert job.status() is QiskitStatus.CANCELLED
    assert job.qmon_job.snapshot()["done"] < 5000


def test_pause_holds_a_sweep_and_resume_finishes_it(manager):
    ansatz, observable, values = _sweep(400, width=8)
    job = QmonEstimator(manager=manager).run([(ansatz, observable, values)])
    wait_until(lambda: job.qmon_job.snapshot()["done"] >= 1)
    job.qmon_job.pause()
    wait_until(lambda: job.qmon_job.status.value == "paused")
    held = job.qmon_job.snapshot()["done"]
    assert not job.qmon_job.wait(0.3)  # a paused job makes no progress, whatever the wait
    assert job.qmon_job.snapshot()["done"] <= held + 1  # at most the binding in flight
    assert job.running()
    job.qmon_job.resume()
    evs = job.result(timeout=120)[0].data.evs
    assert evs.shape == (400,)
