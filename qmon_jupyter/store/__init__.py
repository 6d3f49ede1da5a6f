"""The persistent store: SQLite in WAL mode, shared by every kernel and the server.

This package is pure SQLite: it knows snapshots as JSON, never jobs. Kernels
mirror their jobs into it with :class:`~qmon_jupyter.kernel.StoreWriter`;
the server extension reads it and writes commands that the owning kernel
carries out.
"""

from ._paths import default_path, pid_alive
from ._shared import get_store
from ._store import Store, StoreUnavailable, StoreWarning

__all__ = [
    "Store",
    "StoreUnavailable",
    "StoreWarning",
    "default_path",
    "get_store",
    "pid_alive",
]
