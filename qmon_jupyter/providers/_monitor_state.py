"""What the status monitor keeps per provider and per tracked job."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qmon_jupyter.core.states import JobType
from qmon_jupyter.core.timefmt import iso_utc

from .base import HardwareJobInfo

if TYPE_CHECKING:
    from collections.abc import Callable

    from qmon_jupyter.jobs import ExecutionJob

    from .base import StatusUpdate

__all__ = [
    "DEGRADED",
    "HEALTHY",
    "UNREACHABLE",
    "Budget",
    "Controller",
    "ProviderState",
    "Tracked",
    "new_tracked",
    "provider_fields",
]

#: A provider's health: it answers; it failed lately; it failed too often in a row.
HEALTHY, DEGRADED, UNREACHABLE = "healthy", "degraded", "unreachable"


@dataclass(frozen=True)
class Budget:
    """A time budget for one provider job: cancel it past these (None: no limit).

    Users of paid QPUs set it so a job stuck in a queue, or running far
    longer than expected, is cancelled rather than billed.
    """

    max_queued_s: float | None = None
    max_running_s: float | None = None

    @classmethod
    def coerce(cls, value: Budget | dict | None) -> Budget | None:
        """Accept a Budget, a dict of its fields, or None."""
        if value is None or isinstance(value, Budget):
            return value
        if isinstance(value, dict):
            unknown = set(value) - {"max_queued_s", "max_running_s"}
            if unknown:
                raise ValueError(
                    f"unknown budget keys {sorted(unknown)}; use max_queued_s, max_running_s"
                )
            return cls(**value)
        raise TypeError(f"budget must be a Budget or a dict, not {type(value).__name__}")


@dataclass
class ProviderState:
    """Health, backoff and request budget of one provider (guarded by the monitor's lock)."""

    key: str
    name: str
    poll_interval: float
    max_requests_per_s: float
    health: str = HEALTHY
    failures: int = 0
    last_error: str | None = None
    last_success: float | None = None
    last_poll: float | None = None
    retry_at: float = 0.0  # monotonic; no request before it while backing off
    backoff_s: float = 0.0
    requests: int = 0
    errors: int = 0
    jobs: set[str] = field(default_factory=set)
    _tokens: float = -1.0
    _token_time: float = 0.0

    def _refill(self, now: float) -> None:
        burst = max(1.0, self.max_requests_per_s)
        if self._tokens < 0:
            self._tokens = burst
        else:
            self._tokens = min(
                burst, self._tokens + (now - self._token_time) * self.max_requests_per_s
            )
        self._token_time = now

    def gate(self, now: float) -> float:
        """Earliest time a request may go out: after the backoff and with a token."""
        self._refill(now)
        at = max(now, self.retry_at)
        if self._tokens < 1:
            at = max(at, now + (1 - self._tokens) / max(self.max_requests_per_s, 1e-9))
        return at

    def take_token(self, now: float) -> None:
        """Spend one request."""
        self._refill(now)
        self._tokens -= 1
        self.requests += 1
        self.last_poll = time.time()

    def answered(self, wall_time: float) -> bool:
        """Record an answer at ``wall_time`` (``time.time()``); True if the health changed."""
        self.last_success = wall_time
        self.failures = 0
        self.retry_at = 0.0
        self.backoff_s = 0.0
        changed = self.health != HEALTHY
        self.health = HEALTHY
        return changed

    def failed(self, error: str, now: float, delay: float, unreachable_after: int) -> bool:
        """Record a failure; no request before ``now + delay``. True if the health changed."""
        self.failures += 1
        self.errors += 1
        self.last_error = error
        self.backoff_s = delay
        self.retry_at = now + delay
        health = UNREACHABLE if self.failures >= unreachable_after else DEGRADED
        changed = health != self.health
        self.health = health
        return changed

    def to_dict(self, now: float) -> dict[str, Any]:
        """JSON-safe view for the dashboard and ``GET status``."""
        return {
            "name": self.key,
            "kind": self.name,
            "health": self.health,
            "consecutive_failures": self.failures,
            "last_error": self.last_error,
            "last_success": iso_utc(self.last_success),
            "last_poll": iso_utc(self.last_poll),
            "poll_interval_s": self.poll_interval,
            "retry_in_s": max(0.0, self.retry_at - now) if self.failures else 0.0,
            "requests": self.requests,
            "errors": self.errors,
            "active_jobs": len(self.jobs),
        }


@dataclass(eq=False)
class Tracked:
    """One tracked provider job."""

    job: ExecutionJob
    adapter: Any
    info: HardwareJobInfo
    provider: ProviderState
    poll_interval: float | None
    budget: Budget | None
    tracked_since: float
    next_at: float = 0.0
    removed: bool = False
    queued_since: float | None = None
    running_since: float | None = None
    cancel_sent: bool = False
    budget_spent: str | None = None
    job_failures: int = 0
    has_message: bool = False
    last_published: tuple | None = None
    last_published_at: float = float("-inf")
    result_pending: bool = False
    pending_update: StatusUpdate | None = None
    ended_remote: bool = False

    @property
    def interval(self) -> float:
        """Seconds between two polls of this job."""
        return self.poll_interval if self.poll_interval is not None else self.provider.poll_interval


@dataclass
class Controller:
    """What the job layer calls to cancel a provider job; ``wake`` polls it again soon."""

    wake: Callable[[Tracked], None]
    tracked: Tracked | None = None

    def cancel(self) -> None:
        """Cancel at the provider and show its answer (the manager then ends the job)."""
        tracked = self.tracked
        assert tracked is not None
        raw = tracked.adapter.cancel()
        tracked.cancel_sent = True
        raw_status = raw if isinstance(raw, str) else "CANCEL REQUESTED"
        tracked.info.raw_status = raw_status
        # The job is still active here (the manager ends it once this returns).
        tracked.job.apply_external(provider={"status": raw_status})
        self.wake(tracked)


def locator(adapter: Any) -> dict[str, Any] | None:
    """Return where ``adapter``'s job can be found again from another process, or None.

    Adapters of jobs that live at a provider answer ``locator()`` (the
    provider's kind and job id, its URL, backend or task ARN; never a
    credential). A local job (Aer, a LocalSimulator task) has none: it dies
    with its kernel.
    """
    ask = getattr(adapter, "locator", None)
    try:
        found = ask() if callable(ask) else None
    except Exception:  # an adapter that cannot say is one that cannot be found again
        return None
    return dict(found) if isinstance(found, dict) else None


def provider_fields(
    provider: ProviderState, adapter: Any, raw_status: str | None
) -> dict[str, Any]:
    """Return the snapshot's ``provider`` of a newly tracked job (nothing polled yet)."""
    caps = adapter.capabilities
    return {
        "name": provider.key,
        "kind": adapter.provider_name,
        "status": raw_status,
        "job_id": str(adapter.job_id),
        "device": adapter.device,
        "health": provider.health,
        "eta_range_s": None,
        "eta_label": "estimate",
        "queue_position": caps.show("queue_position", None),
        "cost": caps.show("cost", None),
        "capabilities": caps.to_dict(),
        "locator": locator(adapter),
    }


def new_tracked(
    monitor: Any,
    adapter: Any,
    provider: ProviderState,
    *,
    name: str | None,
    poll_interval: float | None,
    budget: Budget | None,
    job_id: str | None = None,
) -> Tracked:
    """Add ``adapter``'s job to ``monitor``'s manager; return its record (not polled yet).

    ``job_id`` keeps a job's qmon id (``qmon.reattach()``); default a new one.
    """
    caps = adapter.capabilities
    controller = Controller(monitor._wake)
    job = monitor.manager.add_external_job(
        job_id=job_id,
        name=name
        or getattr(adapter, "name", None)
        or f"{adapter.provider_name} job {str(adapter.job_id)[:12]}",
        backend=f"{adapter.provider_name}:{adapter.device or provider.key}",
        controller=controller,
        capabilities={k: v for k, v in caps.to_dict().items() if k != "cost"},
        provider=provider_fields(provider, adapter, None),
        job_type=getattr(adapter, "job_type", None) or JobType.HARDWARE,
        total=getattr(adapter, "total", None),
        unit=getattr(adapter, "unit", None) or "shots",
    )
    now = time.monotonic()
    info = HardwareJobInfo(
        job_id=job.id,
        provider=provider.key,
        provider_job_id=str(adapter.job_id),
        device=adapter.device,
        capabilities=caps,
        submitted_at=iso_utc(time.time()),
    )
    tracked = Tracked(
        job=job,
        adapter=adapter,
        info=info,
        provider=provider,
        poll_interval=poll_interval,
        budget=budget,
        tracked_since=now,
    )
    controller.tracked = tracked
    return tracked
