"""Settings users put in their Jupyter config: ``c.QmonConfig.kernel_timeout = 5``."""

from __future__ import annotations

from traitlets import Float, Int, Unicode
from traitlets.config import Configurable

__all__ = ["QmonConfig"]


class QmonConfig(Configurable):
    """Configuration of the qmon server extension (and of the standalone server)."""

    db_path = Unicode(
        "",
        help=(
            "Path of the qmon SQLite store. Empty: the QMON_DB environment variable, else "
            "jupyter_data_dir()/qmon/qmon.sqlite. When set, the server exports it as QMON_DB "
            "so the kernels it starts write the same store."
        ),
    ).tag(config=True)
    kernel_timeout = Float(
        3.0,
        help=(
            "Seconds without a heartbeat after which a kernel whose process is gone counts as "
            "dead; its unfinished jobs are marked failed ('kernel died')."
        ),
    ).tag(config=True)
    stale_timeout = Float(
        60.0,
        help=(
            "Seconds without a heartbeat after which a kernel counts as dead even when its "
            "process cannot be checked (another host)."
        ),
    ).tag(config=True)
    liveness_interval = Float(1.0, help="Seconds between kernel liveness checks.").tag(config=True)
    poll_interval = Float(
        0.1, help="Seconds between polls of the store for new events (event stream)."
    ).tag(config=True)
    sse_heartbeat = Float(
        15.0, help="Seconds between heartbeat comments on an idle event stream."
    ).tag(config=True)
    max_jobs = Int(10_000, help="Retention: finished jobs kept in the store.").tag(config=True)
    workers = Int(4, help="Threads that read the store for REST requests.").tag(config=True)
