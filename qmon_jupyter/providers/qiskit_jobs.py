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
"""

from __future__ import annotations

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

    def __init__(self, job: Any) -> None:
        self.job = job
        self._device = self._lookup_device()
        has_queue = callable(getattr(job, "queue_position", None))
        self.capabilities = Capabilities(cancel=True, queue_position=has_queue, eta=has_queue)
        self.provider_key = f"qiskit/{self._device or type(job).__name__}"

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

    def _raw_status(self) -> str:
        raw = _status_name(self.job.status())
        future = getattr(self.job, "_future", None)
        # PrimitiveJob.status() says ERROR (and caches it) for a future that has
        # not started yet: believe the future instead.
        if raw == "ERROR" and future is not None and hasattr(future, "done") and not future.done():
            return "RUNNING" if future.running() else "QUEUED"
        return raw

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
