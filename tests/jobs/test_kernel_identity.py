"""Inside a real Jupyter kernel, jobs carry the kernel's id (from its connection file)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_jobs_in_a_kernel_carry_its_id_and_loops_are_monitored(tmp_path):
    import uuid

    from jupyter_client.manager import KernelManager

    # Named as the Jupyter server names connection files.
    kernel_id = str(uuid.uuid4())
    km = KernelManager(
        kernel_name="python3", connection_file=str(tmp_path / f"kernel-{kernel_id}.json")
    )
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        code = (
            "import qmon_jupyter as qmon\n"
            "total = sum(qmon.progress(range(10), name='cell loop'))\n"
            "job = qmon.get_manager().jobs()[-1]\n"
            "print(qmon.get_manager().kernel_id, job.status, total, job.type)\n"
        )
        reply = kc.execute_interactive(code, timeout=60, output_hook=_collect)
        assert reply["content"]["status"] == "ok", reply["content"]
        seen_id, status, total, job_type = _collect.lines[-1].split()
        assert seen_id == kernel_id
        assert Path(km.connection_file).name == f"kernel-{kernel_id}.json"
        assert (status, total, job_type) == ("completed", "45", "analysis")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def _collect(msg: dict) -> None:
    if msg["msg_type"] == "stream":
        _collect.lines.extend(msg["content"]["text"].splitlines())


_collect.lines = []
