"""A tracked provider job says where it can be found again (never with a credential).

The locator is what ``qmon.reattach()`` reads in another process once the
job's kernel died; the rest of that story is in ``tests/server/test_detached.py``.
"""

from __future__ import annotations

import json

import pytest

from qmon_jupyter.core.snapshot import FIELDS, SNAPSHOT_KEYS
from qmon_jupyter.providers import EmulatorProvider

from .conftest import TIMEOUT, bell


def test_an_emulator_job_is_located_by_its_url_and_id_never_its_token(qpu, monitor):
    qpu.set_token("s3cret-token")
    provider = EmulatorProvider(qpu.url, token="s3cret-token", poll_interval=0.05, monitor=monitor)
    job = provider.submit(bell(), shots=64, seed=3, device="emu-8q")
    assert job.wait(TIMEOUT)
    snap = job.snapshot()
    assert snap["provider"]["locator"] == {
        "kind": "emulator",
        "url": qpu.url,
        "job_id": snap["provider"]["job_id"],
        "device": "emu-8q",
        "shots": 64,
    }
    assert "s3cret-token" not in json.dumps(snap)
    assert "detached" not in snap  # a job its kernel follows is not detached


def test_a_url_with_credentials_in_it_is_located_without_them(qpu):
    from qmon_jupyter.providers.emulator_client import EmulatorJob

    provider = EmulatorProvider(qpu.url.replace("http://", "http://alice:pw@"))
    locator = EmulatorJob(provider, "emu-1", device=None, shots=1).locator()
    assert locator["url"] == qpu.url


def test_track_keeps_a_given_job_id_once_per_manager(qpu, monitor):
    provider = EmulatorProvider(qpu.url, poll_interval=0.05, monitor=monitor)
    remote = provider.create_job(bell(), shots=16, seed=2)
    from qmon_jupyter.providers.emulator_client import EmulatorJob

    handle = EmulatorJob(provider, remote["id"], device=remote.get("device"), shots=16)
    job = monitor.track(handle, job_id="0123456789ab")
    assert job.id == "0123456789ab"
    assert sum(job.result(TIMEOUT).counts.values()) == 16
    assert monitor.track(handle, job_id="0123456789ab") is job  # the same provider job: deduped
    other = provider.create_job(bell(), shots=16, seed=3)
    second = EmulatorJob(provider, other["id"], device=other.get("device"), shots=16)
    with pytest.raises(ValueError, match="already has a job '0123456789ab'"):
        monitor.track(second, job_id="0123456789ab")


def test_detached_is_an_optional_boolean_of_the_snapshot():
    field = {f.name: f for f in FIELDS}["detached"]
    assert (field.schema, field.nullable, field.always) == ({"type": "boolean"}, False, False)
    assert "detached" not in SNAPSHOT_KEYS
