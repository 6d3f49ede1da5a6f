"""Container memory limits: cgroup v2 and v1 files, MEM_LIMIT, and a real cgroup where allowed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from qmon_jupyter.kernel import ResourceMonitor
from qmon_jupyter.limits import memory_status

GIB = 1 << 30


def _write(root: Path, rel: str, name: str, text: str) -> None:
    folder = root / rel
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)


def test_a_cgroup_v2_limit_set_on_an_ancestor_is_found(tmp_path):
    proc = tmp_path / "cgroup"
    proc.write_text("0::/kubepods/pod1/container\n")
    root = tmp_path / "fs"
    _write(root, "kubepods/pod1", "memory.max", str(2 * GIB))
    _write(root, "kubepods/pod1", "memory.current", str(GIB // 2))
    _write(root, "kubepods/pod1/container", "memory.max", "max")
    status = memory_status(proc_cgroup=proc, cgroup_root=root)
    assert status.source == "cgroup v2"
    assert status.total == 2 * GIB
    assert status.available == min(psutil.virtual_memory().available, 2 * GIB - GIB // 2)


def test_a_cgroup_v1_limit_counts_its_usage(tmp_path):
    proc = tmp_path / "cgroup"
    proc.write_text("4:memory:/job\n1:cpu:/\n0::/\n")
    root = tmp_path / "fs"
    _write(root, "memory/job", "memory.limit_in_bytes", str(GIB))
    _write(root, "memory/job", "memory.usage_in_bytes", str(GIB // 4))
    status = memory_status(proc_cgroup=proc, cgroup_root=root)
    assert (status.source, status.total) == ("cgroup v1", GIB)
    assert status.available == min(psutil.virtual_memory().available, GIB - GIB // 4)


def test_an_unlimited_cgroup_falls_back_to_mem_limit_then_the_host(tmp_path, monkeypatch):
    proc = tmp_path / "cgroup"
    proc.write_text("4:memory:/job\n")
    root = tmp_path / "fs"
    _write(root, "memory/job", "memory.limit_in_bytes", "9223372036854771712")
    monkeypatch.delenv("MEM_LIMIT", raising=False)
    assert memory_status(proc_cgroup=proc, cgroup_root=root).source == "host"
    monkeypatch.setenv("MEM_LIMIT", str(3 * GIB))
    rss_before = psutil.Process().memory_info().rss
    status = memory_status(proc_cgroup=proc, cgroup_root=root)
    rss_after = psutil.Process().memory_info().rss
    assert (status.source, status.total) == (
        "MEM_LIMIT",
        min(3 * GIB, psutil.virtual_memory().total),
    )
    # the process's own use counts against the limit; its RSS moves while other
    # threads run, so compare with the smaller of the readings around the call
    assert status.available <= 3 * GIB - min(rss_before, rss_after)


def test_the_resource_samples_report_the_container_limit(monkeypatch):
    monkeypatch.setenv("MEM_LIMIT", str(GIB))
    # the real cgroup of this process has no limit here; MEM_LIMIT is the next source
    if memory_status().source.startswith("cgroup"):
        pytest.skip("this process already runs under a cgroup memory limit")
    sample = ResourceMonitor(interval=60).sample()
    assert (sample["total_bytes"], sample["memory_limit"]) == (GIB, "MEM_LIMIT")
    assert sample["available_bytes"] <= GIB


@pytest.fixture
def memory_cgroup():
    """A real cgroup v1 memory group limited to 1 GiB (root, writable hierarchy only)."""
    folder = Path("/sys/fs/cgroup/memory") / f"qmon-test-{os.getpid()}"
    try:
        folder.mkdir()
        (folder / "memory.limit_in_bytes").write_text(str(GIB))
    except OSError as exc:
        pytest.skip(f"cannot make a memory cgroup here ({exc}); the file-based tests cover it")
    try:
        yield folder
    finally:
        folder.rmdir()


def test_a_process_in_a_real_memory_cgroup_sees_its_limit(memory_cgroup):
    code = (
        "import os, sys\n"
        "open(sys.argv[1] + '/cgroup.procs', 'w').write(str(os.getpid()))\n"
        "from qmon_jupyter.limits import memory_status\n"
        "s = memory_status(); print(s.source, s.total, s.available, sep='|')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(memory_cgroup)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    source, total, available = out.stdout.strip().split("|")
    assert (source, int(total)) == ("cgroup v1", GIB)
    assert 0 < int(available) < GIB


def test_the_engine_refuses_a_simulation_the_container_limit_cannot_hold(monkeypatch):
    from qmon_jupyter import ResourceError
    from qmon_jupyter.engine import prepare

    if memory_status().source.startswith("cgroup"):
        pytest.skip("this process already runs under a cgroup memory limit")
    monkeypatch.setenv("MEM_LIMIT", str(GIB))
    ghz = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[27];\nh q[0];\n'  # 2 GiB of state
    with pytest.raises(ResourceError, match="MEM_LIMIT memory limit") as err:
        prepare(ghz)
    assert err.value.needed_bytes > GIB > err.value.available_bytes
    monkeypatch.delenv("MEM_LIMIT")
    assert prepare(ghz, check_memory=True).num_qubits == 27  # the host has room for it
