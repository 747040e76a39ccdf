"""One router per section of API.md."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from slotbook.api.schemas import Problem


def documented(
    ok: int, model: type[BaseModel] | None, *errors: int, **special: type[BaseModel]
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for a route: its success shape and its problem answers."""
    responses: dict[int | str, dict[str, Any]] = {}
    if model is not None:
        responses[ok] = {"model": model}
    for status in errors:
        responses[status] = {
            "model": special.get(f"p{status}", Problem),
            "content": {"application/problem+json": {}},
        }
    return responses
