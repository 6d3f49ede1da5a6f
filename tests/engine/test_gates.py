"""Every gate of the IR has the matrix Qiskit gives it (up to a global phase)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qmon_jupyter.circuits.ir import GATE_ARITY
from qmon_jupyter.engine.gates import gate_matrix
from qmon_jupyter.errors import QmonError

from .conftest import qiskit_circuit

PARAMS = (0.37, -1.21, 2.45, 0.83)


@pytest.mark.parametrize("name", sorted(GATE_ARITY))
def test_gate_matrix_matches_qiskit_up_to_global_phase(name):
    from qiskit.quantum_info import Operator

    n_params, k = GATE_ARITY[name]
    params = (2,) if name == "u0" else PARAMS[:n_params]  # Qiskit's u0 wants an integer
    p = "(" + ",".join(map(repr, params)) + ")" if params else ""
    qasm = (
        f'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[{k}];\n{name}{p} '
        + ",".join(f"q[{i}]" for i in range(k))
        + ";\n"
    )
    expected = Operator(qiskit_circuit(qasm)).data
    ours = gate_matrix(name, params)
    overlap = abs(np.vdot(expected.ravel(), ours.ravel())) / expected.shape[0]
    assert overlap == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("name", sorted(GATE_ARITY))
def test_gate_matrix_is_unitary(name):
    n_params, k = GATE_ARITY[name]
    m = gate_matrix(name, PARAMS[:n_params])
    assert m.dtype == np.complex128
    assert np.allclose(m.conj().T @ m, np.eye(1 << k), atol=1e-13)


def test_rz_is_u1_as_in_qelib1():
    assert np.allclose(gate_matrix("rz", (math.pi / 3,)), gate_matrix("u1", (math.pi / 3,)))


def test_unknown_gate_and_wrong_parameter_count_are_named():
    with pytest.raises(QmonError, match="unknown gate 'foo'"):
        gate_matrix("foo")
    with pytest.raises(QmonError, match="'rx' takes 1 parameter"):
        gate_matrix("rx", ())
