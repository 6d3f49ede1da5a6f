"""``GET jobs?q=``: the dashboard's search over the store, the same rule as the widget's."""

from __future__ import annotations

import json

from qmon_jupyter.core.search import MAX_QUERY, search_matches

from .conftest import body, fetch_error


async def test_q_finds_one_job_by_name_among_two_hundred(jp_fetch, kernel):
    for i in range(200):
        kernel.add(name=f"RB sequence {i:03d}")
    reply = body(await jp_fetch("api", "qmon", "jobs", params={"q": "rb SEQUENCE 042"}))
    assert reply["total"] == 1
    assert [j["name"] for j in reply["jobs"]] == ["RB sequence 042"]


async def test_q_matches_an_id_and_pages_with_the_total_of_matches(jp_fetch, kernel):
    jobs = [kernel.add(name=f"bell {i}") for i in range(5)]
    reply = body(await jp_fetch("api", "qmon", "jobs", params={"q": jobs[2]["id"]}))
    assert [j["id"] for j in reply["jobs"]] == [jobs[2]["id"]]
    page = body(await jp_fetch("api", "qmon", "jobs", params={"q": "bell", "limit": 2}))
    assert page["total"] == 5
    assert len(page["jobs"]) == 2


async def test_q_is_data_not_sql_or_a_pattern(jp_fetch, kernel):
    kernel.add(name="100% done_x")
    kernel.add(name="plain")
    for q in ("%", "_", "' OR 1=1 --"):
        reply = body(await jp_fetch("api", "qmon", "jobs", params={"q": q}))
        expected = 1 if q in ("%", "_") else 0
        assert reply["total"] == expected, q


async def test_store_and_python_filter_agree(jp_fetch, kernel):
    names = ["Grover", "grover-2", "ÉTÉ", "été", "qft", None]
    snaps = [kernel.add(name=n) if n else kernel.add() for n in names]
    for q in ("grover", "GROVER", "été", "ÉTÉ", "Q"):
        reply = body(await jp_fetch("api", "qmon", "jobs", params={"q": q, "limit": 100}))
        expected = {s["id"] for s in snaps if search_matches(s, q)}
        assert {j["id"] for j in reply["jobs"]} == expected, q


async def test_a_too_long_q_is_400_naming_the_limit(jp_fetch, kernel):
    code, reply = await fetch_error(
        jp_fetch, "api", "qmon", "jobs", params={"q": "x" * (MAX_QUERY + 1)}
    )
    assert code == 400
    assert str(MAX_QUERY) in json.dumps(reply)
