"""The OpenQASM 2.0 reader on the language's features, one behaviour per test."""

from __future__ import annotations

import math

import pytest

from qmon_jupyter.circuits import Circuit, Condition, Instruction, QasmError, parse_qasm
from qmon_jupyter.circuits.ir import GATE_ARITY
from qmon_jupyter.circuits.qelib1 import QELIB1_GATES

HEAD = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n'


def ops(body: str, head: str = HEAD) -> tuple[Instruction, ...]:
    return parse_qasm(head + body).instructions


def test_header_and_qelib1_give_registers_and_wires_in_declaration_order():
    circuit = parse_qasm(HEAD + "qreg a[2];\ncreg c[3];\nqreg b[1];\nx b[0];\n")
    assert circuit.qregs == (("a", 2), ("b", 1))
    assert circuit.cregs == (("c", 3),)
    assert (circuit.num_qubits, circuit.num_clbits) == (3, 3)
    assert circuit.instructions == (Instruction("x", (2,)),)


def test_header_is_optional():
    assert parse_qasm("qreg q[1];\nU(0,0,0) q[0];\n").num_qubits == 1


def test_header_version_2_without_minor_is_accepted():
    assert parse_qasm("OPENQASM 2;\nqreg q[1];\n").num_qubits == 1


@pytest.mark.parametrize(("name", "arity"), sorted(QELIB1_GATES.items()))
def test_every_qelib1_gate_stays_one_instruction_of_its_own_name(name, arity):
    num_params, num_qubits = arity
    params = ",".join(str(0.25 * (i + 1)) for i in range(num_params))
    call = f"{name}({params})" if num_params else name
    args = ",".join(f"q[{i}]" for i in range(num_qubits))
    result = ops(f"qreg q[5];\n{call} {args};\n")
    expected_params = tuple(0.25 * (i + 1) for i in range(num_params))
    assert result == (Instruction(name, tuple(range(num_qubits)), expected_params),)


def test_qelib1_is_built_in_and_never_read_from_disk(tmp_path):
    (tmp_path / "qelib1.inc").write_text("this is not OpenQASM\n")
    circuit = parse_qasm(HEAD + "qreg q[1];\nh q[0];\n", filename=str(tmp_path / "p.qasm"))
    assert circuit.instructions == (Instruction("h", (0,)),)


def test_qelib1_covers_every_ir_gate_but_the_two_builtins():
    assert set(QELIB1_GATES) | {"U", "CX"} == set(GATE_ARITY)


def test_U_and_CX_need_no_include():
    result = ops("qreg q[2];\nU(1,2,3) q[0];\nCX q[0],q[1];\n", head="OPENQASM 2.0;\n")
    assert result == (Instruction("U", (0,), (1.0, 2.0, 3.0)), Instruction("CX", (0, 1)))


def test_gate_parameters_keep_their_order():
    assert ops("qreg q[1];\nu3(0.1, 0.2, 0.3) q[0];\n")[0].params == (0.1, 0.2, 0.3)


def test_two_qubit_gate_keeps_argument_order():
    assert ops("qreg q[3];\ncx q[2], q[0];\n")[0].qubits == (2, 0)


def test_user_gate_is_inlined_with_its_parameters_substituted():
    result = ops(
        "gate g(a, b) x, y { rz(a*2) x; cx x, y; u1(b - a) y; }\n"
        "qreg q[2];\ng(0.5, 2) q[1], q[0];\n"
    )
    assert result == (
        Instruction("rz", (1,), (1.0,)),
        Instruction("cx", (1, 0)),
        Instruction("u1", (0,), (1.5,)),
    )


def test_user_gates_nest_through_each_other():
    result = ops(
        "gate inner(t) a { rx(t) a; }\n"
        "gate outer(t) a, b { inner(t/2) b; inner(-t) a; }\n"
        "qreg q[2];\nouter(pi) q[0], q[1];\n"
    )
    assert result == (
        Instruction("rx", (1,), (math.pi / 2,)),
        Instruction("rx", (0,), (-math.pi,)),
    )


