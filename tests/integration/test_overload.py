"""Overload is not an outage: a full pool and a slow statement answer 503 `overloaded`
with Retry-After, a database that cannot be connected to in time answers 503
`database-unavailable`, a bug answers 500, and readiness does not depend on the request
pool."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest
from structlog.testing import capture_logs

from slotbook.adapters.clock import SystemClock
from slotbook.adapters.db.engine import libpq_dsn
from slotbook.api.app import create_app
from slotbook.bootstrap import build_context, close_context
from slotbook.config import Settings
from slotbook.domain.clock import Clock
from slotbook.domain.model import Principal, Role
from slotbook.domain.slots import Slot
from slotbook.service_layer.context import Context
from tests import builders
from tests.e2e.http_helpers import assert_problem, bearer

POSTGRES_ONLY = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
ClientFor = Callable[..., AbstractAsyncContextManager[tuple[Context, httpx.AsyncClient]]]


class ShiftedClock:
    """The real time, shifted: readiness compares it with the database's running clock."""

    def __init__(self, seconds: float) -> None:
        self._shift = timedelta(seconds=seconds)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._shift


@pytest.fixture
def client_for(settings: Settings) -> ClientFor:
    """An app over its own context, with settings changed and a clock of choice."""

    @asynccontextmanager
    async def make(
        clock: Clock | None = None, **changes: object
    ) -> AsyncIterator[tuple[Context, httpx.AsyncClient]]:
        ctx = await build_context(settings.model_copy(update=changes), clock=clock or SystemClock())
        app = create_app(context=ctx, run_sweeper_in_process=False)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                yield ctx, client
        finally:
            await close_context(ctx)

    return make


def assert_overloaded(answer: httpx.Response) -> None:
    assert_problem(answer, 503, "/overloaded")
    assert int(answer.headers["retry-after"]) >= 1


async def test_a_full_pool_answers_overloaded_not_unavailable(client_for: ClientFor) -> None:
    async with client_for(db_pool_size=1, db_pool_timeout_seconds=0.2) as (ctx, client):  # noqa: SIM117
        async with ctx.db.read():  # the only pooled connection, taken
            with capture_logs() as logs:
                assert_overloaded(await client.get("/v1/providers"))
    failed = [e for e in logs if e["event"] == "request_failed"]
    assert failed[0]["exc_class"] == "Overloaded"
    assert failed[0]["cause_class"] == "TimeoutError"
    assert "QueuePool limit" in failed[0]["cause_message"]


async def test_readiness_does_not_depend_on_the_request_pool(client_for: ClientFor) -> None:
    async with client_for(db_pool_size=1, db_pool_timeout_seconds=0.2) as (ctx, client):  # noqa: SIM117
        async with ctx.db.read():  # the only pooled connection, taken
            answer = await client.get("/readyz")
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "ready"


async def test_a_process_whose_clock_is_off_reports_not_ready(client_for: ClientFor) -> None:
    ahead = ShiftedClock(10)
    async with client_for(clock=ahead, max_clock_skew_seconds=2) as (_, client):
        with capture_logs() as logs:
            answer = await client.get("/readyz")
    body = assert_problem(answer, 503, "/clock-skewed")
    assert "-10." in body["detail"] or "-9." in body["detail"]  # it says by how much
    assert answer.headers["retry-after"]
    assert any(e["event"] == "clock_skewed" and e["log_level"] == "error" for e in logs)


async def test_a_clock_within_the_allowed_skew_is_ready(client_for: ClientFor) -> None:
    behind = ShiftedClock(-1)
    async with client_for(clock=behind, max_clock_skew_seconds=2) as (_, client):
        answer = await client.get("/readyz")
    assert answer.status_code == 200, answer.text
    assert 0.5 < answer.json()["clock_skew_seconds"] < 2


