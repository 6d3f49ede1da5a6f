"""Provider jobs that outlive their kernel: detached when it dies, claimed again by a new one.

A dead kernel's unfinished job whose snapshot's ``provider`` has a
``locator`` (what is needed to find the job at its provider again, never a
credential) keeps its last known state and is marked ``detached``; any other
job fails ("kernel died"). ``qmon.reattach()`` then claims each detached job
for its own kernel, atomically, so that one kernel only follows it again.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ._schema import TERMINAL_SQL

if TYPE_CHECKING:
    import sqlite3
    from contextlib import AbstractContextManager

__all__ = ["NOT_DETACHED_SQL", "DetachedJobs", "detach"]

#: a WHERE condition on ``jobs``: the job is followed by its kernel (not detached)
NOT_DETACHED_SQL = "coalesce(json_extract(snapshot, '$.detached'), 0) = 0"
_DETACHED_SQL = f"status NOT IN {TERMINAL_SQL} AND NOT ({NOT_DETACHED_SQL})"


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), default=str)


def detach(snap: dict[str, Any], reason: str, now: str) -> bool:
    """Mark ``snap`` (an unfinished job of a dead kernel) detached in place; False if it cannot be.

    Only a provider job with a ``locator`` can be found again; its status and
    queue position stay the last ones known, as at the provider.
    """
    locator = (snap.get("provider") or {}).get("locator")
    if not isinstance(locator, dict):
        return False
    snap.update(
        detached=True,
        message=f"detached ({reason}): it runs on at its provider; qmon.reattach() follows it",
        updated_at=now,
        rate=None,
        eta_s=None,
    )
    return True


class DetachedJobs:
    """The store's detached provider jobs; mixed into :class:`Store` through ``StoreQueries``."""

    if TYPE_CHECKING:

        def _reading(self) -> AbstractContextManager[sqlite3.Connection]: ...
        def _tx(self) -> AbstractContextManager[sqlite3.Connection]: ...

    def detached_jobs(self) -> list[dict[str, Any]]:
        """Return the snapshots of every detached job, oldest first."""
        with self._reading() as c:
            rows = c.execute(
                f"SELECT snapshot FROM jobs WHERE {_DETACHED_SQL} ORDER BY created_at, rowid"  # noqa: S608
            ).fetchall()
        return [json.loads(raw) for (raw,) in rows]

    def claim_detached(self, job_id: str, kernel_id: str) -> dict[str, Any] | None:
        """Hand a detached job to ``kernel_id``; its snapshot, or None if it is not detached.

        Atomic: of two kernels that claim the same job, one gets it.
        """
        with self._tx() as c:
            row = c.execute(
                f"SELECT snapshot FROM jobs WHERE id=? AND {_DETACHED_SQL}",  # noqa: S608
                (job_id,),
            ).fetchone()
            if row is None:
                return None
            snap = json.loads(row[0])
            snap.pop("detached", None)
            snap.update(kernel_id=kernel_id, message=f"reattached by {kernel_id}")
            c.execute(
                "UPDATE jobs SET kernel_id=?, snapshot=? WHERE id=?",
                (kernel_id, _dumps(snap), job_id),
            )
        return snap

    def note_detached(self, job_id: str, message: str) -> None:
        """Set a detached job's message (why a reattach could not follow it)."""
        with self._tx() as c:
            row = c.execute(
                f"SELECT snapshot FROM jobs WHERE id=? AND {_DETACHED_SQL}",  # noqa: S608
                (job_id,),
            ).fetchone()
            if row is not None:
                snap = {**json.loads(row[0]), "message": message}
                c.execute("UPDATE jobs SET snapshot=? WHERE id=?", (_dumps(snap), job_id))
