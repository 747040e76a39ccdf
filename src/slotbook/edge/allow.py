"""The `Allow` header of a 405: every method the document declares for the path asked.

A router stops at the first route whose path matches, so its 405 names only that route's
methods; a resource served by several routes (GET and DELETE of a hold) needs them all.
HEAD goes with GET (edge/head.py).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI

_PARAMETER = re.compile(r"\{[^/}]+\}")


def allowed_methods(app: FastAPI, path: str) -> str | None:
    """`Allow` for `path`, or None when the document declares nothing there."""
    methods: set[str] = set()
    for pattern, declared in _templates(app):
        if pattern.fullmatch(path):
            methods |= declared
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods)) or None


def _pattern(template: str) -> re.Pattern[str]:
    """`/v1/holds/{hold_id}` as a regex: each parameter one path segment."""
    literals = _PARAMETER.split(template)
    return re.compile("[^/]+".join(re.escape(part) for part in literals))


def _templates(app: FastAPI) -> list[tuple[re.Pattern[str], set[str]]]:
    found: list[tuple[re.Pattern[str], set[str]]] | None = getattr(app.state, "allow", None)
    if found is None:
        paths: dict[str, Any] = app.openapi().get("paths", {})
        found = [(_pattern(template), {m.upper() for m in ops}) for template, ops in paths.items()]
        app.state.allow = found
    return found
