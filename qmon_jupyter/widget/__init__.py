"""The notebook widgets: the kernel's dashboard and the per-job widget.

Both are anywidgets whose front end is built from ``js/`` into
``qmon_jupyter/static/``; they sync through one publisher thread that
coalesces job events into at most ten small updates a second per widget.
"""

from ._dashboard import ExecutionDashboard, dashboard, get_dashboard
from ._job import JobWidget, job_mimebundle
from ._progress import progress

__all__ = [
    "ExecutionDashboard",
    "JobWidget",
    "dashboard",
    "get_dashboard",
    "job_mimebundle",
    "progress",
]
