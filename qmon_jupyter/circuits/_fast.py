"""The common statements, read from one regular-expression match each, without tokens.

Generated programs are millions of lines of a few forms: ``name(params)
a[i], b[j];``, ``measure a[i] -> c[j];``, ``barrier a[i], b[j];`` and
``reset a[i];``. :class:`FastPath` turns such a match straight into its
instructions. It decides no errors: anything that is not plainly right (an
unknown name, an index out of range, a parameter that does not read as a
constant, a wrong count) makes it return ``None``, and the reader takes the
token path, which reports the problem at its line and column. So whatever it
returns is what the token path would have produced.

What it remembers (parameter values, qubit tuples) is kept in bounded memos:
a program of distinct lines costs memory for its instructions, not for memos.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from qmon_jupyter.errors import QasmError

from ._expr import ExprMathError, parse_expression
from ._gates import RESERVED
from .ir import Instruction

if TYPE_CHECKING:
    from ._gates import GateDef
    from ._lexer import Lexer

__all__ = ["MEMO_SIZE", "STATEMENT_RE", "FastPath", "Memo"]

#: Most entries a memo holds before it is emptied.
MEMO_SIZE = 1 << 16

_DIGITS = 9  # longer indices are out of range (or too large): the token path says which
_NOT_GATES = RESERVED - {"U", "CX"}
_ID = r"[A-Za-z_][A-Za-z0-9_]*+"  # possessive: "hq[0]" is not "h q[0]"
_INDEX = r"[ \t]*\[[ \t]*([0-9]+)[ \t]*\]"
_ARG = rf"{_ID}[ \t]*\[[ \t]*[0-9]+[ \t]*\]"
#: ``measure a[i] -> c[j];`` or a plain statement on indexed qubits, ``name(params) a[i], b[j];``.
STATEMENT_RE = re.compile(
    rf"measure[ \t]+(?P<mq>{_ID}){_INDEX}[ \t]*->[ \t]*(?P<mc>{_ID}){_INDEX}[ \t]*;"
    rf"|(?P<name>{_ID})[ \t]*(?:\((?P<params>[^()\n;]*)\))?[ \t]*"
    rf"(?P<args>{_ARG}(?:[ \t]*,[ \t]*{_ARG})*)[ \t]*;"
)
_ARG_RE = re.compile(rf"({_ID}){_INDEX}")
#: An optionally negated number, as the lexer reads ``real`` and ``int`` tokens.
_NUMBER_RE = re.compile(
    r"[ \t]*(-?)[ \t]*((?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[0-9]+(?:[eE][-+]?[0-9]+)?)"
    r"[ \t]*"
)


class Memo(dict):
    """A dictionary that empties itself when it reaches :data:`MEMO_SIZE` entries."""

    __slots__ = ()

    def put(self, key: object, value: object) -> None:
        """Store ``value`` under ``key``, first emptying a full memo."""
        if len(self) >= MEMO_SIZE:
            self.clear()
        self[key] = value


class FastPath:
    """Instructions of a :data:`STATEMENT_RE` match, or ``None`` to take the token path.

    ``gates``, ``qregs`` and ``cregs`` are the reader's own dictionaries,
    which only ever grow.
    """

    __slots__ = ("cregs", "gates", "params", "qregs", "values", "wires")

    def __init__(
        self,
        gates: dict[str, GateDef],
        qregs: dict[str, tuple[int, int, int]],
        cregs: dict[str, tuple[int, int, int]],
    ) -> None:
        self.gates, self.qregs, self.cregs = gates, qregs, cregs
        self.params = Memo()  # text between the parentheses -> values
        self.values = Memo()  # text of one parameter -> its value
        self.wires = Memo()  # text of the qubit arguments -> their wires

    def statement(self, m: re.Match[str], lx: Lexer, limit: int) -> tuple[Instruction, ...] | None:
        """Read the statement ``m`` matched; ``limit`` bounds a user gate's expansion."""
        if m.group("mq") is not None:
            return self.measure(m)
        qubits = self.qubits(m.group("args"))
        name, params = m.group("name", "params")
        if qubits is None or (name in _NOT_GATES and params is not None):
            return None
        if name in _NOT_GATES:
            return _barrier_or_reset(name, qubits)
        return self.call(self.gates.get(name), qubits, m, lx, limit)

    def call(
        self,
        gate: GateDef | None,
        qubits: tuple[int, ...],
        m: re.Match[str],
        lx: Lexer,
        limit: int,
    ) -> tuple[Instruction, ...] | None:
        """Return the instructions of a call of ``gate`` on ``qubits``, as ``m`` writes it."""
        if gate is None or len(qubits) != gate.num_qubits or gate.size >= limit:
            return None
        if len(qubits) > 1 and len(set(qubits)) != len(qubits):
            return None
        params = m.group("params")
        values = () if params is None else self.parameters(params, m.start("params"), lx)
        if values is None or len(values) != gate.num_params:
            return None
        if gate.body is None:
            return (Instruction(gate.name, qubits, values),)
        return _expansion(gate, values, qubits)

    def qubits(self, args: str) -> tuple[int, ...] | None:
        """Return the wires of ``a[i], b[j]`` (one tuple for every statement on them)."""
        qubits = self.wires.get(args)
        if qubits is not None:
            return qubits
        wires: list[int] = []
        for register, index in _ARG_RE.findall(args):
            declared = self.qregs.get(register)
            if declared is None or len(index) > _DIGITS or int(index) >= declared[1]:
                return None
            wires.append(declared[0] + int(index))
        qubits = tuple(wires)
        self.wires.put(args, qubits)
        return qubits

    def measure(self, m: re.Match[str]) -> tuple[Instruction, ...] | None:
        qreg, qindex, creg, cindex = m.group("mq", 2, "mc", 4)
        q, c = self.qregs.get(qreg), self.cregs.get(creg)
        if q is None or c is None or len(qindex) > _DIGITS or len(cindex) > _DIGITS:
            return None
        if int(qindex) >= q[1] or int(cindex) >= c[1]:
            return None
        return (Instruction("measure", (q[0] + int(qindex),), (), (c[0] + int(cindex),)),)

    def parameters(self, text: str, start: int, lx: Lexer) -> tuple[float, ...] | None:
        """Values of the parameter list ``text`` (at offset ``start`` of the program)."""
        values = self.params.get(text)
        if values is not None:
            return values
        found: list[float] = []
        if text.strip(" \t\r\f\v"):
            for piece in text.split(","):
                value = self.values.get(piece)
                if value is None:
                    value = _constant(lx, start, start + len(piece))
                    if value is None:
                        return None
                    self.values.put(piece, value)
                found.append(value)
                start += len(piece) + 1
        values = tuple(found)
        self.params.put(text, values)
        return values


def _barrier_or_reset(name: str, qubits: tuple[int, ...]) -> tuple[Instruction, ...] | None:
    if name == "barrier":
        return (Instruction("barrier", tuple(dict.fromkeys(qubits))),)
    if name == "reset" and len(qubits) == 1:
        return (Instruction("reset", qubits),)
    return None


def _expansion(
    gate: GateDef, values: tuple[float, ...], qubits: tuple[int, ...]
) -> tuple[Instruction, ...] | None:
    out: list[Instruction] = []
    try:
        gate.expand(values, qubits, None, out)
    except ExprMathError:
        return None
    return tuple(out)


def _constant(lx: Lexer, start: int, stop: int) -> float | None:
    """Return the value of the expression spanning ``start:stop`` exactly, if it reads as one."""
    number = _NUMBER_RE.fullmatch(lx.text, start, stop)
    if number is not None:  # what the expression reader makes of a literal, without tokens
        value = float(number.group(2))
        if not math.isfinite(value):
            return None
        return -value if number.group(1) else value
    try:
        lx.seek(start)
        value = parse_expression(lx)
    except QasmError:
        return None
    return value if lx.start == stop and type(value) is float else None
