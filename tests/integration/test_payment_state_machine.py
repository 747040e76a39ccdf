"""Whatever happens to holds, payments and bookings, in whatever order, the invariants
hold: a hypothesis state machine drives customers holding a few slots, paying by card or
PromptPay (and switching), the gateway's webhooks delivered in any order and more than
once, late successes, cancellations, completions, the clock, the sweeper and the outbox
worker, and after every step reads the tables for invariants 1 and 4-6 of DESIGN.md
(tests/integration/payment_invariants.py). Real SQLite and PostgreSQL; the gateway is
the in-memory fake, its webhooks signed and parsed like a real one's.

Hypothesis drives rules synchronously, so the machine owns one event loop
(`asyncio.Runner`) and its own context, built per example and closed in `teardown`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID, uuid4

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import StaticPool

from slotbook.adapters.clock import ManualClock
from slotbook.bootstrap import build_context, close_context
from slotbook.config import LatePaymentPolicy, load_settings
from slotbook.domain.errors import (
    BookingNotActive,
    BookingNotStarted,
    Forbidden,
    GatewayUnavailable,
    HoldNotActive,
    SlotUnavailable,
)
from slotbook.domain.gateway import EventKind, GatewayEvent, GatewayPaymentStatus, PaymentMethod
from slotbook.domain.holds import Hold
from slotbook.domain.model import Principal, Role, User
from slotbook.domain.payments import Payment
from slotbook.domain.slots import Slot
from slotbook.domain.states import HoldStatus
from slotbook.service_layer import accounts, bookings, holds, payments, providers, sweeper, webhooks
from slotbook.service_layer.context import Context
from tests import databases as dbs
from tests.conftest import FAST_HASH, SECRETS, START
from tests.fakes import FakeGateway
from tests.integration import payment_invariants as inv

T = TypeVar("T")
CUSTOMERS, SLOTS, PRICE = 4, 3, 45_000
SETTLE_EVERY = 10  # steps between two settlings of everything (each moves time on a lot)
PICK = st.integers(0, 63)  # an index into what exists so far, taken modulo its length
RECENT = st.integers(0, 7)  # the latest of what exists so far, counting back


def _recent(items: list[T], back: int) -> T:
    return items[-1 - back % len(items)]


THEN = st.sampled_from(["leaves", "pays", "is_declined"])
# customer, slot, method, what the customer then does at the gateway, webhook at once
Order = tuple[int, int, PaymentMethod, str, bool]
ORDER = st.tuples(
    st.integers(0, CUSTOMERS - 1),
    st.integers(0, SLOTS - 1),
    st.sampled_from(PaymentMethod),
    THEN,
    st.booleans(),
)
BOOKING_ENDS = [
    "cancelled_by_customer",
    "cancelled_by_provider",
    "completed_by_provider",
    "completed_by_admin",
    "cancelled_by_admin",  # roles that may never do it: refused, whoever's booking
    "completed_by_customer",
]
WRONG_ROLES = ("cancelled_by_admin", "completed_by_customer")
SLOTS_DAY = 2 * 86_400  # from START to the first slot: bookings complete from then on
SETTINGS = settings(
    max_examples=40,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class PaymentsMachine(RuleBasedStateMachine):
    def __init__(self, fresh_database: Callable[[], Coroutine[Any, Any, str]]) -> None:
        super().__init__()
        self.runner = asyncio.Runner()
        self.fresh_database = fresh_database
        self.ctx: Context | None = None
        self.gateway = FakeGateway()
        self.clock = ManualClock(START)
        self.holds: list[Hold] = []
        self.payments: list[Payment] = []
        self.delivered: set[str] = set()
        self.books: inv.Books | None = None
        self.steps = self.settled_at = 0
        self.seen: inv.Books | None = None  # the books as last read, if nothing ran since
        self.reader: Engine | None = None  # SQLite: a synchronous second reader of the file

    def run(self, step: Coroutine[Any, Any, T]) -> T:
        """Run one step of the service on the machine's loop (the books may change)."""
        self.seen = None
        return self.runner.run(step)

    @property
    def c(self) -> Context:
        assert self.ctx is not None
        return self.ctx

    @initialize(policy=st.sampled_from(LatePaymentPolicy), orders=st.lists(ORDER, max_size=4))
    def open_shop(self, policy: LatePaymentPolicy, orders: list[Order]) -> None:
        """The shop opens (one late-payment policy or the other) and its first customers
        check out."""
        url = self.run(self.fresh_database())
        if url.startswith("sqlite"):
            self.reader = create_engine(url, poolclass=StaticPool)
        configured = load_settings(
            database_url=url,
            env="test",
            hold_ttl_seconds=600,
            db_pool_size=5,
            late_payment_policy=policy,
            **FAST_HASH,
            **SECRETS,
        )
        self.ctx = self.run(
            build_context(configured, clock=self.clock, gateways=self.gateway.gateways())
        )
        self.customers, self.provider, slots = self.run(self._people())
        self.slots = [s.id for s in slots]
        self.starts: dict[UUID, datetime] = {s.id: s.starts_at for s in slots}
        for order in orders:
            self._check_out(order)

    async def _people(self) -> tuple[list[User], User, list[Slot]]:
        async def sign_up(name: str, role: Role) -> User:
            email = f"{name}-{uuid4().hex[:8]}@example.com"
            signed = await accounts.sign_up(
                self.c, email=email, password="password123", name=name, role=role
            )
            return signed.user

        provider = await sign_up("provider", Role.PROVIDER)
        assert provider.provider_id is not None
        service = await providers.add_service(
            self.c,
            provider_id=provider.provider_id,
            name="Thai massage",
            category="massage",
            duration_minutes=60,
            price_minor=PRICE,
            currency="THB",
        )
        first = START + timedelta(days=2)
        added = await providers.add_slots(
            self.c,
            provider_id=provider.provider_id,
            service_id=service.id,
            starts_at=[first + timedelta(hours=i) for i in range(SLOTS)],
        )
        customers = [await sign_up(f"customer{i}", Role.CUSTOMER) for i in range(CUSTOMERS)]
        return customers, provider, added

    def teardown(self) -> None:
        if self.ctx is not None:
            self.run(close_context(self.ctx))
        if self.reader is not None:
            self.reader.dispose()
        self.runner.close()

    # -- customers ------------------------------------------------------------------

    def _check_out(self, order: Order) -> None:
        """Hold the slot (the same hold back if already held) and start paying for it
        (paying again for a hold switches method); then pay, be declined, or neither."""
        customer, slot, method, then, webhook_now = order
        who, what = self.customers[customer].id, self.slots[slot]
        try:
            placed = self.run(holds.place_hold(self.c, slot_id=what, customer_id=who))
        except SlotUnavailable:
            return
        if placed.created:
            self.holds.append(placed.hold)
        start = payments.start_payment(
            self.c, hold_id=placed.hold.id, customer_id=who, method=method, return_url=None
        )
        try:
            self.payments.append(self.run(start))
        except (HoldNotActive, GatewayUnavailable):
            return
        if then != "leaves":
            self._settle(self.payments[-1], paid=then == "pays", webhook_now=webhook_now)

    def _settle(self, payment: Payment, *, paid: bool, webhook_now: bool) -> None:
        """Paid or declined on the hosted page (a declined card may be retried there);
        its webhook delivered at once, or left to `webhook_delivered`."""
        gid = payment.gateway_payment_id
        assert gid is not None
        now = self.gateway.payments[gid].status
        retried = now is GatewayPaymentStatus.FAILED and paid
        if now is GatewayPaymentStatus.PENDING or retried:
            outcome = GatewayPaymentStatus.SUCCEEDED if paid else GatewayPaymentStatus.FAILED
            self.gateway.settle(gid, outcome)
            if webhook_now:
                self._deliver(self.gateway.sent[-1])

    @rule(order=ORDER)
    def customer_checks_out(self, order: Order) -> None:
        self._check_out(order)

    @precondition(lambda self: self.payments)
    @rule(
        which=RECENT, act=st.sampled_from(["pays", "is_declined", "comes_back"]), now=st.booleans()
    )
    def customer_acts_on_a_payment(self, which: int, act: str, now: bool) -> None:
        """Pays or is declined at the gateway (`now`: its webhook at once), or comes back
        from the gateway, which starts the confirmation deadline."""
        payment = _recent(self.payments, which)
        if act == "comes_back":
            returned = payments.mark_returned(
                self.c, payment_id=payment.id, customer_id=payment.customer_id
            )
            self.run(returned)
        else:
            self._settle(payment, paid=act == "pays", webhook_now=now)

    @precondition(lambda self: self.holds)
    @rule(which=RECENT)
    def customer_cancels_the_hold(self, which: int) -> None:
        hold = _recent(self.holds, which)
        try:
            self.run(holds.cancel_hold(self.c, hold_id=hold.id, customer_id=hold.customer_id))
        except HoldNotActive:
            seen = self.run(holds.get_hold(self.c, hold_id=hold.id, customer_id=hold.customer_id))
            assert seen.status is HoldStatus.CONFIRMED

    # -- bookings -------------------------------------------------------------------

    @precondition(lambda self: self.books and self.books.bookings)
    @rule(which=PICK, how=st.sampled_from(BOOKING_ENDS), on_the_day=st.booleans())
    def booking_ends(self, which: int, how: str, on_the_day: bool) -> None:
        """Cancelled by its customer or its provider, or completed by its provider or an
        admin once its slot has started (`on_the_day`: time passes until it has); a
        booking no longer confirmed refuses both, and an admin cancelling or a customer
        completing is refused outright."""
        assert self.books is not None
        order = {p.id: i for i, p in enumerate(self.payments)}  # a stable order
        found = sorted(self.books.bookings, key=lambda b: order[b["payment_id"]])
        booking = found[which % len(found)]
        if on_the_day:
            self.clock.set(max(self.clock.now(), self.starts[booking["slot_id"]]))
        by = {
            "customer": Principal(booking["customer_id"], Role.CUSTOMER),
            "provider": Principal(self.provider.id, Role.PROVIDER),
            "admin": Principal(uuid4(), Role.ADMIN),
        }[how.rsplit("_", 1)[1]]
        end = bookings.cancel_booking if how.startswith("cancelled") else bookings.complete_booking
        try:
            self.run(end(self.c, booking_id=booking["id"], principal=by))
        except Forbidden:
            assert how in WRONG_ROLES
        except BookingNotActive:
            assert booking["status"] != "confirmed"
        except BookingNotStarted:
            assert how.startswith("completed")
            assert self.clock.now() < self.starts[booking["slot_id"]]
        else:
            assert how not in WRONG_ROLES

    # -- the gateway ----------------------------------------------------------------

    @precondition(lambda self: self.gateway.sent)
    @rule(which=PICK, under_a_new_id=st.booleans())
    def webhook_delivered(self, which: int, under_a_new_id: bool) -> None:
        """Any webhook sent so far, again or for the first time, in any order; or the
        same news sent again under a new event id."""
        event = self.gateway.sent[which % len(self.gateway.sent)]
        self._deliver(self.gateway.resend(event) if under_a_new_id else event)

    @rule(down=st.booleans())
    def gateway_goes_down_or_up(self, down: bool) -> None:
        self.gateway.down = down

    def _deliver(self, event: GatewayEvent, *, check: bool = True) -> None:
        """Deliver one webhook; news already known (the same event again, a decline of a
        payment no longer pending, a success or a refund already recorded) changes
        nothing (invariant 6)."""
        before = self._read().without_events() if check else None
        if before is not None and not _known(event, before, self.delivered):
            before = None
        headers, body = self.gateway.webhook(event)
        handled = webhooks.handle_webhook(
            self.c, gateway_name=self.gateway.name, headers=headers, body=body
        )
        assert self.run(handled).event_id == event.event_id
        self.delivered.add(event.event_id)
        if before is not None:
            assert self._read().without_events() == before, f"6: {event.kind} changed the books"

    # -- time and the background workers --------------------------------------------

    @rule(seconds=st.sampled_from([1, 4, 6, 60, 300, 601, SLOTS_DAY]))
    def time_passes(self, seconds: int) -> None:
        """Seconds to minutes, or on to the slots' day (then bookings can complete)."""
        self.clock.advance(seconds)

    @rule(release=st.booleans(), obligations=st.booleans())
    def sweeper_runs(self, release: bool, obligations: bool) -> None:
        """The sweeper's two chores, either or both: expired holds, the outbox worker."""
        if release:
            self.run(sweeper.release_expired_holds(self.c))
        if obligations:
            self.run(sweeper.carry_out_obligations(self.c))

    @precondition(lambda self: self.steps - self.settled_at >= SETTLE_EVERY)
    @rule()
    def everything_settles(self) -> None:
        """The gateway back, every webhook delivered, time for every retry: then no
        payment is lost (invariant 5) and nothing is left undone."""
        self.gateway.down = False
        for event in list(self.gateway.sent):
            self._deliver(event, check=False)
        for _ in range(6):
            self.clock.advance(self.c.settings.outbox_max_backoff_seconds * 1.25 + 1)
            self.run(sweeper.release_expired_holds(self.c))
            for _ in range(20):
                if not self.run(sweeper.carry_out_obligations(self.c)):
                    break
        for event in list(self.gateway.sent):
            self._deliver(event, check=False)
        books = self._read()
        paid = {g for g, s in self.gateway.payments.items() if s.status.value == "succeeded"}
        ours = {p["gateway_payment_id"]: p for p in books.payments}
        for gid in paid:
            assert ours[gid]["status"] in inv.RECEIVED, f"5: gateway payment {gid} lost"
        assert not [p for p in books.payments if p["status"] == "pending"]
        assert not [r for r in books.refunds if r["status"] == "pending"]
        assert not [o for o in books.outbox if o["done_at"] is None]
        withdrawn = {g: s.status for g, s in self.gateway.payments.items()}
        assert GatewayPaymentStatus.PENDING not in withdrawn.values()
        assert len(self.gateway.refunds) == len(books.refunds)
        self.settled_at = self.steps

    # -- after every step -----------------------------------------------------------

    def _read(self) -> inv.Books:
        """The books now (read again only if a step of the service ran since)."""

        async def read() -> inv.Books:
            async with self.c.db.read() as conn:
                return await inv.read_books(conn)

        if self.seen is None and self.reader is not None:
            with self.reader.connect() as conn:
                self.seen = inv.read_books_sync(conn)
        elif self.seen is None:
            self.seen = self.runner.run(read())
        return self.seen

    @invariant()
    def the_books_are_right(self) -> None:
        if self.ctx is None:
            return
        books = self._read()
        found = inv.violations(
            books, now=self.clock.now(), fee_bps=self.c.settings.platform_fee_bps
        )
        if self.books is not None:
            found += inv.appended_only(self.books, books)
        recorded = {e["event_id"] for e in books.events}
        if recorded != self.delivered:
            found.append(f"6: events recorded {len(recorded)}, delivered {len(self.delivered)}")
        self.books, self.steps = books, self.steps + 1
        assert not found, "\n".join(found)


def test_payments_keep_the_invariants_whatever_happens(
    database_url: str, sqlite_template: Path, tmp_path: Path
) -> None:
    async def fresh_database() -> str:
        if database_url.startswith("sqlite"):
            return dbs.fresh_sqlite(sqlite_template, tmp_path)
        await dbs.truncate_pg(database_url)
        return database_url

    run_state_machine_as_test(lambda: PaymentsMachine(fresh_database), settings=SETTINGS)


def _known(event: GatewayEvent, books: inv.Books, delivered: set[str]) -> bool:
    """Whether the books already know what the event says."""
    if event.event_id in delivered:
        return True
    payment = next(p for p in books.payments if p["id"] == event.reference)
    refund = next((r for r in books.refunds if r["payment_id"] == payment["id"]), None)
    if event.kind is EventKind.PAYMENT_FAILED:
        return bool(payment["status"] != "pending")
    if event.kind is EventKind.PAYMENT_SUCCEEDED:
        return payment["status"] in inv.RECEIVED
    return refund is not None and refund["status"] == "succeeded"
