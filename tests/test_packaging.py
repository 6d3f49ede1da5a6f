"""The project as an installed package: lint, the server extension, the JS tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*cmd: str, cwd=ROOT, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_ruff_check_is_clean() -> None:
    proc = _run(sys.executable, "-m", "ruff", "check", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_format_is_clean() -> None:
    proc = _run(sys.executable, "-m", "ruff", "format", "--check", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_pip_install_alone_enables_the_server_extension() -> None:
    proc = _run(sys.executable, "-m", "jupyter", "server", "extension", "list")
    output = proc.stdout + proc.stderr
    assert any("qmon_jupyter" in line and "OK" in line for line in output.splitlines()), output


def test_built_frontend_is_installed_with_the_package() -> None:
    static = ROOT / "qmon_jupyter" / "static"
    assert (static / "dashboard.js").is_file()
    assert (static / "job.js").is_file()


def test_js_unit_tests_pass() -> None:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: the JS unit tests need Node.js")
    proc = _run("npm", "test", "--silent", cwd=ROOT / "js")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
