"""The code that runs on Dask workers, shipped by value.

Each function is made inside a factory, so cloudpickle sends its code rather
than a reference to this module: a worker then imports only what the task
itself imports (the engine, through the pickled plan), never the job layer,
and client and workers cannot disagree about the task's code. Dask caches
the serialized function, so it is pickled once per process, not per task.

A worker keeps the plans it unpickled (a few, most recent first) on its
``distributed.Worker`` object: a sample-mode plan caches its final
probabilities and a trajectory plan its state before the first measurement,
so each worker evolves a job's circuit once, not once per batch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

__all__ = ["FORGET_PLAN", "PROBE", "RUN_BATCH"]

# the attribute of the distributed.Worker that holds (lock, plans)
_CACHE_ATTRIBUTE = "_qmon_plans"
# how many plans one worker keeps (jobs running at the same time)
_MAX_PLANS = 4


def _make_run_batch() -> Callable[[str, bytes, int, int, int], dict[str, int]]:
    cache_attribute, max_plans = _CACHE_ATTRIBUTE, _MAX_PLANS

    def run_qmon_batch(
        token: str, plan_bytes: bytes, index: int, shots: int, seed: int
    ) -> dict[str, int]:
        """Batch ``index`` of the plan: a pure function of (plan, index, shots, seed)."""
        import pickle
        import threading
        from collections import OrderedDict

        from distributed import get_worker

        worker = get_worker()
        # setdefault is atomic: the worker's threads share one cache
        lock, plans = worker.__dict__.setdefault(cache_attribute, (threading.Lock(), OrderedDict()))
        with lock:
            plan = plans.get(token)
            if plan is not None:
                plans.move_to_end(token)
        if plan is None:
            # the bytes were pickled by qmon_jupyter's executor on the client
            plan = pickle.loads(plan_bytes)  # noqa: S301
            with lock:
                # another thread may have won: keep one plan, evolved once
                plan = plans.setdefault(token, plan)
                plans.move_to_end(token)
                while len(plans) > max_plans:
                    plans.popitem(last=False)
        return plan.run_batch(index, shots, seed)

    return run_qmon_batch


def _make_forget_plan() -> Callable[[str], None]:
    cache_attribute = _CACHE_ATTRIBUTE

    def forget_qmon_plan(token: str, dask_worker: object = None) -> None:
        """Drop a finished job's plan from this worker (``client.run`` passes the worker)."""
        cached = getattr(dask_worker, "__dict__", {}).get(cache_attribute)
        if cached is not None:
            lock, plans = cached
            with lock:
                plans.pop(token, None)

    return forget_qmon_plan


def _make_probe() -> Callable[[], str | None]:
    def probe_qmon_jupyter() -> str | None:
        """Return the worker's qmon_jupyter version, or None if it cannot import it."""
        import importlib.util

        if importlib.util.find_spec("qmon_jupyter") is None:
            return None
        from qmon_jupyter._version import __version__

        return __version__

    return probe_qmon_jupyter


RUN_BATCH = _make_run_batch()
FORGET_PLAN = _make_forget_plan()
PROBE = _make_probe()
