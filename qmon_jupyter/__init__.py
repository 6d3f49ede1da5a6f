"""qmon_jupyter: watch and steer quantum program executions from Jupyter.

The public API is re-exported here and imported lazily, so that
``import qmon_jupyter`` stays cheap (no widgets, no server, no qiskit) until a
name is used.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import (
    JobCancelled,
    JobFailed,
    JobStateError,
    QasmError,
    QmonError,
    ResourceError,
)

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .circuits import Circuit, parse_qasm
    from .core import JobStatus, JobType
    from .dashboard_api import DashboardAPI
    from .engine import run, simulate_statevector
    from .jobs import (
        DashboardNotification,
        ExecutionJob,
        JobManager,
        JobSession,
        MultiStageProgressTracker,
        ProgressTracker,
        Result,
        SimulationProgressTracker,
    )
    from .kernel import MonitoredSimulationExecutor, get_manager, resume, submit
    from .kernel.session import session
    from .providers import EmulatedQPU, EmulatorProvider, StatusMonitor, reattach, track
    from .providers.autotrack import autotrack
    from .server import start_dashboard_server
    from .widget import ExecutionDashboard, JobWidget, dashboard, get_dashboard, progress

# name -> module that defines it (relative to this package)
_LAZY = {
    "Circuit": ".circuits",
    "parse_qasm": ".circuits",
    "run": ".engine",
    "simulate_statevector": ".engine",
    "DashboardNotification": ".jobs",
    "ExecutionJob": ".jobs",
    "JobManager": ".jobs",
    "JobSession": ".jobs",
    "JobStatus": ".core",
    "JobType": ".core",
    "MonitoredSimulationExecutor": ".kernel",
    "MultiStageProgressTracker": ".jobs",
    "ProgressTracker": ".jobs",
    "Result": ".jobs",
    "SimulationProgressTracker": ".jobs",
    "get_manager": ".kernel",
    "progress": ".widget",
    "resume": ".kernel",
    "submit": ".kernel",
    "session": ".kernel.session",
    "DashboardAPI": ".dashboard_api",
    "EmulatedQPU": ".providers",
    "EmulatorProvider": ".providers",
    "StatusMonitor": ".providers",
    "track": ".providers",
    "reattach": ".providers",
    "autotrack": ".providers.autotrack",
    "start_dashboard_server": ".server",
    "ExecutionDashboard": ".widget",
    "JobWidget": ".widget",
    "dashboard": ".widget",
    "get_dashboard": ".widget",
}

__all__ = [
    "Circuit",
    "DashboardAPI",
    "DashboardNotification",
    "EmulatedQPU",
    "EmulatorProvider",
    "ExecutionDashboard",
    "ExecutionJob",
    "JobCancelled",
    "JobFailed",
    "JobManager",
    "JobSession",
    "JobStateError",
    "JobStatus",
    "JobType",
    "JobWidget",
    "MonitoredSimulationExecutor",
    "MultiStageProgressTracker",
    "ProgressTracker",
    "QasmError",
    "QmonError",
    "ResourceError",
    "Result",
    "SimulationProgressTracker",
    "StatusMonitor",
    "__version__",
    "autotrack",
    "dashboard",
    "get_dashboard",
    "get_manager",
    "parse_qasm",
    "progress",
    "reattach",
    "resume",
    "run",
    "session",
    "simulate_statevector",
    "start_dashboard_server",
    "submit",
    "track",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'qmon_jupyter' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # cache: the next lookup skips __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


def load_ipython_extension(ipython: Any) -> None:
    """Register the ``%%qmon`` magics and turn autotrack on (``%load_ext qmon_jupyter``)."""
    from .magics import load_ipython_extension as _load

    _register_job_display(ipython)
    _load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """Remove the magics again and turn autotrack off (``%unload_ext qmon_jupyter``)."""
    from .magics import unload_ipython_extension as _unload

    _unload(ipython)


def _job_mimebundle(job: Any) -> Any:
    from .widget import job_mimebundle

    return job_mimebundle(job)


def _register_job_display(shell: Any = None) -> None:
    """Show an ``ExecutionJob`` as a live job widget in a kernel, through IPython's formatters.

    Registered by name, so neither the job layer nor this package imports the
    widgets until a job is displayed; outside a kernel the widget's bundle is
    None and IPython shows ``repr(job)``.
    """
    if shell is None:
        ipython = sys.modules.get("IPython")
        shell = ipython.get_ipython() if ipython is not None else None
    formatters = getattr(shell, "display_formatter", None)
    if formatters is not None:
        formatters.mimebundle_formatter.for_type_by_name(
            "qmon_jupyter.jobs.job", "ExecutionJob", _job_mimebundle
        )


_register_job_display()


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    """Declare the server extension: REST API, event stream, page and metrics."""
    from .server.extension import QmonExtension

    return [{"module": "qmon_jupyter", "app": QmonExtension}]
