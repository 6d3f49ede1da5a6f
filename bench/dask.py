"""Dask executor against the local one, measured in one run on this machine.

1. Throughput: shots per second of many-batch trajectory jobs (a circuit with
   a mid-circuit measurement in every layer), on the local executor and on a
   ``LocalCluster`` of 2 one-thread worker processes, both through a
   ``JobManager``; the engine alone (batches run in a plain loop) is the
   baseline.
2. Overhead per batch: jobs of many one-shot batches of a 2-qubit circuit,
   where the work is nil and the time is the executor's own (Dask: task
   submission, scheduling, the result's round trip).

Usage: ``python bench/dask.py [--batches 40] [--shots-per-batch 200] [--repeat 3]``.
Writes the table to ``bench/dask.md`` beside this file and prints it.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Run as a script, this folder comes first on sys.path and this file's name
# would shadow the dask package that distributed imports.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import distributed  # noqa: E402

import qmon_jupyter  # noqa: E402
from qmon_jupyter.circuits.ir import Circuit, Instruction  # noqa: E402
from qmon_jupyter.engine import prepare  # noqa: E402
from qmon_jupyter.executors.dask import DaskExecutor  # noqa: E402
from qmon_jupyter.jobs import JobManager  # noqa: E402


def layered_circuit(num_qubits: int = 10, layers: int = 8) -> Circuit:
    """H, a CX chain and RZ per layer, then a mid-circuit measurement."""
    ops: list[Instruction] = []
    for layer in range(layers):
        ops += [Instruction("h", (q,)) for q in range(num_qubits)]
        ops += [Instruction("cx", (q, q + 1)) for q in range(num_qubits - 1)]
        ops += [Instruction("rz", (q,), params=(0.3 * layer + 0.1 * q,)) for q in range(num_qubits)]
        ops.append(Instruction("measure", (layer % num_qubits,), clbits=(layer % num_qubits,)))
    ops += [Instruction("measure", (q,), clbits=(q,)) for q in range(num_qubits)]
    return Circuit(num_qubits, num_qubits, tuple(ops), name="layers")


def tiny_circuit() -> Circuit:
    """Two qubits, a mid-circuit measurement: almost no work per shot."""
    ops = (
        Instruction("h", (0,)),
        Instruction("measure", (0,), clbits=(0,)),
        Instruction("cx", (0, 1)),
        Instruction("measure", (1,), clbits=(1,)),
    )
    return Circuit(2, 2, ops, name="tiny")


def engine_alone(circuit: Circuit, shots: int, batch_size: int) -> float:
    plan = prepare(circuit)
    start = time.perf_counter()
    for index, size in enumerate(plan.batch_sizes(shots, batch_size)):
        plan.run_batch(index, size, 1)
    return time.perf_counter() - start


def job_time(manager: JobManager, circuit: Circuit, shots: int, batch_size: int) -> float:
    start = time.perf_counter()
    job = manager.submit(circuit, shots=shots, seed=1, batch_size=batch_size)
    job.result(timeout=600)
    return time.perf_counter() - start


def median_of(repeat: int, fn) -> float:
    return statistics.median(fn() for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=40, help="batches per throughput job")
    parser.add_argument("--shots-per-batch", type=int, default=200, help="trajectory shots/batch")
    parser.add_argument("--tiny-batches", type=int, default=300, help="batches of the overhead job")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--out", type=Path, default=HERE / "dask.md", help="markdown table file")
    args = parser.parse_args()

    heavy, tiny = layered_circuit(), tiny_circuit()
    load_before = os.getloadavg()[0]
    shots = args.batches * args.shots_per_batch
    rows: list[tuple[str, str, float, float]] = []

    t_engine = median_of(args.repeat, lambda: engine_alone(heavy, shots, args.shots_per_batch))
    rows.append(("engine alone (loop of run_batch)", "-", t_engine, shots / t_engine))

    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address="127.0.0.1:0",
        host="127.0.0.1",
    )
    try:
        with JobManager() as local, DaskExecutor(cluster) as executor:
            with JobManager(executor=executor) as remote:
                # warm up: imports on the workers, the engine's caches
                job_time(remote, heavy, 4 * args.shots_per_batch, args.shots_per_batch)
                job_time(local, heavy, 4 * args.shots_per_batch, args.shots_per_batch)
                t_local = median_of(
                    args.repeat, lambda: job_time(local, heavy, shots, args.shots_per_batch)
                )
                t_dask = median_of(
                    args.repeat, lambda: job_time(remote, heavy, shots, args.shots_per_batch)
                )
                n = args.tiny_batches
                o_local = median_of(args.repeat, lambda: job_time(local, tiny, n, 1)) / n
                o_dask = median_of(args.repeat, lambda: job_time(remote, tiny, n, 1)) / n
                remote.shutdown()
            with (
                DaskExecutor(cluster, max_in_flight=8) as wide,
                JobManager(executor=wide) as remote_wide,
            ):
                o_wide = median_of(args.repeat, lambda: job_time(remote_wide, tiny, n, 1)) / n
                remote_wide.shutdown()
            local.shutdown()
    finally:
        cluster.close()

    rows.append(("local executor (JobManager)", "in process", t_local, shots / t_local))
    rows.append(("dask executor (JobManager)", "LocalCluster 2x1", t_dask, shots / t_dask))

    lines = [
        "# Dask executor benchmark",
        "",
        (
            f"`python bench/dask.py`: {os.cpu_count()} cores (shared with other work), "
            f"Python {platform.python_version()}, distributed {distributed.__version__}, "
            f"qmon_jupyter {qmon_jupyter.__version__}; median of {args.repeat} runs each; "
            f"1-minute load average {load_before:.1f} before and {os.getloadavg()[0]:.1f} after."
        ),
        "",
        (
            f"## Throughput: {args.batches} batches x {args.shots_per_batch} trajectory shots "
            f"({heavy.num_qubits} qubits, a mid-circuit measurement in each of its layers)"
        ),
        "",
        "| run | workers | wall time (s) | shots/s | vs local |",
        "|---|---|---:|---:|---:|",
    ]
    lines += [
        f"| {name} | {workers} | {t:.3f} | {rate:,.0f} | {t_local / t:.2f}x |"
        for name, workers, t, rate in rows
    ]
    lines += [
        "",
        f"## Overhead per batch: {args.tiny_batches} one-shot batches of a 2-qubit circuit",
        "",
        "| executor | time per batch (ms) |",
        "|---|---:|",
        f"| local | {o_local * 1e3:.3f} |",
        f"| dask (LocalCluster 2x1), default: 4 in flight | {o_dask * 1e3:.3f} |",
        f"| dask minus local | {(o_dask - o_local) * 1e3:.3f} |",
        f"| dask, max_in_flight=8 | {o_wide * 1e3:.3f} |",
        "",
        "Notes: the Dask executor keeps at most 2x the cluster's threads batches in",
        "flight, so per-batch latency (submit, schedule, run, fetch the counts) is",
        "paid with little overlap when batches are tiny; batches of tens of",
        "milliseconds or more hide it. Sample-mode (terminal measurement) jobs gain",
        "nothing from Dask on one machine: their work is one evolution, done once",
        "per worker. On a machine shared with other work the dask/local ratio moves",
        "with the load (see the load averages above): compare runs of similar load.",
        "",
    ]
    text = "\n".join(lines)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
