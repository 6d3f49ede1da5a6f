"""to_qasm: the OpenQASM 2 text of a circuit, and what it refuses to write."""

from __future__ import annotations

import pytest

from qmon_jupyter.circuits import Circuit, Condition, Instruction, parse_qasm, to_qasm


def test_to_qasm_writes_header_registers_and_statements():
    circuit = Circuit(
        2,
        1,
        (
            Instruction("h", (0,)),
            Instruction("cx", (0, 1)),
            Instruction("measure", (1,), (), (0,)),
        ),
        (("q", 2),),
        (("m", 1),),
    )
    assert to_qasm(circuit) == (
        'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg m[1];\n'
        "h q[0];\ncx q[0],q[1];\nmeasure q[1] -> m[0];\n"
    )


def test_to_qasm_names_wires_by_their_registers():
    circuit = Circuit(3, 0, (Instruction("swap", (0, 2)),), (("a", 2), ("b", 1)))
    assert "swap a[0],b[0];" in to_qasm(circuit)


def test_to_qasm_gives_a_circuit_without_registers_q_and_c():
    text = to_qasm(Circuit(2, 1, (Instruction("x", (1,)),)))
    assert "qreg q[2];\ncreg c[1];\nx q[1];" in text


def test_to_qasm_writes_a_condition_on_its_register():
    condition = Condition((1, 2), 3, "c")
    circuit = Circuit(
        1, 3, (Instruction("x", (0,), (), (), condition),), (("q", 1),), (("a", 1), ("c", 2))
    )
    assert "if(c==3) x q[0];" in to_qasm(circuit)


def test_to_qasm_writes_parameters_that_read_back_bit_for_bit():
    values = (0.1, -1e-300, 5e-324, 1.7976931348623157e308, 1 / 3, -0.0)
    ops = tuple(Instruction("rz", (0,), (v,)) for v in values)
    circuit = Circuit(1, 0, ops, (("q", 1),))
    assert parse_qasm(to_qasm(circuit)) == circuit


def test_to_qasm_refuses_an_unknown_instruction():
    with pytest.raises(ValueError, match="'frobnicate' has no OpenQASM 2 form"):
        to_qasm(Circuit(1, 0, (Instruction("frobnicate", (0,)),)))


def test_to_qasm_refuses_a_gate_with_the_wrong_number_of_parameters():
    with pytest.raises(ValueError, match="'rz' has 0 parameters and 1 qubits; it takes 1 and 1"):
        to_qasm(Circuit(1, 0, (Instruction("rz", (0,)),)))


def test_to_qasm_refuses_a_non_finite_parameter():
    with pytest.raises(ValueError, match="nan"):
        to_qasm(Circuit(1, 0, (Instruction("rz", (0,), (float("nan"),)),)))


def test_to_qasm_refuses_a_condition_on_part_of_a_register():
    op = Instruction("x", (0,), (), (), Condition((0,), 1, "c"))
    with pytest.raises(ValueError, match="not on one whole classical register"):
        to_qasm(Circuit(1, 2, (op,), (("q", 1),), (("c", 2),)))


def test_to_qasm_refuses_registers_that_do_not_cover_the_wires():
    with pytest.raises(ValueError, match="do not cover its 3 qubits"):
        to_qasm(Circuit(3, 0, (), (("q", 2),)))


def test_to_qasm_refuses_a_register_name_openqasm_cannot_spell():
    with pytest.raises(ValueError, match="'my reg' is not an OpenQASM 2 identifier"):
        to_qasm(Circuit(1, 0, (), (("my reg", 1),)))
