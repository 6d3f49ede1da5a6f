"""The one snapshot schema."""

from __future__ import annotations

import json
import re

from qmon_jupyter.core import SNAPSHOT_KEYS

from .conftest import TIMEOUT, ghz

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_a_snapshot_has_every_schema_key_and_is_json(manager):
    job = manager.submit(ghz(3), shots=100, seed=1, name="bell")
    job.result(TIMEOUT)
    snap = job.snapshot()
    assert tuple(snap)[: len(SNAPSHOT_KEYS)] == SNAPSHOT_KEYS
    assert json.loads(json.dumps(snap, allow_nan=False)) == snap
    assert snap["schema"] == 1
    assert re.fullmatch(r"[0-9a-f]{12}", snap["id"])
    for key in ("created_at", "started_at", "finished_at", "updated_at"):
        assert ISO.match(snap[key]), key
    assert snap["capabilities"] == {
        "cancel": True,
        "pause": True,
        "queue_position": True,
        "eta": True,
    }
    assert snap["kernel_id"] == manager.kernel_id
    assert snap["owner"] == manager.owner
    assert snap["seed"] == 1
    assert snap["error"] is None
    assert snap["result_summary"]["shots"] == 100
    assert {k for k, _ in snap["result_summary"]["top"]} <= {"000", "111"}


def test_a_queued_snapshot_has_its_position_and_no_times(manager):
    from .conftest import Gate

    gates = [Gate() for _ in range(5)]
    jobs = [manager.submit_function(g) for g in gates]
    snap = jobs[4].snapshot()
    assert (snap["status"], snap["queue_position"]) == ("queued", 1)
    assert snap["started_at"] is None
    assert snap["elapsed_s"] is None
    for g in gates:
        g.finish()
    assert all(j.wait(TIMEOUT) for j in jobs)


def test_kernel_id_outside_a_kernel_is_the_pid(manager):
    import os

    assert manager.kernel_id == f"pid-{os.getpid()}"
