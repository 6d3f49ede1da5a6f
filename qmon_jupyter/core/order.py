"""The dashboard's order of jobs: the one rule Python, SQL and the JS renderer follow.

Active jobs come first: running, then paused, queued, pending (:data:`ACTIVE_RANK`);
among jobs of one status, those with a numeric queue position first, by
position, then the oldest first, as they queue. Finished jobs follow, the
most recently finished first. Ties go by job id, so the order is total.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .states import JobStatus

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = [
    "ACTIVE_ORDER_SQL",
    "ACTIVE_RANK",
    "DASHBOARD_ORDER_SQL",
    "FINISHED_ORDER_SQL",
    "active_key",
    "dashboard_order",
    "finished_key",
]

#: active status -> its place on the dashboard (every finished job comes after)
ACTIVE_RANK: dict[str, int] = {
    JobStatus.RUNNING.value: 0,
    JobStatus.PAUSED.value: 1,
    JobStatus.QUEUED.value: 2,
    JobStatus.PENDING.value: 3,
}

_QUEUE_POSITION = "json_extract(snapshot, '$.queue_position')"

#: ORDER BY of the ``jobs`` table's active rows, the rule above in SQL
ACTIVE_ORDER_SQL = (
    "CASE status "
    + " ".join(f"WHEN '{status}' THEN {rank}" for status, rank in ACTIVE_RANK.items())
    + f" ELSE {len(ACTIVE_RANK)} END,"
    " coalesce(json_type(snapshot, '$.queue_position'), 'null') NOT IN ('integer', 'real'),"
    f" {_QUEUE_POSITION}, created_at, id"
)

#: ORDER BY of the ``jobs`` table's finished rows
FINISHED_ORDER_SQL = "finished_at DESC, id DESC"

_IS_ACTIVE = "status IN (" + ", ".join(f"'{status}'" for status in ACTIVE_RANK) + ")"

#: ORDER BY of all the ``jobs`` table's rows at once: the active ones by the active rule
#: (finished rows tie on each of its keys), then the finished ones
DASHBOARD_ORDER_SQL = (
    "CASE status "
    + " ".join(f"WHEN '{status}' THEN {rank}" for status, rank in ACTIVE_RANK.items())
    + f" ELSE {len(ACTIVE_RANK)} END,"
    f" CASE WHEN {_IS_ACTIVE} THEN"
    " coalesce(json_type(snapshot, '$.queue_position'), 'null') NOT IN ('integer', 'real') END,"
    f" CASE WHEN {_IS_ACTIVE} THEN {_QUEUE_POSITION} END,"
    f" CASE WHEN {_IS_ACTIVE} THEN created_at END,"
    f" CASE WHEN {_IS_ACTIVE} THEN id END,"
    f" {FINISHED_ORDER_SQL}"
)


def _position(snap: Mapping[str, Any]) -> tuple[bool, float]:
    # (no numeric position, position): Braket's ">2000" and None sort last
    q = snap.get("queue_position")
    if isinstance(q, (int, float)) and not isinstance(q, bool):
        return (False, float(q))
    return (True, 0.0)


def active_key(snap: Mapping[str, Any]) -> tuple:
    """Sort key of an active job: the smallest comes first."""
    return (ACTIVE_RANK[snap["status"]], *_position(snap), snap["created_at"] or "", snap["id"])


def finished_key(snap: Mapping[str, Any]) -> tuple:
    """Sort key of a finished job: the largest (the latest finished) comes first."""
    return (snap["finished_at"] or "", snap["id"])


def dashboard_order(jobs: Iterable[Mapping[str, Any]]) -> list:
    """Return ``jobs`` (snapshots) in the dashboard's order."""
    active, done = [], []
    for snap in jobs:
        (active if snap["status"] in ACTIVE_RANK else done).append(snap)
    active.sort(key=active_key)
    done.sort(key=finished_key, reverse=True)
    return active + done
