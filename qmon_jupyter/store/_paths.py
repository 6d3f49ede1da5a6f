"""Where the store lives, and whether another process is alive."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["default_path", "pid_alive", "process_start_time"]


def default_path() -> Path:
    """Return the store file: ``QMON_DB`` if set, else ``jupyter_data_dir()/qmon/qmon.sqlite``."""
    env = os.environ.get("QMON_DB")
    if env:
        return Path(env).expanduser()
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "qmon" / "qmon.sqlite"


def process_start_time(pid: int) -> float | None:
    """Return the start time of process ``pid`` (epoch seconds), or None if it is gone."""
    try:
        import psutil

        return float(psutil.Process(pid).create_time())
    except Exception:
        return None


def pid_alive(pid: int | None, started: float | None = None) -> bool:
    """Whether ``pid`` is a live process (and the same one, when ``started`` is known).

    The start time guards against pid reuse: a new process that got the
    dead kernel's pid has a later start time.
    """
    if not pid or pid <= 0:
        return False
    try:
        import psutil

        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return started is None or abs(proc.create_time() - started) < 1.0
    except Exception:
        return False
