"""Opening a store file: its schema version, migrations with a backup, the journal mode.

A file's version is its ``PRAGMA user_version``. A newer file (written by a
later qmon_jupyter) is only ever read; an older one is copied beside itself,
then migrated in place under a write lock; a new one gets the current tables.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from . import _fsdetect
from ._schema import MIGRATIONS, SCHEMA, SCHEMA_VERSION

if TYPE_CHECKING:
    from ._fsdetect import Mount
    from ._store import Store

__all__ = [
    "JOURNAL_MODES",
    "backup",
    "choose_journal_mode",
    "configure",
    "init_schema",
    "move_aside",
    "newer_schema_message",
    "read_only_uri",
    "set_journal_mode",
    "stored_version",
    "upgrade",
    "warn_network_once",
    "warn_newer_schema",
    "written_by",
]

logger = logging.getLogger(__name__)

# guards _warned_network: the store paths already warned about in this process
_warned_lock = threading.Lock()
_warned_network: set[str] = set()

#: what ``Store(journal_mode=...)`` and ``QMON_JOURNAL_MODE`` accept
JOURNAL_MODES = ("auto", "wal", "delete")


def read_only_uri(path: Path) -> str:
    """Return the ``file:`` URI that opens ``path`` read-only (SQLite never writes to it)."""
    return f"{path.resolve().as_uri()}?mode=ro"


def stored_version(path: Path) -> int:
    """Return the schema version recorded in ``path``, 0 for a missing or empty file.

    Read through a read-only connection: probing a file never changes it. A file
    that is not a database raises ``sqlite3.DatabaseError``.
    """
    if not path.exists() or path.stat().st_size == 0:
        return 0
    conn = sqlite3.connect(read_only_uri(path), uri=True)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def written_by(conn: sqlite3.Connection) -> str | None:
    """Return the qmon_jupyter release that created or last migrated the file, if it says."""
    try:
        row = conn.execute("SELECT value FROM meta WHERE key='written_by'").fetchone()
    except sqlite3.Error:  # a version-1 file has no meta table
        return None
    return None if row is None else str(row[0])


def newer_schema_message(path: Path, found: int, writer: str | None) -> str:
    """Return the message saying that ``path`` is newer than this release, and what follows."""
    from qmon_jupyter._version import __version__

    by = f" (written by qmon_jupyter {writer})" if writer else ""
    return (
        f"qmon store {path} has schema version {found}{by}, newer than version"
        f" {SCHEMA_VERSION} of this qmon_jupyter {__version__}: opened read-only, nothing is"
        " written to it (jobs still run, unmonitored); upgrade qmon_jupyter in this"
        " environment, or set QMON_DB to another file"
    )


def backup(path: Path, version: int) -> Path:
    """Copy the store beside itself before a migration; return the copy.

    SQLite's backup API copies a consistent snapshot, including what is still in
    the ``-wal`` file (a plain file copy would miss it).
    """
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    target = path.with_name(f"{path.name}.v{version}-backup-{stamp}")
    source = sqlite3.connect(read_only_uri(path), uri=True)
    try:
        dest = sqlite3.connect(target)
        try:
            source.backup(dest)
        finally:
            dest.close()
    finally:
        source.close()
    return target


def move_aside(path: Path) -> Path | None:
    """Rename a corrupt store (and its ``-wal``/``-shm``) with a timestamp; return the new name."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    moved: Path | None = path.with_name(f"{path.name}.corrupt-{stamp}")
    try:
        path.replace(moved)
    except FileNotFoundError:
        moved = None
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(OSError):
            Path(f"{path}{suffix}").replace(f"{moved or path}{suffix}.old")
    return moved


def configure(conn: sqlite3.Connection, journal_mode: str, *, read_only: bool) -> None:
    """Set up a new connection: durability for the journal mode; writes off if read-only."""
    # NORMAL is safe with WAL; the rollback journal needs FULL to survive a power cut
    conn.execute(f"PRAGMA synchronous={'NORMAL' if journal_mode == 'wal' else 'FULL'}")
    if read_only:
        conn.execute("PRAGMA query_only=ON")


def _statements(script: str) -> list[str]:
    """Split an SQL script into its statements (``sqlite3.complete_statement`` decides)."""
    out, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            out.append(current.strip())
            current = ""
    if current.strip():
        out.append(current.strip())
    return out


