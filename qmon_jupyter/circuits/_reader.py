"""The statements of OpenQASM 2.0, read into a growing list of instructions.

:class:`ProgramReader` holds what a program has declared so far (registers,
gates) and turns each statement into IR instructions: registers broadcast,
user gates inlined, conditions attached. ``parse_qasm`` in
:mod:`~.qasm2` drives it.

Large programs repeat the same few lines thousands of times, so the reader
remembers what each line of pure operations produced, by its exact text: a
repeated line costs one dictionary look-up. Anything else takes the full
path, which knows every token's line and column.

Limits keep hostile input from hanging the reader or exhausting memory; each
is reported as a :class:`~qmon_jupyter.errors.QasmError` naming it.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from ._blocks import BLOCK, LINE_MEMO_SIZE, read_block
from ._expr import ExprMathError, parse_parameters
from ._fast import FastPath, Memo
from ._gates import RESERVED, GateDef, read_gate_definition
from ._lexer import EOF, Lexer, line_column, plural, read_int, semicolon
from .ir import Condition, Instruction
from .qelib1 import BUILTIN_GATES, QELIB1_GATES

__all__ = ["MAX_INCLUDE_DEPTH", "MAX_INSTRUCTIONS", "MAX_REGISTER_BITS", "ProgramReader"]

#: Most instructions a program may expand to (after broadcasting and inlining).
MAX_INSTRUCTIONS = 2_000_000
#: Most qubits (and, separately, clbits) a program may declare.
MAX_REGISTER_BITS = 1 << 16
#: Deepest chain of ``include`` statements.
MAX_INCLUDE_DEPTH = 16

_NOT_GATES = RESERVED - {"U", "CX"}
#: Other languages' names for qelib1 gates, suggested when a program uses them.
_ALIASES = {
    "cnot": "cx",
    "toffoli": "ccx",
    "fredkin": "cswap",
    "hadamard": "h",
    "not": "x",
    "phase": "p",
    "sqrtx": "sx",
    "i": "id",
    "cphase": "cp",
}


class ProgramReader:
    """The state of one program being read (registers and gates only ever grow).

    ``shortcuts = False`` reads every statement from its tokens, without the
    fast path or the memos: the tests compare the two.
    """

    shortcuts = True

    def __init__(self, max_instructions: int = MAX_INSTRUCTIONS) -> None:
        self.max_instructions = max_instructions
        self.gates: dict[str, GateDef] = {
            name: GateDef(name, p, q) for name, (p, q) in BUILTIN_GATES.items()
        }
        self.qelib1 = False
        # name -> (first wire, size, line of the declaration)
        self.qregs: dict[str, tuple[int, int, int]] = {}
        self.cregs: dict[str, tuple[int, int, int]] = {}
        self.num_qubits = 0
        self.num_clbits = 0
        self.out: list[Instruction] = []
        # exact text of a line of pure statements / of a fast-path statement
        # -> the instructions it made
        self.line_cache = Memo(LINE_MEMO_SIZE)
        self.longest_line = 1  # most instructions of a line ever in line_cache (at least 1)
        self.statement_cache = Memo()
        self.fast = FastPath(self.gates, self.qregs, self.cregs)
        self.include_stack: list[str] = []

    # -- statements ---------------------------------------------------------

    def read(self, text: str, filename: str | None) -> None:
        """Read every statement of ``text`` into the circuit being built.

        Two memos make repeats cheap, both keyed by exact text, which is sound
        because registers and gates only ever grow, so a text that read well
        once reads the same again: whole lines of pure statements (no
        declarations), and single statements of the fast path's forms. A memo
        is used only while the instructions it adds stay below the limit; the
        statement that reaches it is read again, to report it where it is.

        The text is taken in blocks of whole lines (about :data:`BLOCK`
        characters): split at once, looked up in the line memo by ``map``, so a
        remembered line costs no Python-level work but extending the circuit.
        """
        lx = Lexer(text, filename)
        if not self.shortcuts:
            self.read_tokens(lx)
            return
        pos, end, first = 0, len(text), True
        while pos <= end:
            stop = text.find("\n", pos + BLOCK)
            pos, first = read_block(self, lx, pos, end if stop < 0 else stop, first)

    def read_tokens(self, lx: Lexer) -> None:
        """Read every statement from its tokens, one after another."""
        lx.seek(0)
        first = True
        while lx.kind != EOF:
            self.statement(lx, first)
            first = False
            lx.advance()

    def statement(self, lx: Lexer, first: bool) -> bool:
        """Read one statement, leaving the lexer on its last token (``;`` or ``}``).

        Returns whether it is pure: an operation whose instructions depend only
        on its text (not a declaration, include or header).
        """
        if lx.kind != "id":
            lx.error(f"expected a statement, found {lx.describe()}")
        word = lx.value
        if word == "OPENQASM":
            self.header(lx, first)
        elif word == "include":
            self.include(lx)
        elif word in ("qreg", "creg"):
            self.register(lx)
        elif word == "gate":
            lx.advance()
            gate = read_gate_definition(lx, self.gates, self.qelib1)
            self.gates[gate.name] = gate
        elif word == "opaque":
            lx.advance()
            name = lx.value if lx.kind == "id" else "?"
            lx.error(f"opaque gate {name!r} is not supported: it has no definition to simulate")
        elif word == "barrier":
            self.barrier(lx)
            return True
        elif word == "if":
            self.conditional(lx)
            return True
        elif word in ("measure", "reset"):
            self.measure_or_reset(lx, None)
            return True
        else:
            self.apply(lx, None)
            return True
        return False

    def header(self, lx: Lexer, first: bool) -> None:
        if not first:
            lx.error("the 'OPENQASM 2.0;' header must be the first statement")
        lx.advance()
        if lx.kind not in ("real", "int"):
            lx.error(f"expected a version number after OPENQASM, found {lx.describe()}")
        if lx.value.split(".")[0] != "2":
            lx.error(f"unsupported OpenQASM version {lx.value}: this reader reads OpenQASM 2.0")
        lx.advance()
        semicolon(lx)

    def include(self, lx: Lexer) -> None:
        lx.advance()
        if lx.kind != "string":
            lx.error(f"expected a file name in double quotes after include, found {lx.describe()}")
        name, pos = lx.value[1:-1], lx.start
        lx.advance()
        semicolon(lx)
        if name == "qelib1.inc":
            self.include_qelib1(lx, pos)
            return
        if lx.filename is None:
            lx.error(
                f"cannot include {name!r}: the program has no file name to resolve it "
                "against (pass filename=...); only qelib1.inc is built in",
                pos,
            )
        try:
            path = (Path(lx.filename).parent / name).resolve()
        except (OSError, ValueError) as exc:  # e.g. a NUL byte in the name
            lx.error(f"cannot resolve include file {name!r}: {exc}", pos)
        if str(path) in self.include_stack:
            lx.error(f"include cycle: {name!r} includes itself", pos)
        if len(self.include_stack) >= MAX_INCLUDE_DEPTH:
            lx.error(f"includes nested more than {MAX_INCLUDE_DEPTH} deep at {name!r}", pos)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            lx.error(f"include file {name!r} is not UTF-8 text", pos)
        except (OSError, ValueError) as exc:
            lx.error(
                f"cannot read include file {name!r}: {getattr(exc, 'strerror', None) or exc}", pos
            )
        self.include_stack.append(str(path))
        self.read(text.removeprefix("\ufeff"), str(path))
        self.include_stack.pop()

    def include_qelib1(self, lx: Lexer, pos: int) -> None:
        if self.qelib1:
            return  # including it twice changes nothing
        for gate in QELIB1_GATES:
            if gate in self.gates:
                lx.error(f"gate {gate!r} is already defined, and qelib1.inc defines it", pos)
        self.gates.update((g, GateDef(g, p, q)) for g, (p, q) in QELIB1_GATES.items())
        self.qelib1 = True

    def register(self, lx: Lexer) -> None:
        quantum = lx.value == "qreg"
        lx.advance()
        name, pos = lx.value, lx.start
        if lx.kind != "id":
            lx.error(f"expected a register name, found {lx.describe()}")
        if name in RESERVED:
            lx.error(f"{name!r} is a reserved word and cannot name a register")
        previous = self.qregs.get(name) or self.cregs.get(name)
        if previous is not None:
            lx.error(
                f"duplicate declaration of register {name!r} (first declared on line {previous[2]})"
            )
        lx.advance()
        lx.expect("[", "'[' after the register name")
        size, size_pos = read_int(lx)
        lx.expect("]", "']' after the register size")
        semicolon(lx)
        if size == 0:
            lx.error(f"register {name!r} must have at least one bit", size_pos)
        total = (self.num_qubits if quantum else self.num_clbits) + size
        if total > MAX_REGISTER_BITS:
            kind = "qubits" if quantum else "clbits"
            lx.error(
                f"register {name!r} takes the program past {MAX_REGISTER_BITS} {kind}", size_pos
            )
        line = line_column(lx.text, pos)[0]
        if quantum:
            self.qregs[name] = (self.num_qubits, size, line)
            self.num_qubits = total
        else:
            self.cregs[name] = (self.num_clbits, size, line)
            self.num_clbits = total

    def conditional(self, lx: Lexer) -> None:
        lx.advance()
        lx.expect("(", "'(' after if")
        name = lx.value
        if lx.kind != "id":
            lx.error(f"expected a classical register name in if(...), found {lx.describe()}")
        creg = self.cregs.get(name)
        if creg is None:
            if name in self.qregs:
                lx.error(f"{name!r} is a quantum register; if(...) compares a classical register")
            lx.error(f"undeclared register {name!r}")
        lx.advance()
        if lx.kind == "[":
            lx.error("if(...) compares a whole classical register, not one bit of it")
        lx.expect("==", "'=='")
        value, _ = read_int(lx)
        lx.expect(")", "')' closing if(")
        offset, size, _ = creg
        condition = Condition(tuple(range(offset, offset + size)), value, name)
        if lx.kind == "id" and lx.value in ("measure", "reset"):
            self.measure_or_reset(lx, condition)
        elif lx.kind == "id" and lx.value not in _NOT_GATES:
            self.apply(lx, condition)
        else:
            lx.error(f"expected a gate, measure or reset after if(...), found {lx.describe()}")

    # -- operations -----------------------------------------------------------

    def apply(self, lx: Lexer, condition: Condition | None) -> None:
        name, pos = lx.value, lx.start
        gate = self.gates.get(name)
        if gate is None:
            lx.error(f"unknown gate {name!r}{self.gate_hint(name)}")
        lx.advance()
        params = parse_parameters(lx)
        if len(params) != gate.num_params:
            lx.error(
                f"gate {name!r} takes {plural(gate.num_params, 'parameter')}, got {len(params)}",
                pos,
            )
        args = [self.qubit_arg(lx)]
        while lx.kind == ",":
            lx.advance()
            args.append(self.qubit_arg(lx))
        semicolon(lx)
        if len(args) != gate.num_qubits:
            lx.error(
                f"gate {name!r} acts on {plural(gate.num_qubits, 'qubit')}, "
                f"got {plural(len(args), 'argument')}",
                pos,
            )
        rows = self.broadcast(lx, name, args)
        if len(self.out) + len(rows) * max(gate.size, 1) > self.max_instructions:
            lx.error(_too_many(self.max_instructions), pos)
        values = tuple(params)
        out = self.out
        if gate.body is None:
            out.extend(Instruction(name, qubits, values, (), condition) for qubits in rows)
            return
        try:
            for qubits in rows:
                gate.expand(values, qubits, condition, out)
        except ExprMathError as exc:
            lx.error(f"{exc} in the expansion of gate {name!r}", pos)

    def measure_or_reset(self, lx: Lexer, condition: Condition | None) -> None:
        word, pos = lx.value, lx.start
        lx.advance()
        qarg = self.qubit_arg(lx)
        if word == "reset":
            semicolon(lx)
            if len(self.out) + len(qarg[1]) > self.max_instructions:
                lx.error(_too_many(self.max_instructions), pos)
            self.out.extend(Instruction("reset", (q,), (), (), condition) for q in qarg[1])
            return
        lx.expect("->", "'->' in measure")
        carg = self.clbit_arg(lx)
        semicolon(lx)
        (_, qubits, qreg), (cpos, clbits, creg) = qarg, carg
        if qreg != creg or len(qubits) != len(clbits):
            lx.error(
                f"measure maps {plural(len(qubits), 'qubit')} to {plural(len(clbits), 'clbit')}: "
                "measure a qubit into a bit, or a register into a register of the same size",
                cpos,
            )
        if len(self.out) + len(qubits) > self.max_instructions:
            lx.error(_too_many(self.max_instructions), pos)
        self.out.extend(
            Instruction("measure", (q,), (), (c,), condition)
            for q, c in zip(qubits, clbits, strict=True)
        )

    def barrier(self, lx: Lexer) -> None:
        pos = lx.start
        lx.advance()
        qubits = dict.fromkeys(self.qubit_arg(lx)[1])
        while lx.kind == ",":
            lx.advance()
            qubits.update(dict.fromkeys(self.qubit_arg(lx)[1]))
        semicolon(lx)
        if len(self.out) >= self.max_instructions:
            lx.error(_too_many(self.max_instructions), pos)
        self.out.append(Instruction("barrier", tuple(qubits)))

    def broadcast(
        self, lx: Lexer, name: str, args: list[tuple[int, tuple[int, ...], bool]]
    ) -> list[tuple[int, ...]]:
        """Return the qubit tuples of a gate applied to ``args`` (registers broadcast)."""
        size = None
        for apos, bits, is_register in args:
            if is_register:
                if size is not None and len(bits) != size:
                    lx.error(
                        f"registers of different sizes ({size} and {len(bits)}) in {name!r}", apos
                    )
                size = len(bits)
        if size is None:
            rows = [tuple(bits[0] for _, bits, _ in args)]
        else:
            rows = [
                tuple(bits[i] if reg else bits[0] for _, bits, reg in args) for i in range(size)
            ]
        if len(args) > 1:
            for row in rows:
                if len(set(row)) != len(row):
                    twice = next(q for q in row if row.count(q) > 1)
                    apos = next(p for p, bits, _ in args if twice in bits)
                    lx.error(f"qubit {self.qubit_name(twice)} is used twice in {name!r}", apos)
        return rows

    # -- arguments ------------------------------------------------------------

    def qubit_arg(self, lx: Lexer) -> tuple[int, tuple[int, ...], bool]:
        """``(position, wires, is_register)`` of a qubit argument."""
        return self._arg(lx, self.qregs, self.cregs, "quantum", "classical")

    def clbit_arg(self, lx: Lexer) -> tuple[int, tuple[int, ...], bool]:
        """``(position, bits, is_register)`` of a clbit argument."""
        return self._arg(lx, self.cregs, self.qregs, "classical", "quantum")

    @staticmethod
    def _arg(
        lx: Lexer,
        registers: dict[str, tuple[int, int, int]],
        others: dict[str, tuple[int, int, int]],
        kind: str,
        other_kind: str,
    ) -> tuple[int, tuple[int, ...], bool]:
        name, pos = lx.value, lx.start
        if lx.kind != "id":
            lx.error(f"expected a {kind} register argument, found {lx.describe()}")
        register = registers.get(name)
        if register is None:
            if name in others:
                lx.error(f"{name!r} is a {other_kind} register; expected a {kind} one")
            lx.error(f"undeclared register {name!r}")
        offset, size, _ = register
        lx.advance()
        if lx.kind != "[":
            return pos, tuple(range(offset, offset + size)), True
        lx.advance()
        index, index_pos = read_int(lx)
        if index >= size:
            lx.error(
                f"index {index} is out of range for register {name!r} of size {size}", index_pos
            )
        lx.expect("]", "']' after the index")
        return pos, (offset + index,), False

    def gate_hint(self, name: str) -> str:
        """Suggest what an unknown gate meant: the include it lacks, or a near name."""
        if name in QELIB1_GATES and not self.qelib1:
            return ' (missing include "qelib1.inc"?)'
        alias = _ALIASES.get(name.lower())
        if alias is not None and alias in self.gates:
            return f"; did you mean {alias!r}?"
        close = difflib.get_close_matches(name, self.gates, n=1, cutoff=0.75)
        return f"; did you mean {close[0]!r}?" if close else ""

    def qubit_name(self, wire: int) -> str:
        for name, (offset, size, _) in self.qregs.items():
            if offset <= wire < offset + size:
                return f"{name}[{wire - offset}]"
        return str(wire)  # pragma: no cover - every wire belongs to a register


def _too_many(limit: int) -> str:
    return (
        f"the program expands to more than {limit} instructions (the limit: "
        "parse_qasm(max_instructions=...) or QMON_MAX_INSTRUCTIONS)"
    )
