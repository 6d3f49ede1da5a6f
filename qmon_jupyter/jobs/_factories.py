"""How each kind of job is made: its tracker, capabilities, snapshot extras and work.

A local job comes with its *work*, ``work(job) -> Result``, which the
scheduler runs on a worker thread; provider jobs and ``progress()`` loops
have none (their state comes from outside).
"""

from __future__ import annotations

import functools
import secrets
from typing import TYPE_CHECKING, Any

from qmon_jupyter.core.states import JobType

from ._executors import executor_info_extra
from ._function import run_function
from ._simulation import SimulationSpec, run_simulation
from .job import ExecutionJob
from .progress import ProgressTracker, SimulationProgressTracker

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from ._executors import ExecutorRegistry
    from ._scheduler import Work
    from .manager import JobManager

__all__ = ["evolve_weight", "external_job", "function_job", "inline_job", "simulation_job"]

# Estimated work of one sampled shot, in the engine's amplitude-passes: a
# binary search over the outcome CDF (tens of ns) against about one ns per
# amplitude of a streaming pass. Trajectory shots each replay the circuit's
# rest, about a few passes over the state.
_SAMPLED_SHOT_WORK = 50.0
_TRAJECTORY_SHOT_PASSES = 4.0


def evolve_weight(plan: Any, shots: int) -> float:
    """Return the evolution's share of a simulation's estimated work (0.01..0.99).

    The evolution's work is the sum of its blocks' costs plus the outcome
    distribution (about three passes); the shots' work is estimated per shot.
    """
    amplitudes = float(1 << plan.num_qubits)
    evolve = plan.evolution_work + 3.0 * amplitudes
    per_shot = _SAMPLED_SHOT_WORK if plan.mode == "sample" else _TRAJECTORY_SHOT_PASSES * amplitudes
    share = evolve / (evolve + max(0, shots) * per_shot)
    return min(0.99, max(0.01, share))


def simulation_job(
    manager: JobManager,
    circuit: Any,
    *,
    shots: int,
    name: str | None,
    seed: int | None,
    batch_size: int | None,
    executors: ExecutorRegistry,
    backend: str | None,
    start_batch: int,
    initial_counts: Mapping[str, int] | None,
    resumed_from: str | None,
    precision: str = "double",
) -> tuple[ExecutionJob, Work]:
    """Make a simulation of ``circuit`` on the executor ``backend`` names (``submit``)."""
    from qmon_jupyter.engine import prepare, validate_shots

    circ = _to_circuit(circuit)
    shots = validate_shots(shots)
    executor = executors.get(backend)
    plan = prepare(circ, check_memory=manager.check_memory, precision=precision)
    sizes = [int(s) for s in plan.batch_sizes(shots, batch_size)]
    if not 0 <= start_batch <= len(sizes):
        msg = f"start_batch must be in 0..{len(sizes)} ({len(sizes)} batches), not {start_batch}"
        raise ValueError(msg)
    if seed is None:
        seed = secrets.randbits(32)  # 32 bits: exact in JSON numbers and JavaScript
    start_shots = sum(sizes[:start_batch])
    tracker = SimulationProgressTracker(
        shots,
        mode=plan.mode,
        start_shots=start_shots,
        update_interval=manager.progress_interval,
        evolve_weight=evolve_weight(plan, shots - start_shots),
    )
    spec = SimulationSpec(
        circuit=circ,
        plan=plan,
        shots=shots,
        seed=seed,
        sizes=sizes,
        start_batch=start_batch,
        initial_counts=initial_counts,
        backend=executor.name,
    )
    job = ExecutionJob(
        manager,
        name=name or circ.name or "simulation",
        job_type=JobType.SIMULATION,
        tracker=tracker,
        backend=executor.name,
        executor=executor.name,
        capabilities={"cancel": True, "pause": True, "queue_position": True, "eta": True},
        seed=seed,
        # Extra snapshot keys: the engine's memory estimate, the executor's
        # own description (asked at each snapshot: its worker count moves)
        # and where a resumed job came from.
        extra={"memory_bytes": int(plan.memory_bytes), "precision": precision}
        | executor_info_extra(executor)
        | ({"resumed_from": resumed_from} if resumed_from else {}),
    )
    work = functools.partial(
        run_simulation,
        spec=spec,
        executor=executor,
        events=manager.events,
        checkpoint_interval=manager.checkpoint_interval,
    )
    return job, work


def function_job(
    manager: JobManager,
    fn: Callable[..., Any],
    args: tuple,
    kwargs: dict[str, Any],
    *,
    name: str | None,
    job_type: JobType | str,
    total: float | None,
    unit: str,
) -> tuple[ExecutionJob, Work]:
    """Make ``fn(reporter, token, *args, **kwargs)`` a job (``submit_function``)."""
    tracker = ProgressTracker(total, unit=unit, update_interval=manager.progress_interval)
    job = ExecutionJob(
        manager,
        name=name or getattr(fn, "__name__", "function"),
        job_type=JobType(job_type),
        tracker=tracker,
        backend="local",
        executor="thread",
        capabilities={
            "cancel": True,
            "pause": True,
            "queue_position": True,
            "eta": total is not None,
        },
    )
    return job, functools.partial(run_function, fn=fn, args=args, kwargs=kwargs)


def external_job(
    manager: JobManager,
    *,
    name: str,
    backend: str,
    controller: Any,
    capabilities: Mapping[str, bool],
    job_type: JobType | str,
    provider: dict | None,
    total: float | None,
    unit: str,
    job_id: str | None = None,
) -> ExecutionJob:
    """Make a job that runs elsewhere (``add_external_job``)."""
    tracker = ProgressTracker(total, unit=unit, update_interval=manager.progress_interval)
    return ExecutionJob(
        manager,
        name=name,
        job_type=JobType(job_type),
        tracker=tracker,
        backend=backend,
        executor=None,
        capabilities=dict(capabilities),
        provider=provider,
        controller=controller,
        job_id=job_id,
    )


def inline_job(
    manager: JobManager, *, name: str, total: float | None, unit: str, job_type: JobType
) -> ExecutionJob:
    """Make a job whose work runs in the caller's thread (``progress()`` loops)."""
    tracker = ProgressTracker(total, unit=unit, update_interval=manager.progress_interval)
    return ExecutionJob(
        manager,
        name=name,
        job_type=job_type,
        tracker=tracker,
        backend="local",
        executor="inline",
        capabilities={"cancel": True, "pause": True, "queue_position": False, "eta": True},
    )


def _to_circuit(obj: Any) -> Any:
    from qmon_jupyter.circuits.ir import Circuit

    if isinstance(obj, Circuit):
        return obj
    from qmon_jupyter.circuits import to_circuit

    return to_circuit(obj)
