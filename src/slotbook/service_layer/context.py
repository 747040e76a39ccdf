"""What every use case runs with, built once by bootstrap."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from slotbook.adapters.db.engine import Database
from slotbook.adapters.local_secrets import Secrets
from slotbook.adapters.security import Passwords, Tokens
from slotbook.config import Settings
from slotbook.domain.clock import Clock
from slotbook.domain.ports import HoldStore, PaymentWatch
from slotbook.service_layer.every import Every
from slotbook.service_layer.gateways import Gateways
from slotbook.service_layer.recent_alternatives import RecentAlternatives
from slotbook.service_layer.turns import Turns


@dataclass(frozen=True, slots=True)
class Context:
    settings: Settings
    secrets: Secrets
    clock: Clock
    db: Database
    hold_store: HoldStore
    passwords: Passwords
    tokens: Tokens
    recent_alternatives: RecentAlternatives
    gateways: Gateways
    payment_watch: PaymentWatch
    hold_turns: Turns[UUID] = field(default_factory=Turns)  # one hold at a time per customer
    # how often the sweeper looks for payments stuck pending
    reconcile_timer: Every = field(default_factory=lambda: Every(seconds=30))
