"""The `slotbook` command line."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import tempfile
from collections.abc import Awaitable, Callable
from contextlib import suppress

import uvicorn
from pydantic import ValidationError

from slotbook.adapters.local_secrets import Secrets, SecretsRefused, resolve_secrets
from slotbook.bootstrap import build_context, close_context
from slotbook.config import DatabaseSettings, Settings, load_settings
from slotbook.domain.errors import SlotbookError
from slotbook.edge.http import CorkedHttpToolsProtocol
from slotbook.logs import configure_logging
from slotbook.service_layer.context import Context


class CommandFailed(Exception):
    """A command could not do its work; the message says why, for the person at the shell."""


def _fail_clearly(work: Callable[[], None]) -> None:
    """Run a command; known failures print one clear line and exit 1, no traceback."""
    try:
        work()
    except CommandFailed as exc:
        raise SystemExit(f"slotbook: {exc}") from None
    except (SlotbookError, SecretsRefused, ValidationError) as exc:
        raise SystemExit(f"slotbook: {_message(exc)}") from None


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    if isinstance(exc, SlotbookError):
        return exc.detail
    return str(exc)


def _with_context(work: Callable[[Context], Awaitable[None]]) -> None:
    async def run() -> None:
        ctx = await build_context(load_settings())
        try:
            await work(ctx)
        finally:
            await close_context(ctx)

    asyncio.run(run())


def migrate(_: argparse.Namespace) -> None:
    from slotbook.adapters.db.failures import classify
    from slotbook.adapters.db.migrations.runner import upgrade

    url = DatabaseSettings().database_url
    try:
        upgrade(url)
    except Exception as exc:
        if classify(exc) is None:
            raise
        raise CommandFailed(f"cannot reach the database to migrate it: {exc}") from exc
    print("database schema is up to date")


def _announce_secrets(secrets: Secrets) -> None:
    if secrets.generated_in is not None:
        print(
            f"using development secrets (JWT, sandbox webhook whsec_...) kept in "
            f"{secrets.generated_in}; set SLOTBOOK_JWT_SECRET and "
            "SLOTBOOK_SANDBOX_WEBHOOK_SECRET to choose your own",
            flush=True,
        )


def _own_addresses(settings: Settings, host: str, port: int) -> Settings:
    """Where this server is reached, unless configured: its public URL (webhooks, the
    customer's way back from the gateway) and the URL of the sandbox it serves. Put in
    the environment, so every worker reads the same."""
    local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104
    own = f"http://{local}:{port}"
    for field, value in (("public_url", own), ("sandbox_gateway_url", f"{own}/sandbox")):
        if field not in settings.model_fields_set:
            os.environ[f"SLOTBOOK_{field.upper()}"] = value
    return load_settings()


def serve(args: argparse.Namespace) -> None:
    settings = _own_addresses(load_settings(), args.host, args.port)
    configure_logging(settings.log_level)
    secrets = resolve_secrets(settings)  # refused here, once, rather than in every worker
    metrics_dir = None
    if args.workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        metrics_dir = tempfile.mkdtemp(prefix="slotbook-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    print(f"slotbook on http://{args.host}:{args.port} (docs at /docs)", flush=True)
    _announce_secrets(secrets)
    try:
        uvicorn.run(
            "slotbook.api.app:app_from_env",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            loop="uvloop",
            http=CorkedHttpToolsProtocol,
            access_log=False,
            log_config=None,
            timeout_graceful_shutdown=5,
            timeout_keep_alive=settings.http_keep_alive_seconds,
        )
    finally:
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def sandbox_gateway(args: argparse.Namespace) -> None:
    from slotbook.adapters.clock import SystemClock
    from slotbook.sandbox.app import PREFIX, standalone_app
    from slotbook.sandbox.config import SandboxConfig
    from slotbook.sandbox.runtime import Sandbox

    settings = load_settings()
    configure_logging(settings.log_level)
    secrets = resolve_secrets(settings)
    config = SandboxConfig.from_settings(settings, webhook_secret=secrets.sandbox_webhook_secret)
    print(
        f"sandbox gateway on http://{args.host}:{args.port}{PREFIX} "
        f"(state in {config.database_url})",
        flush=True,
    )
    _announce_secrets(secrets)
    uvicorn.run(
        standalone_app(Sandbox(config, clock=SystemClock()), access_log=settings.access_log),
        host=args.host,
        port=args.port,
        loop="uvloop",
        http=CorkedHttpToolsProtocol,
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=5,
        timeout_keep_alive=settings.http_keep_alive_seconds,
    )


def sweeper(_: argparse.Namespace) -> None:
    from slotbook.service_layer.sweeper import run_sweeper

    configure_logging(load_settings().log_level)

    async def work(ctx: Context) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        print("sweeper running", flush=True)
        await run_sweeper(ctx, stop)

    _with_context(work)


def demo_data(_: argparse.Namespace) -> None:
    from slotbook.service_layer.demo_data import load_demo_data

    async def work(ctx: Context) -> None:
        login = await load_demo_data(ctx)
        state = "loaded" if login.created else "already loaded"
        print(f"demo data {state}; demo customer login: {login.email} / {login.password}")
        print(f"demo provider login (weekly hours): {login.provider_email} / {login.password}")

    _with_context(work)


def create_admin(args: argparse.Namespace) -> None:
    from slotbook.domain.validation import check_email, check_password
    from slotbook.service_layer.accounts import create_admin as create

    checked = {}
    for option, check, value in (
        ("--email", check_email, args.email),
        ("--password", check_password, args.password),
    ):
        try:
            checked[option] = check(value)
        except ValueError as exc:
            raise CommandFailed(f"{option}: {exc}") from None

    async def work(ctx: Context) -> None:
        user = await create(ctx, email=checked["--email"], password=checked["--password"])
        print(f"admin {user.email} created ({user.id})")

    _with_context(work)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="slotbook", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="bring the database schema up to date").set_defaults(run=migrate)
    s = sub.add_parser("serve", help="serve the API and run the sweeper")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=int, default=1)
    s.set_defaults(run=serve)
    sub.add_parser("sweeper", help="run the sweeper alone").set_defaults(run=sweeper)
    g = sub.add_parser("sandbox-gateway", help="run the sandbox payment gateway alone")
    g.add_argument("--host", default="127.0.0.1")
    g.add_argument("--port", type=int, default=8001)
    g.set_defaults(run=sandbox_gateway)
    sub.add_parser("demo-data", help="load the demo providers, slots and customer").set_defaults(
        run=demo_data
    )
    a = sub.add_parser("create-admin", help="create an admin account")
    a.add_argument("--email", required=True)
    a.add_argument("--password", required=True)
    a.set_defaults(run=create_admin)
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    _fail_clearly(lambda: args.run(args))


if __name__ == "__main__":
    main()
