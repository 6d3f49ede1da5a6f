"""The /qmon/ page's table in Debian's Chromium: rows, paging, search, sort, bulk cancel.

Also leaves screenshots of ~40 jobs, light and dark, in test-artifacts/ (for the README
and for a person to judge readability).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from qmon_jupyter.core.search import fold

from .test_page_browser import CHROMIUM
from .test_page_browser import pytestmark as _browser_marks

#: the same skips as the page's other browser tests (Chromium present, the bundle built)
pytestmark = _browser_marks
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
MAX_ROW_PX = 32
_STATES = ["running", "queued", "completed", "failed", "cancelled", "paused", "completed"]


@pytest.fixture
def chromium():
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield browser
        finally:
            browser.close()


def _open(chromium, url, scheme="light"):
    page = chromium.new_page(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    page.set_default_timeout(15_000)
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(url)
    page.locator(".qmon-table-view:not([hidden]) tr.qmon-trow").first.wait_for()
    return page


def _names(page):
    return page.locator("tr.qmon-trow .qmon-job-name").all_text_contents()


#: what a researcher's afternoon looks like, for the screenshots: (name, type, backend)
_REALISTIC = [
    ("VQE H2, step {i}", "optimization", "local"),
    ("QAOA max-cut n=12 p={i}", "simulation", "local"),
    ("RB sequence {i:03d}", "simulation", "aer_simulator"),
    ("GHZ-20 calibration #{i}", "simulation", "emulated_qpu"),
    ("quantum volume 24, seed {i}", "simulation", "local"),
    ("Estimator sweep {i} (100 bindings)", "function", "local"),
    ("Grover 14 qubits, trial {i}", "simulation", "ibm_torino"),
    ("Bell pair tomography {i}", "simulation", "local"),
]


def _add_mixed(kernel, n, *, realistic=False):
    jobs = []
    for i in range(n):
        status = _STATES[i % len(_STATES)]
        ended = status in ("completed", "failed", "cancelled")
        name, job_type, backend = (
            _REALISTIC[i % len(_REALISTIC)] if realistic else ("job #{i}", "simulation", "local")
        )
        jobs.append(
            kernel.add(
                name=name.format(i=i + 1),
                type=job_type,
                backend=backend,
                status=status,
                progress=1.0 if status == "completed" else (i % 10) / 10 * (status != "queued"),
                eta_s=None if ended or status in ("paused", "queued") else float(5 + i),
                elapsed_s=None if status == "queued" else float(3 * i),
                queue_position=(i // 7) + 1 if status == "queued" else None,
                finished_at=f"2026-12-07T10:{i // 60:02d}:{i % 60:02d}.000Z" if ended else None,
                error={"type": "ValueError", "message": "bad gate"} if status == "failed" else None,
            )
        )
    return jobs


def test_sixty_jobs_show_as_short_rows_and_paging_reaches_the_last(page_server, chromium, kernel):
    _add_mixed(kernel, 60)
    page = _open(chromium, page_server.url)
    heights = [
        box["height"]
        for box in page.eval_on_selector_all(
            "tr.qmon-trow", "rows => rows.map(r => r.getBoundingClientRect().toJSON())"
        )
    ]
    assert len(heights) == 25
    assert max(heights) <= MAX_ROW_PX, heights
    assert page.locator("th.qmon-col-kernel").count() == 1
    seen = set(_names(page))
    for _ in range(5):
        if page.locator("button.qmon-next").is_disabled():
            break
        before = _names(page)
        page.locator("button.qmon-next").click()
        page.wait_for_function(
            "b => document.querySelector('tr.qmon-trow .qmon-job-name').textContent !== b",
            arg=before[0],
        )
        seen |= set(_names(page))
    assert {f"job #{i}" for i in range(1, 61)} <= seen
    assert page.locator(".qmon-page-info").text_content() == "51\N{EN DASH}60 of 60"
    assert not page.errors


def test_the_search_finds_one_name_among_two_hundred(page_server, chromium, kernel):
    for i in range(200):
        kernel.add(name=f"RB sequence {i:03d}", status="completed", finished_at=None)
    page = _open(chromium, page_server.url)
    page.locator('input[type="search"]').fill("RB sequence 042")
    page.wait_for_function("() => document.querySelectorAll('tr.qmon-trow').length === 1")
    assert _names(page) == ["RB sequence 042"]
    assert page.locator(".qmon-page-info").text_content() == "1 of 1"


def test_a_header_click_sorts_every_page_by_that_column(page_server, chromium, kernel):
    _add_mixed(kernel, 40)
    page = _open(chromium, page_server.url)
    header = page.locator('th[data-column="name"]')
    header.locator("button").click()
    page.wait_for_function(
        "() => document.querySelector('tr.qmon-trow .qmon-job-name').textContent === 'job #1'"
    )
    assert header.get_attribute("aria-sort") == "ascending"
    names = _names(page)
    assert names == sorted(names, key=fold)
    header.locator("button").click()
    page.wait_for_function(
        "() => document.querySelector('tr.qmon-trow .qmon-job-name').textContent === 'job #9'"
    )
    assert header.get_attribute("aria-sort") == "descending"
    names = _names(page)
    assert names == sorted(names, key=fold, reverse=True)


def test_cancel_selected_cancels_the_selected_jobs(page_server, chromium, kernel, store):
    jobs = _add_mixed(kernel, 20)
    page = _open(chromium, page_server.url)
    running = [j for j in jobs if j["status"] == "running"][:2]
    for job in running:
        page.locator(f'tr.qmon-trow[data-job-id="{job["id"]}"] input.qmon-select').check()
    page.locator("button.qmon-bulk-cancel", has_text="(2)").click()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(store.pending_commands("k-test")) < 2:
        time.sleep(0.05)
    commands = store.pending_commands("k-test")
    assert sorted((c["job_id"], c["action"]) for c in commands) == sorted(
        (j["id"], "cancel") for j in running
    )
    page.get_by_text("Cancel sent for 2 jobs.").wait_for()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_of_forty_jobs(page_server, chromium, kernel, scheme):
    _add_mixed(kernel, 40, realistic=True)
    page = _open(chromium, page_server.url, scheme)
    page.locator("tr.qmon-trow").nth(24).wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"table-{scheme}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    assert not page.errors
