"""Alembic environment: runs migrations over the service's own async engine.

Migrations are frozen once on main: a schema change is a new revision (see README.md).
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

from slotbook.adapters.db.engine import create_engine
from slotbook.adapters.db.migrations.compare import COMPARE_OPTIONS
from slotbook.adapters.db.tables import metadata
from slotbook.config import DatabaseSettings, Settings

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        transaction_per_migration=True,
        **COMPARE_OPTIONS,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    url = config.get_main_option("sqlalchemy.url") or DatabaseSettings().database_url
    # only the URL counts: the rest of the service's settings are not read for a migration
    engine = create_engine(Settings.model_construct(database_url=url), for_migrations=True)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_run)
            await conn.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `slotbook migrate`")
asyncio.run(_run_async())
