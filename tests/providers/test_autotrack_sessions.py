"""qiskit-ibm-runtime's Session and Batch, used with autotrack on, show as one qmon session."""

from __future__ import annotations

import pytest

from qmon_jupyter.providers.autotrack import autotrack

from .._support import wait_until

pytest.importorskip("qiskit_aer")
pytest.importorskip("qiskit_ibm_runtime")

from qiskit import QuantumCircuit, transpile
from qiskit_ibm_runtime import Batch, SamplerV2, Session
from qiskit_ibm_runtime.fake_provider import FakeManilaV2

TIMEOUT = 30.0

pytestmark = pytest.mark.filterwarnings(
    "ignore:The SamplerV2 class is deprecated:DeprecationWarning"
)


def bell(name: str) -> QuantumCircuit:
    circuit = QuantumCircuit(2, name=name)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    return circuit


@pytest.fixture
def tracking(monitor):
    autotrack(enabled=True, monitor=monitor)
    yield monitor
    autotrack(enabled=False)


@pytest.mark.parametrize("mode", [Session, Batch])
def test_the_jobs_of_a_runtime_session_are_one_group(tracking, manager, mode):
    backend = FakeManilaV2()
    circuits = [transpile(bell(f"bell {i}"), backend, seed_transpiler=1) for i in range(3)]
    with mode(backend=backend) as runtime_session:
        sampler = SamplerV2(mode=runtime_session)
        runtime_jobs = [sampler.run([c], shots=100) for c in circuits]
        for runtime_job in runtime_jobs:
            runtime_job.result()
    sessions = [j for j in manager.jobs() if str(j.type) == "session"]
    assert [s.name for s in sessions] == [f"{mode.__name__} on fake_manila"]
    (group,) = sessions
    children = [j for j in manager.jobs() if j.parent_id == group.id]
    assert sorted(c.name for c in children) == ["bell 0", "bell 1", "bell 2"]
    assert len(manager.jobs()) == 4  # nothing inside a runtime job shows apart
    assert group.wait(TIMEOUT)  # when the monitor has seen its last job end
    assert str(group.status) == "completed"
    snap = group.snapshot()
    assert (snap["done"], snap["total"]) == (3, 3)
    assert snap["result_summary"]["shots"] == 300


def test_a_runtime_session_with_autotrack_off_is_not_grouped(monitor, manager):
    backend = FakeManilaV2()
    with Session(backend=backend) as runtime_session:
        SamplerV2(mode=runtime_session).run([transpile(bell("b"), backend)], shots=10).result()
    assert manager.jobs() == []


def test_jobs_after_the_runtime_session_are_top_level(tracking, manager):
    backend = FakeManilaV2()
    with Session(backend=backend):
        pass
    SamplerV2(mode=backend).run([transpile(bell("after"), backend)], shots=10)
    assert wait_until(lambda: [j for j in manager.jobs() if j.name == "after"], TIMEOUT)
    after = next(j for j in manager.jobs() if j.name == "after")
    assert after.parent_id is None
