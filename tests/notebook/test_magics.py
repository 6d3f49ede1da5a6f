"""The magics in a real IPython shell: %load_ext before each test, %reset -f after."""

from __future__ import annotations

import re

import pytest
from IPython.utils.capture import capture_output

from qmon_jupyter.kernel import get_manager
from qmon_jupyter.widget import JobWidget

from .._support import BELL, wait_until


def run(ip, source):
    with capture_output() as captured:
        result = ip.run_cell(source)
    return result, captured


def job_count():
    return len(get_manager().jobs())


def assert_usage_error(ip, source, *expected):
    before = job_count()
    result, captured = run(ip, source)
    assert result.error_in_exec is None, "a usage error prints, it does not raise"
    assert result.result is None
    text = captured.stdout + captured.stderr
    for piece in expected:
        assert piece in text, text
    assert "Nothing was started." in text
    assert job_count() == before
    return text


def test_cell_magic_returns_at_once_with_a_live_job_widget(ip):
    result, _ = run(ip, f"%%qmon --shots 3000 --name bell --seed 11 --out job\n{BELL}")
    widget = result.result
    assert isinstance(widget, JobWidget)
    job = ip.user_ns["job"]
    assert widget.execution_job is job
    assert job.name == "bell"
    assert job.wait(30)
    assert wait_until(lambda: widget.job.get("status") == "completed")
    assert sum(job.result().counts.values()) == 3000
    assert set(job.result().counts) == {"00", "11"}
    widget.close()


def test_a_quoted_name_keeps_its_spaces_and_loses_its_quotes(ip):
    result, _ = run(ip, f'%%qmon --shots 10 --name "my <b>job</b>" --out q\n{BELL}')
    assert ip.user_ns["q"].name == "my <b>job</b>"
    result.result.close()


def test_same_seed_same_counts(ip):
    run(ip, f"%%qmon --shots 500 --seed 5 --batch-size 100 --out a --wait\n{BELL}")
    run(ip, f"%%qmon --shots 500 --seed 5 --batch-size 100 --out b --wait\n{BELL}")
    a, b = ip.user_ns["a"], ip.user_ns["b"]
    assert str(a.status) == "completed"
    assert a.result().counts == b.result().counts


def test_wait_returns_after_the_job_ended(ip):
    result, _ = run(ip, f"%%qmon --shots 200 --wait\n{BELL}")
    assert result.result.execution_job.status.is_terminal


def test_an_out_name_that_is_not_a_variable_starts_nothing(ip):
    assert_usage_error(ip, f"%%qmon --out 1x\n{BELL}", "--out needs a Python variable name")


def test_an_empty_cell_explains_and_starts_nothing(ip):
    assert_usage_error(ip, "%%qmon --shots 10\n\n   \n", "The cell is empty", "--shots")


@pytest.mark.parametrize("source", ["%%qmon", "%%qmon --shots 10\n", "%%qmon\n\n"])
def test_a_cell_with_nothing_below_the_magic_gets_qmons_message(ip, source):
    text = assert_usage_error(ip, source, "The cell is empty")
    assert "line magic" not in text  # not IPython's generic message


def test_usage_errors_show_the_usage_line_not_the_whole_help(ip):
    text = assert_usage_error(ip, f"%%qmon --frobnicate 3\n{BELL}", "unrecognized arguments")
    assert len(text.strip().splitlines()) <= 12
    assert "::" not in text
    assert "``" not in text
    text = assert_usage_error(ip, "%qmon frobnicate", "Unknown command")
    assert "%qmon_line" not in text


def test_a_cell_that_is_not_openqasm_says_where(ip):
    text = assert_usage_error(ip, "%%qmon\nprint('hello')\n", "not a valid OpenQASM 2 program")
    assert "line 2 of the cell, column 1" in text


def test_a_qasm_error_shows_line_and_column_within_the_cell(ip):
    bad = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\nh q[3];\n'
    # counted as the editor counts: the %%qmon line is line 1
    text = assert_usage_error(ip, f"%%qmon\n{bad}", "line 5 of the cell, column 5", "out of range")
    assert "    h q[3];\n        ^" in text


def test_unknown_flags_print_the_help(ip):
    source = f"%%qmon --frobnicate 3\n{BELL}"
    assert_usage_error(ip, source, "unrecognized arguments", "--batch-size")


@pytest.mark.parametrize("shots", ["0", "-5"])
def test_zero_or_negative_shots_are_refused(ip, shots):
    assert_usage_error(ip, f"%%qmon --shots {shots}\n{BELL}", "--shots must be a positive")


