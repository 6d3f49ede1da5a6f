"""Run a simulation's batches as tasks on a Dask cluster.

``DaskExecutor(client_or_address)`` sends each batch of shots to the cluster
as one task (``SimulationPlan.run_batch(index, shots, seed)``, a pure function
of the seed and the batch index), so counts are the same as on the local
executor for the same seed and batch size, whichever worker ran which batch.

Only a bounded number of batches is in flight at a time (twice the cluster's
threads by default): pausing stops new submissions at once and the cluster
is idle within a batch or two; cancelling has little to withdraw. Batches
are reported as they finish, in any order (the job checkpoints the
contiguous prefix). A worker that dies takes its batches with it; the
scheduler runs them again elsewhere and the counts do not change.

Before each job every worker is asked whether it can import qmon_jupyter: a
task that a worker cannot unpickle would break that worker's connection
(distributed 2024.8) instead of failing cleanly, so such workers are named
in a :class:`ClusterError` before anything is submitted.

``distributed`` is an optional dependency (``pip install qmon_jupyter[dask]``);
it is imported when an executor is made, never by ``import qmon_jupyter``.
"""

from __future__ import annotations

import importlib
import logging
import pickle
import threading
from typing import TYPE_CHECKING, Any

from qmon_jupyter._version import __version__
from qmon_jupyter.errors import QmonError

from ._dask_tasks import PROBE

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Sequence

    from distributed import Client
    from typing_extensions import Self

    from .base import Batch, BatchControl

__all__ = ["ClusterError", "DaskExecutor"]

log = logging.getLogger(__name__)


class ClusterError(QmonError):
    """The Dask cluster cannot run the job: unreachable, lost, empty or unfit."""


def _distributed() -> Any:
    try:
        return importlib.import_module("distributed")
    except ImportError as exc:  # pragma: no cover - the extra is installed in tests
        raise QmonError(
            "the dask executor needs the 'distributed' package: pip install 'qmon_jupyter[dask]'"
        ) from exc


def _default_client_or_address(distributed: Any) -> Any:
    try:
        return distributed.default_client()
    except ValueError:
        pass
    import dask

    address = dask.config.get("scheduler-address", None)
    if not address:
        raise ClusterError(
            "no Dask cluster to run on: pass DaskExecutor(address or client), create a "
            "distributed.Client first, or set DASK_SCHEDULER_ADDRESS"
        )
    return address


