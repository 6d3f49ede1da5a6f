"""Qiskit ``QuantumCircuit`` -> :class:`~.ir.Circuit`, and :func:`to_circuit` for any input.

Qiskit is an optional dependency: it is imported only inside
:func:`from_qiskit`, which is only reached for objects that come from it.
"""

from __future__ import annotations

import warnings
from typing import Any

from .ir import GATE_ARITY, NON_UNITARY, Circuit, Condition, Instruction
from .qasm2 import parse_qasm

__all__ = ["from_qiskit", "to_circuit"]

# Qiskit's names where they differ from the IR's (the others are the same word).
_RENAMED = {"rcccx": "rc3x", "c3sx": "c3sqrtx"}
_MCX_BY_CONTROLS = {1: "cx", 2: "ccx", 3: "c3x", 4: "c4x"}
_IGNORED = frozenset({"delay", "global_phase"})  # no effect on the state
_MAX_DEFINITION_DEPTH = 64


def to_circuit(obj: Any) -> Circuit:
    """Whatever describes a circuit, as a :class:`~.ir.Circuit`.

    Parameters
    ----------
    obj
        A :class:`~.ir.Circuit` (returned as is), OpenQASM 2 text, or a Qiskit
        ``QuantumCircuit``.

    Raises
    ------
    QasmError
        For OpenQASM text that cannot be read.
    TypeError
        For anything else, naming its type.

    """
    if isinstance(obj, Circuit):
        return obj
    if isinstance(obj, str):
        return parse_qasm(obj)
    if (type(obj).__module__ or "").startswith("qiskit"):
        return from_qiskit(obj)
    raise TypeError(
        f"cannot make a circuit from a {type(obj).__module__}.{type(obj).__qualname__}: "
        "expected a qmon_jupyter Circuit, OpenQASM 2 text or a qiskit QuantumCircuit"
    )


def from_qiskit(qc: Any) -> Circuit:
    """Convert a Qiskit ``QuantumCircuit``.

    Gates the IR knows keep their name (``cx``, ``h``, ``rz``, ``u``, ``p``,
    ``cp``, ``sx``, ``rzz``, ``swap``, ``ccx``, ...); any other gate is
    replaced by its definition, recursively (global phase is dropped: it does
    not change any measurement). ``if_test`` blocks without an else branch
    (and ``c_if`` conditions of older Qiskit) become instruction conditions.

    Raises
    ------
    TypeError
        If ``qc`` is not a ``QuantumCircuit``.
    ValueError
        If it holds something the IR cannot express: unbound parameters,
        loops, an ``if`` with an else branch or a classical expression as
        condition, or an operation with no definition.

    """
    from qiskit.circuit import QuantumCircuit  # optional dependency: imported on use

    if not isinstance(qc, QuantumCircuit):
        raise TypeError(f"from_qiskit expects a qiskit QuantumCircuit, got {type(qc).__name__}")
    converter = _Converter(qc)
    converter.convert(qc, list(range(qc.num_qubits)), list(range(qc.num_clbits)), None, 0)
    return Circuit(
        num_qubits=qc.num_qubits,
        num_clbits=qc.num_clbits,
        instructions=tuple(converter.out),
        qregs=_registers(qc.qregs, qc.qubits, "q"),
        cregs=_registers(qc.cregs, qc.clbits, "c"),
        name=qc.name or "",
    )


def _registers(registers: list, bits: list, default: str) -> tuple[tuple[str, int], ...]:
    """Return the registers if they lay the bits out in order, else one register of all."""
    registers = [r for r in registers if r.size]
    if [bit for r in registers for bit in r] == list(bits):
        return tuple((r.name, r.size) for r in registers)
    return ((default, len(bits)),) if bits else ()


