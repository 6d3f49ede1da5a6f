"""Adapters for Qiskit jobs: ``JobV1`` (e.g. ``AerJob``), primitive jobs, ``RuntimeJobV2``.

Nothing here imports qiskit: the jobs are driven through the methods they
have (``status()``, ``result()``, ``cancel()``...), so this module costs
nothing for users without qiskit.

- ``JobV1`` and primitive jobs (``PrimitiveJob``, qiskit-ibm-runtime's
  ``LocalRuntimeJob``) answer ``status()`` with Qiskit's ``JobStatus`` enum,
  whose names are IBM's statuses.
- ``RuntimeJobV2`` answers plain strings (``"QUEUED"``, ``"DONE"``...), has no
  queue position (IBM's current API gives none: shown as "n/a") and gives a
  ``usage_estimation`` (``quantum_seconds``) used as its running-time estimate.

Besides what the monitor polls, each adapter reports what the job is:
``job_type`` (``"simulation"`` for Aer, BasicSimulator, the reference and fake
backends' primitives; ``"hardware"`` otherwise), ``total`` shots and
``unit``, ``name`` (its circuit's), ``elapsed_s()`` (the provider's own
``time_taken`` where it keeps one, else the times a hook saw, ``observe()``)
and ``ended_mono()``. A ``RuntimeJobV2`` keeps nothing of its inputs locally:
its name and shots come from the ``run()`` call a hook saw.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from .base import (
    IBM_RUNTIME_STATUS,
    Capabilities,
    ProviderRejectedError,
    ProviderResponseError,
    StatusUpdate,
    normalize_status,
    parse_queue_position,
)

__all__ = ["QiskitJobAdapter", "RuntimeJobV2Adapter", "counts_from_qiskit_result"]

#: Modules whose backends and primitives simulate (their jobs are ``simulation`` jobs).
SIMULATOR_MODULES = (
    "qiskit_aer",
    "qiskit.providers.basic_provider",
    "qiskit.primitives",
    "qiskit_ibm_runtime.fake_provider",
)


#: Shots of a qiskit-ibm-runtime ``SamplerV2`` PUB that sets none, with no ``default_shots``
#: option (the option's documented default, applied by the service).
RUNTIME_DEFAULT_SHOTS = 4096


def _simulates(thing: Any) -> bool:
    return (type(thing).__module__ or "").startswith(SIMULATOR_MODULES)


def _circuit_names(circuits: list[Any]) -> str | None:
    names = [str(c.name) for c in circuits if isinstance(getattr(c, "name", None), str)]
    if not names:
        return None
    return names[0] if len(names) == 1 else f"{names[0]} (+{len(names) - 1} more)"


def _header_name(experiment: Any) -> Any:
    header = getattr(experiment, "header", None)
    return header.get("name") if isinstance(header, dict) else getattr(header, "name", None)


def _pub_parts(pub: Any) -> tuple[Any, int | None, int]:
    """``(circuit, shots, bindings)`` of a primitive's PUB (object or tuple form)."""
    circuit = getattr(pub, "circuit", None)
    if circuit is not None:
        shots = getattr(pub, "shots", None)
        return circuit, shots if isinstance(shots, int) else None, int(getattr(pub, "size", 1) or 1)
    if isinstance(pub, tuple | list) and pub:
        shots = (
            pub[2] if len(pub) > 2 and isinstance(pub[2], int) else None
        )  # (circuit, values, shots)
        return pub[0], shots, 1
    return pub, None, 1


def _run_call(call: Any, default_shots: int | None) -> tuple[list[Any], int | None] | None:
    """Return ``(circuits, total shots)`` of a primitive's ``run(pubs, shots=...)`` call.

    ``call`` is ``(args, kwargs)`` as a hook saw them, before the job existed
    (for a ``RuntimeJobV2``, all there is without asking IBM). A sampler PUB's
    shots are its own, else ``run()``'s, else the primitive's ``default_shots``
    option, else ``default_shots``; an estimator's are not known (None).
    """
    args, kwargs = call if isinstance(call, tuple) and len(call) == 2 else ((), {})
    primitive = args[0] if args else None
    pubs = kwargs.get("pubs", args[1] if len(args) > 1 else None)
    if not isinstance(pubs, list | tuple) or not pubs:  # e.g. a generator, consumed by run()
        return None
    kind = type(primitive).__name__
    if "Estimator" in kind:
        return [_pub_parts(pub)[0] for pub in pubs], None
    containers = sys.modules.get("qiskit.primitives.containers.sampler_pub")
    if "Sampler" not in kind or containers is None:
        return None
    option = getattr(getattr(primitive, "options", None), "default_shots", None)
    default = option if isinstance(option, int) and not isinstance(option, bool) else default_shots
    try:
        coerced = [containers.SamplerPub.coerce(pub, kwargs.get("shots")) for pub in pubs]
    except Exception:  # run() raised the same: there is no job
        return None
    shots = [pub.shots if pub.shots is not None else default for pub in coerced]
    total = (
        None if None in shots else sum(n * pub.size for n, pub in zip(shots, coerced, strict=True))
    )
    return [pub.circuit for pub in coerced], total


