"""The served OpenAPI ``Job`` schema declares, and accepts, every real job snapshot.

The snapshots come from a real JobManager: a simulation, a function job, a
provider's job, a failed, a cancelled and a resumed one; then the same jobs
as GET jobs and GET jobs/{id} serve them from the store.
"""

from __future__ import annotations

import asyncio

import pytest
from jsonschema import Draft202012Validator

from qmon_jupyter.core.snapshot import FIELDS
from qmon_jupyter.server.openapi import openapi_document

from .._support import BELL
from .conftest import body

TIMEOUT = 60.0


class _Provider:
    """A provider job's controls (a real adapter's controller has the same three)."""

    def cancel(self) -> None:
        pass

    def pause(self) -> None:
        pass

    def resume(self) -> None:
        pass


def _fails(reporter, token):
    reporter.update(1)
    raise ValueError("no convergence")


def _waits(reporter, token):
    while True:
        token.check()
        reporter.update(1)


def _returns(reporter, token):
    reporter.update(3)
    return 3


def _real_jobs(manager) -> list:
    """Jobs of every kind and ending, each finished or settled."""
    simulation = manager.submit(BELL, shots=256, seed=5, name="bell")
    resumed = manager.submit(BELL, shots=256, seed=5, name="bell again", resumed_from="0123abcd")
    function = manager.submit_function(_returns, name="sums", total=3)
    failed = manager.submit_function(_fails, name="fails")
    cancelled = manager.submit_function(_waits, name="waits")
    provider = manager.add_external_job(
        name="bell on qpu",
        backend="emulator",
        controller=_Provider(),
        capabilities={"cancel": True, "pause": False, "queue_position": True, "eta": False},
        provider={"name": "emulator", "job_id": "p-1"},
    )
    provider.apply_external(status="queued", queue_position=3, provider={"status": "QUEUED"})
    queued_provider = manager.add_external_job(
        name="still queued",
        backend="emulator",
        controller=_Provider(),
        capabilities={"cancel": True, "pause": False, "queue_position": True, "eta": False},
    )
    queued_provider.apply_external(status="queued", queue_position=9)
    cancelled.cancel("enough")
    for job in (simulation, resumed, function, failed, cancelled):
        assert job.wait(TIMEOUT), job
    assert [j.status.value for j in (simulation, function, failed, cancelled)] == [
        "completed",
        "completed",
        "failed",
        "cancelled",
    ]
    return [simulation, resumed, function, failed, cancelled, provider, queued_provider]


@pytest.fixture
def job_schema():
    return openapi_document()["components"]["schemas"]["Job"]


def _check(schema, snap) -> None:
    undeclared = set(snap) - set(schema["properties"])
    assert not undeclared, f"snapshot keys the OpenAPI Job schema does not declare: {undeclared}"
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(snap)]
    assert not errors, (snap["id"], snap["status"], errors)


def test_the_job_schema_is_the_snapshot_field_table(job_schema):
    assert list(job_schema["properties"]) == [f.name for f in FIELDS]
    assert set(job_schema["required"]) == {f.name for f in FIELDS if f.always}
    Draft202012Validator.check_schema(job_schema)


def test_every_real_snapshot_is_declared_and_valid(job_schema):
    from qmon_jupyter.jobs import JobManager

    with JobManager(kernel_id="k-schema") as manager:
        try:
            snaps = [job.snapshot() for job in _real_jobs(manager)]
        finally:
            manager.shutdown(cancel_running=True)
    assert {s["status"] for s in snaps} == {"completed", "failed", "cancelled", "queued"}
    assert any("resumed_from" in s for s in snaps)
    for snap in snaps:
        _check(job_schema, snap)


def test_the_schema_refuses_what_no_snapshot_may_be(job_schema):
    from qmon_jupyter.jobs import JobManager

    with JobManager(kernel_id="k-schema") as manager:
        job = manager.submit_function(_returns, name="sums", total=3)
        assert job.wait(TIMEOUT)
        snap = job.snapshot()
    validator = Draft202012Validator(job_schema)
    assert validator.is_valid(snap)
    assert not validator.is_valid({**snap, "status": "exploded"})
    assert not validator.is_valid({**snap, "progress": 1.5})
    assert not validator.is_valid({k: v for k, v in snap.items() if k != "created_at"})
    assert validator.is_valid({**snap, "finished_at": None})  # nullable
    assert not validator.is_valid({**snap, "owner": None})  # not nullable


async def test_served_snapshots_match_the_served_job_schema(jp_fetch, store):
    from qmon_jupyter.jobs import JobManager
    from qmon_jupyter.kernel import StoreWriter

    doc = body(await jp_fetch("api", "qmon", "openapi.json"))
    schema = doc["components"]["schemas"]["Job"]
    manager = JobManager(kernel_id="k-served")
    writer = StoreWriter(manager, store)
    try:
        jobs = await asyncio.to_thread(_real_jobs, manager)
        manager.events.flush(10)
        assert await asyncio.to_thread(writer.flush, 10)
        listed = body(await jp_fetch("api", "qmon", "jobs"))["jobs"]
        assert {j["id"] for j in listed} == {job.id for job in jobs}
        for snap in listed:
            _check(schema, snap)
        for job in jobs:
            one = body(await jp_fetch("api", "qmon", "jobs", job.id))
            assert one["id"] == job.id
            _check(schema, one)
    finally:
        writer.close()
        manager.shutdown(cancel_running=True)


def test_a_detached_snapshot_is_declared_and_valid(job_schema, store):
    from .conftest import FakeKernel

    kernel = FakeKernel(store, "k-detached")
    locator = {"kind": "emulator", "url": "http://127.0.0.1:9", "job_id": "emu-1", "shots": 8}
    snap = kernel.add(type="hardware", status="queued", provider={"locator": locator})
    store.mark_kernel_dead(kernel.kernel_id)
    detached = store.get_job(snap["id"])
    assert detached["detached"] is True
    _check(job_schema, detached)
    assert not Draft202012Validator(job_schema).is_valid({**detached, "detached": "yes"})
