"""The OpenQASM 2 tokenizer: one token at a time, on demand, with exact positions.

The reader asks for tokens one by one (``advance``), so a statement can be
re-read from any offset and an error always knows the line and column of the
token it names. Keywords are ordinary identifiers here; the reader decides
what they mean.
"""

from __future__ import annotations

import re
from typing import NoReturn

from qmon_jupyter.errors import QasmError

__all__ = ["EOF", "Lexer", "describe", "line_column", "plural", "read_int", "semicolon"]

_MAX_INT_DIGITS = 30

#: Kind of the token after the last one.
EOF = "eof"

# Whitespace and ``//`` comments, skipped between tokens. Only ASCII whitespace:
# anything else outside a comment is junk and must be reported.
SKIP_RE = re.compile(r"(?:[ \t\r\n\f\v]+|//[^\n]*)*")

_TOKEN_RE = re.compile(
    r"(?P<real>(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[0-9]+[eE][-+]?[0-9]+)"
    r"|(?P<int>[0-9]+)"
    r"|(?P<id>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<string>\"[^\"\r\n]*\")"
    r"|(?P<sym>->|==|[-+*/^()\[\]{},;])"
)


def line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset`` in ``text``."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def describe(kind: str, value: str) -> str:
    """How an error message names a token."""
    if kind == EOF:
        return "end of input"
    if len(value) > 40:
        value = value[:37] + "..."
    return repr(value)


class Lexer:
    """Tokens of ``text`` from ``pos`` on.

    After :meth:`advance`, ``kind`` is ``"real"``, ``"int"``, ``"id"``,
    ``"string"``, the symbol itself (``";"``, ``"->"``, ...) or :data:`EOF`;
    ``value`` is the token's text and ``start``/``end`` its offsets;
    ``prev_end`` is where the previous token ended (a missing ``;`` is
    reported there, at the end of the statement that lacks it).
    """

    __slots__ = ("end", "filename", "kind", "length", "prev_end", "start", "text", "value")

    def __init__(self, text: str, filename: str | None = None, pos: int = 0) -> None:
        self.text = text
        self.filename = filename
        self.length = len(text)
        self.kind = EOF
        self.value = ""
        self.start = pos
        self.end = pos
        self.prev_end = pos

    def seek(self, pos: int) -> None:
        """Read the token at (or after whitespace from) ``pos`` next."""
        self.end = pos
        self.advance()

    def advance(self) -> None:
        """Move to the next token."""
        text = self.text
        self.prev_end = self.end
        pos = SKIP_RE.match(text, self.end).end()
        self.start = pos
        if pos >= self.length:
            self.kind = EOF
            self.value = ""
            self.end = pos
            return
        m = _TOKEN_RE.match(text, pos)
        if m is None:
            self._junk(pos)
        kind = m.lastgroup
        value = m.group()
        if value == "/" and text.startswith("/*", pos):
            self._junk(pos)
        self.kind = value if kind == "sym" else kind
        self.value = value
        self.end = m.end()

    def _junk(self, pos: int) -> NoReturn:
        char = self.text[pos]
        if char == '"':
            self.error("unterminated string: a '\"' without its closing '\"' on the same line", pos)
        if char == "/" and self.text.startswith("/*", pos):
            self.error("'/*' block comments are not OpenQASM 2; use '//' comments", pos)
        self.error(f"unexpected character {char!r} (U+{ord(char):04X})", pos)

    def describe(self) -> str:
        """Name the current token as an error message does."""
        return describe(self.kind, self.value)

    def fail(self, message: str, pos: int | None = None) -> QasmError:
        """Make a :class:`QasmError` at ``pos`` (default: the current token)."""
        line, column = line_column(self.text, self.start if pos is None else pos)
        return QasmError(message, line, column, self.filename)

    def error(self, message: str, pos: int | None = None) -> NoReturn:
        """Raise a :class:`QasmError` at ``pos`` (default: the current token)."""
        raise self.fail(message, pos)

    def expect(self, kind: str, what: str | None = None) -> str:
        """Consume a token of ``kind`` and return its text, or raise naming what came instead."""
        if self.kind != kind:
            wanted = what or repr(kind)
            self.error(f"expected {wanted}, found {self.describe()}")
        value = self.value
        self.advance()
        return value


def semicolon(lx: Lexer) -> None:
    """Check the statement ends here; the lexer stays on the ``;``."""
    if lx.kind != ";":
        lx.error(f"missing ';' before {lx.describe()}", lx.prev_end)


def read_int(lx: Lexer) -> tuple[int, int]:
    """Consume a non-negative integer; return it and its position."""
    if lx.kind != "int":
        lx.error(f"expected a non-negative integer, found {lx.describe()}")
    if len(lx.value) > _MAX_INT_DIGITS:
        lx.error(f"integer {lx.describe()} is too large")
    value, pos = int(lx.value), lx.start
    lx.advance()
    return value, pos


def plural(n: int, noun: str) -> str:
    """``1 qubit``, ``2 qubits``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