def _backend_name(job: Any) -> str | None:
    try:
        backend = job.backend()
    except Exception:
        return None
    name = getattr(backend, "name", None)
    if callable(name):  # BackendV1 had name() as a method
        try:
            name = name()
        except Exception:
            name = None
    return None if name is None else str(name)


def _status_name(status: Any) -> str:
    name = getattr(status, "name", None)
    return str(name if isinstance(name, str) else status)


def counts_from_qiskit_result(result: Any) -> tuple[dict[str, int], int, Any]:
    """Return ``(counts, shots, value)`` from a ``Result`` (JobV1) or a ``PrimitiveResult``.

    Sampler results give the joined counts of the first PUB's registers;
    Estimator results give no counts and their expectation values as ``value``.
    """
    if getattr(result, "success", True) is False:  # Aer says DONE for a failed simulation
        reason = getattr(result, "status", None) or "no reason given"
        raise ProviderRejectedError(f"the simulation failed: {reason}")
    get_counts = getattr(result, "get_counts", None)
    if callable(get_counts):  # qiskit.result.Result
        counts = get_counts()
        if isinstance(counts, list):  # several experiments: the first one
            counts = counts[0] if counts else {}
        counts = {str(k): int(v) for k, v in dict(counts).items()}
        return counts, sum(counts.values()), None
    try:
        pubs = list(result)
    except TypeError:
        raise ProviderResponseError(f"cannot read counts from a {type(result).__name__}") from None
    if not pubs:
        return {}, 0, None
    pub = pubs[0]
    join_data = getattr(pub, "join_data", None)
    if callable(join_data):
        try:
            bits = join_data()
        except Exception:
            bits = None
        if bits is not None and callable(getattr(bits, "get_counts", None)):
            counts = {str(k): int(v) for k, v in bits.get_counts().items()}
            return counts, sum(counts.values()), None
    evs = getattr(getattr(pub, "data", None), "evs", None)
    if evs is not None:
        value = evs.tolist() if hasattr(evs, "tolist") else evs
        return {}, 0, value
    raise ProviderResponseError(f"cannot read counts from a {type(pub).__name__}")


