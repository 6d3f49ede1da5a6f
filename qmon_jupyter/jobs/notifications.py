"""Dashboard notifications: job outcomes and system events, bounded and expiring."""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from qmon_jupyter.core.timefmt import iso_utc

if TYPE_CHECKING:
    from .events import EventBus

__all__ = ["LEVELS", "DashboardNotification", "NotificationCenter"]

LEVELS = ("info", "success", "warning", "error")

#: Auto-dismiss delay by level when ``notify`` is not given one (None: stays).
DEFAULT_TTL_S: dict[str, float | None] = {
    "info": 60.0,
    "success": 120.0,
    "warning": 600.0,
    "error": None,
}


@dataclass
class DashboardNotification:
    """One notification shown on the dashboard.

    Attributes
    ----------
    id
        12 hex digits.
    level
        ``"info"``, ``"success"``, ``"warning"`` or ``"error"``.
    title, message
        Plain text (rendered as text, never as HTML).
    job_id
        The job it is about, or None for system notifications.
    created_at
        Epoch seconds.
    ttl_s
        Auto-dismiss after this many seconds; None keeps it until dismissed.
    dismissed
        Whether it was dismissed (by a user, its TTL or eviction).
    """

    level: str
    title: str
    message: str = ""
    job_id: str | None = None
    ttl_s: float | None = None
    kind: str | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    created_at: float = field(default_factory=time.time)
    dismissed: bool = False

    def expired(self, now: float) -> bool:
        """Whether the TTL has run out at ``now`` (epoch seconds)."""
        return self.ttl_s is not None and now - self.created_at >= self.ttl_s

    def to_dict(self) -> dict:
        """Return the JSON-safe form the dashboard and REST carry."""
        return {
            "id": self.id,
            "level": self.level,
            "title": self.title,
            "message": self.message,
            "job_id": self.job_id,
            "kind": self.kind,
            "created_at": iso_utc(self.created_at),
            "ttl_s": self.ttl_s,
            "dismissed": self.dismissed,
        }


_DEFAULT = object()


class NotificationCenter:
    """Notifications for one manager, newest last.

    Parameters
    ----------
    events
        Where ``notification.created`` and ``notification.dismissed`` go.
    max_notifications
        How many are kept; the oldest is evicted (dismissed) first.
    default_ttl_s
        Auto-dismiss delay per level (see :data:`DEFAULT_TTL_S`).
    """

    def __init__(
        self,
        events: EventBus | None = None,
        *,
        max_notifications: int = 100,
        default_ttl_s: dict[str, float | None] | None = None,
    ) -> None:
        if max_notifications < 1:
            raise ValueError(f"max_notifications must be at least 1, not {max_notifications}")
        self.events = events
        self.max_notifications = max_notifications
        self.default_ttl_s = {**DEFAULT_TTL_S, **(default_ttl_s or {})}
        # Guards _items (id -> notification, oldest first) and each one's
        # `dismissed` flag. Events are published while it is held, so their
        # order matches the order of the changes.
        self._lock = threading.Lock()
        self._items: OrderedDict[str, DashboardNotification] = OrderedDict()

    def notify(
        self,
        level: str,
        title: str,
        message: str = "",
        *,
        job_id: str | None = None,
        ttl_s: float | object | None = _DEFAULT,
        kind: str | None = None,
    ) -> DashboardNotification:
        """Raise a notification; evicts the oldest beyond ``max_notifications``."""
        if level not in LEVELS:
            raise ValueError(f"unknown notification level {level!r}; use one of {LEVELS}")
        ttl = self.default_ttl_s.get(level) if ttl_s is _DEFAULT else ttl_s
        note = DashboardNotification(
            level=level, title=title, message=message, job_id=job_id, ttl_s=ttl, kind=kind
        )
        self.expire()
        with self._lock:
            self._items[note.id] = note
            self._publish("notification.created", note)
            while len(self._items) > self.max_notifications:
                _, oldest = self._items.popitem(last=False)
                if not oldest.dismissed:
                    oldest.dismissed = True
                    self._publish("notification.dismissed", oldest, reason="evicted")
        return note

    def dismiss(self, notification_id: str, user: str | None = None) -> DashboardNotification:
        """Dismiss one notification; KeyError naming the id if unknown."""
        with self._lock:
            note = self._items.get(notification_id)
            if note is None:
                raise KeyError(f"no notification with id {notification_id!r}")
            if not note.dismissed:
                note.dismissed = True
                self._publish("notification.dismissed", note, reason="user", user=user)
        return note

    def get(self, notification_id: str) -> DashboardNotification:
        """One notification by id; KeyError naming the id if unknown."""
        with self._lock:
            try:
                return self._items[notification_id]
            except KeyError:
                raise KeyError(f"no notification with id {notification_id!r}") from None

    def list(self, include_dismissed: bool = False) -> list[DashboardNotification]:
        """Notifications, oldest first (expired ones are dismissed first)."""
        self.expire()
        with self._lock:
            return [n for n in self._items.values() if include_dismissed or not n.dismissed]

    def expire(self, now: float | None = None) -> int:
        """Dismiss every notification whose TTL ran out; returns how many."""
        now = time.time() if now is None else now
        count = 0
        with self._lock:
            for note in self._items.values():
                if not note.dismissed and note.expired(now):
                    note.dismissed = True
                    count += 1
                    self._publish("notification.dismissed", note, reason="expired")
        return count

    def clear(self) -> None:
        """Forget every notification (dismissing those still shown)."""
        with self._lock:
            for note in self._items.values():
                if not note.dismissed:
                    note.dismissed = True
                    self._publish("notification.dismissed", note, reason="cleared")
            self._items.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def _publish(self, kind: str, note: DashboardNotification, **data: object) -> None:
        # Caller holds self._lock.
        if self.events is not None:
            self.events.publish(
                kind,
                job_id=note.job_id,
                notification=note.to_dict(),
                data={k: v for k, v in data.items() if v is not None} or None,
            )
