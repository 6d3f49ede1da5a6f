"""The /qmon/ page in Debian's Chromium: the renderer over REST + SSE, cancel with XSRF."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from qmon_jupyter.server.page import STATIC_DIR

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's Chromium is not at /usr/bin/chromium"
    ),
    pytest.mark.skipif(
        not (STATIC_DIR / "page.js").is_file(),
        reason="page bundle not built (npm run build in js/)",
    ),
]


@pytest.fixture
def browser_page():
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_page_shows_jobs_as_text_and_cancel_posts_with_xsrf(
    page_server, browser_page, kernel, store
):
    evil = "<img src=x onerror=window.__pwned=1>"
    snap = kernel.add(name=evil)
    page = browser_page
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(page_server.url)
    page.get_by_text(evil).first.wait_for(timeout=15_000)  # rendered as text, not HTML
    assert page.evaluate("window.__pwned") is None
    page.locator("button.qmon-cancel:not([disabled])").first.click()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not store.pending_commands("k-test"):
        time.sleep(0.05)
    [command] = store.pending_commands("k-test")
    assert (command["job_id"], command["action"]) == (snap["id"], "cancel")
    # a live update over SSE reaches the page
    later = kernel.add(name="arrived-live")
    page.get_by_text("arrived-live").first.wait_for(timeout=10_000)
    assert later["id"]
    assert not errors