class QiskitJobAdapter:
    """A Qiskit ``JobV1`` (``AerJob``...) or a primitive job (``LocalRuntimeJob``...)."""

    provider_name = "qiskit"
    default_poll_interval = 0.5
    unit = "shots"

    def __init__(self, job: Any) -> None:
        self.job = job
        self._device = self._lookup_device()
        has_queue = callable(getattr(job, "queue_position", None))
        self.capabilities = Capabilities(cancel=True, queue_position=has_queue, eta=has_queue)
        self.provider_key = f"qiskit/{self._device or type(job).__name__}"
        self.timing: Any = None
        self._ended: float | None = None
        future = getattr(job, "_future", None)  # Aer's, a primitive job's: it ends with it
        if callable(getattr(future, "add_done_callback", None)):
            future.add_done_callback(self._saw_end)
        #: ``"simulation"`` or ``"hardware"``.
        self.job_type = "simulation" if self._simulated() else "hardware"
        #: Shots the job runs, all circuits together (None: unknown).
        self.total = self._total()
        #: The circuit's name (the first one's, and how many more).
        self.name = self._name()

    # -- what the job is ---------------------------------------------------------------
    def _backend(self) -> Any:
        try:
            return self.job.backend()
        except Exception:
            return None

    def _primitive(self) -> Any:
        # PrimitiveJob(primitive._run, pubs): the primitive is the bound method's owner.
        return getattr(getattr(self.job, "_function", None), "__self__", None)

    def _simulated(self) -> bool:
        backend = self._backend()
        primitive = self._primitive()
        if backend is None and primitive is not None:
            backend = getattr(primitive, "backend", None)  # BackendSamplerV2.backend
            if callable(backend):
                backend = None
        return _simulates(backend if backend is not None else (primitive or self.job))

    def _pubs(self) -> list[Any] | None:
        # Not RuntimeJobV2.inputs: it asks the service, every time.
        inputs = getattr(self.job, "_inputs", None)  # LocalRuntimeJob
        if isinstance(inputs, dict) and isinstance(inputs.get("pubs"), list | tuple):
            return list(inputs["pubs"])
        args = getattr(self.job, "_args", None)  # PrimitiveJob(function, pubs)
        if isinstance(args, tuple) and args and isinstance(args[0], list | tuple):
            return list(args[0])
        return None

    def _finished_result(self) -> Any:
        """Return the job's result if it has ended well (never waits), else None."""
        try:
            if self._pending_future() is not None or _status_name(self.job.status()) != "DONE":
                return None
            return self.job.result()
        except Exception:
            return None

    def _total(self) -> int | None:
        pubs = self._pubs()
        if pubs is not None:
            parts = [_pub_parts(pub) for pub in pubs]
            if not parts or any(shots is None for _, shots, _ in parts):
                return None
            return sum(shots * size for _, shots, size in parts)  # type: ignore[operator]
        result = self._finished_result()
        experiments = getattr(result, "results", None)
        if experiments:
            shots = [getattr(e, "shots", None) for e in experiments]
            return sum(shots) if all(isinstance(n, int) for n in shots) else None  # type: ignore[arg-type]
        return self._requested_shots()

    def _requested_shots(self) -> int | None:
        """Return a running ``JobV1``'s shots option (Aer keeps it) times its circuits."""
        circuits = self._circuits()
        options = getattr(self.job, "_run_options", None)
        shots = options.get("shots") if isinstance(options, dict) else None
        if shots is None:
            shots = getattr(getattr(self._backend(), "options", None), "shots", None)
        if not isinstance(shots, int) or circuits is None:
            return None
        return shots * len(circuits)

    def _circuits(self) -> list[Any] | None:
        reader = getattr(self.job, "circuits", None)
        if callable(reader):
            try:
                circuits = reader()
            except Exception:
                return None
            return list(circuits) if isinstance(circuits, list | tuple) else [circuits]
        pubs = self._pubs()
        return None if pubs is None else [_pub_parts(pub)[0] for pub in pubs]

    def _name(self) -> str | None:
        circuits = self._circuits()
        if circuits:
            return _circuit_names(circuits)
        experiments = getattr(self._finished_result(), "results", None) or []
        names = [n for n in map(_header_name, experiments) if isinstance(n, str)]
        if not names:
            return None
        return names[0] if len(names) == 1 else f"{names[0]} (+{len(names) - 1} more)"

    def observe(self, timing: Any) -> None:
        """Keep what a hook saw of the job: when it ran and the call that made it.

        ``timing.started``/``.finished`` (``time.monotonic()``; None: unseen);
        ``timing.call``, the ``(args, kwargs)`` of a primitive's ``run()``: its
        PUBs name the job and count its shots (see :func:`_run_call`).
        """
        self.timing = timing
        seen = _run_call(getattr(timing, "call", None), self._default_shots())
        if seen is not None:
            circuits, total = seen
            self.name = _circuit_names(circuits) or self.name
            self.total = total if total is not None else self.total

    def _default_shots(self) -> int | None:
        # Local mode runs a BackendSamplerV2, whose default it keeps; IBM applies its own.
        option = getattr(getattr(self._primitive(), "options", None), "default_shots", None)
        return option if isinstance(option, int) else RUNTIME_DEFAULT_SHOTS

    def _saw_end(self, _future: Any) -> None:
        if self._ended is None:
            self._ended = time.monotonic()

    def ended_mono(self) -> float | None:
        """Return when the job ended (``time.monotonic()``) as seen at once, else None."""
        finished = getattr(self.timing, "finished", None)
        return finished if finished is not None else self._ended

    def elapsed_s(self) -> float | None:
        """Return the seconds it ran: ``time_taken``, else what a hook saw (None: unknown)."""
        taken = getattr(self._finished_result(), "time_taken", None)
        if isinstance(taken, int | float) and not isinstance(taken, bool) and taken >= 0:
            return float(taken)
        started = getattr(self.timing, "started", None)
        finished = self.ended_mono()
        if started is None or finished is None:
            return None
        return max(0.0, finished - started)

    def _lookup_device(self) -> str | None:
        return _backend_name(self.job)

    def __repr__(self) -> str:
        return f"QiskitJobAdapter({self.job!r})"

    @property
    def job_id(self) -> str:
        """The job's id."""
        return str(self.job.job_id())

    @property
    def device(self) -> str | None:
        """The backend's name."""
        return self._device

    def _pending_future(self) -> Any:
        """Return a primitive job's future while it has not finished, else None."""
        future = getattr(self.job, "_future", None)
        if "BasePrimitiveJob" not in {c.__name__ for c in type(self.job).__mro__}:
            return None
        done = getattr(future, "done", None)
        return future if callable(done) and not done() else None

    def _raw_status(self) -> str:
        # PrimitiveJob.status() says ERROR for a future that has not started yet, and
        # keeps saying it to its user ever after: ask the future until it is done.
        future = self._pending_future()
        if future is not None:
            return "RUNNING" if future.running() else "QUEUED"
        return _status_name(self.job.status())

    def poll(self) -> StatusUpdate:
        """``job.status()`` (and ``queue_position()`` where the job has one)."""
        raw = self._raw_status()
        status = normalize_status(raw, IBM_RUNTIME_STATUS)
        position = shown = None
        if self.capabilities.queue_position and raw in {"QUEUED", "VALIDATING"}:
            position, shown = parse_queue_position(self.job.queue_position())
        return StatusUpdate(
            raw_status=raw,
            status=status,
            queue_position=position,
            queue_position_display=shown,
            device=self._device,
        )

    def cancel(self) -> None:
        """``job.cancel()``; a job that can no longer be cancelled raises ProviderError."""
        if self.job.cancel() is False:
            raise ProviderRejectedError(
                f"{type(self.job).__name__} {self.job_id} cannot be cancelled any more"
            )

    def counts(self) -> tuple[dict[str, int], int]:
        """Return the counts of the finished job."""
        counts, shots, value = counts_from_qiskit_result(self.job.result())
        self.value = value
        return counts, shots

    def error_message(self) -> str | None:
        """Return the job's error (``error_message()`` or the exception ``result()`` raises)."""
        reader = getattr(self.job, "error_message", None)
        if callable(reader):
            try:
                message = reader()
            except Exception:
                message = None
            if message:
                return str(message)
        try:
            result = self.job.result()
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        status = getattr(result, "status", None)
        return None if status is None else str(status)


