"""How a user's text is shown: job names capped with an ellipsis, durations in words.

The snapshot always keeps the full name; every view (the widget's rows,
``%qmon jobs``, a job's repr, notification titles, the JS renderer through
the vocabulary) shows at most :data:`NAME_MAX` characters of it.
"""

from __future__ import annotations

__all__ = ["NAME_MAX", "format_seconds", "short_name"]

#: the most characters of a job's name any view shows
NAME_MAX = 80


def short_name(name: object, limit: int = NAME_MAX) -> str:
    """``name`` as text of at most ``limit`` characters, ending in "…" when cut."""
    text = str(name)
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + "…"


def format_seconds(seconds: float) -> str:
    """Write a duration as a person reads it: "850 ms", "12.3 s", "4m 05s", "3d 04h".

    The same rule as the renderer's ``formatDuration`` (js/src/render/format.js).
    """
    if seconds < 1:
        return f"{max(round(seconds * 1000), 0)} ms"
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{round(seconds)} s"
    total = round(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"
