"""Adapter for Amazon Braket quantum tasks (``AwsQuantumTask``, ``LocalQuantumTask``).

Nothing here imports braket. A task answers ``state()`` with Braket's task
states; an ``AwsQuantumTask`` also answers ``queue_position()`` with a
``QuantumTaskQueueInfo`` whose position is a string capped at ``">2000"``.
A ``LocalQuantumTask`` is created with its result: always ``COMPLETED``,
nothing to cancel, no queue.

Braket prints bitstrings with the first measured qubit leftmost; qmon (like
Qiskit) puts clbit 0 rightmost, so counts are reversed on the way in.

Like the Qiskit adapters, it reports ``job_type`` (``"simulation"`` for the
LocalSimulator and AWS's managed simulators), ``total`` shots, ``unit``,
``name`` (None: Braket circuits have none), ``elapsed_s()`` and
``ended_mono()``: a local task's own ``createdAt``/``endedAt``, else what a
hook saw (``observe()``).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from .base import (
    BRAKET_STATUS,
    Capabilities,
    ProviderRejectedError,
    StatusUpdate,
    normalize_status,
    parse_queue_position,
)

__all__ = ["BraketTaskAdapter"]


class BraketTaskAdapter:
    """A Braket quantum task, local or on AWS."""

    provider_name = "braket"
    unit = "shots"
    #: Braket circuits have no name: the monitor names the task.
    name = None

    def __init__(self, task: Any) -> None:
        self.task = task
        self.local = type(task).__name__ == "LocalQuantumTask"
        has_queue = callable(getattr(task, "queue_position", None))
        self.capabilities = Capabilities(
            cancel=not self.local, queue_position=has_queue, eta=has_queue, cost=False
        )
        arn = None if self.local else self._metadata().get("deviceArn")
        device = None if arn is None else str(arn).rsplit("/", 1)[-1]
        self._device = "local" if self.local else device
        self.provider_key = f"braket/{self._device or 'unknown'}"
        self.default_poll_interval = 0.5 if self.local else 5.0
        # arn:aws:braket:::device/quantum-simulator/amazon/sv1 for AWS's simulators.
        simulated = self.local or "/quantum-simulator/" in str(arn)
        #: ``"simulation"`` or ``"hardware"``.
        self.job_type = "simulation" if simulated else "hardware"
        #: The task's shots (None: unknown).
        self.total = self._shots()
        self.timing: Any = None

    def __repr__(self) -> str:
        return f"BraketTaskAdapter({self.task!r})"

    def _metadata(self) -> dict[str, Any]:
        try:
            metadata = self.task.metadata(use_cached_value=True)
        except Exception:
            return {}
        return metadata if isinstance(metadata, dict) else {}

    def _shots(self) -> int | None:
        if self.local:  # created with its result
            try:
                shots = self.task.result().task_metadata.shots
            except Exception:
                return None
        else:
            shots = self._metadata().get("shots")
        return shots if isinstance(shots, int) and not isinstance(shots, bool) else None

    def observe(self, timing: Any) -> None:
        """Keep when the task ran as a hook saw it (``.started``/``.finished``, monotonic)."""
        self.timing = timing

    def _ran(self) -> tuple[float, float] | None:
        """Return a local task's own ``(createdAt, endedAt)`` (epoch seconds), else None.

        An AWS task's ``createdAt`` is when it joined the queue: not when it ran.
        """
        if not self.local:
            return None
        try:
            metadata = self.task.result().task_metadata
            times = [
                datetime.fromisoformat(metadata.createdAt),
                datetime.fromisoformat(metadata.endedAt),
            ]
        except Exception:
            return None
        return times[0].timestamp(), times[1].timestamp()

    def elapsed_s(self) -> float | None:
        """Return the seconds the task ran by its own account, else as a hook saw it."""
        ran = self._ran()
        if ran is not None:
            return max(0.0, ran[1] - ran[0])
        started = getattr(self.timing, "started", None)
        finished = getattr(self.timing, "finished", None)
        if started is None or finished is None:
            return None
        return max(0.0, finished - started)

    def ended_mono(self) -> float | None:
        """Return when the task ended (``time.monotonic()``), else None."""
        ran = self._ran()
        if ran is not None:
            return time.monotonic() - max(0.0, time.time() - ran[1])
        return getattr(self.timing, "finished", None)

    @property
    def job_id(self) -> str:
        """The task's id (an ARN on AWS)."""
        return str(self.task.id)

    @property
    def device(self) -> str | None:
        """The device's name (``"local"`` for the LocalSimulator)."""
        return self._device

    def locator(self) -> dict[str, Any] | None:
        """Where to find the task again (``qmon.reattach()``): its ARN; None for a local task."""
        if self.local:
            return None
        return {"kind": "braket", "job_id": self.job_id, "arn": self.job_id, "device": self._device}

    def poll(self) -> StatusUpdate:
        """``task.state()`` and, while queued, ``task.queue_position()``."""
        raw = str(self.task.state())
        status = normalize_status(raw, BRAKET_STATUS)
        position = shown = None
        message = None
        if self.capabilities.queue_position and raw in {"CREATED", "QUEUED"}:
            info = self.task.queue_position()
            position, shown = parse_queue_position(getattr(info, "queue_position", None))
            message = getattr(info, "message", None)
        return StatusUpdate(
            raw_status=raw,
            status=status,
            queue_position=position,
            queue_position_display=shown,
            message=message,
            device=self._device,
        )

    def cancel(self) -> None:
        """``task.cancel()``; a local task has already completed."""
        if self.local:
            raise ProviderRejectedError(
                "a LocalSimulator task has already completed; nothing to cancel"
            )
        self.task.cancel()

    def counts(self) -> tuple[dict[str, int], int]:
        """Measurement counts, bitstrings reversed into qmon's order (clbit 0 rightmost)."""
        result = self.task.result()
        counts = {str(k)[::-1]: int(v) for k, v in dict(result.measurement_counts).items()}
        shots = getattr(getattr(result, "task_metadata", None), "shots", None)
        return counts, int(shots) if isinstance(shots, int) else sum(counts.values())

    def error_message(self) -> str | None:
        """``failureReason`` from the task's metadata."""
        try:
            metadata = self.task.metadata()
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        reason = metadata.get("failureReason") if isinstance(metadata, dict) else None
        return None if reason is None else str(reason)
