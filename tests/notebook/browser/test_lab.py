"""The notebook experience in a real JupyterLab and a real browser."""

from __future__ import annotations

import re

import pytest

from ..._support import BELL
from .conftest import ARTIFACTS, cell_output, open_notebook, run_all_cells

pytestmark = pytest.mark.browser

# Trajectory mode (mid-circuit measurement and a condition): long enough to watch and cancel.
SLOW_QASM = "\n".join(
    [
        "OPENQASM 2.0;",
        'include "qelib1.inc";',
        "qreg q[14];",
        "creg c[14];",
        *[f"h q[{i}];" for i in range(14)],
        "measure q[0] -> c[0];",
        "if (c==1) x q[1];",
        *[f"cx q[{i}], q[{i + 1}];" for i in range(13)],
        "measure q -> c;",
    ]
)


def percent(text):
    match = re.search(r"(\d+(?:\.\d+)?)%", text)
    return float(match.group(1)) if match else None


def test_a_qmon_cell_shows_progress_pauses_resumes_and_cancels(page, lab):
    name = lab.write_notebook(
        "progress.ipynb",
        [
            "%load_ext qmon_jupyter",
            f"%%qmon --shots 50000000 --batch-size 20000 --name progress-demo\n{SLOW_QASM}",
        ],
    )
    open_notebook(page, lab, name)
    run_all_cells(page)
    widget = cell_output(page, 1).locator(".qmon-jobview")
    widget.wait_for()
    badge = widget.locator(".qmon-badge")
    page.wait_for_function(
        "el => el.textContent === 'running'", arg=badge.element_handle(), timeout=30_000
    )
    pct = widget.locator(".qmon-pct")
    first = percent(pct.text_content())
    page.wait_for_function(
        "([el, first]) => parseFloat(el.textContent) > first",
        arg=[pct.element_handle(), first],
        timeout=30_000,
    )
    widget.locator("button.qmon-pause").click()
    page.wait_for_function("el => el.textContent === 'paused'", arg=badge.element_handle())
    widget.locator("button.qmon-resume").click()
    page.wait_for_function("el => el.textContent === 'running'", arg=badge.element_handle())
    widget.locator("button.qmon-cancel").click()
    page.wait_for_function(
        "el => el.textContent === 'cancelled'", arg=badge.element_handle(), timeout=30_000
    )
    assert badge.text_content() == "cancelled"
    assert page.dialogs == []


HOSTILE = "<img src=x onerror=alert(1)>"

HOLD_JOBS = """import threading
release = threading.Event()

def hold(reporter, token):
    reporter.set(0, 100)
    reporter.stage("holding")
    while not release.wait(0.05):
        token.check()

held = [qmon.get_manager().submit_function(hold, name=f"held {i}") for i in range(12)]"""


def test_the_dashboard_lists_jobs_with_queue_positions(page, lab):
    name = lab.write_notebook(
        "dashboard.ipynb",
        ["%load_ext qmon_jupyter\nimport qmon_jupyter as qmon", "qmon.dashboard()", HOLD_JOBS],
    )
    open_notebook(page, lab, name)
    run_all_cells(page)
    dashboard = cell_output(page, 1).locator(".qmon-dashboard")
    dashboard.wait_for()
    # 12 jobs: more than the cards show, so one table row each
    rows = dashboard.locator("tr.qmon-trow")
    page.wait_for_function(
        "el => el.querySelectorAll('tr.qmon-trow').length === 12", arg=dashboard.element_handle()
    )
    page.wait_for_function(
        "el => el.querySelectorAll('tr.qmon-trow[data-status=queued]').length === 2",
        arg=dashboard.element_handle(),
    )
    statuses = [rows.nth(i).get_attribute("data-status") for i in range(12)]
    assert statuses == ["running"] * 10 + ["queued"] * 2  # active first, queue in order
    queued = dashboard.locator("tr.qmon-trow[data-status=queued] .qmon-badge")
    assert queued.all_text_contents() == ["queued #1", "queued #2"]
    assert "10 running · 2 queued" in dashboard.locator(".qmon-summary").text_content()
    # Filter: only the queued ones.
    dashboard.locator("select[aria-label=Status]").select_option("queued")
    page.wait_for_function(
        "el => el.querySelectorAll('tr.qmon-trow').length === 2", arg=dashboard.element_handle()
    )


def test_a_hostile_job_name_renders_as_text(page, lab):
    name = lab.write_notebook(
        "hostile.ipynb",
        [
            "%load_ext qmon_jupyter\nimport qmon_jupyter as qmon",
            "qmon.dashboard()",
            f'%%qmon --shots 100 --name "{HOSTILE}"\n{BELL}',
        ],
    )
    open_notebook(page, lab, name)
    run_all_cells(page)
    job_name = cell_output(page, 2).locator(".qmon-jobview .qmon-job-name")
    job_name.wait_for()
    assert job_name.text_content() == HOSTILE
    row_name = cell_output(page, 1).locator(".qmon-job .qmon-job-name")
    row_name.first.wait_for()
    assert row_name.first.text_content() == HOSTILE
    page.wait_for_timeout(500)  # give an injected onerror handler its chance
    assert page.locator(".jp-OutputArea img[src=x]").count() == 0
    assert page.dialogs == []


