"""QmonEstimator against Qiskit Aer's EstimatorV2 on a parameter sweep, in one run.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/qiskit_estimator.py
    python bench/qiskit_estimator.py --qubits 12 --bindings 10      # smoke

A 20-qubit ``efficient_su2`` ansatz (reps 2) swept over 100 random bindings,
with an observable of every single-qubit Z and every neighbouring XX
(39 terms), exact expectation values (precision 0) on both sides, 2 threads
each. The two run interleaved, ``--repeats`` times; the table gives min and
median wall time and their ratio, and the largest difference of the values.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qubits", type=int, default=20)
    parser.add_argument("--bindings", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    os.environ["QMON_ENGINE_THREADS"] = str(args.threads)

    import numpy as np
    from qiskit.circuit.library import efficient_su2
    from qiskit.quantum_info import SparsePauliOp
    from qiskit_aer.primitives import EstimatorV2 as AerEstimator

    from qmon_jupyter.jobs import JobManager
    from qmon_jupyter.qiskit import QmonEstimator

    n = args.qubits
    ansatz = efficient_su2(n, reps=2)
    values = np.random.default_rng(1).uniform(-np.pi, np.pi, (args.bindings, ansatz.num_parameters))
    terms = [("Z", [q], 1.0) for q in range(n)] + [("XX", [q, q + 1], 0.5) for q in range(n - 1)]
    observable = SparsePauliOp.from_sparse_list(terms, num_qubits=n)
    pub = (ansatz, observable, values)

    manager = JobManager()
    ours = QmonEstimator(manager=manager)
    aer = AerEstimator(options={"backend_options": {"max_parallel_threads": args.threads}})
    times: dict[str, list[float]] = {"qmon": [], "aer": []}
    evs: dict[str, np.ndarray] = {}
    for _ in range(args.repeats):
        for name, estimator in (("qmon", ours), ("aer", aer)):
            start = time.perf_counter()
            evs[name] = estimator.run([pub]).result()[0].data.evs
            times[name].append(time.perf_counter() - start)
    manager.shutdown()
    diff = float(np.max(np.abs(evs["qmon"] - evs["aer"])))
    print(
        f"{n} qubits, {args.bindings} bindings, {len(terms)} terms, {args.threads} threads, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    print("| estimator | min s | median s |")
    print("|---|---:|---:|")
    for name in ("qmon", "aer"):
        print(f"| {name} | {min(times[name]):.2f} | {statistics.median(times[name]):.2f} |")
    ratio_min = min(times["qmon"]) / min(times["aer"])
    ratio_med = statistics.median(times["qmon"]) / statistics.median(times["aer"])
    print(f"qmon / Aer: min {ratio_min:.2f}, median {ratio_med:.2f}; max |difference| {diff:.1e}")


if __name__ == "__main__":
    main()
