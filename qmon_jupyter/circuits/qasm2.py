"""The OpenQASM 2.0 reader: program text in, :class:`~.ir.Circuit` out.

A hand-written recursive-descent reader: :mod:`._lexer` makes tokens,
:mod:`._expr` reads parameter expressions, :mod:`._gates` reads and inlines
user gate definitions, :mod:`._reader` reads statements (:mod:`._blocks`
takes the text a block of lines at a time and remembers repeated lines,
:mod:`._fast` reads the common statements from one regex match), and
:mod:`.qelib1` is the built-in ``qelib1.inc``.
"""

from __future__ import annotations

import os
from pathlib import Path

from qmon_jupyter.errors import QasmError

from ._lexer import line_column
from ._reader import MAX_INCLUDE_DEPTH, MAX_INSTRUCTIONS, MAX_REGISTER_BITS, ProgramReader
from .ir import Circuit

__all__ = [
    "MAX_INCLUDE_DEPTH",
    "MAX_INSTRUCTIONS",
    "MAX_PROGRAM_BYTES",
    "MAX_REGISTER_BITS",
    "parse_qasm",
]

#: Longest program read by default (UTF-8 bytes): 64 MiB.
MAX_PROGRAM_BYTES = 64 << 20


def _limit(given: int | None, variable: str, default: int) -> int:
    """``given``, else the environment ``variable``, else ``default``; a positive integer."""
    if given is None:
        raw = os.environ.get(variable, "").strip()
        if not raw:
            return default
        if not raw.isdigit() or int(raw) < 1:
            raise ValueError(f"{variable} must be a positive integer, got {raw!r}")
        return int(raw)
    if isinstance(given, bool) or not isinstance(given, int) or given < 1:
        raise ValueError(f"limits must be positive integers, got {given!r}")
    return given


def parse_qasm(
    text: str | bytes,
    *,
    filename: str | None = None,
    max_bytes: int | None = None,
    max_instructions: int | None = None,
) -> Circuit:
    """Read an OpenQASM 2.0 program.

    Parameters
    ----------
    text
        The program. Bytes are decoded as UTF-8.
    filename
        Where it came from: used in error messages, for the circuit's name and
        to resolve ``include`` statements (other than ``qelib1.inc``, which is
        built in).
    max_bytes
        Refuse a longer program (UTF-8 bytes); default ``QMON_MAX_QASM_BYTES``
        or :data:`MAX_PROGRAM_BYTES`.
    max_instructions
        Refuse a program that expands (after broadcasting and inlining) to
        more instructions; default ``QMON_MAX_INSTRUCTIONS`` or
        :data:`MAX_INSTRUCTIONS`.

    Returns
    -------
    Circuit
        User gates inlined, registers broadcast, every qelib1 gate kept as an
        instruction of its own name.

    Raises
    ------
    QasmError
        For any program that cannot be read, with the line and column of the
        offending token.
    TypeError
        If ``text`` is neither ``str`` nor ``bytes``.

    """
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            line = text.count(b"\n", 0, exc.start) + 1
            column = exc.start - (text.rfind(b"\n", 0, exc.start) + 1) + 1
            raise QasmError(
                f"the program is not UTF-8 text (byte 0x{text[exc.start]:02X})",
                line,
                column,
                filename,
            ) from None
    if not isinstance(text, str):
        raise TypeError(f"parse_qasm expects OpenQASM 2 text (str), got {type(text).__name__}")
    text = text.removeprefix("\ufeff")
    size_limit = _limit(max_bytes, "QMON_MAX_QASM_BYTES", MAX_PROGRAM_BYTES)
    # a character is at most 4 UTF-8 bytes: encode only when the limit may be reached
    if len(text) * 4 > size_limit and (size := len(text.encode("utf-8"))) > size_limit:
        raise QasmError(
            f"the program is {size} bytes, more than the limit of {size_limit} "
            "(parse_qasm(max_bytes=...) or QMON_MAX_QASM_BYTES)",
            1,
            1,
            filename,
        )
    reader = ProgramReader(_limit(max_instructions, "QMON_MAX_INSTRUCTIONS", MAX_INSTRUCTIONS))
    reader.read(text, filename)
    if reader.num_qubits == 0:
        line, column = line_column(text, len(text))
        raise QasmError(
            "empty program: no quantum register (qreg) is declared", line, column, filename
        )
    return Circuit(
        num_qubits=reader.num_qubits,
        num_clbits=reader.num_clbits,
        instructions=tuple(reader.out),
        qregs=tuple((name, size) for name, (_, size, _) in reader.qregs.items()),
        cregs=tuple((name, size) for name, (_, size, _) in reader.cregs.items()),
        name=Path(filename).stem if filename else "",
    )
