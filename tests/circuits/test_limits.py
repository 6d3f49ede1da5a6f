"""Program size and instruction limits: clear errors beyond them, huge programs read within them."""

from __future__ import annotations

import pytest

from qmon_jupyter import QasmError, parse_qasm

HEADER = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[10];\ncreg c[10];\n'


def test_a_program_over_the_size_limit_is_refused_naming_both_sizes():
    text = HEADER + "h q[0];\n" * 100
    with pytest.raises(QasmError, match=rf"is {len(text)} bytes, more than the limit of 500"):
        parse_qasm(text, max_bytes=500)
    assert len(parse_qasm(text, max_bytes=len(text)).instructions) == 100


def test_the_size_limit_counts_utf8_bytes_not_characters():
    text = HEADER + "// " + "\u00e9" * 100 + "\nh q[0];\n"
    size = len(text.encode("utf-8"))
    assert len(text) < size
    with pytest.raises(QasmError, match=rf"is {size} bytes"):
        parse_qasm(text, max_bytes=size - 1)


def test_a_program_expanding_past_the_instruction_limit_names_the_statement():
    text = HEADER + "h q[0];\n" * 40 + "h q;\n"
    with pytest.raises(QasmError, match=r"more than 45 instructions") as err:
        parse_qasm(text, max_instructions=45)
    assert (err.value.line, err.value.column) == (45, 1)


def test_limits_come_from_the_environment_when_not_given(monkeypatch):
    text = HEADER + "x q[1];\n" * 20
    monkeypatch.setenv("QMON_MAX_INSTRUCTIONS", "10")
    with pytest.raises(QasmError, match="more than 10 instructions"):
        parse_qasm(text)
    monkeypatch.setenv("QMON_MAX_QASM_BYTES", "100")
    monkeypatch.delenv("QMON_MAX_INSTRUCTIONS")
    with pytest.raises(QasmError, match="QMON_MAX_QASM_BYTES"):
        parse_qasm(text)


@pytest.mark.parametrize("bad", ["0", "-3", "lots"])
def test_a_bad_limit_in_the_environment_names_the_variable(monkeypatch, bad):
    monkeypatch.setenv("QMON_MAX_INSTRUCTIONS", bad)
    with pytest.raises(ValueError, match="QMON_MAX_INSTRUCTIONS must be a positive integer"):
        parse_qasm(HEADER)


@pytest.mark.slow
def test_a_million_gate_lines_read_with_every_instruction():
    text = HEADER + "h q[0]; cx q[0],q[1];\n" * 500_000 + "measure q -> c;\n"
    circuit = parse_qasm(text)
    assert len(circuit.instructions) == 1_000_010
    assert circuit.instructions[-11].name == "cx"


@pytest.mark.slow
def test_varied_gate_lines_read_each_with_its_own_parameters():
    lines = [f"rz({i / 1000:.6f}) q[{i % 10}];" for i in range(200_000)]
    circuit = parse_qasm(HEADER + "\n".join(lines) + "\n")
    assert len(circuit.instructions) == 200_000
    assert circuit.instructions[123_456].params == pytest.approx((123.456,))
    assert circuit.instructions[123_456].qubits == (6,)


@pytest.mark.parametrize(
    "statement", ["barrier q[0];", "barrier q[0], q[1];", "barrier q;", "reset q[2];", "reset q;"]
)
def test_barrier_and_reset_past_the_instruction_limit_name_the_limit_and_line(statement):
    text = HEADER + "h q[0];\n" * 45 + statement + "\n"
    with pytest.raises(QasmError, match=r"more than 45 instructions \(the limit: ") as err:
        parse_qasm(text, max_instructions=45)
    assert (err.value.line, err.value.column) == (50, 1)
    assert "QMON_MAX_INSTRUCTIONS" in str(err.value)


@pytest.mark.parametrize("statement", ["barrier q[3];", "reset q[3];", "barrier q[1],q[2];"])
def test_repeated_barriers_and_resets_stop_at_the_limit_on_the_line_that_passes_it(statement):
    text = HEADER + (statement + "\n") * 60
    with pytest.raises(QasmError, match=r"more than 45 instructions") as err:
        parse_qasm(text, max_instructions=45)
    assert (err.value.line, err.value.column) == (4 + 46, 1)
    assert len(parse_qasm(text, max_instructions=60)) == 60
