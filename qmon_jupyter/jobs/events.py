"""The event bus: every state change and throttled progress change, in order.

One dispatcher thread delivers events to subscribers; publishers (job
threads) only append to per-subscriber queues under a short lock, so a slow
or failing subscriber never slows or breaks a job.

Each subscriber's queue has a bound (``max_queue``), and only progress is
ever lost to it:

* ``job.progress`` events are coalesced: of a job's progress events still
  waiting in a queue only the newest is delivered; and when the queue is over
  its bound, the oldest waiting progress events are dropped (and counted in
  ``stats()["dropped"]``). Progress is a sample: a later snapshot supersedes it.
* Every other event (``job.created``, ``job.status``, ``job.checkpoint``,
  ``job.removed``, ``notification.*``, ``system.*``) carries a state change and
  is always delivered, in order, exactly once: when a queue holds nothing but
  such events it grows past its bound rather than lose one (their number is
  bounded by the state changes themselves, not by a job's speed).

One dispatcher thread delivers to every subscriber, so a callback that blocks
delays the others (never a job): callbacks must return quickly.

Event shape (the contract)::

    {"seq": int, "kind": str, "time": iso, "job_id": str | None,
     "snapshot": dict | None, "notification": dict | None, "data": dict | None}

``seq`` increases by one per published event of a bus (one bus per manager).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections import deque
from typing import TYPE_CHECKING, Any

from .snapshot import iso_utc

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

__all__ = ["EVENT_KINDS", "EventBus"]

logger = logging.getLogger(__name__)

#: The kinds the job layer publishes; ``system.*`` kinds are open-ended.
EVENT_KINDS = frozenset(
    {
        "job.created",
        "job.status",
        "job.progress",
        "job.checkpoint",
        "job.removed",
        "notification.created",
        "notification.dismissed",
    }
)

_PROGRESS = "job.progress"
# Events handed to one subscriber per turn, so one busy queue cannot starve the others.
_BATCH = 256


class _Subscriber:
    """One callback and its queue (guarded by the bus's lock)."""

    __slots__ = (
        "callback",
        "dropped",
        "errors",
        "kinds",
        "live",
        "maxlen",
        "pending_progress",
        "progress",
        "queue",
    )

    def __init__(
        self, callback: Callable[[dict], Any], kinds: frozenset[str] | None, maxlen: int
    ) -> None:
        self.callback = callback
        self.kinds = kinds
        self.maxlen = maxlen
        # Each entry is a one-item list, so a coalesced or dropped progress
        # event can be blanked in place (slot[0] = None) without searching the
        # deque; a taken slot is blanked too. ``live`` counts unblanked slots.
        self.queue: deque[list] = deque()
        self.live = 0
        # The progress slots of ``queue``, oldest first: the ones to drop.
        self.progress: deque[list] = deque()
        self.pending_progress: dict[str, list] = {}
        self.dropped = 0
        self.errors = 0

    def offer(self, event: dict) -> None:
        if self.kinds is not None and not _matches(event["kind"], self.kinds):
            return
        slot = [event]
        if event["kind"] == _PROGRESS:
            job_id = event["job_id"]
            if job_id is not None:
                older = self.pending_progress.get(job_id)
                if older is not None:
                    older[0] = None  # superseded: deliver only the newest
                    self.live -= 1
                self.pending_progress[job_id] = slot
            self.progress.append(slot)
        self.queue.append(slot)
        self.live += 1
        while self.live > self.maxlen and self._drop_oldest_progress():
            pass
        bound = 2 * max(self.live, self.maxlen)
        if len(self.queue) > bound or len(self.progress) > bound:
            self._compact()

    def take(self, limit: int) -> list[dict]:
        out: list[dict] = []
        while self.queue and len(out) < limit:
            slot = self.queue.popleft()
            event = slot[0]
            if event is None:
                continue
            self._forget(event, slot)
            slot[0] = None
            self.live -= 1
            out.append(event)
        if not self.queue:
            self.progress.clear()
        return out

    def _drop_oldest_progress(self) -> bool:
        """Drop the oldest waiting progress event; False if none waits."""
        while self.progress:
            slot = self.progress.popleft()
            event = slot[0]
            if event is not None:
                self._forget(event, slot)
                slot[0] = None
                self.live -= 1
                self.dropped += 1
                return True
        return False

    def _compact(self) -> None:
        # Blanked slots are skipped when taken; shed them so a queue full of
        # superseded progress stays proportional to what it still holds.
        self.queue = deque(s for s in self.queue if s[0] is not None)
        self.progress = deque(s for s in self.progress if s[0] is not None)

    def _forget(self, event: dict, slot: list) -> None:
        if event["kind"] == _PROGRESS and self.pending_progress.get(event["job_id"]) is slot:
            del self.pending_progress[event["job_id"]]


def _matches(kind: str, kinds: frozenset[str]) -> bool:
    return kind in kinds or any(k.endswith("*") and kind.startswith(k[:-1]) for k in kinds)


class EventBus:
    """Ordered events to any number of subscribers, off the publishers' threads.

    Parameters
    ----------
    max_queue
        Default bound of each subscriber's queue (events not yet delivered).
    """

    def __init__(self, *, max_queue: int = 10_000) -> None:
        self.max_queue = max_queue
        # Guards _seq, _subscribers, every subscriber's queue, _closed and
        # _delivering; the condition wakes the dispatcher when work arrives and
        # wakes flush() when the queues drain.
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._seq = 0
        self._subscribers: list[_Subscriber] = []
        self._closed = False
        self._delivering = 0
        self._thread: threading.Thread | None = None

    @property
    def last_seq(self) -> int:
        """The sequence number of the newest published event (0 before any)."""
        return self._seq

    def subscribe(
        self,
        callback: Callable[[dict], Any],
        *,
        kinds: Iterable[str] | None = None,
        max_queue: int | None = None,
    ) -> Callable[[], None]:
        """Call ``callback(event)`` for each event from now on; returns ``unsubscribe``.

        ``kinds`` restricts delivery (``"system.*"`` matches a prefix). The
        callback runs on the bus's dispatcher thread; it must not block for
        long, and its exceptions are logged and counted, never propagated.
        """
        sub = _Subscriber(
            callback, None if kinds is None else frozenset(kinds), max_queue or self.max_queue
        )
        with self._lock:
            if self._closed:
                raise RuntimeError("the event bus is closed")
            self._subscribers = [*self._subscribers, sub]
            self._ensure_thread()

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = [s for s in self._subscribers if s is not sub]

        return unsubscribe

    def publish(
        self,
        kind: str,
        *,
        job_id: str | None = None,
        snapshot: dict | None = None,
        notification: dict | None = None,
        data: dict | None = None,
    ) -> dict:
        """Give ``kind`` the next ``seq`` and queue it for every subscriber."""
        event = {
            "seq": 0,
            "kind": kind,
            "time": iso_utc(time.time()),
            "job_id": job_id,
            "snapshot": snapshot,
            "notification": notification,
            "data": data,
        }
        with self._lock:
            self._seq += 1
            event["seq"] = self._seq
            if self._subscribers and not self._closed:
                for sub in self._subscribers:
                    sub.offer(event)
                self._cond.notify_all()
        return event

    def has_subscribers(self, kind: str | None = None) -> bool:
        """Whether anyone would receive an event of ``kind`` (any kind if None)."""
        subs = self._subscribers  # replaced, never mutated: safe to read unlocked
        if kind is None:
            return bool(subs)
        return any(s.kinds is None or _matches(kind, s.kinds) for s in subs)

    def stats(self) -> list[dict]:
        """Per subscriber: queued events, dropped events, callback errors."""
        with self._lock:
            return [
                {"queued": s.live, "dropped": s.dropped, "errors": s.errors}
                for s in self._subscribers
            ]

    def flush(self, timeout: float | None = 5.0) -> bool:
        """Wait until every queued event was delivered; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while self._delivering or any(s.live for s in self._subscribers):
                if self._thread is None or not self._thread.is_alive():
                    return False
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining if remaining is None else min(remaining, 0.1))
        return True

    def close(self, timeout: float | None = 1.0) -> None:
        """Deliver what is queued (up to ``timeout``), then stop the dispatcher."""
        self.flush(timeout)
        with self._lock:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _ensure_thread(self) -> None:
        # Caller holds self._lock.
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=_dispatch_loop,
                args=(weakref.ref(self), self._cond),
                name="qmon-events",
                daemon=True,
            )
            self._thread.start()

    def _take_locked(self) -> list[tuple[_Subscriber, list[dict]]]:
        work = []
        for sub in self._subscribers:
            events = sub.take(_BATCH)
            if events:
                work.append((sub, events))
        if work:
            self._delivering += 1
        return work


def _dispatch_loop(bus_ref: weakref.ReferenceType[EventBus], cond: threading.Condition) -> None:
    # Holds the bus only while taking or delivering a batch, so a forgotten
    # bus (and its manager) can be collected and this thread then exits.
    while True:
        with cond:
            while True:
                bus = bus_ref()
                if bus is None or bus._closed:
                    return
                work = bus._take_locked()
                if work:
                    break
                del bus
                cond.notify_all()  # flush() waiters: the queues are empty
                cond.wait(1.0)
        try:
            for sub, events in work:
                for event in events:
                    try:
                        sub.callback(event)
                    except Exception:  # noqa: PERF203 - one failing event must not stop the rest
                        sub.errors += 1
                        if sub.errors == 1 or sub.errors % 1000 == 0:
                            logger.exception("qmon event subscriber %r failed", sub.callback)
        finally:
            with cond:
                bus._delivering -= 1
                cond.notify_all()
            del bus, work
