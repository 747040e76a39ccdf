"""One router per section of API.md."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from slotbook.edge.schemas import Problem, ValidationProblem


def documented(
    ok: int, model: type[BaseModel] | None, *errors: int, **special: type[BaseModel]
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for a route: its success shape and its problem answers.

    web/openapi.py files every problem's schema under `application/problem+json`.
    """
    responses: dict[int | str, dict[str, Any]] = {}
    if model is not None:
        responses[ok] = {"model": model}
    for status in errors:
        default = ValidationProblem if status == 422 else Problem
        responses[status] = {"model": special.get(f"p{status}", default)}
    return responses
