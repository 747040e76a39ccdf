"""What every use case runs with, built once by bootstrap."""

from __future__ import annotations

from dataclasses import dataclass

from slotbook.adapters.db.engine import Database
from slotbook.adapters.security import Passwords, Tokens
from slotbook.config import Settings
from slotbook.domain.clock import Clock
from slotbook.domain.ports import HoldLocker


@dataclass(frozen=True, slots=True)
class Context:
    settings: Settings
    clock: Clock
    db: Database
    locker: HoldLocker
    passwords: Passwords
    tokens: Tokens
