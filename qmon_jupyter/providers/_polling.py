"""One poll of one tracked job, on the status monitor's thread.

Split from :mod:`~qmon_jupyter.providers.monitor` (scheduling, threads,
public API): this module is what a poll *does* with the answer, an error,
or a spent budget. Every function returns the seconds until the job's next
poll.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Protocol

from qmon_jupyter.core.states import TERMINAL, JobStatus
from qmon_jupyter.core.text import short_name
from qmon_jupyter.core.timefmt import iso_utc
from qmon_jupyter.jobs import Result

from .base import ProviderError, ProviderJobNotFound, ProviderResponseError, StatusUpdate

if TYPE_CHECKING:
    from ._monitor_state import ProviderState, Tracked

__all__ = ["PollHost", "service"]

_S = JobStatus
#: Re-publish an unchanged job at least this often (its "last poll" moves on).
REFRESH_S = 5.0
_MIN_DELAY_S = 0.01


class PollHost(Protocol):
    """What a poll needs from its :class:`~qmon_jupyter.providers.StatusMonitor`.

    Everything else a poll touches is the tracked job's own record
    (:class:`~._monitor_state.Tracked`, written on the poller thread only).
    """

    lost_after: int

    def untrack(self, tracked: Tracked) -> None:
        """Stop polling ``tracked`` (its metadata stays readable)."""

    def observe_queue(self, tracked: Tracked, now: float, position: int | None) -> None:
        """Feed the device's service-rate estimate with ``tracked``'s queue position."""

    def estimate(
        self, tracked: Tracked, position: int | None, provider_eta: float | None, now: float
    ) -> tuple[float, tuple[float, float]] | None:
        """Return ``(eta_s, (low, high))`` for ``tracked``, or None when unknown."""

    def provider_answered(self, provider: ProviderState) -> bool:
        """Record an answer from ``provider``; True if its health changed."""

    def provider_failed(
        self, provider: ProviderState, error: ProviderError, now: float
    ) -> tuple[float, bool]:
        """Record a failure; return ``(seconds to back off, whether its health changed)``."""

    def health_changed(self, provider: ProviderState, error: ProviderError | None) -> None:
        """Tell the provider's jobs, the event stream and the user about its new health."""

    def job_backoff(self, tracked: Tracked) -> float:
        """Return the seconds before ``tracked`` is polled again after a problem of its own."""

    def notify(self, level: str, title: str, message: str, job_id: str | None = None) -> None:
        """Raise a notification (never raises)."""


def service(monitor: PollHost, tracked: Tracked) -> float:  # noqa: PLR0911 - one exit per outcome
    """Poll ``tracked`` once and apply what was learnt; return seconds to its next poll."""
    job = tracked.job
    now = time.monotonic()
    if job.status in TERMINAL:
        # Ended here (cancelled by a user or a budget): one last look for the record.
        _final_look(tracked)
        monitor.untrack(tracked)
        return 0.0
    spent = _budget_spent(tracked, now)
    if spent is not None:
        return _enforce_budget(monitor, tracked, spent, now)
    try:
        update = tracked.pending_update if tracked.result_pending else tracked.adapter.poll()
    except ProviderJobNotFound as exc:
        return _job_problem(monitor, tracked, exc)
    except ProviderError as exc:
        if not exc.transient:
            return _job_problem(monitor, tracked, exc)
        return _provider_failed(monitor, tracked, exc, now)
    except Exception as exc:  # an adapter bug or a library error: same treatment, readable
        error = ProviderResponseError(
            f"{tracked.provider.name} adapter error: {type(exc).__name__}: {exc}"
        )
        return _provider_failed(monitor, tracked, error, now)
    if not isinstance(update, StatusUpdate):
        error = ProviderResponseError(
            f"{tracked.provider.name} adapter returned {type(update).__name__}"
        )
        return _provider_failed(monitor, tracked, error, now)
    _provider_ok(monitor, tracked.provider)
    return _apply(monitor, tracked, update, now)


