"""An emulated QPU: a real HTTP service on loopback, with faults on demand.

It speaks to :class:`~qmon_jupyter.providers.emulator_client.EmulatorProvider`
as a cloud provider would: JSON over HTTP, an API token, Braket's task states
(``QUEUED``, ``RUNNING``, ``CANCELLING``, ``CANCELLED``, ``COMPLETED``,
``FAILED``) and queue positions as strings capped at ``">2000"``.

Routes (all JSON)::

    GET  /v1/devices                  {"devices": [...]}
    POST /v1/jobs                     {"device", "circuit" | "qasm", "shots", "seed"?, "name"?}
    GET  /v1/jobs/{id}                the job: status, queue_position, estimated_wait_s, ...
    POST /v1/jobs/{id}/cancel         the job (409 once it has ended)
    GET  /v1/jobs/{id}/result         {"counts", "shots", "seed"} (409 until COMPLETED)

Faults (thread-safe, for tests): :meth:`EmulatedQPU.fail_requests`,
:meth:`~EmulatedQPU.slow_down`, :meth:`~EmulatedQPU.hang_requests`,
:meth:`~EmulatedQPU.drop_connections`, :meth:`~EmulatedQPU.outage`,
:meth:`~EmulatedQPU.fail_jobs`, :meth:`~EmulatedQPU.answer_nonsense`,
:meth:`~EmulatedQPU.set_token`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import tornado.httpserver
import tornado.ioloop
import tornado.netutil
import tornado.web

from ._qpu import TERMINAL, Device, QPUState

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from qmon_jupyter.circuits.ir import Circuit

__all__ = ["DEFAULT_DEVICES", "EmulatedQPU"]

log = logging.getLogger(__name__)

#: device name -> number of qubits.
DEFAULT_DEVICES: dict[str, int] = {"emu-8q": 8, "emu-16q": 16}
NONSENSE_KINDS = ("invalid_json", "unknown_status", "negative_queue_position")
MAX_SHOTS = 1_000_000
TICK_S = 0.05


def _engine_run(circuit: Circuit, shots: int, seed: int) -> dict[str, int]:
    from qmon_jupyter.engine import run

    return run(circuit, shots, seed)


def _log_request(handler: tornado.web.RequestHandler) -> None:
    # Errors are the point of this service: log requests at debug level, not as warnings.
    request = handler.request
    log.debug(
        "%s %s %s %.1f ms",
        handler.get_status(),
        request.method,
        request.uri,
        1000 * request.request_time(),
    )


class _Faults:
    """What the next requests will suffer. Guarded by the QPU's lock."""

    def __init__(self) -> None:
        self.error_count = 0
        self.error_status = 503
        self.slow_s = 0.0
        self.slow_count: int | None = None  # None: every request while slow_s > 0
        self.hang_count = 0
        self.hang_s = 30.0
        self.drop_count = 0
        self.outage_until = 0.0
        self.nonsense_count = 0
        self.nonsense_kind = "invalid_json"


