"""Bad OpenQASM 2 input: a QasmError naming the offending token, at its line and column."""

from __future__ import annotations

import re

import pytest

from qmon_jupyter.circuits import QasmError, parse_qasm
from qmon_jupyter.errors import QmonError

HEAD = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n'


def error_of(program: str, **kwargs) -> QasmError:
    with pytest.raises(QasmError) as info:
        parse_qasm(program, **kwargs)
    return info.value


# (program after HEAD, line, column, message pattern); lines count HEAD's two.
CASES = {
    "unknown_gate": ("qreg q[1];\nfoo q[0];", 4, 1, r"unknown gate 'foo'"),
    "wrong_parameter_count": ("qreg q[1];\nrz(1, 2) q[0];", 4, 1, r"'rz' takes 1 parameter, got 2"),
    "missing_parameters": ("qreg q[1];\nu3 q[0];", 4, 1, r"'u3' takes 3 parameters, got 0"),
    "parameters_on_a_fixed_gate": ("qreg q[1];\nh(0.1) q[0];", 4, 1, r"'h' takes 0 parameters"),
    "too_few_qubits": ("qreg q[2];\ncx q[0];", 4, 1, r"'cx' acts on 2 qubits, got 1 argument"),
    "too_many_qubits": ("qreg q[3];\nh q[0], q[1];", 4, 1, r"'h' acts on 1 qubit, got 2 arguments"),
    "undeclared_register": ("qreg q[1];\nh r[0];", 4, 3, r"undeclared register 'r'"),
    "undeclared_creg_in_measure": (
        "qreg q[1];\nmeasure q[0] -> c[0];",
        4,
        17,
        r"undeclared register 'c'",
    ),
    "index_out_of_range": (
        "qreg q[3];\nh q[3];",
        4,
        5,
        r"index 3 is out of range for register 'q' of size 3",
    ),
    "clbit_index_out_of_range": (
        "qreg q[1];\ncreg c[1];\nmeasure q[0] -> c[1];",
        5,
        19,
        r"index 1 is out of range for register 'c'",
    ),
    "duplicate_qreg": (
        "qreg q[1];\nqreg q[2];",
        4,
        6,
        r"duplicate declaration of register 'q' \(first declared on line 3\)",
    ),
    "creg_reusing_a_qreg_name": (
        "qreg q[1];\ncreg q[2];",
        4,
        6,
        r"duplicate declaration of register 'q'",
    ),
    "duplicate_gate": (
        "gate g a { x a; }\ngate g a { y a; }\nqreg q[1];",
        4,
        6,
        r"duplicate declaration of gate 'g' \(already defined on line 3\)",
    ),
    "redefined_qelib1_gate": (
        "gate h a { x a; }\nqreg q[1];",
        3,
        6,
        r"duplicate declaration of gate 'h' \(already defined by qelib1.inc\)",
    ),
    "missing_semicolon": ("qreg q[2];\nh q[0]\nh q[1];", 4, 7, r"missing ';' before 'h'"),
    "missing_semicolon_at_end": ("qreg q[1];\nh q[0]", 4, 7, r"missing ';' before end of input"),
    "non_ascii_junk": (
        "qreg q[1];\nh q[0]; \u00e9",
        4,
        9,
        r"unexpected character '\u00e9' \(U\+00E9\)",
    ),
    "non_breaking_space": (
        "qreg q[1];\nh\u00a0q[0];",
        4,
        2,
        r"unexpected character '\\xa0' \(U\+00A0\)",
    ),
    "control_character": ("qreg q[1];\x00", 3, 11, r"unexpected character '\\x00'"),
    "division_by_zero": ("qreg q[1];\nrz(1/0) q[0];", 4, 5, r"division by zero"),
    "division_by_zero_after_folding": ("qreg q[1];\nrz(pi/(2-2)) q[0];", 4, 6, r"division by zero"),
    "log_of_zero": ("qreg q[1];\nrz(ln(0)) q[0];", 4, 4, r"ln\(0.0\) is undefined"),
    "square_root_of_negative": (
        "qreg q[1];\nrz(sqrt(-1)) q[0];",
        4,
        4,
        r"sqrt\(-1.0\) is undefined",
    ),
    "root_of_negative_number": ("qreg q[1];\nrz((-8)^(1/3)) q[0];", 4, 8, r"is not a real number"),
    "overflowing_exponential": (
        "qreg q[1];\nrz(exp(1000)) q[0];",
        4,
        4,
        r"exp\(1000.0\) overflows",
    ),
    "overflowing_power": ("qreg q[1];\nrz(10^400) q[0];", 4, 6, r"overflows"),
    "infinite_literal": ("qreg q[1];\nrz(1e999) q[0];", 4, 4, r"number '1e999' is too large"),
    "identifier_outside_a_gate_body": (
        "qreg q[1];\nrz(theta) q[0];",
        4,
        4,
        r"unknown identifier 'theta'",
    ),
    "unknown_function": ("qreg q[1];\nrz(asin(1)) q[0];", 4, 4, r"unknown identifier 'asin'"),
    "unclosed_parenthesis": (
        "qreg q[1];\nrz((1) q[0];",
        4,
        8,
        r"expected '\)' or ',' in the parameter list, found 'q'",
    ),
    "opaque_gate": (
        "opaque mystery(a) q;\nqreg q[1];",
        3,
        8,
        r"opaque gate 'mystery' is not supported",
    ),
    "measure_register_into_a_bit": (
        "qreg q[2];\ncreg c[2];\nmeasure q -> c[0];",
        5,
        14,
        r"measure maps 2 qubits to 1 clbit",
    ),
    "measure_registers_of_different_sizes": (
        "qreg q[2];\ncreg c[3];\nmeasure q -> c;",
        5,
        14,
        r"measure maps 2 qubits to 3 clbits",
    ),
    "gate_on_a_classical_register": (
        "qreg q[1];\ncreg c[1];\nh c[0];",
        5,
        3,
        r"'c' is a classical register; expected a quantum one",
    ),
    "measure_into_a_quantum_register": (
        "qreg q[2];\nmeasure q[0] -> q[1];",
        4,
        17,
        r"'q' is a quantum register; expected a classical one",
    ),
    "if_on_a_quantum_register": (
        "qreg q[1];\nif (q == 1) x q[0];",
        4,
        5,
        r"'q' is a quantum register",
    ),
    "if_on_an_undeclared_register": (
        "qreg q[1];\nif (c == 1) x q[0];",
        4,
        5,
        r"undeclared register 'c'",
    ),
    "if_on_one_bit": (
        "qreg q[1];\ncreg c[2];\nif (c[0] == 1) x q[0];",
        5,
        6,
        r"whole classical register",
    ),
    "if_before_barrier": (
        "qreg q[1];\ncreg c[1];\nif (c == 1) barrier q;",
        5,
        13,
        r"expected a gate, measure or reset after if\(...\), found 'barrier'",
    ),
    "broadcast_over_different_sizes": (
        "qreg a[2];\nqreg b[3];\ncx a, b;",
        5,
        7,
        r"registers of different sizes \(2 and 3\) in 'cx'",
    ),
    "qubit_used_twice": ("qreg q[2];\ncx q[1], q[1];", 4, 4, r"qubit q\[1\] is used twice in 'cx'"),
    "qubit_used_twice_by_broadcast": (
        "qreg q[2];\ncx q[0], q;",
        4,
        4,
        r"qubit q\[0\] is used twice in 'cx'",
    ),
    "recursive_gate": ("gate g a { g a; }\nqreg q[1];", 3, 12, r"gate 'g' cannot call itself"),
    "gate_body_uses_an_unknown_qubit": (
        "gate g a { x b; }",
        3,
        14,
        r"'b' is not a qubit argument of gate 'g'",
    ),
    "gate_body_indexes_a_qubit": ("gate g a { x a[0]; }", 3, 15, r"cannot be indexed"),
    "gate_body_measures": (
        "gate g a { measure a -> c[0]; }",
        3,
        12,
        r"'measure' is not allowed inside a gate body",
    ),
    "gate_body_unknown_parameter": (
        "gate g(t) a { rz(s) a; }",
        3,
        18,
        r"unknown identifier 's' in an expression: not a parameter of this gate",
    ),
    "gate_body_not_closed": ("gate g a { x a;", 3, 16, r"the body of gate 'g' is not closed"),
    "gate_without_qubits": (
        "gate g { }",
        3,
        8,
        r"expected a qubit argument name in the declaration of gate 'g', found '\{'",
    ),
    "gate_repeats_an_argument_name": (
        "gate g(a) a { }",
        3,
        11,
        r"duplicate name 'a' in the declaration of gate 'g'",
    ),
    "gate_named_by_a_reserved_word": ("gate measure a { }", 3, 6, r"'measure' is a reserved word"),
    "division_by_zero_in_an_inlined_gate": (
        "gate g(t) a { rz(1/t) a; }\nqreg q[1];\ng(0) q[0];",
        5,
        1,
        r"division by zero in the expansion of gate 'g'",
    ),
    "register_of_size_zero": ("qreg q[0];", 3, 8, r"register 'q' must have at least one bit"),
    "register_too_large": ("qreg q[99999999];", 3, 8, r"takes the program past"),
    "integer_with_too_many_digits": ("qreg q[1];\nh q[" + "9" * 5000 + "];", 4, 5, r"is too large"),
    "unterminated_string": ('include "other.inc;\nqreg q[1];', 3, 9, r"unterminated string"),
    "block_comment": ("qreg q[1];\n/* no */", 4, 1, r"'/\*' block comments are not OpenQASM 2"),
    "stray_symbol": ("qreg q[1];\n];", 4, 1, r"expected a statement, found '\]'"),
    "header_after_statements": ("OPENQASM 2.0;", 3, 1, r"header must be the first statement"),
}


