"""IPython magics: ``%%qmon`` runs the OpenQASM 2 program of a cell as a monitored job.

``%load_ext qmon_jupyter`` registers them::

    %%qmon --shots 2048 --name bell --seed 7
    OPENQASM 2.0;
    include "qelib1.inc";
    qreg q[2]; creg c[2];
    h q[0]; cx q[0], q[1];
    measure q -> c;

The cell returns at once with a live job widget; the kernel stays free.
``%qmon run VAR``, ``%qmon dashboard``, ``%qmon jobs`` and ``%qmon cancel ID``
cover circuits already in the namespace and the jobs of the kernel. A usage
error prints what is wrong and the help, and starts nothing.

Loading the extension also turns on autotrack: every Qiskit job and Braket
task made in the kernel goes on the dashboard by itself;
``%qmon autotrack on|off`` switches it.
"""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from qmon_jupyter.core.states import JobType
from qmon_jupyter.core.text import short_name
from qmon_jupyter.errors import QasmError, QmonError

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["QmonMagics", "load_ipython_extension", "unload_ipython_extension"]

_COMMANDS = ("run", "dashboard", "jobs", "cancel", "autotrack", "help")
_SWITCH = {"on": True, "off": False}


def _job_options(func: Callable) -> Callable:
    """Add the options shared by ``%%qmon`` and ``%qmon run``."""
    for decorator in reversed(
        [
            argument("--shots", type=int, default=1024, help="Number of shots (default 1024)."),
            argument("--name", type=str, default=None, help="Job name shown on the dashboard."),
            argument("--seed", type=int, default=None, help="Seed, for reproducible counts."),
            argument(
                "--backend",
                type=str,
                default=None,
                help="Where to run: local (threads) or dask (default: the manager's default).",
            ),
            argument(
                "--batch-size",
                type=int,
                default=None,
                help="Shots per batch (progress, cancel and pause act between batches).",
            ),
            argument(
                "--precision",
                choices=("double", "single"),
                default="double",
                help="Amplitudes in complex128 (double) or complex64 (single: half the memory).",
            ),
            argument(
                "--out",
                type=str,
                default=None,
                help="Store the job (an ExecutionJob) in this variable.",
            ),
            argument(
                "--wait",
                action="store_true",
                default=False,
                help="Block until the job ends (the default returns at once).",
            ),
        ]
    ):
        func = decorator(func)
    return func


class _UsageProblem(Exception):  # noqa: N818 - internal signal, never escapes
    """A usage error to print (with the magic's usage line) instead of raising."""


@magics_class
class QmonMagics(Magics):
    """``%%qmon`` and ``%qmon``: monitored quantum jobs from a notebook."""

    @magic_arguments()
    @_job_options
    @cell_magic
    def qmon(self, line: str, cell: str) -> Any:
        """Run the cell's OpenQASM 2 program as a monitored job; show its live widget.

        The cell body is an OpenQASM 2.0 program (``include "qelib1.inc"``
        works without the file). The cell returns at once unless ``--wait``.
        """
        try:
            args = _parse(self.qmon, line)
            _check_options(args)
            circuit = _parse_cell(cell)
            return self._submit(circuit, args)
        except _UsageProblem as problem:
            _report(problem, self.qmon)
        return None

    @magic_arguments()
    @argument(
        "command",
        nargs="?",
        default="help",
        help="run VAR | dashboard | jobs | cancel ID | autotrack on|off | help",
    )
    @argument(
        "target",
        nargs="?",
        default=None,
        help="The variable (run), job id (cancel) or on/off (autotrack).",
    )
    @_job_options
    @line_magic("qmon")
    def qmon_line(self, line: str) -> Any:
        """Work with the kernel's jobs.

        ``%qmon run VAR`` submits the circuit in variable VAR (a Qiskit
        QuantumCircuit, a qmon Circuit or OpenQASM 2 text), with the same
        options as ``%%qmon``. ``%qmon dashboard`` shows every job of the
        kernel. ``%qmon jobs`` lists them. ``%qmon cancel ID`` cancels one.
        ``%qmon autotrack on`` puts every Qiskit job and Braket task made from
        then on on the dashboard by itself (``off`` stops; alone, it says which).
        """
        try:
            args = _parse(self.qmon_line, line)
            command = _command(args.command)
            if command in {"help", "jobs", "autotrack"}:
                print(_text(self.qmon_line, command, args.target))  # noqa: T201 - the magic's output
                return None
            if command == "dashboard":
                from qmon_jupyter.widget import get_dashboard

                return get_dashboard()
            if command == "cancel":
                return _cancel(args.target)
            return self._run_variable(args)
        except _UsageProblem as problem:
            _report(problem, self.qmon_line)
        return None

    # -- helpers ------------------------------------------------------------------------
    def _run_variable(self, args: Any) -> Any:
        name = args.target
        if not name:
            raise _UsageProblem("%qmon run needs a variable name: %qmon run VAR [--shots N ...]")
        namespace = self.shell.user_ns if self.shell is not None else {}
        if name not in namespace:
            raise _UsageProblem(f"There is no variable named {name!r} in the notebook.")
        from qmon_jupyter.circuits import to_circuit

        value = namespace[name]
        try:
            circuit = to_circuit(value)
        except QasmError as exc:
            raise _UsageProblem(
                f"{name!r} holds text that is not OpenQASM 2: {_where(exc)}"
            ) from exc
        except (TypeError, ValueError, QmonError) as exc:
            raise _UsageProblem(
                f"{name!r} is a {type(value).__name__}, not a circuit: %qmon run takes a Qiskit "
                "QuantumCircuit, a qmon Circuit or OpenQASM 2 text."
            ) from exc
        return self._submit(circuit, args)

    def _submit(self, circuit: Any, args: Any) -> Any:
        shots = _check_options(args)
        from qmon_jupyter.kernel import get_manager
        from qmon_jupyter.widget import JobWidget

        manager = get_manager()
        try:
            job = manager.submit(
                circuit,
                shots=shots,
                name=args.name,
                seed=args.seed,
                batch_size=args.batch_size,
                backend=args.backend,
                precision=args.precision,
            )
        except (ValueError, TypeError, QmonError) as exc:
            # Refused before it started (memory, backend, shots): say why.
            raise _UsageProblem(f"The job was not started: {exc}") from exc
        if args.out:
            self.shell.user_ns[args.out] = job
        widget = JobWidget(job, manager=manager)
        if args.wait:
            job.wait()
        return widget


