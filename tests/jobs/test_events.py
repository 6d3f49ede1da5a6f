"""The event bus: order, coalescing, bounded queues, slow and failing subscribers."""

from __future__ import annotations

import threading
import time

from qmon_jupyter.jobs import EventBus

from .._support import wait_until
from .conftest import TIMEOUT, Gate


def test_events_are_numbered_in_order_and_delivered_in_order():
    bus = EventBus()
    got = []
    bus.subscribe(got.append)
    for i in range(100):
        bus.publish("job.status", job_id=f"j{i}")
    assert bus.flush(TIMEOUT)
    assert [e["seq"] for e in got] == list(range(1, 101))
    assert set(got[0]) == {"seq", "kind", "time", "job_id", "snapshot", "notification", "data"}
    assert got[0]["time"].endswith("Z")
    bus.close()


def test_progress_events_waiting_in_a_queue_are_coalesced():
    bus = EventBus()
    release = threading.Event()
    got = []

    def slow(event):
        release.wait(TIMEOUT)
        got.append(event)

    bus.subscribe(slow)
    bus.publish("job.status", job_id="a")  # taken by the dispatcher, blocks it
    assert wait_until(lambda: bus.stats()[0]["queued"] == 0)
    for i in range(50):
        bus.publish("job.progress", job_id="a", data={"i": i})
        bus.publish("job.progress", job_id="b", data={"i": i})
    bus.publish("job.status", job_id="a")
    release.set()
    assert bus.flush(TIMEOUT)
    kinds = [(e["kind"], e["job_id"], (e["data"] or {}).get("i")) for e in got]
    assert kinds == [
        ("job.status", "a", None),
        ("job.progress", "a", 49),
        ("job.progress", "b", 49),
        ("job.status", "a", None),
    ]
    seqs = [e["seq"] for e in got]
    assert seqs == sorted(seqs)
    bus.close()


def test_a_full_queue_drops_only_the_oldest_progress_and_counts_it():
    bus = EventBus()
    release = threading.Event()
    got = []
    bus.subscribe(lambda e: (release.wait(TIMEOUT), got.append(e)), max_queue=10)
    bus.publish("job.status", job_id="first")  # taken by the dispatcher, blocks it
    assert wait_until(lambda: bus.stats()[0]["queued"] == 0)
    for i in range(30):
        bus.publish("job.progress", job_id=f"p{i}")
        if i % 6 == 0:
            bus.publish("job.status", job_id=f"s{i}")
    # 5 state changes always stay; progress fills the rest of the bound.
    assert bus.stats()[0] == {"queued": 10, "dropped": 25, "errors": 0}
    release.set()
    assert bus.flush(TIMEOUT)
    assert [(e["kind"], e["job_id"]) for e in got] == [
        ("job.status", "first"),
        ("job.status", "s0"),
        ("job.status", "s6"),
        ("job.status", "s12"),
        ("job.status", "s18"),
        ("job.status", "s24"),
        *[("job.progress", f"p{i}") for i in range(25, 30)],
    ]
    bus.close()


def test_a_queue_of_state_changes_grows_past_its_bound_rather_than_lose_one():
    bus = EventBus()
    release = threading.Event()
    got = []
    bus.subscribe(lambda e: (release.wait(TIMEOUT), got.append(e["seq"])), max_queue=10)
    bus.publish("job.status")
    assert wait_until(lambda: bus.stats()[0]["queued"] == 0)
    kinds = ["job.created", "job.status", "job.checkpoint", "job.removed", "notification.created"]
    for i in range(30):
        bus.publish(kinds[i % len(kinds)])
    assert bus.stats()[0] == {"queued": 30, "dropped": 0, "errors": 0}
    release.set()
    assert bus.flush(TIMEOUT)
    assert got == list(range(1, 32))
    bus.close()


def test_superseded_progress_does_not_pile_up_in_a_blocked_queue():
    bus = EventBus()
    release = threading.Event()
    bus.subscribe(lambda e: release.wait(TIMEOUT), max_queue=10)
    bus.publish("job.status")
    assert wait_until(lambda: bus.stats()[0]["queued"] == 0)
    for i in range(10_000):
        bus.publish("job.progress", job_id="a", data={"i": i})
    sub = bus._subscribers[0]
    assert sub.live == 1
    assert len(sub.queue) <= 20
    assert len(sub.progress) <= 20
    release.set()
    assert bus.flush(TIMEOUT)
    bus.close()


