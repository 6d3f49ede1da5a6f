"""The SQLite store shared by every kernel and the server.

Kernels write job snapshots, events, notifications, heartbeats and
checkpoints; the server reads them and writes commands that the owning
kernel carries out. Each thread gets its own connection; every write is one
short ``BEGIN IMMEDIATE`` transaction, and ``busy_timeout`` lets writers from
several processes take turns. Opening a file checks its schema version and
its filesystem (``_migrate.py``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import threading
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qmon_jupyter.core.timefmt import iso_now
from qmon_jupyter.errors import QmonError

from . import _migrate
from ._paths import default_path
from ._queries import StoreQueries
from ._schema import TERMINAL_SQL as _TERMINAL_SQL

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Iterator

__all__ = ["Store", "StoreUnavailable", "StoreWarning"]

logger = logging.getLogger(__name__)


class StoreWarning(UserWarning):
    """The store was unusable and monitoring degrades (jobs keep running)."""


class StoreUnavailable(QmonError):  # noqa: N818 - reads like the HTTP 503 it becomes
    """The store cannot be read or written right now (locked, missing, corrupt)."""


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), default=str)


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


class Store(StoreQueries):
    """One SQLite file, in WAL mode on a local disk.

    A file of a newer schema version is opened read-only (:attr:`read_only`,
    with a :class:`StoreWarning`) and never written; an older one is copied
    beside itself (:attr:`backup_path`) and migrated in place.

    Parameters
    ----------
    path
        The file; default ``QMON_DB`` or ``jupyter_data_dir()/qmon/qmon.sqlite``.
    busy_timeout
        Seconds a statement waits for another process's write lock before
        giving up with :class:`StoreUnavailable`.
    journal_mode
        ``"auto"`` (default, or ``QMON_JOURNAL_MODE``): WAL, but the rollback
        journal (``"delete"``) when the file's folder is on NFS, SMB, FUSE or
        9p, where WAL does not work (warned once per path). ``"wal"`` or
        ``"delete"`` force one.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        busy_timeout: float = 5.0,
        journal_mode: str | None = None,
    ) -> None:
        self.path = Path(path).expanduser() if path is not None else default_path()
        self.busy_timeout = busy_timeout
        self._requested_journal = journal_mode
        self.journal_mode = "wal"  #: in use: "wal" or "delete" (the rollback journal)
        self.read_only = False  #: a newer schema version: nothing is written to the file
        self.backup_path: Path | None = None  #: the copy taken before a migration
        self._local = threading.local()
        # guards _connections (every thread's connection, so close() can reach them)
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        #: extra ``PRAGMA`` statements run on each new connection (tests use it
        #: to simulate a full disk with ``max_page_count``)
        self.extra_pragmas: list[str] = []
        self._open()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    # -- connections -------------------------------------------------------------

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.journal_mode, mount = _migrate.choose_journal_mode(
            self.path.parent, self._requested_journal
        )
        if mount is not None:
            _migrate.warn_network_once(self.path, mount)
        try:
            self._init_schema()
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and not _is_corruption(exc):
                raise
            self.recover(str(exc))

    def _init_schema(self) -> None:
        _migrate.init_schema(self)

    def recover(self, reason: str) -> Path | None:
        """Move a corrupt file aside (renamed with a timestamp) and start a new one."""
        if self.read_only:
            raise StoreUnavailable(
                f"store {self.path} has a newer schema and is not rewritten: {reason}"
            )
        self.close()
        moved = _migrate.move_aside(self.path)
        message = (
            f"qmon store {self.path} was corrupt ({reason}); moved aside to {moved} and recreated"
        )
        self._init_schema()
        logger.warning(message)
        warnings.warn(message, StoreWarning, stacklevel=3)
        return moved

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                _migrate.read_only_uri(self.path) if self.read_only else str(self.path),
                timeout=self.busy_timeout,
                isolation_level=None,  # we issue BEGIN/COMMIT ourselves
                check_same_thread=False,
                uri=self.read_only,
            )
            _migrate.configure(conn, self.journal_mode, read_only=self.read_only)
            for pragma in self.extra_pragmas:
                conn.execute(pragma)
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def close(self) -> None:
        """Close every thread's connection (they reopen on next use)."""
        with self._lock:
            conns, self._connections = self._connections, []
        for conn in conns:
            with contextlib.suppress(Exception):
                conn.close()
        self._local = threading.local()

    def execute_on_all(self, sql: str) -> None:
        """Run one statement (a PRAGMA) on every open connection and future ones."""
        self.extra_pragmas.append(sql)
        with self._lock:
            conns = list(self._connections)
        for conn in conns:
            conn.execute(sql)

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        if self.read_only:
            raise StoreUnavailable(f"store {self.path} has a newer schema: opened read-only")
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """Give a connection for reads; sqlite errors become :class:`StoreUnavailable`."""
        try:
            yield self._conn()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"store {self.path} unavailable: {exc}") from exc

    # -- kernel side: writes --------------------------------------------------------

    def write_batch(
        self,
        kernel_id: str,
        *,
        jobs: Iterable[dict[str, Any]] = (),
        events: Iterable[tuple[str, str | None, str, str | None, str | None, Any]] = (),
        notifications: Iterable[dict[str, Any]] = (),
        dismissed: Iterable[str] = (),
        checkpoints: Iterable[tuple[str, str | None, dict[str, Any]]] = (),
        done_jobs: Iterable[str] = (),
    ) -> None:
        """Write one batch from a kernel in a single transaction.

        ``events`` are ``(time, job_id, kind, user, action, data)``;
        ``checkpoints`` are ``(job_id, name, data)`` with the data of a
        ``job.checkpoint`` event; ``done_jobs`` completed jobs whose
        checkpoints are no longer needed.
        """
        job_rows = [_job_row(kernel_id, snap) for snap in jobs]
        events_list = list(events)
        event_rows = [
            (t, kernel_id, job_id, kind, user, action, None if data is None else _dumps(data))
            for (t, job_id, kind, user, action, data) in events_list
        ]
        note_rows = [
            (
                str(n["id"]),
                kernel_id,
                n.get("job_id"),
                n.get("level"),
                n.get("created_at") or iso_now(),
                int(bool(n.get("dismissed"))),
                _dumps(n),
            )
            for n in notifications
        ]
        cp_rows = [
            (
                job_id,
                kernel_id,
                name,
                _dumps(data.get("spec")),
                int(data.get("batches_done", 0)),
                _dumps(data.get("counts") or {}),
                iso_now(),
            )
            for (job_id, name, data) in checkpoints
        ]
        with self._tx() as c:
            if job_rows:
                final = _final_statuses(c, {row[0] for row in job_rows})
                c.executemany(_UPSERT_JOB, job_rows)
                # a finished job ends once: late events that contradict its final
                # status (e.g. "completed" after the server failed it) are not streamed
                event_rows = [
                    row
                    for row, ev in zip(event_rows, events_list, strict=True)
                    if not _contradicts(final, ev)
                ]
            if note_rows:
                c.executemany(
                    "INSERT INTO notifications (id, kernel_id, job_id, level, created_at,"
                    " dismissed, data) VALUES (?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET"
                    " dismissed=max(dismissed, excluded.dismissed), data=excluded.data",
                    note_rows,
                )
            for nid in dismissed:
                c.execute("UPDATE notifications SET dismissed=1 WHERE id=?", (nid,))
            if cp_rows:
                c.executemany(
                    "INSERT OR REPLACE INTO checkpoints (job_id, kernel_id, name, spec,"
                    " batches_done, counts, updated_at) VALUES (?,?,?,?,?,?,?)",
                    cp_rows,
                )
            for job_id in done_jobs:
                c.execute("DELETE FROM checkpoints WHERE job_id=?", (job_id,))
            if event_rows:
                c.executemany(
                    "INSERT INTO events (time, kernel_id, job_id, kind, user, action, data)"
                    " VALUES (?,?,?,?,?,?,?)",
                    event_rows,
                )

    def heartbeat(
        self,
        kernel_id: str,
        *,
        pid: int,
        host: str,
        proc_start: float | None,
        started_at: str,
        state: str = "alive",
        resources: dict[str, Any] | None = None,
    ) -> None:
        """Say that ``kernel_id`` is alive (or ``state="stopped"`` when it closes cleanly).

        A kernel the server declared ``dead`` that still beats was wrongly taken
        for dead: it becomes alive again with an audit event (``kernel.revived``),
        but the jobs failed meanwhile stay failed (a job's end is final).
        """
        with self._tx() as c:
            row = c.execute(
                "SELECT state FROM heartbeats WHERE kernel_id=?", (kernel_id,)
            ).fetchone()
            if row is not None and row[0] == "dead" and state != "dead":
                c.execute(
                    "INSERT INTO events (time, kernel_id, job_id, kind, user, action, data)"
                    " VALUES (?,?,?,?,?,?,?)",
                    (
                        iso_now(),
                        kernel_id,
                        None,
                        "kernel.revived",
                        None,
                        "revive",
                        _dumps({"data": {"previous": "dead", "state": state, "pid": pid}}),
                    ),
                )
                logger.warning(
                    "qmon: kernel %s was marked dead but sent a heartbeat; alive again"
                    " (its jobs failed meanwhile stay failed)",
                    kernel_id,
                )
            c.execute(
                "INSERT INTO heartbeats (kernel_id, pid, host, proc_start, started_at, last_seen,"
                " state, resources) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(kernel_id) DO UPDATE SET"
                " pid=excluded.pid, host=excluded.host, proc_start=excluded.proc_start,"
                " last_seen=excluded.last_seen, state=excluded.state,"
                " resources=coalesce(excluded.resources, heartbeats.resources)",
                (
                    kernel_id,
                    pid,
                    host,
                    proc_start,
                    started_at,
                    time.time(),
                    state,
                    None if resources is None else _dumps(resources),
                ),
            )

    def pending_commands(self, kernel_id: str) -> list[dict[str, Any]]:
        """Commands for ``kernel_id`` not yet claimed, oldest first, each with its ``reason``."""
        # the reason lives in the audit record add_command writes with the command (job
        # commands only: a dismiss has none), found through the events_job index
        rows = (
            self._conn()
            .execute(
                "SELECT c.id, c.job_id, c.target, c.action, c.user, c.created_at,"
                " (SELECT json_extract(e.data, '$.reason') FROM events e"
                "  WHERE e.job_id=c.job_id AND e.kind='audit.command'"
                "  AND json_extract(e.data, '$.command_id')=c.id)"
                " FROM commands c WHERE c.kernel_id=? AND c.state='pending' ORDER BY c.id",
                (kernel_id,),
            )
            .fetchall()
        )
        keys = ("id", "job_id", "target", "action", "user", "created_at", "reason")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def claim_command(self, command_id: int) -> bool:
        """Take a pending command; False if another writer already took it."""
        with self._tx() as c:
            cur = c.execute(
                "UPDATE commands SET state='running' WHERE id=? AND state='pending'", (command_id,)
            )
            return cur.rowcount == 1

    def finish_command(self, command_id: int, *, ok: bool, result: str | None = None) -> None:
        """Record how a command ended (``done`` or ``failed`` with the reason)."""
        with self._tx() as c:
            c.execute(
                "UPDATE commands SET state=?, result=? WHERE id=?",
                ("done" if ok else "failed", result, command_id),
            )

    def prune(self, *, max_jobs: int = 10_000, max_events: int = 200_000) -> int:
        """Retention: keep the newest ``max_jobs`` finished jobs and ``max_events`` events."""
        with self._tx() as c:
            row = c.execute(
                "SELECT created_at FROM jobs ORDER BY created_at DESC LIMIT 1 OFFSET ?",
                (max_jobs,),
            ).fetchone()
            removed = 0
            if row is not None:
                removed = c.execute(
                    f"DELETE FROM jobs WHERE created_at <= ? AND status IN {_TERMINAL_SQL}",  # noqa: S608
                    (row[0],),
                ).rowcount
                c.execute("DELETE FROM checkpoints WHERE job_id NOT IN (SELECT id FROM jobs)")
            c.execute(
                "DELETE FROM events WHERE seq <= (SELECT max(seq) FROM events) - ?", (max_events,)
            )
            c.execute(
                "DELETE FROM commands WHERE state NOT IN ('pending', 'running') AND created_at < ?",
                (time.time() - 3600,),
            )
            c.execute(
                "DELETE FROM notifications WHERE id NOT IN"
                " (SELECT id FROM notifications ORDER BY created_at DESC LIMIT 1000)"
            )
        return removed

    # -- checkpoints ----------------------------------------------------------------

    def load_checkpoint(self, job_id: str) -> dict[str, Any]:
        """Return the last checkpoint of ``job_id``; KeyError naming the id if there is none."""
        with self._reading() as c:
            row = c.execute(
                "SELECT name, spec, batches_done, counts FROM checkpoints WHERE job_id=?", (job_id,)
            ).fetchone()
        if row is None:
            msg = f"no checkpoint for job {job_id!r} in {self.path}"
            successors = self.resumed_as(job_id)
            if successors:
                later, status = successors[-1]
                msg += f" (it was resumed as job {later!r}, now {status})"
            raise KeyError(msg)
        name, spec, batches_done, counts = row
        return {
            "job_id": job_id,
            "name": name,
            "spec": json.loads(spec),
            "batches_done": int(batches_done),
            "counts": json.loads(counts),
        }

    def resumed_as(self, job_id: str) -> list[tuple[str, str]]:
        """Return ``(id, status)`` of the jobs resumed from ``job_id``, oldest first."""
        with self._reading() as c:
            rows = c.execute(
                "SELECT id, status FROM jobs WHERE json_extract(snapshot, '$.resumed_from')=?"
                " ORDER BY created_at, id",
                (job_id,),
            ).fetchall()
        return [(str(i), str(s)) for i, s in rows]