# ------------------------------------------------------------------ answers
def _apply(monitor: PollHost, tracked: Tracked, update: StatusUpdate, now: float) -> float:
    job, adapter, info = tracked.job, tracked.adapter, tracked.info
    caps = adapter.capabilities
    status = update.status
    tracked.job_failures = 0
    info.raw_status = update.raw_status
    info.polls += 1
    info.last_poll = iso_utc(time.time())
    info.device = update.device or info.device
    if status in (_S.PENDING, _S.QUEUED) and tracked.queued_since is None:
        tracked.queued_since = tracked.tracked_since
    if status is _S.RUNNING and tracked.running_since is None:
        tracked.running_since = now
    queued = status in (_S.PENDING, _S.QUEUED)
    position = update.queue_position if queued else None
    # A provider that flaps back to "queued" does not move a started job back (the
    # table forbids it), so neither does its queue position.
    backwards = queued and job.status not in (_S.PENDING, _S.QUEUED)
    if status is not None:
        monitor.observe_queue(tracked, now, position)
    info.queue_position = position
    info.queue_position_display = update.queue_position_display if position is not None else None
    eta = None
    if (
        status is not None
        and not status.is_terminal
        and (caps.eta or update.provider_eta_s is not None)
    ):
        eta = monitor.estimate(tracked, position, update.provider_eta_s, now)
    info.eta_range_s = None if eta is None else (round(eta[1][0], 1), round(eta[1][1], 1))
    fields: dict[str, Any] = {
        "status": update.raw_status,
        "health": tracked.provider.health,
        "device": info.device,
        "eta_range_s": None if info.eta_range_s is None else list(info.eta_range_s),
        "eta_label": "estimate",
        "queue_position": caps.show("queue_position", info.queue_position_display),
        "last_poll": info.last_poll,
        "cost": caps.show("cost", update.cost),
    }
    if status is not None and status.is_terminal:
        return _finish(monitor, tracked, update, fields)
    message = update.message or ("" if tracked.has_message else None)
    tracked.has_message = bool(update.message)
    key = (
        update.raw_status,
        position,
        info.queue_position_display,
        _coarse(eta),
        fields["health"],
        message,
    )
    if key != tracked.last_published or now - tracked.last_published_at >= REFRESH_S:
        job.apply_external(
            status=status,
            queue_position=... if backwards else (position if caps.queue_position else None),
            eta_s=None if eta is None else round(eta[0], 1),
            provider=fields,
            message=message,
        )
        tracked.last_published, tracked.last_published_at = key, now
    return _next_delay(tracked, now)


def _finish(monitor: PollHost, tracked: Tracked, update: StatusUpdate, fields: dict) -> float:
    job, adapter = tracked.job, tracked.adapter
    fields["eta_range_s"] = None
    status = update.status
    if status is _S.COMPLETED:
        try:
            counts, shots = adapter.counts()
        except ProviderError as exc:
            if exc.transient:
                tracked.result_pending, tracked.pending_update = True, update
                error = type(exc)(
                    f"completed on the provider, but fetching the result failed: {exc}"
                )
                return _provider_failed(monitor, tracked, error, time.monotonic())
            job.apply_external(
                status=_S.FAILED, error=("ProviderResultError", str(exc)), provider=fields
            )
        except Exception as exc:
            why = f"{type(exc).__name__}: {exc}"
            message = f"completed on the provider, but its result cannot be read: {why}"
            job.apply_external(
                status=_S.FAILED, error=("ProviderResultError", message), provider=fields
            )
        else:
            ran = _provider_run(adapter)
            result = Result(
                job_id=job.id,
                counts=counts,
                shots=shots,
                value=getattr(adapter, "value", None),
                elapsed_s=(job.elapsed_s or 0.0) if ran is None else ran[0],
            )
            job.apply_external(
                status=_S.COMPLETED,
                result=result,
                progress=1.0,
                provider=fields,
                eta_s=None,
                message="",
                ran=ran,
            )
    elif status is _S.FAILED:
        try:
            reason = adapter.error_message()
        except Exception as exc:
            reason = f"(its reason could not be read: {type(exc).__name__}: {exc})"
        what = f"{tracked.provider.key} reported {update.raw_status} for job {adapter.job_id}"
        job.apply_external(
            status=_S.FAILED,
            error=("ProviderJobFailed", f"{what}: {reason}" if reason else what),
            provider=fields,
        )
    else:
        job.apply_external(
            status=_S.CANCELLED,
            provider=fields,
            message=f"cancelled on the provider ({update.raw_status})",
        )
    tracked.ended_remote = True
    monitor.untrack(tracked)
    return 0.0


def _final_look(tracked: Tracked) -> None:
    try:
        update = tracked.adapter.poll()
    except Exception:
        return
    if isinstance(update, StatusUpdate):
        tracked.info.raw_status = update.raw_status
        tracked.info.queue_position = tracked.info.queue_position_display = None
        tracked.info.eta_range_s = None
        tracked.info.last_poll = iso_utc(time.time())


def _coarse(eta: tuple[float, tuple[float, float]] | None) -> tuple[float, float] | None:
    # Two significant digits: enough to show, few enough to not publish every poll.
    if eta is None:
        return None
    return tuple(float(f"{v:.2g}") for v in eta[1])  # type: ignore[return-value]


def _next_delay(tracked: Tracked, now: float) -> float:
    delay = tracked.interval
    deadline = _budget_deadline(tracked)
    if deadline is not None:
        delay = min(delay, deadline - now)
    return max(_MIN_DELAY_S, delay)


# ------------------------------------------------------------------- errors
def _provider_ok(monitor: PollHost, provider: ProviderState) -> None:
    if monitor.provider_answered(provider):
        monitor.health_changed(provider, None)


