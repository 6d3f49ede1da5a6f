"""The resource monitor."""

from __future__ import annotations

from qmon_jupyter.jobs import JobManager
from qmon_jupyter.kernel.resources import ResourceMonitor, get_resource_monitor

from .._support import wait_until
from .conftest import TIMEOUT


def test_samples_have_the_contract_shape_and_history_is_bounded():
    monitor = ResourceMonitor(interval=0.01, history=5).start()
    try:
        assert wait_until(lambda: len(monitor.history()) == 5)
        assert wait_until(lambda: monitor.latest() is not monitor.history()[0])
        assert len(monitor.history()) == 5
        sample = monitor.latest()
        assert set(sample) == {
            "time",
            "cpu_percent",
            "system_cpu_percent",
            "rss_bytes",
            "available_bytes",
            "total_bytes",
            "memory_limit",
        }
        assert sample["rss_bytes"] > 0
        assert 0 < sample["available_bytes"] <= sample["total_bytes"]
    finally:
        monitor.stop()
    assert not monitor.running


def test_high_memory_raises_one_system_notification_per_episode():
    manager = JobManager()
    try:
        monitor = ResourceMonitor(interval=60, memory_high_fraction=0.0)
        monitor.watch_memory(manager)
        events = []
        manager.events.subscribe(events.append, kinds=["system.*"])
        monitor.sample()
        monitor.sample()
        notes = manager.notifications.list()
        assert [n.kind for n in notes] == ["system.memory_high"]
        assert notes[0].level == "warning"
        assert manager.events.flush(TIMEOUT)
        assert [e["kind"] for e in events] == ["system.memory_high"]
    finally:
        manager.shutdown()


def test_there_is_one_monitor_per_process():
    assert get_resource_monitor() is get_resource_monitor()
    assert get_resource_monitor().running