class EmulatedQPU:
    """A tornado HTTP service emulating a cloud QPU, on 127.0.0.1.

    Parameters
    ----------
    rate_per_minute
        Jobs per minute each device serves (each job takes ``60 / rate`` s).
    port
        TCP port; 0 picks a free one (see :attr:`url` after :meth:`start`).
    devices
        Device name -> number of qubits (default :data:`DEFAULT_DEVICES`).
    token
        API token clients must send as ``Authorization: Bearer ...``
        (``None``: no credentials needed).
    queue_position_cap
        Positions beyond it are reported as ``">cap"`` (Braket's 2000).
    runner
        ``runner(circuit, shots, seed) -> counts``; default qmon's engine.

    The service runs its own IOLoop in a daemon thread; use it as a context
    manager or call :meth:`stop`.
    """

    def __init__(
        self,
        rate_per_minute: float = 60,
        port: int = 0,
        *,
        devices: Mapping[str, int] | None = None,
        token: str | None = None,
        queue_position_cap: int = 2000,
        runner: Callable[[Circuit, int, int], dict[str, int]] | None = None,
    ) -> None:
        if rate_per_minute < 0:
            raise ValueError(f"rate_per_minute must be >= 0, got {rate_per_minute}")
        self._requested_port = port
        self._token = token
        # Guards the devices, jobs, faults and request counters: handlers on
        # the IOLoop thread and fault controls from test threads share them.
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qmon-qpu-engine")
        self._state = QPUState(
            {
                name: Device(name, int(n), float(rate_per_minute))
                for name, n in (devices or DEFAULT_DEVICES).items()
            },
            runner or _engine_run,
            self._executor,
            queue_position_cap=queue_position_cap,
        )
        self._faults = _Faults()
        # Guards the request counters and log (taken after a reply is sent,
        # so never while the state lock is held by the same handler).
        self._stats_lock = threading.Lock()
        self._requests: Counter[str] = Counter()
        self._request_log: deque[tuple[float, str, str, int]] = deque(maxlen=100_000)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._server: tornado.httpserver.HTTPServer | None = None
        self._port: int | None = None
        self._started = threading.Event()
        self._start_error: BaseException | None = None

    # -- lifecycle --------------------------------------------------------
    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` once started."""
        if self._port is None:
            raise RuntimeError("the emulated QPU is not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def port(self) -> int | None:
        """The TCP port it listens on (``None`` before :meth:`start`)."""
        return self._port

    def start(self, timeout: float = 10.0) -> str:
        """Start serving in a background thread; return the base URL."""
        if self._thread is not None:
            return self.url
        if self._started.is_set():
            raise RuntimeError("an EmulatedQPU cannot be restarted after stop(); create a new one")
        self._thread = threading.Thread(target=self._run, name="qmon-emulated-qpu", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout):
            raise RuntimeError(f"the emulated QPU did not start within {timeout} s")
        if self._start_error is not None:
            self._thread = None
            raise RuntimeError(f"the emulated QPU could not start: {self._start_error}")
        return self.url

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving, drop open connections and join the thread."""
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None:
            return
        if loop is not None and stopping is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(stopping.set)
        thread.join(timeout)
        self._thread = None
        self._executor.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> EmulatedQPU:  # noqa: PYI034 - Self needs Python 3.11
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to start(), never lost
            self._start_error = exc
            self._started.set()
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        self._listen(self._requested_port)
        ticker = tornado.ioloop.PeriodicCallback(self._tick, TICK_S * 1000)
        ticker.start()
        self._started.set()
        try:
            await self._stopping.wait()
        finally:
            ticker.stop()
            if self._server is not None:
                self._server.stop()
                try:
                    await asyncio.wait_for(self._server.close_all_connections(), 5)
                except asyncio.TimeoutError:
                    log.warning("emulated QPU: connections still open at stop")

    def _listen(self, port: int) -> None:
        sockets = tornado.netutil.bind_sockets(port, "127.0.0.1")
        server = tornado.httpserver.HTTPServer(self._application())
        server.add_sockets(sockets)
        self._server = server
        self._port = sockets[0].getsockname()[1]

    def _application(self) -> tornado.web.Application:
        from ._emulator_handlers import routes

        return tornado.web.Application(routes(), qpu=self, log_function=_log_request)

    def _tick(self) -> None:
        with self._lock:
            self._state.advance()

    # -- fault injection (callable from any thread) ----------------------
    def fail_requests(self, n: int, status: int = 503) -> None:
        """Answer the next ``n`` requests with HTTP ``status`` (a burst of 5xx)."""
        with self._lock:
            self._faults.error_count = n
            self._faults.error_status = status

    def slow_down(self, seconds: float, n: int | None = None) -> None:
        """Delay answers by ``seconds`` (the next ``n`` requests, or all until 0)."""
        with self._lock:
            self._faults.slow_s = seconds
            self._faults.slow_count = n

    def hang_requests(self, n: int, seconds: float = 30.0) -> None:
        """Never answer the next ``n`` requests (held ``seconds``, then dropped)."""
        with self._lock:
            self._faults.hang_count = n
            self._faults.hang_s = seconds

    def drop_connections(self, n: int) -> None:
        """Close the connection without an answer, for the next ``n`` requests."""
        with self._lock:
            self._faults.drop_count = n

    def outage(self, seconds: float, *, refuse: bool = True) -> None:
        """Be down for ``seconds``: refuse connections (or answer 503 with ``refuse=False``).

        Queues keep being served during the outage, as on a real provider
        whose API is down while its devices keep running.
        """
        with self._lock:
            self._faults.outage_until = time.monotonic() + seconds
        if refuse and self._loop is not None:
            self._loop.call_soon_threadsafe(self._refuse_for, seconds)

    def _refuse_for(self, seconds: float) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        assert self._loop is not None
        self._loop.call_later(seconds, self._relisten, 0)

    def _relisten(self, attempt: int) -> None:
        if self._stopping is None or self._stopping.is_set() or self._port is None:
            return
        try:
            self._listen(self._port)
        except OSError:  # the port is busy a moment longer; bounded retries
            if attempt < 100:
                assert self._loop is not None
                self._loop.call_later(0.1, self._relisten, attempt + 1)
            else:
                log.exception("emulated QPU: could not listen again on %s", self._port)

    def fail_jobs(self, n: int, reason: str = "device error", device: str | None = None) -> None:
        """Make the next ``n`` jobs to start (on ``device``, or on each device) fail there."""
        with self._lock:
            for dev in self._state.devices.values():
                if device is None or dev.name == device:
                    dev.fail_next = n
                    dev.fail_reason = reason

    def forget_job(self, job_id: str) -> None:
        """Delete a job (queued, running or ended), as a provider's retention does.

        From then on every request about it answers 404 (unknown job id).
        """
        with self._lock:
            job = self._state.jobs.get(job_id)
            if job is None:
                raise KeyError(f"no job {job_id!r} on the emulated QPU")
            self._state.forget(job)

    def answer_nonsense(self, n: int, kind: str = "invalid_json") -> None:
        """Answer the next ``n`` job status requests with nonsense.

        ``kind``: ``"invalid_json"``, ``"unknown_status"`` or ``"negative_queue_position"``.
        """
        if kind not in NONSENSE_KINDS:
            raise ValueError(f"unknown nonsense kind {kind!r}; one of {', '.join(NONSENSE_KINDS)}")
        with self._lock:
            self._faults.nonsense_count = n
            self._faults.nonsense_kind = kind

    def set_token(self, token: str | None) -> None:
        """Require ``token`` from now on (``None``: accept anyone)."""
        with self._lock:
            self._token = token

    def set_rate(self, rate_per_minute: float, device: str | None = None) -> None:
        """Change the service rate (0 halts the queue) of ``device`` or of all."""
        with self._lock:
            for dev in self._state.devices.values():
                if device is None or dev.name == device:
                    dev.rate_per_minute = float(rate_per_minute)
            self._state.advance()

    def clear_faults(self) -> None:
        """Forget every pending fault (an outage in progress still ends on time)."""
        with self._lock:
            until = self._faults.outage_until
            self._faults = _Faults()
            self._faults.outage_until = until

    # -- the emulator's own view (for tests and the CLI) ------------------
    def job(self, job_id: str) -> dict[str, Any]:
        """Return the job as the device sees it (KeyError naming an unknown id)."""
        with self._lock:
            self._state.advance()
            job = self._state.jobs.get(job_id)
            if job is None:
                raise KeyError(f"no job {job_id!r} on the emulated QPU")
            return job.view(*self._state.position(job))

    def jobs(self) -> list[dict[str, Any]]:
        """Every job the emulator knows, in submission order."""
        with self._lock:
            self._state.advance()
            return [job.view(*self._state.position(job)) for job in self._state.jobs.values()]

    def devices(self) -> list[dict[str, Any]]:
        """Every device with its queue depth."""
        with self._lock:
            self._state.advance()
            return [dev.view() for dev in self._state.devices.values()]

    @property
    def request_count(self) -> int:
        """How many HTTP requests arrived (faulted ones included)."""
        with self._stats_lock:
            return sum(self._requests.values())

    def request_counts(self) -> dict[str, int]:
        """Return requests by route kind (``"GET job"``, ``"POST submit"``, ...)."""
        with self._stats_lock:
            return dict(self._requests)

    def request_log(self) -> list[tuple[float, str, str, int]]:
        """``(monotonic time, method, path, status)`` of recent requests."""
        with self._stats_lock:
            return list(self._request_log)

    @property
    def active_jobs(self) -> int:
        """Jobs not yet ended."""
        with self._lock:
            self._state.advance()
            return sum(1 for job in self._state.jobs.values() if job.status not in TERMINAL)
