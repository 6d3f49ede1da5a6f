"""A reset-heavy dynamic circuit: the qmon engine against Qiskit Aer, in one run.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/engine_dynamic.py
    python bench/engine_dynamic.py --quick                                       # smoke

The program (``reset_program``): ``n`` qubits, the last two ancillas. Each
round applies a random ``u3`` and a ``cx`` between data qubits, computes the
parity of two data qubits into an ancilla and uncomputes it (the ancilla is
back to exactly |0>), measures it into a clbit and resets it; every
``rounds // splits`` rounds a data qubit is measured mid-circuit instead
(a random outcome: the shots split), and a ``z`` conditioned on that clbit
follows. All data qubits are measured at the end. Wall time of 1,000 shots
(fusion and evolution included) for the engine and for Aer
(``AerSimulator(method="statevector", max_parallel_threads=T)``, seeded; with
its default settings on a few shots, scaled to 1,000 as its shots are
independent; and with ``shot_branching_enable=True``, Aer's own branching of
shots at measurements, on fewer shots, not scaled: its time for 1,000 shots
is at least that). Counts are compared by a chi-square test on the final
measurements (qmon's 1,000 shots against Aer's branching run). Peak memory
of the engine: tracemalloc over the statevector's bytes in a separate untimed
run.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
import tracemalloc
from pathlib import Path

# Bench the checkout this script is in, not whatever qmon_jupyter is installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def reset_program(n: int, rounds: int, splits: int, seed: int = 7):
    """(qmon Circuit, OpenQASM 2 text) of the reset-heavy program."""
    import numpy as np

    from qmon_jupyter.circuits.ir import Circuit, Condition, Instruction

    rng = np.random.default_rng(seed)
    i = Instruction
    data = n - 2
    ops = [i("h", (q,)) for q in range(data)]
    every = max(1, rounds // max(1, splits)) if splits else rounds + 1
    for r in range(rounds):
        anc = data + r % 2
        a, b = (int(x) for x in rng.choice(data, size=2, replace=False))
        ops.append(i("u3", (a,), tuple(float(x) for x in rng.uniform(-3, 3, 3))))
        ops.append(i("cx", (a, b)))
        if r % every == every - 1:  # a random outcome: the shots split here
            ops.append(i("measure", (a,), clbits=(1,)))
            ops.append(i("z", (b,), condition=Condition((1,), 1)))
            ops.append(i("h", (a,)))
            continue
        ops += [i("cx", (a, anc)), i("cx", (b, anc)), i("cx", (b, anc)), i("cx", (a, anc))]
        ops.append(i("measure", (anc,), clbits=(0,)))
        ops.append(i("reset", (anc,)))
    ops.extend(i("measure", (q,), clbits=(2 + q,)) for q in range(data))
    cregs = (("anc", 1), ("mid", 1), ("m", data))
    circuit = Circuit(n, 2 + data, tuple(ops), qregs=(("q", n),), cregs=cregs)
    from qmon_jupyter.circuits import to_qasm

    return circuit, to_qasm(circuit)


def _aer_counts(sim, qc, shots):
    counts = sim.run(qc, shots=shots, seed_simulator=11).result().get_counts()
    return {k.replace(" ", ""): v for k, v in counts.items()}


def _final(counts, data):
    out: dict[str, int] = {}
    for key, v in counts.items():
        out[key[:data]] = out.get(key[:data], 0) + v
    return out


def _chi2(a, b):
    import numpy as np
    from scipy.stats import chi2_contingency

    keys = sorted(set(a) | set(b))
    table = np.array([[a.get(k, 0) for k in keys], [b.get(k, 0) for k in keys]], dtype=float)
    big = table.sum(axis=0) >= 10
    pooled = table[:, ~big].sum(axis=1, keepdims=True)
    table = np.hstack([table[:, big], pooled]) if pooled.sum() >= 10 else table[:, big]
    return float(chi2_contingency(table)[1]) if table.shape[1] >= 2 else 1.0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small program (a smoke run)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--qubits", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5200)
    parser.add_argument("--splits", type=int, default=2, help="mid-circuit random measurements")
    parser.add_argument("--shots", type=int, default=1000)
    parser.add_argument(
        "--aer-branching-shots",
        type=int,
        default=20,
        help="shots of the Aer run with shot branching (not scaled: a lower bound for --shots)",
    )
    parser.add_argument(
        "--aer-default-shots",
        type=int,
        default=4,
        help="shots of the Aer run without shot branching (its time is scaled to --shots)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.qubits, args.rounds, args.shots, args.aer_default_shots = 10, 300, 200, 20
        args.aer_branching_shots = 200
    os.environ["QMON_ENGINE_THREADS"] = str(args.threads)
    from qiskit import qasm2, transpile
    from qiskit_aer import AerSimulator

    from qmon_jupyter.engine import prepare, run
    from qmon_jupyter.engine.statevector import release_buffers

    circuit, text = reset_program(args.qubits, args.rounds, args.splits)
    resets = sum(op.name == "reset" for op in circuit.instructions)
    gates = sum(op.name not in ("measure", "reset") for op in circuit.instructions)
    print(
        f"program: {args.qubits} qubits, {resets} resets, {gates} gates, "
        f"{len(circuit.instructions) - gates - resets} measurements; {args.shots} shots; "
        f"threads {args.threads}",
        flush=True,
    )
    qc = qasm2.loads(text, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
    rows = []
    t0 = time.perf_counter()
    ours = run(circuit, args.shots, seed=5, batch_size=args.shots)
    rows.append(("qmon engine, 1 batch", args.shots, time.perf_counter() - t0, 1.0))
    print(f"  {rows[-1]}", file=sys.stderr, flush=True)
    branching = AerSimulator(
        method="statevector", max_parallel_threads=args.threads, shot_branching_enable=True
    )
    tq = transpile(qc, branching, optimization_level=0)
    t0 = time.perf_counter()
    theirs = _aer_counts(branching, tq, args.aer_branching_shots)
    rows.append(
        ("Aer, shot_branching_enable=True", args.aer_branching_shots, time.perf_counter() - t0, 0)
    )
    print(f"  {rows[-1]}", file=sys.stderr, flush=True)
    plain = AerSimulator(method="statevector", max_parallel_threads=args.threads)
    t0 = time.perf_counter()
    _aer_counts(plain, tq, args.aer_default_shots)
    scale = args.shots / args.aer_default_shots
    rows.append(("Aer, default settings", args.aer_default_shots, time.perf_counter() - t0, scale))
    print(f"  {rows[-1]}", file=sys.stderr, flush=True)
    data = args.qubits - 2
    p_value = _chi2(_final(ours, data), _final(theirs, data))
    gc.collect()
    release_buffers()
    plan = prepare(circuit)
    tracemalloc.start()
    plan.run_batch(0, args.shots, seed=5)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    base = rows[0][2]
    print()
    print(f"| run | shots run | time (s) | time for {args.shots} shots (s) | / qmon |")
    print("|---|---:|---:|---:|---:|")
    for name, shots, seconds, factor in rows:
        if factor == 0:  # fewer shots, not scaled: a lower bound
            print(
                f"| {name} | {shots} | {seconds:.1f} | > {seconds:.1f} | > {seconds / base:.2f} |"
            )
            continue
        est = seconds * factor
        mark = "" if factor == 1.0 else " (scaled)"
        print(f"| {name} | {shots} | {seconds:.1f} | {est:.1f}{mark} | {est / base:.2f} |")
    print()
    print(
        f"peak memory of the engine (prefix state + run): {peak / (16 * 2**args.qubits):.2f} "
        f"states; chi-square p-value qmon vs Aer (final measurements): {p_value:.3g}"
    )


if __name__ == "__main__":
    main()
