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

from slotbook.bootstrap import build_context, close_context
from slotbook.config import load_settings
from slotbook.logs import configure_logging
from slotbook.service_layer.context import Context


def _with_context(work: Callable[[Context], Awaitable[None]]) -> None:
    async def run() -> None:
        ctx = await build_context(load_settings())
        try:
            await work(ctx)
        finally:
            await close_context(ctx)

    asyncio.run(run())


def migrate(_: argparse.Namespace) -> None:
    from slotbook.adapters.db.migrations.runner import upgrade

    upgrade(load_settings().database_url)
    print("database schema is up to date")


def serve(args: argparse.Namespace) -> None:
    settings = load_settings()
    configure_logging(settings.log_level)
    metrics_dir = None
    if args.workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        metrics_dir = tempfile.mkdtemp(prefix="slotbook-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    print(f"slotbook on http://{args.host}:{args.port} (docs at /docs)", flush=True)
    if settings.sandbox_webhook_secret.startswith("whsec_ZGV2"):
        print("using the development sandbox webhook secret (whsec_...)", flush=True)
    try:
        uvicorn.run(
            "slotbook.api.app:app_from_env",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            loop="uvloop",
            http="httptools",
            access_log=False,
            log_config=None,
            timeout_graceful_shutdown=5,
        )
    finally:
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)


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

    _with_context(work)


def create_admin(args: argparse.Namespace) -> None:
    from slotbook.service_layer.accounts import create_admin as create

    async def work(ctx: Context) -> None:
        user = await create(ctx, email=args.email, password=args.password)
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
    args.run(args)


if __name__ == "__main__":
    main()