@pytest.mark.parametrize(
    ("body", "line", "column", "pattern"),
    list(CASES.values()),
    ids=list(CASES),
)
def test_bad_program_raises_qasm_error_at_the_offending_token(body, line, column, pattern):
    error = error_of(HEAD + body, filename="bad.qasm")
    assert re.search(pattern, error.message), error.message
    assert (error.line, error.column) == (line, column), error.message
    assert error.filename == "bad.qasm"
    assert str(error).startswith(f"bad.qasm:{line}:{column}: ")


def test_qasm_error_is_a_qmon_error_and_a_value_error():
    error = error_of("")
    assert isinstance(error, QmonError)
    assert isinstance(error, ValueError)


def test_qelib1_gate_without_include_says_the_include_is_missing():
    error = error_of("OPENQASM 2.0;\nqreg q[1];\nh q[0];")
    assert error.message == "unknown gate 'h' (missing include \"qelib1.inc\"?)"
    assert (error.line, error.column) == (3, 1)


@pytest.mark.parametrize(
    "program",
    [
        "",
        "   \n\n",
        "// only a comment\n",
        HEAD,
        HEAD + "gate g a { x a; }\n",
        HEAD + "creg c[2];\n",
    ],
    ids=["nothing", "blank", "comment", "header", "gates_only", "clbits_only"],
)
def test_program_without_qubits_is_an_empty_program_error(program):
    error = error_of(program)
    assert error.message.startswith("empty program")


