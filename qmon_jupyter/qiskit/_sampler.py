"""``QmonSampler``: Qiskit's ``BaseSamplerV2`` on the qmon engine, as one monitored job."""

from __future__ import annotations

from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

import numpy as np
from qiskit.primitives import BaseSamplerV2, DataBin, PrimitiveResult, SamplerPubResult
from qiskit.primitives.containers import BitArray
from qiskit.primitives.containers.sampler_pub import SamplerPub

from ._job import QmonPrimitiveJob, start_job
from ._numerics import sample_binding
from ._runner import check_backend, dask_client, map_bindings

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["QmonSampler"]


class QmonSampler(BaseSamplerV2):
    """Sample PUBs on the qmon engine; each ``run()`` is one job on the dashboard.

    Parameters
    ----------
    default_shots
        Shots of a PUB that does not say.
    seed
        Makes every run reproducible (each PUB and binding gets its own
        stream drawn from it); None draws a new seed per run.
    manager
        The :class:`~qmon_jupyter.jobs.JobManager` (the kernel's if None).
    name
        The dashboard name of each run's job.
    backend
        ``"local"`` (the engine in the job's thread) or ``"dask"``: every
        binding of a sweep is a task on a Dask cluster (``client``, else the
        default client, else ``DASK_SCHEDULER_ADDRESS``), with the same
        samples for the same seed.
    client
        The ``distributed.Client`` for ``backend="dask"``.

    Results are Qiskit's ``PrimitiveResult`` of ``SamplerPubResult``, with a
    ``BitArray`` per classical register, shots in a random order, as
    ``StatevectorSampler`` gives them. Mid-circuit measurements, resets and
    classically conditioned gates are supported (the engine runs shot
    trajectories for them).
    """

    def __init__(
        self,
        *,
        default_shots: int = 1024,
        seed: int | None = None,
        manager: Any = None,
        name: str = "sampler",
        backend: str = "local",
        client: Any = None,
    ) -> None:
        self.backend = check_backend(backend)
        self.client = client
        self.default_shots = default_shots
        self.seed = seed
        self.manager = manager
        self.name = name

    def run(self, pubs: Iterable[Any], *, shots: int | None = None) -> QmonPrimitiveJob:
        """Sample ``pubs`` (circuit, parameter values, shots); returns at once."""
        coerced = [
            SamplerPub.coerce(pub, self.default_shots if shots is None else shots) for pub in pubs
        ]
        for pub in coerced:
            pub.validate()
        seeds = np.random.SeedSequence(self.seed).generate_state(max(1, len(coerced)), np.uint64)
        total = sum(
            pub.shots * int(np.prod(pub.parameter_values.shape, dtype=int)) for pub in coerced
        )

        def work(reporter: Any, token: Any) -> PrimitiveResult:
            def go_on() -> bool:
                token.check()  # raises once cancelled, waits while paused
                return True

            with dask_client(self.client) if self.backend == "dask" else nullcontext() as client:
                results = [
                    _run_pub(pub, int(seed), reporter, go_on, client)
                    for pub, seed in zip(coerced, seeds, strict=True)
                ]
            return PrimitiveResult(results, metadata={"version": 2})

        return QmonPrimitiveJob(
            start_job(self.manager, work, name=self.name, total=total, unit="shots")
        )


def _run_pub(
    pub: SamplerPub, seed: int, reporter: Any, go_on: Any, client: Any
) -> SamplerPubResult:
    circuit = pub.circuit
    bound = pub.parameter_values.bind_all(circuit)
    registers = [
        (creg.name, [circuit.find_bit(bit).index for bit in creg]) for creg in circuit.cregs
    ]
    arrays = {
        name: np.zeros((*bound.shape, pub.shots, max(1, (len(bits) + 7) // 8)), dtype=np.uint8)
        for name, bits in registers
    }
    # One stream per binding, from the PUB's seed: the same samples here and on Dask.
    streams = np.random.SeedSequence(seed).generate_state(max(1, bound.size), np.uint64)
    indices = list(np.ndindex(*bound.shape))
    calls = [
        (bound[index], pub.shots, int(streams[flat]) >> 1, registers)
        for flat, index in enumerate(indices)
    ]
    for flat, samples in map_bindings(sample_binding, calls, go_on=go_on, client=client):
        for name, packed in samples.items():
            arrays[name][indices[flat]] = packed
        reporter.update(pub.shots)
    data = {name: BitArray(arrays[name], len(bits)) for name, bits in registers}
    return SamplerPubResult(
        DataBin(**data, shape=pub.shape),
        metadata={"shots": pub.shots, "circuit_metadata": circuit.metadata},
    )
