"""Evaluate bound circuits one by one, here or as tasks on a Dask cluster, in a monitored job.

Locally the evaluation checks the job's token inside the evolution (cancel
and pause act within a gate block). On Dask each binding is one task, at
most twice the cluster's threads in flight; cancel and pause act between
completed tasks, and a cancel cancels the tasks still queued.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

__all__ = ["BACKENDS", "dask_client", "map_bindings"]

BACKENDS = ("local", "dask")


def check_backend(backend: str) -> str:
    """Return ``backend`` if known; ValueError naming the choices otherwise."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; use one of {BACKENDS}")
    return backend


@contextmanager
def dask_client(client: Any = None) -> Iterator[Any]:
    """Give ``client``, else the default client, else one on ``DASK_SCHEDULER_ADDRESS``.

    A client made here is closed when the block ends.
    """
    if client is not None:
        yield client
        return
    import distributed

    from qmon_jupyter.executors.dask import _default_client_or_address

    found = _default_client_or_address(distributed)
    if isinstance(found, distributed.Client):
        yield found
        return
    with distributed.Client(found, timeout=10) as owned:
        yield owned


def map_bindings(
    fn: Callable[..., Any],
    calls: Sequence[tuple[Any, ...]],
    *,
    go_on: Callable[[], bool],
    client: Any = None,
) -> Iterator[tuple[int, Any]]:
    """Yield ``(i, fn(*calls[i]))`` for every call; locally in order, on Dask as they finish.

    ``fn`` takes ``should_continue`` as a keyword (passed locally, None on Dask).
    """
    if client is None:
        for i, args in enumerate(calls):
            go_on()
            yield i, fn(*args, should_continue=go_on)
        return
    from distributed import as_completed

    limit = max(2, 2 * sum(client.nthreads().values()))
    pending = iter(enumerate(calls))
    futures: dict[Any, int] = {}

    def submit_next() -> bool:
        try:
            i, args = next(pending)
        except StopIteration:
            return False
        future = client.submit(fn, *args, should_continue=None, pure=False)
        futures[future] = i
        return True

    while len(futures) < limit and submit_next():
        pass
    running = as_completed(list(futures))
    try:
        for future in running:
            go_on()
            yield futures.pop(future), future.result()
            if submit_next():
                running.add(next(reversed(futures)))
    finally:
        if futures:  # cancelled or failed: nothing left should run for this job
            client.cancel(list(futures))
