"""Prometheus metrics, registered with prometheus_client's default REGISTRY.

Jupyter Server's ``/metrics`` renders that registry, so qmon's numbers appear
there. Gauges are read from the store at scrape time (one collector, a few
indexed counts); counters count what this server did.
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import TYPE_CHECKING, Any

from prometheus_client import REGISTRY, Counter
from prometheus_client.core import GaugeMetricFamily

from qmon_jupyter.core.states import JobStatus

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .service import QmonService

__all__ = ["COMMANDS", "KERNELS_DIED", "register_service"]

logger = logging.getLogger(__name__)

_STATUSES = tuple(s.value for s in JobStatus)
_LEVELS = ("info", "success", "warning", "error")

COMMANDS = Counter("qmon_commands", "Job and notification commands accepted over REST", ["action"])
KERNELS_DIED = Counter("qmon_kernels_died", "Kernels found dead with unfinished jobs")


class _StoreCollector:
    """Gauges over every kernel's jobs, read from the store of the newest server."""

    def __init__(self) -> None:
        # guards _service (a weak reference: a stopped server is not kept alive)
        self._lock = threading.Lock()
        self._service: weakref.ReferenceType[QmonService] | None = None

    def use(self, service: QmonService) -> None:
        with self._lock:
            self._service = weakref.ref(service)

    def describe(self) -> list[Any]:
        return []  # metrics are dynamic: skip the registry's duplicate-name check

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._lock:
            service = self._service() if self._service else None
        up = GaugeMetricFamily("qmon_store_up", "1 if the qmon store answered this scrape")
        if service is None:
            return
        try:
            numbers = service.store().metrics()
        except Exception as exc:
            logger.debug("qmon metrics: store unavailable: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        by_status = numbers["by_status"]
        jobs = GaugeMetricFamily("qmon_jobs", "Stored jobs by status", labels=["status"])
        for status in _STATUSES:
            jobs.add_metric([status], by_status.get(status, 0))
        yield jobs
        yield GaugeMetricFamily(
            "qmon_jobs_running", "Jobs running now", value=by_status.get("running", 0)
        )
        yield GaugeMetricFamily(
            "qmon_queue_length",
            "Jobs waiting for a slot (pending or queued)",
            value=by_status.get("pending", 0) + by_status.get("queued", 0),
        )
        yield GaugeMetricFamily(
            "qmon_shots_per_second",
            "Shots per second of the running simulations",
            value=numbers["shots_per_s"],
        )
        notes = GaugeMetricFamily(
            "qmon_notifications", "Notifications not dismissed, by level", labels=["level"]
        )
        for level in _LEVELS:
            notes.add_metric([level], numbers["notifications"].get(level, 0))
        yield notes
        yield GaugeMetricFamily(
            "qmon_kernels_alive", "Kernels sending heartbeats", value=numbers["kernels"]
        )


_COLLECTOR = _StoreCollector()
REGISTRY.register(_COLLECTOR)


def register_service(service: QmonService) -> None:
    """Make ``service``'s store the one the gauges read."""
    _COLLECTOR.use(service)
