"""The ``qmon`` command line: ``python -m qmon_jupyter <command> ...``.

Each command is one ``_add_<name>_parser(subparsers)`` function listed in
:data:`SUBCOMMANDS`; it adds its subparser and sets ``func`` (a function of
the parsed arguments returning the exit code). To add a command, write such a
function and append it to the list.

Exit codes: 0 success, 1 unexpected failure, 2 bad input (usage, unreadable
file, invalid OpenQASM, bad shot count, a circuit that cannot fit in memory),
130 cancelled with Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = ["SUBCOMMANDS", "build_parser", "main"]

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_CANCELLED = 0, 1, 2, 130


# --- run ---------------------------------------------------------------------


def _add_run_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "run",
        help="simulate an OpenQASM 2 file and print its counts",
        description=(
            "Simulate an OpenQASM 2 program with the built-in statevector engine and print "
            "its counts, most frequent first. A progress bar with rate and ETA goes to "
            "stderr for runs longer than a second (by default only when stderr is a "
            "terminal). Ctrl-C cancels between batches (exit code 130)."
        ),
    )
    p.add_argument("file", help="the OpenQASM 2 program (.qasm)")
    p.add_argument("--shots", type=int, default=1024, help="number of shots (default: 1024)")
    p.add_argument("--seed", type=int, default=None, help="seed for reproducible counts")
    p.add_argument(
        "--batch-size", type=int, default=None, help="shots per batch (default: ~10 batches)"
    )
    p.add_argument("--top", type=int, default=None, help="print only the N most frequent outcomes")
    p.add_argument("--json", action="store_true", help="print counts, shots, seed and time as JSON")
    p.add_argument(
        "--progress",
        choices=("auto", "always", "never"),
        default="auto",
        help=(
            "progress bar on stderr: auto = when stderr is a terminal and the run lasts "
            "over a second (default); always = from the start, also into a pipe or file"
        ),
    )
    p.set_defaults(func=_cmd_run)


class _ProgressBar:
    """A one-line progress bar (redrawn with carriage returns), shown after ``delay`` seconds."""

    def __init__(self, stream: TextIO, enabled: bool, delay: float = 1.0, width: int = 28) -> None:
        self.stream = stream
        self.enabled = enabled
        self.delay = delay
        self.width = width
        self.start = time.monotonic()
        self._last = 0.0
        self._shown = False
        self._stage = ""
        self._stage_start = self.start

    def update(self, stage: str, done: int, total: int, unit: str) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if stage != self._stage:  # rate and ETA are per stage
            self._stage, self._stage_start = stage, now
        if now - self.start < self.delay or (now - self._last < 0.1 and done < total):
            return
        self._last = now
        elapsed = now - self._stage_start
        frac = done / total if total else 1.0
        filled = int(frac * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = (total - done) / rate if rate > 0 else float("inf")
        eta_text = f"ETA {eta:5.1f}s" if eta != float("inf") else "ETA   ?"
        line = f"\r{stage:<9} [{bar}] {frac:4.0%} {done}/{total} {unit}"
        line += f" {rate:,.0f} {unit}/s {eta_text}"
        self.stream.write(line + "\x1b[K" if self.stream.isatty() else line)
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
            self._shown = False


def _read_text(path: str) -> str:
    """Return the file's text; raise ``_UsageError`` with a clear message if unreadable."""
    try:
        with open(path, encoding="utf-8") as fh:  # noqa: PTH123 - a user path, as given
            return fh.read()
    except FileNotFoundError:
        raise _UsageError(f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _UsageError(f"cannot read {path}: {exc}") from None


class _UsageError(Exception):
    """Bad input found by the command line itself (exit code 2)."""


def _cmd_run(args: argparse.Namespace) -> int:
    import secrets

    from .circuits import parse_qasm
    from .engine import Interrupted, run
    from .errors import QasmError, QmonError

    err = sys.stderr
    seed = args.seed if args.seed is not None else secrets.randbits(31)
    cancelled = False

    def on_sigint(_signum: int, _frame: object) -> None:
        nonlocal cancelled
        if cancelled:  # a second Ctrl-C stops at once
            raise KeyboardInterrupt
        cancelled = True

    show = args.progress == "always" or (args.progress == "auto" and err.isatty())
    bar = _ProgressBar(err, show, delay=0.0 if args.progress == "always" else 1.0)
    previous = signal.signal(signal.SIGINT, on_sigint)
    started = time.perf_counter()
    try:
        circuit = parse_qasm(_read_text(args.file), filename=args.file)
        counts = run(
            circuit,
            args.shots,
            seed,
            batch_size=args.batch_size,
            should_continue=lambda: not cancelled,
            on_batch=lambda done, total: bar.update("sampling", done, total, "shots"),
            on_block=lambda done, total: bar.update("evolving", done, total, "blocks"),
        )
    except (Interrupted, KeyboardInterrupt):
        message, code = "cancelled", EXIT_CANCELLED
    except QasmError as exc:  # already "file:line:column: message"
        message, code = str(exc), EXIT_BAD_INPUT
    except (QmonError, _UsageError) as exc:
        message, code = f"qmon run: error: {exc}", EXIT_BAD_INPUT
    else:
        message, code = "", EXIT_OK
    finally:
        signal.signal(signal.SIGINT, previous)
        bar.close()
    if code != EXIT_OK:
        err.write(message + "\n")
        return code
    _print_counts(args, counts, seed, time.perf_counter() - started)
    return EXIT_OK


def _print_counts(
    args: argparse.Namespace, counts: dict[str, int], seed: int, elapsed: float
) -> None:
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if args.top is not None:
        ordered = ordered[: max(0, args.top)]
    if args.json:
        doc = {
            "shots": args.shots,
            "seed": seed,
            "elapsed_s": round(elapsed, 6),
            "counts": dict(ordered),
        }
        sys.stdout.write(json.dumps(doc) + "\n")
    else:
        sys.stdout.writelines(f"{key or '(no clbits)'}  {count}\n" for key, count in ordered)
        sys.stderr.write(f"{args.shots} shots, seed {seed}, {elapsed:.3f} s\n")


# --- serve -------------------------------------------------------------------


def _add_serve_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "serve",
        help="serve the qmon REST API and dashboard page without Jupyter",
        description=(
            "Serve the qmon REST API, event stream and full-page dashboard on 127.0.0.1, "
            "reading the qmon store that kernels write. A token is required; one is "
            "generated and printed when none is given."
        ),
    )
    p.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0: any free port)")
    p.add_argument("--token", default=None, help="the token clients must send (default: generated)")
    p.add_argument("--db", default=None, help="the store file (default: QMON_DB or the data dir)")
    p.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    # imported here: tornado and jupyter_server are not needed by the other commands
    from .server.app import serve_main

    return serve_main(args)


