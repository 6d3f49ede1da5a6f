"""The table's sortable columns: one rule for the widget (in Python), REST (in SQL) and JS.

A sort is a column's name, ascending, or ``-name``, descending; ``dashboard``
(:data:`DASHBOARD`) is the dashboard's own order (:mod:`qmon_jupyter.core.order`).
Jobs without a value (no ETA, no backend) come last either way, and ties go
by id in the sort's direction, so the order is total and a page never
repeats or skips a job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .order import ACTIVE_RANK, DASHBOARD_ORDER_SQL, dashboard_order
from .search import fold
from .states import JobStatus

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

__all__ = [
    "DASHBOARD",
    "SORT_CHOICES",
    "SORT_COLUMNS",
    "check_sort",
    "order_by_sql",
    "parse_sort",
    "sort_snapshots",
]

#: the sort that is the dashboard's order: active jobs first, then the latest finished
DASHBOARD = "dashboard"

#: status -> its place when sorting by status: the dashboard's ranks, then the finished ones
_STATUS_RANK = {**ACTIVE_RANK}
for _status in JobStatus:
    _STATUS_RANK.setdefault(_status.value, len(_STATUS_RANK))


def _number(key: str) -> Callable[[Mapping[str, Any]], Any]:
    def value(snap: Mapping[str, Any]) -> Any:
        v = snap.get(key)
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None

    return value


def _text(key: str) -> Callable[[Mapping[str, Any]], Any]:
    def value(snap: Mapping[str, Any]) -> Any:
        v = snap.get(key)
        return fold(str(v)) if v not in (None, "") else None

    return value


def _status(snap: Mapping[str, Any]) -> Any:
    return _STATUS_RANK.get(str(snap.get("status")))


def _json_number(key: str) -> str:
    return (
        f"(CASE WHEN json_type(snapshot, '$.{key}') IN ('integer', 'real')"
        f" THEN json_extract(snapshot, '$.{key}') END)"
    )


def _sql_text(column: str) -> str:
    # lower() folds the ASCII letters only, as :func:`~qmon_jupyter.core.search.fold` does
    return f"lower(nullif({column}, ''))"


#: column -> (value of a snapshot, or None; the same value as an SQL expression on ``jobs``)
SORT_COLUMNS: dict[str, tuple[Callable[[Mapping[str, Any]], Any], str]] = {
    "status": (
        _status,
        "CASE status "
        + " ".join(f"WHEN '{s}' THEN {rank}" for s, rank in _STATUS_RANK.items())
        + " END",
    ),
    "name": (_text("name"), _sql_text("name")),
    "progress": (_number("progress"), _json_number("progress")),
    "eta": (_number("eta_s"), _json_number("eta_s")),
    "elapsed": (_number("elapsed_s"), _json_number("elapsed_s")),
    "backend": (_text("backend"), _sql_text("backend")),
    "kernel": (_text("kernel_id"), _sql_text("kernel_id")),
    "created": (_text("created_at"), _sql_text("created_at")),
}

#: every accepted value of a ``sort`` (REST's ``GET jobs?sort=``, the widget's view)
SORT_CHOICES: tuple[str, ...] = (
    DASHBOARD,
    *(spec for column in SORT_COLUMNS for spec in (column, f"-{column}")),
)


def check_sort(spec: str) -> str:
    """Return ``spec`` if it is one of :data:`SORT_CHOICES`, else raise ValueError naming them."""
    if spec not in SORT_CHOICES:
        raise ValueError(f"unknown sort {spec!r}; expected one of {', '.join(SORT_CHOICES)}")
    return spec


def parse_sort(spec: str) -> tuple[str, bool]:
    """Return ``(column, descending)`` of a column's sort such as ``"-eta"``; ValueError if not."""
    if spec == DASHBOARD or check_sort(spec) != spec:
        raise ValueError(f"{spec!r} is not a column's sort")
    return spec.removeprefix("-"), spec.startswith("-")


def order_by_sql(spec: str) -> str:
    """Return the ORDER BY of the ``jobs`` table for a sort (the rule of :func:`sort_snapshots`)."""
    if spec == DASHBOARD:
        return DASHBOARD_ORDER_SQL
    column, descending = parse_sort(spec)
    expr = SORT_COLUMNS[column][1]
    way = "DESC" if descending else "ASC"
    return f"({expr}) IS NULL, {expr} {way}, id {way}"


def sort_snapshots(snapshots: Iterable[Mapping[str, Any]], spec: str) -> list:
    """Return ``snapshots`` sorted by a sort such as ``"name"``, ``"-elapsed"``, ``"dashboard"``."""
    if spec == DASHBOARD:
        return dashboard_order(snapshots)
    column, descending = parse_sort(spec)
    value = SORT_COLUMNS[column][0]
    valued, missing = [], []
    for snap in snapshots:
        v = value(snap)
        (missing if v is None else valued).append((v, str(snap.get("id") or ""), snap))
    valued.sort(key=lambda t: t[:2], reverse=descending)
    missing.sort(key=lambda t: t[1], reverse=descending)
    return [t[2] for t in valued + missing]
