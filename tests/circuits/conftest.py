"""Fixtures for the circuit tests: the corpus layout and an independent reference.

The reference turns an IR circuit into a Qiskit ``QuantumCircuit`` gate by
gate (Qiskit's own gate classes, picked by qiskit.qasm2's table of qelib1
names), so a statevector from Qiskit checks our gate names, parameter order
and qubit order without going through any code under test.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest

if TYPE_CHECKING:
    from collections.abc import Callable

#: The programs DESIGN.md says must parse.
PARSING = [
    "adder_n10",
    "adder_n4",
    "basis_change_n3",
    "basis_test_n4",
    "basis_trotter_n4",
    "bb84_n8",
    "bell_n4",
    "cat_state_n4",
    "deutsch_n2",
    "dnn_n2",
    "dnn_n8",
    "error_correctiond3_n5",
    "fredkin_n3",
    "grover_n2",
    "hhl_n7",
    "hs4_n4",
    "inverseqft_n4",
    "ipea_n2",
    "ising_n10",
    "iswap_n2",
    "linearsolver_n3",
    "lpn_n5",
    "pea_n5",
    "qaoa_n3",
    "qaoa_n6",
    "qec_en_n5",
    "qec_sm_n5",
    "qft_n4",
    "qpe_n9",
    "qrng_n4",
    "quantumwalks_n2",
    "sat_n7",
    "shor_n5",
    "simon_n6",
    "teleportation_n3",
    "toffoli_n3",
    "variational_n4",
    "vqe_n4",
    "wstate_n3",
]

#: Parsing programs that measure or reset mid-circuit or condition gates: no
#: statevector, so they are compared with Qiskit instruction by instruction only.
MID_CIRCUIT = ("bb84_n8", "inverseqft_n4", "ipea_n2", "qec_sm_n5", "shor_n5")

#: The programs that use an undeclared register ``q``: (name, line, column) of
#: its first use, read from the files (every one is `measure q[0] -> c[0];`).
UNDECLARED_Q = (
    ("hhl_n10", 186801, 9),
    ("vqe_uccsd_n4", 225, 9),
    ("vqe_uccsd_n6", 2286, 9),
    ("vqe_uccsd_n8", 10813, 9),
)


@pytest.fixture(scope="session")
def to_reference() -> Callable:
    """Return ``f(circuit) -> qiskit.QuantumCircuit`` of its unitary part (None if it has none)."""
    import qiskit.qasm2
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import CXGate, UGate

    gates = {c.name: c.constructor for c in qiskit.qasm2.LEGACY_CUSTOM_INSTRUCTIONS}
    gates.update(U=UGate, CX=CXGate)

    def build(circuit):
        qc = QuantumCircuit(circuit.num_qubits)
        for op in circuit.instructions:
            if op.name in ("measure", "barrier"):
                continue
            if op.name == "reset" or op.condition is not None:
                return None
            qc.append(gates[op.name](*op.params), list(op.qubits))
        return qc

    return build


@pytest.fixture(scope="session")
def fidelity() -> Callable:
    """Return ``f(a, b) -> |<a|b>|^2`` of two statevectors (global phase does not count)."""

    def overlap(a, b) -> float:
        return float(abs(np.vdot(np.asarray(a), np.asarray(b))) ** 2)

    return overlap