def test_a_burst_of_100_jobs_stays_under_the_iopub_limit(page, lab):
    setup = (
        "%load_ext qmon_jupyter\n"
        "import ipywidgets\n"
        "import qmon_jupyter as qmon\n"
        "from qmon_jupyter.widget import JobWidget"
    )
    burst = "\n".join(
        [
            f"BELL = {BELL!r}",
            "jobs = [",
            "    qmon.submit(BELL, shots=200000, batch_size=2000, name=f'burst {i}')",
            "    for i in range(100)",
            "]",
            "ipywidgets.VBox([JobWidget(j) for j in jobs])",
        ]
    )
    name = lab.write_notebook("burst.ipynb", [setup, "qmon.dashboard()", burst])
    open_notebook(page, lab, name)
    run_all_cells(page)
    views = cell_output(page, 2).locator(".qmon-jobview")
    page.wait_for_function(
        "el => el.querySelectorAll('.qmon-jobview[data-status=completed]').length === 100",
        arg=cell_output(page, 2).element_handle(),
        timeout=120_000,
    )
    assert views.count() == 100
    summary = cell_output(page, 1).locator(".qmon-summary")
    page.wait_for_function(
        "el => el.textContent.includes('100 completed')", arg=summary.element_handle()
    )
    assert "IOPub message rate exceeded" not in page.locator(".jp-Notebook").inner_text()


def test_a_widget_shows_disconnected_after_a_kernel_restart(page, lab):
    name = lab.write_notebook(
        "restart.ipynb", ["%load_ext qmon_jupyter\nimport qmon_jupyter as qmon", "qmon.dashboard()"]
    )
    open_notebook(page, lab, name)
    run_all_cells(page)
    dashboard = cell_output(page, 1).locator(".qmon-dashboard")
    dashboard.wait_for()
    assert dashboard.locator(".qmon-conn").text_content() == "live"
    page.locator(".lm-MenuBar-itemLabel", has_text="Kernel").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Restart Kernel…").first.click()
    page.locator(".jp-Dialog .jp-mod-accept").click()
    page.wait_for_function(
        "el => el.dataset.connection === 'disconnected'",
        arg=page.locator(".qmon-dashboard").first.element_handle(),
        timeout=30_000,
    )
    assert page.locator(".qmon-dashboard .qmon-conn").first.text_content() == "disconnected"


def test_cancel_works_while_another_cell_blocks_the_kernel(page, lab):
    name = lab.write_notebook(
        "busy.ipynb",
        [
            "%load_ext qmon_jupyter",
            f"%%qmon --shots 50000000 --batch-size 20000 --name busy-demo --out slow\n{SLOW_QASM}",
            "ended = slow.wait(300)\nprint('wait returned', slow.status)",
        ],
    )
    open_notebook(page, lab, name)
    run_all_cells(page)
    widget = cell_output(page, 1).locator(".qmon-jobview")
    widget.wait_for()
    badge = widget.locator(".qmon-badge")
    page.wait_for_function("el => el.textContent === 'running'", arg=badge.element_handle())
    # The third cell is running: the kernel is busy with slow.wait().
    busy_prompt = page.locator(".jp-Notebook .jp-Cell").nth(2).locator(".jp-InputPrompt")
    page.wait_for_function("el => el.textContent.includes('*')", arg=busy_prompt.element_handle())
    widget.locator("button.qmon-cancel").click()
    page.wait_for_function(
        "el => el.textContent === 'cancelled'", arg=badge.element_handle(), timeout=30_000
    )
    note = widget.locator(".qmon-note").text_content()
    assert "kernel connection" not in note  # it went through the server, not the comm
    output = cell_output(page, 2)
    page.wait_for_function(
        "el => el.textContent.includes('wait returned cancelled')", arg=output.element_handle()
    )


def test_the_full_page_dashboard_shows_the_kernels_jobs_and_cancels(page, lab):
    name = lab.write_notebook(
        "fullpage.ipynb",
        [
            "%load_ext qmon_jupyter\nimport qmon_jupyter as qmon",
            f'%%qmon --shots 100 --name "{HOSTILE}"\n{BELL}',
            HOLD_JOBS.replace("range(12)", "range(1)"),
        ],
    )
    open_notebook(page, lab, name)
    run_all_cells(page)
    cell_output(page, 1).locator(".qmon-jobview[data-status=completed]").wait_for()
    qmon_page = page.context.new_page()
    qmon_page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    qmon_page.goto(f"{lab.url}qmon/?token={lab.token}")
    dashboard = qmon_page.locator("#qmon-app .qmon-dashboard")
    dashboard.wait_for()
    dashboard.locator(".qmon-job-name", has_text=HOSTILE).first.wait_for(timeout=30_000)
    assert qmon_page.locator("img[src=x]").count() == 0
    # The store holds every earlier test's jobs too: find this one with the search box.
    dashboard.locator('input[type="search"]').fill("held 0")
    held = dashboard.locator("tr.qmon-trow[data-status=running]", has_text="held 0")
    held.wait_for(timeout=30_000)
    job_id = held.get_attribute("data-job-id")  # earlier tests' "held 0" may be cancelled too
    held.click()  # its card opens under it, with the buttons
    dashboard.locator("tr.qmon-detail button.qmon-cancel").click()
    dashboard.locator(f'tr.qmon-trow[data-job-id="{job_id}"][data-status=cancelled]').wait_for(
        timeout=30_000
    )
    assert page.dialogs == []


