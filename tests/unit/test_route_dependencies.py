"""No request pays a hop through the thread pool before its handler runs: FastAPI calls a
plain-function dependency (or handler) in a worker thread, a coroutine in the event loop."""

from __future__ import annotations

import inspect
from collections.abc import Iterator

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from slotbook.api.app import ROUTE_MODULES
from slotbook.web.app import PAGE_MODULES

MODULES = (*ROUTE_MODULES, *PAGE_MODULES)


def _calls(dependant: Dependant) -> Iterator[object]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def _is_coroutine(call: object) -> bool:
    method = type(call).__call__  # an instance, such as HTTPBearer()
    return inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(method)


def test_every_route_and_dependency_runs_in_the_event_loop() -> None:
    routes = [r for m in MODULES for r in m.router.routes if isinstance(r, APIRoute)]
    assert len(routes) > 40
    in_threads = [
        f"{route.path}: {getattr(call, '__name__', call)}"
        for route in routes
        for call in (route.endpoint, *_calls(route.dependant))
        if not _is_coroutine(call)
    ]
    assert in_threads == []