class DaskExecutor:
    """Run simulation batches as tasks on a ``distributed`` cluster.

    Parameters
    ----------
    client_or_address
        A ``distributed.Client`` (used as is, never closed here), a scheduler
        address such as ``"tcp://10.0.0.5:8786"``, or a cluster object with a
        ``scheduler_address`` (e.g. ``LocalCluster``); for the last two the
        executor connects and owns its client (``close()`` closes it).
        ``None``: the current default client, else Dask's configured
        ``scheduler-address`` (``DASK_SCHEDULER_ADDRESS``).
    timeout
        Seconds allowed to reach the scheduler, to fetch a result and for the
        cluster to have no workers at all before a job fails.
    max_in_flight
        Batches submitted and not yet finished, per job. Default: twice the
        cluster's threads (re-read as workers come and go), at least 2.
    retries
        Extra attempts for a batch whose task raised. A worker that dies is
        handled by the scheduler itself: its batches run again elsewhere.
    """

    name = "dask"

    def __init__(
        self,
        client_or_address: Any = None,
        *,
        timeout: float = 10.0,
        max_in_flight: int | None = None,
        retries: int = 1,
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout!r}")
        if max_in_flight is not None and max_in_flight < 1:
            raise ValueError(f"max_in_flight must be at least 1, got {max_in_flight!r}")
        distributed = _distributed()
        self.timeout = float(timeout)
        self.max_in_flight = max_in_flight
        self.retries = int(retries)
        if client_or_address is None:
            client_or_address = _default_client_or_address(distributed)
        if isinstance(client_or_address, distributed.Client):
            self._client = client_or_address
            self._owns_client = False
            self.address = str(client_or_address.scheduler.address)
        else:
            address = getattr(client_or_address, "scheduler_address", client_or_address)
            if not isinstance(address, str):
                raise TypeError(
                    "DaskExecutor takes a distributed.Client, a scheduler address or a "
                    f"cluster, not {type(client_or_address).__name__}"
                )
            self.address = address
            self._client = self._connect(distributed, address)
            self._owns_client = True
        # guards _closed, _workers (read by snapshots from other threads) and
        # the replacement of _client after a lost scheduler
        self._lock = threading.Lock()
        self._closed = False
        self._workers = 0
        self.threads()  # sets the worker count shown by info()

    def _connect(self, distributed: Any, address: str) -> Client:
        try:
            return distributed.Client(address, timeout=self.timeout, set_as_default=False)
        except Exception as exc:  # OSError on timeout; others for malformed addresses
            raise ClusterError(
                f"cannot reach the Dask scheduler at {address} within {self.timeout:g} s: {exc}"
            ) from exc

    # -- what the dashboard shows -------------------------------------------

    @property
    def client(self) -> Client:
        """The ``distributed.Client`` batches are submitted through."""
        return self._client

    def info(self) -> dict[str, Any]:
        """Executor entry of a job snapshot: ``{"name", "address", "workers"}``.

        Cheap (no scheduler round trip): the worker count is the one seen when
        a job last started or checked the cluster's health.
        """
        with self._lock:
            workers = self._workers
        return {"name": self.name, "address": self.address, "workers": workers}

    def cluster_info(self) -> dict[str, Any]:
        """Describe the cluster for ``GET status``: address, workers, threads, memory.

        Returns ``{"name": "dask", "address", "status", "workers", "threads",
        "memory_bytes" (sum of the workers' limits), "memory_used_bytes"}``;
        ``status`` is the client's (``"running"``, ``"closed"``, ...) and the
        numbers are 0 when the scheduler cannot be asked.
        """
        status = str(self._client.status)
        info: dict[str, Any] = {
            "name": self.name,
            "address": self.address,
            "status": status,
            "workers": 0,
            "threads": 0,
            "memory_bytes": 0,
            "memory_used_bytes": 0,
        }
        if status != "running":
            return info
        try:
            try:
                # newer distributed lists only 5 workers unless asked for all
                scheduler = self._client.scheduler_info(n_workers=-1)
            except TypeError:
                scheduler = self._client.scheduler_info()
            workers = scheduler["workers"]
        except Exception as exc:  # a lost scheduler must not break GET status
            info["status"] = f"error: {exc}"
            return info
        info["workers"] = len(workers)
        for worker in workers.values():
            info["threads"] += int(worker.get("nthreads", 0))
            info["memory_bytes"] += int(worker.get("memory_limit") or 0)
            info["memory_used_bytes"] += int(worker.get("metrics", {}).get("memory") or 0)
        self._set_workers(len(workers))
        return info

    def _set_workers(self, n: int) -> None:
        with self._lock:
            self._workers = n

    # -- checks ---------------------------------------------------------------

    def _require_running(self) -> Client:
        with self._lock:
            if self._closed:
                raise ClusterError("this DaskExecutor was closed")
            client = self._client
        if client.status == "closed" and self._owns_client:
            # the scheduler went away earlier: it may be back at the same address
            fresh = self._connect(_distributed(), self.address)
            with self._lock:
                if self._client is client:
                    self._client = fresh
                    client = fresh
                else:  # another job reconnected meanwhile
                    fresh.close()
                    client = self._client
        status = client.status
        if status != "running":
            raise ClusterError(
                f"the Dask scheduler at {self.address} is not connected (client status {status!r})"
            )
        return client

    def check_workers(self) -> int:
        """Check every worker can import qmon_jupyter; return the worker count.

        Raises
        ------
        ClusterError
            The cluster has no workers, cannot be asked, or some workers lack
            qmon_jupyter (they are named in the message).
        """
        client = self._require_running()
        try:
            found = client.run(PROBE, on_error="return")
        except Exception as exc:
            raise ClusterError(
                f"cannot check the workers of the Dask cluster at {self.address}: {exc}"
            ) from exc
        self._set_workers(len(found))
        if not found:
            raise ClusterError(f"the Dask cluster at {self.address} has no workers")
        missing = sorted(w for w, v in found.items() if v is None or isinstance(v, BaseException))
        if missing:
            raise ClusterError(
                f"qmon_jupyter is not installed on Dask worker(s) {', '.join(missing)} "
                f"of {self.address}: install it there (the same version as here)"
            )
        others = sorted({v for v in found.values() if v != __version__})
        if others:
            log.warning(
                "Dask workers of %s run qmon_jupyter %s, this process %s: counts may differ",
                self.address,
                ", ".join(others),
                __version__,
            )
        return len(found)

    def threads(self) -> int:
        """Total worker threads now (0 if the scheduler cannot be asked)."""
        try:
            nthreads = self._client.nthreads()
        except Exception:  # the health check reports a lost scheduler
            return 0
        self._set_workers(len(nthreads))
        return sum(nthreads.values())

    # -- running a job ----------------------------------------------------------

    def run_batches(
        self, plan: Any, batches: Sequence[Batch], seed: int, control: BatchControl
    ) -> None:
        """Run ``batches`` of ``plan`` as tasks on the cluster (the executor protocol).

        Each finished batch goes to ``control.batch_done`` as soon as its
        result is back (in any order). ``control.should_continue()`` is asked
        before every submission, so while the job is paused nothing new is
        submitted; the batches already on the cluster finish and are
        reported. Once ``control.cancelled``, pending batches are cancelled
        on the cluster, running ones finish there and are discarded, and this
        returns.

        Raises
        ------
        ClusterError
            The scheduler is unreachable or lost, there are no workers, or some
            worker lacks qmon_jupyter; nothing of the job is left on the cluster.
        """
        from ._dask_run import BatchRun

        if not batches or not control.should_continue():
            return
        self.check_workers()
        try:
            plan_bytes = pickle.dumps(plan, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            raise QmonError(f"the simulation plan cannot be sent to Dask: {exc}") from exc
        BatchRun(self, plan_bytes, seed).execute(batches, control)

    # -- lifetime -----------------------------------------------------------------

    def close(self) -> None:
        """Close the client if this executor opened it (a given client is left open)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._owns_client:
            self._client.close(timeout=self.timeout)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"DaskExecutor({self.address!r})"
