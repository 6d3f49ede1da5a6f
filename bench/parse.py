"""The OpenQASM 2 reader on huge programs, side by side with ``qiskit.qasm2.loads``, in one run.

    python bench/parse.py                      # 10^6 lines each, ~5-10 min on the 2-core VM
    python bench/parse.py --lines 100000       # smoke run
    python bench/against.py HEAD~3 -- bench/parse.py --programs varied   # before / after

Three generated programs (deterministic, seeded), each written to a file:

- **varied**: 10^6 lines of mixed statements on two quantum and two
  classical registers: ``h``/``x``/``y``/``z``/``s``/``t``, ``cx``,
  ``rz(0.123*pi)``, ``u3(a,b,pi/k)``, ``cu1(-pi/k)``, ``measure`` and
  ``barrier`` (~13 MB);
- **repeated**: ``h q[0]; cx q[0],q[1];`` on 5 * 10^5 lines (10 qubits);
- **distinct**: 10^6 lines that are all different (``rz`` with its own angle
  on each line), the worst case for the reader's memos.

Every measurement runs in a fresh process that reads the file and then times
``parse_qasm`` (best of ``--repeat``), and, in another fresh process, its peak
memory: the growth of the peak RSS over the RSS before the call (Linux:
``/proc/self/clear_refs``), and the tracemalloc peak of a second call. The
reference is ``qiskit.qasm2.loads`` of the same text (it builds a
``QuantumCircuit``), measured the same way in the same run. Prints a markdown
table with the ratios qmon / Qiskit.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from engine import _time  # also puts this checkout first on sys.path

_HEADER = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n'


def varied_program(lines: int, seed: int = 16) -> str:
    """Return ``lines`` lines of mixed statements (about 13 bytes a line)."""
    rng = random.Random(seed)
    registers = (("q", 16), ("r", 8))

    def qubit() -> str:
        name, size = rng.choice(registers)
        return f"{name}[{rng.randrange(size)}]"

    def pair() -> str:
        a, b = qubit(), qubit()
        while b == a:
            b = qubit()
        return f"{a},{b}"

    def measure() -> str:
        i = rng.randrange(16)
        return f"measure q[{i}] -> c[{i}];"

    def u3() -> str:
        a, b, k = rng.randrange(100) / 100, rng.randrange(100) / 100, rng.randrange(1, 9)
        return f"u3({a},{b},pi/{k}) {qubit()};"

    makers = [
        lambda: f"{rng.choice('hxtsyz')} {qubit()};",
        lambda: f"cx {pair()};",
        lambda: f"rz({rng.randrange(1000) / 1000}*pi) {qubit()};",
        u3,
        measure,
        lambda: f"barrier {pair()};",
        lambda: f"cu1(-pi/{rng.randrange(1, 17)}) {pair()};",
    ]
    weights = [42, 25, 14, 4, 7, 5, 5]
    body = [rng.choices(makers, weights)[0]() for _ in range(lines)]
    registers_text = "qreg q[16];\nqreg r[8];\ncreg c[16];\ncreg d[8];\n"
    return _HEADER + registers_text + "\n".join(body) + "\n"


def repeated_program(lines: int) -> str:
    """Return ``h q[0]; cx q[0],q[1];`` on ``lines`` lines, on 10 qubits."""
    return _HEADER + "qreg q[10];\ncreg c[10];\n" + "h q[0]; cx q[0],q[1];\n" * lines


def distinct_program(lines: int) -> str:
    """Return ``lines`` different lines: ``rz`` with an angle of its own on each."""
    body = (f"rz({i * 1e-6:.6f}) q[{i % 16}];" for i in range(lines))
    return _HEADER + "qreg q[16];\n" + "\n".join(body) + "\n"


PROGRAMS = {
    "varied": varied_program,
    "repeated": lambda n: repeated_program(n // 2),
    "distinct": distinct_program,
}


def _reader(engine: str):
    if engine == "qiskit":
        import qiskit.qasm2

        return qiskit.qasm2.loads
    from qmon_jupyter import parse_qasm

    return parse_qasm


def _rss_kib(field: str) -> int:
    status = Path("/proc/self/status").read_text()
    return int(re.search(rf"{field}:\s+(\d+)", status).group(1))


def child(engine: str, path: str, mode: str, repeat: int) -> None:
    """In a fresh process: time, or measure the memory of, reading the program at ``path``."""
    text = Path(path).read_text(encoding="utf-8")
    read = _reader(engine)
    if mode == "time":
        seconds, result = _time(lambda: read(text), repeat)
        print(json.dumps({"seconds": seconds, "instructions": len(result)}))
        return
    Path("/proc/self/clear_refs").write_text("5")  # the peak RSS starts again from here
    before = _rss_kib("VmRSS")
    result = read(text)
    rss = (_rss_kib("VmHWM") - before) * 1024
    del result
    tracemalloc.start()
    read(text)
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(json.dumps({"rss": rss, "traced": traced}))


def measure(engine: str, path: Path, mode: str, repeat: int) -> dict:
    """Run :func:`child` in a new interpreter and return what it printed."""
    argv = [sys.executable, __file__, "--child", engine, str(path), mode, str(repeat)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=1800, check=False)
    if done.returncode:
        raise RuntimeError(f"{engine} {mode} failed: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=10**6)
    parser.add_argument("--repeat", type=int, default=2, help="best of N timed reads")
    parser.add_argument("--programs", nargs="*", default=list(PROGRAMS), choices=list(PROGRAMS))
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        engine, path, mode, repeat = args.child
        child(engine, path, mode, int(repeat))
        return

    import qiskit

    load = os.getloadavg()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"python {platform.python_version()}, qiskit {qiskit.__version__}; "
        f"load average at start {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}"
    )
    rows = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="qmon-parse-") as tmp:
        for name in args.programs:
            path = Path(tmp) / f"{name}.qasm"
            path.write_text(PROGRAMS[name](args.lines), encoding="utf-8")
            row = {"program": name, "bytes": path.stat().st_size}
            for engine in ("qmon", "qiskit"):
                timed = measure(engine, path, "time", args.repeat)
                row[engine] = {**timed, **measure(engine, path, "memory", 1)}
            rows.append(row)
            print(f"  {name}: done", file=sys.stderr, flush=True)
    load = os.getloadavg()
    print(f"load average at end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}; ", end="")
    print(f"bench time {time.perf_counter() - started:.0f} s")
    print()
    print(
        "| program | MB | instructions | qmon (s) | Qiskit (s) | qmon/Qiskit time "
        "| qmon peak RSS (MB) | Qiskit peak RSS (MB) | qmon/Qiskit RSS | qmon tracemalloc (MB) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        ours, ref = r["qmon"], r["qiskit"]
        print(
            f"| {r['program']} | {r['bytes'] / 1e6:.1f} | {ours['instructions']:,} "
            f"| {ours['seconds']:.2f} | {ref['seconds']:.2f} "
            f"| {ours['seconds'] / ref['seconds']:.2f} "
            f"| {ours['rss'] / 1e6:.0f} | {ref['rss'] / 1e6:.0f} | {ours['rss'] / ref['rss']:.2f} "
            f"| {ours['traced'] / 1e6:.0f} |"
        )


if __name__ == "__main__":
    main()