def test_qmon_progress_is_an_inline_compact_bar_like_tqdm(page, lab):
    name = lab.write_notebook(
        "tqdm.ipynb",
        [
            "import time\nimport qmon_jupyter as qmon",
            "for i in qmon.progress(range(40), desc='inline scan'):\n    time.sleep(0.1)",
        ],
    )
    open_notebook(page, lab, name)
    run_all_cells(page)
    bar = cell_output(page, 1).locator(".qmon-jobview.qmon-compact")
    bar.wait_for()
    badge = bar.locator(".qmon-badge")
    page.wait_for_function(
        "el => el.textContent === 'completed'", arg=badge.element_handle(), timeout=60_000
    )
    box = bar.bounding_box()
    assert box is not None
    assert box["height"] <= 40, box  # one line, as tqdm.notebook draws it
    assert "inline scan" in bar.locator(".qmon-job-name").text_content()
    assert bar.locator(".qmon-pct").text_content() == "100%"
    assert not bar.locator(".qmon-job-meta").is_visible()
    page.screenshot(path=str(ARTIFACTS / "progress-compact.png"))


MANY_JOBS = """done = [
    qmon.get_manager().submit_function(lambda reporter, token: None, name=f"RB sequence {i:03d}")
    for i in range(200)
]"""


def _row_names(table):
    return table.locator("tr.qmon-trow .qmon-job-name").all_text_contents()


def _wait_first_row(page, table, before):
    page.wait_for_function(
        "([el, b]) => el.querySelector('tr.qmon-trow .qmon-job-name')?.textContent !== b",
        arg=[table.element_handle(), before],
    )


def test_the_widget_table_pages_searches_sorts_and_cancels_in_bulk(page, lab):
    name = lab.write_notebook(
        "table.ipynb",
        [
            "%load_ext qmon_jupyter\nimport qmon_jupyter as qmon",
            "qmon.dashboard()",
            HOLD_JOBS.replace("range(12)", "range(4)"),
            MANY_JOBS,
        ],
    )
    open_notebook(page, lab, name)
    run_all_cells(page)
    dashboard = cell_output(page, 1).locator(".qmon-dashboard")
    summary = dashboard.locator(".qmon-summary")
    summary.wait_for()
    page.wait_for_function(
        "el => el.textContent.includes('200 completed')", arg=summary.element_handle()
    )
    table = dashboard.locator(".qmon-table-view")
    page.wait_for_function(
        "el => el.querySelector('.qmon-page-info').textContent === '1\u201325 of 204'",
        arg=table.element_handle(),
    )
    heights = table.locator("tr.qmon-trow").evaluate_all(
        "rows => rows.map(r => r.getBoundingClientRect().height)"
    )
    assert len(heights) == 25
    assert max(heights) <= 32, heights
    # Every job is reachable, a page at a time from the kernel.
    seen = set(_row_names(table))
    for _ in range(12):
        if table.locator("button.qmon-next").is_disabled():
            break
        before = _row_names(table)[0]
        table.locator("button.qmon-next").click()
        _wait_first_row(page, table, before)
        seen |= set(_row_names(table))
    assert {f"RB sequence {i:03d}" for i in range(200)} <= seen
    # Search, in the kernel, by name.
    table.locator('input[type="search"]').fill("RB sequence 042")
    page.wait_for_function(
        "el => el.querySelectorAll('tr.qmon-trow').length === 1", arg=table.element_handle()
    )
    assert _row_names(table) == ["RB sequence 042"]
    table.locator('input[type="search"]').fill("")
    # Sort by name: the held jobs come first ("h" < "r"), on the first page.
    header = table.locator('th[data-column="name"]')
    header.locator("button").click()
    page.wait_for_function(
        "el => el.querySelectorAll('tr.qmon-trow .qmon-job-name')[4]?.textContent"
        " === 'RB sequence 000'",
        arg=table.element_handle(),
    )
    assert header.get_attribute("aria-sort") == "ascending"
    names = _row_names(table)
    assert names == sorted(names, key=str.lower)  # ASCII case ignored, as the search
    # Bulk cancel of two selected rows.
    for held in ("held 1", "held 2"):
        table.locator("tr.qmon-trow", has_text=held).locator("input.qmon-select").check()
    table.locator("button.qmon-bulk-cancel", has_text="(2)").click()
    for held in ("held 1", "held 2"):
        table.locator("tr.qmon-trow[data-status=cancelled]", has_text=held).wait_for()
    statuses = {
        n: table.locator("tr.qmon-trow", has_text=n).get_attribute("data-status")
        for n in ("held 0", "held 3")
    }
    assert statuses == {"held 0": "running", "held 3": "running"}
    assert page.dialogs == []
