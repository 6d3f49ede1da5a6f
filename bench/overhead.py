"""Monitoring overhead of the job layer, as ratios taken in one run.

1. A 20-qubit simulation of many batches: monitored job (manager, progress,
   events to a subscriber, checkpoints) vs the engine alone (``engine.run``).
   Target: ratio <= 1.01.
2. Bookkeeping per batch: the job layer's own work around each batch
   (pause/cancel check, progress, throttled events, checkpoint logic), measured
   with batches that return no counts. Target: <= 100 us.
3. 10,000 finished jobs in a manager: memory of the monitoring structures
   (tracemalloc). Target: <= 50 MB.

Run: ``python bench/overhead.py [--qubits 20] [--shots 400000] [--batches 200] [--repeats 5]``
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
import tracemalloc

import qmon_jupyter.engine as engine
from qmon_jupyter.circuits.ir import Circuit, Instruction
from qmon_jupyter.jobs import JobManager


def layered_circuit(n: int, depth: int, spread: float = 1.0) -> Circuit:
    """Layers of ry and cx; ``spread`` ~1 gives a broad outcome distribution, ~0.1 a peaked one."""
    ops = []
    for layer in range(depth):
        ops += [
            Instruction("ry", (q,), (spread * (0.9 + 0.37 * q + 0.53 * layer),)) for q in range(n)
        ]
        ops += [Instruction("rz", (q,), (0.7 + 0.29 * q,)) for q in range(n)]
        ops += [Instruction("cx", (q, q + 1)) for q in range(layer % 2, n - 1, 2)]
    ops += [Instruction("measure", (q,), clbits=(q,)) for q in range(n)]
    return Circuit(n, n, tuple(ops), name=f"layers-{n}")


def bench_ratio(args, spread: float) -> dict:
    circuit = layered_circuit(args.qubits, args.depth, spread)
    batch = args.shots // args.batches
    manager = JobManager(max_concurrent_jobs=1)
    seen = {"events": 0}

    def subscriber(_event):  # stands in for the store writer and the widget
        seen["events"] += 1

    manager.events.subscribe(subscriber)
    reference = engine.run(circuit, args.shots, seed=5, batch_size=batch)

    def engine_alone():
        return engine.run(circuit, args.shots, seed=5, batch_size=batch)

    def monitored():
        job = manager.submit(circuit, shots=args.shots, seed=5, batch_size=batch)
        counts = job.result(timeout=600).counts
        manager.events.flush(10)  # delivering the events is part of monitoring
        return counts

    runs = {"engine": engine_alone, "monitored": monitored}
    wall = {name: [] for name in runs}
    cpu = {name: [] for name in runs}
    for repeat in range(args.repeats):
        # Alternate the order, so drifts in machine load and allocator state hit both.
        for name in runs if repeat % 2 == 0 else list(runs)[::-1]:
            gc.collect()
            c0, t0 = time.process_time(), time.perf_counter()
            counts = runs[name]()
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
            assert counts == reference, f"{name} counts differ"
    manager.shutdown()
    paired = [m / e for m, e in zip(cpu["monitored"], cpu["engine"], strict=True)]
    return {
        "cpu_ratio": statistics.median(paired),
        "cpu_ratio_min": min(cpu["monitored"]) / min(cpu["engine"]),
        "wall_ratio": min(wall["monitored"]) / min(wall["engine"]),
        "engine_s": min(wall["engine"]),
        "monitored_s": min(wall["monitored"]),
        "batches": args.batches,
        "outcomes": len(reference),
        "events": seen["events"] // args.repeats,
    }


class NullPlan:
    """A plan whose batches do nothing: what remains is the job layer's bookkeeping."""

    mode = "sample"
    num_qubits = 1
    num_clbits = 1
    memory_bytes = 0

    def __init__(self, batches: int) -> None:
        self.batches = batches

    def batch_sizes(self, *_args, **_kw):
        return [1] * self.batches

    def evolve(self, *_args, **_kw):
        return None

    def run_batch(self, *_args, **_kw):
        return {}