def _provider_failed(
    monitor: PollHost, tracked: Tracked, error: ProviderError, now: float
) -> float:
    provider = tracked.provider
    delay, changed = monitor.provider_failed(provider, error, now)
    health, failures = provider.health, provider.failures  # written on this thread only
    tracked.info.errors += 1
    tracked.info.last_error = str(error)
    in_a_row = f"{failures} failure{'s' if failures > 1 else ''} in a row"
    message = f"{provider.key} {health} ({in_a_row}): {error}; next try in {delay:.1f} s"
    tracked.has_message = True
    tracked.job.apply_external(message=message, provider={"health": health})
    if changed:
        monitor.health_changed(provider, error)
    return delay


def _job_problem(monitor: PollHost, tracked: Tracked, error: ProviderError) -> float:
    """Handle an answer about this job only (unknown id, refused request): the provider is up.

    Polled again with backoff. A job whose id is unknown ``monitor.lost_after``
    times in a row fails (a new job's id may take a moment to be known; after
    that, the provider deleted it).
    """
    _provider_ok(monitor, tracked.provider)
    tracked.job_failures += 1
    # Only "unknown id" ends tracking: a refused request says nothing about whether
    # the job still runs (and is billed) on the provider.
    if isinstance(error, ProviderJobNotFound) and tracked.job_failures >= monitor.lost_after:
        what = (
            f"{tracked.provider.key} answered {tracked.job_failures} polls in a row about job "
            f"{tracked.adapter.job_id} with: {error}; no longer polled"
        )
        tracked.info.errors += 1
        tracked.info.last_error = str(error)
        tracked.job.apply_external(status=_S.FAILED, error=(type(error).__name__, what))
        monitor.untrack(tracked)
        return 0.0
    delay = monitor.job_backoff(tracked)
    tracked.info.errors += 1
    tracked.info.last_error = str(error)
    tracked.has_message = True
    tracked.job.apply_external(message=f"{error}; polling again in {delay:.1f} s")
    return delay


# ------------------------------------------------------------------- budget
def _budget_deadline(tracked: Tracked) -> float | None:
    budget, status = tracked.budget, tracked.job.status
    if budget is None or tracked.budget_spent is not None:
        return None
    if budget.max_queued_s is not None and status in (_S.PENDING, _S.QUEUED):
        return (tracked.queued_since or tracked.tracked_since) + budget.max_queued_s
    if (
        budget.max_running_s is not None
        and status is _S.RUNNING
        and tracked.running_since is not None
    ):
        return tracked.running_since + budget.max_running_s
    return None


def _budget_spent(tracked: Tracked, now: float) -> str | None:
    deadline = _budget_deadline(tracked)
    if deadline is None or now < deadline:
        return None
    budget = tracked.budget
    assert budget is not None
    if tracked.job.status is _S.RUNNING:
        return f"it ran longer than its budget of {budget.max_running_s:g} s"
    return f"it waited in the queue longer than its budget of {budget.max_queued_s:g} s"


def _enforce_budget(monitor: PollHost, tracked: Tracked, reason: str, now: float) -> float:
    job, provider = tracked.job, tracked.provider
    if not tracked.adapter.capabilities.cancel:
        tracked.budget_spent = reason
        monitor.notify(
            "warning",
            f"{short_name(job.name)}: budget exceeded",
            f"{reason}, but {provider.key} cannot cancel it",
            job.id,
        )
        return _next_delay(tracked, now)
    try:
        job.cancel(f"budget exceeded: {reason}")
    except Exception as exc:
        cause = exc.__cause__ if isinstance(exc.__cause__, ProviderError) else None
        if cause is not None and not cause.transient:  # refused for good (e.g. it ended)
            tracked.budget_spent = reason
            monitor.notify(
                "warning",
                f"{short_name(job.name)}: budget exceeded",
                f"{reason}, but {provider.key} refused to cancel it: {cause}",
                job.id,
            )
            return 0.0
        error = ProviderError(f"budget exceeded ({reason}), but cancelling failed: {cause or exc}")
        return _provider_failed(monitor, tracked, error, now)
    tracked.budget_spent = reason
    monitor.notify(
        "warning",
        f"{short_name(job.name)}: budget exceeded",
        f"{reason}; the job was cancelled on {provider.key}",
        job.id,
    )
    return 0.0


def _provider_run(adapter: Any) -> tuple[float, float] | None:
    """Return ``(seconds, ended)`` by the provider's own account, if the adapter knows them.

    ``elapsed_s()`` (Aer's ``time_taken``, Braket's timestamps, the work a hook
    timed) and ``ended_mono()`` (``time.monotonic()`` when it ended; unknown:
    now, when the poll sees it ended). None: the times this monitor observed stand.
    """
    seconds = _number(adapter, "elapsed_s")
    if seconds is None:
        return None
    ended = _number(adapter, "ended_mono")
    now = time.monotonic()
    return seconds, now if ended is None else min(ended, now)


def _number(adapter: Any, method: str) -> float | None:
    measure = getattr(adapter, method, None)
    if not callable(measure):
        return None
    try:
        value = measure()
    except Exception:  # an adapter that cannot say falls back to what was observed
        return None
    ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
    return float(value) if ok else None
