"""The one table of qmon's REST routes under ``{base_url}api/qmon/``.

Each :class:`Route` names its method, path, handler, parameters, body and
replies. From :data:`ROUTES` come the tornado routes (the extension's and
the standalone server's), every handler's parameter checks
(``QmonAPIHandler.args``) and the OpenAPI ``paths`` (openapi.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from jupyter_server.utils import url_path_join

from qmon_jupyter.core.actions import ACTIONS
from qmon_jupyter.core.columns import SORT_CHOICES
from qmon_jupyter.core.search import MAX_QUERY
from qmon_jupyter.core.states import JobStatus, JobType

from . import handlers as h
from ._params import Param
from .page import PageHandler, StaticHandler
from .sse import EventStreamHandler

__all__ = ["ROUTES", "Route", "default_handlers", "routes"]

MAX_LIMIT = 1000
MAX_OFFSET = 10**9


def ref(name: str) -> dict[str, str]:
    """Refer to one of the document's component schemas."""
    return {"$ref": f"#/components/schemas/{name}"}


def json_reply(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """Describe an OpenAPI response with a JSON body."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


@dataclass(frozen=True)
class Route:
    """One REST endpoint (or one per choice of a ``choice`` path parameter).

    ``path`` is relative to ``api/qmon/``, with ``{name}`` for each path
    parameter; ``reply`` is the OpenAPI response of success (``status``);
    ``body`` the JSON Schema of a POST's body; ``conflict`` the 409's meaning.
    """

    method: str
    path: str
    handler: type
    summary: str
    reply: dict[str, Any]
    params: tuple[Param, ...] = ()
    status: int = 200
    body: dict[str, Any] | None = None
    conflict: str | None = None

    def param(self, name: str) -> Param:
        """Return the parameter called ``name``."""
        return next(p for p in self.params if p.name == name)

    def pattern(self) -> str:
        """Return the tornado regex: ``{job_id}`` matches a segment, ``{action}`` its choices."""

        def group(match: re.Match[str]) -> str:
            param = self.param(match.group(1))
            inner = "|".join(map(re.escape, param.choices)) if param.kind == "choice" else "[^/]+"
            return f"(?P<{param.name}>{inner})"

        parts = re.split(r"(\{\w+\})", self.path)
        return "".join(
            re.sub(r"\{(\w+)\}", group, part) if part.startswith("{") else re.escape(part)
            for part in parts
        )

    def concrete_paths(self) -> dict[str, dict[str, str]]:
        """OpenAPI path -> the values of its ``choice`` path parameters (one per choice)."""
        paths: dict[str, dict[str, str]] = {self.path: {}}
        for param in self.params:
            if param.where == "path" and param.kind == "choice":
                paths = {
                    path.replace(f"{{{param.name}}}", choice): {**chosen, param.name: choice}
                    for path, chosen in paths.items()
                    for choice in param.choices
                }
        return {f"/{path}": chosen for path, chosen in paths.items()}


_STATUS = Param(
    "status", "list", "Statuses, e.g. running,queued", choices=tuple(s.value for s in JobStatus)
)
_TYPE = Param("type", "list", "Job types, e.g. simulation", choices=tuple(t.value for t in JobType))
_KERNEL = Param("kernel", "list", "Kernel ids")
_FILTERS = (_STATUS, _TYPE, _KERNEL)
_QUERY = Param(
    "q", "text", "Only jobs whose name or id contains this (ASCII case ignored)", hi=MAX_QUERY
)
_PARENT = Param(
    "parent", "id", "A session's id: its jobs (absent: top-level jobs only)", default=""
)
_SORT = Param(
    "sort",
    "choice",
    "Sort by this column (-column: descending; jobs without a value come last),"
    " or dashboard: active first, then the latest finished",
    choices=SORT_CHOICES,
)
_OFFSET = Param("offset", "int", "Skip this many", default=0, lo=0, hi=MAX_OFFSET)
_JOB_ID = Param("job_id", "id", "Job id", where="path")
_NOTE_ID = Param("notification_id", "id", "Notification id", where="path")
_ACTION = Param("action", "choice", "What to do", where="path", choices=ACTIONS)
_REASON_BODY = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"reason": {"type": "string", "maxLength": 1000}},
}


def _limit(default: int) -> Param:
    return Param("limit", "int", "Page size", default=default, lo=1, hi=MAX_LIMIT)


#: every REST route; the JSON 404 for any other path is added after them
ROUTES: tuple[Route, ...] = (
    Route(
        "GET",
        "dashboard",
        h.DashboardHandler,
        "Jobs (active first, then recent), hardware, status, resources, stats, notifications",
        json_reply({"type": "object", "required": ["jobs", "total", "stats"]}, "The dashboard"),
        (_limit(100),),
    ),
    Route(
        "GET",
        "jobs",
        h.JobsHandler,
        "Jobs over every kernel, newest first unless sorted (top-level; a session's with parent=)",
        json_reply(ref("JobList"), "A page of jobs"),
        (*_FILTERS, _QUERY, _PARENT, _SORT, _limit(50), _OFFSET),
    ),
    Route(
        "GET",
        "jobs/{job_id}",
        h.JobHandler,
        "One job",
        json_reply(ref("Job"), "The snapshot"),
        (_JOB_ID,),
    ),
    Route(
        "POST",
        "jobs/{job_id}/{action}",
        h.JobActionHandler,
        "{action} a job (the owning kernel acts within ~1 s)",
        json_reply(
            ref("Job"),
            "Accepted: the snapshot when the command was queued (pausing a paused job"
            " or resuming a running one is accepted and changes nothing)",
        ),
        (_JOB_ID, _ACTION),
        status=202,
        body=_REASON_BODY,
        conflict=(
            "The state (finished, or not started for pause/resume), the provider"
            " (capability missing) or the kernel (dead, stopped) forbids it"
        ),
    ),
    Route(
        "GET",
        "hardware",
        h.HardwareHandler,
        "Provider jobs: provider status, queue position, last poll, health",
        json_reply(ref("Hardware"), "Provider jobs"),
        (_limit(200),),
    ),
    Route(
        "GET",
        "status",
        h.StatusHandler,
        "Kernels (alive, last heartbeat, executor clusters: address, workers, threads,"
        " memory), providers, store, version",
        json_reply(ref("Status"), "Status"),
    ),
    Route(
        "GET",
        "resources",
        h.ResourcesHandler,
        "CPU and memory per kernel, with recent history",
        json_reply(ref("Resources"), "Resources"),
    ),
    Route(
        "GET",
        "stats",
        h.StatsHandler,
        "Counts by status and type, durations, throughput, success rate",
        json_reply(ref("Stats"), "Statistics"),
    ),
    Route(
        "GET",
        "notifications",
        h.NotificationsHandler,
        "Notifications, newest first",
        json_reply(
            {
                "type": "object",
                "required": ["notifications"],
                "properties": {"notifications": {"type": "array", "items": ref("Notification")}},
            },
            "Notifications",
        ),
        (
            Param("include_dismissed", "bool", "Also dismissed ones", default=False),
            _limit(100),
        ),
    ),
    Route(
        "POST",
        "notifications/{notification_id}/dismiss",
        h.DismissHandler,
        "Dismiss a notification",
        json_reply(ref("Notification"), "Accepted: the dismissed notification"),
        (_NOTE_ID,),
        status=202,
        body=_REASON_BODY,
        conflict="The notification is already dismissed",
    ),
    Route(
        "GET",
        "events",
        EventStreamHandler,
        "Server-Sent Events of job and notification events; resumable with Last-Event-ID",
        {
            "description": "An endless text/event-stream (id: seq, event: kind, data: JSON)",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        (
            Param(
                "Last-Event-ID",
                "opaque",
                "Resume after this event",
                where="header",
                schema={"type": "string", "pattern": "^[0-9]{1,18}$"},
            ),
            Param(
                "last_event_id",
                "opaque",
                "Same as the header, for clients that cannot set it",
                schema={"type": "integer", "minimum": 0},
            ),
        ),
    ),
    Route(
        "GET",
        "export",
        h.ExportHandler,
        "The job history as a download",
        {
            "description": "JSON or CSV",
            "content": {
                "application/json": {"schema": {"type": "object", "required": ["jobs"]}},
                "text/csv": {"schema": {"type": "string"}},
            },
        },
        (
            Param("format", "choice", "Download format", default="json", choices=("json", "csv")),
            *_FILTERS,
        ),
    ),
    Route(
        "GET",
        "openapi.json",
        h.OpenAPIHandler,
        "This document",
        json_reply({"type": "object", "required": ["openapi", "paths"]}, "OpenAPI"),
    ),
)

#: the tornado routes relative to ``{base_url}api/qmon/``: each with its Route, then the
#: JSON 404 for any other path
default_handlers: list[tuple[str, type, dict[str, Any]]] = [
    *((route.pattern(), route.handler, {"route": route}) for route in ROUTES),
    (r"(.*)", h.NotFoundHandler, {}),
]


def routes(base_url: str) -> list[tuple[str, type, dict[str, Any]]]:
    """Every qmon route under ``base_url``: the API, then the page and its static files."""
    api = [(url_path_join(base_url, "api", "qmon", p), cls, kw) for p, cls, kw in default_handlers]
    return [
        *api,
        (url_path_join(base_url, "qmon") + "/?", PageHandler, {}),
        (url_path_join(base_url, "qmon", "static", "(.*)"), StaticHandler, {}),
    ]
