"""Parameter expressions: parsed once, folded to a float where they are constant.

An expression is a ``float`` (a constant, folded while parsing), an ``int``
(the index of a gate parameter inside a gate body) or a tuple
``(operator, depth, operand, ...)`` that still depends on gate parameters and
is evaluated each time the gate is used.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from ._lexer import Lexer

__all__ = [
    "FUNCTIONS",
    "MAX_DEPTH",
    "ExprMathError",
    "evaluate",
    "parse_expression",
    "parse_parameters",
    "to_float",
]

Expr = float | int | tuple

#: Deepest nesting of parentheses, unary signs and ``^`` (and deepest expression
#: tree) accepted: deeper input is refused instead of exhausting Python's stack.
MAX_DEPTH = 64

FUNCTIONS = {
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "exp": math.exp,
    "ln": math.log,
    "sqrt": math.sqrt,
}


class ExprMathError(ArithmeticError):
    """An operation without a finite real result (the reader adds the position)."""


def _finite(value: float, what: str) -> float:
    if not math.isfinite(value):
        raise ExprMathError(f"{what} is not a finite number")
    return value


def _binary(op: str, a: float, b: float) -> float:
    if op == "+":
        return _finite(a + b, "the sum")
    if op == "-":
        return _finite(a - b, "the difference")
    if op == "*":
        return _finite(a * b, "the product")
    if op == "/":
        if b == 0:
            raise ExprMathError("division by zero")
        return _finite(a / b, "the quotient")
    try:
        return _finite(math.pow(a, b), f"{a!r} ^ {b!r}")
    except OverflowError:
        raise ExprMathError(f"{a!r} ^ {b!r} overflows") from None
    except ValueError:
        raise ExprMathError(f"{a!r} ^ {b!r} is not a real number") from None


def _function(name: str, x: float) -> float:
    try:
        return _finite(FUNCTIONS[name](x), f"{name}({x!r})")
    except OverflowError:
        raise ExprMathError(f"{name}({x!r}) overflows") from None
    except ValueError:
        raise ExprMathError(f"{name}({x!r}) is undefined") from None


def evaluate(expr: Expr, env: tuple[float, ...]) -> float:
    """Compute ``expr`` with gate parameter ``i`` bound to ``env[i]``."""
    kind = type(expr)
    if kind is float:
        return expr
    if kind is int:
        return env[expr]
    op = expr[0]
    if op == "neg":
        return -evaluate(expr[2], env)
    if op in FUNCTIONS:
        return _function(op, evaluate(expr[2], env))
    return _binary(op, evaluate(expr[2], env), evaluate(expr[3], env))


def _depth(expr: Expr) -> int:
    return expr[1] if type(expr) is tuple else 0


def _node(lx: Lexer, pos: int, op: str, *operands: Expr) -> Expr:
    """Fold ``op`` over constant operands now, else build a tree node."""
    if all(type(x) is float for x in operands):
        try:
            if op == "neg":
                return -operands[0]
            if op in FUNCTIONS:
                return _function(op, operands[0])
            return _binary(op, operands[0], operands[1])
        except ExprMathError as exc:
            lx.error(f"{exc} (at {op if op != 'neg' else '-'!r})", pos)
    depth = 1 + max(_depth(x) for x in operands)
    if depth > MAX_DEPTH:
        _too_deep(lx, pos)
    return (op, depth, *operands)


def _too_deep(lx: Lexer, pos: int) -> NoReturn:
    lx.error(f"expression nested more than {MAX_DEPTH} levels deep", pos)


def to_float(lx: Lexer) -> float:
    """Return the current ``real``/``int`` token as a float (without consuming it)."""
    value = float(lx.value)
    if not math.isfinite(value):
        lx.error(f"number {lx.describe()} is too large")
    return value


def parse_expression(lx: Lexer, names: dict[str, int] | None = None) -> Expr:
    """Parse one expression at the lexer's token; ``names`` maps gate parameters to indices."""
    return _sum(lx, names, 0)


def parse_parameters(lx: Lexer, names: dict[str, int] | None = None) -> list[Expr]:
    """Parse an optional parenthesised parameter list (``()`` or none: no parameters)."""
    if lx.kind != "(":
        return []
    lx.advance()
    params = []
    if lx.kind != ")":
        params.append(_sum(lx, names, 0))
        while lx.kind == ",":
            lx.advance()
            params.append(_sum(lx, names, 0))
    lx.expect(")", "')' or ',' in the parameter list")
    return params


def _sum(lx: Lexer, names: dict[str, int] | None, depth: int) -> Expr:
    left = _product(lx, names, depth)
    while lx.kind in ("+", "-"):
        op, pos = lx.kind, lx.start
        lx.advance()
        left = _node(lx, pos, op, left, _product(lx, names, depth))
    return left


def _product(lx: Lexer, names: dict[str, int] | None, depth: int) -> Expr:
    left = _unary(lx, names, depth)
    while lx.kind in ("*", "/"):
        op, pos = lx.kind, lx.start
        lx.advance()
        left = _node(lx, pos, op, left, _unary(lx, names, depth))
    return left


def _unary(lx: Lexer, names: dict[str, int] | None, depth: int) -> Expr:
    if lx.kind in ("-", "+"):
        op, pos = lx.kind, lx.start
        if depth >= MAX_DEPTH:
            _too_deep(lx, pos)
        lx.advance()
        operand = _unary(lx, names, depth + 1)
        return operand if op == "+" else _node(lx, pos, "neg", operand)
    base = _atom(lx, names, depth)
    if lx.kind != "^":
        return base
    pos = lx.start
    if depth >= MAX_DEPTH:
        _too_deep(lx, pos)
    lx.advance()
    # right-associative, and the exponent may carry a sign: 2^-1
    return _node(lx, pos, "^", base, _unary(lx, names, depth + 1))


def _atom(lx: Lexer, names: dict[str, int] | None, depth: int) -> Expr:
    kind = lx.kind
    if kind in ("real", "int"):
        value = to_float(lx)
        lx.advance()
        return value
    if kind == "(":
        if depth >= MAX_DEPTH:
            _too_deep(lx, lx.start)
        lx.advance()
        inner = _sum(lx, names, depth + 1)
        lx.expect(")", "')' closing the parenthesis")
        return inner
    if kind == "id":
        name, pos = lx.value, lx.start
        if name == "pi":
            lx.advance()
            return math.pi
        if name in FUNCTIONS:
            if depth >= MAX_DEPTH:
                _too_deep(lx, pos)
            lx.advance()
            lx.expect("(", f"'(' after {name}")
            arg = _sum(lx, names, depth + 1)
            lx.expect(")", f"')' closing {name}(")
            return _node(lx, pos, name, arg)
        if names is not None and name in names:
            lx.advance()
            return names[name]
        if names is None:
            lx.error(
                f"unknown identifier {name!r} in an expression (outside a gate body only "
                "numbers, pi and sin/cos/tan/exp/ln/sqrt are allowed)"
            )
        lx.error(f"unknown identifier {name!r} in an expression: not a parameter of this gate")
    raise lx.fail(f"expected an expression, found {lx.describe()}")
