"""Circuits: the IR, the OpenQASM 2 reader and the Qiskit conversion."""

from .ir import Circuit, Condition, Instruction, circuit_from_dict, circuit_to_dict

__all__ = ["Circuit", "Condition", "Instruction", "circuit_from_dict", "circuit_to_dict"]
