"""The command line, run as a user runs it: migrate, demo-data, create-admin."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from slotbook.adapters.db.tables import providers, slots, users
from slotbook.bootstrap import build_context, close_context
from slotbook.config import load_settings
from slotbook.service_layer import accounts
from tests.conftest import FAST_HASH


def slotbook(*args: str, database_url: str) -> str:
    env = {
        **os.environ,
        "SLOTBOOK_DATABASE_URL": database_url,
        "SLOTBOOK_ARGON2_TIME_COST": "1",
        "SLOTBOOK_ARGON2_MEMORY_KIB": "1024",
    }
    done = subprocess.run(
        [sys.executable, "-m", "slotbook.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


async def test_migrate_demo_data_and_create_admin(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert "up to date" in slotbook("migrate", database_url=url)
    printed = slotbook("demo-data", database_url=url)
    assert "customer@demo.slotbook.app / slotbook-demo" in printed
    assert "already loaded" in slotbook("demo-data", database_url=url)
    slotbook(
        "create-admin", "--email", "root@example.com", "--password", "s3cret-pass", database_url=url
    )

    ctx = await build_context(load_settings(database_url=url, **FAST_HASH))
    try:
        async with ctx.db.read() as conn:
            assert await conn.scalar(select(func.count()).select_from(providers)) == 12
            roles = dict((await conn.execute(select(users.c.email, users.c.role))).all())
            categories = await conn.scalar(select(func.count(slots.c.category.distinct())))
            slot_count = await conn.scalar(select(func.count()).select_from(slots))
        assert roles["root@example.com"] == "admin"
        assert roles["customer@demo.slotbook.app"] == "customer"
        assert categories == 5
        assert (slot_count or 0) > 12 * 14
        admin = await accounts.log_in(ctx, email="root@example.com", password="s3cret-pass")
        assert admin.user.role.value == "admin"
        demo = await accounts.log_in(
            ctx, email="customer@demo.slotbook.app", password="slotbook-demo"
        )
        assert demo.access_token
    finally:
        await close_context(ctx)
