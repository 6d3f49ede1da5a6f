"""A locked or missing store, a dead kernel: the server answers and keeps running."""

from __future__ import annotations

import asyncio
import time

from .conftest import body, fetch_error


async def test_locked_store_answers_503_and_server_keeps_running(jp_fetch, store, kernel):
    import sqlite3

    snap = kernel.add()
    from jupyter_server.serverapp import ServerApp

    service = ServerApp.instance().web_app.settings["qmon"]
    service.store().busy_timeout = 0.2
    service.store().close()  # reconnect with the short timeout
    locker = sqlite3.connect(store.path, isolation_level=None)
    locker.execute("PRAGMA busy_timeout=0")
    locker.execute("BEGIN EXCLUSIVE")
    try:
        # WAL readers are never blocked; a write (the command) is
        code, err = await fetch_error(
            jp_fetch, "api", "qmon", "jobs", snap["id"], "pause", method="POST", body=b""
        )
        assert code == 503
        assert "locked" in err["message"]
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert (await jp_fetch("api", "qmon", "jobs")).code == 200


async def test_missing_store_answers_503(jp_fetch, tmp_path):
    from jupyter_server.serverapp import ServerApp

    service = ServerApp.instance().web_app.settings["qmon"]
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    service._store = None
    service.path = str(blocker / "qmon.sqlite")  # cannot exist: its parent is a file
    code, err = await fetch_error(jp_fetch, "api", "qmon", "jobs")
    assert code == 503
    assert err["message"]
    # and the server still answers everything else
    assert (await jp_fetch("api", "qmon", "openapi.json")).code == 200


async def test_kernel_without_heartbeat_gets_its_jobs_failed(jp_fetch, store, make_kernel):
    ghost = make_kernel("k-dead", pid=2**22 + 4242)  # a pid no process has
    snap = ghost.add(status="running")
    store.heartbeat(
        "k-dead",
        pid=ghost.pid,
        host=__import__("socket").gethostname(),
        proc_start=None,
        started_at="x",
    )
    store._conn().execute(
        "UPDATE heartbeats SET last_seen = last_seen - 30 WHERE kernel_id='k-dead'"
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        job = body(await jp_fetch("api", "qmon", "jobs", snap["id"]))
        if job["status"] == "failed":
            break
        await asyncio.sleep(0.1)
    assert job["status"] == "failed"
    assert job["error"] == {"type": "KernelDied", "message": "kernel died"}


async def test_a_key_error_from_a_bug_is_a_logged_500_not_a_404(
    jp_fetch, kernel, monkeypatch, caplog
):
    from jupyter_server.serverapp import ServerApp

    snap = kernel.add()
    source = ServerApp.instance().web_app.settings["qmon"].source

    def buggy_statistics():
        return {}["by_status"]  # a bug, not an unknown id

    monkeypatch.setattr(source, "statistics", buggy_statistics)
    code, _ = await fetch_error(jp_fetch, "api", "qmon", "stats")
    assert code == 500
    assert "KeyError: 'by_status'" in caplog.text  # with its traceback, for whoever fixes it
    # an unknown id is still a 404, and everything else still answers
    code, err = await fetch_error(jp_fetch, "api", "qmon", "jobs", "0123456789ab")
    assert (code, err["message"]) == (404, "no job '0123456789ab'")
    assert body(await jp_fetch("api", "qmon", "jobs", snap["id"]))["id"] == snap["id"]
