"""The OpenAPI 3 document of the qmon REST API, served at ``openapi.json``.

Kept beside the routes (handlers.py); a test checks that both list the same paths.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.utils import url_path_join

from qmon_jupyter._version import __version__

from ._base import ID_PATTERN

__all__ = ["openapi_document"]

_STATUSES = ["pending", "queued", "running", "paused", "completed", "failed", "cancelled"]
_TYPES = ["simulation", "hardware", "optimization", "analysis"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERROR = _json(_ref("Error"), "An error, as JSON")
_ERRORS = {
    "400": {**_ERROR, "description": "Bad input (unknown parameter, bad value, bad id)"},
    "401": {**_ERROR, "description": "No credentials (token or login cookie)"},
    "403": {**_ERROR, "description": "Not authenticated or not authorized"},
    "404": {**_ERROR, "description": "Unknown id"},
    "503": {**_ERROR, "description": "The store is locked or missing"},
}


def _list_of(item: str) -> dict[str, Any]:
    return {
        "type": "string",
        "description": "Comma-separated values",
        "pattern": f"^({item})(,({item}))*$",
        "maxLength": 2000,
    }


def _param(name: str, schema: dict[str, Any], description: str, where: str = "query") -> dict:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "schema": schema,
        "description": description,
    }


_LIMIT = _param("limit", {"type": "integer", "minimum": 1, "maximum": 1000}, "Page size")
_OFFSET = _param("offset", {"type": "integer", "minimum": 0, "maximum": 10**9}, "Skip this many")
_FILTERS = [
    _param("status", _list_of("|".join(_STATUSES)), "Statuses, e.g. running,queued"),
    _param("type", _list_of("|".join(_TYPES)), "Job types, e.g. simulation"),
    _param("kernel", _list_of(ID_PATTERN), "Kernel ids"),
]
_JOB_ID = _param("job_id", {"type": "string", "pattern": f"^{ID_PATTERN}$"}, "Job id", "path")
_NOTE_ID = _param(
    "notification_id",
    {"type": "string", "pattern": f"^{ID_PATTERN}$"},
    "Notification id",
    "path",
)
_ACTION_BODY = {
    "required": False,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "additionalProperties": False,
                "properties": {"reason": {"type": "string", "maxLength": 1000}},
            }
        }
    },
}

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["message"],
        "properties": {
            "message": {"type": "string"},
            "reason": {"type": "string", "nullable": True},
        },
    },
    "Job": {
        "type": "object",
        "description": "A job snapshot (schema version 1); readers accept unknown keys",
        "required": ["id", "status", "type"],
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string", "nullable": True},
            "status": {"type": "string", "enum": _STATUSES},
            "type": {"type": "string"},
            "progress": {"type": "number", "nullable": True},
            "kernel_id": {"type": "string", "nullable": True},
            "capabilities": {"type": "object", "nullable": True},
            "error": {"type": "object", "nullable": True},
            "executor": {
                "type": "string",
                "nullable": True,
                "description": "The executor's name (local, dask, ...)",
            },
            "executor_info": {
                "type": "object",
                "nullable": True,
                "description": "The executor's description, e.g. {name, address, workers}",
            },
        },
    },
    "JobList": {
        "type": "object",
        "required": ["jobs", "total"],
        "properties": {
            "jobs": {"type": "array", "items": _ref("Job")},
            "total": {"type": "integer", "minimum": 0},
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
        },
    },
    "Notification": {
        "type": "object",
        "required": ["id", "level", "dismissed"],
        "properties": {
            "id": {"type": "string"},
            "level": {"type": "string"},
            "title": {"type": "string", "nullable": True},
            "message": {"type": "string", "nullable": True},
            "job_id": {"type": "string", "nullable": True},
            "dismissed": {"type": "boolean"},
        },
    },
    "Stats": {
        "type": "object",
        "required": ["total", "by_status", "by_type", "success_rate"],
        "properties": {
            "total": {"type": "integer"},
            "by_status": {"type": "object", "additionalProperties": {"type": "integer"}},
            "by_type": {"type": "object", "additionalProperties": {"type": "integer"}},
            "success_rate": {"type": "number", "nullable": True},
            "mean_duration_s": {"type": "number", "nullable": True},
            "median_duration_s": {"type": "number", "nullable": True},
            "throughput": {"type": "object"},
        },
    },
    "Hardware": {
        "type": "object",
        "required": ["jobs", "providers"],
        "properties": {
            "jobs": {"type": "array", "items": {"type": "object"}},
            "total": {"type": "integer"},
            "providers": {"type": "array", "items": {"type": "object"}},
        },
    },
    "Cluster": {
        "type": "object",
        "description": "The cluster behind one of a kernel's executors (e.g. Dask)",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "description": "The executor's name, e.g. dask"},
            "address": {"type": "string", "description": "The scheduler's address"},
            "status": {"type": "string", "description": "running, closed, error: ..."},
            "workers": {"type": "integer", "minimum": 0},
            "threads": {"type": "integer", "minimum": 0},
            "memory_bytes": {"type": "integer", "minimum": 0, "description": "Workers' limits"},
            "memory_used_bytes": {"type": "integer", "minimum": 0},
        },
    },
    "Kernel": {
        "type": "object",
        "required": ["kernel_id", "alive"],
        "properties": {
            "kernel_id": {"type": "string"},
            "pid": {"type": "integer", "nullable": True},
            "host": {"type": "string", "nullable": True},
            "state": {"type": "string"},
            "alive": {"type": "boolean"},
            "started_at": {"type": "string", "nullable": True},
            "last_heartbeat": {"type": "string"},
            "last_seen_s_ago": {"type": "number"},
            "active_jobs": {"type": "integer", "minimum": 0},
            "executors": {
                "type": "array",
                "items": _ref("Cluster"),
                "description": "The clusters its executors run on, as of its last heartbeat",
            },
        },
    },
    "Status": {
        "type": "object",
        "required": ["version", "kernels", "providers", "store"],
        "properties": {
            "version": {"type": "string"},
            "kernels": {"type": "array", "items": _ref("Kernel")},
            "providers": {"type": "array", "items": {"type": "object"}},
            "store": {"type": "object"},
        },
    },
    "Resources": {
        "type": "object",
        "required": ["latest", "history", "kernels"],
        "properties": {
            "latest": {"type": "object", "nullable": True},
            "history": {"type": "array", "items": {"type": "object"}},
            "kernels": {"type": "object", "description": "kernel id -> its latest sample"},
            "server": {"type": "object", "nullable": True},
        },
    },
}


def _get(summary: str, ok: dict[str, Any], params: list[dict] | None = None, **extra: Any) -> dict:
    return {
        "get": {
            "summary": summary,
            "parameters": params or [],
            "responses": {"200": ok, **_ERRORS},
            **extra,
        }
    }


def _post(summary: str, ok: dict[str, Any], params: list[dict]) -> dict:
    return {
        "post": {
            "summary": summary,
            "parameters": params,
            "requestBody": _ACTION_BODY,
            "responses": {
                "202": ok,
                **_ERRORS,
                "409": {
                    **_ERROR,
                    "description": (
                        "The state (finished, or not started for pause/resume), the provider"
                        " (capability missing) or the kernel (dead, stopped) forbids it"
                    ),
                },
            },
        }
    }


def _paths() -> dict[str, Any]:
    action = {
        f"/jobs/{{job_id}}/{verb}": _post(
            f"{verb.capitalize()} a job (the owning kernel acts within ~1 s)",
            _json(
                _ref("Job"),
                "Accepted: the snapshot when the command was queued (pausing a paused job"
                " or resuming a running one is accepted and changes nothing)",
            ),
            [_JOB_ID],
        )
        for verb in ("cancel", "pause", "resume")
    }
    return {
        "/dashboard": _get(
            "Jobs (active first, then recent), hardware, status, resources, stats, notifications",
            _json({"type": "object", "required": ["jobs", "total", "stats"]}, "The dashboard"),
            [_LIMIT],
        ),
        "/jobs": _get(
            "Jobs over every kernel, newest first",
            _json(_ref("JobList"), "A page of jobs"),
            [*_FILTERS, _LIMIT, _OFFSET],
        ),
        "/jobs/{job_id}": _get("One job", _json(_ref("Job"), "The snapshot"), [_JOB_ID]),
        **action,
        "/hardware": _get(
            "Provider jobs: provider status, queue position, last poll, health",
            _json(_ref("Hardware"), "Provider jobs"),
            [_LIMIT],
        ),
        "/status": _get(
            "Kernels (alive, last heartbeat, executor clusters: address, workers, threads,"
            " memory), providers, store, version",
            _json(_ref("Status"), "Status"),
        ),
        "/resources": _get(
            "CPU and memory per kernel, with recent history",
            _json(_ref("Resources"), "Resources"),
        ),
        "/stats": _get(
            "Counts by status and type, durations, throughput, success rate",
            _json(_ref("Stats"), "Statistics"),
        ),
        "/notifications": _get(
            "Notifications, newest first",
            _json(
                {
                    "type": "object",
                    "required": ["notifications"],
                    "properties": {
                        "notifications": {"type": "array", "items": _ref("Notification")}
                    },
                },
                "Notifications",
            ),
            [
                _param("include_dismissed", {"type": "boolean"}, "Also dismissed ones"),
                _LIMIT,
            ],
        ),
        "/notifications/{notification_id}/dismiss": _post(
            "Dismiss a notification",
            _json(_ref("Notification"), "Accepted: the dismissed notification"),
            [_NOTE_ID],
        ),
        "/events": _get(
            "Server-Sent Events of job and notification events; resumable with Last-Event-ID",
            {
                "description": "An endless text/event-stream (id: seq, event: kind, data: JSON)",
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
            },
            [
                _param(
                    "Last-Event-ID",
                    {"type": "string", "pattern": "^[0-9]{1,18}$"},
                    "Resume after this event",
                    "header",
                ),
                _param(
                    "last_event_id",
                    {"type": "integer", "minimum": 0},
                    "Same as the header, for clients that cannot set it",
                ),
            ],
        ),
        "/export": _get(
            "The job history as a download",
            {
                "description": "JSON or CSV",
                "content": {
                    "application/json": {"schema": {"type": "object", "required": ["jobs"]}},
                    "text/csv": {"schema": {"type": "string"}},
                },
            },
            [
                _param("format", {"type": "string", "enum": ["json", "csv"]}, "Download format"),
                *_FILTERS,
            ],
        ),
        "/openapi.json": _get(
            "This document", _json({"type": "object", "required": ["openapi", "paths"]}, "OpenAPI")
        ),
    }


def openapi_document(base_url: str = "/") -> dict[str, Any]:
    """Build the OpenAPI 3.0 document, with the server URL under ``base_url``."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "qmon_jupyter REST API",
            "version": __version__,
            "description": (
                "Quantum job monitoring over every kernel of a Jupyter server. "
                "Authenticate with the Jupyter token (Authorization: token ...); "
                "POSTs with cookie authentication need the X-XSRFToken header."
            ),
        },
        "servers": [{"url": url_path_join(base_url, "api", "qmon")}],
        "security": [{"token": []}, {"cookie": []}],
        "paths": _paths(),
        "components": {
            "schemas": _SCHEMAS,
            "securitySchemes": {
                "token": {"type": "apiKey", "in": "header", "name": "Authorization"},
                "cookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "username-<host>",
                    "description": "Jupyter's login cookie; POSTs then need X-XSRFToken",
                },
            },
        },
    }
