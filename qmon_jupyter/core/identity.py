"""Who runs the jobs: the kernel's id and the user's name."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

__all__ = ["detect_kernel_id", "detect_owner"]


def detect_kernel_id() -> str:
    """Return the Jupyter kernel's id, from its connection file; ``"pid-<pid>"`` elsewhere.

    Inside a kernel the connection file is named ``kernel-<id>.json``.
    ipykernel is only consulted when it is already imported (we never import
    it just to find out we are not in a kernel).
    """
    if "ipykernel" in sys.modules:
        try:
            from ipykernel.connect import get_connection_file
            from ipykernel.kernelapp import IPKernelApp

            if IPKernelApp.initialized():
                stem = Path(get_connection_file()).stem
                if stem.startswith("kernel-") and len(stem) > len("kernel-"):
                    return stem[len("kernel-") :]
        except Exception:  # noqa: S110 - any failure means "not in a usable kernel"
            pass
    return f"pid-{os.getpid()}"


def detect_owner() -> str:
    """Return the user running this process (``getpass.getuser()``), or ``"unknown"``."""
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"
