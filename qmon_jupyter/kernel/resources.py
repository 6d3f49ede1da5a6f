"""CPU and memory of this process and the machine, sampled in the background.

One :class:`ResourceMonitor` per process (:func:`get_resource_monitor`)
samples psutil at 1 Hz by default and keeps a bounded history for the
dashboard's sparklines. When used memory crosses ``memory_high_fraction``
(with hysteresis, so it warns once per episode) the managers it watches get
a ``system.memory_high`` event and a warning notification.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections import deque
from typing import TYPE_CHECKING

import psutil

from qmon_jupyter.core.timefmt import iso_utc
from qmon_jupyter.limits import memory_status

if TYPE_CHECKING:
    from collections.abc import Callable

    from qmon_jupyter.jobs import JobManager

__all__ = ["ResourceMonitor", "get_resource_monitor"]

logger = logging.getLogger(__name__)

# Memory must fall this far below the threshold before another warning.
_HYSTERESIS = 0.05


class ResourceMonitor:
    """Samples CPU and memory every ``interval`` seconds into a bounded history.

    Each sample is ``{time, cpu_percent (this process), system_cpu_percent,
    rss_bytes, available_bytes, total_bytes, memory_limit}``; memory is the
    container's (:func:`qmon_jupyter.limits.memory_status`) where a limit is set.

    Parameters
    ----------
    interval
        Seconds between samples.
    history
        Samples kept (the oldest are dropped).
    memory_high_fraction
        Used fraction of the machine's memory that counts as "high".
    """

    def __init__(
        self, interval: float = 1.0, history: int = 120, *, memory_high_fraction: float = 0.9
    ) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be positive, not {interval}")
        self.interval = interval
        self.memory_high_fraction = memory_high_fraction
        self._process = psutil.Process()
        # Guards _history, _listeners, _watched, _memory_high and _thread.
        self._lock = threading.Lock()
        self._history: deque[dict] = deque(maxlen=history)
        self._listeners: list[Callable[[dict], object]] = []
        self._watched: weakref.WeakSet[JobManager] = weakref.WeakSet()
        self._memory_high = False
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._process.cpu_percent(None)  # the first reading only sets a baseline
        psutil.cpu_percent(None)

    def start(self) -> ResourceMonitor:
        """Start sampling in a daemon thread (idempotent); returns self."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return self
            self._stop.clear()
            self._thread = threading.Thread(
                target=_sample_loop,
                args=(weakref.ref(self), self._stop, self.interval),
                name="qmon-resources",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self, timeout: float | None = 2.0) -> None:
        """Stop sampling (the history is kept)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def running(self) -> bool:
        """Whether the sampling thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def sample(self) -> dict:
        """Take one sample now, add it to the history and tell listeners."""
        memory = memory_status()  # the container's limit where one is set
        sample = {
            "time": iso_utc(time.time()),
            "cpu_percent": self._process.cpu_percent(None),
            "system_cpu_percent": psutil.cpu_percent(None),
            "rss_bytes": self._process.memory_info().rss,
            "available_bytes": memory.available,
            "total_bytes": memory.total,
            "memory_limit": memory.source,
        }
        with self._lock:
            self._history.append(sample)
            listeners = list(self._listeners)
        self._check_memory(sample)
        for listener in listeners:
            try:
                listener(sample)
            except Exception:  # noqa: PERF203 - one failing listener must not stop the rest
                logger.exception("resource listener %r failed", listener)
        return sample

    def latest(self) -> dict | None:
        """Return the newest sample, or None before the first."""
        with self._lock:
            return self._history[-1] if self._history else None

    def history(self) -> list[dict]:
        """Every sample kept, oldest first."""
        with self._lock:
            return list(self._history)

    def add_listener(self, listener: Callable[[dict], object]) -> Callable[[], None]:
        """Call ``listener(sample)`` after each sample; returns a remover."""
        with self._lock:
            self._listeners.append(listener)

        def remove() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return remove

    def watch_memory(self, manager: JobManager) -> None:
        """Notify ``manager`` when memory runs high (weakly held)."""
        with self._lock:
            self._watched.add(manager)

    def _check_memory(self, sample: dict) -> None:
        total = sample["total_bytes"] or 1
        used = 1.0 - sample["available_bytes"] / total
        with self._lock:
            if not self._memory_high and used >= self.memory_high_fraction:
                self._memory_high = True
                managers = list(self._watched)
            else:
                if self._memory_high and used < self.memory_high_fraction - _HYSTERESIS:
                    self._memory_high = False
                return
        message = (
            f"{used:.0%} of memory in use; {sample['available_bytes'] / 2**30:.1f} GiB available, "
            f"this kernel uses {sample['rss_bytes'] / 2**30:.1f} GiB"
        )
        for manager in managers:
            manager.events.publish("system.memory_high", data=dict(sample, used_fraction=used))
            manager.notifications.notify(
                "warning", "Memory high", message, kind="system.memory_high"
            )


def _sample_loop(
    monitor_ref: weakref.ReferenceType[ResourceMonitor], stop: threading.Event, interval: float
) -> None:
    while True:
        monitor = monitor_ref()
        if monitor is None:
            return
        try:
            monitor.sample()
        except Exception:
            logger.exception("resource sampling failed")
        del monitor
        if stop.wait(interval):
            return


# Guards _monitor.
_lock = threading.Lock()
_monitor: ResourceMonitor | None = None


def get_resource_monitor() -> ResourceMonitor:
    """Return the process's resource monitor, started on first use."""
    global _monitor  # noqa: PLW0603 - one sampler per process, by design
    with _lock:
        if _monitor is None:
            _monitor = ResourceMonitor()
        return _monitor.start()
