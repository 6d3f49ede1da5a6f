"""``GET jobs?sort=``: the table's sortable columns over the store, the widget's rule in SQL."""

from __future__ import annotations

import pytest

from qmon_jupyter.core.columns import SORT_CHOICES, sort_snapshots

from .conftest import body, fetch_error


def _mixed(kernel):
    jobs = []
    for i in range(12):
        jobs.append(
            kernel.add(
                name=["Grover", "bell", "qft", "Bell 2", "", "ÉTÉ"][i % 6] + f" {i}",
                status=["running", "queued", "completed", "failed", "paused", "pending"][i % 6],
                progress=[0.5, 0, 1, 0.25, 0.75, None][i % 6],
                eta_s=[3.0, None, None, 10, 1, None][i % 6],
                elapsed_s=float(i),
                backend=["local", "dask", None][i % 3],
                queue_position=[None, 12 - i, None, None, None, None][i % 6],
                finished_at=f"2026-12-07T10:00:{(i * 7) % 12:02d}.000Z"
                if i % 6 in (2, 3)
                else None,
            )
        )
    return jobs


@pytest.mark.parametrize("sort", SORT_CHOICES)
async def test_every_sort_orders_the_store_as_the_widget_does(jp_fetch, kernel, sort):
    jobs = _mixed(kernel)
    reply = body(await jp_fetch("api", "qmon", "jobs", params={"sort": sort, "limit": 100}))
    assert [j["id"] for j in reply["jobs"]] == [j["id"] for j in sort_snapshots(jobs, sort)]


async def test_pages_of_a_sort_reach_every_job_once(jp_fetch, kernel):
    for i in range(60):
        kernel.add(name=f"job {i:02d}", elapsed_s=float(i % 5))
    seen = []
    for offset in (0, 25, 50):
        params = {"sort": "-elapsed", "limit": 25, "offset": offset}
        page = body(await jp_fetch("api", "qmon", "jobs", params=params))
        assert page["total"] == 60
        seen += [j["id"] for j in page["jobs"]]
    assert len(set(seen)) == 60
    elapsed = [j["elapsed_s"] for j in (await _all(jp_fetch, "-elapsed"))]
    assert elapsed == sorted(elapsed, reverse=True)


async def _all(jp_fetch, sort):
    return body(await jp_fetch("api", "qmon", "jobs", params={"sort": sort, "limit": 100}))["jobs"]


async def test_sort_and_search_combine(jp_fetch, kernel):
    for i in range(200):
        kernel.add(name=f"RB sequence {i:03d}")
    params = {"q": "sequence 04", "sort": "-name", "limit": 5}
    reply = body(await jp_fetch("api", "qmon", "jobs", params=params))
    assert reply["total"] == 10
    assert [j["name"] for j in reply["jobs"]] == [
        f"RB sequence {i:03d}" for i in (49, 48, 47, 46, 45)
    ]


async def test_an_unknown_sort_is_400_naming_the_choices(jp_fetch, kernel):
    code, reply = await fetch_error(jp_fetch, "api", "qmon", "jobs", params={"sort": "snapshot"})
    assert code == 400
    assert "-eta" in str(reply)
