"""Helpers for the engine tests: random circuits and Qiskit references."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qmon_jupyter.circuits.ir import GATE_ARITY, Circuit, Instruction

qiskit = pytest.importorskip("qiskit")
qasm2 = pytest.importorskip("qiskit.qasm2")


def qiskit_circuit(qasm: str):
    """Qiskit's reading of an OpenQASM 2 program, with the legacy qelib1 gates it lacks."""
    return qasm2.loads(qasm, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)


def qiskit_statevector(qasm: str) -> np.ndarray:
    """Qiskit's final state of ``qasm`` (terminal measurements removed)."""
    from qiskit.quantum_info import Statevector

    qc = qiskit_circuit(qasm)
    qc.remove_final_measurements()
    return np.asarray(Statevector(qc).data)


def fidelity(a: np.ndarray, b: np.ndarray) -> float:
    return abs(np.vdot(a, b)) ** 2 / (np.vdot(a, a).real * np.vdot(b, b).real)


def random_circuit(
    rng: np.random.Generator, num_qubits: int, num_gates: int
) -> tuple[Circuit, str]:
    """A random circuit over every gate that fits, as (IR built by hand, equivalent QASM)."""
    names = [n for n, (_, k) in GATE_ARITY.items() if k <= num_qubits]
    ops = []
    lines = ["OPENQASM 2.0;", 'include "qelib1.inc";', f"qreg q[{num_qubits}];"]
    # every gate at least once (when it fits), then random ones
    sequence = list(names) + [names[i] for i in rng.integers(0, len(names), num_gates)]
    rng.shuffle(sequence)
    for name in sequence:
        n_params, k = GATE_ARITY[name]
        qubits = tuple(int(q) for q in rng.choice(num_qubits, size=k, replace=False))
        params = tuple(float(x) for x in rng.uniform(-2 * math.pi, 2 * math.pi, n_params))
        if name == "u0":  # Qiskit reads u0's parameter as an integer count of delays
            params = (float(rng.integers(0, 5)),)
        ops.append(Instruction(name, qubits, params))
        p = "(" + ",".join(repr(x) for x in params) + ")" if params else ""
        lines.append(f"{name}{p} " + ",".join(f"q[{q}]" for q in qubits) + ";")
    circuit = Circuit(num_qubits, 0, tuple(ops), qregs=(("q", num_qubits),))
    return circuit, "\n".join(lines) + "\n"


def corpus_programs(qasmbench_dir):
    """(name, text) of every corpus program our parser reads."""
    from qmon_jupyter.circuits import parse_qasm
    from qmon_jupyter.errors import QasmError

    out = []
    for path in sorted(qasmbench_dir.glob("*.qasm")):
        text = path.read_text()
        try:
            circuit = parse_qasm(text, filename=str(path))
        except QasmError:
            continue  # the four known-bad programs (tested by the circuits tests)
        out.append((path.stem, text, circuit))
    return out
