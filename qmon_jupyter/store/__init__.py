"""The persistent store: SQLite in WAL mode, shared by every kernel and the server.

Kernels mirror their jobs into it with :class:`StoreWriter` (see
:func:`attach_store`); the server extension reads it and writes commands that
the owning kernel carries out. See DESIGN.md, section Store.
"""

from ._paths import default_path, pid_alive
from ._store import Store, StoreUnavailable, StoreWarning
from ._writer import StoreWriter, attach_store, get_store

__all__ = [
    "Store",
    "StoreUnavailable",
    "StoreWarning",
    "StoreWriter",
    "attach_store",
    "default_path",
    "get_store",
    "pid_alive",
]