def init_schema(store: Store) -> None:
    """Open ``store``'s file: create, migrate (after a backup), or open it read-only if newer."""
    found = stored_version(store.path)  # read-only: a newer file stays as it is
    if found <= SCHEMA_VERSION:
        conn = store._conn()
        set_journal_mode(conn, store.path, store.journal_mode)
        if 0 < found < SCHEMA_VERSION:
            store.backup_path = backup(store.path, found)
        found = upgrade(conn, store.path, store.backup_path)
        if found <= SCHEMA_VERSION:
            conn.execute("SELECT count(*) FROM jobs").fetchone()
            return
        store.close()  # a newer release migrated it meanwhile
    store.read_only = True
    conn = store._conn()
    warn_newer_schema(conn, store.path, found)
    conn.execute("SELECT count(*) FROM jobs").fetchone()


def upgrade(conn: sqlite3.Connection, path: Path, saved: Path | None = None) -> int:
    """Bring the file to :data:`SCHEMA_VERSION` under a write lock; return the version found.

    The version is read again once the lock is held: of several processes
    opening one old file, the first migrates it and the others find it done. A
    file found newer is left untouched (the caller opens it read-only).
    ``saved`` is the backup taken beforehand, named in the log.
    """
    from qmon_jupyter._version import __version__

    conn.execute("BEGIN IMMEDIATE")
    try:
        found = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if found < SCHEMA_VERSION:
            if found == 0:
                steps = _statements(SCHEMA)
            else:
                steps = [sql for v in range(found, SCHEMA_VERSION) for sql in MIGRATIONS[v]]
            for sql in steps:
                conn.execute(sql)
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('written_by', ?)", (__version__,)
            )
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    if 0 < found < SCHEMA_VERSION:
        logger.warning(
            "qmon store %s migrated from schema version %d to %d; the file before is at %s",
            path,
            found,
            SCHEMA_VERSION,
            saved,
        )
    return found


def warn_newer_schema(conn: sqlite3.Connection, path: Path, found: int) -> None:
    """Warn that ``path`` (open on ``conn``, read-only) has a newer schema version."""
    from ._store import StoreWarning

    message = newer_schema_message(path, found, written_by(conn))
    logger.warning(message)
    warnings.warn(message, StoreWarning, stacklevel=6)


def set_journal_mode(conn: sqlite3.Connection, path: Path, mode: str) -> None:
    """Put the file in journal ``mode``; log (and go on) if SQLite keeps another one."""
    try:
        got = conn.execute(f"PRAGMA journal_mode={mode}").fetchone()[0]
    except sqlite3.OperationalError as exc:  # leaving WAL needs every other connection closed
        got, reason = conn.execute("PRAGMA journal_mode").fetchone()[0], str(exc)
    else:
        reason = "another process holds it open"
    if str(got).lower() != mode:
        logger.warning(
            "qmon store %s stays in journal mode %s, not %s (%s)", path, got, mode, reason
        )


def warn_network_once(path: Path, mount: Mount) -> None:
    """Warn, once per store path in this process, that it is on a network filesystem."""
    from ._store import StoreWarning

    with _warned_lock:
        if str(path) in _warned_network:
            return
        _warned_network.add(str(path))
    message = (
        f"qmon store {path} is on a {mount.fstype} filesystem ({mount.mount_point}),"
        " where SQLite's WAL mode does not work: using the rollback journal"
        " (journal_mode=DELETE), slower with many writers. Set QMON_DB to a file on a"
        " local disk for speed, or QMON_JOURNAL_MODE=wal if this filesystem supports it"
    )
    logger.warning(message)
    warnings.warn(message, StoreWarning, stacklevel=4)


def choose_journal_mode(directory: Path, requested: str | None = None) -> tuple[str, Mount | None]:
    """Return the journal mode for a store in ``directory``, and the network mount if any.

    ``requested`` (else ``QMON_JOURNAL_MODE``, else ``auto``) is ``wal``, ``delete``
    or ``auto``: WAL, except on a network or FUSE filesystem, where WAL's shared
    memory index does not work and the rollback journal (``delete``) is used.
    """
    mode = (requested or os.environ.get("QMON_JOURNAL_MODE") or "auto").strip().lower()
    if mode not in JOURNAL_MODES:
        raise ValueError(
            f"unknown store journal mode {mode!r} (from Store(journal_mode=...) or"
            f" QMON_JOURNAL_MODE): use one of {', '.join(JOURNAL_MODES)}"
        )
    if mode != "auto":
        return mode, None
    mount = _fsdetect.network_mount(directory)
    return ("delete" if mount is not None else "wal"), mount
