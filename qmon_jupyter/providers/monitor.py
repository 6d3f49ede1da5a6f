"""StatusMonitor: one background thread polling every tracked provider job.

- One thread for all jobs, each polled at its provider's interval; requests
  to one provider are rate-limited (a token bucket), so 50 jobs cost no more
  than ``max_requests_per_s`` requests a second.
- A failing provider is backed off exponentially with full jitter (the next
  try is uniform in ``[0, min(max_backoff_s, interval * 2**failures)]``) and
  its health goes healthy -> degraded -> unreachable after
  ``unreachable_after`` consecutive failures, and back to healthy on the first
  answer. While backing off only one request at a time probes it.
- No job is ever dropped: every error (nonsense answer, refused credentials,
  unknown job id, an adapter bug) becomes a readable message on the job and
  polling goes on.
- Every change reaches the job through ``job.apply_external`` (hence the event
  stream and the store's audit trail); health changes and budget cancels also
  raise a notification.
"""

from __future__ import annotations

import atexit
import heapq
import itertools
import logging
import random
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from qmon_jupyter.core.states import JobStatus

from ._detect import adapter_for
from ._eta import ServiceRate, eta_range
from ._monitor_state import (
    DEGRADED,
    HEALTHY,
    Budget,
    ProviderState,
    Tracked,
    new_tracked,
)

if TYPE_CHECKING:
    from qmon_jupyter.jobs import ExecutionJob, JobManager

    from .base import HardwareJobInfo, ProviderError

__all__ = ["Budget", "StatusMonitor", "get_monitor", "provider_health", "track"]

log = logging.getLogger(__name__)

#: Seconds the poller thread waits with nothing to poll before it exits.
IDLE_EXIT_S = 10.0
#: Ended jobs whose provider metadata is kept (``info()``, ``hardware_jobs()``).
KEEP_ENDED = 1000


