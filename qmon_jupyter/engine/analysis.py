"""Circuit checks, and the choice between sample and trajectory mode.

Sample mode applies when every measurement is terminal and nothing is
conditioned (a reset of a qubit nothing has touched yet is a no-op and does
not count). Otherwise the circuit is simulated by trajectories from the first
measurement, reset or conditioned gate on.
"""

from __future__ import annotations

from dataclasses import dataclass

from qmon_jupyter.circuits.ir import GATE_ARITY, NON_UNITARY, Circuit, Instruction
from qmon_jupyter.errors import QmonError

__all__ = ["Analysis", "analyse", "measurement_map", "validate_circuit"]


def validate_circuit(circuit: Circuit) -> None:
    """Raise :class:`QmonError` naming the first instruction the engine cannot run."""
    n, c = circuit.num_qubits, circuit.num_clbits
    if n < 0 or c < 0:
        raise QmonError(f"circuit has a negative size ({n} qubits, {c} clbits)")
    checked: set[tuple[object, ...]] = set()  # unconditioned instructions found valid
    for i, op in enumerate(circuit.instructions):
        key = (op.name, op.qubits, op.clbits, len(op.params))
        if op.condition is None and key in checked:
            continue  # its problem would be the same as the first such one's: none
        problem = _problem(op, n, c)
        if problem:
            raise QmonError(f"instruction {i} ({op.name} on qubits {list(op.qubits)}): {problem}")
        if op.condition is None:
            checked.add(key)


def _problem(op: Instruction, n: int, c: int) -> str | None:  # noqa: C901, PLR0911 - flat checks
    if op.name not in GATE_ARITY and op.name not in NON_UNITARY:
        return f"unknown gate {op.name!r}"
    if any(not 0 <= q < n for q in op.qubits):
        return f"qubit index out of range (circuit has {n} qubits)"
    if len(set(op.qubits)) != len(op.qubits):
        return "a qubit is used twice"
    if any(not 0 <= b < c for b in op.clbits):
        return f"clbit index out of range (circuit has {c} clbits)"
    if op.condition is not None and any(not 0 <= b < c for b in op.condition.clbits):
        return "condition reads a clbit out of range"
    if op.name in GATE_ARITY:
        n_params, n_qubits = GATE_ARITY[op.name]
        if len(op.qubits) != n_qubits:
            return f"{op.name} acts on {n_qubits} qubit(s)"
        if len(op.params) != n_params:
            return f"{op.name} takes {n_params} parameter(s), got {len(op.params)}"
    elif op.name == "measure" and (len(op.qubits) != 1 or len(op.clbits) != 1):
        return "measure takes one qubit and one clbit"
    elif op.name == "reset" and len(op.qubits) != 1:
        return "reset takes one qubit"
    return None


@dataclass(frozen=True, slots=True)
class Analysis:
    """How a circuit is simulated (see :func:`analyse`)."""

    mode: str
    prefix: tuple[Instruction, ...]  # unitary, unconditioned gates evolved once
    rest: tuple[Instruction, ...]  # trajectory mode: what each branch follows
    measured: tuple[int, ...]  # sample mode: ascending measured qubits
    bit_map: tuple[tuple[int, int], ...]  # sample mode: (outcome bit, clbit)
    width: int  # bits of a count key


def _without_no_ops(circuit: Circuit) -> list[Instruction]:
    """Drop barriers, and resets of qubits nothing has touched yet (no-ops on |0>)."""
    ops = circuit.instructions
    if all(op.name != "reset" for op in ops):
        return [op for op in ops if op.name != "barrier"]
    touched: set[int] = set()
    kept: list[Instruction] = []
    for op in ops:
        if op.name == "barrier":
            continue
        if op.name == "reset" and op.condition is None and op.qubits[0] not in touched:
            continue
        kept.append(op)
        touched.update(op.qubits)
    return kept


def _is_dynamic(ops: list[Instruction]) -> bool:
    """Whether some shot depends on a measurement made before its end."""
    if any(op.condition is not None or op.name == "reset" for op in ops):
        return True
    measured: set[int] = set()
    for op in ops:
        if op.name == "measure":
            measured.add(op.qubits[0])
        elif measured and not measured.isdisjoint(op.qubits):
            return True  # a gate after a measurement of one of its qubits
    return False


def measurement_map(
    measures: list[Instruction],
) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...]]:
    """Return (ascending measured qubits, ``(outcome bit, clbit)`` pairs) of final measurements."""
    final = {op.clbits[0]: op.qubits[0] for op in measures}  # the last write to a clbit wins
    measured = tuple(sorted(set(final.values())))
    pos = {q: j for j, q in enumerate(measured)}
    return measured, tuple((pos[q], c) for c, q in sorted(final.items()))


def analyse(circuit: Circuit) -> Analysis:
    """Choose sample or trajectory mode for a validated ``circuit``."""
    ops = _without_no_ops(circuit)
    if not _is_dynamic(ops):
        gates = tuple([op for op in ops if op.name != "measure"])
        measures = [op for op in ops if op.name == "measure"]
        if not measures:  # no measurement: every qubit, as if measure q[i] -> c[i]
            measured = tuple(range(circuit.num_qubits))
            return Analysis(
                "sample", gates, (), measured, tuple((q, q) for q in measured), len(measured)
            )
        measured, bit_map = measurement_map(measures)
        return Analysis("sample", gates, (), measured, bit_map, circuit.num_clbits)
    first = next(
        i for i, op in enumerate(ops) if op.name in NON_UNITARY or op.condition is not None
    )
    return Analysis(
        "trajectory", tuple(ops[:first]), tuple(ops[first:]), (), (), circuit.num_clbits
    )
