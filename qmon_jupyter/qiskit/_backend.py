"""``QmonBackend``: a Qiskit ``BackendV2`` with qelib1's gates as target, on the qmon engine."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from qiskit.circuit import QuantumCircuit
from qiskit.circuit.library import get_standard_gate_name_mapping
from qiskit.providers import BackendV2, JobV1, Options
from qiskit.result import Result
from qiskit.transpiler import Target

from qmon_jupyter._version import __version__
from qmon_jupyter.circuits import from_qiskit
from qmon_jupyter.circuits.qelib1 import QELIB1_GATES
from qmon_jupyter.engine import run as engine_run

from ._job import qiskit_status, start_job

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["QmonBackend", "QmonBackendJob"]

# qelib1 names that Qiskit spells differently
_QISKIT_NAME = {"rc3x": "rcccx", "c3sqrtx": "c3sx", "cu3": "cu3"}
# instructions every circuit may hold besides the target's gates
_DIRECTIVES = frozenset({"barrier", "measure", "reset", "delay", "if_else", "global_phase"})


def _build_target() -> Target:
    target = Target(description="qmon statevector engine (qelib1.inc gates)", num_qubits=None)
    standard = get_standard_gate_name_mapping()
    for name in sorted(QELIB1_GATES):
        qiskit_name = _QISKIT_NAME.get(name, name)
        if qiskit_name in standard:
            target.add_instruction(standard[qiskit_name], properties=None, name=qiskit_name)
    for name in ("measure", "reset", "delay"):
        target.add_instruction(standard[name], properties=None, name=name)
    return target


class QmonBackend(BackendV2):
    """Run circuits on the qmon engine with Qiskit's ``backend.run``; each run is one qmon job.

    ``transpile(qc, backend)`` rewrites a circuit into the target's gates
    (every gate of ``qelib1.inc``). ``backend.run(circuits, shots=,
    seed_simulator=)`` returns a :class:`QmonBackendJob` at once; its
    ``result()`` is a ``qiskit.result.Result`` with ``get_counts()``.
    """

    def __init__(self, *, manager: Any = None, name: str = "qmon_simulator") -> None:
        super().__init__(
            name=name, description="qmon numpy statevector engine", backend_version=__version__
        )
        self._target = _build_target()
        self.manager = manager

    @property
    def target(self) -> Target:
        """The gates the engine runs natively (qelib1.inc), on any number of qubits."""
        return self._target

    @property
    def max_circuits(self) -> None:
        """No limit on circuits per run."""
        return None

    @classmethod
    def _default_options(cls) -> Options:
        return Options(shots=1024, seed_simulator=None)

    def run(
        self, run_input: QuantumCircuit | Iterable[QuantumCircuit], **options: Any
    ) -> QmonBackendJob:
        """Run ``run_input`` (one circuit or several) with ``shots`` and ``seed_simulator``."""
        circuits = [run_input] if isinstance(run_input, QuantumCircuit) else list(run_input)
        unknown = set(options) - set(self.options.__dict__)
        if unknown:
            raise ValueError(f"unknown run options {sorted(unknown)}; use shots and seed_simulator")
        shots = int(options.get("shots", self.options.shots))
        seed = options.get("seed_simulator", self.options.seed_simulator)
        for circuit in circuits:
            self._check_gates(circuit)
        converted = [from_qiskit(circuit) for circuit in circuits]
        job_id = uuid.uuid4().hex

        def work(reporter: Any, token: Any) -> Result:
            def go_on() -> bool:
                token.check()  # raises once cancelled, waits while paused
                return True

            experiments = []
            for index, (circuit, ir) in enumerate(zip(circuits, converted, strict=True)):
                go_on()
                # each circuit its own stream, all fixed by one seed
                counts = engine_run(
                    ir,
                    shots=shots,
                    seed=None if seed is None else int(seed) + index,
                    should_continue=go_on,
                    on_batch=lambda done, _total, base=index * shots: reporter.set(base + done),
                )
                experiments.append(_experiment(circuit, counts, shots))
            return Result.from_dict(
                {
                    "backend_name": self.name,
                    "backend_version": self.backend_version,
                    "job_id": job_id,
                    "qobj_id": job_id,
                    "success": True,
                    "results": experiments,
                }
            )

        name = circuits[0].name if len(circuits) == 1 else f"{len(circuits)} circuits"
        job = start_job(self.manager, work, name=name, total=shots * len(circuits), unit="shots")
        return QmonBackendJob(self, job_id, job)

    def _check_gates(self, circuit: QuantumCircuit) -> None:
        names = set(self._target.operation_names) | _DIRECTIVES
        for item in circuit.data:
            name = item.operation.name
            if name not in names:
                msg = (
                    f"gate {name!r} in circuit {circuit.name!r} is not in {self.name}'s target; "
                    "transpile(circuit, backend) first"
                )
                raise ValueError(msg)


def _experiment(circuit: QuantumCircuit, counts: dict[str, int], shots: int) -> dict[str, Any]:
    return {
        "shots": shots,
        "success": True,
        "data": {"counts": {hex(int(key, 2)): value for key, value in counts.items()}},
        "header": {
            "name": circuit.name,
            "creg_sizes": [[creg.name, creg.size] for creg in circuit.cregs],
            "memory_slots": circuit.num_clbits,
        },
    }


class QmonBackendJob(JobV1):
    """What ``QmonBackend.run`` returns: Qiskit's ``JobV1`` over one qmon job (``qmon_job``)."""

    def __init__(self, backend: QmonBackend, job_id: str, job: Any) -> None:
        super().__init__(backend, job_id)
        self.qmon_job = job

    def submit(self) -> None:
        """Do nothing: the job started when ``run`` returned it."""

    def result(self, timeout: float | None = None) -> Result:
        """Return the ``qiskit.result.Result`` (waits up to ``timeout`` seconds)."""
        return self.qmon_job.result(timeout).value

    def status(self) -> Any:
        """Return Qiskit's status of the job."""
        return qiskit_status(self.qmon_job)

    def cancel(self) -> bool:
        """Cancel the job; False if it had already ended otherwise."""
        return self.qmon_job.cancel("cancelled from Qiskit")
