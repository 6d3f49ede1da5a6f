"""A job owns its state: no module but jobs/job.py reaches into a job's private fields."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "qmon_jupyter"


def _private_uses(path: Path, names: set[str]) -> list[str]:
    """``name._x`` uses in ``path`` for each ``name`` in ``names`` (``self`` is never one)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and isinstance(node.value, ast.Name | ast.Attribute)
            and (node.value.id if isinstance(node.value, ast.Name) else node.value.attr) in names
        ):
            found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_only_the_job_touches_its_private_fields():
    uses = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel == "jobs/job.py":
            continue
        uses += _private_uses(path, {"job", "j", "other"})
    assert uses == []


def test_a_poll_uses_only_the_monitors_interface():
    assert _private_uses(PACKAGE / "providers" / "_polling.py", {"monitor"}) == []
