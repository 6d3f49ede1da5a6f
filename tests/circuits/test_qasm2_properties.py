"""Properties of the reader and writer (hypothesis).

Whatever the input, the reader answers with a valid Circuit or a QasmError,
never another exception and never a hang; what the writer writes, the reader
reads back equal.
"""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qmon_jupyter.circuits import (
    Circuit,
    Condition,
    Instruction,
    QasmError,
    from_qiskit,
    parse_qasm,
    to_qasm,
)
from qmon_jupyter.circuits.ir import GATE_ARITY, NON_UNITARY

# A deadline per example catches a hang or a quadratic path; generous, because
# this machine is shared.
FUZZ = settings(
    max_examples=300,
    deadline=timedelta(seconds=2),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ROUND_TRIP = settings(
    max_examples=150,
    deadline=timedelta(seconds=2),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

SEEDS = [
    # every statement kind, in a few small programs
    (
        'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\ncreg c[3];\n'
        "h q[0];\ncx q[0],q[1];\nrz(-pi/4) q[2];\nu3(0.1,0.2,0.3) q;\nbarrier q;\n"
        "measure q -> c;\nif (c == 3) x q[1];\nreset q[2];\n"
    ),
    (
        'OPENQASM 2.0;\ninclude "qelib1.inc";\n'
        "gate g(theta, phi) a, b { rx(theta/2) a; cx a, b; rz(-phi*2^2 + sin(theta)) b; }\n"
        "gate h2 a, b { g(pi, ln(2)) b, a; barrier a, b; h a; }\n"
        "qreg q[2];\nqreg r[2];\ncreg m[2];\nh2 q, r;\ng(0.5, sqrt(3)) q[1], r[0];\n"
        "if(m==1) h2 q[0], q[1];\nmeasure r[0] -> m[1];\n"
    ),
    "OPENQASM 2.0;\nqreg a[2];\nU(pi/2, 0, pi) a[0];\nCX a[0], a[1];\n// comment\n",
    (
        'include "qelib1.inc";\nqreg q[5];\nc4x q[0],q[1],q[2],q[3],q[4];\n'
        "cu(1,2,3,4) q[0],q[1];\nrxx(0.3) q[2],q[3];\nopaque o a;\n"
    ),
]

TOKENS = [
    "OPENQASM", "2.0", "include", '"qelib1.inc"', "qreg", "creg", "gate", "opaque", "measure",
    "reset", "barrier", "if", "U", "CX", "h", "cx", "rz", "u3", "g", "q", "c", "a", "theta",
    "pi", "sin", "ln", "sqrt", "0", "1", "2", "3.5", "1e3", "[", "]", "(", ")", "{", "}", ",",
    ";", "->", "==", "+", "-", "*", "/", "^", "\n", "//", "é",
]  # fmt: skip


def check_valid(circuit: Circuit) -> None:
    """The invariants every circuit the reader returns must keep."""
    assert circuit.num_qubits > 0
    for op in circuit.instructions:
        assert op.name in GATE_ARITY or op.name in NON_UNITARY
        assert all(0 <= q < circuit.num_qubits for q in op.qubits)
        assert all(0 <= c < circuit.num_clbits for c in op.clbits)
        assert all(isinstance(p, float) and math.isfinite(p) for p in op.params)
        if op.name in GATE_ARITY:
            assert GATE_ARITY[op.name] == (len(op.params), len(op.qubits))
            assert len(set(op.qubits)) == len(op.qubits)


def parse_or_qasm_error(text: str | bytes) -> None:
    error = None
    try:
        circuit = parse_qasm(text)
    except QasmError as exc:
        error = exc
    if error is None:
        check_valid(circuit)
        return
    assert error.message
    assert error.line is None or error.line >= 1
    assert error.column is None or error.column >= 1


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes_give_a_circuit_or_a_qasm_error(data):
    parse_or_qasm_error(data)


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=60).map(" ".join))
def test_random_token_soup_gives_a_circuit_or_a_qasm_error(text):
    parse_or_qasm_error(text)