class StatusMonitor:
    """Polls provider jobs on one background thread and keeps their jobs up to date.

    Parameters
    ----------
    manager
        Where tracked jobs live (default: ``get_manager()`` on first use).
    unreachable_after
        Consecutive failures after which a provider is "unreachable" (the
        first failure makes it "degraded").
    max_backoff_s
        Longest wait between two tries of a failing provider.
    max_requests_per_s
        Requests a second to one provider, at most (a burst of as many is allowed).
    lost_after
        "Unknown job id" answers in a row after which that job fails, naming
        the answer, and is no longer polled (the provider deleted it). The
        provider itself stays healthy. Other refusals keep the job tracked.
    rng
        Random source of the backoff jitter (tests pass a seeded one).
    """

    def __init__(
        self,
        manager: JobManager | None = None,
        *,
        unreachable_after: int = 5,
        max_backoff_s: float = 60.0,
        max_requests_per_s: float = 10.0,
        lost_after: int = 10,
        rng: random.Random | None = None,
    ) -> None:
        if unreachable_after < 1:
            raise ValueError(f"unreachable_after must be at least 1, got {unreachable_after}")
        if lost_after < 1:
            raise ValueError(f"lost_after must be at least 1, got {lost_after}")
        self.lost_after = lost_after
        self._manager = manager
        self.unreachable_after = unreachable_after
        self.max_backoff_s = max_backoff_s
        self.max_requests_per_s = max_requests_per_s
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        # Guards _heap, _tracked, _providers, _rates, _stopping and _thread;
        # the poller waits on it for the next due poll.
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Tracked]] = []
        self._seq = itertools.count()
        self._tracked: dict[str, Tracked] = {}  # qmon job id -> tracked (ended ones kept for info)
        # The same, by (provider key, provider job id): a provider job is tracked once.
        self._by_provider_job: dict[tuple[str, str], Tracked] = {}
        # Held through one track(): two calls for one provider job make one job.
        self._tracking = threading.Lock()
        self._ended: deque[str] = deque()  # ids of ended jobs in _tracked, oldest first
        self._providers: dict[str, ProviderState] = {}
        self._rates: dict[tuple[str, str | None], ServiceRate] = {}
        self._stopping = False
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ public API
    @property
    def manager(self) -> JobManager:
        """The job manager tracked jobs are added to."""
        if self._manager is None:
            from qmon_jupyter.kernel import get_manager

            self._manager = get_manager()
        return self._manager

    def track(
        self,
        provider_job: Any,
        *,
        name: str | None = None,
        poll_interval: float | None = None,
        budget: Budget | dict | None = None,
        job_id: str | None = None,
    ) -> ExecutionJob:
        """Put ``provider_job`` on the dashboard and poll it until it ends.

        ``provider_job`` is an ``AerJob``/``JobV1``, a primitive job, a
        ``RuntimeJobV2``, a Braket task, or a provider adapter. ``budget``
        (``Budget`` or ``{"max_queued_s": ..., "max_running_s": ...}``) cancels
        the provider job, with a notification saying why, once exceeded.
        ``job_id`` keeps a job's qmon id (``qmon.reattach()``); default a new one.

        A provider job tracked already (by an earlier call or by autotrack; the
        same provider and job id) is not tracked twice: its ExecutionJob is
        returned, with the ``poll_interval`` and ``budget`` given, if any.
        """
        adapter = adapter_for(provider_job)
        budget = Budget.coerce(budget)
        with self._tracking:
            return self._track_once(adapter, name, poll_interval, budget, job_id)

    def _track_once(
        self,
        adapter: Any,
        name: str | None,
        poll_interval: float | None,
        budget: Budget | None,
        job_id: str | None,
    ) -> ExecutionJob:
        key = (adapter.provider_key, str(adapter.job_id))
        with self._cond:
            self._check_open_locked()
            tracked = self._by_provider_job.get(key)
            if tracked is not None:
                tracked.poll_interval = poll_interval or tracked.poll_interval
                tracked.budget = budget or tracked.budget
                if not tracked.removed:
                    self._push_locked(tracked, time.monotonic())
                return tracked.job
            provider = self._provider_locked(adapter)
        tracked = new_tracked(
            self,
            adapter,
            provider,
            name=name,
            poll_interval=poll_interval,
            budget=budget,
            job_id=job_id,
        )
        job, now = tracked.job, tracked.tracked_since
        with self._cond:
            self._tracked[job.id] = tracked
            self._by_provider_job[key] = tracked
            provider.jobs.add(job.id)
            self._push_locked(tracked, now)
            self._ensure_thread_locked()
        return job

    def failed_submission(
        self,
        provider: Any,
        error: ProviderError,
        *,
        name: str | None,
        device: str | None,
        shots: int,
    ) -> ExecutionJob:
        """Return a job that failed at submission, showing the provider's reason."""
        job = self.manager.add_external_job(
            name=name or f"{provider.name} job",
            backend=f"{provider.name}:{device or 'default'}",
            controller=None,
            capabilities={"cancel": False, "pause": False, "queue_position": False, "eta": False},
            provider={"name": provider.key, "kind": provider.name, "status": None, "job_id": None},
            total=shots,
        )
        job.apply_external(status=JobStatus.FAILED, error=(type(error).__name__, str(error)))
        return job

    def info(self, job_id: str) -> HardwareJobInfo:
        """Return the provider metadata of a tracked job (KeyError naming an unknown id)."""
        with self._cond:
            tracked = self._tracked.get(job_id)
        if tracked is None:
            raise KeyError(f"job {job_id!r} is not tracked by this StatusMonitor")
        return tracked.info

    def hardware_jobs(self) -> list[dict[str, Any]]:
        """Every tracked job's provider metadata (``HardwareJobInfo.to_dict()``)."""
        with self._cond:
            infos = [t.info for t in self._tracked.values()]
        return [info.to_dict() for info in infos]

    def health(self) -> dict[str, dict[str, Any]]:
        """Return provider key -> health, failures, last error, last poll, interval, requests..."""
        now = time.monotonic()
        with self._cond:
            return {key: p.to_dict(now) for key, p in self._providers.items()}

    def set_poll_interval(self, provider_key: str, seconds: float) -> None:
        """Poll ``provider_key``'s jobs every ``seconds`` from now on."""
        with self._cond:
            provider = self._providers.get(provider_key)
            if provider is None:
                known = ", ".join(self._providers) or "none yet"
                raise KeyError(f"no provider {provider_key!r} is tracked (known: {known})")
            provider.poll_interval = seconds
            self._cond.notify_all()

    @property
    def running(self) -> bool:
        """Whether the poller thread is alive (it exits when idle and restarts on demand)."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop polling (jobs stay as they are) and join the thread."""
        with self._cond:
            self._stopping = True
            thread = self._thread
            self._cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def __enter__(self) -> StatusMonitor:  # noqa: PYI034 - Self needs Python 3.11
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def check_open(self) -> None:
        """Raise RuntimeError if this monitor was stopped (before submitting anything)."""
        with self._cond:
            self._check_open_locked()

    def _check_open_locked(self) -> None:
        if self._stopping:
            raise RuntimeError("cannot track a job: this StatusMonitor was stopped")

    # ------------------------------------------------------------ scheduling
    def _provider_locked(self, adapter: Any) -> ProviderState:
        key = adapter.provider_key
        provider = self._providers.get(key)
        if provider is None:
            provider = ProviderState(
                key=key,
                name=adapter.provider_name,
                poll_interval=float(adapter.default_poll_interval),
                max_requests_per_s=self.max_requests_per_s,
            )
            self._providers[key] = provider
        return provider

    def _push_locked(self, tracked: Tracked, at: float) -> None:
        tracked.next_at = at
        heapq.heappush(self._heap, (at, next(self._seq), tracked))
        self._cond.notify_all()

    def _wake(self, tracked: Tracked) -> None:
        with self._cond:
            if not tracked.removed:
                self._push_locked(tracked, time.monotonic())

    def _ensure_thread_locked(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._loop, name="qmon-status-monitor", daemon=True
            )
            self._thread.start()

    def _next_due(self) -> Tracked | None:
        """Block until a poll is due; None when stopping."""
        with self._cond:
            while not self._stopping:
                if self._manager is not None and self._manager.is_shutdown:
                    # Nobody reads these jobs any more; provider jobs are left to their providers.
                    self._stopping = True
                    break
                if not self._heap:
                    # Idle: let the thread go (track() starts another), so a
                    # forgotten monitor does not keep a thread alive.
                    if not self._cond.wait(IDLE_EXIT_S) and not self._heap:
                        self._thread = None
                        return None
                    continue
                at, _, tracked = self._heap[0]
                now = time.monotonic()
                if at > now:
                    self._cond.wait(at - now)
                    continue
                heapq.heappop(self._heap)
                if tracked.removed or at != tracked.next_at:
                    continue  # superseded by a later push
                gate = tracked.provider.gate(now)
                if gate > now:
                    self._push_locked(tracked, gate)
                    continue
                tracked.provider.take_token(now)
                return tracked
        return None

    def _loop(self) -> None:
        while True:
            tracked = self._next_due()
            if tracked is None:
                return
            try:
                delay = self._service(tracked)
            except Exception:  # the monitor thread never dies of one job
                log.exception("qmon status monitor: unexpected error polling %s", tracked.adapter)
                delay = tracked.provider.poll_interval
            with self._cond:
                if not tracked.removed:
                    self._push_locked(tracked, time.monotonic() + delay)

    # ------------------------------------------------------------ one poll
    def _service(self, tracked: Tracked) -> float:
        """Poll one job; return seconds until its next poll."""
        from ._polling import service

        return service(self, tracked)

    # What a poll uses (the PollHost interface of ._polling); called on the
    # poller thread.
    def untrack(self, tracked: Tracked) -> None:
        """Stop polling ``tracked`` (its metadata stays readable, up to ``KEEP_ENDED`` jobs)."""
        with self._cond:
            if tracked.removed:
                return
            tracked.removed = True
            self._ended.append(tracked.job.id)
            while len(self._ended) > KEEP_ENDED:
                gone = self._tracked.pop(self._ended.popleft(), None)
                if gone is not None:
                    key = (gone.provider.key, gone.info.provider_job_id)
                    if self._by_provider_job.get(key) is gone:
                        del self._by_provider_job[key]
            tracked.provider.jobs.discard(tracked.job.id)
            rate = self._rates.get((tracked.provider.key, tracked.info.device))
            if rate is not None:
                rate.forget(tracked.job.id)

    def observe_queue(self, tracked: Tracked, now: float, position: int | None) -> None:
        """Feed the device's service-rate estimate with ``tracked``'s queue position."""
        self._rate(tracked).observe(tracked.job.id, now, position)

    def estimate(
        self, tracked: Tracked, position: int | None, provider_eta: float | None, now: float
    ) -> tuple[float, tuple[float, float]] | None:
        """Return ``(eta_s, (low, high))`` for ``tracked``, or None when unknown."""
        running_for = None if tracked.running_since is None else now - tracked.running_since
        return eta_range(position, self._rate(tracked).rate(), provider_eta, running_for)

    def provider_answered(self, provider: ProviderState) -> bool:
        """Record an answer from ``provider``; True if its health changed."""
        with self._cond:
            return provider.answered(time.time())

    def provider_failed(
        self, provider: ProviderState, error: ProviderError, now: float
    ) -> tuple[float, bool]:
        """Record a failure; return ``(seconds to back off, whether its health changed)``.

        Full jitter: the wait is uniform in ``[0, min(max_backoff_s, interval * 2**failures)]``.
        """
        with self._cond:
            ceiling = min(
                self.max_backoff_s, provider.poll_interval * 2 ** min(provider.failures + 1, 30)
            )
            delay = max(min(0.05, provider.poll_interval), self._rng.uniform(0, ceiling))
            changed = provider.failed(str(error), now, delay, self.unreachable_after)
        return delay, changed

    def health_changed(self, provider: ProviderState, error: ProviderError | None) -> None:
        """Tell the provider's jobs, the event stream and the user about its new health."""
        health = provider.health
        with self._cond:
            others = [self._tracked[i] for i in provider.jobs if i in self._tracked]
        for other in others:
            other.job.apply_external(provider={"health": health})
        self._publish_health(provider, None if error is None else str(error))
        if health == HEALTHY:
            self.notify("success", f"{provider.key} is healthy again", "polling resumed")
        elif health == DEGRADED:
            self.notify("warning", f"{provider.key} is degraded", f"{error}; retrying with backoff")
        else:
            self.notify(
                "error",
                f"{provider.key} is unreachable",
                f"{provider.failures} failures in a row, last: {error}; its jobs stay tracked",
            )

    def job_backoff(self, tracked: Tracked) -> float:
        """Return the seconds before ``tracked`` is polled again after a problem of its own."""
        interval = tracked.interval
        ceiling = min(self.max_backoff_s, interval * 2 ** min(tracked.job_failures, 30))
        return max(interval, self._rng.uniform(0, ceiling))

    def notify(self, level: str, title: str, message: str, job_id: str | None = None) -> None:
        """Raise a provider notification (a failing one is logged, never raised)."""
        try:
            self.manager.notifications.notify(level, title, message, job_id=job_id, kind="provider")
        except Exception:
            log.debug("qmon status monitor: notification failed", exc_info=True)

    def _rate(self, tracked: Tracked) -> ServiceRate:
        key = (tracked.provider.key, tracked.info.device)
        with self._cond:
            rate = self._rates.get(key)
            if rate is None:
                rate = self._rates[key] = ServiceRate()
            return rate

    def _publish_health(self, provider: ProviderState, error: str | None) -> None:
        # Into the audit trail: the store records every event kind.
        data = {"provider": provider.key, "health": provider.health, "error": error}
        try:
            self.manager.events.publish("system.provider_health", data=data)
        except Exception:
            log.debug("qmon status monitor: health event failed", exc_info=True)


