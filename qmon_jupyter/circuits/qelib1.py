"""The built-in ``qelib1.inc``: its gates, without reading the file.

``include "qelib1.inc";`` makes these names available. Each stays one
instruction of its own name in the IR (the engine has a matrix for each), so
the table only needs each gate's parameter and qubit counts, which
:data:`~qmon_jupyter.circuits.ir.GATE_ARITY` already holds. The set is the
current qelib1.inc (Qiskit's), which adds ``u``, ``p``, ``sx``, ``sxdg``,
``swap``, ``cswap``, ``crx``, ``cry``, ``cp``, ``csx``, ``cu``, ``rxx``,
``rzz``, ``rccx``, ``rc3x``, ``c3x``, ``c3sqrtx`` and ``c4x`` to the original
one.
"""

from __future__ import annotations

from .ir import GATE_ARITY

__all__ = ["BUILTIN_GATES", "QELIB1_GATES"]

#: Always defined, with or without an include.
BUILTIN_GATES: dict[str, tuple[int, int]] = {"U": GATE_ARITY["U"], "CX": GATE_ARITY["CX"]}

#: name -> (number of parameters, number of qubits) of each gate of qelib1.inc.
QELIB1_GATES: dict[str, tuple[int, int]] = {
    name: arity for name, arity in GATE_ARITY.items() if name not in BUILTIN_GATES
}
