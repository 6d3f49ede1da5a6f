"""Helpers every test folder shares (``from .._support import BELL, wait_until``)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

T = TypeVar("T")

#: A Bell pair in OpenQASM 2, both qubits measured: counts are "00" and "11".
BELL = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
creg c[2];
h q[0];
cx q[0], q[1];
measure q -> c;
"""


def wait_until(predicate: Callable[[], T], timeout: float = 20.0, interval: float = 0.01) -> T:
    """Poll ``predicate`` until it returns something true; its last value (false on timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)
