"""Bounded, compact pages of jobs for the dashboard's comm messages.

A snapshot carries more than a row shows (owner, kernel, seed, the top-16
outcomes...). The dashboard sends each job in the window trimmed to what the
renderer draws, without null values and with long texts cut, so an update
stays under 16 KB even with 1,000 jobs in the manager.
"""

from __future__ import annotations

import heapq
from typing import Any

from qmon_jupyter.core.columns import DASHBOARD, sort_snapshots
from qmon_jupyter.core.order import active_key, dashboard_order, finished_key
from qmon_jupyter.core.search import search_matches
from qmon_jupyter.core.snapshot import SNAPSHOT_KEYS
from qmon_jupyter.core.states import ACTIVE as _STATES_ACTIVE
from qmon_jupyter.core.text import NAME_MAX, short_name

__all__ = ["ACTIVE", "MAX_PAGE_SIZE", "PAGE_SIZE", "compact_snapshot", "select_window"]

ACTIVE = frozenset(str(status) for status in _STATES_ACTIVE)
#: jobs on one page of the dashboard unless its view asks for another number
PAGE_SIZE = 25
#: the most a view may ask for (the update budget cuts a page of long rows shorter)
MAX_PAGE_SIZE = 100

# What a row draws: the snapshot's keys less those only the store and REST need.
_DROP = frozenset({"schema", "owner", "kernel_id", "started_at", "result_summary", "seed"})
_KEEP = (*(key for key in SNAPSHOT_KEYS if key not in _DROP), "executor_info")
_ROUND = {"progress": 4, "rate": 1, "eta_s": 1, "elapsed_s": 2, "done": 3}
_MAX_TEXT = {"name": NAME_MAX, "message": 240, "stage": 80}
_MAX_ERROR = 600
#: a session's row carries this many of its jobs (active first, then the latest)
MAX_CHILDREN = 6


def _cut(text: Any, limit: int) -> Any:
    return short_name(text, limit) if isinstance(text, str) else text


def compact_snapshot(snapshot: dict) -> dict:
    """Return what a dashboard row needs from a snapshot, with long texts shortened."""
    out = {key: snapshot.get(key) for key in _KEEP}
    for key, digits in _ROUND.items():
        value = out.get(key)
        if isinstance(value, float):
            out[key] = round(value, digits)
    for key, limit in _MAX_TEXT.items():
        out[key] = _cut(out.get(key), limit)
    error = out.get("error")
    if isinstance(error, dict):
        message = _cut(error.get("message"), _MAX_ERROR)
        out["error"] = {"type": error.get("type"), "message": message}
    provider = snapshot.get("provider")
    if isinstance(provider, dict):
        out["provider"] = {
            k: provider.get(k) for k in ("name", "status", "eta_range_s", "health") if k in provider
        }
    if snapshot.get("resumed_from"):
        out["resumed_from"] = snapshot["resumed_from"]
    # The renderer treats a missing key as null: leave nulls out.
    return {key: value for key, value in out.items() if value is not None}


def _dashboard_page(active: list[dict], recent: list[dict], end: int) -> list[dict]:
    # Only the page is ever shown: pick the first ``end`` without sorting a long history.
    first = heapq.nsmallest(end, active, key=active_key)
    return first + heapq.nlargest(end - len(first), recent, key=finished_key)


def select_window(
    snapshots: list[dict],
    *,
    status: str = "",
    job_type: str = "",
    q: str = "",
    sort: str = "",
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> tuple[list[dict], dict]:
    """One page of the matching jobs, compacted, plus counts of all of them.

    The page is ``limit`` jobs from ``offset`` in the dashboard's order
    (active first, then the most recently finished; ``sort`` empty or
    ``"dashboard"``), or by a column when ``sort`` names one
    (:mod:`qmon_jupyter.core.columns`). ``q`` keeps the jobs whose name or id
    contains it (:mod:`qmon_jupyter.core.search`). A session's jobs are not
    rows of their own: its row carries ``children``, the first
    :data:`MAX_CHILDREN` of them in the dashboard's order.
    """
    limit = max(1, min(int(limit), MAX_PAGE_SIZE))
    offset = max(0, int(offset))
    by_status: dict[str, int] = {}
    active: list[dict] = []
    recent: list[dict] = []
    children: dict[str, list[dict]] = {}
    for snap in snapshots:
        if snap.get("parent_id"):
            children.setdefault(snap["parent_id"], []).append(snap)
            continue
        by_status[snap.get("status")] = by_status.get(snap.get("status"), 0) + 1
        if (status and snap.get("status") != status) or (job_type and snap.get("type") != job_type):
            continue
        if not search_matches(snap, q):
            continue
        (active if snap.get("status") in ACTIVE else recent).append(snap)
    matching = len(active) + len(recent)
    # A page past the end (the matches shrank) shows the last page instead.
    if offset >= matching:
        offset = max(0, (matching - 1) // limit * limit)
    if sort and sort != DASHBOARD:
        ordered = sort_snapshots(active + recent, sort)
    else:
        ordered = _dashboard_page(active, recent, offset + limit)
    window = ordered[offset : offset + limit]
    counts = {
        "total": sum(by_status.values()),
        "matching": matching,
        "offset": offset,
        "limit": limit,
        "by_status": by_status,
    }
    rows = [compact_snapshot(s) for s in window]
    for row in rows:
        if row["id"] in children:
            first = dashboard_order(children[row["id"]])[:MAX_CHILDREN]
            row["children"] = [compact_snapshot(child) for child in first]
    return rows, counts
