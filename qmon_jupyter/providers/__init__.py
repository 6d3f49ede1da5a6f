"""Hardware providers: adapters, an emulated QPU, and the status monitor.

``qmon.track(job)`` follows a provider job (Qiskit ``JobV1``/``AerJob``,
primitive jobs, ``RuntimeJobV2``, Braket tasks) on the dashboard;
:class:`EmulatedQPU` is a real HTTP service emulating a cloud QPU (with fault
injection) and :class:`EmulatorProvider` its client; :class:`StatusMonitor`
polls everything on one thread. ``qmon.reattach()`` follows again the
provider jobs of a kernel that died.
"""

from __future__ import annotations

from ._monitor_state import Budget
from .base import (
    BRAKET_STATUS,
    IBM_RUNTIME_STATUS,
    NOT_AVAILABLE,
    Capabilities,
    HardwareJobInfo,
    ProviderAdapter,
    ProviderAuthError,
    ProviderError,
    ProviderJobNotFound,
    ProviderRejectedError,
    ProviderResponseError,
    ProviderUnavailable,
    StatusUpdate,
    normalize_status,
    parse_queue_position,
)
from .emulator import EmulatedQPU
from .emulator_client import EmulatorJob, EmulatorProvider
from .monitor import StatusMonitor, get_monitor, provider_health, track
from .reattach import ReattachWarning, reattach

__all__ = [
    "BRAKET_STATUS",
    "IBM_RUNTIME_STATUS",
    "NOT_AVAILABLE",
    "Budget",
    "Capabilities",
    "EmulatedQPU",
    "EmulatorJob",
    "EmulatorProvider",
    "HardwareJobInfo",
    "ProviderAdapter",
    "ProviderAuthError",
    "ProviderError",
    "ProviderJobNotFound",
    "ProviderRejectedError",
    "ProviderResponseError",
    "ProviderUnavailable",
    "ReattachWarning",
    "StatusMonitor",
    "StatusUpdate",
    "get_monitor",
    "normalize_status",
    "parse_queue_position",
    "provider_health",
    "reattach",
    "track",
]
