"""The package's layers import one way: read from the source, lazy imports included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "qmon_jupyter"

#: Bottom to top. A unit (sub-package or top-level module) may import units of
#: its own rank or below, never above; and no import goes round in a circle.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"_version", "errors", "core", "limits"}),
    frozenset({"circuits", "engine", "executors"}),
    frozenset({"jobs"}),
    frozenset({"store"}),
    frozenset({"dashboard_api"}),
    frozenset({"kernel", "server"}),
    frozenset({"providers", "qiskit"}),
    frozenset({"widget"}),
    frozenset({"magics", "__main__", "__init__"}),
)
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _module_of(path: Path) -> list[str]:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


class _Imports(ast.NodeVisitor):
    """Every import in a file, in functions too; ``if TYPE_CHECKING:`` blocks excluded."""

    def __init__(self) -> None:
        self.found: list[ast.Import | ast.ImportFrom] = []

    def visit_If(self, node: ast.If) -> None:
        if "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.found.append(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self.found.append(node)


def _targets(path: Path, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The package modules ``node`` imports (``from pkg import name`` counts ``pkg.name``)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        here = _module_of(path)
        package = here if path.name == "__init__.py" else here[:-1]
        base = ".".join([*package[: len(package) - node.level + 1], node.module or ""]).strip(".")
    else:
        base = node.module or ""
    return [base] + [f"{base}.{alias.name}" for alias in node.names]


def _edges() -> dict[tuple[str, str], str]:
    """(importing unit, imported unit) -> one file where it happens."""
    edges: dict[tuple[str, str], str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        source = _unit(".".join(_module_of(path)))
        visitor = _Imports()
        visitor.visit(ast.parse(path.read_text(encoding="utf-8")))
        for node in visitor.found:
            targets = _targets(path, node)
            if not targets[0].startswith(PACKAGE.name):
                continue
            if targets[0] == PACKAGE.name:  # from qmon_jupyter import x
                names = [t.split(".")[1] for t in targets[1:]]
                units = {n if n in RANK else "__init__" for n in names}
            else:
                units = {_unit(targets[0])}
            for unit in units - {source}:
                edges.setdefault((source, unit), str(path.relative_to(PACKAGE.parent)))
    return edges


EDGES = _edges()


def test_every_unit_of_the_package_has_a_layer():
    units = {_unit(".".join(_module_of(p))) for p in PACKAGE.rglob("*.py")} - {"static"}
    assert units <= set(RANK), f"give these a layer in LAYERS: {sorted(units - set(RANK))}"


@pytest.mark.parametrize(("source", "target"), sorted(EDGES))
def test_imports_go_down_the_layers(source, target):
    where = EDGES[(source, target)]
    assert RANK[target] <= RANK[source], f"{where}: {source} imports {target}, a layer above it"


def test_nothing_imports_the_cli_or_the_package_face():
    offenders = [
        f"{where} imports {t}" for (_, t), where in EDGES.items() if t in {"__main__", "__init__"}
    ]
    assert not offenders, offenders


def test_no_import_cycle_between_units():
    graph: dict[str, set[str]] = {}
    for source, target in EDGES:
        graph.setdefault(source, set()).add(target)
    # Depth-first search for a back edge: any cycle, of any length.
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(unit: str, path: list[str]) -> bool:
        state[unit] = 1
        for nxt in sorted(graph.get(unit, ())):
            if state.get(nxt) == 1:
                cycle.extend([*path[path.index(nxt) :], nxt] if nxt in path else [unit, nxt])
                return True
            if state.get(nxt) is None and visit(nxt, [*path, nxt]):
                return True
        state[unit] = 2
        return False

    for unit in sorted(graph):
        if state.get(unit) is None and visit(unit, [unit]):
            break
    assert not cycle, " -> ".join(cycle)


def test_the_checker_sees_lazy_imports_and_skips_type_checking_ones(tmp_path):
    path = PACKAGE / "jobs" / "job.py"
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from qmon_jupyter.widget import JobWidget\n"
        "def f():\n    from qmon_jupyter.kernel import get_manager\n"
    )
    visitor = _Imports()
    visitor.visit(tree)
    found = {t for node in visitor.found for t in _targets(path, node)}
    assert "qmon_jupyter.kernel" in found
    assert "qmon_jupyter.widget" not in found


#: A module past this many lines is usually two things (split it by responsibility).
MAX_MODULE_LINES = 500


def test_no_module_of_the_package_or_its_tests_is_over_the_line_limit():
    roots = (PACKAGE, PACKAGE.parent / "tests")
    long = {
        str(path.relative_to(PACKAGE.parent)): lines
        for root in roots
        for path in root.rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"over {MAX_MODULE_LINES} lines: {long}"
