"""What pip installs: the sdist ships the built frontend (no Node.js needed), the extras."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUNDLES = ("dashboard.js", "job.js", "page.js")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)
    assert proc.returncode == 0, (
        f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    return proc


@pytest.fixture(scope="module")
def sdist(tmp_path_factory) -> Path:
    """The project's sdist, built by hatchling itself (no build frontend needed)."""
    pytest.importorskip("hatchling", reason="the [test] extra installs hatchling")
    pytest.importorskip("hatch_jupyter_builder", reason="the [test] extra installs it")
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "hatchling", "build", "-t", "sdist", "-d", str(out)], cwd=ROOT)
    (archive,) = out.glob("qmon_jupyter-*.tar.gz")
    return archive


def test_the_sdist_ships_the_built_frontend(sdist):
    with tarfile.open(sdist) as tar:
        names = tar.getnames()
    for bundle in BUNDLES:
        assert any(name.endswith(f"/qmon_jupyter/static/{bundle}") for name in names), bundle
    assert not any("/node_modules/" in name for name in names)


def test_the_sdist_installs_without_node(sdist, tmp_path):
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    bin_dir = venv / "bin"
    # only the venv's own scripts: no node, no npm, nothing else from the system
    env = {**os.environ, "PATH": str(bin_dir), "VIRTUAL_ENV": str(venv)}
    env.pop("PYTHONPATH", None)
    assert shutil.which("node", path=env["PATH"]) is None
    assert shutil.which("npm", path=env["PATH"]) is None

    # --no-deps: what is checked is this package's build, not its dependencies'
    _run(
        [
            str(bin_dir / "python"),
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-cache-dir",
            str(sdist),
        ],
        env=env,
        cwd=tmp_path,
    )

    where = _run(
        [
            str(bin_dir / "python"),
            "-c",
            "import importlib.util; print(importlib.util.find_spec('qmon_jupyter').origin)",
        ],
        env=env,
        cwd=tmp_path,
    ).stdout.strip()
    package = Path(where).parent
    assert venv in package.parents, f"qmon_jupyter found outside the venv: {package}"
    for bundle in BUNDLES:
        assert (package / "static" / bundle).is_file(), bundle


def test_the_all_extra_names_every_backend_extra():
    tomllib = pytest.importorskip("tomllib", reason="Python 3.11+ reads TOML")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    (everything,) = extras["all"]
    named = re.fullmatch(r"qmon_jupyter\[(.*)\]", everything)
    assert named, everything
    backends = set(extras) - {"all", "test", "bench"}
    assert set(named.group(1).split(",")) == backends
    assert extras["ibm"] == ["qiskit-ibm-runtime>=0.30"]
