"""The dashboard's search: one rule for the widget (in Python) and REST (in SQL).

A job matches a query when the query occurs in its name or its id, ignoring
the case of ASCII letters (what SQLite's ``lower()`` folds), so the kernel's
filter and the store's answer the same for the same jobs.
"""

from __future__ import annotations

import string
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["MAX_QUERY", "SEARCH_SQL", "fold", "search_args", "search_matches"]

#: the longest query REST and the widget accept
MAX_QUERY = 200
_FOLD = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)

#: WHERE condition of the ``jobs`` table for a query (arguments: :func:`search_args`)
SEARCH_SQL = "(instr(lower(coalesce(name, '')), ?) > 0 OR instr(lower(id), ?) > 0)"


def fold(text: str) -> str:
    """Lower-case the ASCII letters of ``text`` (as SQLite's ``lower()`` does)."""
    return text.translate(_FOLD)


def search_args(query: str) -> list[str]:
    """Return the arguments of :data:`SEARCH_SQL` for ``query``."""
    folded = fold(query)
    return [folded, folded]


def search_matches(snapshot: Mapping[str, Any], query: str) -> bool:
    """Whether ``query`` occurs in the snapshot's name or id (an empty query matches all)."""
    if not query:
        return True
    folded = fold(query)
    name = snapshot.get("name")
    return folded in fold(str(name or "")) or folded in fold(str(snapshot.get("id") or ""))
