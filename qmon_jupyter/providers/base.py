"""The provider protocol: capabilities, status mapping, and what a poll observes.

A provider adapter wraps one job of one provider (an emulated QPU job, an
``AerJob``, a ``RuntimeJobV2``, a Braket task...). It declares what it can do
(:class:`Capabilities`), maps the provider's raw status strings onto
:class:`~qmon_jupyter.core.states.JobStatus` with a table (the raw string is
kept and shown as it is) and answers ``poll()`` with a :class:`StatusUpdate`.
The :class:`~qmon_jupyter.providers.monitor.StatusMonitor` does the rest.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from qmon_jupyter.core.states import JobStatus
from qmon_jupyter.errors import QmonError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "BRAKET_STATUS",
    "IBM_RUNTIME_STATUS",
    "NOT_AVAILABLE",
    "Capabilities",
    "HardwareJobInfo",
    "ProviderAdapter",
    "ProviderAuthError",
    "ProviderError",
    "ProviderJobNotFound",
    "ProviderRejectedError",
    "ProviderResponseError",
    "ProviderUnavailable",
    "StatusUpdate",
    "normalize_status",
    "parse_queue_position",
]

#: What an absent capability shows as, everywhere (never an error).
NOT_AVAILABLE = "n/a"

# Raw provider status -> normalized status. ``None`` means "no change of the
# normalized state" (CANCELLING: the job is still where it was until the
# provider confirms), which the monitor shows through the raw status only.
#: IBM Runtime (``RuntimeJobV2.status()`` strings and Qiskit's ``JobStatus`` names).
IBM_RUNTIME_STATUS: dict[str, JobStatus | None] = {
    "INITIALIZING": JobStatus.PENDING,
    "VALIDATING": JobStatus.QUEUED,
    "QUEUED": JobStatus.QUEUED,
    "RUNNING": JobStatus.RUNNING,
    "DONE": JobStatus.COMPLETED,
    "ERROR": JobStatus.FAILED,
    "CANCELLED": JobStatus.CANCELLED,
}

#: Amazon Braket task states (also what the emulated QPU speaks).
BRAKET_STATUS: dict[str, JobStatus | None] = {
    "CREATED": JobStatus.PENDING,
    "QUEUED": JobStatus.QUEUED,
    "RUNNING": JobStatus.RUNNING,
    "CANCELLING": None,
    "CANCELLED": JobStatus.CANCELLED,
    "COMPLETED": JobStatus.COMPLETED,
    "FAILED": JobStatus.FAILED,
}


class ProviderError(QmonError):
    """A provider could not be asked, or answered something unusable.

    ``transient`` errors (the default) are retried with backoff and count
    against the provider's health; the job stays tracked either way.
    """

    transient: ClassVar[bool] = True


class ProviderUnavailable(ProviderError):  # noqa: N818 - reads as the condition it names
    """No answer: connection refused or dropped, timeout, 5xx."""


class ProviderResponseError(ProviderError):
    """An answer that makes no sense (invalid JSON, unknown status, bad field)."""


class ProviderAuthError(ProviderError):
    """The provider refused the credentials (HTTP 401/403)."""


class ProviderJobNotFound(ProviderError):  # noqa: N818 - reads as the condition it names
    """The provider does not know the job id (HTTP 404)."""


class ProviderRejectedError(ProviderError):
    """The provider refused a request or an action (bad request, job already ended...).

    Not transient: retrying the same request would be refused again.
    """

    transient = False


def normalize_status(raw: str, table: Mapping[str, JobStatus | None]) -> JobStatus | None:
    """Map a raw provider status onto a :class:`JobStatus` with ``table``.

    Returns ``None`` for a status that means "no change" (e.g. ``CANCELLING``).
    Raises :class:`ProviderResponseError` naming an unknown status.
    """
    key = str(raw).strip().upper()
    if key not in table:
        known = ", ".join(table)
        raise ProviderResponseError(f"provider reported an unknown status {raw!r} (known: {known})")
    return table[key]


_CAPPED = re.compile(r"^\s*>\s*(\d+)\s*$")


def parse_queue_position(raw: Any) -> tuple[int | None, str | None]:
    """Read a queue position as a provider reports it.

    Returns ``(number, display)``: Braket reports a string capped at
    ``">2000"``, which gives ``(2001, ">2000")`` (the smallest position it can
    be, for ordering and ETAs) while the display keeps the provider's text.
    ``None``/``""``/``"None"`` mean "not queued": ``(None, None)``.
    Negative or unreadable positions raise :class:`ProviderResponseError`.
    """
    if raw is None or (isinstance(raw, str) and raw.strip() in {"", "None", "null"}):
        return None, None
    if isinstance(raw, bool):
        raise ProviderResponseError(
            f"provider reported a queue position that is not a number: {raw!r}"
        )
    if isinstance(raw, int | float):
        if isinstance(raw, float) and not math.isfinite(raw):
            raise ProviderResponseError(f"provider reported an impossible queue position {raw!r}")
        number = int(raw)
        display = str(number)
    else:
        text = str(raw).strip()
        capped = _CAPPED.match(text)
        if capped:
            return int(capped.group(1)) + 1, text
        try:
            number = int(text)
        except ValueError:
            raise ProviderResponseError(
                f"provider reported a queue position that is not a number: {raw!r}"
            ) from None
        display = text
    if number < 0:
        raise ProviderResponseError(f"provider reported a negative queue position ({display})")
    return number, display


@dataclass(frozen=True)
class Capabilities:
    """What a provider can do for a job. Absent ones show as ``"n/a"``."""

    cancel: bool = False
    pause: bool = False
    queue_position: bool = False
    eta: bool = False
    cost: bool = False

    def to_dict(self) -> dict[str, bool]:
        """Return the flags as a JSON-safe dict (the job snapshot's ``capabilities``)."""
        return asdict(self)

    def show(self, name: str, value: Any) -> Any:
        """``value`` when the capability exists, else ``"n/a"``."""
        return value if getattr(self, name, False) else NOT_AVAILABLE


@dataclass(frozen=True)
class StatusUpdate:
    """One observation of a provider job.

    ``raw_status`` is the provider's own word; ``status`` its normalized form
    (``None``: leave the job's state as it is). ``queue_position`` is a number
    where the provider gives one (``queue_position_display`` keeps its text,
    e.g. ``">2000"``). ``provider_eta_s`` is the provider's own estimate of the
    time left, when it gives one.
    """

    raw_status: str
    status: JobStatus | None
    queue_position: int | None = None
    queue_position_display: str | None = None
    provider_eta_s: float | None = None
    message: str | None = None
    cost: dict[str, Any] | None = None
    device: str | None = None
    time: float = 0.0

    @property
    def terminal(self) -> bool:
        """Whether the provider says the job has ended."""
        return self.status is not None and self.status.is_terminal


@dataclass
class HardwareJobInfo:
    """A provider job's metadata as the monitor keeps it (one per tracked job)."""

    job_id: str
    provider: str
    provider_job_id: str
    device: str | None
    capabilities: Capabilities
    raw_status: str | None = None
    queue_position: int | None = None
    queue_position_display: str | None = None
    eta_range_s: tuple[float, float] | None = None
    last_poll: str | None = None
    polls: int = 0
    errors: int = 0
    last_error: str | None = None
    submitted_at: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form, with ``"n/a"`` for what the provider cannot tell."""
        caps = self.capabilities
        return {
            "job_id": self.job_id,
            "provider": self.provider,
            "provider_job_id": self.provider_job_id,
            "device": self.device,
            "capabilities": caps.to_dict(),
            "status": self.raw_status,
            "queue_position": caps.show("queue_position", self.queue_position),
            "queue_position_display": caps.show("queue_position", self.queue_position_display),
            "eta_range_s": caps.show("eta", list(self.eta_range_s) if self.eta_range_s else None),
            "last_poll": self.last_poll,
            "polls": self.polls,
            "errors": self.errors,
            "last_error": self.last_error,
            "submitted_at": self.submitted_at,
            **self.extra,
        }


@runtime_checkable
class ProviderAdapter(Protocol):
    """One provider job, as the monitor sees it.

    Every method may block (it talks to the provider) and may raise
    :class:`ProviderError`; anything else it raises is treated as a transient
    provider error too, so a broken adapter never breaks the monitor.
    """

    #: Which provider this is (health and polling are kept per provider).
    provider_key: str
    #: A short name for display ("emulator", "aer", "ibm-runtime", "braket").
    provider_name: str
    capabilities: Capabilities
    #: Seconds between polls when all is well.
    default_poll_interval: float

    @property
    def job_id(self) -> str:
        """The provider's id of the job."""
        ...

    @property
    def device(self) -> str | None:
        """The device (backend) the job runs on."""
        ...

    def poll(self) -> StatusUpdate:
        """Ask the provider where the job is."""
        ...

    def cancel(self) -> str | None:
        """Ask the provider to cancel the job; its raw status after, when it says."""
        ...

    def counts(self) -> tuple[dict[str, int], int]:
        """Return the measurement counts and the shot count, once the job completed."""
        ...

    def error_message(self) -> str | None:
        """Why the job failed, as the provider says it (after a failed status)."""
        ...
