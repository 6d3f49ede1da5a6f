"""``python -m qmon_jupyter emulator``: run the emulated QPU alone."""

from __future__ import annotations

import signal
import sys
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

__all__ = ["emulator_main", "parse_devices"]


def parse_devices(text: str) -> dict[str, int]:
    """``"emu-8q:8,big:16"`` -> ``{"emu-8q": 8, "big": 16}`` (ValueError naming a bad entry)."""
    devices: dict[str, int] = {}
    for entry in filter(None, (part.strip() for part in text.split(","))):
        name, sep, qubits = entry.partition(":")
        if not sep or not name or not qubits.strip().isdigit() or int(qubits) < 1:
            raise ValueError(f"bad device {entry!r}: write NAME:QUBITS, e.g. emu-8q:8")
        devices[name.strip()] = int(qubits)
    if not devices:
        raise ValueError("no devices given: write NAME:QUBITS[,NAME:QUBITS...]")
    return devices


def emulator_main(args: argparse.Namespace) -> int:
    """Serve an :class:`~qmon_jupyter.providers.EmulatedQPU` until Ctrl-C or SIGTERM."""
    from .emulator import DEFAULT_DEVICES, EmulatedQPU

    err = sys.stderr
    try:
        devices = parse_devices(args.devices) if args.devices else dict(DEFAULT_DEVICES)
    except ValueError as exc:
        err.write(f"qmon emulator: error: {exc}\n")
        return 2
    if args.rate < 0:
        err.write(f"qmon emulator: error: --rate must be >= 0 jobs per minute, got {args.rate}\n")
        return 2
    qpu = EmulatedQPU(rate_per_minute=args.rate, port=args.port, devices=devices, token=args.token)
    try:
        url = qpu.start()
    except RuntimeError as exc:
        err.write(f"qmon emulator: error: {exc}\n")
        return 2
    stop = threading.Event()

    def on_signal(_signum: int, _frame: object) -> None:
        stop.set()

    # Handlers first: whoever reads the URL may signal at once.
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    names = ", ".join(f"{name} ({n} qubits)" for name, n in devices.items())
    sys.stdout.write(f"emulated QPU at {url}\ndevices: {names}; {args.rate:g} jobs/minute each\n")
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        qpu.stop()
    return 0
