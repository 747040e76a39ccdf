"""Every text and time a request body carries goes through a rule of domain/validation.py,
the service's and the sandbox gateway's alike: a new field typed as a bare `str` or
`datetime` fails here."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from slotbook.api import availability_schemas, schemas
from slotbook.domain import validation
from slotbook.sandbox import schemas as sandbox_schemas

CHECKS = {
    f for name, f in inspect.getmembers(validation, inspect.isfunction) if name.startswith("check_")
}
REQUEST_MODELS = [
    m
    for module, base in (
        (schemas, schemas.Strict),
        (availability_schemas, schemas.Strict),
        (sandbox_schemas, sandbox_schemas.SandboxRequest),
    )
    for _, m in inspect.getmembers(module, inspect.isclass)
    if issubclass(m, base) and m is not base
]


def unchecked(node: Any, path: str = "", guarded: bool = False) -> Iterator[str]:
    """Paths of `str` and `datetime` schemas not wrapped by one of the checks."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from unchecked(item, f"{path}[{i}]")
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind in ("str", "datetime") and not guarded:
        yield path or kind
    if kind == "function-after" and node["function"]["function"] in CHECKS:
        yield from unchecked(node["schema"], path, guarded=True)
        return
    if kind == "function-before":  # runs first, changes no type: the guard still holds
        yield from unchecked(node["schema"], path, guarded=guarded)
        return
    for key, child in node.items():
        if key not in ("function", "metadata", "serialization"):
            yield from unchecked(child, f"{path}.{key}")


def test_the_request_models_are_found() -> None:
    names = {m.__name__ for m in REQUEST_MODELS}
    assert {"SignUp", "LogIn", "ProfilePatch", "ServiceIn", "SlotsIn", "HoldIn"} <= names
    assert {"SandboxCreatePayment", "SandboxRefundRequest", "SandboxComplete"} <= names


@pytest.mark.parametrize("model", REQUEST_MODELS, ids=lambda m: m.__name__)
def test_every_text_and_time_field_is_checked(model: type[BaseModel]) -> None:
    assert list(unchecked(model.__pydantic_core_schema__)) == []


def test_the_walk_sees_a_bare_str() -> None:
    class Careless(schemas.Strict):
        note: str
        when: list[schemas.Instant]

    assert len(list(unchecked(Careless.__pydantic_core_schema__))) == 1
