"""Time as every snapshot, event and store row carries it: ISO 8601 UTC ending in ``Z``."""

from __future__ import annotations

import time
from datetime import datetime, timezone

__all__ = ["epoch_of", "iso_now", "iso_utc"]


def iso_utc(timestamp: float | None) -> str | None:
    """``timestamp`` (seconds since the epoch) as ISO 8601 UTC with milliseconds and ``Z``."""
    if timestamp is None:
        return None
    moment = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def iso_now() -> str:
    """Now, in the format of :func:`iso_utc`."""
    return iso_utc(time.time())  # type: ignore[return-value] - never None for a number


def epoch_of(text: str | None) -> float | None:
    """Seconds since the epoch of an ISO 8601 time (a trailing ``Z`` is UTC); None stays None."""
    if not text:
        return None
    moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()
