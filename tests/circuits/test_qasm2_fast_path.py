"""The reader's shortcuts (fast path, memos) read exactly what the token path reads.

Each program is read twice: as ``parse_qasm`` reads it, and with
``ProgramReader.shortcuts`` off, every statement from its tokens. The two
must give equal circuits, or errors with the same message, line and column.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qmon_jupyter.circuits import QasmError, parse_qasm
from qmon_jupyter.circuits._reader import ProgramReader

HEAD = (
    'OPENQASM 2.0;\ninclude "qelib1.inc";\n'
    "qreg q[4];\nqreg r[2];\ncreg c[4];\ncreg d[2];\n"
    "gate g(a, b) x, y { rz(a) x; cx x, y; barrier x, y; ry(b / 2) y; }\n"
    "gate lg(a) x { rz(ln(a)) x; }\n"
)
HEAD_LINES = HEAD.count("\n")

#: Statements the fast path reads, in every spelling it accepts.
ACCEPTED = [
    "h q[0];",
    "x   r[1] ;",
    "t\tq[3];",
    "cx q[0],q[1];",
    "cx q[0] , r[0];",
    "cx\tr[1],\tq[2];",
    "ccx q[0], q[1], r[0];",
    "rz(0.5) q[1];",
    "rz(-0.25) q[1];",
    "rz( - 1.5e-3 ) r[0];",
    "rz(.5) q[2];",
    "rz(3.) q[2];",
    "rz(2e3) q[2];",
    "rz(7) q[2];",
    "rz(pi) q[0];",
    "rz(-pi/4) q[0];",
    "rz(0.123*pi) q[3];",
    "rz(sin(pi/3)+cos(1)) q[3];",
    "rz(2^0.5) q[3];",
    "u3(0.1,0.2,pi/3) r[1];",
    "u3( 0.1 , 0.2 , pi / 3 ) r[1];",
    "u2(0,pi) q[0];",
    "cu1(-pi/8) q[2],q[3];",
    "cu3(0.1,0.2,0.3) q[0],r[1];",
    "U(0.1,0.2,0.3) q[0];",
    "CX q[1],q[0];",
    "g(0.5, 1.5) q[0], r[1];",
    "g(pi, -pi) r[0],q[3];",
    "lg(2) q[0];",
    "measure q[0] -> c[0];",
    "measure  r[1]->d[0] ;",
    "measure q[3] -> d[1];",
    "barrier q[0];",
    "barrier q[0],r[1];",
    "barrier q[1], q[1], q[2];",
    "reset q[2];",
    "reset\tr[0] ;",
    "id q[0];",
    "sxdg q[1];",
    "rzz(0.3) q[0],q[3];",
]

#: One statement away from the fast path's forms: the token path must decide.
NEAR_MISSES = [
    # valid, but not the fast path's form
    "h q;",
    "cx q[0], r;",
    "measure q -> c;",
    "measure r -> d;",
    "barrier q;",
    "barrier q, r[0];",
    "reset q;",
    "if (c == 1) x q[0];",
    "h q[0]; // a comment after",
    "h q[0]; x q[1]; cx q[2],q[3];",
    "rz(0.5)\nq[0];",
    "h\nq[0];",
    "g() q[0],q[1];",
    "h() q[0];",
    "rz((0.5)) q[0];",
    "rz(1/3) q[0];",
    "rz(--1) q[0];",
    "rz(+1) q[0];",
    "rz(1e308*10) q[0];",
    # errors
    "hh q[0];",
    "H q[0];",
    "cnot q[0],q[1];",
    "h q[4];",
    "h r[2];",
    "h q[00000000000000000000000000000000009];",
    "h q[99999999999];",
    "h z[0];",
    "h c[0];",
    "h q[0],q[1];",
    "cx q[0];",
    "cx q[1],q[1];",
    "ccx q[0],r[0],q[0];",
    "rz q[0];",
    "rz() q[0];",
    "rz(1,2) q[0];",
    "h(0.5) q[0];",
    "u3(1,2) q[0];",
    "U(1,2) q[0];",
    "CX q[0];",
    "rz(1/0) q[0];",
    "rz(pi/0) q[0];",
    "rz(1e999) q[0];",
    "rz(ln(-1)) q[0];",
    "rz(sqrt(-1)) q[0];",
    "rz(a) q[0];",
    "rz(1,) q[0];",
    "rz(,1) q[0];",
    "rz(0.5 q[0];",
    "lg(-1) q[0];",
    "lg(0) q[0];",
    "g(1) q[0],q[1];",
    "g(1,2) q[0],q[0];",
    "measure q[0] -> c[4];",
    "measure q[4] -> c[0];",
    "measure q[0] -> q[1];",
    "measure c[0] -> c[1];",
    "measure q[0] -> z[0];",
    "measure q[0], c[0];",
    "measure(1) q[0] -> c[0];",
    "measure q[0] -> c[0]",
    "barrier(1) q[0];",
    "barrier q[9];",
    "barrier c[0];",
    "reset(1) q[0];",
    "reset q[0],q[1];",
    "reset q[7];",
    "reset c[0];",
    "qreg q[0];",
    "gate q[0];",
    "opaque q[0];",
    "include q[0];",
    "if q[0];",
    "pi q[0];",
    "sin q[0];",
    "sin(1) q[0];",
    "OPENQASM q[0];",
    "h q[0]",
    "h q[0]:",
    "h q[0];;",
    "h q[-1];",
    "h q[1.0];",
    "h q [ 1 ] ;",
    "h q[0] q[1];",
    "h hq[0];",
    "hq[0];",
    "h q[0];\u00e9",
]


def outcome(text: str, *, shortcuts: bool, **kwargs) -> object:
    """The circuit ``text`` reads to, or its error as (message, line, column, filename)."""
    saved = ProgramReader.shortcuts
    ProgramReader.shortcuts = shortcuts
    try:
        return parse_qasm(text, **kwargs)
    except QasmError as exc:
        return (exc.message, exc.line, exc.column, exc.filename)
    finally:
        ProgramReader.shortcuts = saved


def assert_same_reading(text: str, **kwargs) -> object:
    fast = outcome(text, shortcuts=True, **kwargs)
    assert fast == outcome(text, shortcuts=False, **kwargs)
    return fast


def test_the_switch_really_turns_the_shortcuts_off(monkeypatch):
    from qmon_jupyter.circuits import _blocks

    monkeypatch.setattr(_blocks, "LINE_RE", None)  # any use of the shortcuts fails
    monkeypatch.setattr(ProgramReader, "shortcuts", False)
    assert len(parse_qasm(HEAD + "h q[0];\n" * 3)) == 3
    monkeypatch.setattr(ProgramReader, "shortcuts", True)
    with pytest.raises(AttributeError):
        parse_qasm(HEAD + "h q[0];\n")


@pytest.mark.parametrize("statement", ACCEPTED)
def test_an_accepted_statement_reads_as_the_token_path_reads_it(statement):
    circuit = assert_same_reading(HEAD + statement + "\n")
    assert not isinstance(circuit, tuple), circuit
    assert len(circuit) >= 1


@pytest.mark.parametrize("statement", NEAR_MISSES)
def test_a_near_miss_reads_or_fails_as_the_token_path_does(statement):
    # twice, and after valid lines, so that the memos hold what came before
    assert_same_reading(HEAD + "h q[0];\nh q[0];\n" + statement + "\n" + statement + "\n")


def test_a_program_of_every_accepted_statement_many_times_reads_the_same():
    lines = [*ACCEPTED, *(f"{a} {b}" for a, b in zip(ACCEPTED, reversed(ACCEPTED), strict=True))]
    text = HEAD + "\n".join(lines * 3) + "\n"
    circuit = assert_same_reading(text)
    assert len(circuit) > 3 * len(lines)
    assert assert_same_reading(text.replace("\n", "\r\n")) == circuit


@pytest.mark.parametrize("limit", [1, 2, 7, 40, 41, 42, 90])
def test_the_instruction_limit_is_met_at_the_same_statement(limit):
    lines = ["h q[0];", "g(1,2) q[0],q[1];", "barrier q[0];", "h q;", "measure q[1] -> c[1];"]
    assert_same_reading(HEAD + "\n".join(lines * 8) + "\n", max_instructions=limit)


def test_an_error_in_an_include_reads_the_same(tmp_path):
    (tmp_path / "part.inc").write_text("h q[0];\nh q[0];\ncx q[1],q[1];\n")
    main = tmp_path / "main.qasm"
    text = HEAD + 'h q[0];\ninclude "part.inc";\n'
    assert_same_reading(text, filename=str(main))


_piece = st.sampled_from(
    [
        "h",
        "cx",
        "rz",
        "u3",
        "g",
        "lg",
        "measure",
        "barrier",
        "reset",
        "hh",
        "(0.5)",
        "(pi/2)",
        "(1,2)",
        "(-1)",
        "(0)",
        "()",
        " ",
        "\t",
        " q[0]",
        " q[3]",
        " q[4]",
        " r[1]",
        " c[0]",
        " z[0]",
        " q",
        ",",
        " -> ",
        " c[1]",
        " d[1]",
        ";",
        "\n",
        "//x\n",
    ]
)


@settings(
    max_examples=150,
    deadline=timedelta(seconds=2),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(st.lists(_piece, min_size=1, max_size=8).map("".join), max_size=12))
def test_random_statements_read_as_the_token_path_reads_them(statements):
    assert_same_reading(HEAD + "\n".join(statements) + "\n")
