"""One REST parameter: how it is checked (400 with a message) and how OpenAPI states it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tornado import web

__all__ = ["ID_PATTERN", "Param", "check_id"]

#: what an id may look like (job ids are hex, kernel ids uuids or ``pid-N``)
ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}"
_ID = re.compile(ID_PATTERN)
_INT = re.compile(r"-?[0-9]{1,19}")
#: the longest comma-separated list a query parameter may carry
MAX_LIST = 2000


def check_id(value: str, what: str = "job id") -> str:
    """Refuse ids that are not plain tokens (path tricks, encodings, huge strings) with 400."""
    if not _ID.fullmatch(value):
        shown = value[:40] + ("..." if len(value) > 40 else "")
        raise web.HTTPError(400, f"invalid {what}: {shown!r}", reason="Bad Request")
    return value


@dataclass(frozen=True)
class Param:
    """A path, query or header parameter of a route.

    Attributes
    ----------
    name, doc
        Its name and what it means (OpenAPI's description).
    kind
        ``id`` (a plain token), ``int`` (within ``lo..hi``), ``bool``, ``list``
        (comma-separated ``choices``, or ids when there are none), ``choice``
        (one of ``choices``), ``text`` (free text of at most ``hi``
        characters) or ``opaque`` (the handler reads it; ``schema`` states it).
    where
        ``path``, ``query`` or ``header``.
    default
        The value when a query parameter is absent.
    """

    name: str
    kind: str
    doc: str
    where: str = "query"
    default: Any = None
    lo: int = 0
    hi: int = 0
    choices: tuple[str, ...] = ()
    schema: dict[str, Any] = field(default_factory=dict)

    def parse(self, raw: str | None) -> Any:
        """Return the checked value of ``raw`` (None: absent), else raise a 400."""
        if raw is None or self.kind == "opaque":
            return self.default if raw is None else raw
        parse = getattr(self, f"_parse_{self.kind}")
        return parse(raw)

    def _parse_id(self, raw: str) -> str:
        return check_id(raw, self.name.replace("_", " "))

    def _parse_choice(self, raw: str) -> str:
        if raw not in self.choices:
            raise web.HTTPError(
                400, f"{self.name} must be {' or '.join(self.choices)}, got {raw[:20]!r}"
            )
        return raw

    def _parse_text(self, raw: str) -> str:
        if len(raw) > self.hi:
            raise web.HTTPError(400, f"{self.name} is longer than {self.hi} characters")
        return raw

    def _parse_int(self, raw: str) -> int:
        if not _INT.fullmatch(raw):
            raise web.HTTPError(400, f"{self.name} must be an integer, got {raw[:40]!r}")
        value = int(raw)
        if not self.lo <= value <= self.hi:
            raise web.HTTPError(
                400, f"{self.name} must be between {self.lo} and {self.hi}, got {value}"
            )
        return value

    def _parse_bool(self, raw: str) -> bool:
        lowered = raw.lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise web.HTTPError(400, f"{self.name} must be true or false, got {raw[:40]!r}")

    def _parse_list(self, raw: str) -> list[str]:
        if len(raw) > MAX_LIST:
            raise web.HTTPError(400, f"{self.name} is longer than {MAX_LIST} characters")
        items = raw.split(",")
        for item in items:
            if self.choices and item not in self.choices:
                raise web.HTTPError(
                    400,
                    f"{self.name}: unknown value {item[:40]!r}; expected one of"
                    f" {sorted(self.choices)}",
                )
            if not self.choices:
                check_id(item, self.name)
        return items

    def json_schema(self) -> dict[str, Any]:
        """Return the schema OpenAPI states for it (the limits :meth:`parse` checks)."""
        if self.schema:
            return dict(self.schema)
        if self.kind == "id":
            return {"type": "string", "pattern": f"^{ID_PATTERN}$"}
        if self.kind == "int":
            return {"type": "integer", "minimum": self.lo, "maximum": self.hi}
        fixed = {"bool": {"type": "boolean"}, "text": {"type": "string", "maxLength": self.hi}}
        if self.kind in fixed:
            return fixed[self.kind]
        if self.kind == "choice":
            return {"type": "string", "enum": list(self.choices)}
        item = "|".join(self.choices) if self.choices else ID_PATTERN
        return {
            "type": "string",
            "description": "Comma-separated values",
            "pattern": f"^({item})(,({item}))*$",
            "maxLength": MAX_LIST,
        }

    def openapi(self) -> dict[str, Any]:
        """Its OpenAPI parameter object."""
        return {
            "name": self.name,
            "in": self.where,
            "required": self.where == "path",
            "schema": self.json_schema(),
            "description": self.doc,
        }
