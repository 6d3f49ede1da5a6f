"""Store files of other schema versions: newer ones are only read, older ones migrated."""

from __future__ import annotations

import hashlib
import sqlite3
import warnings

import pytest

from qmon_jupyter._version import __version__
from qmon_jupyter.store import Store, StoreUnavailable, StoreWarning
from qmon_jupyter.store._schema import MIGRATIONS, SCHEMA_VERSION

JOB = {"id": "job-1", "status": "completed", "type": "simulation", "name": "bell"}


def _sql(path, *statements: str) -> list[tuple]:
    """Run statements on the file with plain sqlite3; the last one's rows."""
    conn = sqlite3.connect(path)
    try:
        rows: list[tuple] = []
        for sql in statements:
            rows = conn.execute(sql).fetchall()
        conn.commit()
        return rows
    finally:
        conn.close()


def _written_store(path) -> None:
    """A store file with one job, closed (its WAL checkpointed into the file)."""
    store = Store(path)
    store.write_batch("kernel-a", jobs=[JOB])
    store.close()


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_older_version_has_a_migration():
    assert sorted(MIGRATIONS) == list(range(1, SCHEMA_VERSION))


def test_a_new_file_records_the_schema_version_and_the_release_that_wrote_it(tmp_path):
    path = tmp_path / "qmon.sqlite"
    Store(path).close()

    assert _sql(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert _sql(path, "SELECT value FROM meta WHERE key='written_by'") == [(__version__,)]


def test_a_newer_store_is_opened_read_only_with_a_warning(tmp_path):
    path = tmp_path / "qmon.sqlite"
    _written_store(path)
    newer = SCHEMA_VERSION + 1
    _sql(path, f"PRAGMA user_version={newer}", "UPDATE meta SET value='9.9.9'")

    with pytest.warns(
        StoreWarning,
        match=rf"schema version {newer} \(written by qmon_jupyter 9\.9\.9\).*read-only",
    ):
        store = Store(path)

    assert store.read_only
    assert store.get_job("job-1")["name"] == "bell"
    store.close()


def test_a_newer_store_refuses_writes_with_an_error_naming_it(tmp_path):
    path = tmp_path / "qmon.sqlite"
    _written_store(path)
    _sql(path, f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    with pytest.warns(StoreWarning):
        store = Store(path)

    with pytest.raises(StoreUnavailable, match="newer schema") as info:
        store.write_batch("kernel-b", jobs=[{**JOB, "id": "job-2"}])
    assert str(path) in str(info.value)
    # not even through a connection of its own
    with pytest.raises(sqlite3.OperationalError, match=r"readonly|read-only|query_only"):
        store._conn().execute("DELETE FROM jobs")
    store.close()


def test_a_newer_store_is_never_rewritten(tmp_path):
    path = tmp_path / "qmon.sqlite"
    _written_store(path)
    _sql(path, f"PRAGMA user_version={SCHEMA_VERSION + 5}")
    before = _digest(path)

    with pytest.warns(StoreWarning):
        store = Store(path)
    assert store.get_job("job-1")["status"] == "completed"
    with pytest.raises(StoreUnavailable):
        store.heartbeat("kernel-b", pid=1, host="h", proc_start=None, started_at="now")
    with pytest.raises(StoreUnavailable, match="not rewritten"):
        store.recover("looks corrupt")
    store.close()

    assert _digest(path) == before
    assert _sql(path, "PRAGMA user_version") == [(SCHEMA_VERSION + 5,)]
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(("-wal", "-shm"))) == [
        "qmon.sqlite"
    ], "no backup, no corrupt-file copy, no new store"


#: what takes a current file back to what schema version 1 wrote
_VERSION_1 = (
    "DROP TABLE meta",
    "DROP INDEX jobs_parent",
    "ALTER TABLE jobs DROP COLUMN parent_id",
    "PRAGMA user_version=1",
)


def _downgrade_to_version_1(path) -> None:
    """Make the file what schema version 1 wrote: no meta table, no parent_id column."""
    _sql(path, *_VERSION_1)


def test_an_older_store_is_migrated_in_place(tmp_path):
    path = tmp_path / "qmon.sqlite"
    _written_store(path)
    _downgrade_to_version_1(path)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a migration is routine: logged, not warned
        store = Store(path)

    assert not store.read_only
    assert store.get_job("job-1")["name"] == "bell"
    store.write_batch("kernel-a", jobs=[{**JOB, "id": "job-2"}])
    assert store.get_job("job-2")["status"] == "completed"
    store.close()
    assert _sql(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert _sql(path, "SELECT value FROM meta WHERE key='written_by'") == [(__version__,)]


def test_a_migration_first_copies_the_file_beside_it(tmp_path, caplog):
    path = tmp_path / "qmon.sqlite"
    _written_store(path)
    _downgrade_to_version_1(path)

    caplog.set_level("WARNING", "qmon_jupyter.store")
    store = Store(path)
    store.close()

    backup = store.backup_path
    assert backup is not None
    assert backup.parent == tmp_path
    assert backup.name.startswith("qmon.sqlite.v1-backup-")
    # the copy is the file as it was: version 1, no meta table, the job
    assert _sql(backup, "PRAGMA user_version") == [(1,)]
    assert _sql(backup, "SELECT name FROM sqlite_master WHERE name='meta'") == []
    assert _sql(backup, "SELECT id FROM jobs") == [("job-1",)]
    assert str(backup) in caplog.text
    assert f"from schema version 1 to {SCHEMA_VERSION}" in caplog.text


def test_a_migrated_store_is_not_migrated_or_copied_again(tmp_path):
    path = tmp_path / "qmon.sqlite"
    _written_store(path)
    _downgrade_to_version_1(path)
    Store(path).close()

    again = Store(path)
    again.close()

    assert again.backup_path is None
    assert len(list(tmp_path.glob("qmon.sqlite.v*-backup-*"))) == 1


def test_a_store_migrated_with_unsaved_wal_pages_keeps_them_in_the_backup(tmp_path):
    path = tmp_path / "qmon.sqlite"
    writer = Store(path)
    writer.write_batch("kernel-a", jobs=[JOB])
    # an older release still has the file open: its last write is only in the -wal file
    conn = writer._conn()
    for sql in _VERSION_1:
        conn.execute(sql)
    assert (tmp_path / "qmon.sqlite-wal").stat().st_size > 0

    store = Store(path)
    store.close()
    writer.close()

    assert _sql(store.backup_path, "SELECT id FROM jobs") == [("job-1",)]


def test_a_newer_store_in_use_by_its_release_is_read_with_its_latest_writes(tmp_path):
    path = tmp_path / "qmon.sqlite"
    _written_store(path)
    # the newer release's kernel keeps the file open; its last write is in the -wal file
    newer = sqlite3.connect(path, isolation_level=None)
    newer.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    newer.execute("UPDATE jobs SET snapshot=json_set(snapshot, '$.name', 'renamed')")
    assert (tmp_path / "qmon.sqlite-wal").stat().st_size > 0

    with pytest.warns(StoreWarning, match="read-only"):
        store = Store(path)

    assert store.get_job("job-1")["name"] == "renamed"
    store.close()
    newer.close()
