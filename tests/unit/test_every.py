"""A gate that opens once per interval of the injected clock."""

from __future__ import annotations

from slotbook.adapters.clock import ManualClock
from slotbook.service_layer.every import Every


def test_it_opens_at_once_then_once_per_interval() -> None:
    clock, gate = ManualClock(), Every(seconds=30)
    assert gate.due(clock.now())
    assert not gate.due(clock.advance(29))
    assert gate.due(clock.advance(1))
    assert not gate.due(clock.now())


def test_a_clock_gone_back_opens_it_again() -> None:
    clock, gate = ManualClock(), Every(seconds=30)
    assert gate.due(clock.now())
    assert gate.due(clock.advance(-5))
