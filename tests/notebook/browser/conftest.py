"""A real JupyterLab on loopback and Debian's Chromium driven by Playwright.

The server runs with a token, a temporary root folder, settings and
workspaces, and QMON_DB in a temporary folder (so its kernels and its qmon
REST API share one store). A failing test leaves a screenshot and the
server log in test-artifacts/.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Lab:
    """A running ``jupyter lab``: where it is and how to reach it."""

    def __init__(self, url: str, token: str, root: Path, log: Path) -> None:
        self.url = url
        self.token = token
        self.root = root
        self.log = log

    def write_notebook(self, name: str, cells: list[str]) -> str:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
        nb.metadata = {
            "kernelspec": {
                "display_name": "Python 3 (ipykernel)",
                "language": "python",
                "name": "python3",
            }
        }
        nbformat.write(nb, self.root / name)
        return name

    def shutdown_kernels(self) -> None:
        for kernel in self.api("api/kernels"):
            self.api(f"api/kernels/{kernel['id']}", method="DELETE")

    def api(self, path: str, method: str = "GET") -> dict:
        req = urllib.request.Request(
            f"{self.url}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read() or b"{}")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's Chromium is not installed at /usr/bin/chromium (apt-get install chromium)"
        )
    if shutil.which("jupyter") is None:
        pytest.skip("jupyter is not on PATH")
    base = tmp_path_factory.mktemp("lab")
    root = base / "root"
    settings = base / "settings"
    root.mkdir()
    # No "would you like news?" toast over the widgets.
    note = settings / "@jupyterlab" / "apputils-extension"
    note.mkdir(parents=True)
    (note / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    # Open notebooks straight into their kernel, without the "Select Kernel" dialog.
    tracker = settings / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text('{"autoStartDefaultKernel": true}')
    port = _free_port()
    token = secrets.token_hex(16)
    env = {
        **os.environ,
        "QMON_DB": str(base / "qmon.sqlite"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
    }
    log = base / "jupyter.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter",
                "lab",
                "--no-browser",
                "--allow-root",  # CI runs as root
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={port}",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={root}",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=root,
        )
    url = f"http://127.0.0.1:{port}/"
    server = Lab(url, token, root, log)
    deadline = time.monotonic() + 90
    while True:
        try:
            server.api("api/status")
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"jupyter lab did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
    yield server
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@pytest.fixture(scope="module")
def browser(lab):
    pytest.importorskip("playwright", reason="the playwright package drives the browser")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def page(browser, lab, request):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.dialogs = []

    def on_dialog(dialog):
        page.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is None or report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = request.node.name.replace("/", "_")
        try:
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        except Exception as exc:
            print(f"no screenshot: {exc}")
        shutil.copy(lab.log, ARTIFACTS / f"{name}.jupyter.log")
    context.close()
    lab.shutdown_kernels()  # the next test gets the machine's cores


def open_notebook(page, lab, name):
    # A workspace of its own: nothing restored from the previous test's layout.
    workspace = Path(name).stem
    page.goto(f"{lab.url}lab/workspaces/{workspace}/tree/{name}?token={lab.token}")
    page.locator(".jp-Notebook").first.wait_for()
    select = page.locator(".jp-Dialog .jp-mod-accept", has_text="Select")
    try:
        select.wait_for(timeout=3000)
        select.click()
    except Exception:
        pass
    # The kernel is ready once the toolbar's status says so.
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(
        state="attached", timeout=60_000
    )


def run_all_cells(page):
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()


def cell_output(page, index):
    return page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-OutputArea")
