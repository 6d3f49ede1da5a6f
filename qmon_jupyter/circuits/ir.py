"""The circuit IR: a small, immutable list of instructions on numbered wires.

Everything that reaches the engine is one of these, whatever it was written
in (OpenQASM 2, a Qiskit ``QuantumCircuit``, or built by hand). User gate
definitions are already inlined: an instruction's ``name`` is a gate of
``qelib1.inc`` (see :data:`GATE_ARITY`), ``U``, ``CX``, or one of the
non-unitary operations ``measure``, ``reset`` and ``barrier``.

Conventions (Qiskit's):
- qubit 0 is the least significant bit of a statevector index;
- for a gate on ``qubits=(a, b, ...)``, ``a`` is the least significant bit of
  the gate matrix's index (so ``cx`` on ``(control, target)`` is Qiskit's
  ``CXGate`` matrix);
- count keys are bitstrings with clbit 0 rightmost.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "GATE_ARITY",
    "NON_UNITARY",
    "Circuit",
    "Condition",
    "Instruction",
    "circuit_from_dict",
    "circuit_to_dict",
]

#: name -> (number of parameters, number of qubits), for every gate the IR knows.
GATE_ARITY: dict[str, tuple[int, int]] = {
    "U": (3, 1), "CX": (0, 2),
    "u3": (3, 1), "u2": (2, 1), "u1": (1, 1), "u": (3, 1), "p": (1, 1),
    "u0": (1, 1), "id": (0, 1), "x": (0, 1), "y": (0, 1), "z": (0, 1),
    "h": (0, 1), "s": (0, 1), "sdg": (0, 1), "t": (0, 1), "tdg": (0, 1),
    "sx": (0, 1), "sxdg": (0, 1), "rx": (1, 1), "ry": (1, 1), "rz": (1, 1),
    "cx": (0, 2), "cy": (0, 2), "cz": (0, 2), "ch": (0, 2), "swap": (0, 2),
    "crx": (1, 2), "cry": (1, 2), "crz": (1, 2), "cu1": (1, 2), "cp": (1, 2),
    "cu3": (3, 2), "cu": (4, 2), "csx": (0, 2), "rxx": (1, 2), "rzz": (1, 2),
    "ccx": (0, 3), "cswap": (0, 3), "rccx": (0, 3),
    "rc3x": (0, 4), "c3x": (0, 4), "c3sqrtx": (0, 4), "c4x": (0, 5),
}  # fmt: skip

#: Operations that are not unitary gates.
NON_UNITARY = frozenset({"measure", "reset", "barrier"})


@dataclass(frozen=True, slots=True)
class Condition:
    """``if (creg == value)``: the clbits of the register, clbit 0 of it first."""

    clbits: tuple[int, ...]
    value: int
    register: str = ""


@dataclass(frozen=True, slots=True)
class Instruction:
    """One operation.

    ``measure`` has one qubit and one clbit; ``reset`` one qubit;
    ``barrier`` any qubits and no effect on the state.
    """

    name: str
    qubits: tuple[int, ...]
    params: tuple[float, ...] = ()
    clbits: tuple[int, ...] = ()
    condition: Condition | None = None


@dataclass(frozen=True, slots=True)
class Circuit:
    """An immutable circuit: ``num_qubits`` wires, ``num_clbits`` bits, instructions.

    ``qregs``/``cregs`` keep the declared register names and sizes, in order,
    for display; wires are numbered across registers in declaration order.
    """

    num_qubits: int
    num_clbits: int
    instructions: tuple[Instruction, ...]
    qregs: tuple[tuple[str, int], ...] = ()
    cregs: tuple[tuple[str, int], ...] = ()
    name: str = ""

    def __len__(self) -> int:
        return len(self.instructions)

    @property
    def gate_count(self) -> int:
        """Number of unitary gates (not counting measure, reset and barrier)."""
        return sum(1 for op in self.instructions if op.name not in NON_UNITARY)

    @property
    def has_measurements(self) -> bool:
        """Whether any qubit is measured."""
        return any(op.name == "measure" for op in self.instructions)


def circuit_to_dict(circuit: Circuit) -> dict:
    """Return a JSON-safe form of ``circuit`` (for checkpoints and the store)."""
    return {
        "num_qubits": circuit.num_qubits,
        "num_clbits": circuit.num_clbits,
        "name": circuit.name,
        "qregs": [list(r) for r in circuit.qregs],
        "cregs": [list(r) for r in circuit.cregs],
        "instructions": [
            {
                "name": op.name,
                "qubits": list(op.qubits),
                "params": list(op.params),
                "clbits": list(op.clbits),
                "condition": None
                if op.condition is None
                else {
                    "clbits": list(op.condition.clbits),
                    "value": op.condition.value,
                    "register": op.condition.register,
                },
            }
            for op in circuit.instructions
        ],
    }


def circuit_from_dict(data: dict) -> Circuit:
    """Rebuild a circuit from :func:`circuit_to_dict`'s output."""
    ops = []
    for op in data["instructions"]:
        cond = op.get("condition")
        ops.append(
            Instruction(
                name=op["name"],
                qubits=tuple(op["qubits"]),
                params=tuple(float(p) for p in op.get("params", ())),
                clbits=tuple(op.get("clbits", ())),
                condition=None
                if cond is None
                else Condition(tuple(cond["clbits"]), int(cond["value"]), cond.get("register", "")),
            )
        )
    return Circuit(
        num_qubits=int(data["num_qubits"]),
        num_clbits=int(data["num_clbits"]),
        instructions=tuple(ops),
        qregs=tuple((n, int(s)) for n, s in data.get("qregs", ())),
        cregs=tuple((n, int(s)) for n, s in data.get("cregs", ())),
        name=data.get("name", ""),
    )