def test_unsupported_version_names_the_version():
    error = error_of("OPENQASM 3.0;\nqubit q;")
    assert "unsupported OpenQASM version 3.0" in error.message
    assert (error.line, error.column) == (1, 10)


def test_include_without_a_filename_cannot_be_resolved():
    error = error_of('include "gates.inc";\nqreg q[1];')
    assert "cannot include 'gates.inc': the program has no file name" in error.message
    assert (error.line, error.column) == (1, 9)


def test_missing_include_file_is_named(tmp_path):
    error = error_of('include "absent.inc";\nqreg q[1];', filename=str(tmp_path / "main.qasm"))
    assert "cannot read include file 'absent.inc'" in error.message
    assert (error.line, error.column) == (1, 9)


def test_include_of_a_directory_is_a_qasm_error(tmp_path):
    (tmp_path / "sub").mkdir()
    error = error_of('include "sub";\nqreg q[1];', filename=str(tmp_path / "main.qasm"))
    assert "cannot read include file 'sub'" in error.message


def test_include_name_with_a_nul_byte_is_a_qasm_error(tmp_path):
    error = error_of('include "a\x00b.inc";\nqreg q[1];', filename=str(tmp_path / "main.qasm"))
    assert "include file 'a\\x00b.inc'" in error.message


