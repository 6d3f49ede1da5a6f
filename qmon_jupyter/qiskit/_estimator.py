"""``QmonEstimator``: Qiskit's ``BaseEstimatorV2`` on the qmon engine, as one monitored job."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from qiskit.primitives import BaseEstimatorV2, DataBin, PrimitiveResult, PubResult
from qiskit.primitives.containers.estimator_pub import EstimatorPub

from ._job import QmonPrimitiveJob, start_job
from ._numerics import pauli_expectation, statevector

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["QmonEstimator"]


class QmonEstimator(BaseEstimatorV2):
    """Expectation values of observables on the qmon engine; each ``run()`` is one job.

    Parameters
    ----------
    default_precision
        Precision of a PUB that does not say. ``0`` gives the exact
        expectation values of the statevector (``stds`` are 0); a positive
        precision adds Gaussian shot noise of that standard deviation, and
        ``stds`` report it, as a sampled estimate's standard error would.
    seed
        Makes the noise reproducible; None draws a new seed per run.
    manager
        The :class:`~qmon_jupyter.jobs.JobManager` (the kernel's if None).
    name
        The dashboard name of each run's job.

    Observables broadcast against parameter values as Qiskit defines it; one
    statevector is computed per binding and shared by its observables.
    """

    def __init__(
        self,
        *,
        default_precision: float = 0.0,
        seed: int | None = None,
        manager: Any = None,
        name: str = "estimator",
    ) -> None:
        self.default_precision = default_precision
        self.seed = seed
        self.manager = manager
        self.name = name

    def run(self, pubs: Iterable[Any], *, precision: float | None = None) -> QmonPrimitiveJob:
        """Estimate ``pubs`` (circuit, observables, values, precision); returns at once."""
        chosen = self.default_precision if precision is None else precision
        coerced = [EstimatorPub.coerce(pub, chosen) for pub in pubs]
        for pub in coerced:
            pub.validate()
            _check_sizes(pub)
        rng = np.random.default_rng(self.seed)
        total = sum(int(np.prod(pub.parameter_values.shape, dtype=int)) for pub in coerced)

        def work(reporter: Any, token: Any) -> PrimitiveResult:
            def go_on() -> bool:
                token.check()  # raises once cancelled, waits while paused
                return True

            return PrimitiveResult(
                [_run_pub(pub, rng, reporter, go_on) for pub in coerced], metadata={"version": 2}
            )

        return QmonPrimitiveJob(
            start_job(self.manager, work, name=self.name, total=total, unit="steps")
        )


def _check_sizes(pub: EstimatorPub) -> None:
    width = pub.circuit.num_qubits
    for terms in np.ravel(pub.observables):
        for label in terms:
            if len(label) != width:
                msg = (
                    f"an observable acts on {len(label)} qubits ({label!r}), "
                    f"but the circuit has {width}"
                )
                raise ValueError(msg)


def _run_pub(pub: EstimatorPub, rng: np.random.Generator, reporter: Any, go_on: Any) -> PubResult:
    bound = pub.parameter_values.bind_all(pub.circuit)
    shape = np.broadcast_shapes(bound.shape, pub.observables.shape)
    # Which binding each broadcast entry uses: one statevector per binding.
    binding_of = np.broadcast_to(np.arange(bound.size).reshape(bound.shape), shape)
    observables = np.broadcast_to(pub.observables, shape)
    uses: dict[int, list[tuple[int, ...]]] = {}
    for index in np.ndindex(*shape):
        uses.setdefault(int(binding_of[index]), []).append(index)
    evs = np.zeros(shape, dtype=np.float64)
    flat_bound = bound.reshape(-1)
    for flat in range(bound.size):
        go_on()
        state = statevector(flat_bound[flat], go_on)
        for index in uses.get(flat, ()):
            evs[index] = pauli_expectation(state, observables[index]).real
        reporter.update(1)
    stds = np.full(shape, float(pub.precision))
    if pub.precision:
        evs = rng.normal(evs, pub.precision)
    return PubResult(
        DataBin(evs=evs, stds=stds, shape=shape),
        metadata={"target_precision": pub.precision, "circuit_metadata": pub.circuit.metadata},
    )
