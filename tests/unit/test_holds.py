"""The hold: expiry against an injected clock, release and confirm rules."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from slotbook.adapters.clock import ManualClock
from slotbook.domain.errors import IllegalTransition
from slotbook.domain.holds import Hold, hold_expiry, release_reason_for_previous
from slotbook.domain.slots import Slot
from slotbook.domain.states import HoldStatus, ReleaseReason, SlotStatus

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
TTL = 600


def a_hold(clock: ManualClock) -> Hold:
    now = clock.now()
    return Hold(
        id=uuid.uuid4(),
        slot_id=uuid.uuid4(),
        provider_id=uuid.uuid4(),
        customer_id=uuid.uuid4(),
        status=HoldStatus.ACTIVE,
        release_reason=None,
        created_at=now,
        expires_at=hold_expiry(now, TTL),
        amount_minor=45_000,
        currency="THB",
    )


def test_a_hold_lasts_exactly_its_ttl() -> None:
    clock = ManualClock(T0)
    hold = a_hold(clock)
    assert hold.expires_at == T0 + timedelta(seconds=TTL)
    clock.advance(TTL - 0.001)
    assert hold.is_live(clock.now())
    assert not hold.is_expired(clock.now())
    clock.advance(0.001)
    assert not hold.is_live(clock.now())
    assert hold.is_expired(clock.now())


def test_an_expired_hold_reads_released_expired_before_any_sweep() -> None:
    clock = ManualClock(T0)
    hold = a_hold(clock)
    assert hold.as_seen_at(clock.now()) == hold
    clock.advance(TTL)
    seen = hold.as_seen_at(clock.now())
    assert (seen.status, seen.release_reason) == (HoldStatus.RELEASED, ReleaseReason.EXPIRED)


def test_release_records_the_reason_and_is_final() -> None:
    hold = a_hold(ManualClock(T0)).release(ReleaseReason.CANCELLED)
    assert (hold.status, hold.release_reason) == (HoldStatus.RELEASED, ReleaseReason.CANCELLED)
    with pytest.raises(IllegalTransition):
        hold.release(ReleaseReason.EXPIRED)
    with pytest.raises(IllegalTransition):
        hold.confirm(T0, uuid.uuid4())


def test_only_a_live_hold_confirms() -> None:
    clock = ManualClock(T0)
    hold = a_hold(clock)
    booking_id = uuid.uuid4()
    confirmed = hold.confirm(clock.now(), booking_id)
    assert (confirmed.status, confirmed.booking_id) == (HoldStatus.CONFIRMED, booking_id)
    with pytest.raises(IllegalTransition):
        confirmed.release(ReleaseReason.CANCELLED)
    clock.advance(TTL)
    with pytest.raises(IllegalTransition):
        hold.confirm(clock.now(), booking_id)


def test_a_previous_hold_is_superseded_or_expired() -> None:
    clock = ManualClock(T0)
    hold = a_hold(clock)
    assert release_reason_for_previous(hold, clock.now()) is ReleaseReason.SUPERSEDED
    clock.advance(TTL + 1)
    assert release_reason_for_previous(hold, clock.now()) is ReleaseReason.EXPIRED


def a_slot(status: SlotStatus = SlotStatus.AVAILABLE, held_until: datetime | None = None) -> Slot:
    return Slot(
        id=uuid.uuid4(),
        provider_id=uuid.uuid4(),
        service_id=uuid.uuid4(),
        category="massage",
        starts_at=T0 + timedelta(days=1),
        ends_at=T0 + timedelta(days=1, hours=1),
        price_minor=45_000,
        currency="THB",
        status=status,
        held_until=held_until,
        hold_id=uuid.uuid4() if status is SlotStatus.HELD else None,
    )


def test_a_held_slot_reads_held_until_its_hold_runs_out() -> None:
    slot = a_slot(SlotStatus.HELD, held_until=T0 + timedelta(seconds=TTL))
    assert slot.status_at(T0 + timedelta(seconds=TTL - 1)) is SlotStatus.HELD
    assert not slot.is_bookable(T0)


def test_a_slot_whose_hold_ran_out_reads_available() -> None:
    slot = a_slot(SlotStatus.HELD, held_until=T0 + timedelta(seconds=TTL))
    assert slot.status_at(T0 + timedelta(seconds=TTL)) is SlotStatus.AVAILABLE
    assert slot.is_bookable(T0 + timedelta(seconds=TTL))


@pytest.mark.parametrize("status", [SlotStatus.AVAILABLE, SlotStatus.HELD, SlotStatus.CLOSED])
def test_a_slot_that_has_started_reads_closed(status: SlotStatus) -> None:
    slot = a_slot(status, held_until=T0 + timedelta(days=2) if status is SlotStatus.HELD else None)
    assert slot.status_at(slot.starts_at) is SlotStatus.CLOSED
    assert not slot.is_bookable(slot.starts_at)


def test_a_booked_slot_stays_booked_after_its_start() -> None:
    slot = a_slot(SlotStatus.BOOKED)
    assert slot.status_at(slot.ends_at) is SlotStatus.BOOKED


def test_seconds_left_count_down_to_zero_and_stay_there() -> None:
    clock = ManualClock(T0)
    hold = a_hold(clock)
    assert hold.seconds_left(clock.now()) == TTL
    clock.advance(0.5)
    assert hold.seconds_left(clock.now()) == TTL - 1  # whole seconds, rounded down
    clock.advance(TTL)
    assert hold.seconds_left(clock.now()) == 0