# --- emulator ----------------------------------------------------------------


def _add_emulator_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "emulator",
        help="run the emulated QPU service (HTTP on 127.0.0.1)",
        description=(
            "Run the emulated QPU alone: named devices, each serving its queue at a fixed "
            "rate, results from the built-in engine. Point "
            "qmon_jupyter.providers.EmulatorProvider(url) at the printed URL. "
            "Ctrl-C stops it."
        ),
    )
    p.add_argument(
        "--port", type=int, default=0, help="port on 127.0.0.1 (default 0: any free port)"
    )
    p.add_argument(
        "--rate", type=float, default=60.0, help="jobs per minute each device serves (default: 60)"
    )
    p.add_argument(
        "--devices",
        default=None,
        help="devices as NAME:QUBITS[,NAME:QUBITS...] (default: emu-8q:8,emu-16q:16)",
    )
    p.add_argument("--token", default=None, help="API token clients must send (default: none)")
    p.set_defaults(func=_emulator)


def _emulator(args: argparse.Namespace) -> int:
    # imported here: the service is not needed by the other commands
    from .providers._cli import emulator_main

    return emulator_main(args)


# --- the parser ----------------------------------------------------------------

#: One function per command; each adds its subparser (see the module docstring).
SUBCOMMANDS: list[Callable[[Any], None]] = [
    _add_run_parser,
    _add_serve_parser,
    _add_emulator_parser,
]


def build_parser() -> argparse.ArgumentParser:
    """Build the ``qmon`` argument parser with every command of :data:`SUBCOMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="qmon",
        description="qmon_jupyter: run and monitor quantum circuits from the command line.",
    )
    subparsers = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    return int(func(args))


if __name__ == "__main__":
    sys.exit(main())