def test_a_raising_subscriber_breaks_nothing_and_others_still_get_events(caplog):
    bus = EventBus()
    got = []

    def bad(event):
        raise ValueError("subscriber bug")

    bus.subscribe(bad)
    bus.subscribe(got.append)
    for _ in range(5):
        bus.publish("job.status")
    assert bus.flush(TIMEOUT)
    assert len(got) == 5
    assert bus.stats()[0]["errors"] == 5
    assert "subscriber bug" in caplog.text
    bus.close()


def test_a_slow_subscriber_never_slows_a_job(manager):
    release = threading.Event()
    manager.events.subscribe(lambda e: release.wait(TIMEOUT))
    manager.events.subscribe(lambda e: 1 / 0)

    def steps(reporter, token):
        for _ in range(2000):
            token.check()
            reporter.update()
        return "ok"

    job = manager.submit_function(steps, total=2000)
    # The job finishes while the slow subscriber still holds its first event.
    assert job.result(TIMEOUT).value == "ok"
    assert not release.is_set()
    release.set()
    assert manager.events.flush(TIMEOUT)


def test_a_blocked_subscriber_does_not_delay_the_others():
    bus = EventBus()
    release = threading.Event()
    got = []
    bus.subscribe(lambda e: release.wait(TIMEOUT))  # stuck on its first event
    bus.subscribe(got.append)
    try:
        for _ in range(50):
            bus.publish("job.status")
        assert wait_until(lambda: len(got) == 50)
        assert not release.is_set()
        assert not bus.flush(0.2)  # the stuck one still holds its events
    finally:
        release.set()
    assert bus.flush(TIMEOUT)
    bus.close()
    assert not any(s.thread.is_alive() for s in bus._subscribers)


def test_unsubscribing_ends_that_subscribers_delivery_thread():
    bus = EventBus()
    unsubscribe = bus.subscribe(lambda e: None)
    [sub] = bus._subscribers
    bus.publish("job.status")
    assert bus.flush(TIMEOUT)
    unsubscribe()
    sub.thread.join(TIMEOUT)
    assert not sub.thread.is_alive()
    bus.close()


def test_nothing_reaches_a_callback_after_unsubscribe_returns():
    bus = EventBus()
    got = []
    first = threading.Event()
    release = threading.Event()

    def slow(event):
        got.append(event["seq"])
        first.set()
        release.wait(TIMEOUT)

    unsubscribe = bus.subscribe(slow)
    for _ in range(10):
        bus.publish("job.status")  # one batch: the callback holds the first event
    assert first.wait(TIMEOUT)
    unsubscribe()
    release.set()
    time.sleep(0.1)
    assert got == [1]
    bus.close()


def test_a_callback_may_flush_its_own_bus():
    bus = EventBus()
    answers = []
    bus.subscribe(lambda e: answers.append(bus.flush(1.0)))
    bus.publish("job.status")
    assert wait_until(lambda: answers)
    assert answers == [True]  # not a wait on itself until the timeout
    bus.close()


def test_unsubscribe_stops_delivery():
    bus = EventBus()
    got = []
    unsubscribe = bus.subscribe(got.append)
    bus.publish("a.b")
    assert bus.flush(TIMEOUT)
    unsubscribe()
    bus.publish("a.b")
    time.sleep(0.05)
    assert len(got) == 1
    bus.close()


def test_kind_filters_match_prefixes():
    bus = EventBus()
    got = []
    bus.subscribe(got.append, kinds=["system.*", "job.removed"])
    for kind in ["job.status", "system.memory_high", "job.removed", "notification.created"]:
        bus.publish(kind)
    assert bus.flush(TIMEOUT)
    assert [e["kind"] for e in got] == ["system.memory_high", "job.removed"]
    assert bus.has_subscribers("system.x")
    assert not bus.has_subscribers("job.checkpoint")
    bus.close()


def test_a_job_emits_created_status_progress_and_one_terminal_event(manager):
    got = []
    manager.events.subscribe(got.append)
    gate = Gate()
    job = manager.submit_function(gate, total=3)
    gate.release(3)
    assert wait_until(lambda: gate.done_steps == 3)
    gate.finish()
    assert job.wait(TIMEOUT)
    assert manager.events.flush(TIMEOUT)
    mine = [e for e in got if e["job_id"] == job.id]
    kinds = [e["kind"] for e in mine]
    assert kinds[0] == "job.created"
    assert "job.progress" in kinds
    statuses = [e["data"]["to"] for e in mine if e["kind"] == "job.status"]
    assert statuses == ["running", "completed"]
    # No event after the terminal one carries an older status.
    last_status = max(i for i, e in enumerate(mine) if e["kind"] == "job.status")
    assert all(e["snapshot"]["status"] == "completed" for e in mine[last_status:] if e["snapshot"])
