"""The qmon engine side by side with Qiskit Aer, in one run on one machine.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/engine.py           # full
    python bench/engine.py --quick                                                # smoke

Quantum volume (seeded, decomposed to u/cx) and QFT (h/cp/swap) at 16, 20,
22 and 24 qubits: wall time of the final statevector for Aer (method
statevector, ``max_parallel_threads`` = ``--threads``) and for
``qmon_jupyter.engine.simulate_statevector`` (its block threads and the BLAS
threads set to the same number), with the fidelity between the two states;
peak memory of the engine (tracemalloc, in a separate untimed run) over the
statevector's bytes; and 10^6 shots sampled from a 20-qubit state. Each
statevector row is also timed with ``precision="single"``, with its fidelity
to Aer's state. ``--large qft:28:double qv:30:single ...`` instead runs each
given circuit in its own process (engine only) and reports its time and peak
RSS over the state's bytes. Prints markdown tables.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import time
import tracemalloc
from pathlib import Path

# Bench the checkout this script is in, not whatever qmon_jupyter is installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _setup_threads(threads: int) -> str:
    os.environ["QMON_ENGINE_THREADS"] = str(threads)
    import numpy as np  # load numpy's BLAS so that threadpoolctl sees it

    np.ones((2, 2)) @ np.ones((2, 2))
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:
        return "threadpoolctl not installed: BLAS threads left at their default"
    threadpool_limits(threads)
    parts = [
        f"{info.get('internal_api')} {info.get('version')} "
        f"kernel={info.get('architecture')} threads={info.get('num_threads')}"
        for info in threadpool_info()
    ]
    return "; ".join(parts)


def _circuits(family: str, n: int):
    from qiskit import transpile

    if family == "qv":
        from qiskit.circuit.library import quantum_volume

        qc = quantum_volume(n, seed=1234)
        return transpile(qc, basis_gates=["u", "cx"], optimization_level=0)
    from qiskit.circuit import QuantumCircuit
    from qiskit.circuit.library import QFTGate

    qc = QuantumCircuit(n)
    qc.append(QFTGate(n), range(n))
    return transpile(qc, basis_gates=["h", "cp", "swap"], optimization_level=0)


def _time(fn, repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def bench_statevector(families, sizes, threads, repeat):
    import numpy as np
    from qiskit_aer import AerSimulator

    from qmon_jupyter.circuits import from_qiskit
    from qmon_jupyter.engine import simulate_statevector
    from qmon_jupyter.engine.statevector import release_buffers

    sim = AerSimulator(method="statevector", max_parallel_threads=threads)
    rows = []
    for family in families:
        for n in sizes:
            qc = _circuits(family, n)
            circuit = from_qiskit(qc)
            aer_qc = qc.copy()
            aer_qc.save_statevector()
            # warm up both (imports, first-touch of the pool) on a small copy
            if not rows:
                small = _circuits(family, 8)
                sim.run(small.copy()).result()
                simulate_statevector(from_qiskit(small))
            t_aer, res = _time(lambda qc=aer_qc: sim.run(qc).result(), repeat)
            aer_state = np.asarray(res.get_statevector())
            del res
            t_ours, ours = _time(lambda c=circuit: simulate_statevector(c), repeat)
            fid = abs(np.vdot(aer_state, ours)) ** 2
            del ours
            t_single, single = _time(
                lambda c=circuit: simulate_statevector(c, precision="single"), repeat
            )
            wide = single.astype(np.complex128)
            fid_single = abs(np.vdot(aer_state, wide)) ** 2 / np.vdot(wide, wide).real
            del wide
            del single, aer_state
            gc.collect()
            release_buffers()  # count the per-thread block buffers too
            tracemalloc.start()
            simulate_statevector(circuit)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            gc.collect()
            state_bytes = 16 * 2**n
            rows.append(
                {
                    "circuit": family,
                    "n": n,
                    "gates": sum(qc.count_ops().values()),
                    "aer": t_aer,
                    "ours": t_ours,
                    "ratio": t_ours / t_aer,
                    "mem": peak / state_bytes,
                    "fid": fid,
                    "single": t_single,
                    "fid_single": fid_single,
                }
            )
            r = rows[-1]
            print(
                f"  {family} {n}: aer {t_aer:.3f}s qmon {t_ours:.3f}s ratio {r['ratio']:.2f} "
                f"mem {r['mem']:.2f}x fidelity {fid:.12f} single {t_single:.3f}s "
                f"fidelity {fid_single:.9f}",
                file=sys.stderr,
                flush=True,
            )
    return rows


def bench_sampling(n, shots, threads):
    from qiskit_aer import AerSimulator

    from qmon_jupyter.circuits import from_qiskit
    from qmon_jupyter.engine import prepare
    from qmon_jupyter.engine.statevector import release_buffers

    qc = _circuits("qv", n)
    qc.measure_all()
    circuit = from_qiskit(qc)
    gc.collect()
    release_buffers()
    tracemalloc.start()
    prepare(circuit).evolve()  # sample mode: state, then outcome probabilities
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    plan = prepare(circuit)
    plan.evolve()
    t_sample, counts = _time(lambda: plan.run_batch(0, shots, seed=1), 3)
    assert sum(counts.values()) == shots
    t_raw, _ = _time(lambda: plan.run_batch_raw(0, shots, seed=1), 3)
    sim = AerSimulator(method="statevector", max_parallel_threads=threads)
    t_aer_total, _ = _time(lambda: sim.run(qc, shots=shots, seed_simulator=1).result(), 1)
    sv = qc.remove_final_measurements(inplace=False)
    sv.save_statevector()
    t_aer_sv, _ = _time(lambda: sim.run(sv).result(), 1)
    return {
        "n": n,
        "shots": shots,
        "ours": t_sample,
        "raw": t_raw,
        "distinct": len(counts),
        "mem": peak / (16 * 2**n),
        "aer_sampling": max(0.0, t_aer_total - t_aer_sv),
    }


_SAMPLERS = ("qmon raw", "qmon dict", "qulacs", "aer")


def _sampling_child(peer: str, path: str, shots: int, threads: int) -> None:
    """In a child process: time ``shots`` shots of one peer from the state in ``path``."""
    import numpy as np

    state = np.load(path)
    n = state.size.bit_length() - 1
    if peer.startswith("qmon"):
        from qmon_jupyter.circuits import from_qiskit
        from qmon_jupyter.engine import prepare

        qc = _circuits("qv", n)
        qc.measure_all()
        plan = prepare(from_qiskit(qc))
        plan.evolve()  # the same state (the parent saved this engine's); not timed
        fn = plan.run_batch_raw if peer == "qmon raw" else plan.run_batch
        t0 = time.perf_counter()
        fn(0, shots, seed=1)
    elif peer == "qulacs":
        from qulacs import QuantumState

        qs = QuantumState(n)
        qs.load(state)
        t0 = time.perf_counter()
        qs.sampling(shots, 1)  # a list of one outcome per shot (qulacs makes no counts)
    else:
        from qiskit import QuantumCircuit
        from qiskit_aer import AerSimulator

        sim = AerSimulator(method="statevector", max_parallel_threads=threads)
        qc = QuantumCircuit(n)
        qc.set_statevector(state)
        qc.measure_all()
        sim.run(qc, shots=1, seed_simulator=1).result()  # setup, loading the state: subtracted
        t1 = time.perf_counter()
        sim.run(qc, shots=1, seed_simulator=1).result()
        setup = time.perf_counter() - t1
        t0 = time.perf_counter() + setup
        sim.run(qc, shots=shots, seed_simulator=1).result().get_counts()
    print(f"{time.perf_counter() - t0:.6f}")


def bench_sampling_peers(n: int, shots: int, threads: int, repeat: int) -> None:
    """Each peer samples the same state in its own process, the peers interleaved."""
    import statistics
    import subprocess
    import tempfile

    import numpy as np

    from qmon_jupyter.circuits import from_qiskit
    from qmon_jupyter.engine import simulate_statevector

    times: dict[str, list[float]] = {p: [] for p in _SAMPLERS}
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "state.npy")
        np.save(path, simulate_statevector(from_qiskit(_circuits("qv", n))))
        for _ in range(repeat):
            for peer in _SAMPLERS:
                code = (
                    f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r}); "
                    f"import engine; engine._setup_threads({threads}); "
                    f"engine._sampling_child({peer!r}, {path!r}, {shots}, {threads})"
                )
                out = subprocess.run(
                    [sys.executable, "-c", code], capture_output=True, text=True, check=True
                )
                times[peer].append(float(out.stdout.split()[-1]))
                print(f"  {peer}: {times[peer][-1]:.3f}s", file=sys.stderr, flush=True)
    base = min(times["qmon dict"])
    print(f"| sampler ({shots:,} shots, QV {n}) | min (s) | median (s) | min / qmon dict |")
    print("|---|---:|---:|---:|")
    for peer in _SAMPLERS:
        t = times[peer]
        print(f"| {peer} | {min(t):.3f} | {statistics.median(t):.3f} | {min(t) / base:.2f} |")


_LARGE = [
    "qft:28:double",
    "qft:28:single",
    "qft:29:double",
    "qft:30:single",
    "qv:28:double",
    "qv:28:single",
    "qv:29:double",
    "qv:30:single",
]


def _large_child(family: str, n: int, precision: str) -> None:
    """In a child process: time one large statevector, print time and peak RSS / state."""
    import resource

    from qmon_jupyter.circuits import from_qiskit
    from qmon_jupyter.engine import simulate_statevector

    circuit = from_qiskit(_circuits(family, n))
    t0 = time.perf_counter()
    state = simulate_statevector(circuit, precision=precision)
    seconds = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"{seconds:.3f} {rss / state.nbytes:.4f}")


def bench_large(specs, threads):
    """Each FAMILY:QUBITS:PRECISION in its own process, one after the other."""
    import subprocess

    print("| circuit | qubits | precision | qmon (s) | peak RSS / state bytes |")
    print("|---|---:|---|---:|---:|")
    for spec in specs:
        family, n, precision = spec.split(":")
        code = (
            f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r}); "
            f"import engine; engine._setup_threads({threads}); "
            f"engine._large_child({family!r}, {int(n)}, {precision!r})"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=False
        )
        if out.returncode:
            print(f"| {family} | {n} | {precision} | failed: {out.stderr.strip()[-200:]} | |")
            continue
        seconds, ratio = out.stdout.split()[-2:]
        name = "quantum volume" if family == "qv" else "QFT"
        print(f"| {name} | {n} | {precision} | {float(seconds):.1f} | {float(ratio):.3f} |")
        sys.stdout.flush()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=1, help="best of N timed runs")
    parser.add_argument("--sizes", type=int, nargs="*", default=None)
    parser.add_argument(
        "--large",
        nargs="*",
        metavar="FAMILY:QUBITS:PRECISION",
        help="only large runs, each in its own process, e.g. qft:28:double qv:30:single "
        "(time and peak RSS / state bytes of the engine; no Aer)",
    )
    parser.add_argument(
        "--sampling",
        action="store_true",
        help="only sampling: qmon, qulacs and Aer sample the same QV 20 state, each in its "
        "own process, interleaved --repeat times (default 3)",
    )
    args = parser.parse_args(argv)
    if args.sampling:
        n, shots = (14, 10**5) if args.quick else (20, 10**6)
        bench_sampling_peers(n, shots, args.threads, max(3, args.repeat))
        return
    if args.large is not None:
        bench_large(args.large or _LARGE, args.threads)
        return
    sizes = args.sizes or ([10, 12, 14] if args.quick else [16, 20, 22, 24])
    sample_n, shots = (14, 10**5) if args.quick else (20, 10**6)
    blas = _setup_threads(args.threads)

    import numpy as np
    import qiskit
    import qiskit_aer

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"threads: {args.threads} (Aer max_parallel_threads, qmon blocks, BLAS)"
    )
    print(f"numpy {np.__version__}, BLAS: {blas}")
    print(
        f"qiskit {qiskit.__version__}, qiskit-aer {qiskit_aer.__version__}; "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, "
        f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE', '(unset)')}"
    )
    started = time.perf_counter()
    rows = bench_statevector(["qv", "qft"], sizes, args.threads, args.repeat)
    sampling = bench_sampling(sample_n, shots, args.threads)
    print()
    print(
        "| circuit | qubits | gates | Aer (s) | qmon (s) | qmon/Aer | peak mem / state | fidelity "
        "| qmon single (s) | single/Aer | fidelity single |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        name = "quantum volume" if r["circuit"] == "qv" else "QFT"
        print(
            f"| {name} | {r['n']} | {r['gates']} | {r['aer']:.3f} | {r['ours']:.3f} | "
            f"{r['ratio']:.2f} | {r['mem']:.2f} | {r['fid']:.12f} | {r['single']:.3f} | "
            f"{r['single'] / r['aer']:.2f} | {r['fid_single']:.9f} |"
        )
    print()
    print(
        "| sampling | qubits | shots | distinct outcomes | qmon raw (s) | qmon dict (s) "
        "| Aer (s, est.) | peak mem / state (evolve + probabilities) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    s = sampling
    print(
        f"| QV + measure all | {s['n']} | {s['shots']:,} | {s['distinct']:,} | {s['raw']:.3f} | "
        f"{s['ours']:.3f} | {s['aer_sampling']:.3f} | {s['mem']:.2f} |"
    )
    print()
    print(f"total bench time: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