def _parse(func: Callable, line: str) -> Any:
    try:
        args = parse_argstring(func, line)
    except UsageError as exc:
        raise _UsageProblem(str(exc)) from exc
    except SystemExit as exc:  # argparse's own exits (e.g. -h)
        raise _UsageProblem("") from exc
    # IPython splits the line non-POSIX style and keeps the quotes of
    # --name "my job": take them off, as a shell would.
    for key, value in vars(args).items():
        if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] in "\"'":
            setattr(args, key, value[1:-1])
    return args


def _command(command: str) -> str:
    if command not in _COMMANDS:
        raise _UsageProblem(f"Unknown command {command!r}: use one of {', '.join(_COMMANDS)}.")
    return command


def _check_options(args: Any) -> int:
    if args.shots is None or args.shots < 1:
        raise _UsageProblem(f"--shots must be a positive whole number, got {args.shots}.")
    if args.batch_size is not None and args.batch_size < 1:
        raise _UsageProblem(f"--batch-size must be a positive whole number, got {args.batch_size}.")
    if args.out is not None and not args.out.isidentifier():
        raise _UsageProblem(f"--out needs a Python variable name, got {args.out!r}.")
    from qmon_jupyter.engine import validate_shots

    try:
        return validate_shots(args.shots)
    except (ValueError, QmonError) as exc:
        raise _UsageProblem(str(exc)) from exc


def _where(exc: QasmError) -> str:
    """Where the error is, counted as the editor does: the ``%%qmon`` line is line 1."""
    if exc.line is None:
        return exc.message
    return f"line {exc.line + 1} of the cell, column {exc.column}: {exc.message}"


def _parse_cell(cell: str) -> Any:
    from qmon_jupyter.circuits import parse_qasm

    if not cell.strip():
        raise _UsageProblem("The cell is empty: put an OpenQASM 2 program below the %%qmon line.")
    try:
        return parse_qasm(cell)
    except QasmError as exc:
        lines = cell.splitlines()
        text = f"This cell is not a valid OpenQASM 2 program: {_where(exc)}"
        if exc.line is not None and 1 <= exc.line <= len(lines):
            source = lines[exc.line - 1]
            caret = " " * (max(1, exc.column or 1) - 1) + "^"
            text += f"\n    {source}\n    {caret}"
        raise _UsageProblem(text) from exc


def _plain(text: str) -> str:
    """Strip reStructuredText markup from the magic's text; name it as the user types it."""
    return text.replace("%qmon_line", "%qmon").replace("::\n", ":\n").replace("``", "")


def _help(func: Callable) -> str:
    return _plain(getattr(func, "__doc__", "") or "")


def _usage(func: Callable) -> str:
    usage = _plain(func.parser.format_usage()).strip()  # type: ignore[attr-defined]
    return f"{usage}\n(%%qmon? or %qmon help shows every option.)"


def _report(problem: _UsageProblem, func: Callable) -> None:
    out = sys.stderr
    if str(problem):
        print(f"qmon: {problem}\n", file=out)
    print(_usage(func), file=out)  # a few lines, not the whole help
    print("Nothing was started.", file=out)


