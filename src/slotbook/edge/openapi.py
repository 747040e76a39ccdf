"""The served OpenAPI document, corrected where FastAPI's defaults describe another API.

FastAPI files every response model under `application/json` and adds its own 422 shape
(`HTTPValidationError`) to routes with parameters; slotbook and its sandbox gateway answer
every error as `application/problem+json`, every 422 with the `ValidationProblem` shape.
A body that is not even text (invalid UTF-8) answers 400 wherever a body is read. An
optional query parameter is documented as its type alone: a query string cannot say null.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from slotbook.edge.schemas import Problem, ValidationProblem

PROBLEM_JSON = "application/problem+json"
_REF = "#/components/schemas/{model}"
_FASTAPI_422 = ("HTTPValidationError", "ValidationError")


def install(app: FastAPI) -> None:
    """Serve the corrected document from /openapi.json (built once, then cached)."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe_problems(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def describe_problems(spec: dict[str, Any]) -> dict[str, Any]:
    """Every 4xx and 5xx answer documented as problem+json; every 422 as ValidationProblem."""
    components = spec.setdefault("components", {}).setdefault("schemas", {})
    for model in (Problem, ValidationProblem):
        _register(components, model.model_json_schema(ref_template=_REF))
    for path_item in spec.get("paths", {}).values():
        for operation in path_item.values():
            for parameter in operation.get("parameters", []):
                parameter["schema"] = _without_null(parameter.get("schema", {}))
            if "requestBody" in operation:
                operation["responses"].setdefault("400", {"description": "The body cannot be read"})
            for status, response in operation.get("responses", {}).items():
                if status[:1] in ("4", "5"):
                    response["content"] = {
                        PROBLEM_JSON: {"schema": _problem_schema(status, response)}
                    }
    for name in _FASTAPI_422:  # FastAPI's own 422 shapes, once nothing refers to them
        if f'"{_REF.format(model=name)}"' not in json.dumps(spec):
            components.pop(name, None)
    return spec


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    options = [o for o in schema.get("anyOf", []) if o.get("type") != "null"]
    if len(options) != 1 or len(options) == len(schema["anyOf"]):
        return schema
    rest = {k: v for k, v in schema.items() if k != "anyOf"}
    return {**options[0], **rest}


def _problem_schema(status: str, response: dict[str, Any]) -> dict[str, Any]:
    if status == "422":
        return {"$ref": _REF.format(model="ValidationProblem")}
    for media in response.get("content", {}).values():
        if "schema" in media:
            schema: dict[str, Any] = media["schema"]
            return schema
    return {"$ref": _REF.format(model="Problem")}


def _register(components: dict[str, Any], schema: dict[str, Any]) -> None:
    for name, sub in schema.pop("$defs", {}).items():
        components.setdefault(name, sub)
    components.setdefault(schema["title"], schema)