@st.composite
def mutated_programs(draw) -> str:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        n = len(text)
        i = draw(st.integers(0, n))
        j = draw(st.integers(i, min(n, i + 12)))
        kind = draw(st.sampled_from(["delete", "insert", "replace", "duplicate", "character"]))
        if kind == "delete":
            text = text[:i] + text[j:]
        elif kind == "insert":
            text = text[:i] + draw(st.sampled_from(TOKENS)) + text[i:]
        elif kind == "replace":
            text = (
                text[:i] + " ".join(draw(st.lists(st.sampled_from(TOKENS), max_size=3))) + text[j:]
            )
        elif kind == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        else:
            text = text[:i] + draw(st.characters(codec="utf-8")) + text[i:]
    return text


@FUZZ
@given(mutated_programs())
def test_mutated_valid_program_gives_a_circuit_or_a_qasm_error(text):
    parse_or_qasm_error(text)


def test_every_seed_program_is_valid_except_the_opaque_one():
    for seed in SEEDS[:3]:
        check_valid(parse_qasm(seed))
    with pytest.raises(QasmError, match="opaque gate 'o'"):
        parse_qasm(SEEDS[3])


# -- round trips ---------------------------------------------------------------------


@st.composite
def circuits(draw, exclude: frozenset[str] = frozenset()) -> Circuit:
    qsizes = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    csizes = draw(st.lists(st.integers(1, 3), max_size=2))
    qregs = tuple((f"q{i}", size) for i, size in enumerate(qsizes))
    cregs = tuple((f"c{i}", size) for i, size in enumerate(csizes))
    nq, nc = sum(qsizes), sum(csizes)
    creg_bits, offset = [], 0
    for name, size in cregs:
        creg_bits.append((name, tuple(range(offset, offset + size))))
        offset += size
    gates = sorted(name for name, (_, k) in GATE_ARITY.items() if k <= nq and name not in exclude)
    angles = st.floats(allow_nan=False, allow_infinity=False)

    def condition() -> Condition | None:
        if not creg_bits or not draw(st.booleans()):
            return None
        name, bits = draw(st.sampled_from(creg_bits))
        return Condition(bits, draw(st.integers(0, 2 ** len(bits) - 1)), name)

    ops = []
    for _ in range(draw(st.integers(0, 25))):
        kind = draw(st.sampled_from(["gate", "gate", "measure", "reset", "barrier"]))
        if kind == "gate":
            name = draw(st.sampled_from(gates))
            num_params, k = GATE_ARITY[name]
            qubits = tuple(draw(st.permutations(range(nq)))[:k])
            params = tuple(draw(st.lists(angles, min_size=num_params, max_size=num_params)))
            ops.append(Instruction(name, qubits, params, (), condition()))
        elif kind == "measure" and nc:
            qubit, clbit = draw(st.integers(0, nq - 1)), draw(st.integers(0, nc - 1))
            ops.append(Instruction("measure", (qubit,), (), (clbit,), condition()))
        elif kind == "reset":
            ops.append(Instruction("reset", (draw(st.integers(0, nq - 1)),), (), (), condition()))
        elif kind == "barrier":
            qubits = draw(st.permutations(range(nq)))[: draw(st.integers(1, nq))]
            ops.append(Instruction("barrier", tuple(qubits)))
    return Circuit(nq, nc, tuple(ops), qregs, cregs, "")


@ROUND_TRIP
@given(circuits())
def test_to_qasm_then_parse_gives_the_same_circuit(circuit):
    assert parse_qasm(to_qasm(circuit)) == circuit


@ROUND_TRIP
@given(circuits(exclude=frozenset({"u0"})))  # qiskit reads u0's angle as a delay length
def test_qiskit_reads_what_to_qasm_writes_as_the_same_circuit(circuit):
    qasm2 = pytest.importorskip("qiskit.qasm2")
    theirs = from_qiskit(
        qasm2.loads(to_qasm(circuit), custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
    )
    builtin_names = {"U": "u", "CX": "cx"}  # qiskit reads the builtins as u and cx
    expected = tuple(
        Instruction(
            builtin_names.get(op.name, op.name), op.qubits, op.params, op.clbits, op.condition
        )
        for op in circuit.instructions
    )
    assert theirs.instructions == expected
