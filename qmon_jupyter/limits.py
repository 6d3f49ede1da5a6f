"""How much memory this process may use: the container's limit where one is set, else the host's.

On JupyterHub or Kubernetes a pod's limit is far below the host's memory,
and a simulation that passes a host-based check gets the pod OOM-killed.
The limit is read, in this order, from the process's cgroup (v2
``memory.max``/``memory.current``, or v1 ``memory.limit_in_bytes``/
``memory.usage_in_bytes``, the tightest of the cgroup and its ancestors),
from ``MEM_LIMIT`` (bytes, as jupyter-resource-usage reads it), else from
the host (psutil).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MemoryStatus", "memory_status"]

#: cgroup v1 writes "no limit" as a huge number (PAGE_COUNTER_MAX pages)
_V1_UNLIMITED = 1 << 60


@dataclass(frozen=True)
class MemoryStatus:
    """Memory this process may use now.

    Attributes
    ----------
    total
        The limit in bytes (the host's memory when no limit is set).
    available
        Bytes that can still be allocated: the limit less what is used,
        never more than the host has available.
    source
        Where the limit comes from: ``"cgroup v2"``, ``"cgroup v1"``,
        ``"MEM_LIMIT"`` or ``"host"``.
    """

    total: int
    available: int
    source: str


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    if not text or text == "max":
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _cgroup_paths(proc_cgroup: Path) -> dict[str, str]:
    """Map each controller to this process's cgroup path (``""``: the v2 hierarchy)."""
    paths: dict[str, str] = {}
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return paths
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) == 3:
            for controller in parts[1].split(","):
                paths[controller] = parts[2]
    return paths


def _tightest(root: Path, path: str, limit_file: str, usage_file: str) -> tuple[int, int] | None:
    """(limit, usage) of the cgroup at ``path`` under ``root`` or its tightest ancestor."""
    best: tuple[int, int] | None = None
    here = root / path.lstrip("/")
    while True:
        limit = _read_int(here / limit_file)
        if limit is not None and limit < _V1_UNLIMITED:
            usage = _read_int(here / usage_file) or 0
            if best is None or limit - usage < best[0] - best[1]:
                best = (limit, usage)
        if here == root or root not in here.parents:
            return best
        here = here.parent


def memory_status(
    *, proc_cgroup: Path = Path("/proc/self/cgroup"), cgroup_root: Path = Path("/sys/fs/cgroup")
) -> MemoryStatus:
    """Return the memory this process may use (see the module's docstring for the order)."""
    import psutil

    host = psutil.virtual_memory()
    paths = _cgroup_paths(proc_cgroup)
    found: tuple[int, int] | None = None
    source = "host"
    if "" in paths:
        for root in (cgroup_root, cgroup_root / "unified"):
            found = _tightest(root, paths[""], "memory.max", "memory.current")
            if found is not None:
                source = "cgroup v2"
                break
    if found is None and "memory" in paths:
        found = _tightest(
            cgroup_root / "memory",
            paths["memory"],
            "memory.limit_in_bytes",
            "memory.usage_in_bytes",
        )
        source = "cgroup v1" if found is not None else source
    if found is None:
        env = os.environ.get("MEM_LIMIT", "").strip()
        if env.isdigit() and int(env) > 0:
            found = (int(env), psutil.Process().memory_info().rss)
            source = "MEM_LIMIT"
    if found is None:
        return MemoryStatus(int(host.total), int(host.available), "host")
    limit, usage = found
    total = min(int(host.total), limit)
    return MemoryStatus(total, max(0, min(int(host.available), limit - usage)), source)
