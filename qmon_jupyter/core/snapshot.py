"""The job snapshot: the one JSON object that describes a job, schema version 1.

The widget, the store, REST and the event stream all carry this dict; it is
built here and nowhere else. Every value is JSON-safe (str, int, float, bool,
None, lists and dicts of those). Readers must accept keys they do not know
(``resumed_from`` is one such extra key), and writers add keys only here.

Extra keys every snapshot has: ``executor_info``, the executor's own
description (``executor.info()``, e.g. ``{"name": "dask", "address",
"workers"}``) or null when the job's executor has none; ``executor`` stays
the executor's name (a string).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .states import JobStatus, JobType
from .timefmt import iso_utc

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "FIELDS",
    "SCHEMA_VERSION",
    "SNAPSHOT_KEYS",
    "TOP_OUTCOMES",
    "Field",
    "make_snapshot",
    "snapshot_schema",
]

SCHEMA_VERSION = 1

_STR = {"type": "string"}
_NUM = {"type": "number"}
_INT = {"type": "integer"}
_TIME = {"type": "string", "format": "date-time"}
_OBJ = {"type": "object"}


@dataclass(frozen=True)
class Field:
    """One key of a job snapshot.

    Attributes
    ----------
    name
        The key.
    schema
        Its JSON Schema, without null (``nullable`` adds it).
    doc
        What it means (the OpenAPI document's description).
    nullable
        Whether null is a valid value.
    always
        Whether every snapshot has the key (else only some jobs carry it).
    """

    name: str
    schema: dict[str, Any]
    doc: str
    nullable: bool = False
    always: bool = True


#: Every key a version-1 snapshot may have, in display order: the one
#: definition the OpenAPI ``Job`` schema, the store and the widget follow.
FIELDS: tuple[Field, ...] = (
    Field("schema", {"type": "integer", "const": SCHEMA_VERSION}, "Snapshot schema version"),
    Field("id", _STR, "Job id (12 hex digits for kernel jobs)"),
    Field("name", _STR, "What the user called the job"),
    Field("type", {"type": "string", "enum": [t.value for t in JobType]}, "Kind of work"),
    Field("status", {"type": "string", "enum": [s.value for s in JobStatus]}, "Where the job is"),
    Field("progress", {"type": "number", "minimum": 0, "maximum": 1}, "Fraction done"),
    Field("done", _NUM, "Units done"),
    Field("total", _NUM, "Units in all; null when unknown", nullable=True),
    Field("unit", _STR, "What done and total count: shots, steps, iterations, ..."),
    Field("stage", _STR, "The current stage's name", nullable=True),
    Field("message", _STR, "A short line about the job now", nullable=True),
    Field("rate", _NUM, "Units per second (running jobs only)", nullable=True),
    Field("eta_s", _NUM, "Seconds left, smoothed; null when unknown", nullable=True),
    Field("queue_position", _INT, "1 for the next job to start; null if not queued", nullable=True),
    Field("backend", _STR, "Where the job runs: local, dask, a provider's device"),
    Field("executor", _STR, "The executor's name; null for provider jobs", nullable=True),
    Field("owner", _STR, "The user who runs the kernel"),
    Field("kernel_id", _STR, "The kernel (or pid-<pid> process) the job belongs to"),
    Field("created_at", _TIME, "When the job was made (ISO 8601 UTC)"),
    Field("started_at", _TIME, "When it first ran", nullable=True),
    Field("finished_at", _TIME, "When it ended", nullable=True),
    Field("elapsed_s", _NUM, "Seconds it has run", nullable=True),
    Field(
        "error",
        {
            "type": "object",
            "required": ["type", "message"],
            "properties": {"type": _STR, "message": _STR},
        },
        "Why a failed job failed",
        nullable=True,
    ),
    Field(
        "result_summary",
        {
            "type": "object",
            "properties": {
                "top": {
                    "type": "array",
                    "items": {"type": "array", "minItems": 2, "maxItems": 2},
                },
                "shots": _INT,
                "registers": {
                    "type": "array",
                    "items": {"type": "array", "minItems": 2, "maxItems": 2},
                },
            },
        },
        "The most frequent outcomes ([bitstring, count], most frequent first), shots, and"
        " the classical registers ([name, size], declared order) when there are several",
        nullable=True,
    ),
    Field(
        "capabilities",
        {
            "type": "object",
            "required": ["cancel", "pause", "queue_position", "eta"],
            "properties": {
                "cancel": {"type": "boolean"},
                "pause": {"type": "boolean"},
                "queue_position": {"type": "boolean"},
                "eta": {"type": "boolean"},
            },
        },
        "What the job's backend can do",
    ),
    Field("provider", _OBJ, "A provider job's own fields (job id, device, status)", nullable=True),
    Field("seed", _INT, "The seed a simulation runs with", nullable=True),
    Field("updated_at", _TIME, "When the snapshot last changed"),
    Field(
        "executor_info", _OBJ, "The executor's own description (e.g. Dask workers)", nullable=True
    ),
    Field("memory_bytes", _INT, "The engine's memory estimate (simulations)", always=False),
    Field(
        "precision",
        {"type": "string", "enum": ["single", "double"]},
        "complex64 (single) or complex128 (double) amplitudes (simulations)",
        always=False,
    ),
    Field("resumed_from", _STR, "The job this one continues from a checkpoint", always=False),
    Field(
        "detached",
        {"type": "boolean"},
        "A provider job whose kernel died: it runs on at its provider, followed by no kernel"
        " until qmon.reattach() (provider.locator says where to find it)",
        always=False,
    ),
    Field("parent_id", _STR, "The session this job belongs to (absent: top level)", always=False),
)

#: Every key every version-1 snapshot has, in display order.
SNAPSHOT_KEYS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.always)
_KNOWN = frozenset(f.name for f in FIELDS)

#: How many outcomes ``result_summary["top"]`` keeps.
TOP_OUTCOMES = 16


def snapshot_schema() -> dict[str, Any]:
    """Return the JSON Schema (2020-12) of a snapshot, derived from :data:`FIELDS`.

    Readers accept keys they do not know; writers add keys only through
    :data:`FIELDS` (:func:`make_snapshot` refuses an undeclared one).
    """
    properties = {}
    for f in FIELDS:
        schema = dict(f.schema)
        if f.nullable:
            schema = {"anyOf": [schema, {"type": "null"}]}
        properties[f.name] = {**schema, "description": f.doc}
    return {
        "type": "object",
        "description": f"A job snapshot (schema version {SCHEMA_VERSION})",
        "required": list(SNAPSHOT_KEYS),
        "properties": properties,
    }


def _finite(value: float | None) -> float | None:
    # NaN and infinity are not JSON; an unknown rate or ETA is null.
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _executor_info(info: dict | Callable[[], dict | None] | None) -> dict | None:
    if callable(info):
        try:
            info = info()
        except Exception:  # a snapshot never fails because an executor cannot describe itself
            return None
    return dict(info) if isinstance(info, dict) else None


def make_snapshot(
    *,
    id: str,  # noqa: A002 - the snapshot's key
    name: str,
    type: str,  # noqa: A002 - the snapshot's key
    status: str,
    progress: float,
    done: float,
    total: float | None,
    unit: str,
    stage: str | None,
    message: str | None,
    rate: float | None,
    eta_s: float | None,
    queue_position: int | None,
    backend: str,
    executor: str | None,
    owner: str,
    kernel_id: str,
    created_at: float,
    started_at: float | None,
    finished_at: float | None,
    elapsed_s: float | None,
    error: dict | None,
    result_summary: dict | None,
    capabilities: dict[str, bool],
    provider: dict | None,
    seed: int | None,
    updated_at: float,
    executor_info: dict | Callable[[], dict | None] | None = None,
    **extra: Any,
) -> dict:
    """Build a version-1 snapshot; times are epoch seconds, rendered as ISO 8601 UTC.

    ``executor_info`` is a dict or a callable returning one (an executor's
    bound ``info``, asked now so the worker count is current); it becomes
    the ``executor_info`` key (null when absent or when asking fails).
    ``extra`` keys (for example ``resumed_from``) are appended after the
    schema's keys; they must be JSON-safe.
    """
    done_value: float = done if isinstance(done, int) else float(done)
    snapshot = {
        "schema": SCHEMA_VERSION,
        "id": id,
        "name": name,
        "type": str(type),
        "status": str(status),
        "progress": min(1.0, max(0.0, float(progress))),
        "done": done_value,
        "total": total,
        "unit": unit,
        "stage": stage,
        "message": message,
        "rate": _finite(rate),
        "eta_s": _finite(eta_s),
        "queue_position": queue_position,
        "backend": backend,
        "executor": executor,
        "owner": owner,
        "kernel_id": kernel_id,
        "created_at": iso_utc(created_at),
        "started_at": iso_utc(started_at),
        "finished_at": iso_utc(finished_at),
        "elapsed_s": _finite(elapsed_s),
        "error": error,
        "result_summary": result_summary,
        "capabilities": {
            "cancel": bool(capabilities.get("cancel", False)),
            "pause": bool(capabilities.get("pause", False)),
            "queue_position": bool(capabilities.get("queue_position", False)),
            "eta": bool(capabilities.get("eta", False)),
        },
        "provider": provider,
        "seed": seed,
        "updated_at": iso_utc(updated_at),
        "executor_info": _executor_info(executor_info),
    }
    unknown = extra.keys() - _KNOWN
    if unknown:
        msg = (
            f"snapshot keys {sorted(unknown)} are not declared in qmon_jupyter.core.snapshot.FIELDS"
        )
        raise ValueError(msg)
    snapshot.update(extra)
    return snapshot
