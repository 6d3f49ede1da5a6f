"""``%load_ext qmon_jupyter`` turns autotrack on; ``%qmon autotrack on|off`` switches it."""

from __future__ import annotations

import pytest
from IPython.utils.capture import capture_output

from qmon_jupyter.kernel import get_manager
from qmon_jupyter.providers.autotrack import autotracking

from .._support import wait_until

pytest.importorskip("qiskit_aer")


def run(ip, source):
    with capture_output() as captured:
        result = ip.run_cell(source)
    assert result.error_in_exec is None, result.error_in_exec
    return captured.stdout + captured.stderr


def aer_run():
    from qiskit_aer.backends.aerbackend import AerBackend

    return vars(AerBackend)["run"]


def test_load_ext_turns_autotrack_on_and_an_aer_job_is_tracked(ip):
    assert autotracking()
    before = {j.id for j in get_manager().jobs()}
    run(
        ip,
        "from qiskit import QuantumCircuit\n"
        "from qiskit_aer import AerSimulator\n"
        "qc = QuantumCircuit(2, name='from a cell')\n"
        "qc.h(0); qc.cx(0, 1); qc.measure_all()\n"
        "counts = AerSimulator().run(qc, shots=500).result().get_counts()\n",
    )
    new = [j for j in get_manager().jobs() if j.id not in before]
    assert [j.name for j in new] == ["from a cell"]
    assert new[0].wait(30)
    assert wait_until(lambda: str(new[0].status) == "completed", 30)
    assert new[0].result().counts == ip.user_ns["counts"]


def test_autotrack_off_restores_aer_and_on_hooks_it_again(ip):
    hooked = aer_run()
    text = run(ip, "%qmon autotrack off")
    assert "Autotrack is off" in text
    assert not autotracking()
    original = aer_run()
    assert original is not hooked
    assert getattr(original, "__wrapped__", None) is None  # the library's own function
    text = run(ip, "%qmon autotrack on")
    assert "Autotrack is on" in text
    assert autotracking()
    assert aer_run() is not original


def test_autotrack_alone_says_whether_it_is_on(ip):
    assert "Autotrack is on" in run(ip, "%qmon autotrack")
    run(ip, "%qmon autotrack off")
    assert "Autotrack is off" in run(ip, "%qmon autotrack")


def test_a_wrong_switch_is_a_usage_error_that_changes_nothing(ip):
    text = run(ip, "%qmon autotrack maybe")
    assert "%qmon autotrack takes on or off, got 'maybe'." in text
    assert "Nothing was started." in text
    assert autotracking()


def test_unload_ext_turns_autotrack_off(shell):
    shell.run_line_magic("load_ext", "qmon_jupyter")
    assert autotracking()
    shell.run_line_magic("unload_ext", "qmon_jupyter")
    assert not autotracking()
    assert getattr(aer_run(), "__wrapped__", None) is None
