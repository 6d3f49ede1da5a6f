"""A generated program of many varied lines reads as Qiskit reads it, instruction by instruction."""

from __future__ import annotations

import random

import pytest

from qmon_jupyter.circuits import from_qiskit, parse_qasm

qasm2 = pytest.importorskip("qiskit.qasm2")

HEAD = (
    'OPENQASM 2.0;\ninclude "qelib1.inc";\n'
    "qreg q[8];\nqreg r[4];\ncreg c[8];\ncreg d[4];\n"
    "gate g(a, b) x, y { rz(a) x; cx x, y; ry(b / 2) y; }\n"
)


def varied_program(lines: int, seed: int) -> str:
    """``lines`` lines of most statement kinds, on 12 qubits (seeded).

    Not ``U`` and ``CX``: Qiskit reads them as its ``u`` and ``cx``.
    """
    rng = random.Random(seed)
    registers = (("q", 8), ("r", 4))

    def qubit() -> str:
        name, size = rng.choice(registers)
        return f"{name}[{rng.randrange(size)}]"

    def pair() -> str:
        a, b = qubit(), qubit()
        while b == a:
            b = qubit()
        return f"{a}, {b}" if rng.random() < 0.2 else f"{a},{b}"

    def angle() -> str:
        return rng.choice(
            [
                f"{rng.randrange(1000) / 1000}*pi",
                f"-pi/{rng.randrange(1, 17)}",
                f"{rng.uniform(-7, 7):.6g}",
                f"{rng.randrange(1, 9)}e-{rng.randrange(1, 4)}",
                f"sin({rng.randrange(9)})+{rng.randrange(5)}",
            ]
        )

    makers = [
        lambda: f"{rng.choice(['h', 'x', 'y', 'z', 's', 't', 'sdg', 'tdg', 'sx'])} {qubit()};",
        lambda: f"{rng.choice(['cx', 'cz', 'swap', 'ch'])} {pair()};",
        lambda: f"{rng.choice(['rz', 'rx', 'ry', 'p'])}({angle()}) {qubit()};",
        lambda: f"u3({angle()},{angle()},{angle()}) {qubit()};",
        lambda: f"cu1({angle()}) {pair()};",
        lambda: f"g({angle()}, {angle()}) {pair()};",
        lambda: f"measure q[{(i := rng.randrange(8))}] -> c[{i}];",
        lambda: f"barrier {pair()};",
        lambda: f"reset {qubit()};",
        lambda: f"{rng.choice(['h', 'x'])} {rng.choice(['q', 'r'])};",
        lambda: "measure r -> d;",
        lambda: f"if (c == {rng.randrange(4)}) x {qubit()};",
        lambda: f"h {qubit()}; cx {pair()}; // two on a line",
        lambda: "",
    ]
    weights = [30, 20, 14, 4, 4, 3, 6, 4, 3, 2, 1, 1, 3, 1]
    body = [rng.choices(makers, weights)[0]() for _ in range(lines)]
    return HEAD + "\n".join(body) + "\n"


def assert_reads_as_qiskit(text: str) -> None:
    mine = parse_qasm(text)
    theirs = from_qiskit(qasm2.loads(text, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS))
    assert (mine.num_qubits, mine.num_clbits) == (theirs.num_qubits, theirs.num_clbits) == (12, 12)
    assert len(mine.instructions) == len(theirs.instructions)
    for i, (a, b) in enumerate(zip(mine.instructions, theirs.instructions, strict=True)):
        assert a == b, f"instruction {i}"


@pytest.mark.parametrize("seed", [1, 2])
def test_a_varied_program_reads_as_qiskit_reads_it(seed):
    assert_reads_as_qiskit(varied_program(10_000, seed))


@pytest.mark.slow
def test_three_hundred_thousand_varied_lines_read_as_qiskit_reads_them():
    # 10^6 lines pass too, in ~80 s on the 2-core VM, nearly all of it Qiskit's
    assert_reads_as_qiskit(varied_program(300_000, 16))
