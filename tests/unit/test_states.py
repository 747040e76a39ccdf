"""The state machines: every legal move passes, every other move raises."""

from __future__ import annotations

import itertools

import pytest

from slotbook.domain.errors import IllegalTransition
from slotbook.domain.states import (
    BOOKING_MOVES,
    HOLD_MOVES,
    SLOT_MOVES,
    BookingStatus,
    HoldStatus,
    SlotStatus,
    move_booking,
    move_hold,
    move_slot,
)


@pytest.mark.parametrize(("current", "new"), list(itertools.product(HoldStatus, HoldStatus)))
def test_hold_moves_follow_the_table(current: HoldStatus, new: HoldStatus) -> None:
    if new in HOLD_MOVES.get(current, frozenset()):
        assert move_hold(current, new) is new
    else:
        with pytest.raises(IllegalTransition):
            move_hold(current, new)


def test_only_an_active_hold_moves() -> None:
    assert move_hold(HoldStatus.ACTIVE, HoldStatus.CONFIRMED) is HoldStatus.CONFIRMED
    assert move_hold(HoldStatus.ACTIVE, HoldStatus.RELEASED) is HoldStatus.RELEASED
    for final in (HoldStatus.CONFIRMED, HoldStatus.RELEASED):
        for new in HoldStatus:
            with pytest.raises(IllegalTransition):
                move_hold(final, new)


@pytest.mark.parametrize(("current", "new"), list(itertools.product(SlotStatus, SlotStatus)))
def test_slot_moves_follow_the_table(current: SlotStatus, new: SlotStatus) -> None:
    if new in SLOT_MOVES.get(current, frozenset()):
        assert move_slot(current, new) is new
    else:
        with pytest.raises(IllegalTransition):
            move_slot(current, new)


def test_a_slot_cannot_be_booked_without_being_held() -> None:
    with pytest.raises(IllegalTransition):
        move_slot(SlotStatus.AVAILABLE, SlotStatus.BOOKED)


@pytest.mark.parametrize(("current", "new"), list(itertools.product(BookingStatus, BookingStatus)))
def test_booking_moves_follow_the_table(current: BookingStatus, new: BookingStatus) -> None:
    if new in BOOKING_MOVES.get(current, frozenset()):
        assert move_booking(current, new) is new
    else:
        with pytest.raises(IllegalTransition):
            move_booking(current, new)
