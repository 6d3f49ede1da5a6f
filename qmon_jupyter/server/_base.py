"""The base of every qmon REST handler: auth resource, input checks, JSON replies."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from jupyter_server.base.handlers import APIHandler
from tornado import web

if TYPE_CHECKING:
    from .service import QmonService

__all__ = ["AUTH_RESOURCE", "QmonAPIHandler", "check_id"]

#: the resource every qmon handler is authorized against (read for GET, write for POST)
AUTH_RESOURCE = "qmon"

#: query parameters any Jupyter request may carry, accepted everywhere
_ALWAYS_ALLOWED = frozenset({"token", "_xsrf", "no_track_activity"})
#: what an id may look like (job ids are hex, kernel ids uuids or ``pid-N``); the
#: OpenAPI document states the same pattern
ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}"
_ID = re.compile(ID_PATTERN)
_INT = re.compile(r"-?[0-9]{1,19}")
MAX_LIMIT = 1000
MAX_OFFSET = 10**9


def check_id(value: str, what: str = "job id") -> str:
    """Refuse ids that are not plain tokens (path tricks, encodings, huge strings) with 400."""
    if not _ID.fullmatch(value):
        shown = value[:40] + ("..." if len(value) > 40 else "")
        raise web.HTTPError(400, f"invalid {what}: {shown!r}", reason="Bad Request")
    return value


class QmonAPIHandler(APIHandler):
    """JSON API handler with qmon's shared service and strict input checks."""

    auth_resource = AUTH_RESOURCE

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

    def int_param(self, name: str, default: int, lo: int, hi: int) -> int:
        """Read an integer query parameter within ``[lo, hi]``, else 400."""
        raw = self.get_query_argument(name, None)
        if raw is None:
            return default
        if not _INT.fullmatch(raw):
            raise web.HTTPError(400, f"{name} must be an integer, got {raw[:40]!r}")
        value = int(raw)
        if not lo <= value <= hi:
            raise web.HTTPError(400, f"{name} must be between {lo} and {hi}, got {value}")
        return value

    def list_param(self, name: str, choices: frozenset[str] | None = None) -> list[str] | None:
        """Read a comma-separated list (``status=running,queued``), each item checked."""
        raw = self.get_query_argument(name, None)
        if raw is None:
            return None
        if len(raw) > 2000:
            raise web.HTTPError(400, f"{name} is longer than 2000 characters")
        items = raw.split(",")
        for item in items:
            if choices is not None and item not in choices:
                raise web.HTTPError(
                    400, f"{name}: unknown value {item[:40]!r}; expected one of {sorted(choices)}"
                )
            if choices is None:
                check_id(item, name)
        return items

    def bool_param(self, name: str, default: bool = False) -> bool:
        """``true``/``false``/``1``/``0`` query parameter, else 400."""
        raw = self.get_query_argument(name, None)
        if raw is None:
            return default
        lowered = raw.lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise web.HTTPError(400, f"{name} must be true or false, got {raw[:40]!r}")

    def action_body(self) -> dict[str, Any]:
        """Read the body of a POST: empty or ``{"reason": "..."}`` (at most 1000 characters)."""
        body = self.json_body({"reason"})
        reason = body.get("reason", "")
        if not isinstance(reason, str) or len(reason) > 1000:
            raise web.HTTPError(400, "reason must be a string of at most 1000 characters")
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
