"""End-to-end fixtures: real `slotbook` processes over real databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.servers import Launcher


@pytest.fixture
async def launch(tmp_path: Path) -> AsyncIterator[Launcher]:
    """Starts servers and sweepers; at teardown stops every process group it started,
    then drops the PostgreSQL databases it created."""
    launcher = Launcher(tmp_path)
    try:
        yield launcher
    finally:
        await launcher.aclose()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A fuzzed operation that takes no token runs with one token only (the module names
    them in TOKENLESS): the provider's run of it would send the very same requests."""
    kept, dropped = [], []
    for item in items:
        tokenless = getattr(getattr(item, "module", None), "TOKENLESS", frozenset())
        label = item.name.partition("[")[2].partition("]")[0]
        if label in tokenless and item.name.endswith("[provider]"):
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
