"""``python -m qmon_jupyter run``: counts, JSON, progress, errors and Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from qmon_jupyter.__main__ import SUBCOMMANDS, build_parser, main

from .._support import BELL


def _qmon(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qmon_jupyter", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def bell(tmp_path):
    path = tmp_path / "bell.qasm"
    path.write_text(BELL)
    return path


def _long_program(tmp_path, n: int = 16):
    lines = [
        "OPENQASM 2.0;",
        'include "qelib1.inc";',
        f"qreg q[{n}];",
        f"creg c[{n}];",
        "h q;",
        "measure q -> c;",
    ]
    path = tmp_path / "long.qasm"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_run_prints_counts_most_frequent_first(bell):
    result = _qmon("run", str(bell), "--shots", "1000", "--seed", "7")
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines()]
    assert {key for key, _ in lines} == {"00", "11"}
    counts = [int(c) for _, c in lines]
    assert counts == sorted(counts, reverse=True)
    assert sum(counts) == 1000
    assert "seed 7" in result.stderr


def test_json_output_is_reproducible_with_a_seed(bell):
    first = _qmon("run", str(bell), "--shots", "500", "--seed", "3", "--json")
    second = _qmon("run", str(bell), "--shots", "500", "--seed", "3", "--json")
    assert first.returncode == 0, first.stderr
    doc = json.loads(first.stdout)
    assert doc["shots"] == 500
    assert doc["seed"] == 3
    assert sum(doc["counts"].values()) == 500
    assert json.loads(second.stdout)["counts"] == doc["counts"]


def test_bad_qasm_prints_file_line_column_and_exits_2(tmp_path):
    path = tmp_path / "bad.qasm"
    path.write_text('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\nh r[0];\n')
    result = _qmon("run", str(path))
    assert result.returncode == 2
    assert f"{path}:4:" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_file_exits_2_with_a_clear_message(tmp_path):
    result = _qmon("run", str(tmp_path / "nope.qasm"))
    assert result.returncode == 2
    assert "no such file" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("shots", ["0", "-3"])
def test_bad_shots_exit_2(bell, shots):
    result = _qmon("run", str(bell), "--shots", shots)
    assert result.returncode == 2
    assert "shots must be a positive integer" in result.stderr


def test_non_integer_shots_is_a_usage_error(bell):
    result = _qmon("run", str(bell), "--shots", "1.5")
    assert result.returncode == 2
    assert "invalid int value" in result.stderr


def test_progress_always_shows_a_bar_with_rate_and_eta(tmp_path):
    path = _long_program(tmp_path)
    result = _qmon(
        "run",
        str(path),
        "--shots",
        "2000000",
        "--batch-size",
        "100000",
        "--progress",
        "always",
        "--seed",
        "1",
        "--top",
        "3",
    )
    assert result.returncode == 0, result.stderr
    assert "shots/s" in result.stderr
    assert "ETA" in result.stderr
    assert len(result.stdout.splitlines()) == 3


def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path):
    path = _long_program(tmp_path)
    result = _qmon("run", str(path), "--shots", "2000000", "--batch-size", "50000", "--top", "1")
    assert result.returncode == 0, result.stderr
    assert "ETA" not in result.stderr


@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT")
def test_ctrl_c_cancels_between_batches_with_exit_130(tmp_path):
    path = _long_program(tmp_path)
    with subprocess.Popen(
        [
            sys.executable,
            "-m",
            "qmon_jupyter",
            "run",
            str(path),
            "--shots",
            str(10**11),
            "--batch-size",
            "100000",
            "--progress",
            "always",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        err: list[str] = []
        reader = threading.Thread(
            target=lambda: err.extend(iter(lambda: proc.stderr.read(1), "")), daemon=True
        )
        reader.start()
        try:
            deadline = time.monotonic() + 60
            while "shots/s" not in "".join(err) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert "shots/s" in "".join(err), "the run never showed progress"
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        reader.join(timeout=10)
    assert proc.returncode == 130
    assert "cancelled" in "".join(err)
    assert "Traceback" not in "".join(err)


def test_main_without_a_command_prints_help_and_returns_2(capsys):
    assert main([]) == 2
    assert "run" in capsys.readouterr().err


def test_commands_are_added_by_functions():
    assert all(callable(add) for add in SUBCOMMANDS)
    assert "run" in build_parser().format_help()
