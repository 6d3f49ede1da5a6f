"""The vocabulary every layer speaks: states, actions, the snapshot's fields, identity, time.

This is the bottom layer: it imports nothing of the package but
:mod:`qmon_jupyter.errors`, and everything else may import it.
"""

from .actions import ACTIONS, Action, refusal
from .identity import detect_kernel_id, detect_owner
from .snapshot import FIELDS, SCHEMA_VERSION, SNAPSHOT_KEYS, make_snapshot, snapshot_schema
from .states import ACTIVE, TERMINAL, TRANSITIONS, JobStatus, JobType, can_transition
from .timefmt import iso_now, iso_utc

__all__ = [
    "ACTIONS",
    "ACTIVE",
    "FIELDS",
    "SCHEMA_VERSION",
    "SNAPSHOT_KEYS",
    "TERMINAL",
    "TRANSITIONS",
    "Action",
    "JobStatus",
    "JobType",
    "can_transition",
    "detect_kernel_id",
    "detect_owner",
    "iso_now",
    "iso_utc",
    "make_snapshot",
    "refusal",
    "snapshot_schema",
]