async def test_a_missing_column_is_a_bug_not_an_outage(client_for: ClientFor) -> None:
    async with client_for() as (ctx, client):
        async with ctx.db.write() as conn:
            await conn.exec_driver_sql("ALTER TABLE providers RENAME COLUMN bio TO bio_gone")
        try:
            with capture_logs() as logs:
                answer = await client.get("/v1/providers")
        finally:
            async with ctx.db.write() as conn:
                await conn.exec_driver_sql("ALTER TABLE providers RENAME COLUMN bio_gone TO bio")
    assert_problem(answer, 500, "/internal-error")
    assert "bio" not in answer.text  # internals do not leak
    logged = next(e for e in logs if e["event"] == "unexpected_error")
    assert logged["exc_class"] in {"ProgrammingError", "OperationalError"}
    assert "bio" in logged["exc_message"]


@asynccontextmanager
async def table_locked(settings: Settings, table: str) -> AsyncIterator[None]:
    """Another session holds an exclusive lock on `table` until the block ends."""
    other = await asyncpg.connect(libpq_dsn(settings.database_url))
    try:
        async with other.transaction():
            await other.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
            yield
    finally:
        await other.close()


async def until_a_session_waits_for_a_lock(settings: Settings) -> None:
    """Return once some session of this database waits on a lock (a deadline bounds it).

    The watcher has a session of its own: activity seen inside a transaction is a
    snapshot taken once."""
    watcher = await asyncpg.connect(libpq_dsn(settings.database_url))
    try:
        async with asyncio.timeout(10):
            while not await watcher.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ):
                pass
    finally:
        await watcher.close()


@POSTGRES_ONLY  # the statement timeout is the server's
async def test_a_statement_timeout_answers_overloaded(
    client_for: ClientFor, settings: Settings
) -> None:
    async with (
        client_for(db_statement_timeout_seconds=0.3) as (_, client),
        table_locked(settings, "providers"),
    ):
        with capture_logs() as logs:
            assert_overloaded(await client.get("/v1/providers"))
    failed = next(e for e in logs if e["event"] == "request_failed")
    assert "statement timeout" in failed["cause_message"]


@POSTGRES_ONLY  # the hold path has a pool of its own on PostgreSQL
@pytest.mark.parametrize("batch_connections", [0, 1], ids=["single", "batched"])
async def test_a_full_hold_pool_answers_overloaded(
    client_for: ClientFor, settings: Settings, batch_connections: int
) -> None:
    """With group commit, the batch connections are the pool the lock waits for."""
    async with client_for(
        db_pool_size=1, db_pool_timeout_seconds=0.2, hold_batch_connections=batch_connections
    ) as (ctx, client):
        _, slots = await builders.provider_with_slots(
            ctx, first=ctx.clock.now() + timedelta(days=1)
        )
        alice, bob = await builders.customer(ctx), await builders.customer(ctx)

        async def hold(user_id: UUID, slot: Slot) -> httpx.Response:
            token = ctx.tokens.issue(Principal(user_id, Role.CUSTOMER), now=ctx.clock.now())
            return await client.post(
                "/v1/holds", json={"slot_id": str(slot.id)}, headers=bearer(token)
            )

        async with table_locked(settings, "slots"):
            waiting = asyncio.create_task(hold(alice.id, slots[0]))  # takes the one connection
            await until_a_session_waits_for_a_lock(settings)
            refused = await hold(bob.id, slots[1])
        assert_overloaded(refused)
        assert (await waiting).status_code == 201


async def _say_nothing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read()  # until the client gives up
    writer.close()


@POSTGRES_ONLY
async def test_a_database_that_never_answers_is_unavailable_within_the_connect_timeout(
    client_for: ClientFor,
) -> None:
    """A server that accepts the connection and then says nothing (a database hung while
    starting, a proxy with nothing behind it): connecting gives up after its own timeout,
    long before the wait for a pooled connection would."""
    silent = await asyncio.start_server(_say_nothing, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    try:
        async with (
            client_for(
                database_url=f"postgresql://postgres@127.0.0.1:{port}/silent",
                db_connect_timeout_seconds=0.5,
                db_pool_timeout_seconds=60.0,
            ) as (ctx, client),
            asyncio.timeout(20),  # a third of the pool wait: only the connect timeout ends it
        ):
            token = ctx.tokens.issue(Principal(uuid4(), Role.CUSTOMER), now=ctx.clock.now())
            answer = await client.post(
                "/v1/holds", json={"slot_id": str(uuid4())}, headers=bearer(token)
            )
    finally:
        silent.close()
    assert_problem(answer, 503, "/database-unavailable")
