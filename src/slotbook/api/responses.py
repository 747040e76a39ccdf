"""Fast JSON responses (orjson, times as RFC 3339 UTC with a Z)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC


def dumps(content: Any) -> bytes:
    return orjson.dumps(content, option=_OPTIONS)


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)


class ProblemJSON(JSON):
    media_type = "application/problem+json"
