"""Reading the REST API over the store, in a real Jupyter server with the extension loaded."""

from __future__ import annotations

import json

import pytest

from .conftest import body, fetch_error, token


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
            headers={"Authorization": f"token {token()}"},
            raise_error=False,
        )
        assert 400 <= response.code < 500, (url, response.code)
        assert json.loads(response.body)["message"]
    # nothing was changed
    assert body(await jp_fetch("api", "qmon", "jobs", snap["id"]))["status"] == "running"


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


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("jobs", {"limit": "ten"}, "limit must be an integer, got 'ten'"),
        ("jobs", {"limit": "0"}, "limit must be between 1 and 1000, got 0"),
        ("jobs", {"offset": "-1"}, "offset must be between 0 and 1000000000, got -1"),
        (
            "jobs",
            {"type": "quantum"},
            (
                "type: unknown value 'quantum'; expected one of"
                " ['analysis', 'hardware', 'optimization', 'session', 'simulation']"
            ),
        ),
        ("jobs", {"kernel": "../x"}, "invalid kernel: '../x'"),
        ("jobs", {"frobnicate": "1"}, "unknown query parameter 'frobnicate'"),
        ("jobs", {"limit": ["1", "2"]}, "query parameter 'limit' given twice"),
        ("export", {"format": "xml"}, "format must be json or csv, got 'xml'"),
        ("stats", {"limit": "5"}, "unknown query parameter 'limit'"),
        (
            "notifications",
            {"include_dismissed": "maybe"},
            "include_dismissed must be true or false, got 'maybe'",
        ),
    ],
)
async def test_the_route_table_checks_each_parameter_with_its_message(
    jp_fetch, path, params, message
):
    pairs = [(k, v) for k, vs in params.items() for v in ([vs] if isinstance(vs, str) else vs)]
    code, err = await fetch_error(jp_fetch, "api", "qmon", path, params=pairs)
    assert (code, err["message"]) == (400, message)


async def test_an_id_that_is_no_plain_token_is_400_naming_what_it_is(jp_fetch):
    code, err = await fetch_error(
        jp_fetch, "api", "qmon", "notifications", "a.b", "dismiss", method="POST", body=b""
    )
    assert (code, err["message"]) == (400, "invalid notification id: 'a.b'")
