"""Cancel, pause, resume and dismiss over REST: what is refused, what is queued, who is audited."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest

from .conftest import body, fetch_error


@pytest.mark.parametrize(
    "payload",
    [
        b"{not json",
        b"[1, 2]",
        b'"cancel"',
        b'{"reason": 5}',
        b'{"x": 1}',
        b'{"reason": "' + b"x" * 1001 + b'"}',
    ],
)
async def test_malformed_bodies_are_400_and_change_nothing(jp_fetch, store, kernel, payload):
    snap = kernel.add()
    code, err = await fetch_error(
        jp_fetch, "api", "qmon", "jobs", snap["id"], "cancel", method="POST", body=payload
    )
    assert code == 400
    assert err["message"]
    assert store.pending_commands("k-test") == []


async def test_cancel_answers_202_with_snapshot_and_queues_a_command(jp_fetch, store, kernel):
    snap = kernel.add()
    response = await jp_fetch(
        "api", "qmon", "jobs", snap["id"], "cancel", method="POST", body=b'{"reason": "oops"}'
    )
    assert response.code == 202
    assert body(response)["id"] == snap["id"]
    [command] = store.pending_commands("k-test")
    assert (command["job_id"], command["action"]) == (snap["id"], "cancel")


@pytest.mark.parametrize(
    ("action", "fields", "reason"),
    [
        ("cancel", {"status": "completed"}, "already completed"),
        ("pause", {"status": "completed"}, "already completed"),
        ("resume", {"status": "cancelled"}, "already cancelled"),
        ("pause", {"status": "queued"}, "only a running job can be paused"),
        ("resume", {"status": "pending"}, "only a paused job can be resumed"),
        ("pause", {"capabilities": {"cancel": True, "pause": False}}, "not supported"),
        (
            "resume",
            {"status": "paused", "capabilities": {"cancel": True, "pause": False}},
            "not supported",
        ),
        ("cancel", {"capabilities": {"cancel": False, "pause": False}}, "does not support cancel"),
    ],
)
async def test_actions_the_state_or_provider_forbids_are_409(
    jp_fetch, store, kernel, action, fields, reason
):
    snap = kernel.add(**fields)
    code, err = await fetch_error(
        jp_fetch, "api", "qmon", "jobs", snap["id"], action, method="POST", body=b""
    )
    assert code == 409
    assert reason in err["message"]
    assert store.pending_commands("k-test") == []


@pytest.mark.parametrize(("action", "status"), [("pause", "paused"), ("resume", "running")])
async def test_pausing_a_paused_or_resuming_a_running_job_is_202_and_changes_nothing(
    jp_fetch, store, kernel, action, status
):
    # as JobManager.pause()/resume(): a no-op, not an error
    snap = kernel.add(status=status)
    response = await jp_fetch("api", "qmon", "jobs", snap["id"], action, method="POST", body=b"")
    assert response.code == 202
    assert body(response) == store.get_job(snap["id"])
    assert body(response)["status"] == status
    # queued all the same (the stored state may lag); the kernel's manager no-ops it
    [command] = store.pending_commands("k-test")
    assert (command["job_id"], command["action"]) == (snap["id"], action)


def test_the_kernel_carries_out_a_no_op_pause_or_resume_as_done(store):
    from qmon_jupyter.jobs import JobManager
    from qmon_jupyter.kernel import StoreWriter

    timeout = 20.0
    started, release = threading.Event(), threading.Event()

    def work(reporter, token):
        started.set()
        while not release.is_set():
            token.check()
            time.sleep(0.01)

    def carried_out(command_id):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            command = store.get_command(command_id)
            if command["state"] != "pending" and command["state"] != "running":
                return command
            time.sleep(0.02)
        raise AssertionError(f"command {command_id} still {command['state']}")

    with JobManager(kernel_id="k-noop") as manager:
        writer = StoreWriter(manager, store, command_interval=0.05)
        try:
            job = manager.submit_function(work)
            assert started.wait(timeout)
            resume = carried_out(store.add_command("k-noop", "resume", user="u", job_id=job.id))
            assert (resume["state"], job.status.value) == ("done", "running")
            job.pause()
            pause = carried_out(store.add_command("k-noop", "pause", user="u", job_id=job.id))
            assert (pause["state"], job.status.value) == ("done", "paused")
            job.resume()
            release.set()
            assert job.wait(timeout)
        finally:
            release.set()
            writer.close()
            manager.shutdown(cancel_running=True)


async def test_action_for_a_job_of_a_dead_kernel_is_409_with_reason(jp_fetch, store, make_kernel):
    ghost = make_kernel("k-ghost", pid=2**22 + 12345)  # no such process
    ghost.store.heartbeat(
        "k-ghost", pid=ghost.pid, host="elsewhere", proc_start=None, started_at="x", state="stopped"
    )
    snap = ghost.add()
    code, err = await fetch_error(
        jp_fetch, "api", "qmon", "jobs", snap["id"], "cancel", method="POST", body=b""
    )
    assert code == 409
    # either the kernel check refuses it, or the liveness check got there first
    assert "kernel k-ghost is stopped" in err["message"] or "(kernel stopped)" in err["message"]


async def test_cancel_for_unknown_job_is_404(jp_fetch, kernel):
    code, _ = await fetch_error(
        jp_fetch, "api", "qmon", "jobs", "feedfacecafe", "cancel", method="POST", body=b""
    )
    assert code == 404


async def test_dismiss_marks_notification_and_audits_the_user(jp_fetch, store, kernel):
    note = kernel.notify()
    response = await jp_fetch(
        "api", "qmon", "notifications", note["id"], "dismiss", method="POST", body=b""
    )
    assert response.code == 202
    assert body(response)["dismissed"] is True
    listed = body(await jp_fetch("api", "qmon", "notifications"))["notifications"]
    assert note["id"] not in [n["id"] for n in listed]
    every = body(
        await jp_fetch("api", "qmon", "notifications", params={"include_dismissed": "true"})
    )
    assert note["id"] in [n["id"] for n in every["notifications"]]
    code, _ = await fetch_error(
        jp_fetch, "api", "qmon", "notifications", note["id"], "dismiss", method="POST", body=b""
    )
    assert code == 409
    audit = [a for a in store.audit_trail() if a["action"] == "dismiss"]
    assert audit
    assert all(a["user"] == "alice" for a in audit)


async def test_every_write_is_audited_with_user_action_job_and_time(jp_fetch, store, kernel):
    snap = kernel.add()
    await jp_fetch("api", "qmon", "jobs", snap["id"], "pause", method="POST", body=b"")
    [row] = store.audit_trail(job_id=snap["id"])
    assert (row["user"], row["action"], row["job_id"]) == ("alice", "pause", snap["id"])
    assert row["time"].endswith("Z")


@pytest.fixture
def live_kernel(store):
    """A real JobManager mirrored into the server's store by a real StoreWriter."""
    from qmon_jupyter.jobs import JobManager
    from qmon_jupyter.kernel import StoreWriter

    manager = JobManager(kernel_id="k-live")
    writer = StoreWriter(manager, store, command_interval=0.05)
    yield manager, writer
    writer.close()
    manager.shutdown(cancel_running=True)


