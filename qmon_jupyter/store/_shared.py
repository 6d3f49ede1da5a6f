"""One :class:`Store` per file and process, shared by every writer and reader in it."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from ._paths import default_path
from ._store import Store

if TYPE_CHECKING:
    import os

__all__ = ["get_store"]

# guards _stores (path -> process-wide Store)
_stores_lock = threading.Lock()
_stores: dict[str, Store] = {}


def get_store(path: str | os.PathLike[str] | None = None) -> Store:
    """Return the process-wide :class:`Store` for ``path`` (default ``QMON_DB`` or data dir)."""
    key = str(path if path is not None else default_path())
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = Store(key)
        return store