class _Converter:
    def __init__(self, qc: Any) -> None:
        import qiskit  # optional dependency: imported on use

        # Qiskit < 2 conditions instructions with c_if; 2.0 removed it for if_test.
        self.has_c_if = int(qiskit.__version__.split(".")[0]) < 2
        self.clbit_index = {bit: i for i, bit in enumerate(qc.clbits)}
        self.out: list[Instruction] = []

    def convert(
        self,
        block: Any,
        qubit_map: list[int],
        clbit_map: list[int],
        condition: Condition | None,
        depth: int,
    ) -> None:
        """Append ``block`` (a circuit, definition or if-body); its wire i is ``qubit_map[i]``."""
        if depth > _MAX_DEFINITION_DEPTH:
            raise ValueError(f"gate definitions nest more than {_MAX_DEFINITION_DEPTH} deep")
        local_q = {bit: qubit_map[i] for i, bit in enumerate(block.qubits)}
        local_c = {bit: clbit_map[i] for i, bit in enumerate(block.clbits)}
        for item in block.data:
            op = item.operation
            self.operation(
                op,
                tuple(local_q[b] for b in item.qubits),
                tuple(local_c[b] for b in item.clbits),
                self.condition_of(op, condition),
                depth,
            )

    def operation(
        self,
        op: Any,
        qubits: tuple[int, ...],
        clbits: tuple[int, ...],
        condition: Condition | None,
        depth: int,
    ) -> None:
        name = op.name
        if name in _IGNORED:
            return
        if name == "if_else":
            self.if_else(op, qubits, clbits, condition, depth)
            return
        if name in NON_UNITARY:
            self.out.append(Instruction(name, qubits, (), clbits, condition))
            return
        ir_name = _ir_name(op)
        if ir_name is not None and GATE_ARITY[ir_name] == (len(op.params), len(qubits)):
            params = tuple(_float(p, name) for p in op.params)
            self.out.append(Instruction(ir_name, qubits, params, (), condition))
            return
        if getattr(op, "blocks", None):
            raise ValueError(f"cannot convert control flow {name!r}: only if_test without else")
        definition = getattr(op, "definition", None)
        if definition is None:
            raise ValueError(f"cannot convert {name!r}: it has no definition in known gates")
        self.convert(definition, list(qubits), list(clbits), condition, depth + 1)

    def if_else(
        self,
        op: Any,
        qubits: tuple[int, ...],
        clbits: tuple[int, ...],
        condition: Condition | None,
        depth: int,
    ) -> None:
        true_body, false_body = op.blocks[0], (op.blocks[1] if len(op.blocks) > 1 else None)
        if false_body is not None and false_body.data:
            raise ValueError("cannot convert an if_test with an else branch")
        if condition is not None:
            raise ValueError("cannot convert nested conditions")
        inner = self.to_condition(op.condition)
        self.convert(true_body, list(qubits), list(clbits), inner, depth + 1)

    def condition_of(self, op: Any, outer: Condition | None) -> Condition | None:
        """``outer``, or the ``c_if`` condition of Qiskit < 2 (it has none from 2.0 on)."""
        if not self.has_c_if or op.name == "if_else":
            return outer
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            raw = op.condition
        if raw is None:
            return outer
        if outer is not None:
            raise ValueError("cannot convert nested conditions")
        return self.to_condition(raw)

    def to_condition(self, raw: Any) -> Condition:
        if not isinstance(raw, tuple) or len(raw) != 2:
            raise ValueError(f"cannot convert the condition {raw!r}: only (register, value)")
        target, value = raw
        if hasattr(target, "size") and hasattr(target, "name"):  # a ClassicalRegister
            bits = tuple(self.clbit_index[b] for b in target)
            return Condition(bits, int(value), target.name)
        if target in self.clbit_index:
            return Condition((self.clbit_index[target],), int(value), "")
        raise ValueError(f"cannot convert the condition {raw!r}: unknown classical bit")


def _ir_name(op: Any) -> str | None:
    """Return the IR's name for a Qiskit gate, or None if the IR has no such gate."""
    name = op.name
    if name == "mcx":
        return _MCX_BY_CONTROLS.get(getattr(op, "num_ctrl_qubits", 0))
    name = _RENAMED.get(name, name)
    return name if name in GATE_ARITY and name not in ("U", "CX") else None


def _float(value: Any, gate: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"gate {gate!r} has a parameter with no numeric value: {value}") from None
