"""One job's batches on a Dask cluster: submit a window, collect, cancel, fail."""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections import deque
from typing import TYPE_CHECKING

from ._dask_tasks import FORGET_PLAN, RUN_BATCH
from .dask import ClusterError

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Sequence

    from distributed import Future

    from .base import Batch, BatchControl
    from .dask import DaskExecutor

__all__ = ["BatchRun"]

log = logging.getLogger(__name__)

# how often the loop wakes, with nothing finished, to check cancel and the cluster
_POLL_S = 0.1
# how long it waits for should_continue() before collecting again (it blocks while paused)
_GATE_WAIT_S = 0.05
# how often (at most) it asks the scheduler for its workers and threads
_HEALTH_EVERY_S = 1.0


class _Gate:
    """Asks ``control.should_continue()`` on a thread of its own.

    It blocks while the job is paused; asking from here would stop the
    collection of the batches still in flight, so their progress would only
    show after the resume.
    """

    def __init__(self, control: BatchControl) -> None:
        self.control = control
        # "ask" for an answer, "stop" to end the thread
        self.requests: queue.SimpleQueue[str] = queue.SimpleQueue()
        self.answers: queue.SimpleQueue[bool | BaseException] = queue.SimpleQueue()
        self.outstanding = False
        self.thread: threading.Thread | None = None

    def ask(self) -> bool | None:
        """Say whether to submit: True, False to stop, None while paused (no answer yet)."""
        if not self.outstanding:
            if self.thread is None:
                self.thread = threading.Thread(target=self._answer, name="qmon-dask-gate")
                self.thread.daemon = True  # a job failing while paused must not pin it
                self.thread.start()
            self.requests.put("ask")
            self.outstanding = True
        try:
            answer = self.answers.get(timeout=_GATE_WAIT_S)
        except queue.Empty:
            return None
        self.outstanding = False
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def _answer(self) -> None:
        try:
            while self.requests.get() == "ask":
                self.answers.put(self.control.should_continue())
        except BaseException as exc:  # handed to the job's thread by ask()
            self.answers.put(exc)

    def close(self) -> None:
        self.requests.put("stop")


class BatchRun:
    """Runs one job's batches; a new one per ``DaskExecutor.run_batches`` call."""

    def __init__(self, executor: DaskExecutor, plan_bytes: bytes, seed: int) -> None:
        self.executor = executor
        self.client = executor.client
        self.plan_bytes = plan_bytes
        self.seed = seed
        # the workers cache the unpickled plan under this token (one per run)
        self.token = uuid.uuid4().hex
        # futures that finished, erred or were cancelled (put by Dask's callback thread)
        self.done: queue.Queue[Future] = queue.Queue()
        # task key -> (future, batch); holding the future keeps the task wanted
        self.in_flight: dict[str, tuple[Future, Batch]] = {}
        self.threads = executor.threads()
        self.next_health = time.monotonic() + _HEALTH_EVERY_S
        self.no_workers_since: float | None = None

    def execute(self, batches: Sequence[Batch], control: BatchControl) -> None:
        """Keep a window of batches in flight until all are reported or the job stops."""
        pending = deque(batches)
        gate = _Gate(control)
        try:
            while pending or self.in_flight:
                if control.cancelled:
                    return
                while pending and len(self.in_flight) < self.window():
                    verdict = gate.ask()
                    if verdict is None:  # paused: collect what is in flight meanwhile
                        break
                    if not verdict:
                        return
                    self.submit(pending.popleft())
                for batch, counts in self.collect():
                    control.batch_done(batch.index, batch.shots, counts)
        finally:
            gate.close()
            self.withdraw()

    def window(self) -> int:
        if self.executor.max_in_flight is not None:
            return self.executor.max_in_flight
        return max(2, 2 * self.threads)

    def submit(self, batch: Batch) -> None:
        future = self.client.submit(
            RUN_BATCH,
            self.token,
            self.plan_bytes,
            batch.index,
            batch.shots,
            self.seed,
            key=f"qmon-{self.token[:12]}-b{batch.index}",
            pure=False,
            retries=self.executor.retries,
        )
        self.in_flight[future.key] = (future, batch)
        future.add_done_callback(self.done.put)

    def collect(self) -> list[tuple[Batch, dict[str, int]]]:
        """Wait up to ``_POLL_S`` for finished batches; raise for failed or lost ones."""
        try:
            future = self.done.get(timeout=_POLL_S)
        except queue.Empty:
            self.check_health()
            return []
        out = []
        while True:
            settled = self.settle(future)
            if settled is not None:
                out.append(settled)
            try:
                future = self.done.get_nowait()
            except queue.Empty:
                break
        self.check_health()
        return out

    def settle(self, future: Future) -> tuple[Batch, dict[str, int]] | None:
        entry = self.in_flight.get(future.key)
        if entry is None or entry[0] is not future:  # already handled
            return None
        batch = entry[1]
        status = future.status
        if status == "finished":
            try:
                counts = future.result(timeout=self.executor.timeout)
            except Exception as exc:
                if future.status == "error":
                    raise self.failed(batch, future) from exc
                if future.status == "cancelled" or self.client.status != "running":
                    raise self.lost(exc) from exc
                # its worker died before the counts came back: it runs again
                future.add_done_callback(self.done.put)
                return None
            del self.in_flight[future.key]
            return batch, counts
        if status == "error":
            raise self.failed(batch, future)
        if status == "cancelled":
            raise self.lost(future.exception(timeout=self.executor.timeout))
        # "lost" (its worker died after computing it) or back to "pending":
        # the scheduler computes it again; wait for it once more
        future.add_done_callback(self.done.put)
        return None

    def check_health(self) -> None:
        now = time.monotonic()
        if now < self.next_health:
            return
        self.next_health = now + _HEALTH_EVERY_S
        if self.client.status != "running":
            raise self.lost(None)
        self.threads = self.executor.threads()
        if self.threads > 0:
            self.no_workers_since = None
        elif self.no_workers_since is None:
            self.no_workers_since = now
        elif now - self.no_workers_since > self.executor.timeout:
            raise ClusterError(
                f"the Dask cluster at {self.executor.address} has had no workers for "
                f"{self.executor.timeout:g} s"
            )

    def lost(self, cause: BaseException | None) -> ClusterError:
        detail = f": {cause}" if cause is not None else ""
        return ClusterError(
            f"lost the Dask scheduler at {self.executor.address} "
            f"(client status {self.client.status!r}){detail}"
        )

    def failed(self, batch: Batch, future: Future) -> BaseException:
        exc = future.exception(timeout=self.executor.timeout)
        if type(exc).__name__ == "KilledWorker":
            return ClusterError(
                f"batch {batch.index} was lost with every Dask worker that ran it "
                f"(each died): {exc}"
            )
        if isinstance(exc, ImportError) and "qmon_jupyter" in str(exc):
            try:
                self.executor.check_workers()
            except ClusterError as named:
                return named
        return exc

    def withdraw(self) -> None:
        """Cancel what is still pending; a running task finishes and is dropped."""
        futures = [future for future, _ in self.in_flight.values()]
        self.in_flight.clear()
        if self.client.status != "running":
            return
        if futures:
            try:
                self.client.cancel(futures)
            except Exception as exc:  # the scheduler may have gone meanwhile
                log.debug("cancelling batches on %s failed: %s", self.executor.address, exc)
        try:
            self.client.run(FORGET_PLAN, self.token, on_error="ignore")
        except Exception as exc:
            log.debug("dropping cached plans on %s failed: %s", self.executor.address, exc)
