"""Circuits: the IR, the OpenQASM 2 reader and writer, and the Qiskit conversion."""

from qmon_jupyter.errors import QasmError

from .export import to_qasm
from .ir import Circuit, Condition, Instruction, circuit_from_dict, circuit_to_dict
from .qasm2 import parse_qasm
from .qiskit_convert import from_qiskit, to_circuit

__all__ = [
    "Circuit",
    "Condition",
    "Instruction",
    "QasmError",
    "circuit_from_dict",
    "circuit_to_dict",
    "from_qiskit",
    "parse_qasm",
    "to_circuit",
    "to_qasm",
]
