"""Reading a program a block of lines at a time, through the line memo.

The text is split into lines a block at a time (about :data:`BLOCK`
characters) and looked up in the reader's line memo by ``map``, so a
remembered line costs no Python-level work but extending the circuit. A
line of one statement of the fast path's forms is matched whole
(:data:`~._fast.LINE_RE`); any other line is read statement by statement,
through the statement memo, the fast path or the tokens.
"""

from __future__ import annotations

import re
from itertools import islice
from operator import length_hint
from typing import TYPE_CHECKING

from ._fast import LINE_RE, STATEMENT_RE

if TYPE_CHECKING:
    from ._lexer import Lexer
    from ._reader import ProgramReader

__all__ = ["BLOCK", "LINE_MEMO_SIZE", "read_block", "read_line"]

#: Characters of text split into lines at once (then up to the end of a line).
BLOCK = 1 << 16
#: Most lines the line memo remembers before it is emptied.
LINE_MEMO_SIZE = 1 << 17

_INLINE_SKIP_RE = re.compile(r"(?:[ \t\r\f\v]+|//[^\n]*)*")  # blanks and comments, not "\n"
_BLANKS = frozenset(" \t\r\f\v/")  # what may start a stretch _INLINE_SKIP_RE skips


def read_block(
    self: ProgramReader, lx: Lexer, start: int, stop: int, first: bool
) -> tuple[int, bool]:
    """Read the lines of ``start:stop`` (``stop`` ends a line) and return where reading stopped.

    That is the start of a line after ``stop``, further on when a
    statement runs over the block's end; and whether no statement was read
    yet. Lines in the memo are used without a check of the limit while the
    longest ever remembered cannot reach it (a budget of lines); any other
    line is read by :meth:`line`.
    """
    text, out, limit = lx.text, self.out, self.max_instructions
    lines = text[start:stop].split("\n")
    count, rest = len(lines), iter(lines)
    hits, whole, quick = self.line_cache.get, LINE_RE.fullmatch, self.fast.statement
    index, offset = 0, start  # line `index` of the block starts at `offset`
    while True:
        budget = max(0, (limit - 1 - len(out)) // self.longest_line)
        for hit in map(hits, islice(rest, budget)):
            if hit is None:
                break
            out.extend(hit)
        else:
            if not length_hint(rest):
                return stop + 1, first
            hit = hits(next(rest))  # over budget: the limit is checked
            if hit is not None and len(out) + len(hit) < limit:
                out.extend(hit)
                continue
        taken = count - length_hint(rest) - 1
        m = whole(lines[taken])
        if m is not None:  # one statement of the fast path's forms
            made = quick(m, limit)
            if made is not None and len(out) + len(made) < limit:
                out.extend(made)
                self.line_cache.put(lines[taken], made)
                self.longest_line = max(self.longest_line, len(made))
                first = False
                continue
        offset += sum(map(len, lines[index:taken])) + taken - index
        pos, first = read_line(self, lx, offset, first)
        if pos > stop:
            return pos, first
        index = taken + text.count("\n", offset, pos)
        offset = pos
        if index > taken + 1:  # a statement ran over lines: skip them
            next(islice(rest, index - taken - 2, None))


def read_line(self: ProgramReader, lx: Lexer, pos: int, first: bool) -> tuple[int, bool]:
    """Read statements from the line start ``pos`` to the end of a line; return the next start.

    Also whether no statement was read yet. A line of pure statements is
    remembered, by its text, with the instructions it made.
    """
    text, out, limit = lx.text, self.out, self.max_instructions
    statements, quick, match = self.statement_cache, self.fast.statement, STATEMENT_RE.match
    end, line_start, before, pure = len(text), pos, len(out), True
    while True:
        char = text[pos : pos + 1]
        if char in _BLANKS:
            pos = _INLINE_SKIP_RE.match(text, pos).end()
            char = text[pos : pos + 1]
        if char == "\n":
            if pure:
                made = tuple(out[before:])
                self.line_cache.put(text[line_start:pos], made)
                self.longest_line = max(self.longest_line, len(made))
            return pos + 1, first
        if not char:
            return end + 1, first
        m = match(text, pos)
        if m is not None:
            key = m.group()
            hit = statements.get(key)
            if hit is None:
                hit = quick(m, limit)
                if hit is not None:
                    statements.put(key, hit)
            if hit is not None and len(out) + len(hit) < limit:
                out.extend(hit)
                pos, first = m.end(), False
                continue
        lx.seek(pos)
        pure = self.statement(lx, first) and pure
        first, pos = False, lx.end
