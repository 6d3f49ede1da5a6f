"""GET export: the job history as a JSON or CSV download, streamed a page at a time."""

from __future__ import annotations

import asyncio
import time

from .conftest import body, fetch_error, snapshot


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
