"""Writing a :class:`~.ir.Circuit` back as OpenQASM 2 (display, export, round trips)."""

from __future__ import annotations

import math
import re

from ._gates import RESERVED
from .ir import GATE_ARITY, Circuit, Condition, Instruction

__all__ = ["to_qasm"]

_IDENTIFIER = re.compile(r"[a-z][A-Za-z0-9_]*")


def to_qasm(circuit: Circuit) -> str:
    """Write ``circuit`` as OpenQASM 2.0 text that :func:`~.qasm2.parse_qasm` reads back equal.

    Parameters are written with ``repr``, so they read back bit for bit. The
    circuit's ``name`` is not part of OpenQASM 2 and is not written.

    Raises
    ------
    ValueError
        If the circuit holds something OpenQASM 2 cannot say: an unknown
        instruction, a non-finite parameter, a condition that is not on a
        whole classical register, or registers that do not cover the wires.

    """
    qregs = _registers(circuit.qregs, circuit.num_qubits, "q", "qubits")
    cregs = _registers(circuit.cregs, circuit.num_clbits, "c", "clbits")
    qubit = _wire_names(qregs)
    clbit = _wire_names(cregs)
    creg_by_bits: dict[tuple[int, ...], str] = {}
    offset = 0
    for name, size in cregs:
        creg_by_bits.setdefault(tuple(range(offset, offset + size)), name)
        offset += size
    lines = ["OPENQASM 2.0;", 'include "qelib1.inc";']
    lines += [f"qreg {name}[{size}];" for name, size in qregs]
    lines += [f"creg {name}[{size}];" for name, size in cregs]
    for op in circuit.instructions:
        text = _statement(op, qubit, clbit)
        if op.condition is not None and op.name != "barrier":
            register = _condition_register(op.condition, creg_by_bits)
            text = f"if({register}=={op.condition.value}) {text}"
        lines.append(text)
    return "\n".join(lines) + "\n"


def _registers(
    registers: tuple[tuple[str, int], ...], wires: int, default: str, kind: str
) -> tuple[tuple[str, int], ...]:
    if not registers:
        return ((default, wires),) if wires else ()
    if sum(size for _, size in registers) != wires:
        raise ValueError(f"the circuit's registers do not cover its {wires} {kind}")
    for name, size in registers:
        if not _IDENTIFIER.fullmatch(name) or name in RESERVED:
            raise ValueError(f"register name {name!r} is not an OpenQASM 2 identifier")
        if size < 1:
            raise ValueError(f"register {name!r} has size {size}; OpenQASM 2 needs at least 1")
    return registers


def _wire_names(registers: tuple[tuple[str, int], ...]) -> list[str]:
    return [f"{name}[{i}]" for name, size in registers for i in range(size)]


def _statement(op: Instruction, qubit: list[str], clbit: list[str]) -> str:
    name = op.name
    args = ",".join(qubit[q] for q in op.qubits)
    if name == "measure":
        return f"measure {args} -> {clbit[op.clbits[0]]};"
    if name in ("reset", "barrier"):
        return f"{name} {args};"
    arity = GATE_ARITY.get(name)
    if arity is None:
        raise ValueError(f"instruction {name!r} has no OpenQASM 2 form")
    if arity != (len(op.params), len(op.qubits)):
        raise ValueError(
            f"instruction {name!r} has {len(op.params)} parameters and {len(op.qubits)} "
            f"qubits; it takes {arity[0]} and {arity[1]}"
        )
    if not op.params:
        return f"{name} {args};"
    return f"{name}({','.join(_number(p) for p in op.params)}) {args};"


def _number(value: float) -> str:
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"parameter {value!r} is not a finite number")
    text = repr(value)
    if "e" in text and "." not in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}.0e{exponent}"  # OpenQASM 2 reals carry a '.'
    return text


def _condition_register(condition: Condition, creg_by_bits: dict[tuple[int, ...], str]) -> str:
    name = creg_by_bits.get(tuple(condition.clbits))
    if name is None:
        raise ValueError(
            f"a condition on clbits {list(condition.clbits)} is not on one whole classical "
            "register; OpenQASM 2 cannot express it"
        )
    if condition.value < 0:
        raise ValueError(f"condition value {condition.value} is negative")
    return name
