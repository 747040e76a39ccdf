"""The composition root: builds the service's context from settings.

Production and tests go through the same function; tests hand in their own clock (and,
to inject a fault, their own hold store) instead of patching anything.
"""

from __future__ import annotations

from slotbook.adapters.clock import SystemClock
from slotbook.adapters.db.connections import BoundedPool, create_bounded_pool
from slotbook.adapters.db.engine import Database, create_engine, libpq_dsn
from slotbook.adapters.db.hold_lock import SqlHoldStore
from slotbook.adapters.db.pg_hold_batch import BatchingHoldStore
from slotbook.adapters.db.pg_hold_lock import PgHoldStore
from slotbook.adapters.gateways.omise import OmiseGateway
from slotbook.adapters.gateways.sandbox import SandboxGateway
from slotbook.adapters.gateways.stripe_checkout import StripeGateway
from slotbook.adapters.local_secrets import Secrets, resolve_secrets
from slotbook.adapters.payment_watch import LocalWatch, PgWatch
from slotbook.adapters.security import Passwords, Tokens, default_hash_concurrency
from slotbook.config import GatewayName, Settings
from slotbook.domain.clock import Clock
from slotbook.domain.gateway import PaymentGateway, PaymentMethod
from slotbook.domain.ports import HoldStore
from slotbook.service_layer.context import Context
from slotbook.service_layer.gateways import Gateways
from slotbook.service_layer.recent_alternatives import RecentAlternatives


async def build_context(
    settings: Settings,
    *,
    clock: Clock | None = None,
    hold_store: HoldStore | None = None,
    gateways: Gateways | None = None,
) -> Context:
    """Everything a use case needs, wired for the configured database.

    Raises SecretsRefused when the secrets cannot be used (production without them).
    """
    secrets = resolve_secrets(settings)
    raw = None if settings.is_sqlite else await _raw_pool(settings)
    db = Database(create_engine(settings), health=create_engine(settings, pool_size=1), raw=raw)
    if hold_store is None:
        hold_store = await _default_hold_store(settings, db)
    return Context(
        settings=settings,
        secrets=secrets,
        clock=clock or SystemClock(),
        db=db,
        hold_store=hold_store,
        passwords=Passwords(
            time_cost=settings.argon2_time_cost,
            memory_kib=settings.argon2_memory_kib,
            concurrency=settings.password_hash_concurrency or default_hash_concurrency(),
            wait_seconds=settings.password_hash_wait_seconds,
        ),
        tokens=Tokens(secret=secrets.jwt_secret, ttl_seconds=settings.access_token_ttl_seconds),
        recent_alternatives=RecentAlternatives(ttl_seconds=settings.suggestion_cache_seconds),
        gateways=gateways or configured_gateways(settings, secrets),
        payment_watch=(LocalWatch() if db.is_sqlite else PgWatch(libpq_dsn(settings.database_url))),
    )


def configured_gateways(settings: Settings, secrets: Secrets) -> Gateways:
    """The gateway of each payment method, as `SLOTBOOK_CARD_GATEWAY` and
    `SLOTBOOK_PROMPTPAY_GATEWAY` say (the sandbox unless told otherwise); one adapter per
    gateway, shared by the methods it serves."""
    chosen = {
        PaymentMethod.CARD: settings.card_gateway,
        PaymentMethod.PROMPTPAY: settings.promptpay_gateway,
    }
    built: dict[GatewayName, PaymentGateway] = {}
    for name in dict.fromkeys(chosen.values()):
        if name == GatewayName.STRIPE:
            built[name] = StripeGateway.from_settings(settings)
        elif name == GatewayName.OMISE:
            built[name] = OmiseGateway.from_settings(settings)
        else:
            built[name] = SandboxGateway.from_settings(settings, secrets)
    return Gateways({method: built[name] for method, name in chosen.items()})


async def _raw_pool(settings: Settings) -> BoundedPool:
    """PostgreSQL's asyncpg pool of the hot paths (the hold store, success webhooks)."""
    return await create_bounded_pool(libpq_dsn(settings.database_url), settings)


async def _default_hold_store(settings: Settings, db: Database) -> HoldStore:
    if db.raw is None:
        return SqlHoldStore(db)
    single = PgHoldStore(db.raw)
    if settings.hold_batch_connections == 0:
        return single
    return await batching_hold_store(settings, single)


async def batching_hold_store(settings: Settings, single: PgHoldStore) -> BatchingHoldStore:
    """Group commit of holds (docs/group-commit.md) in front of the single-statement store:
    the default on PostgreSQL, unless `hold_batch_connections` is 0."""
    connections = settings.hold_batch_connections or 1
    pool = await create_bounded_pool(libpq_dsn(settings.database_url), settings, size=connections)
    return BatchingHoldStore(
        single,
        pool,
        batch_size=settings.hold_batch_size,
        placers=connections,
        queue_wait_seconds=settings.db_pool_timeout_seconds,
    )


async def close_context(ctx: Context) -> None:
    """Release the context's connections and threads."""
    close = getattr(ctx.hold_store, "close", None)
    if close is not None:
        await close()
    ctx.passwords.close()
    await ctx.gateways.aclose()
    await ctx.payment_watch.close()
    await ctx.db.dispose()
