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
from ._lexer import EOF, Lexer
from .ir import Instruction

if TYPE_CHECKING:
    from ._gates import GateDef

__all__ = ["LINE_RE", "MEMO_SIZE", "STATEMENT_RE", "FastPath", "Memo"]

#: Most entries a memo holds before it is emptied.
MEMO_SIZE = 1 << 16

_DIGITS = 9  # longer indices are out of range (or too large): the token path says which
_NOT_GATES = RESERVED - {"U", "CX"}
_ID = r"[A-Za-z_][A-Za-z0-9_]*+"  # possessive: "hq[0]" is not "h q[0]"
_INDEX = r"[ \t]*\[[ \t]*([0-9]+)[ \t]*\]"
_ARG = rf"{_ID}[ \t]*\[[ \t]*[0-9]+[ \t]*\]"
_NUMBER = r"(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[0-9]+(?:[eE][-+]?[0-9]+)?"
_NUMBERS = rf"[ \t]*-?(?:{_NUMBER})[ \t]*(?:,[ \t]*-?(?:{_NUMBER})[ \t]*)*"
_STATEMENT = (
    rf"measure[ \t]+(?P<mq>{_ID}){_INDEX}[ \t]*->[ \t]*(?P<mc>{_ID}){_INDEX}[ \t]*;"
    rf"|(?P<name>{_ID})[ \t]*(?:\((?:(?P<numbers>{_NUMBERS})|(?P<params>[^()\n;]*))\))?[ \t]*"
    rf"(?P<args>{_ARG}(?:[ \t]*,[ \t]*{_ARG})*)[ \t]*;"
)
#: ``measure a[i] -> c[j];`` or a plain statement on indexed qubits, ``name(params) a[i], b[j];``.
#: ``numbers`` holds parameters that are plain numbers, the sign next to its number (each
#: reads as ``float`` reads it), ``params`` any other parameter text.
STATEMENT_RE = re.compile(_STATEMENT)
#: A whole line (without its ``\n``) of one such statement, with blanks and a comment around.
LINE_RE = re.compile(rf"[ \t\r\f\v]*(?:{_STATEMENT})[ \t\r\f\v]*(?://.*)?")
_ARG_RE = re.compile(rf"({_ID}){_INDEX}")
#: An optionally negated number, as the lexer reads ``real`` and ``int`` tokens.
_NUMBER_RE = re.compile(rf"[ \t]*(-?)[ \t]*({_NUMBER})[ \t]*")


class Memo(dict):
    """A dictionary that empties itself when it reaches ``size`` entries."""

    __slots__ = ("size",)

    def __init__(self, size: int = MEMO_SIZE) -> None:
        super().__init__()
        self.size = size

    def put(self, key: object, value: object) -> None:
        """Store ``value`` under ``key``, first emptying a full memo."""
        if len(self) >= self.size:
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

    def statement(  # noqa: PLR0911 - once per distinct statement, kept flat
        self, m: re.Match[str], limit: int
    ) -> tuple[Instruction, ...] | None:
        """Read the statement ``m`` matched; ``limit`` bounds a user gate's expansion."""
        mq, qindex, mc, cindex, name, numbers, params, args = m.groups()
        if mq is not None:
            return self.measure(mq, qindex, mc, cindex)
        qubits = self.wires.get(args)
        if qubits is None:
            qubits = self.qubits(args)
            if qubits is None:
                return None
        if name in _NOT_GATES:
            return (
                None
                if numbers is not None or params is not None
                else _barrier_or_reset(name, qubits)
            )
        gate = self.gates.get(name)
        if gate is None or len(qubits) != gate.num_qubits or gate.size >= limit:
            return None
        if len(qubits) > 1 and len(set(qubits)) != len(qubits):
            return None
        values = self.values_of(numbers, params)
        if values is None or len(values) != gate.num_params:
            return None
        if gate.body is None:
            return (Instruction(gate.name, qubits, values),)
        return _expansion(gate, values, qubits)

    def qubits(self, args: str) -> tuple[int, ...] | None:
        """Return the wires of ``a[i], b[j]`` (one tuple for every statement on them)."""
        wires: list[int] = []
        for register, index in _ARG_RE.findall(args):
            declared = self.qregs.get(register)
            if declared is None or len(index) > _DIGITS or int(index) >= declared[1]:
                return None
            wires.append(declared[0] + int(index))
        qubits = tuple(wires)
        self.wires.put(args, qubits)
        return qubits

    def measure(
        self, qreg: str, qindex: str, creg: str, cindex: str
    ) -> tuple[Instruction, ...] | None:
        """Return the instruction of ``measure qreg[qindex] -> creg[cindex];``."""
        q, c = self.qregs.get(qreg), self.cregs.get(creg)
        if q is None or c is None or len(qindex) > _DIGITS or len(cindex) > _DIGITS:
            return None
        if int(qindex) >= q[1] or int(cindex) >= c[1]:
            return None
        return (Instruction("measure", (q[0] + int(qindex),), (), (c[0] + int(cindex),)),)

    def values_of(self, numbers: str | None, params: str | None) -> tuple[float, ...] | None:
        """Values of the ``numbers`` or ``params`` a statement matched (none: ``()``)."""
        if numbers is not None:
            values = tuple(map(float, numbers.split(",")))
            if math.isfinite(sum(values)):
                return values
            return self.parameters(numbers)  # an overflow: the token path says which
        if params is None:
            return ()
        values = self.params.get(params)
        return self.parameters(params) if values is None else values

    def parameters(self, text: str) -> tuple[float, ...] | None:
        """Values of the parameter list ``text``, each an expression of constants."""
        found: list[float] = []
        if text.strip(" \t\r\f\v"):
            for piece in text.split(","):
                value = self.values.get(piece)
                if value is None:
                    value = _constant(piece)
                    if value is None:
                        return None
                    self.values.put(piece, value)
                found.append(value)
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


def _constant(text: str) -> float | None:
    """Return the value of the expression ``text``, if it is all one expression of constants."""
    number = _NUMBER_RE.fullmatch(text)
    if number is not None:  # what the expression reader makes of a literal, without tokens
        value = float(number.group(2))
        if not math.isfinite(value):
            return None
        return -value if number.group(1) else value
    if "//" in text:  # a comment would run past the parameters in the program
        return None
    lx = Lexer(text)
    try:
        lx.seek(0)
        value = parse_expression(lx)
    except QasmError:
        return None
    return value if lx.kind == EOF and type(value) is float else None
