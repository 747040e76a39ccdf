"""What every use case runs with, built once by bootstrap."""

from __future__ import annotations

from dataclasses import dataclass

from slotbook.adapters.db.engine import Database
from slotbook.adapters.security import Passwords, Tokens
from slotbook.config import Settings
from slotbook.domain.clock import Clock
from slotbook.domain.ports import HoldStore
from slotbook.service_layer.recent_alternatives import RecentAlternatives


@dataclass(frozen=True, slots=True)
class Context:
    settings: Settings
    clock: Clock
    db: Database
    hold_store: HoldStore
    passwords: Passwords
    tokens: Tokens
    recent_alternatives: RecentAlternatives