# the terminal statuses in it are constants, not input
_UPSERT_JOB = (
    "INSERT INTO jobs (id, kernel_id, status, type, name, backend, created_at, updated_at,"  # noqa: S608
    " finished_at, elapsed_s, done, rate, snapshot) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
    " ON CONFLICT(id) DO UPDATE SET kernel_id=excluded.kernel_id, status=excluded.status,"
    " type=excluded.type, name=excluded.name, backend=excluded.backend,"
    " updated_at=excluded.updated_at, finished_at=excluded.finished_at,"
    " elapsed_s=excluded.elapsed_s, done=excluded.done, rate=excluded.rate,"
    " snapshot=excluded.snapshot"
    # a job ends once: once terminal its status is final; only a snapshot with that
    # same status may refresh it (no reopening, no second, different ending)
    f" WHERE jobs.status NOT IN {_TERMINAL_SQL}"
    " OR excluded.status = jobs.status"
)


def _final_statuses(c: sqlite3.Connection, job_ids: set[str]) -> dict[str, str]:
    """Return the stored terminal status of those of ``job_ids`` that have one."""
    out: dict[str, str] = {}
    ids = sorted(job_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        out.update(
            c.execute(
                f"SELECT id, status FROM jobs WHERE id IN ({marks})"  # noqa: S608
                f" AND status IN {_TERMINAL_SQL}",
                chunk,
            )
        )
    return out


def _contradicts(final: dict[str, str], event: tuple[Any, ...]) -> bool:
    """Whether a job event's snapshot disagrees with its job's final stored status."""
    job_id, data = event[1], event[5]
    status = final.get(str(job_id)) if job_id is not None else None
    if status is None or not isinstance(data, dict):
        return False
    snap = data.get("snapshot")
    return isinstance(snap, dict) and snap.get("status") != status


def _job_row(kernel_id: str, snap: dict[str, Any]) -> tuple[Any, ...]:
    now = iso_now()
    return (
        str(snap["id"]),
        kernel_id,
        str(snap.get("status") or "pending"),
        str(snap.get("type") or "simulation"),
        snap.get("name"),
        snap.get("backend"),
        snap.get("created_at") or now,
        snap.get("updated_at") or now,
        snap.get("finished_at"),
        _num(snap.get("elapsed_s")),
        _num(snap.get("done")),
        _num(snap.get("rate")),
        _dumps({**snap, "kernel_id": kernel_id}),
    )


def _is_corruption(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return any(word in text for word in ("not a database", "malformed", "corrupt"))
