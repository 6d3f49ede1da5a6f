"""Huge programs: 10^6 gate lines through qmon and through Qiskit Aer, in one run.

    python bench/huge.py                 # both programs, 3 interleaved repeats each
    python bench/huge.py --repeat 5 --only repeated
    python bench/huge.py --quick         # 10^5 lines (a smoke run)

Two programs, generated deterministically (no file is read):

- ``repeated``: 10 qubits, ``h q[0]; cx q[0],q[1];`` repeated 5 * 10^5 times
  (10^6 gate lines), then ``measure q -> c``;
- ``varied``: 12 qubits, 10^6 lines of mixed 1-qubit, 2-qubit and
  parameterised gates drawn by a seeded ``random.Random`` (about 13 MB).

Each run is a fresh child process (so that peak RSS belongs to it alone) that
imports its side, makes the text, then times, from the text: qmon's
``qmon_jupyter.run(text, shots=1000, seed=1)`` (parse, plan, fusion,
evolution, sampling), and Aer's ``qiskit.qasm2.loads`` (legacy qelib1 gates)
then ``AerSimulator(method="statevector").run(qc, shots=1000).result()``.
The runs alternate qmon, Aer, qmon, Aer... ; the table gives min and median
of each side and the ratio qmon/Aer of the medians, with peak RSS (the
child's ``ru_maxrss``) and the RSS after imports, before the text exists.
Threads: as ``bench/engine.py`` (``--threads``, default the cores).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # bench/engine.py: _setup_threads
sys.path.insert(0, str(HERE.parent))  # the checkout this script is in

SHOTS = 1000


def _header(num_qubits: int) -> str:
    return f'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[{num_qubits}];\ncreg c[{num_qubits}];\n'


def repeated_program(lines: int = 10**6) -> str:
    """Return the 10-qubit ``h q[0]; cx q[0],q[1];`` program of ``lines`` gate lines."""
    return _header(10) + "h q[0];\ncx q[0],q[1];\n" * (lines // 2) + "measure q -> c;\n"


_FIXED_1Q = ("h", "x", "s", "t", "sdg", "sx", "tdg", "y")
_PARAM_1Q = ("rz", "rx", "ry", "p")
_FIXED_2Q = ("cx", "cz", "swap")
_PARAM_2Q = ("cp", "crz", "rzz")


def varied_program(lines: int = 10**6, num_qubits: int = 12, seed: int = 7) -> str:
    """Return ``lines`` mixed gate lines on ``num_qubits`` qubits (the same text for a seed)."""
    rng = random.Random(seed)
    out = [_header(num_qubits)]
    for _ in range(lines):
        r = rng.random()
        a = rng.randrange(num_qubits)
        theta = f"{rng.uniform(-3.2, 3.2):.3f}"
        if r < 0.4:
            out.append(f"{rng.choice(_FIXED_1Q)} q[{a}];\n")
        elif r < 0.6:
            out.append(f"{rng.choice(_PARAM_1Q)}({theta}) q[{a}];\n")
        else:
            b = (a + 1 + rng.randrange(num_qubits - 1)) % num_qubits
            if r < 0.85:
                out.append(f"{rng.choice(_FIXED_2Q)} q[{a}],q[{b}];\n")
            else:
                out.append(f"{rng.choice(_PARAM_2Q)}({theta}) q[{a}],q[{b}];\n")
    out.append("measure q -> c;\n")
    return "".join(out)


PROGRAMS = {"repeated": repeated_program, "varied": varied_program}


def _rss_mb() -> float:
    """Return the current RSS in MB (Linux /proc), or 0 where it cannot be read."""
    try:
        with Path("/proc/self/statm").open() as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:
        return 0.0


def child(side: str, program: str, lines: int, threads: int) -> None:
    """In a child process: one timed run of ``side`` on ``program``; print seconds and RSS."""
    import resource

    import engine  # bench/engine.py

    engine._setup_threads(threads)
    if side == "qmon":
        import qmon_jupyter

        qmon_jupyter.run(PROGRAMS[program](200), shots=SHOTS, seed=1)  # warm up

        def work(text: str) -> int:
            return sum(qmon_jupyter.run(text, shots=SHOTS, seed=1).values())
    else:
        from qiskit import qasm2
        from qiskit_aer import AerSimulator

        sim = AerSimulator(method="statevector", max_parallel_threads=threads)

        def work(text: str) -> int:
            qc = qasm2.loads(text, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
            return sum(sim.run(qc, shots=SHOTS, seed_simulator=1).result().get_counts().values())

        work(PROGRAMS[program](200))  # warm up
    base = _rss_mb()
    text = PROGRAMS[program](lines)
    t0 = time.perf_counter()
    shots = work(text)
    seconds = time.perf_counter() - t0
    assert shots == SHOTS, shots
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3  # kB -> MB
    print(f"{seconds:.4f} {peak:.1f} {base:.1f} {len(text.encode()) / 1e6:.2f}")


def _run_child(side: str, program: str, lines: int, threads: int, timeout: float) -> tuple:
    code = (
        f"import sys; sys.path.insert(0, {str(HERE)!r}); import huge; "
        f"huge.child({side!r}, {program!r}, {lines}, {threads})"
    )
    try:
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return None, f"no result in {timeout:.0f} s"
    if out.returncode:
        return None, out.stderr.strip()[-300:]
    seconds, peak, base, size = (float(x) for x in out.stdout.split()[-4:])
    return (seconds, peak, base, size), ""


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs per side")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--only", choices=sorted(PROGRAMS), nargs="*", default=None)
    parser.add_argument("--quick", action="store_true", help="10^5 lines instead of 10^6")
    parser.add_argument("--timeout", type=float, default=600.0, help="per run, seconds")
    args = parser.parse_args(argv)
    lines = 10**5 if args.quick else 10**6
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"threads: {args.threads}; load average at start: {_load()}"
    )
    rows = []
    for program in args.only or sorted(PROGRAMS, reverse=True):
        runs: dict[str, list[tuple]] = {"qmon": [], "aer": []}
        errors: dict[str, str] = {}
        for i in range(args.repeat):
            for side in ("qmon", "aer"):
                result, error = _run_child(side, program, lines, args.threads, args.timeout)
                if result is None:
                    errors[side] = error
                else:
                    runs[side].append(result)
                status = f"{result[0]:.2f} s" if result else error
                print(f"  {program} run {i + 1} {side}: {status}", file=sys.stderr, flush=True)
        rows.append((program, runs, errors))
    print()
    print(
        "| program | lines | MB | qmon min / median (s) | Aer min / median (s) "
        "| qmon / Aer (medians) | qmon peak RSS (MB) | Aer peak RSS (MB) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for program, runs, errors in rows:
        cells = []
        for side in ("qmon", "aer"):
            times = [r[0] for r in runs[side]]
            cells.append(
                f"{min(times):.2f} / {statistics.median(times):.2f}"
                if times
                else errors.get(side, "-")
            )
        q, a = runs["qmon"], runs["aer"]
        ratio = (
            f"{statistics.median(r[0] for r in q) / statistics.median(r[0] for r in a):.2f}"
            if q and a
            else "-"
        )
        size = (q or a)[0][3] if q or a else 0.0
        mem = [
            f"{max(r[1] for r in s):.0f} (after imports {min(r[2] for r in s):.0f})" if s else "-"
            for s in (q, a)
        ]
        print(
            f"| {program} | {lines:,} | {size:.1f} | {cells[0]} | {cells[1]} | {ratio} "
            f"| {mem[0]} | {mem[1]} |"
        )
    print()
    print(f"load average at end: {_load()}")


if __name__ == "__main__":
    main()
