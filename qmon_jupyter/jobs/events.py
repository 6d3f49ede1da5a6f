"""The event bus: every state change and throttled progress change, in order.

Each subscriber has its own queue and its own delivery thread; publishers
(job threads) only append to the queues under a short lock, so a slow or
failing subscriber never slows or breaks a job, nor delays the other
subscribers.

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

A callback that blocks delays only its own later events. The delivery
threads are daemons; one exits when its subscriber unsubscribes, when the
bus closes, or soon after the bus is garbage-collected.

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

from qmon_jupyter.core.timefmt import iso_utc

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
# Events a delivery thread takes out of its queue at once (the lock is held meanwhile).
_BATCH = 256


class _Subscriber:
    """One callback and its queue (guarded by the bus's lock)."""

    __slots__ = (
        "__weakref__",
        "active",
        "callback",
        "delivering",
        "dropped",
        "errors",
        "kinds",
        "live",
        "maxlen",
        "pending_progress",
        "progress",
        "queue",
        "thread",
        "wake",
    )

    def __init__(
        self,
        callback: Callable[[dict], Any],
        kinds: frozenset[str] | None,
        maxlen: int,
        lock: threading.Lock,
    ) -> None:
        self.callback = callback
        self.kinds = kinds
        self.maxlen = maxlen
        self.wake = threading.Condition(lock)  # the bus's lock: wakes this delivery thread
        self.active = True  # False once unsubscribed
        self.delivering = False  # a batch is out of the queue, not yet delivered
        self.thread: threading.Thread | None = None
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

    def offer(self, event: dict) -> bool:
        """Queue ``event`` if this subscriber wants it; whether it did."""
        if self.kinds is not None and not _matches(event["kind"], self.kinds):
            return False
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
        return True

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
        # Guards _seq, _subscribers, every subscriber's queue and flags, and
        # _closed. Each subscriber's ``wake`` condition (on this lock) wakes
        # its delivery thread; _drained wakes flush() when a queue drains.
        self._lock = threading.Lock()
        self._drained = threading.Condition(self._lock)
        self._seq = 0
        self._subscribers: list[_Subscriber] = []
        self._closed = False

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
        callback runs on this subscriber's own delivery thread (a blocking
        callback delays only its own events); its exceptions are logged and
        counted, never propagated.
        """
        sub = _Subscriber(
            callback,
            None if kinds is None else frozenset(kinds),
            max_queue or self.max_queue,
            self._lock,
        )
        with self._lock:
            if self._closed:
                raise RuntimeError("the event bus is closed")
            # The thread holds the bus and its subscriber weakly: a forgotten bus (and a
            # manager its callbacks refer to) can still be collected.
            sub.thread = threading.Thread(
                target=_deliver_loop,
                args=(weakref.ref(self), weakref.ref(sub), sub.wake, self._drained),
                name="qmon-events",
                daemon=True,
            )
            sub.thread.start()
            self._subscribers = [*self._subscribers, sub]

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = [s for s in self._subscribers if s is not sub]
                sub.active = False
                sub.wake.notify()
                self._drained.notify_all()

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
            if not self._closed:
                for sub in self._subscribers:
                    if sub.offer(event):
                        sub.wake.notify()
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
        me = threading.current_thread()  # a callback flushing: not waiting for itself
        with self._lock:
            while busy := [
                s for s in self._subscribers if (s.live or s.delivering) and s.thread is not me
            ]:
                if not all(s.thread is not None and s.thread.is_alive() for s in busy):
                    return False
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._drained.wait(0.1 if remaining is None else min(remaining, 0.1))
        return True

    def close(self, timeout: float | None = 1.0) -> None:
        """Deliver what is queued (up to ``timeout``), then stop the delivery threads."""
        self.flush(timeout)
        with self._lock:
            self._closed = True
            subs = self._subscribers
            for sub in subs:
                sub.wake.notify()
        deadline = None if timeout is None else time.monotonic() + timeout
        for sub in subs:
            thread = sub.thread
            if thread is not None and thread is not threading.current_thread():
                thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))


def _deliver_loop(
    bus_ref: weakref.ReferenceType[EventBus],
    sub_ref: weakref.ReferenceType[_Subscriber],
    wake: threading.Condition,
    drained: threading.Condition,
) -> None:
    # One subscriber's delivery thread. It holds the bus and the subscriber
    # only while taking or delivering a batch, so a forgotten bus (and its
    # manager, even one its callback refers to) can be collected; the thread
    # then exits.
    while True:
        with wake:
            while True:
                bus, sub = bus_ref(), sub_ref()
                if bus is None or sub is None or bus._closed or not sub.active:
                    drained.notify_all()
                    return
                events = sub.take(_BATCH)
                if events:
                    sub.delivering = True
                    break
                del bus, sub
                drained.notify_all()  # flush() waiters: this queue is empty
                wake.wait(1.0)
        try:
            for event in events:
                if not sub.active:
                    break  # unsubscribed meanwhile: nothing more reaches the callback
                try:
                    sub.callback(event)
                except Exception:  # one failing event must not stop the rest
                    sub.errors += 1
                    if sub.errors == 1 or sub.errors % 1000 == 0:
                        logger.exception("qmon event subscriber %r failed", sub.callback)
        finally:
            with wake:
                sub.delivering = False
                drained.notify_all()
            del bus, sub, events
