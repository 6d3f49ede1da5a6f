"""The REST API over the store, in a real Jupyter server with the extension loaded."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest
from tornado.httpclient import HTTPClientError

from .conftest import snapshot


def body(response):
    return json.loads(response.body.decode())


async def fetch_error(jp_fetch, *parts, **kwargs):
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch(*parts, **kwargs)
    response = info.value.response
    return info.value.code, json.loads(response.body.decode()) if response.body else None


async def test_jobs_lists_every_kernel_newest_first(jp_fetch, kernel, make_kernel):
    other = make_kernel("k-other")
    old = kernel.add(created_at="2026-01-01T00:00:00.000Z")
    new = other.add(created_at="2026-01-02T00:00:00.000Z")
    reply = body(await jp_fetch("api", "qmon", "jobs"))
    assert reply["total"] == 2
    assert [j["id"] for j in reply["jobs"]] == [new["id"], old["id"]]
    assert {j["kernel_id"] for j in reply["jobs"]} == {"k-test", "k-other"}


async def test_jobs_filters_by_status_type_and_kernel(jp_fetch, kernel, make_kernel):
    running = kernel.add(status="running")
    done = kernel.add(status="completed", type="analysis")
    elsewhere = make_kernel("k-2").add(status="running")
    by_status = body(await jp_fetch("api", "qmon", "jobs", params={"status": "completed"}))
    assert [j["id"] for j in by_status["jobs"]] == [done["id"]]
    by_type = body(await jp_fetch("api", "qmon", "jobs", params={"type": "simulation"}))
    assert {j["id"] for j in by_type["jobs"]} == {running["id"], elsewhere["id"]}
    by_kernel = body(await jp_fetch("api", "qmon", "jobs", params={"kernel": "k-2"}))
    assert [j["id"] for j in by_kernel["jobs"]] == [elsewhere["id"]]
    both = body(await jp_fetch("api", "qmon", "jobs", params={"status": "running,completed"}))
    assert both["total"] == 3


async def test_jobs_paginates_with_limit_and_offset(jp_fetch, kernel):
    ids = [kernel.add(created_at=f"2026-01-01T00:00:{i:02d}.000Z")["id"] for i in range(7)]
    newest_first = ids[::-1]
    page1 = body(await jp_fetch("api", "qmon", "jobs", params={"limit": 3}))
    page3 = body(await jp_fetch("api", "qmon", "jobs", params={"limit": 3, "offset": 6}))
    assert page1["total"] == page3["total"] == 7
    assert [j["id"] for j in page1["jobs"]] == newest_first[:3]
    assert [j["id"] for j in page3["jobs"]] == newest_first[6:]


async def test_job_by_id_and_404_for_unknown(jp_fetch, kernel):
    snap = kernel.add()
    assert body(await jp_fetch("api", "qmon", "jobs", snap["id"]))["id"] == snap["id"]
    code, err = await fetch_error(jp_fetch, "api", "qmon", "jobs", "0123456789ab")
    assert code == 404
    assert "0123456789ab" in err["message"]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "-1"},
        {"limit": "100000"},
        {"limit": "ten"},
        {"offset": "-5"},
        {"offset": "99999999999999999999999"},
        {"status": "exploded"},
        {"status": ""},
        {"type": "quantum"},
        {"kernel": "../../etc"},
        {"frobnicate": "1"},
    ],
)
async def test_bad_query_parameters_are_400_json(jp_fetch, kernel, params):
    code, err = await fetch_error(jp_fetch, "api", "qmon", "jobs", params=params)
    assert code == 400
    assert err["message"]


@pytest.mark.parametrize(
    "job_id",
    ["..%2F..%2Fetc", "%2e%2e", "a" * 300, "bad%00id", "x%2Fcancel", "%C3%A9t%C3%A9"],
)
async def test_path_tricks_in_ids_are_4xx_json(
    jp_fetch, kernel, job_id, jp_base_url, http_server_client
):
    snap = kernel.add()
    for method, suffix in (("GET", ""), ("POST", "/cancel")):
        url = f"{jp_base_url}api/qmon/jobs/{job_id}{suffix}"
        response = await http_server_client.fetch(
            url,
            method=method,
            body=b"" if method == "POST" else None,
            headers={"Authorization": f"token {_token(jp_fetch)}"},
            raise_error=False,
        )
        assert 400 <= response.code < 500, (url, response.code)
        assert json.loads(response.body)["message"]
    # nothing was changed
    assert body(await jp_fetch("api", "qmon", "jobs", snap["id"]))["status"] == "running"


def _token(jp_fetch) -> str:
    from jupyter_server.serverapp import ServerApp

    return ServerApp.instance().identity_provider.token


async def test_unknown_path_is_json_404_and_wrong_method_405(jp_fetch, kernel):
    code, err = await fetch_error(jp_fetch, "api", "qmon", "nothing-here")
    assert code == 404
    assert err["message"]
    code, err = await fetch_error(jp_fetch, "api", "qmon", "jobs", method="POST", body=b"{}")
    assert code == 405
    assert err["message"]
    snap = kernel.add()
    code, _ = await fetch_error(jp_fetch, "api", "qmon", "jobs", snap["id"], "cancel")
    assert code == 405  # GET on a POST-only route


@pytest.mark.parametrize(
    "payload", [b"{not json", b"[1, 2]", b'"cancel"', b'{"reason": 5}', b'{"x": 1}']
)
async def test_malformed_bodies_are_400_and_change_nothing(jp_fetch, store, kernel, payload):
    snap = kernel.add()
    code, err = await fetch_error(
        jp_fetch, "api", "qmon", "jobs", snap["id"], "cancel", method="POST", body=payload
    )
    assert code == 400
    assert err["message"]
    assert store.pending_commands("k-test") == []


async def test_cancel_answers_202_with_snapshot_and_queues_a_command(jp_fetch, store, kernel):
    snap = kernel.add()
    response = await jp_fetch(
        "api", "qmon", "jobs", snap["id"], "cancel", method="POST", body=b'{"reason": "oops"}'
    )
    assert response.code == 202
    assert body(response)["id"] == snap["id"]
    [command] = store.pending_commands("k-test")
    assert (command["job_id"], command["action"]) == (snap["id"], "cancel")


@pytest.mark.parametrize(
    ("action", "fields", "reason"),
    [
        ("cancel", {"status": "completed"}, "already completed"),
        ("pause", {"status": "completed"}, "already completed"),
        ("resume", {"status": "cancelled"}, "already cancelled"),
        ("pause", {"status": "queued"}, "only a running job can be paused"),
        ("resume", {"status": "pending"}, "only a paused job can be resumed"),
        ("pause", {"capabilities": {"cancel": True, "pause": False}}, "not supported"),
        (
            "resume",
            {"status": "paused", "capabilities": {"cancel": True, "pause": False}},
            "not supported",
        ),
        ("cancel", {"capabilities": {"cancel": False, "pause": False}}, "does not support cancel"),
    ],
)
async def test_actions_the_state_or_provider_forbids_are_409(
    jp_fetch, store, kernel, action, fields, reason
):
    snap = kernel.add(**fields)
    code, err = await fetch_error(
        jp_fetch, "api", "qmon", "jobs", snap["id"], action, method="POST", body=b""
    )
    assert code == 409
    assert reason in err["message"]
    assert store.pending_commands("k-test") == []


@pytest.mark.parametrize(("action", "status"), [("pause", "paused"), ("resume", "running")])
async def test_pausing_a_paused_or_resuming_a_running_job_is_202_and_changes_nothing(
    jp_fetch, store, kernel, action, status
):
    # as JobManager.pause()/resume(): a no-op, not an error
    snap = kernel.add(status=status)
    response = await jp_fetch("api", "qmon", "jobs", snap["id"], action, method="POST", body=b"")
    assert response.code == 202
    assert body(response) == store.get_job(snap["id"])
    assert body(response)["status"] == status
    # queued all the same (the stored state may lag); the kernel's manager no-ops it
    [command] = store.pending_commands("k-test")
    assert (command["job_id"], command["action"]) == (snap["id"], action)


def test_the_kernel_carries_out_a_no_op_pause_or_resume_as_done(store):
    from qmon_jupyter.jobs import JobManager
    from qmon_jupyter.kernel import StoreWriter

    timeout = 20.0
    started, release = threading.Event(), threading.Event()

    def work(reporter, token):
        started.set()
        while not release.is_set():
            token.check()
            time.sleep(0.01)

    def carried_out(command_id):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            command = store.get_command(command_id)
            if command["state"] != "pending" and command["state"] != "running":
                return command
            time.sleep(0.02)
        raise AssertionError(f"command {command_id} still {command['state']}")

    with JobManager(kernel_id="k-noop") as manager:
        writer = StoreWriter(manager, store, command_interval=0.05)
        try:
            job = manager.submit_function(work)
            assert started.wait(timeout)
            resume = carried_out(store.add_command("k-noop", "resume", user="u", job_id=job.id))
            assert (resume["state"], job.status.value) == ("done", "running")
            job.pause()
            pause = carried_out(store.add_command("k-noop", "pause", user="u", job_id=job.id))
            assert (pause["state"], job.status.value) == ("done", "paused")
            job.resume()
            release.set()
            assert job.wait(timeout)
        finally:
            release.set()
            writer.close()
            manager.shutdown(cancel_running=True)


async def test_action_for_a_job_of_a_dead_kernel_is_409_with_reason(jp_fetch, store, make_kernel):
    ghost = make_kernel("k-ghost", pid=2**22 + 12345)  # no such process
    ghost.store.heartbeat(
        "k-ghost", pid=ghost.pid, host="elsewhere", proc_start=None, started_at="x", state="stopped"
    )
    snap = ghost.add()
    code, err = await fetch_error(
        jp_fetch, "api", "qmon", "jobs", snap["id"], "cancel", method="POST", body=b""
    )
    assert code == 409
    # either the kernel check refuses it, or the liveness check got there first
    assert "kernel k-ghost is stopped" in err["message"] or "(kernel stopped)" in err["message"]


async def test_cancel_for_unknown_job_is_404(jp_fetch, kernel):
    code, _ = await fetch_error(
        jp_fetch, "api", "qmon", "jobs", "feedfacecafe", "cancel", method="POST", body=b""
    )
    assert code == 404


async def test_dismiss_marks_notification_and_audits_the_user(jp_fetch, store, kernel):
    note = kernel.notify()
    response = await jp_fetch(
        "api", "qmon", "notifications", note["id"], "dismiss", method="POST", body=b""
    )
    assert response.code == 202
    assert body(response)["dismissed"] is True
    listed = body(await jp_fetch("api", "qmon", "notifications"))["notifications"]
    assert note["id"] not in [n["id"] for n in listed]
    every = body(
        await jp_fetch("api", "qmon", "notifications", params={"include_dismissed": "true"})
    )
    assert note["id"] in [n["id"] for n in every["notifications"]]
    code, _ = await fetch_error(
        jp_fetch, "api", "qmon", "notifications", note["id"], "dismiss", method="POST", body=b""
    )
    assert code == 409
    audit = [a for a in store.audit_trail() if a["action"] == "dismiss"]
    assert audit
    assert all(a["user"] == "alice" for a in audit)


async def test_every_write_is_audited_with_user_action_job_and_time(jp_fetch, store, kernel):
    snap = kernel.add()
    await jp_fetch("api", "qmon", "jobs", snap["id"], "pause", method="POST", body=b"")
    [row] = store.audit_trail(job_id=snap["id"])
    assert (row["user"], row["action"], row["job_id"]) == ("alice", "pause", snap["id"])
    assert row["time"].endswith("Z")


async def test_dashboard_has_every_section_active_jobs_first(jp_fetch, kernel):
    done = kernel.add(status="completed", created_at="2026-02-01T00:00:00.000Z")
    active = kernel.add(status="running", created_at="2026-01-01T00:00:00.000Z")
    kernel.add(type="hardware", provider={"name": "emulator", "status": "QUEUED", "health": "ok"})
    kernel.notify()
    state = body(await jp_fetch("api", "qmon", "dashboard"))
    assert set(state) >= {"jobs", "hardware", "status", "resources", "stats", "notifications"}
    ids = [j["id"] for j in state["jobs"]]
    assert ids.index(active["id"]) < ids.index(done["id"])
    assert state["hardware"]["providers"][0]["name"] == "emulator"
    assert state["stats"]["total"] == state["total_jobs"] == 3
    assert len(state["notifications"]) == 1


async def test_status_stats_resources_hardware_answer(jp_fetch, kernel):
    kernel.add(status="completed", elapsed_s=2.0, done=1000)
    kernel.add(status="failed", error={"type": "ValueError", "message": "x"})
    status = body(await jp_fetch("api", "qmon", "status"))
    assert status["kernels"][0]["kernel_id"] == "k-test"
    assert status["kernels"][0]["alive"] is True
    assert status["store"]["ok"] is True
    stats = body(await jp_fetch("api", "qmon", "stats"))
    assert {k: v for k, v in stats["by_status"].items() if v} == {"completed": 1, "failed": 1}
    assert stats["success_rate"] == pytest.approx(0.5)
    assert stats["throughput"]["shots_per_s"] == pytest.approx(500.0)
    resources = body(await jp_fetch("api", "qmon", "resources"))
    assert "k-test" in resources["kernels"]
    assert resources["server"]["rss_bytes"] > 0
    assert body(await jp_fetch("api", "qmon", "hardware"))["jobs"] == []


async def test_the_store_source_pages_for_the_dashboard_api(jp_fetch):
    from jupyter_server.serverapp import ServerApp

    from qmon_jupyter.dashboard_api import PagingSource

    assert body(await jp_fetch("api", "qmon", "jobs"))["total"] == 0
    service = ServerApp.instance().web_app.settings["qmon"]
    assert isinstance(service.source, PagingSource)  # REST reads go through the API, in SQL
    assert service.api._paging


async def test_rest_hardware_and_the_python_dashboard_api_say_the_same(jp_fetch, kernel):
    from jupyter_server.serverapp import ServerApp

    polled = "2026-11-29T10:00:00.000Z"
    kernel.add(
        type="hardware",
        status="queued",
        updated_at="2026-11-29T09:00:00.000Z",
        provider={"name": "emu", "health": "degraded"},
    )
    kernel.add(  # the newer snapshot: its health is the provider's
        type="hardware",
        status="completed",
        updated_at="2026-11-29T10:00:00.000Z",
        provider={"name": "emu", "health": "healthy", "last_poll": polled},
    )
    kernel.add(type="hardware", status="running", backend="braket", provider=None)
    rest = body(await jp_fetch("api", "qmon", "hardware"))
    api = ServerApp.instance().web_app.settings["qmon"].api.get_hardware()
    by_name = {p["name"]: p for p in rest["providers"]}
    assert by_name["emu"]["jobs"] == 2
    assert by_name["emu"]["active"] == 1
    assert by_name["emu"]["health"] == "healthy"
    assert by_name["braket"]["jobs"] == by_name["braket"]["active"] == 1
    assert sorted(rest["providers"], key=lambda p: p["name"]) == sorted(
        api["providers"], key=lambda p: p["name"]
    )
    last_polls = {j["id"]: j["last_poll"] for j in rest["jobs"]}
    assert last_polls == {j["id"]: j["last_poll"] for j in api["jobs"]}
    assert polled in last_polls.values()


async def test_export_json_and_csv_downloads(jp_fetch, kernel):
    kernel.add(name="=HYPERLINK(evil)")
    kernel.add(name="plain")
    as_json = await jp_fetch("api", "qmon", "export", params={"format": "json"})
    assert "attachment" in as_json.headers["Content-Disposition"]
    assert body(as_json)["total"] == 2
    as_csv = await jp_fetch("api", "qmon", "export", params={"format": "csv"})
    text = as_csv.body.decode()
    assert as_csv.headers["Content-Type"].startswith("text/csv")
    assert text.splitlines()[0].startswith("id,name,type,status")
    assert "'=HYPERLINK(evil)" in text  # a formula is never handed to a spreadsheet
    code, _ = await fetch_error(jp_fetch, "api", "qmon", "export", params={"format": "xml"})
    assert code == 400


async def test_export_streams_every_page_newest_first(jp_fetch, store):
    # 1,234 jobs: more than two pages of 500, each read and sent on its own
    snaps = [
        snapshot(
            f"job{i:04d}",
            created_at=f"2026-11-29T10:{i // 60 % 60:02d}:{i % 60:02d}.{i // 3600:03d}Z",
            status="failed" if i % 10 == 0 else "completed",
        )
        for i in range(1234)
    ]
    store.write_batch("k-test", jobs=snaps)
    exported = body(await jp_fetch("api", "qmon", "export", params={"format": "json"}))
    ids = [j["id"] for j in exported["jobs"]]
    assert exported["total"] == len(ids) == len(set(ids)) == 1234
    created = [j["created_at"] for j in exported["jobs"]]
    assert created == sorted(created, reverse=True)
    failed = await jp_fetch("api", "qmon", "export", params={"format": "csv", "status": "failed"})
    rows = failed.body.decode().splitlines()
    assert len(rows) == 1 + 124
    assert all(",failed," in row for row in rows[1:])
    empty = await jp_fetch("api", "qmon", "export", params={"kernel": "nobody"})
    assert empty.headers["Content-Type"] == "application/json"
    assert (body(empty)["jobs"], body(empty)["total"]) == ([], 0)
    header_only = await jp_fetch("api", "qmon", "export", params={"format": "csv", "kernel": "x"})
    assert header_only.headers["Content-Type"].startswith("text/csv")
    assert len(header_only.body.decode().splitlines()) == 1


async def test_a_client_leaving_mid_export_stops_it_quietly(
    jp_fetch, jp_base_url, jp_http_port, store, caplog
):
    from jupyter_server.serverapp import ServerApp

    store.write_batch("k-test", jobs=[snapshot(f"big{i:05d}") for i in range(3000)])
    token = ServerApp.instance().identity_provider.token
    reader, writer = await asyncio.open_connection("127.0.0.1", jp_http_port)
    request = (
        f"GET {jp_base_url}api/qmon/export?format=json HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{jp_http_port}\r\nAuthorization: token {token}\r\n\r\n"
    )
    writer.write(request.encode())
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert b" 200 " in head.split(b"\r\n")[0]
    await asyncio.wait_for(reader.read(1000), 10)  # the first bytes of a ~3 MB body
    writer.close()
    await asyncio.sleep(0.5)  # the server notices at its next write
    assert body(await jp_fetch("api", "qmon", "jobs"))["total"] == 3000  # still serving
    assert "Uncaught exception" not in caplog.text
    assert "Cannot send error" not in caplog.text


async def test_an_export_cut_short_by_shutdown_fails_visibly(
    jp_fetch, jp_base_url, jp_http_port, store
):
    import socket

    from jupyter_server.serverapp import ServerApp

    store.write_batch("k-test", jobs=[snapshot(f"big{i:05d}") for i in range(3000)])
    assert body(await jp_fetch("api", "qmon", "jobs"))["total"] == 3000
    server = ServerApp.instance()
    # a small receive window: the server blocks on its first page until we read
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", jp_http_port))
    reader, writer = await asyncio.open_connection(sock=sock)
    request = (
        f"GET {jp_base_url}api/qmon/export?format=csv HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{jp_http_port}\r\n"
        f"Authorization: token {server.identity_provider.token}\r\n\r\n"
    )
    writer.write(request.encode())
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert b"chunked" in head.lower()
    await server.cleanup_extensions()  # the store goes away mid-download
    received = b""
    deadline = time.monotonic() + 20
    end = b"\r\n0\r\n\r\n"  # the last chunk of a complete response
    while not received.endswith(end) and time.monotonic() < deadline:
        chunk = await asyncio.wait_for(reader.read(2**16), 10)
        if not chunk:
            break  # the server closed the connection
        received += chunk
    writer.close()
    assert not received.endswith(end), "a cut-off export must not end like a complete one"
    assert received.count(b"\nbig") < 3000


async def test_prometheus_metrics_appear_in_server_metrics(jp_fetch, kernel):
    kernel.add(status="running", rate=250.0)
    kernel.add(status="queued")
    kernel.notify(level="warning")
    text = (await jp_fetch("metrics")).body.decode()
    assert 'qmon_jobs{status="running"} 1.0' in text
    assert "qmon_jobs_running 1.0" in text
    assert "qmon_queue_length 1.0" in text
    assert "qmon_shots_per_second 250.0" in text
    assert 'qmon_notifications{level="warning"} 1.0' in text
    assert "qmon_commands_total" in text


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
