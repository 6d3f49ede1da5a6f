"""The store's tables. One version number; bump it and add a migration when a table changes.

``SCHEMA`` creates the current tables in a new file. ``MIGRATIONS[n]`` are the
statements that take a file from version ``n`` to ``n + 1``; opening an older
file runs them in order (see ``_migrate.py``), after a backup beside it.
"""

from __future__ import annotations

from qmon_jupyter.core.states import TERMINAL

__all__ = ["MIGRATIONS", "SCHEMA", "SCHEMA_VERSION", "TERMINAL_SQL", "TERMINAL_STATUSES"]

#: recorded in the file as ``PRAGMA user_version``; 0 is a new, empty file
SCHEMA_VERSION = 3

#: statuses a job never leaves, as plain strings for SQL (``core.states.TERMINAL``)
TERMINAL_STATUSES = tuple(sorted(s.value for s in TERMINAL))

#: the same statuses as an SQL list, for ``status IN ...`` (constants, never input)
TERMINAL_SQL = "('" + "','".join(TERMINAL_STATUSES) + "')"

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id          TEXT PRIMARY KEY,
    kernel_id   TEXT NOT NULL,
    status      TEXT NOT NULL,
    type        TEXT NOT NULL,
    name        TEXT,
    backend     TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    finished_at TEXT,
    elapsed_s   REAL,
    done        REAL,
    rate        REAL,
    snapshot    TEXT NOT NULL,
    parent_id   TEXT GENERATED ALWAYS AS (json_extract(snapshot, '$.parent_id')) VIRTUAL
);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created_at DESC, id);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, created_at DESC);
CREATE INDEX IF NOT EXISTS jobs_kernel ON jobs (kernel_id, status);
CREATE INDEX IF NOT EXISTS jobs_type ON jobs (type, created_at DESC);
CREATE INDEX IF NOT EXISTS jobs_finished ON jobs (status, finished_at DESC);
CREATE INDEX IF NOT EXISTS jobs_parent ON jobs (parent_id, status, finished_at DESC);

CREATE TABLE IF NOT EXISTS events (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    time      TEXT NOT NULL,
    kernel_id TEXT,
    job_id    TEXT,
    kind      TEXT NOT NULL,
    user      TEXT,
    action    TEXT,
    data      TEXT
);
CREATE INDEX IF NOT EXISTS events_job ON events (job_id);
CREATE INDEX IF NOT EXISTS events_action ON events (action) WHERE action IS NOT NULL;

CREATE TABLE IF NOT EXISTS notifications (
    id         TEXT PRIMARY KEY,
    kernel_id  TEXT NOT NULL,
    job_id     TEXT,
    level      TEXT,
    created_at TEXT NOT NULL,
    dismissed  INTEGER NOT NULL DEFAULT 0,
    data       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notifications_created ON notifications (created_at DESC);

CREATE TABLE IF NOT EXISTS heartbeats (
    kernel_id  TEXT PRIMARY KEY,
    pid        INTEGER,
    host       TEXT,
    proc_start REAL,
    started_at TEXT NOT NULL,
    last_seen  REAL NOT NULL,
    state      TEXT NOT NULL DEFAULT 'alive',
    resources  TEXT
);

CREATE TABLE IF NOT EXISTS commands (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kernel_id  TEXT NOT NULL,
    job_id     TEXT,
    target     TEXT,
    action     TEXT NOT NULL,
    user       TEXT,
    created_at REAL NOT NULL,
    state      TEXT NOT NULL DEFAULT 'pending',
    result     TEXT
);
CREATE INDEX IF NOT EXISTS commands_pending ON commands (kernel_id, state);

CREATE TABLE IF NOT EXISTS checkpoints (
    job_id       TEXT PRIMARY KEY,
    kernel_id    TEXT,
    name         TEXT,
    spec         TEXT NOT NULL,
    batches_done INTEGER NOT NULL,
    counts       TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

#: MIGRATIONS[n]: the statements that take a version-n file to version n + 1, run
#: in one transaction. Each is written for the tables as they were at version n.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    # 2: a meta table; "written_by" names the qmon_jupyter that created or last
    # migrated the file, so an older release can say which one it needs
    1: ("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",),
    # 3: a job's session (the snapshot's parent_id) as an indexed column, so the
    # top-level listings (GET jobs, the dashboard) never parse every snapshot
    2: (
        (
            "ALTER TABLE jobs ADD COLUMN parent_id TEXT"
            " GENERATED ALWAYS AS (json_extract(snapshot, '$.parent_id')) VIRTUAL"
        ),
        "CREATE INDEX IF NOT EXISTS jobs_parent ON jobs (parent_id, status, finished_at DESC)",
    ),
}