def test_include_cycle_is_refused(tmp_path):
    (tmp_path / "a.inc").write_text('include "b.inc";\n')
    (tmp_path / "b.inc").write_text('include "a.inc";\n')
    error = error_of('include "a.inc";\nqreg q[1];', filename=str(tmp_path / "main.qasm"))
    assert "include cycle" in error.message


def test_invalid_utf8_bytes_are_a_qasm_error_at_the_byte():
    error = error_of(b"qreg q[1];\nh \xff q[0];")
    assert "not UTF-8" in error.message
    assert (error.line, error.column) == (2, 3)


def test_text_of_another_type_is_a_type_error():
    with pytest.raises(TypeError, match="got int"):
        parse_qasm(42)


# -- pathological input: refused quickly, never a RecursionError or a hang ----------------


def test_deeply_nested_parentheses_are_refused():
    error = error_of(HEAD + "qreg q[1];\nrz(" + "(" * 5000 + "1" + ")" * 5000 + ") q[0];")
    assert "nested more than 64 levels" in error.message


def test_long_chain_of_unary_minus_is_refused():
    error = error_of(HEAD + "qreg q[1];\nrz(" + "-" * 5000 + "1) q[0];")
    assert "nested more than 64 levels" in error.message


def test_tower_of_powers_is_refused():
    error = error_of(HEAD + "qreg q[1];\nrz(" + "1^" * 5000 + "1) q[0];")
    assert "nested more than 64 levels" in error.message


def test_deep_expression_tree_in_a_gate_body_is_refused():
    error = error_of(HEAD + "gate g(t) a { rz(" + "t+" * 500 + "t) a; }")
    assert "nested more than 64 levels" in error.message


def test_deep_chain_of_user_gates_is_refused():
    chain = "gate g0 a { x a; }\n" + "".join(
        f"gate g{i} a {{ g{i - 1} a; }}\n" for i in range(1, 100)
    )
    error = error_of(HEAD + chain + "qreg q[1];\n")
    assert "nests user gates more than 64 deep" in error.message


def test_exponential_gate_expansion_is_refused_before_it_is_built():
    defs = "gate g0 a { x a; x a; }\n" + "".join(
        f"gate g{i} a {{ g{i - 1} a; g{i - 1} a; }}\n" for i in range(1, 40)
    )
    error = error_of(HEAD + defs + "qreg q[1];\ng39 q[0];\n")
    assert "expands to more than" in error.message
    assert error.line == 44


def test_exponential_expansion_inside_a_broadcast_is_refused():
    defs = "gate g0 a { x a; x a; }\n" + "".join(
        f"gate g{i} a {{ g{i - 1} a; g{i - 1} a; }}\n" for i in range(1, 20)
    )
    error = error_of(HEAD + defs + "qreg q[4];\ng19 q;\n")
    assert "expands to more than" in error.message


@pytest.mark.parametrize(
    ("statement", "suggestion"),
    [
        ("cnot q[0], q[1];", "cx"),
        ("toffoli q[0], q[1], q[2];", "ccx"),
        ("rzz2(0.1) q[0], q[1];", "rzz"),
    ],
)
def test_an_unknown_gate_suggests_the_qelib1_name_meant(statement, suggestion):
    text = f'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\n{statement}\n'
    with pytest.raises(QasmError, match=rf"did you mean '{suggestion}'\?") as err:
        parse_qasm(text)
    assert (err.value.line, err.value.column) == (4, 1)