def bench_per_batch(batches: int) -> dict:
    real_prepare = engine.prepare
    engine.prepare = lambda *_a, **_k: NullPlan(batches)
    try:
        manager = JobManager(max_concurrent_jobs=1)
        manager.events.subscribe(lambda _e: None)
        circuit = layered_circuit(1, 1)
        # Baseline: the same loop without a job (executor-level work only).
        plan = NullPlan(batches)
        t0 = time.perf_counter()
        for i in range(batches):
            plan.run_batch(i, 1, 0, None)
        bare = time.perf_counter() - t0
        t0 = time.perf_counter()
        job = manager.submit(circuit, shots=batches, seed=1)
        job.result(timeout=600)
        monitored = time.perf_counter() - t0
        manager.shutdown()
    finally:
        engine.prepare = real_prepare
    return {"batches": batches, "per_batch_us": (monitored - bare) / batches * 1e6}


def bench_memory(jobs: int) -> dict:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    manager = JobManager(max_concurrent_jobs=10, max_finished_jobs=jobs * 2)
    manager.events.subscribe(lambda _e: None)
    handles = [manager.submit_function(lambda _r, _t: None, name=f"job {i}") for i in range(jobs)]
    for job in handles:
        job.wait(60)
    del handles
    manager.events.flush(30)
    gc.collect()
    after = tracemalloc.take_snapshot()
    used = sum(s.size_diff for s in after.compare_to(before, "filename"))
    tracemalloc.stop()
    t0 = time.perf_counter()
    snaps = [j.snapshot() for j in manager.jobs()]
    snapshot_all = time.perf_counter() - t0
    t0 = time.perf_counter()
    manager.stats()
    stats_s = time.perf_counter() - t0
    total = len(snaps)
    manager.shutdown()
    return {
        "jobs": total,
        "mb": used / 2**20,
        "bytes_per_job": used / total,
        "snapshot_all_ms": snapshot_all * 1e3,
        "stats_ms": stats_s * 1e3,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--qubits", type=int, default=20)
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument("--shots", type=int, default=2_000_000)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--bookkeeping-batches", type=int, default=50_000)
    parser.add_argument("--jobs", type=int, default=10_000)
    args = parser.parse_args()

    ratios = [
        (label, bench_ratio(args, spread)) for label, spread in (("broad", 1.0), ("peaked", 0.15))
    ]
    per_batch = bench_per_batch(args.bookkeeping_batches)
    memory = bench_memory(args.jobs)

    rows = [
        (
            (
                f"{args.qubits}-qubit job, {r['batches']} batches, {label} "
                f"({r['outcomes']} outcomes): monitored / engine"
            ),
            (
                f"CPU {r['cpu_ratio']:.4f} (paired median; ratio of minima "
                f"{r['cpu_ratio_min']:.4f}), wall {r['wall_ratio']:.4f} "
                f"({r['monitored_s']:.3f} s vs {r['engine_s']:.3f} s; {r['events']} events)"
            ),
            "<= 1.01",
            r["cpu_ratio"] <= 1.01,
        )
        for label, r in ratios
    ]
    rows += [
        (
            f"bookkeeping per batch ({per_batch['batches']} empty batches)",
            f"{per_batch['per_batch_us']:.1f} us",
            "<= 100 us",
            per_batch["per_batch_us"] <= 100,
        ),
        (
            f"{memory['jobs']} finished jobs in the manager (tracemalloc)",
            (
                f"{memory['mb']:.1f} MB ({memory['bytes_per_job']:.0f} B/job; snapshot all "
                f"{memory['snapshot_all_ms']:.0f} ms, stats {memory['stats_ms']:.0f} ms)"
            ),
            "<= 50 MB",
            memory["mb"] <= 50,
        ),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure'.ljust(width)} | result | target | ok")
    for name, value, target, ok in rows:
        print(f"{name.ljust(width)} | {value} | {target} | {'yes' if ok else 'NO'}")


if __name__ == "__main__":
    main()
