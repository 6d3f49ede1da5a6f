"""Notifications: raised on job ends, bounded, expiring, dismissable."""

from __future__ import annotations

import time

import pytest

from qmon_jupyter.jobs import EventBus, NotificationCenter

from .conftest import TIMEOUT, Gate


def test_the_oldest_notification_is_evicted_beyond_the_limit():
    center = NotificationCenter(max_notifications=3)
    notes = [center.notify("info", f"n{i}", ttl_s=None) for i in range(5)]
    assert [n.title for n in center.list()] == ["n2", "n3", "n4"]
    assert notes[0].dismissed
    assert len(center) == 3


def test_notifications_expire_after_their_ttl():
    center = NotificationCenter()
    short = center.notify("success", "short", ttl_s=30.0)
    stays = center.notify("error", "stays")
    assert stays.ttl_s is None  # errors stay until dismissed by default
    assert center.expire(time.time() + 60) == 1
    assert short.dismissed
    assert [n.title for n in center.list()] == ["stays"]
    assert [n.title for n in center.list(include_dismissed=True)] == ["short", "stays"]


def test_dismiss_by_id_and_unknown_id_raises_key_error():
    bus = EventBus()
    got = []
    bus.subscribe(got.append)
    center = NotificationCenter(bus)
    note = center.notify("warning", "disk", "almost full", ttl_s=None)
    center.dismiss(note.id, user="alice")
    assert note.dismissed
    with pytest.raises(KeyError, match="nope"):
        center.dismiss("nope")
    assert bus.flush(TIMEOUT)
    assert [e["kind"] for e in got] == ["notification.created", "notification.dismissed"]
    assert got[1]["notification"]["id"] == note.id
    assert got[1]["data"] == {"reason": "user", "user": "alice"}
    bus.close()


def test_to_dict_is_json_safe_text():
    note = NotificationCenter().notify("info", "<b>x</b>", "m", job_id="j1", ttl_s=5)
    d = note.to_dict()
    assert d["title"] == "<b>x</b>"  # kept as text; the renderer escapes it
    assert d["created_at"].endswith("Z")
    assert set(d) >= {
        "id",
        "level",
        "title",
        "message",
        "job_id",
        "created_at",
        "ttl_s",
        "dismissed",
    }


def test_unknown_level_is_refused():
    with pytest.raises(ValueError, match="level"):
        NotificationCenter().notify("fatal", "x")


def test_jobs_raise_notifications_when_they_complete_fail_or_are_cancelled(manager):
    ok = manager.submit_function(lambda r, t: 1, name="good")
    bad = manager.submit_function(lambda r, t: 1 / 0, name="bad")
    gate = Gate()
    stopped = manager.submit_function(gate, name="stopped")
    assert gate.started.wait(TIMEOUT)
    stopped.cancel()
    assert all(j.wait(TIMEOUT) for j in (ok, bad, stopped))
    by_job = {n.job_id: n for n in manager.notifications.list()}
    assert by_job[ok.id].level == "success"
    assert by_job[bad.id].level == "error"
    assert "ZeroDivisionError" in by_job[bad.id].message
    assert by_job[stopped.id].level == "warning"
