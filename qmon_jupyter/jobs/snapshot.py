"""The job snapshot: the one JSON object that describes a job, schema version 1.

The widget, the store, REST and the event stream all carry this dict; it is
built here and nowhere else. Every value is JSON-safe (str, int, float, bool,
None, lists and dicts of those). Readers must accept keys they do not know
(``resumed_from`` is one such extra key), and writers add keys only here.

Extra keys every snapshot has: ``executor_info``, the executor's own
description (``executor.info()``, e.g. ``{"name": "dask", "address",
"workers"}``) or null when the job's executor has none; ``executor`` stays
the executor's name (a string).
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "SCHEMA_VERSION",
    "SNAPSHOT_KEYS",
    "iso_utc",
    "make_snapshot",
    "summarize_counts",
]

SCHEMA_VERSION = 1

#: Every key a version-1 snapshot has, in display order.
SNAPSHOT_KEYS: tuple[str, ...] = (
    "schema",
    "id",
    "name",
    "type",
    "status",
    "progress",
    "done",
    "total",
    "unit",
    "stage",
    "message",
    "rate",
    "eta_s",
    "queue_position",
    "backend",
    "executor",
    "owner",
    "kernel_id",
    "created_at",
    "started_at",
    "finished_at",
    "elapsed_s",
    "error",
    "result_summary",
    "capabilities",
    "provider",
    "seed",
    "updated_at",
)

#: How many outcomes ``result_summary["top"]`` keeps.
TOP_OUTCOMES = 16


def iso_utc(timestamp: float | None) -> str | None:
    """``timestamp`` (seconds since the epoch) as ISO 8601 UTC ending in ``Z``."""
    if timestamp is None:
        return None
    moment = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def summarize_counts(counts: dict[str, int] | None, top: int = TOP_OUTCOMES) -> dict | None:
    """``{"top": [[bitstring, count], ...], "shots": n}``, most frequent first."""
    if counts is None:
        return None
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return {"top": [[key, int(value)] for key, value in ranked], "shots": int(sum(counts.values()))}


def _finite(value: float | None) -> float | None:
    # NaN and infinity are not JSON; an unknown rate or ETA is null.
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _executor_info(info: dict | Callable[[], dict | None] | None) -> dict | None:
    if callable(info):
        try:
            info = info()
        except Exception:  # a snapshot never fails because an executor cannot describe itself
            return None
    return dict(info) if isinstance(info, dict) else None


def make_snapshot(
    *,
    id: str,  # noqa: A002 - the snapshot's key
    name: str,
    type: str,  # noqa: A002 - the snapshot's key
    status: str,
    progress: float,
    done: float,
    total: float | None,
    unit: str,
    stage: str | None,
    message: str | None,
    rate: float | None,
    eta_s: float | None,
    queue_position: int | None,
    backend: str,
    executor: str | None,
    owner: str,
    kernel_id: str,
    created_at: float,
    started_at: float | None,
    finished_at: float | None,
    elapsed_s: float | None,
    error: dict | None,
    result_summary: dict | None,
    capabilities: dict[str, bool],
    provider: dict | None,
    seed: int | None,
    updated_at: float,
    executor_info: dict | Callable[[], dict | None] | None = None,
    **extra: Any,
) -> dict:
    """Build a version-1 snapshot; times are epoch seconds, rendered as ISO 8601 UTC.

    ``executor_info`` is a dict or a callable returning one (an executor's
    bound ``info``, asked now so the worker count is current); it becomes
    the ``executor_info`` key (null when absent or when asking fails).
    ``extra`` keys (for example ``resumed_from``) are appended after the
    schema's keys; they must be JSON-safe.
    """
    done_value: float = done if isinstance(done, int) else float(done)
    snapshot = {
        "schema": SCHEMA_VERSION,
        "id": id,
        "name": name,
        "type": str(type),
        "status": str(status),
        "progress": min(1.0, max(0.0, float(progress))),
        "done": done_value,
        "total": total,
        "unit": unit,
        "stage": stage,
        "message": message,
        "rate": _finite(rate),
        "eta_s": _finite(eta_s),
        "queue_position": queue_position,
        "backend": backend,
        "executor": executor,
        "owner": owner,
        "kernel_id": kernel_id,
        "created_at": iso_utc(created_at),
        "started_at": iso_utc(started_at),
        "finished_at": iso_utc(finished_at),
        "elapsed_s": _finite(elapsed_s),
        "error": error,
        "result_summary": result_summary,
        "capabilities": {
            "cancel": bool(capabilities.get("cancel", False)),
            "pause": bool(capabilities.get("pause", False)),
            "queue_position": bool(capabilities.get("queue_position", False)),
            "eta": bool(capabilities.get("eta", False)),
        },
        "provider": provider,
        "seed": seed,
        "updated_at": iso_utc(updated_at),
        "executor_info": _executor_info(executor_info),
    }
    snapshot.update(extra)
    return snapshot