def _cancel(job_id: str | None) -> None:
    if not job_id:
        raise _UsageProblem("%qmon cancel needs a job id: %qmon cancel ID (see %qmon jobs).")
    from qmon_jupyter.kernel import get_manager

    manager = get_manager()
    try:
        job = manager.get(job_id)
    except KeyError as exc:
        raise _UsageProblem(f"No job with id {job_id!r} in this kernel (see %qmon jobs).") from exc
    if job.status.is_terminal:
        print(f"Job {job_id} ({short_name(job.name)}) already ended: {job.status}.")  # noqa: T201
        return
    try:
        manager.cancel(job_id)
    except QmonError as exc:
        raise _UsageProblem(f"Job {job_id} cannot be cancelled: {exc}") from exc
    job.wait(timeout=2.0)
    print(f"Cancel requested for job {job_id} ({short_name(job.name)}): now {job.status}.")  # noqa: T201


def _text(func: Callable, command: str, target: str | None) -> str:
    if command == "help":
        return _help(func)
    if command == "jobs":
        return _jobs_table()
    return _autotrack(target)


def _autotrack(switch: str | None) -> str:
    from qmon_jupyter.providers.autotrack import autotrack, autotracking

    if switch is None:
        state = "on" if autotracking() else "off"
        return f"Autotrack is {state} (%qmon autotrack on|off switches it)."
    if switch.lower() not in _SWITCH:
        raise _UsageProblem(f"%qmon autotrack takes on or off, got {switch!r}.")
    enabled = _SWITCH[switch.lower()]
    autotrack(enabled=enabled)
    if enabled:
        return "Autotrack is on: Qiskit jobs and Braket tasks go on the dashboard by themselves."
    return "Autotrack is off: only jobs given to qmon.track(job) are followed."


#: ``%qmon jobs`` lists at most this many active jobs and this many finished ones.
_TABLE_ACTIVE = 20
_TABLE_NAME = 40  # the NAME column's width in `%qmon jobs`
_TABLE_RECENT = 10


def _jobs_table() -> str:
    from qmon_jupyter.kernel import get_manager

    # top-level jobs: a session's row stands for its jobs (done of started)
    jobs = [job for job in get_manager().jobs() if job.parent_id is None]
    if not jobs:
        return "No jobs yet: run a %%qmon cell or qmon.submit(circuit)."
    active = [job for job in jobs if not job.status.is_terminal]
    finished = [job for job in jobs if job.status.is_terminal]
    shown = active[:_TABLE_ACTIVE] + finished[::-1][:_TABLE_RECENT]
    rows = [("ID", "NAME", "TYPE", "STATUS", "PROGRESS", "QUEUE")]
    for job in shown:
        snap = job.snapshot()
        queue = snap.get("queue_position")
        done = f"{100 * float(snap.get('progress') or 0):.0f}%"
        if snap["type"] == JobType.SESSION:
            done = f"{snap['done']:g} / {snap['total'] or 0:g} done"
        rows.append(
            (
                snap["id"],
                short_name(snap.get("name") or "", _TABLE_NAME),
                str(snap.get("type")),
                str(snap.get("status")),
                done,
                "" if queue is None else str(queue),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)
    table = "\n".join(line.rstrip() for line in lines)
    if len(shown) == len(jobs):
        return table
    return (
        f"{table}\nShowing {len(shown)} of {len(jobs)} jobs ({len(active)} active, then the "
        "newest finished); qmon.get_manager().jobs() has them all, %qmon dashboard shows them."
    )


# magic_arguments names the usage line after the method; the cell magic is %%qmon.
QmonMagics.qmon.parser.prog = "%qmon"  # shown with one more "%"
QmonMagics.qmon.__doc__ = (QmonMagics.qmon.__doc__ or "").replace("%qmon [", "%%qmon [", 1)


_CELL_MAGIC_RE = re.compile(r"\s*%%qmon(?:\s|$)")


def _keep_empty_body(lines: list[str]) -> list[str]:
    """Give an empty ``%%qmon`` cell a blank body, so qmon (not IPython) says what to do.

    IPython refuses a cell magic with an empty body before calling it, with
    a message about line magics; a blank line reaches ``%%qmon``, which
    explains that the program goes below the ``%%qmon`` line.
    """
    if lines and _CELL_MAGIC_RE.match(lines[0]) and not any(line.strip() for line in lines[1:]):
        return [lines[0].rstrip("\n") + "\n", " \n"]
    return lines


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext qmon_jupyter``: register ``%%qmon`` and ``%qmon``; turn autotrack on."""
    from qmon_jupyter.providers.autotrack import autotrack

    ipython.register_magics(QmonMagics)
    if _keep_empty_body not in ipython.input_transformers_cleanup:
        ipython.input_transformers_cleanup.append(_keep_empty_body)
    autotrack(enabled=True)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext qmon_jupyter``: remove the magics again; turn autotrack off."""
    from qmon_jupyter.providers.autotrack import autotrack

    autotrack(enabled=False)
    if _keep_empty_body in ipython.input_transformers_cleanup:
        ipython.input_transformers_cleanup.remove(_keep_empty_body)
    manager = ipython.magics_manager
    for kind in ("line", "cell"):
        manager.magics[kind].pop("qmon", None)
    manager.registry.pop("QmonMagics", None)
