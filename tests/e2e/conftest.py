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
