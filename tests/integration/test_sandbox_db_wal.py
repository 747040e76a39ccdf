"""The sandbox's file put in WAL mode while another process is still creating it: SQLite
refuses that switch at once, busy timeout or not, so it is tried again."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from slotbook.sandbox.db import WAL_ATTEMPTS, journal_in_wal


def _creating(path: Path) -> sqlite3.Connection:
    """A connection in the middle of creating the file's tables (its write lock held)."""
    creator = sqlite3.connect(path, isolation_level=None)
    creator.execute("BEGIN IMMEDIATE")
    creator.execute("CREATE TABLE payments (id TEXT PRIMARY KEY)")
    return creator


def test_the_switch_waits_for_the_process_creating_the_file(tmp_path: Path) -> None:
    path = tmp_path / "gateway.db"
    creator = _creating(path)
    joining = sqlite3.connect(path, isolation_level=None, timeout=10)
    pauses: list[int] = []

    def creator_finishes_during_the_first_pause() -> None:
        pauses.append(1)
        if len(pauses) == 1:
            creator.execute("COMMIT")

    journal_in_wal(joining.cursor(), pause=creator_finishes_during_the_first_pause)
    assert joining.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert pauses == [1]


def test_a_file_locked_past_every_attempt_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "gateway.db"
    creator = _creating(path)
    joining = sqlite3.connect(path, isolation_level=None, timeout=10)
    pauses: list[int] = []
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        journal_in_wal(joining.cursor(), pause=lambda: pauses.append(1))
    assert len(pauses) == WAL_ATTEMPTS - 1
    creator.execute("ROLLBACK")


def test_another_error_is_not_retried(tmp_path: Path) -> None:
    joining = sqlite3.connect(tmp_path / "gateway.db", isolation_level=None)
    cursor = joining.cursor()
    joining.close()
    with pytest.raises(sqlite3.ProgrammingError):
        journal_in_wal(cursor, pause=lambda: pytest.fail("retried"))
