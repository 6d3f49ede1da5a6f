"""Gates a program can call: the primitives, and user ``gate`` definitions to inline.

A definition may only call gates defined before it, so recursion is
impossible; its nesting depth is still bounded (:data:`MAX_GATE_DEPTH`) so
that inlining never exhausts Python's stack, and its expanded size is
counted so that the reader can refuse an exponential blow-up before
producing it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._expr import FUNCTIONS, Expr, evaluate, parse_parameters
from ._lexer import EOF, Lexer, line_column, plural, semicolon
from .ir import Condition, Instruction
from .qelib1 import QELIB1_GATES

__all__ = ["MAX_GATE_DEPTH", "RESERVED", "GateDef", "read_gate_definition"]

#: Deepest chain of user gates calling user gates.
MAX_GATE_DEPTH = 64

#: Words that cannot name a register, a gate or a gate argument.
RESERVED = frozenset(
    {"OPENQASM", "include", "qreg", "creg", "gate", "opaque", "measure", "reset", "barrier"}
    | {"if", "pi", "U", "CX"}
    | set(FUNCTIONS)
)

_NOT_IN_BODY = RESERVED - {"U", "CX", "barrier"}

# One operation of a body: (called gate or None for a barrier, parameter
# expressions, indices into the definition's qubit arguments).
BodyOp = tuple["GateDef | None", tuple[Expr, ...], tuple[int, ...]]


@dataclass(frozen=True, slots=True)
class GateDef:
    """A callable gate: a primitive (``body is None``) or a user definition.

    ``size`` is the number of instructions one call expands to, ``depth``
    how many user definitions deep the expansion goes, ``line`` where it was
    defined (0 for primitives).
    """

    name: str
    num_params: int
    num_qubits: int
    body: tuple[BodyOp, ...] | None = None
    size: int = 1
    depth: int = 0
    line: int = 0

    def expand(
        self,
        params: tuple[float, ...],
        qubits: tuple[int, ...],
        condition: Condition | None,
        out: list[Instruction],
    ) -> None:
        """Append the primitive instructions of one call to ``out``.

        Raises :class:`~._expr.ExprMathError` if a parameter expression has
        no finite value for these ``params``.
        """
        for gate, exprs, wires in self.body:
            mapped = tuple([qubits[i] for i in wires])
            if gate is None:
                out.append(Instruction("barrier", mapped))
                continue
            values = tuple([evaluate(e, params) for e in exprs])
            if gate.body is None:
                out.append(Instruction(gate.name, mapped, values, (), condition))
            else:
                gate.expand(values, mapped, condition, out)


def read_gate_definition(lx: Lexer, gates: dict[str, GateDef], qelib1: bool) -> GateDef:
    """Read ``name(params) qubits { body }`` after the ``gate`` keyword.

    Leaves the lexer on the closing ``}``.
    """
    name, pos = lx.value, lx.start
    if lx.kind != "id":
        lx.error(f"expected a gate name after 'gate', found {lx.describe()}")
    if name in RESERVED:
        lx.error(f"{name!r} is a reserved word and cannot name a gate")
    previous = gates.get(name)
    if previous is not None:
        where = "by qelib1.inc" if previous.line == 0 and qelib1 else f"on line {previous.line}"
        lx.error(f"duplicate declaration of gate {name!r} (already defined {where})")
    lx.advance()
    seen: set[str] = set()
    params: list[str] = []
    if lx.kind == "(":
        lx.advance()
        if lx.kind != ")":
            params = _names(lx, name, "parameter", seen)
        lx.expect(")", "')' closing the parameter list")
    qubits = _names(lx, name, "qubit argument", seen)
    lx.expect("{", f"'{{' opening the body of gate {name!r}")
    param_index = {p: i for i, p in enumerate(params)}
    qubit_index = {q: i for i, q in enumerate(qubits)}
    body: list[BodyOp] = []
    size = depth = 0
    while lx.kind != "}":
        body.append(_body_op(lx, name, gates, param_index, qubit_index))
        called = body[-1][0]
        size += 1 if called is None else called.size
        depth = max(depth, 0 if called is None else called.depth)
        lx.advance()
    if depth + 1 > MAX_GATE_DEPTH:
        lx.error(f"gate {name!r} nests user gates more than {MAX_GATE_DEPTH} deep", pos)
    line = line_column(lx.text, pos)[0]
    return GateDef(name, len(params), len(qubits), tuple(body), size, depth + 1, line)


def _names(lx: Lexer, gate: str, what: str, seen: set[str]) -> list[str]:
    names = []
    while True:
        name = lx.value
        if lx.kind != "id":
            lx.error(
                f"expected a {what} name in the declaration of gate {gate!r}, found {lx.describe()}"
            )
        if name in RESERVED:
            lx.error(f"{name!r} is a reserved word and cannot name a {what}")
        if name in seen:
            lx.error(f"duplicate name {name!r} in the declaration of gate {gate!r}")
        seen.add(name)
        names.append(name)
        lx.advance()
        if lx.kind != ",":
            return names
        lx.advance()


def _body_op(
    lx: Lexer,
    name: str,
    gates: dict[str, GateDef],
    param_index: dict[str, int],
    qubit_index: dict[str, int],
) -> BodyOp:
    """One operation of a body; leaves the lexer on its ``;``."""
    word, pos = lx.value, lx.start
    if lx.kind == EOF:
        lx.error(f"the body of gate {name!r} is not closed: expected '}}', found end of input")
    if lx.kind != "id":
        lx.error(
            f"expected a gate, 'barrier' or '}}' in gate {name!r}'s body, found {lx.describe()}"
        )
    if word in _NOT_IN_BODY:
        lx.error(f"{word!r} is not allowed inside a gate body (in gate {name!r})")
    if word == "barrier":
        lx.advance()
        wires = _wires(lx, name, qubit_index, allow_repeats=True)
        semicolon(lx)
        return None, (), wires
    called = gates.get(word)
    if called is None:
        if word == name:
            lx.error(f"gate {name!r} cannot call itself: OpenQASM 2 gates are not recursive")
        hint = ' (missing include "qelib1.inc"?)' if word in QELIB1_GATES else ""
        lx.error(f"unknown gate {word!r}{hint}")
    lx.advance()
    exprs = parse_parameters(lx, param_index)
    if len(exprs) != called.num_params:
        lx.error(
            f"gate {word!r} takes {plural(called.num_params, 'parameter')}, got {len(exprs)}", pos
        )
    wires = _wires(lx, name, qubit_index, allow_repeats=False)
    semicolon(lx)
    if len(wires) != called.num_qubits:
        lx.error(
            f"gate {word!r} acts on {plural(called.num_qubits, 'qubit')}, "
            f"got {plural(len(wires), 'argument')}",
            pos,
        )
    return called, tuple(exprs), wires


def _wires(
    lx: Lexer, name: str, qubit_index: dict[str, int], *, allow_repeats: bool
) -> tuple[int, ...]:
    wires: list[int] = []
    while True:
        arg = lx.value
        if lx.kind != "id":
            lx.error(f"expected a qubit argument of gate {name!r}, found {lx.describe()}")
        wire = qubit_index.get(arg)
        if wire is None:
            lx.error(f"{arg!r} is not a qubit argument of gate {name!r}")
        if wire in wires:
            if not allow_repeats:
                lx.error(f"qubit argument {arg!r} is used twice in one operation")
        else:
            wires.append(wire)
        lx.advance()
        if lx.kind == "[":
            lx.error(f"a gate body uses its qubit arguments whole: {arg}[...] cannot be indexed")
        if lx.kind != ",":
            return tuple(wires)
        lx.advance()
