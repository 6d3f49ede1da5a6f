"""The base of every qmon REST handler: auth resource, input checks, JSON replies."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from jupyter_server.base.handlers import APIHandler
from tornado import web

if TYPE_CHECKING:
    from .routes import Route
    from .service import QmonService

__all__ = ["AUTH_RESOURCE", "QmonAPIHandler"]

#: the resource every qmon handler is authorized against (read for GET, write for POST)
AUTH_RESOURCE = "qmon"

#: query parameters any Jupyter request may carry, accepted everywhere
_ALWAYS_ALLOWED = frozenset({"token", "_xsrf", "no_track_activity"})


class QmonAPIHandler(APIHandler):
    """JSON API handler with qmon's shared service and strict input checks."""

    auth_resource = AUTH_RESOURCE
    #: this handler's entry in the route table (None for the JSON 404)
    route: Route | None = None

    def initialize(self, route: Route | None = None) -> None:
        """Take the handler's :class:`~qmon_jupyter.server.routes.Route` (tornado's kwargs)."""
        self.route = route

    @property
    def qmon(self) -> QmonService:
        """The server's :class:`QmonService`."""
        return self.settings["qmon"]

    @property
    def user_name(self) -> str | None:
        """Who made the request (for the audit trail)."""
        user = self.current_user
        return getattr(user, "username", None) or getattr(user, "name", None) or str(user)

    def get_login_url(self) -> str:
        """401 (not a redirect, not Jupyter's 403): no credentials were given."""
        raise web.HTTPError(401, "authentication required: send 'Authorization: token <token>'")

    def check_xsrf_cookie(self) -> None:
        """No credentials at all is a 401; otherwise Jupyter's XSRF check (403)."""
        if not hasattr(self, "_jupyter_current_user"):
            return None  # tornado calls this before prepare(); Jupyter checks again in prepare
        if not self._jupyter_current_user:
            raise web.HTTPError(401, "authentication required: send 'Authorization: token <token>'")
        return super().check_xsrf_cookie()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """JSON errors; a 401 also says how to authenticate."""
        if status_code == 401:
            self.set_header("WWW-Authenticate", 'token realm="qmon"')
        if status_code == 405:
            self.set_header("Allow", ", ".join(self.allowed_methods()))
        super().write_error(status_code, **kwargs)

    @classmethod
    def allowed_methods(cls) -> list[str]:
        """List the HTTP methods this handler implements (for 405's ``Allow`` header)."""
        unimplemented = web.RequestHandler._unimplemented_method
        return [
            m
            for m in cls.SUPPORTED_METHODS
            if getattr(cls, m.lower(), unimplemented) is not unimplemented
        ]

    def check_params(self, allowed: set[str] | frozenset[str] = frozenset()) -> None:
        """400 for a query parameter this endpoint does not know, or one given twice."""
        for name, values in self.request.query_arguments.items():
            if name in _ALWAYS_ALLOWED:
                continue
            if name not in allowed:
                raise web.HTTPError(400, f"unknown query parameter {name!r}", reason="Bad Request")
            if len(values) > 1:
                raise web.HTTPError(400, f"query parameter {name!r} given twice")

    def args(self) -> dict[str, Any]:
        """Check the query and path parameters against the route table; their values.

        A 400 for an unknown or repeated query parameter, then for each bad
        value (query parameters in the table's order, then path parameters).
        """
        params = self.route.params if self.route is not None else ()
        query = [p for p in params if p.where == "query"]
        self.check_params({p.name for p in query})
        values = {p.name: p.parse(self.get_query_argument(p.name, None)) for p in query}
        for param in params:
            if param.where == "path":
                values[param.name] = param.parse(self.path_kwargs[param.name])
        return values

    def action_body(self) -> dict[str, Any]:
        """Read the body of a POST: empty or ``{"reason": "..."}`` (the route's body schema)."""
        schema = (self.route.body if self.route is not None else None) or {}
        fields = schema.get("properties", {})
        body = self.json_body(set(fields))
        reason = body.get("reason", "")
        longest = fields.get("reason", {}).get("maxLength", 0)
        if not isinstance(reason, str) or len(reason) > longest:
            raise web.HTTPError(400, f"reason must be a string of at most {longest} characters")
        return body

    def json_body(self, allowed: set[str] | frozenset[str] = frozenset()) -> dict[str, Any]:
        """Read the request body: empty, or a JSON object with only ``allowed`` keys; else 400."""
        if not self.request.body or not self.request.body.strip():
            return {}
        try:
            body = json.loads(self.request.body)
        except ValueError:
            raise web.HTTPError(400, "request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise web.HTTPError(400, "request body must be a JSON object")
        unknown = set(body) - set(allowed)
        if unknown:
            raise web.HTTPError(400, f"unknown field(s) in body: {sorted(unknown)[:5]}")
        return body

    def reply(self, payload: Any, status: int = 200) -> None:
        """Finish with ``payload`` as JSON."""
        self.set_status(status)
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(payload, separators=(",", ":"), default=str))