def test_user_gate_without_parameters_may_have_empty_parentheses():
    assert ops("gate g() a { x a; }\nqreg q[1];\ng() q[0];\n") == (Instruction("x", (0,)),)


def test_user_gate_with_an_empty_body_adds_nothing():
    assert ops("gate nop a { }\nqreg q[1];\nnop q[0];\n") == ()


def test_barrier_inside_a_user_gate_is_kept_on_the_mapped_qubits():
    result = ops("gate g a, b { barrier a, b; }\nqreg q[3];\ng q[2], q[0];\n")
    assert result == (Instruction("barrier", (2, 0)),)


def test_gate_on_a_register_is_broadcast_over_its_qubits():
    assert ops("qreg q[3];\nh q;\n") == tuple(Instruction("h", (i,)) for i in range(3))


def test_two_registers_are_broadcast_pairwise():
    result = ops("qreg a[2];\nqreg b[2];\ncx a, b;\n")
    assert result == (Instruction("cx", (0, 2)), Instruction("cx", (1, 3)))


def test_a_single_qubit_is_repeated_against_a_register():
    result = ops("qreg a[1];\nqreg b[2];\ncx a[0], b;\n")
    assert result == (Instruction("cx", (0, 1)), Instruction("cx", (0, 2)))


def test_user_gate_is_broadcast_then_inlined():
    result = ops("gate g a { h a; x a; }\nqreg q[2];\ng q;\n")
    assert [(op.name, op.qubits) for op in result] == [
        ("h", (0,)),
        ("x", (0,)),
        ("h", (1,)),
        ("x", (1,)),
    ]


def test_measure_register_into_register_pairs_bits_in_order():
    result = ops("qreg q[2];\ncreg c[2];\nmeasure q -> c;\n")
    assert result == (
        Instruction("measure", (0,), (), (0,)),
        Instruction("measure", (1,), (), (1,)),
    )


def test_measure_one_qubit_into_one_clbit_of_a_later_register():
    result = ops("qreg q[2];\ncreg a[1];\ncreg b[2];\nmeasure q[1] -> b[1];\n")
    assert result == (Instruction("measure", (1,), (), (2,)),)


def test_reset_of_a_register_resets_each_qubit():
    assert ops("qreg q[2];\nreset q;\n") == (
        Instruction("reset", (0,)),
        Instruction("reset", (1,)),
    )


def test_barrier_over_registers_and_qubits_is_one_instruction_without_repeats():
    result = ops("qreg a[2];\nqreg b[2];\nbarrier a, b[1], a[0];\n")
    assert result == (Instruction("barrier", (0, 1, 3)),)


def test_if_conditions_the_operation_on_the_whole_register():
    result = ops("qreg q[1];\ncreg x[1];\ncreg c[3];\nif (c == 5) x q[0];\n")
    assert result == (Instruction("x", (0,), (), (), Condition((1, 2, 3), 5, "c")),)


def test_if_conditions_every_instruction_of_an_inlined_gate():
    result = ops("gate g a { h a; t a; }\nqreg q[1];\ncreg c[1];\nif(c==1) g q[0];\n")
    assert {op.condition for op in result} == {Condition((0,), 1, "c")}
    assert len(result) == 2


