"""Fast JSON responses (orjson, times as RFC 3339 UTC with a Z)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson
from starlette.responses import Response

_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC


def _fallback(value: Any) -> Any:
    """asyncpg hands back its own UUID subclass, which orjson does not take as a UUID."""
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def dumps(content: Any) -> bytes:
    return orjson.dumps(content, option=_OPTIONS, default=_fallback)


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)


class ProblemJSON(JSON):
    media_type = "application/problem+json"
