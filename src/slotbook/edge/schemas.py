"""The documented shapes of problem+json answers, the service's and the sandbox's."""

from __future__ import annotations

from pydantic import BaseModel


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    request_id: str


class ValidationErrorItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationProblem(Problem):
    """Every 422: what the schema or a domain rule refused, one item per fault."""

    errors: list[ValidationErrorItem]
