"""The state machines: the moves of DESIGN.md pass, every other move raises."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from slotbook.domain.errors import BookingNotStarted, IllegalTransition
from slotbook.domain.states import (
    BookingStatus,
    HoldStatus,
    SlotStatus,
    complete_booking,
    move_booking,
    move_hold,
    move_slot,
)

S, H, B = SlotStatus, HoldStatus, BookingStatus
# written out from the diagrams, not read from the tables under test
SLOT_MOVES = {
    (S.AVAILABLE, S.HELD),
    (S.HELD, S.BOOKED),
    (S.HELD, S.AVAILABLE),
    (S.AVAILABLE, S.CLOSED),
    (S.CLOSED, S.AVAILABLE),
    (S.BOOKED, S.AVAILABLE),  # a cancelled booking puts its slot back on sale
}
HOLD_MOVES = {(H.ACTIVE, H.CONFIRMED), (H.ACTIVE, H.RELEASED)}
BOOKING_MOVES = {(B.CONFIRMED, B.COMPLETED), (B.CONFIRMED, B.CANCELLED)}


@pytest.mark.parametrize(("current", "new"), sorted(SLOT_MOVES))
def test_a_legal_slot_move_passes(current: SlotStatus, new: SlotStatus) -> None:
    assert move_slot(current, new) is new


@pytest.mark.parametrize(("current", "new"), sorted(set(itertools.product(S, S)) - SLOT_MOVES))
def test_any_other_slot_move_raises(current: SlotStatus, new: SlotStatus) -> None:
    with pytest.raises(IllegalTransition):
        move_slot(current, new)


@pytest.mark.parametrize(("current", "new"), sorted(HOLD_MOVES))
def test_an_active_hold_is_confirmed_or_released(current: HoldStatus, new: HoldStatus) -> None:
    assert move_hold(current, new) is new


@pytest.mark.parametrize(("current", "new"), sorted(set(itertools.product(H, H)) - HOLD_MOVES))
def test_any_other_hold_move_raises(current: HoldStatus, new: HoldStatus) -> None:
    with pytest.raises(IllegalTransition):
        move_hold(current, new)


@pytest.mark.parametrize(("current", "new"), sorted(BOOKING_MOVES))
def test_a_confirmed_booking_is_completed_or_cancelled(
    current: BookingStatus, new: BookingStatus
) -> None:
    assert move_booking(current, new) is new


@pytest.mark.parametrize(("current", "new"), sorted(set(itertools.product(B, B)) - BOOKING_MOVES))
def test_any_other_booking_move_raises(current: BookingStatus, new: BookingStatus) -> None:
    with pytest.raises(IllegalTransition):
        move_booking(current, new)


STARTS = datetime(2030, 1, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("late", [timedelta(0), timedelta(seconds=1), timedelta(days=30)])
def test_a_confirmed_booking_completes_once_its_slot_has_started(late: timedelta) -> None:
    assert complete_booking(B.CONFIRMED, starts_at=STARTS, now=STARTS + late) is B.COMPLETED


@pytest.mark.parametrize("early", [timedelta(microseconds=1), timedelta(days=400)])
def test_a_booking_whose_slot_has_not_started_cannot_complete(early: timedelta) -> None:
    with pytest.raises(BookingNotStarted):
        complete_booking(B.CONFIRMED, starts_at=STARTS, now=STARTS - early)


@pytest.mark.parametrize("current", [B.COMPLETED, B.CANCELLED])
@pytest.mark.parametrize("now", [STARTS - timedelta(hours=1), STARTS + timedelta(hours=1)])
def test_a_booking_no_longer_confirmed_never_completes(
    current: BookingStatus, now: datetime
) -> None:
    with pytest.raises(IllegalTransition):
        complete_booking(current, starts_at=STARTS, now=now)
