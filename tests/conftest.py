"""Fixtures shared by every test folder."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QASMBENCH = ROOT.parent / "shared" / "corpus" / "qasmbench"


@pytest.fixture(scope="session")
def qasmbench_dir() -> Path:
    """The QASMBench corpus beside the project (``../shared/corpus/qasmbench``)."""
    if not QASMBENCH.is_dir():
        pytest.skip(
            f"QASMBench corpus not found at {QASMBENCH} (it lives in the team's shared/ folder)"
        )
    return QASMBENCH


@pytest.fixture(autouse=True)
def _isolated_store(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each test writes its store under a temporary folder, never the user's data dir."""
    monkeypatch.setenv("QMON_DB", str(tmp_path_factory.mktemp("store") / "qmon.sqlite"))
