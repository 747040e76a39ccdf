"""The command line, run as a user runs it: migrate, demo-data, create-admin."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from slotbook.adapters.db.availability_tables import availability_slots
from slotbook.adapters.db.tables import providers, slots, users
from slotbook.bootstrap import build_context, close_context
from slotbook.config import load_settings
from slotbook.service_layer import accounts
from tests.conftest import FAST_HASH

NOWHERE_PG = "postgresql://postgres@127.0.0.1:1/nowhere"


def run(*args: str, database_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`slotbook ARGS` as a user runs it, with only the given SLOTBOOK_ settings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SLOTBOOK_")}
    return subprocess.run(
        [sys.executable, "-m", "slotbook.cli", *args],
        env={
            **clean,
            "SLOTBOOK_DATABASE_URL": database_url,
            "SLOTBOOK_ARGON2_TIME_COST": "1",
            "SLOTBOOK_ARGON2_MEMORY_KIB": "1024",
            "SLOTBOOK_DB_CONNECT_TIMEOUT_SECONDS": "1",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def slotbook(*args: str, database_url: str, **env: str) -> str:
    done = run(*args, database_url=database_url, **env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def refused(*args: str, database_url: str, **env: str) -> str:
    """The one clear line a failing command prints (exit 1, no traceback)."""
    done = run(*args, database_url=database_url, **env)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("slotbook: "), done.stderr
    return done.stderr


async def test_migrate_demo_data_and_create_admin(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert "up to date" in slotbook("migrate", database_url=url)
    printed = slotbook("demo-data", database_url=url)
    assert "customer@demo.slotbook.app / slotbook-demo" in printed
    assert "provider1@demo.slotbook.app / slotbook-demo" in printed
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
            opened = await conn.scalar(select(func.count()).select_from(availability_slots))
        assert roles["root@example.com"] == "admin"
        assert roles["customer@demo.slotbook.app"] == "customer"
        assert categories == 5
        assert (slot_count or 0) > 12 * 14
        assert (opened or 0) >= 7 * 6 * 8  # the demo provider's weeks of weekly hours
        admin = await accounts.log_in(ctx, email="root@example.com", password="s3cret-pass")
        assert admin.user.role.value == "admin"
        demo = await accounts.log_in(
            ctx, email="customer@demo.slotbook.app", password="slotbook-demo"
        )
        assert demo.access_token
    finally:
        await close_context(ctx)


def test_migrate_needs_only_the_database_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'prod.db'}"
    printed = slotbook("migrate", database_url=url, SLOTBOOK_ENV="production")
    assert "up to date" in printed
    assert not (tmp_path / ".slotbook-secrets.json").exists()


def test_migrate_says_clearly_when_the_database_cannot_be_reached() -> None:
    message = refused("migrate", database_url=NOWHERE_PG)
    assert "cannot reach the database" in message


def test_serve_refuses_to_start_in_production_without_secrets(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'prod.db'}"
    message = refused("serve", "--port", "1", database_url=url, SLOTBOOK_ENV="production")
    assert "SLOTBOOK_JWT_SECRET" in message
    assert "SLOTBOOK_SANDBOX_WEBHOOK_SECRET" in message


def test_serve_refuses_to_start_with_a_half_configured_gateway(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'gw.db'}"
    half = {"SLOTBOOK_CARD_GATEWAY": "stripe", "SLOTBOOK_STRIPE_SECRET_KEY": "sk_live_abc"}
    message = refused("serve", "--port", "1", database_url=url, **half)
    assert "SLOTBOOK_STRIPE_WEBHOOK_SECRET" in message
    assert "sk_live_abc" not in message  # no key is printed


def test_create_admin_refuses_a_taken_email_clearly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    slotbook("migrate", database_url=url)
    admin = ("create-admin", "--email", "root@example.com", "--password", "s3cret-pass")
    slotbook(*admin, database_url=url)
    assert "already registered" in refused(*admin, database_url=url)


def test_create_admin_says_clearly_when_the_database_cannot_be_reached() -> None:
    admin = ("create-admin", "--email", "root@example.com", "--password", "s3cret-pass")
    message = refused(*admin, database_url=NOWHERE_PG)
    assert "cannot be reached" in message


def test_create_admin_checks_email_and_password_as_sign_up_does(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    slotbook("migrate", database_url=url)
    bad_email = ("create-admin", "--email", "root@", "--password", "s3cret-pass")
    assert "--email" in refused(*bad_email, database_url=url)
    short = ("create-admin", "--email", "root@example.com", "--password", "short")
    assert "--password" in refused(*short, database_url=url)


def test_sandbox_gateway_refuses_unusable_settings_clearly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    production = refused("sandbox-gateway", database_url=url, SLOTBOOK_ENV="production")
    assert "SLOTBOOK_SANDBOX_WEBHOOK_SECRET" in production
    bad_secret = refused(
        "sandbox-gateway", database_url=url, SLOTBOOK_SANDBOX_WEBHOOK_SECRET="not-a-whsec"
    )
    assert "whsec_" in bad_secret
    elsewhere = refused(
        "sandbox-gateway", database_url=url, SLOTBOOK_SANDBOX_DATABASE_URL="postgresql://x/y"
    )
    assert "sandbox_database_url" in elsewhere
