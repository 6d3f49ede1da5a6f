"""The server's side of the store: reads over every kernel, commands, audit, liveness."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from qmon_jupyter.core.columns import order_by_sql
from qmon_jupyter.core.order import ACTIVE_ORDER_SQL, FINISHED_ORDER_SQL
from qmon_jupyter.core.search import SEARCH_SQL, search_args
from qmon_jupyter.core.stats import JobRecord, job_statistics
from qmon_jupyter.core.timefmt import epoch_of, iso_now

from ._detached import NOT_DETACHED_SQL, DetachedJobs, detach
from ._schema import TERMINAL_SQL as _TERMINAL_SQL

if TYPE_CHECKING:
    import sqlite3
    import threading
    from contextlib import AbstractContextManager
    from pathlib import Path

__all__ = ["StoreQueries"]


#: a job's session (the snapshot's ``parent_id``, null for top-level jobs): a generated column
_PARENT_SQL = "parent_id"


def _job_filter(
    status: list[str] | None,
    type_: list[str] | None,
    kernel: list[str] | None,
    q: str | None = None,
    parent: str | None = None,
) -> tuple[str, list[str]]:
    """Return the WHERE clause (and its arguments) of a jobs query's filters.

    ``parent``: None for every job, ``""`` for top-level jobs only, a session's
    id for its children.
    """
    where, args = [], []
    if parent == "":
        where.append(f"{_PARENT_SQL} IS NULL")
    elif parent is not None:
        where.append(f"{_PARENT_SQL} = ?")
        args.append(parent)
    for column, values in (("status", status), ("type", type_), ("kernel_id", kernel)):
        if values:
            where.append(f"{column} IN ({','.join('?' * len(values))})")
            args.extend(values)
    if q:
        where.append(SEARCH_SQL)
        args.extend(search_args(q))
    return (f" WHERE {' AND '.join(where)}" if where else ""), args


#: orders ``list_jobs`` knows (each but ``active`` has an index; active jobs are few);
#: ``active`` and ``finished`` are the dashboard's (:mod:`qmon_jupyter.core.order`)
_ORDERS = {
    "newest": "created_at DESC, rowid DESC",
    "oldest": "created_at ASC, rowid ASC",
    "active": ACTIVE_ORDER_SQL,
    "finished": FINISHED_ORDER_SQL,
}


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), default=str)


class StoreQueries(DetachedJobs):
    """Reads and server-side writes; mixed into :class:`Store`."""

    path: Path
    _lock: threading.Lock

    if TYPE_CHECKING:

        def _reading(self) -> AbstractContextManager[sqlite3.Connection]: ...
        def _tx(self) -> AbstractContextManager[sqlite3.Connection]: ...

    # -- jobs ----------------------------------------------------------------------

    def get_job(self, job_id: str) -> dict[str, Any] | None:
        """One job's latest snapshot, or None."""
        with self._reading() as c:
            row = c.execute("SELECT snapshot FROM jobs WHERE id=?", (job_id,)).fetchone()
        return None if row is None else json.loads(row[0])

    def list_jobs(
        self,
        *,
        status: list[str] | None = None,
        type: list[str] | None = None,  # noqa: A002 - the REST parameter's name
        kernel: list[str] | None = None,
        limit: int = 50,
        offset: int = 0,
        order: str = "newest",
        q: str | None = None,
        parent: str | None = None,
        sort: str | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        """Jobs over every kernel (``order``: a key of ``_ORDERS``), and the total.

        ``q`` keeps the jobs whose name or id contains it (:mod:`qmon_jupyter.core.search`);
        ``parent`` as :func:`_job_filter` says (None: every job).
        ``sort`` (a column, ``-column`` descending: :mod:`qmon_jupyter.core.columns`)
        replaces ``order`` when given.
        """
        clause, args = _job_filter(status, type, kernel, q, parent)
        with self._reading() as c:
            total = c.execute(f"SELECT count(*) FROM jobs{clause}", args).fetchone()[0]  # noqa: S608
        ids = self.job_rowids(
            status=status,
            type=type,
            kernel=kernel,
            limit=limit,
            offset=offset,
            order=order,
            q=q,
            parent=parent,
            sort=sort,
        )
        return self.jobs_by_rowid(ids), int(total)

    def job_rowids(
        self,
        *,
        status: list[str] | None = None,
        type: list[str] | None = None,  # noqa: A002 - the REST parameter's name
        kernel: list[str] | None = None,
        limit: int = -1,
        offset: int = 0,
        order: str = "newest",
        q: str | None = None,
        parent: str | None = None,
        sort: str | None = None,
    ) -> list[int]:
        """Row ids of the matching jobs in ``order`` (all of them by default: ints are cheap).

        Sorting row ids is covered by the indexes; :meth:`jobs_by_rowid` then
        fetches only the snapshots wanted. Sorting whole rows would drag every
        snapshot through SQLite's sorter.
        """
        clause, args = _job_filter(status, type, kernel, q, parent)
        order_by = order_by_sql(sort) if sort else _ORDERS[order]
        with self._reading() as c:
            return [
                r[0]
                for r in c.execute(
                    f"SELECT rowid FROM jobs{clause} ORDER BY {order_by} LIMIT ? OFFSET ?",  # noqa: S608
                    [*args, limit, offset],
                )
            ]

    def jobs_by_rowid(self, ids: list[int]) -> list[dict[str, Any]]:
        """Return the snapshots of ``ids``, in that order (rows deleted since are left out)."""
        snaps: dict[int, str] = {}
        with self._reading() as c:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                query = f"SELECT rowid, snapshot FROM jobs WHERE rowid IN ({marks})"  # noqa: S608
                snaps.update(c.execute(query, chunk).fetchall())
        return [json.loads(snaps[i]) for i in ids if i in snaps]

    def job_stats(self, now: float | None = None) -> dict[str, Any]:
        """Count jobs by status and type; give durations, throughput and success rate.

        :func:`qmon_jupyter.core.stats.job_statistics` over every kernel's
        stored jobs: the same numbers ``JobManager.stats()`` gives for the same jobs.
        """
        with self._reading() as c:
            rows = c.execute(
                "SELECT status, type, json_extract(snapshot, '$.unit'), done, rate, elapsed_s,"
                " finished_at FROM jobs"
            ).fetchall()
        records = (
            JobRecord(
                status=status,
                type=kind,
                unit=unit or "",
                done=float(done or 0.0),
                rate=rate,
                elapsed_s=elapsed,
                finished_at=epoch_of(finished),
            )
            for status, kind, unit, done, rate, elapsed, finished in rows
        )
        return job_statistics(records, now=time.time() if now is None else now)

    def metrics(self) -> dict[str, Any]:
        """Return the numbers Prometheus scrapes (cheap: indexed counts only)."""
        with self._reading() as c:
            by_status = dict(c.execute("SELECT status, count(*) FROM jobs GROUP BY status"))
            rate = c.execute(
                "SELECT coalesce(sum(rate), 0) FROM jobs"
                " WHERE status='running' AND type='simulation'"
            ).fetchone()[0]
            notes = dict(
                c.execute(
                    "SELECT level, count(*) FROM notifications WHERE dismissed=0 GROUP BY level"
                )
            )
            kernels = c.execute("SELECT count(*) FROM heartbeats WHERE state='alive'").fetchone()[0]
        return {
            "by_status": by_status,
            "shots_per_s": float(rate),
            "notifications": notes,
            "kernels": kernels,
        }

    # -- notifications --------------------------------------------------------------

    def list_notifications(
        self, *, include_dismissed: bool = False, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Return the newest ``limit`` notifications over every kernel, oldest first."""
        clause = "" if include_dismissed else " WHERE dismissed=0"
        with self._reading() as c:
            rows = c.execute(
                f"SELECT data, dismissed, kernel_id FROM notifications{clause}"  # noqa: S608
                " ORDER BY created_at DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [{**json.loads(d), "dismissed": bool(x), "kernel_id": k} for d, x, k in rows[::-1]]

    def get_notification(self, notification_id: str) -> dict[str, Any] | None:
        """One notification, or None."""
        with self._reading() as c:
            row = c.execute(
                "SELECT data, dismissed, kernel_id FROM notifications WHERE id=?",
                (notification_id,),
            ).fetchone()
        return (
            None
            if row is None
            else {**json.loads(row[0]), "dismissed": bool(row[1]), "kernel_id": row[2]}
        )

    # -- kernels ---------------------------------------------------------------------

    def kernels(self) -> list[dict[str, Any]]:
        """Every kernel that ever wrote a heartbeat, with its last resources sample."""
        with self._reading() as c:
            rows = c.execute(
                "SELECT kernel_id, pid, host, proc_start, started_at, last_seen, state, resources"
                " FROM heartbeats ORDER BY last_seen DESC"
            ).fetchall()
        keys = (
            "kernel_id",
            "pid",
            "host",
            "proc_start",
            "started_at",
            "last_seen",
            "state",
            "resources",
        )
        out = []
        for row in rows:
            item = dict(zip(keys, row, strict=True))
            item["resources"] = json.loads(item["resources"]) if item["resources"] else None
            out.append(item)
        return out

    def kernels_with_active_jobs(self) -> dict[str, int]:
        """Map kernel id -> number of its jobs not yet in a terminal state (detached ones aside)."""
        with self._reading() as c:
            return dict(
                c.execute(
                    f"SELECT kernel_id, count(*) FROM jobs WHERE status NOT IN {_TERMINAL_SQL}"  # noqa: S608
                    f" AND {NOT_DETACHED_SQL} GROUP BY kernel_id"
                )
            )

    def mark_kernel_dead(self, kernel_id: str, reason: str = "kernel died") -> list[dict[str, Any]]:
        """End what a dead kernel followed; the changed snapshots (failed or ``detached``).

        Its provider jobs that can be found again (``provider.locator``) keep
        their state and become detached (:mod:`._detached`); every other
        unfinished job fails with ``reason``. Its pending commands are refused.
        """
        now = iso_now()
        changed = []
        with self._tx() as c:
            rows = c.execute(
                f"SELECT snapshot FROM jobs WHERE kernel_id=? AND status NOT IN {_TERMINAL_SQL}"  # noqa: S608
                f" AND {NOT_DETACHED_SQL}",
                (kernel_id,),
            ).fetchall()
            for (raw,) in rows:
                snap = json.loads(raw)
                if detach(snap, reason, now):
                    c.execute(
                        "UPDATE jobs SET updated_at=?, rate=NULL, snapshot=? WHERE id=?",
                        (now, _dumps(snap), snap["id"]),
                    )
                else:
                    snap.update(
                        status="failed",
                        error={"type": "KernelDied", "message": reason},
                        message=reason,
                        finished_at=now,
                        updated_at=now,
                        queue_position=None,
                        eta_s=None,
                    )
                    c.execute(
                        "UPDATE jobs SET status='failed', finished_at=?, updated_at=?, rate=NULL,"
                        " snapshot=? WHERE id=?",
                        (now, now, _dumps(snap), snap["id"]),
                    )
                c.execute(
                    "INSERT INTO events (time, kernel_id, job_id, kind, user, action, data)"
                    " VALUES (?,?,?,?,?,?,?)",
                    (
                        now,
                        kernel_id,
                        snap["id"],
                        "job.status",
                        None,
                        None,
                        _dumps({"snapshot": snap}),
                    ),
                )
                changed.append(snap)
            c.execute("UPDATE heartbeats SET state='dead' WHERE kernel_id=?", (kernel_id,))
            c.execute(
                "UPDATE commands SET state='failed', result=?"
                " WHERE kernel_id=? AND state='pending'",
                (reason, kernel_id),
            )
        return changed

    # -- commands and audit ------------------------------------------------------------

    def add_command(
        self,
        kernel_id: str,
        action: str,
        *,
        user: str | None,
        job_id: str | None = None,
        target: str | None = None,
        reason: str | None = None,
    ) -> int:
        """Queue a command for a kernel and record it in the audit trail, atomically.

        ``reason`` (why the user asked) is kept in the audit record's data,
        where :meth:`pending_commands` finds it for the kernel.
        """
        now = time.time()
        with self._tx() as c:
            cid = c.execute(
                "INSERT INTO commands (kernel_id, job_id, target, action, user, created_at)"
                " VALUES (?,?,?,?,?,?)",
                (kernel_id, job_id, target, action, user, now),
            ).lastrowid
            c.execute(
                "INSERT INTO events (time, kernel_id, job_id, kind, user, action, data)"
                " VALUES (?,?,?,?,?,?,?)",
                (
                    iso_now(),
                    kernel_id,
                    job_id,
                    "audit.command",
                    user,
                    action,
                    _dumps({"command_id": cid, "target": target, "reason": reason}),
                ),
            )
        return int(cid)

    def get_command(self, command_id: int) -> dict[str, Any] | None:
        """Return a command's state (``pending``, ``running``, ``done``, ``failed``) and result."""
        with self._reading() as c:
            row = c.execute(
                "SELECT id, kernel_id, job_id, target, action, user, state, result FROM commands"
                " WHERE id=?",
                (command_id,),
            ).fetchone()
        keys = ("id", "kernel_id", "job_id", "target", "action", "user", "state", "result")
        return None if row is None else dict(zip(keys, row, strict=True))

    def dismiss_notification(self, notification_id: str, *, user: str | None) -> None:
        """Mark a notification dismissed now (the kernel is told by a command as well)."""
        now = iso_now()
        with self._tx() as c:
            row = c.execute(
                "SELECT data, kernel_id, job_id FROM notifications WHERE id=?", (notification_id,)
            ).fetchone()
            if row is None:
                return
            data = {**json.loads(row[0]), "dismissed": True}
            c.execute(
                "UPDATE notifications SET dismissed=1, data=? WHERE id=?",
                (_dumps(data), notification_id),
            )
            c.execute(
                "INSERT INTO events (time, kernel_id, job_id, kind, user, action, data)"
                " VALUES (?,?,?,?,?,?,?)",
                (
                    now,
                    row[1],
                    row[2],
                    "notification.dismissed",
                    user,
                    "dismiss",
                    _dumps({"notification": data}),
                ),
            )

    def audit_trail(self, *, job_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Return the writes made by people (``action`` set), newest first."""
        clause, args = "WHERE action IS NOT NULL", []
        if job_id is not None:
            clause += " AND job_id=?"
            args.append(job_id)
        with self._reading() as c:
            rows = c.execute(
                "SELECT seq, time, kernel_id, job_id, kind, user, action, data FROM events "  # noqa: S608
                f"{clause} ORDER BY seq DESC LIMIT ?",
                [*args, limit],
            ).fetchall()
        keys = ("seq", "time", "kernel_id", "job_id", "kind", "user", "action", "data")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    # -- events for the stream -----------------------------------------------------------

    def last_seq(self) -> int:
        """Return the newest event's sequence number (0 for none)."""
        with self._reading() as c:
            return int(c.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0])

    def events_after(
        self, seq: int, *, limit: int = 500
    ) -> list[tuple[int, str, str, str | None, str]]:
        """Job and notification events after ``seq``: ``(seq, time, kind, job_id, data)``."""
        with self._reading() as c:
            return c.execute(
                "SELECT seq, time, kind, job_id, coalesce(data, 'null') FROM events WHERE seq > ?"
                " AND (kind GLOB 'job.*' OR kind GLOB 'notification.*') ORDER BY seq LIMIT ?",
                (seq, limit),
            ).fetchall()

    def info(self) -> dict[str, Any]:
        """Where the store is and whether it answers."""
        try:
            size = self.path.stat().st_size
        except OSError:
            size = None
        with self._reading() as c:
            c.execute("SELECT 1").fetchone()
        return {"path": str(self.path), "ok": True, "size_bytes": size}