# ---------------------------------------------------------------- defaults
# Guards _default: get_monitor() may be called from several threads.
_default_lock = threading.Lock()
_default: StatusMonitor | None = None


def get_monitor() -> StatusMonitor:
    """Return the process-wide :class:`StatusMonitor` (on ``get_manager()``'s jobs)."""
    global _default  # noqa: PLW0603 - one monitor per process, by design
    with _default_lock:
        if _default is None or _default._stopping or _default.manager.is_shutdown:
            _default = StatusMonitor()
        return _default


def provider_health() -> list[dict[str, Any]]:
    """Health of every provider the process-wide monitor polls (``[]`` if there is none).

    Cheap and side-effect free (creates no monitor): for ``GET status`` and the dashboard.
    """
    monitor = _default
    return [] if monitor is None else list(monitor.health().values())


def track(
    provider_job: Any,
    *,
    name: str | None = None,
    poll_interval: float | None = None,
    budget: Budget | dict | None = None,
    job_id: str | None = None,
) -> ExecutionJob:
    """Follow a provider job on the dashboard: ``qmon.track(job)``.

    See :meth:`StatusMonitor.track`; this uses the process-wide monitor.
    """
    return get_monitor().track(
        provider_job, name=name, poll_interval=poll_interval, budget=budget, job_id=job_id
    )


@atexit.register
def _stop_default() -> None:
    monitor = _default
    if monitor is not None:
        monitor.stop(timeout=2.0)