def _waits(reporter, token):
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        token.check()
        reporter.update(1)
        time.sleep(0.01)


async def _ended(job, timeout=30.0):
    await asyncio.to_thread(job.wait, timeout)
    return job.status.value


async def test_rest_cancel_tells_the_job_and_the_audit_trail_who_and_why(
    jp_fetch, store, live_kernel
):
    manager, writer = live_kernel
    job = manager.submit_function(_waits, name="slow one")
    manager.events.flush(10)
    assert await asyncio.to_thread(writer.flush, 10)
    response = await jp_fetch(
        "api", "qmon", "jobs", job.id, "cancel", method="POST", body=b'{"reason": "too slow"}'
    )
    assert response.code == 202
    assert await _ended(job) == "cancelled"
    assert job.snapshot()["message"] == "cancelled by alice: too slow"
    [row] = store.audit_trail(job_id=job.id)
    assert (row["user"], row["action"]) == ("alice", "cancel")
    assert json.loads(row["data"])["reason"] == "too slow"
    manager.events.flush(10)
    assert await asyncio.to_thread(writer.flush, 10)
    assert store.get_job(job.id)["message"] == "cancelled by alice: too slow"
    served = body(await jp_fetch("api", "qmon", "jobs", job.id))
    assert (served["status"], served["message"]) == ("cancelled", "cancelled by alice: too slow")
    notes = [n for n in manager.notifications.list() if n.to_dict()["job_id"] == job.id]
    assert [n.to_dict()["message"] for n in notes] == ["cancelled by alice: too slow"]


async def test_rest_cancel_without_a_reason_still_names_the_user(jp_fetch, store, live_kernel):
    manager, writer = live_kernel
    job = manager.submit_function(_waits, name="slow one")
    manager.events.flush(10)
    assert await asyncio.to_thread(writer.flush, 10)
    await jp_fetch("api", "qmon", "jobs", job.id, "cancel", method="POST", body=b"")
    assert await _ended(job) == "cancelled"
    assert job.snapshot()["message"] == "cancelled by alice"


def test_a_queued_command_hands_its_reason_to_the_kernel(store, kernel):
    snap = kernel.add()
    note = kernel.notify()
    store.add_command("k-test", "cancel", user="bob", job_id=snap["id"], reason="wrong circuit")
    store.add_command("k-test", "pause", user="bob", job_id=snap["id"])
    store.add_command("k-test", "dismiss", user="bob", target=note["id"])
    commands = store.pending_commands("k-test")
    assert [(c["action"], c["user"], c["reason"]) for c in commands] == [
        ("cancel", "bob", "wrong circuit"),
        ("pause", "bob", None),
        ("dismiss", "bob", None),
    ]


@pytest.mark.parametrize(
    ("user", "reason", "message"),
    [
        ("alice", "too slow", "cancelled by alice: too slow"),
        ("alice", None, "cancelled by alice"),
        ("alice", "  ", "cancelled by alice"),
        (None, "too slow", "cancelled: too slow"),
        (None, None, None),
    ],
)
def test_a_cancel_is_worded_with_whoever_asked_and_why(user, reason, message):
    from qmon_jupyter.kernel import ManagerSource

    assert ManagerSource.cancel_reason(user, reason) == message


async def test_a_refused_action_reads_as_the_job_layer_words_it(jp_fetch, store, kernel):
    from qmon_jupyter.core.actions import refusal

    snap = kernel.add(status="queued", backend="ibm_fez")
    code, err = await fetch_error(
        jp_fetch, "api", "qmon", "jobs", snap["id"], "pause", method="POST", body=b""
    )
    assert code == 409
    expected = refusal(
        "pause", job_id=snap["id"], status="queued", capabilities=snap["capabilities"]
    )
    assert err["message"] == expected