class RuntimeJobV2Adapter(QiskitJobAdapter):
    """qiskit-ibm-runtime's ``RuntimeJobV2``: string statuses, no queue position."""

    provider_name = "ibm-runtime"
    default_poll_interval = 5.0

    def __init__(self, job: Any) -> None:
        super().__init__(job)
        self.capabilities = Capabilities(cancel=True, queue_position=False, eta=True, cost=True)
        self.provider_key = f"ibm-runtime/{self._device or 'unknown'}"
        self.job_type = "hardware"

    def _backend(self) -> Any:
        return getattr(self.job, "_backend", None)  # see _lookup_device

    def locator(self) -> dict[str, Any]:
        """Where to find the job again (``qmon.reattach()``): its id, backend and instance."""
        try:
            instance = self.job.instance
        except Exception:
            instance = None
        return {
            "kind": "ibm-runtime",
            "job_id": self.job_id,
            "backend": self._device,
            "instance": instance if isinstance(instance, str) else None,
        }

    def _finished_result(self) -> Any:
        return None  # the result is fetched from the service: only counts() asks for it

    def _lookup_device(self) -> str | None:
        # Not job.backend(): without a cached backend it waits for the job to end.
        backend = getattr(self.job, "_backend", None)
        name = getattr(backend, "name", None)
        return name if isinstance(name, str) else None

    def _raw_status(self) -> str:
        return _status_name(self.job.status())

    def _quantum_seconds(self) -> float | None:
        try:
            estimate = self.job.usage_estimation
        except Exception:
            return None
        seconds = estimate.get("quantum_seconds") if isinstance(estimate, dict) else None
        return (
            float(seconds)
            if isinstance(seconds, int | float) and not isinstance(seconds, bool)
            else None
        )

    def poll(self) -> StatusUpdate:
        """``job.status()`` and, before the end, ``usage_estimation``."""
        raw = self._raw_status()
        status = normalize_status(raw, IBM_RUNTIME_STATUS)
        eta = cost = None
        if status is not None and not status.is_terminal:
            seconds = self._quantum_seconds()
            if seconds is not None:
                eta = seconds
                cost = {"amount": seconds, "unit": "quantum_seconds"}
        return StatusUpdate(
            raw_status=raw, status=status, provider_eta_s=eta, cost=cost, device=self._device
        )

    def cancel(self) -> None:
        """``job.cancel()`` (raises on a job the service will not cancel)."""
        try:
            self.job.cancel()
        except Exception as exc:
            raise ProviderRejectedError(
                f"IBM Runtime refused to cancel {self.job_id}: {exc}"
            ) from None
