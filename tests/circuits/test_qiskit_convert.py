"""from_qiskit and to_circuit: Qiskit circuits in, IR out; anything else refused by type."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from qmon_jupyter.circuits import (
    Circuit,
    Condition,
    Instruction,
    from_qiskit,
    parse_qasm,
    to_circuit,
)
from qmon_jupyter.circuits.ir import GATE_ARITY

qiskit = pytest.importorskip("qiskit")
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister  # noqa: E402
from qiskit.circuit import Parameter  # noqa: E402
from qiskit.circuit import library as lib  # noqa: E402
from qiskit.quantum_info import Statevector  # noqa: E402


def only(qc: QuantumCircuit) -> Instruction:
    (op,) = from_qiskit(qc).instructions
    return op


@pytest.mark.parametrize(
    ("gate", "qubits", "name", "params"),
    [
        (lib.CXGate(), [1, 0], "cx", ()),
        (lib.HGate(), [0], "h", ()),
        (lib.RZGate(0.5), [1], "rz", (0.5,)),
        (lib.UGate(0.1, 0.2, 0.3), [0], "u", (0.1, 0.2, 0.3)),
        (lib.PhaseGate(0.7), [0], "p", (0.7,)),
        (lib.CPhaseGate(0.7), [0, 1], "cp", (0.7,)),
        (lib.SXGate(), [0], "sx", ()),
        (lib.RZZGate(0.2), [1, 2], "rzz", (0.2,)),
        (lib.SwapGate(), [2, 0], "swap", ()),
        (lib.CCXGate(), [2, 1, 0], "ccx", ()),
        (lib.CUGate(0.1, 0.2, 0.3, 0.4), [0, 1], "cu", (0.1, 0.2, 0.3, 0.4)),
        (lib.RC3XGate(), [0, 1, 2, 3], "rc3x", ()),
        (lib.C3SXGate(), [0, 1, 2, 3], "c3sqrtx", ()),
        (lib.C3XGate(), [3, 2, 1, 0], "c3x", ()),
        (lib.C4XGate(), [0, 1, 2, 3, 4], "c4x", ()),
        (lib.IGate(), [0], "id", ()),
    ],
)
def test_qiskit_gate_the_ir_knows_keeps_its_name_params_and_qubits(gate, qubits, name, params):
    qc = QuantumCircuit(5)
    qc.append(gate, qubits)
    assert only(qc) == Instruction(name, tuple(qubits), params)


def test_every_qelib1_gate_read_by_qiskit_converts_to_its_own_name():
    qasm2 = pytest.importorskip("qiskit.qasm2")
    names = sorted(set(GATE_ARITY) - {"U", "CX", "u0"})  # qiskit reads u0 as a delay
    for name in names:
        num_params, num_qubits = GATE_ARITY[name]
        params = f"({','.join(['0.5'] * num_params)})" if num_params else ""
        args = ",".join(f"q[{i}]" for i in range(num_qubits))
        text = f'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[5];\n{name}{params} {args};\n'
        qc = qasm2.loads(text, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
        assert from_qiskit(qc).instructions == parse_qasm(text).instructions, name


@pytest.mark.parametrize(
    "gate",
    [lib.iSwapGate(), lib.ECRGate(), lib.RZXGate(0.4), lib.CCZGate(), lib.RGate(0.3, 0.2)],
    ids=lambda gate: gate.name,
)
def test_gate_the_ir_lacks_is_decomposed_into_known_gates_with_the_same_action(
    gate, to_reference, fidelity
):
    qc = QuantumCircuit(gate.num_qubits)
    qc.h(range(gate.num_qubits))
    qc.t(0)
    qc.append(gate, range(gate.num_qubits))
    circuit = from_qiskit(qc)
    assert all(op.name in GATE_ARITY for op in circuit.instructions)
    state = Statevector(to_reference(circuit)).data
    assert fidelity(state, Statevector(qc).data) >= 1 - 1e-10


def test_unitary_gate_is_decomposed_with_the_same_action(to_reference, fidelity):
    unitary = lib.QFTGate(3).to_matrix()
    qc = QuantumCircuit(3)
    qc.x(1)
    qc.unitary(unitary, [0, 1, 2])
    state = Statevector(to_reference(from_qiskit(qc))).data
    assert fidelity(state, Statevector(qc).data) >= 1 - 1e-10


def test_open_controlled_gate_is_decomposed_not_taken_for_the_closed_one(to_reference, fidelity):
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.append(lib.CXGate(ctrl_state=0), [0, 1])
    circuit = from_qiskit(qc)
    state = Statevector(to_reference(circuit)).data
    assert fidelity(state, Statevector(qc).data) >= 1 - 1e-10


def test_measure_keeps_qubit_and_clbit_indices():
    qc = QuantumCircuit(3, 3)
    qc.measure(2, 0)
    qc.measure(0, 1)
    assert from_qiskit(qc).instructions == (
        Instruction("measure", (2,), (), (0,)),
        Instruction("measure", (0,), (), (1,)),
    )


def test_reset_and_barrier_are_kept_and_delay_is_dropped():
    qc = QuantumCircuit(2)
    qc.reset(1)
    qc.barrier()
    qc.delay(100, 0)
    assert from_qiskit(qc).instructions == (
        Instruction("reset", (1,)),
        Instruction("barrier", (0, 1)),
    )


def test_if_test_on_a_register_becomes_a_condition_on_its_clbits():
    q, flag, c = QuantumRegister(2, "q"), ClassicalRegister(1, "flag"), ClassicalRegister(2, "c")
    qc = QuantumCircuit(q, flag, c)
    with qc.if_test((c, 2)):
        qc.x(1)
        qc.h(0)
    condition = Condition((1, 2), 2, "c")
    assert from_qiskit(qc).instructions == (
        Instruction("x", (1,), (), (), condition),
        Instruction("h", (0,), (), (), condition),
    )


def test_if_test_on_one_clbit_becomes_a_condition_on_that_bit():
    qc = QuantumCircuit(1, 2)
    with qc.if_test((qc.clbits[1], True)):
        qc.x(0)
    assert only(qc).condition == Condition((1,), 1, "")


def test_if_test_with_an_else_branch_is_refused():
    qc = QuantumCircuit(1, 1)
    with qc.if_test((qc.clbits[0], 1)) as else_:
        qc.x(0)
    with else_:
        qc.h(0)
    with pytest.raises(ValueError, match="else branch"):
        from_qiskit(qc)


def test_loop_is_refused_naming_it():
    qc = QuantumCircuit(1, 1)
    with qc.while_loop((qc.clbits[0], 0)):
        qc.x(0)
    with pytest.raises(ValueError, match="while_loop"):
        from_qiskit(qc)


def test_unbound_parameter_is_refused_naming_the_gate():
    qc = QuantumCircuit(1)
    qc.rz(Parameter("theta"), 0)
    with pytest.raises(ValueError, match="'rz' has a parameter with no numeric value: theta"):
        from_qiskit(qc)


def test_bound_parameter_becomes_its_value():
    theta = Parameter("theta")
    qc = QuantumCircuit(1)
    qc.rz(2 * theta, 0)
    assert only(qc.assign_parameters({theta: math.pi})).params == (2 * math.pi,)


def test_registers_are_kept_in_order():
    qc = QuantumCircuit(QuantumRegister(2, "a"), QuantumRegister(1, "b"), ClassicalRegister(3, "m"))
    circuit = from_qiskit(qc)
    assert (circuit.qregs, circuit.cregs) == ((("a", 2), ("b", 1)), (("m", 3),))


def test_bits_outside_registers_get_one_default_register():
    qc = QuantumCircuit(3, 2)
    circuit = from_qiskit(qc)
    assert (circuit.qregs, circuit.cregs) == ((("q", 3),), (("c", 2),))


def test_circuit_keeps_the_qiskit_name():
    assert from_qiskit(QuantumCircuit(1, name="bell")).name == "bell"


def test_from_qiskit_refuses_a_non_circuit_naming_its_type():
    with pytest.raises(TypeError, match="got RZGate"):
        from_qiskit(lib.RZGate(0.1))


def test_to_circuit_returns_a_circuit_unchanged():
    circuit = Circuit(1, 0, (Instruction("h", (0,)),))
    assert to_circuit(circuit) is circuit


def test_to_circuit_parses_qasm_text():
    assert to_circuit("qreg q[1];\nU(0,0,0) q[0];").instructions == (
        Instruction("U", (0,), (0.0, 0.0, 0.0)),
    )


def test_to_circuit_converts_a_qiskit_circuit():
    qc = QuantumCircuit(2)
    qc.cx(0, 1)
    assert to_circuit(qc).instructions == (Instruction("cx", (0, 1)),)


@pytest.mark.parametrize(
    ("obj", "type_name"), [(42, "int"), (b"qreg q[1];", "bytes"), (None, "NoneType")]
)
def test_to_circuit_refuses_anything_else_naming_its_type(obj, type_name):
    with pytest.raises(TypeError, match=type_name):
        to_circuit(obj)


def test_reading_qasm_and_converting_circuits_never_imports_qiskit():
    code = (
        "import sys\n"
        "from qmon_jupyter.circuits import to_circuit, to_qasm\n"
        "c = to_circuit('include \"qelib1.inc\"; qreg q[2]; h q; cx q[0], q[1];')\n"
        "to_circuit(to_qasm(c))\n"
        "print('qiskit' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "False"
