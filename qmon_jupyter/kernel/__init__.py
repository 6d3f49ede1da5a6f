"""The kernel's side: one session's manager, store writer, resource sampler and data source.

It mirrors :mod:`qmon_jupyter.server`, the server's side. Both build on the
job layer, the store and :mod:`qmon_jupyter.dashboard_api`; the widget and
the magics build on this package.
"""

from .resources import ResourceMonitor, get_resource_monitor
from .session import MonitoredSimulationExecutor, get_manager, progress, resume, submit
from .source import ManagerSource, manager_api
from .store_writer import StoreWriter, attach_store

__all__ = [
    "ManagerSource",
    "MonitoredSimulationExecutor",
    "ResourceMonitor",
    "StoreWriter",
    "attach_store",
    "get_manager",
    "get_resource_monitor",
    "manager_api",
    "progress",
    "resume",
    "submit",
]