def test_if_conditions_a_measure_and_a_reset():
    result = ops("qreg q[1];\ncreg c[1];\nif(c==0) measure q[0] -> c[0];\nif(c==1) reset q[0];\n")
    assert [op.condition.value for op in result] == [0, 1]


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("pi", math.pi),
        ("-pi/2", -math.pi / 2),
        ("3*pi/4", 3 * math.pi / 4),
        ("(1+2)*3", 9.0),
        ("1-2-3", -4.0),
        ("8/2/2", 2.0),
        ("2^3^2", 512.0),
        ("-2^2", -4.0),
        ("2^-1", 0.5),
        ("2*-1", -2.0),
        ("+1.5", 1.5),
        ("1.5e-3", 1.5e-3),
        ("2.151746e+00", 2.151746),
        (".5", 0.5),
        ("3.", 3.0),
        ("sin(pi/2)", 1.0),
        ("cos(0)", 1.0),
        ("tan(0)", 0.0),
        ("exp(0)", 1.0),
        ("ln(exp(2))", 2.0),
        ("sqrt(16)*0.25", 1.0),
        ("-(-(1))", 1.0),
    ],
)
def test_parameter_expression_evaluates_to_a_float(expression, value):
    (op,) = ops(f"qreg q[1];\nrz({expression}) q[0];\n")
    assert op.params == pytest.approx((value,), rel=1e-15, abs=1e-15)
    assert type(op.params[0]) is float


def test_expression_in_a_gate_body_is_evaluated_per_call():
    result = ops(
        "gate r(t) a { rz(sin(t)^2 + cos(t)^2) a; }\nqreg q[1];\nr(0.3) q[0];\nr(2) q[0];\n"
    )
    assert [op.params for op in result] == pytest.approx([(1.0,), (1.0,)])


def test_comments_and_blank_lines_are_ignored():
    circuit = parse_qasm("// a\nOPENQASM 2.0; // b\n\n  qreg q[1]; // c\n// d\nU(0,0,0) q[0];// e")
    assert len(circuit) == 1


def test_crlf_line_endings_are_read():
    assert len(parse_qasm("OPENQASM 2.0;\r\nqreg q[1];\r\nU(0,0,0) q[0];\r\n")) == 1


def test_non_ascii_text_inside_a_comment_is_fine():
    assert len(parse_qasm("qreg q[1]; // there\u2019s no fun in that \u00e9\nU(0,0,0) q[0];")) == 1


def test_statements_may_share_a_line_and_span_lines():
    result = ops("qreg q[2]; h q[0]; cx\n q[0],\n q[1]\n ;")
    assert [op.name for op in result] == ["h", "cx"]


def test_including_qelib1_twice_changes_nothing():
    assert ops('include "qelib1.inc";\nqreg q[1];\nh q[0];\n') == (Instruction("h", (0,)),)


def test_other_include_is_read_relative_to_the_filename(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "mine.inc").write_text("gate flip a { x a; }\n")
    program = HEAD + 'include "lib/mine.inc";\nqreg q[1];\nflip q[0];\n'
    circuit = parse_qasm(program, filename=str(tmp_path / "main.qasm"))
    assert circuit.instructions == (Instruction("x", (0,)),)


def test_error_inside_an_include_names_the_included_file(tmp_path):
    (tmp_path / "bad.inc").write_text("gate g a {\n  nope a;\n}\n")
    with pytest.raises(QasmError, match="unknown gate 'nope'") as info:
        parse_qasm('include "bad.inc";\nqreg q[1];\n', filename=str(tmp_path / "main.qasm"))
    assert info.value.filename == str((tmp_path / "bad.inc").resolve())
    assert (info.value.line, info.value.column) == (2, 3)


def test_circuit_is_named_after_its_file():
    assert parse_qasm("qreg q[1];", filename="/x/bell_pair.qasm").name == "bell_pair"


def test_bytes_are_read_as_utf8():
    assert parse_qasm(b"qreg q[1];\nU(0,0,0) q[0];\n").num_qubits == 1


def test_a_byte_order_mark_is_skipped():
    assert parse_qasm("\ufeffqreg q[1];").num_qubits == 1


def test_program_with_registers_and_no_operations_is_an_empty_circuit():
    assert parse_qasm("qreg q[2];") == Circuit(2, 0, (), (("q", 2),), ())


def test_repeated_statements_give_equal_instructions_each_time():
    result = ops("qreg q[2];\n" + "cx q[0],q[1];\nrz(0.5) q[1];\n" * 3)
    assert result == (Instruction("cx", (0, 1)), Instruction("rz", (1,), (0.5,))) * 3
