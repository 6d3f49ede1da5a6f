"""``QmonEstimator``: Qiskit's ``BaseEstimatorV2`` on the qmon engine, as one monitored job."""

from __future__ import annotations

from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

import numpy as np
from qiskit.primitives import BaseEstimatorV2, DataBin, PrimitiveResult, PubResult
from qiskit.primitives.containers.estimator_pub import EstimatorPub

from ._job import QmonPrimitiveJob, start_job
from ._numerics import estimate_binding
from ._runner import check_backend, dask_client, map_bindings

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
    backend
        ``"local"`` or ``"dask"``: every binding of a sweep is a task on a
        Dask cluster (``client``, else the default client, else
        ``DASK_SCHEDULER_ADDRESS``).
    client
        The ``distributed.Client`` for ``backend="dask"``.

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
        backend: str = "local",
        client: Any = None,
    ) -> None:
        self.backend = check_backend(backend)
        self.client = client
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

            with dask_client(self.client) if self.backend == "dask" else nullcontext() as client:
                results = [_run_pub(pub, rng, reporter, go_on, client) for pub in coerced]
            return PrimitiveResult(results, metadata={"version": 2})

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


def _run_pub(
    pub: EstimatorPub, rng: np.random.Generator, reporter: Any, go_on: Any, client: Any
) -> PubResult:
    bound = pub.parameter_values.bind_all(pub.circuit)
    shape = np.broadcast_shapes(bound.shape, pub.observables.shape)
    # Which binding each broadcast entry uses: one statevector per binding.
    binding_of = np.broadcast_to(np.arange(bound.size).reshape(bound.shape), shape)
    observables = np.broadcast_to(pub.observables, shape)
    uses: dict[int, list[tuple[int, ...]]] = {flat: [] for flat in range(bound.size)}
    for index in np.ndindex(*shape):
        uses[int(binding_of[index])].append(index)
    flat_bound = bound.reshape(-1)
    calls = [
        (flat_bound[flat], [observables[index] for index in uses[flat]])
        for flat in range(bound.size)
    ]
    evs = np.zeros(shape, dtype=np.float64)
    for flat, values in map_bindings(estimate_binding, calls, go_on=go_on, client=client):
        for index, value in zip(uses[flat], values, strict=True):
            evs[index] = value
        reporter.update(1)
    stds = np.full(shape, float(pub.precision))
    if pub.precision:
        evs = rng.normal(evs, pub.precision)
    return PubResult(
        DataBin(evs=evs, stds=stds, shape=shape),
        metadata={"target_precision": pub.precision, "circuit_metadata": pub.circuit.metadata},
    )
