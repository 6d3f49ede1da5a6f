"""The QASMBench corpus (../shared/corpus/qasmbench): what parses, what fails, and where."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from qmon_jupyter.circuits import QasmError, from_qiskit, parse_qasm, to_qasm

from .conftest import MID_CIRCUIT, PARSING, UNDECLARED_Q

qasm2 = pytest.importorskip("qiskit.qasm2")
quantum_info = pytest.importorskip("qiskit.quantum_info")


def qiskit_reads(text: str):
    return qasm2.loads(text, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)


def read(qasmbench_dir, name: str) -> tuple[str, str]:
    path = qasmbench_dir / f"{name}.qasm"
    if not path.exists():
        pytest.skip(f"{path.name} is not in the corpus folder")
    return path.read_text(encoding="utf-8"), str(path)


def test_corpus_folder_holds_the_43_programs_design_md_names(qasmbench_dir):
    found = {p.stem for p in qasmbench_dir.glob("*.qasm")}
    assert found == set(PARSING) | {name for name, _, _ in UNDECLARED_Q}
    assert len(found) == 43


@pytest.mark.parametrize("name", PARSING)
def test_corpus_program_parses(qasmbench_dir, name):
    text, path = read(qasmbench_dir, name)
    circuit = parse_qasm(text, filename=path)
    assert circuit.num_qubits > 0
    assert len(circuit) > 0
    assert circuit.name == name


@pytest.mark.parametrize(("name", "line", "column"), UNDECLARED_Q)
def test_corpus_program_with_undeclared_register_fails_at_its_first_use(
    qasmbench_dir, name, line, column
):
    text, path = read(qasmbench_dir, name)
    with pytest.raises(QasmError, match="undeclared register 'q'") as info:
        parse_qasm(text, filename=path)
    assert (info.value.line, info.value.column) == (line, column)
    assert info.value.filename == path
    assert text.splitlines()[line - 1][column - 1 :].startswith("q[0]")


@pytest.mark.parametrize("name", PARSING)
def test_corpus_program_reads_as_qiskit_reads_it(qasmbench_dir, name):
    text, path = read(qasmbench_dir, name)
    mine = parse_qasm(text, filename=path)
    theirs = from_qiskit(qiskit_reads(text))
    assert (mine.num_qubits, mine.num_clbits) == (theirs.num_qubits, theirs.num_clbits)
    assert mine.instructions == theirs.instructions


@pytest.mark.parametrize("name", [n for n in PARSING if n not in MID_CIRCUIT])
def test_corpus_program_has_qiskit_statevector(qasmbench_dir, name, to_reference, fidelity):
    text, path = read(qasmbench_dir, name)
    reference = qiskit_reads(text).remove_final_measurements(inplace=False)
    mine = to_reference(parse_qasm(text, filename=path))
    expected = quantum_info.Statevector(reference).data
    assert fidelity(quantum_info.Statevector(mine).data, expected) >= 1 - 1e-10


@pytest.mark.parametrize("name", PARSING)
def test_corpus_program_round_trips_through_to_qasm(qasmbench_dir, name):
    text, path = read(qasmbench_dir, name)
    circuit = parse_qasm(text, filename=path)
    assert parse_qasm(to_qasm(circuit), filename=path) == circuit


@pytest.mark.parametrize("name", ["qft_n4", "adder_n10", "hhl_n7", "pea_n5"])
def test_corpus_program_simulates_like_qiskit_on_the_engine(qasmbench_dir, name, fidelity):
    engine = pytest.importorskip("qmon_jupyter.engine")
    text, path = read(qasmbench_dir, name)
    reference = qiskit_reads(text).remove_final_measurements(inplace=False)
    state = engine.simulate_statevector(parse_qasm(text, filename=path))
    expected = quantum_info.Statevector(reference).data
    assert fidelity(np.asarray(state), expected) >= 1 - 1e-10


def test_corpus_circuit_without_a_filename_has_no_name(qasmbench_dir):
    text, _ = read(qasmbench_dir, "bell_n4")
    assert dataclasses.replace(parse_qasm(text), name="bell_n4") == parse_qasm(
        text, filename="bell_n4.qasm"
    )
