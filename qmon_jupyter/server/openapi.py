"""The OpenAPI 3.1 document of the qmon REST API, served at ``openapi.json``.

Its ``paths`` come from the route table (routes.py) and its ``Job`` schema
from the snapshot's field table (``core.snapshot.FIELDS``). OpenAPI 3.1,
because its schemas are JSON Schema 2020-12, as ``snapshot_schema()`` is:
the served ``Job`` schema is that schema, not a translation of it.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.utils import url_path_join

from qmon_jupyter._version import __version__
from qmon_jupyter.core.snapshot import snapshot_schema

from .routes import ROUTES, Route, json_reply, ref

__all__ = ["openapi_document"]

_ERROR = json_reply(ref("Error"), "An error, as JSON")
_ERRORS = {
    "400": {**_ERROR, "description": "Bad input (unknown parameter, bad value, bad id)"},
    "401": {**_ERROR, "description": "No credentials (token or login cookie)"},
    "403": {**_ERROR, "description": "Not authenticated or not authorized"},
    "404": {**_ERROR, "description": "Unknown id"},
    "503": {**_ERROR, "description": "The store is locked or missing"},
}


def _job_schema() -> dict[str, Any]:
    schema = snapshot_schema()
    return {**schema, "description": f"{schema['description']}; readers accept unknown keys"}


_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["message"],
        "properties": {
            "message": {"type": "string"},
            "reason": {"type": ["string", "null"]},
        },
    },
    "Job": _job_schema(),
    "JobList": {
        "type": "object",
        "required": ["jobs", "total"],
        "properties": {
            "jobs": {"type": "array", "items": ref("Job")},
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
            "title": {"type": ["string", "null"]},
            "message": {"type": ["string", "null"]},
            "job_id": {"type": ["string", "null"]},
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
            "success_rate": {"type": ["number", "null"]},
            "mean_duration_s": {"type": ["number", "null"]},
            "median_duration_s": {"type": ["number", "null"]},
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
            "pid": {"type": ["integer", "null"]},
            "host": {"type": ["string", "null"]},
            "state": {"type": "string"},
            "alive": {"type": "boolean"},
            "started_at": {"type": ["string", "null"]},
            "last_heartbeat": {"type": "string"},
            "last_seen_s_ago": {"type": "number"},
            "active_jobs": {"type": "integer", "minimum": 0},
            "executors": {
                "type": "array",
                "items": ref("Cluster"),
                "description": "The clusters its executors run on, as of its last heartbeat",
            },
        },
    },
    "Status": {
        "type": "object",
        "required": ["version", "kernels", "providers", "store"],
        "properties": {
            "version": {"type": "string"},
            "kernels": {"type": "array", "items": ref("Kernel")},
            "providers": {"type": "array", "items": {"type": "object"}},
            "store": {"type": "object"},
        },
    },
    "Resources": {
        "type": "object",
        "required": ["latest", "history", "kernels"],
        "properties": {
            "latest": {"type": ["object", "null"]},
            "history": {"type": "array", "items": {"type": "object"}},
            "kernels": {"type": "object", "description": "kernel id -> its latest sample"},
            "server": {"type": ["object", "null"]},
        },
    },
}


def _operation(route: Route, chosen: dict[str, str]) -> dict[str, Any]:
    summary = route.summary.format(**chosen)
    operation: dict[str, Any] = {
        "summary": summary[:1].upper() + summary[1:],
        "parameters": [p.openapi() for p in route.params if p.name not in chosen],
        "responses": {str(route.status): route.reply, **_ERRORS},
    }
    if route.body is not None:
        content = {"application/json": {"schema": route.body}}
        operation["requestBody"] = {"required": False, "content": content}
    if route.conflict is not None:
        operation["responses"]["409"] = {**_ERROR, "description": route.conflict}
    return operation


def _paths() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for route in ROUTES:
        for path, chosen in route.concrete_paths().items():
            paths.setdefault(path, {})[route.method.lower()] = _operation(route, chosen)
    return paths


def openapi_document(base_url: str = "/") -> dict[str, Any]:
    """Build the OpenAPI 3.1 document, with the server URL under ``base_url``."""
    return {
        "openapi": "3.1.0",
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