def test_shots_must_be_a_number(ip):
    assert_usage_error(ip, f"%%qmon --shots many\n{BELL}", "invalid int value")


def test_run_submits_a_circuit_from_the_namespace(ip):
    from qmon_jupyter.circuits import parse_qasm

    ip.user_ns["circ"] = parse_qasm(BELL)
    result, _ = run(ip, "%qmon run circ --shots 300 --name from-var --wait")
    job = result.result.execution_job
    assert job.name == "from-var"
    assert sum(job.result().counts.values()) == 300
    result.result.close()


def test_run_takes_a_qiskit_circuit(ip):
    qiskit = pytest.importorskip("qiskit")
    qc = qiskit.QuantumCircuit(2, 2)
    qc.x(0)
    qc.measure([0, 1], [0, 1])
    ip.user_ns["qc"] = qc
    result, _ = run(ip, "%qmon run qc --shots 100 --wait")
    assert result.result.execution_job.result().counts == {"01": 100}
    result.result.close()


def test_run_of_something_that_is_not_a_circuit_explains(ip):
    ip.user_ns["x"] = 42
    assert_usage_error(ip, "%qmon run x", "'x' is a int, not a circuit")


def test_run_of_a_missing_variable_explains(ip):
    assert_usage_error(ip, "%qmon run nowhere", "no variable named 'nowhere'")


def test_dashboard_magic_returns_the_kernels_dashboard(ip):
    import qmon_jupyter

    result, _ = run(ip, "%qmon dashboard")
    assert result.result is qmon_jupyter.get_dashboard()


def test_jobs_magic_lists_the_jobs(ip):
    run(ip, f"%%qmon --shots 50 --name listed --wait\n{BELL}")
    _, captured = run(ip, "%qmon jobs")
    assert "listed" in captured.stdout
    assert "STATUS" in captured.stdout


def test_cancel_magic_cancels_a_running_job(ip):
    import threading

    release = threading.Event()

    def blocked(reporter, token):
        while not release.wait(0.01):
            token.check()

    job = get_manager().submit_function(blocked, name="to cancel")
    try:
        _, captured = run(ip, f"%qmon cancel {job.id}")
        assert job.wait(10)
        assert str(job.status) == "cancelled"
        assert "cancelled" in captured.stdout
    finally:
        release.set()


def test_cancel_of_an_unknown_id_explains(ip):
    assert_usage_error(ip, "%qmon cancel 000000000000", "No job with id '000000000000'")


def test_unknown_command_explains(ip):
    assert_usage_error(ip, "%qmon explode", "Unknown command 'explode'")


def test_unload_removes_the_magics(shell):
    shell.run_line_magic("load_ext", "qmon_jupyter")
    assert "qmon" in shell.magics_manager.magics["cell"]
    shell.run_line_magic("unload_ext", "qmon_jupyter")
    assert "qmon" not in shell.magics_manager.magics["cell"]
    assert "qmon" not in shell.magics_manager.magics["line"]


def test_jobs_lists_active_and_recent_jobs_within_a_screen(ip):
    from qmon_jupyter.kernel import get_manager

    manager = get_manager()
    done = [manager.submit_function(lambda r, t: None, name=f"done {i}") for i in range(25)]
    for job in done:
        assert job.wait(30)
    _, captured = run(ip, "%qmon jobs")
    lines = captured.stdout.strip().splitlines()
    assert len(lines) <= 1 + 20 + 10 + 1  # header, active, recent, summary
    assert "done 24" in captured.stdout  # the newest finished is shown
    assert "done 0 " not in captured.stdout + " "
    assert re.match(r"Showing \d+ of \d+ jobs \(\d+ active", lines[-1]), lines[-1]


def test_precision_single_runs_in_complex64_and_is_in_the_snapshot(ip):
    result, _ = run(ip, f"%%qmon --shots 400 --seed 3 --precision single --out s --wait\n{BELL}")
    job = ip.user_ns["s"]
    assert job.snapshot()["precision"] == "single"
    assert set(job.result().counts) == {"00", "11"}
    result.result.close()
    assert_usage_error(ip, f"%%qmon --precision half\n{BELL}", "invalid choice: 'half'")


def test_jobs_caps_long_names_with_an_ellipsis(ip):
    job = get_manager().submit_function(lambda r, t: None, name="n" * 300)
    assert job.wait(30)
    _, captured = run(ip, "%qmon jobs")
    (line,) = [line for line in captured.stdout.splitlines() if job.id in line]
    assert "n" * 39 + "…" in line
    assert "n" * 41 not in line
