"""Settings, read once from the environment (and an optional `.env` file)."""

from __future__ import annotations

import base64
import binascii
from enum import StrEnum
from functools import cached_property
from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_SECRET_LENGTH = 32
MIN_WEBHOOK_KEY_BYTES = 24
WEBHOOK_SECRET_PREFIX = "whsec_"


def is_webhook_secret(value: str) -> bool:
    """A Standard Webhooks secret: `whsec_` and a base64 key of at least 24 bytes."""
    if not value.startswith(WEBHOOK_SECRET_PREFIX):
        return False
    encoded = value.removeprefix(WEBHOOK_SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error:
        return False
    return len(key) >= MIN_WEBHOOK_KEY_BYTES


def _is_base64(value: str) -> bool:
    try:
        return len(base64.b64decode(value, validate=True)) >= 16
    except binascii.Error:
        return False


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class GatewayName(StrEnum):
    SANDBOX = "sandbox"
    STRIPE = "stripe"
    OMISE = "omise"


class LatePaymentPolicy(StrEnum):
    REFUND = "refund"
    CONFIRM_IF_FREE = "confirm_if_free"


class Settings(BaseSettings):
    """Every setting of the service; names are `SLOTBOOK_` + the field name in capitals."""

    model_config = SettingsConfigDict(env_prefix="SLOTBOOK_", env_file=".env", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    database_url: str = "sqlite:///./slotbook.db"
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_connect_timeout_seconds: float = Field(default=3.0, gt=0)
    db_pool_timeout_seconds: float = Field(default=10.0, gt=0)
    db_statement_timeout_seconds: float = Field(default=5.0, gt=0)
    db_tcp_keepalive_idle_seconds: int = Field(default=5, ge=1, le=3600)
    db_tcp_keepalive_interval_seconds: int = Field(default=2, ge=1, le=600)
    db_tcp_keepalive_count: int = Field(default=3, ge=1, le=20)
    max_clock_skew_seconds: float = Field(default=2.0, gt=0)
    # group commit of holds on PostgreSQL (docs/group-commit.md): up to `hold_batch_size`
    # waiting holds placed by one statement, on each of `hold_batch_connections`
    # connections of their own; 0 connections: one statement per hold. One connection
    # measured best on 2 cores (docs/benchmarks.md): a second database backend only
    # competes with the server process for the cores
    hold_batch_size: int = Field(default=16, ge=1, le=256)
    hold_batch_connections: int = Field(default=1, ge=0, le=32)

    hold_ttl_seconds: int = Field(default=600, ge=1)
    booking_horizon_days: int = Field(default=730, ge=1, le=3650)
    # how far ahead the worker opens slots from providers' weekly hours (at most the above)
    availability_horizon_days: int = Field(default=60, ge=1, le=3650)
    payment_confirm_timeout_seconds: int = Field(default=5, ge=1)
    late_payment_policy: LatePaymentPolicy = LatePaymentPolicy.REFUND
    # PostgreSQL: a success's confirming writes as one statement (adapters/db/pg_confirm.py);
    # false falls back to one statement per write, as on SQLite
    confirm_in_one_statement: bool = True
    platform_fee_bps: int = Field(default=1000, ge=0, le=10_000)
    sandbox_webhook_secret: str | None = None
    # where customers and gateways reach this service (webhook and return URLs)
    public_url: str = "http://127.0.0.1:8000"
    outbox_batch: int = Field(default=50, ge=1, le=1000)
    outbox_lease_seconds: float = Field(default=60.0, gt=0)
    outbox_max_backoff_seconds: float = Field(default=300.0, gt=0)

    # the sandbox gateway: where the service reaches it, and the gateway's own settings
    # (served under /sandbox by `slotbook serve` unless `sandbox_mount` is false, or alone
    # by `slotbook sandbox-gateway`)
    sandbox_gateway_url: str = "http://127.0.0.1:8000/sandbox"
    sandbox_gateway_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    sandbox_mount: bool = True
    # its own SQLite file; default: beside the service's SQLite database, or in the cwd
    sandbox_database_url: str | None = Field(default=None, pattern=r"^sqlite(\+aiosqlite)?:///")
    sandbox_promptpay_id: str = Field(default="0812345678", pattern=r"^(0\d{9}|\d{13}|\d{15})$")
    sandbox_merchant_name: str = Field(default="slotbook", min_length=1, max_length=80)
    sandbox_webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    sandbox_webhook_retry_seconds: float = Field(default=1.0, gt=0, le=3600)  # first backoff
    sandbox_webhook_give_up_seconds: float = Field(default=3600.0, gt=0)

    # which gateway takes each payment method, and the real gateways' keys (docs/gateways.md)
    card_gateway: GatewayName = GatewayName.SANDBOX
    promptpay_gateway: GatewayName = GatewayName.SANDBOX
    gateway_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    stripe_secret_key: str | None = Field(default=None, pattern=r"^(sk|rk)_(test|live)_\w+$")
    stripe_webhook_secret: str | None = Field(default=None, pattern=r"^whsec_\w+$")
    stripe_api_base: str = "https://api.stripe.com"
    omise_secret_key: str | None = Field(default=None, pattern=r"^skey_(test_)?\w+$")
    omise_webhook_secret: str | None = None  # base64, as the dashboard shows it
    omise_api_base: str = "https://api.omise.co"
    # the card page's Omise.js: it makes the card token in the customer's browser
    omise_public_key: str | None = Field(default=None, pattern=r"^pkey_(test_)?\w+$")
    omise_js_url: str = Field(default="https://cdn.omise.co/omise.js", pattern=r"^https?://")

    # unset outside production: generated once and kept in `secrets_file` (see
    # adapters/local_secrets.py); production refuses to start without them
    jwt_secret: str | None = None
    secrets_file: str | None = None
    access_token_ttl_seconds: int = Field(default=3600, ge=60)
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8)
    password_hash_concurrency: int = Field(default=0, ge=0, le=64)  # 0: one per CPU
    password_hash_wait_seconds: float = Field(default=60.0, gt=0)

    # an in-progress claim may be retaken after its lease; a key is a new one after its TTL
    # (the bounds keep a lease shorter than a key's life)
    idempotency_lease_seconds: float = Field(default=30.0, gt=0, le=3600)
    idempotency_key_ttl_seconds: int = Field(default=86_400, ge=3600)

    sweeper_interval_seconds: float = Field(default=0.25, gt=0, le=1.0)
    suggestion_limit: int = Field(default=5, ge=1, le=20)
    suggestion_cache_seconds: float = Field(default=1.0, ge=0, le=60)
    log_level: str = "INFO"
    access_log: bool = True
    # a request body larger than this is refused 413 before it is read (edge/body_limit.py)
    max_body_bytes: int = Field(default=1_048_576, ge=4096)
    http_keep_alive_seconds: int = Field(default=75, ge=1, le=3600)

    @model_validator(mode="after")
    def _refuse_short_secrets(self) -> Self:
        if self.jwt_secret is not None and len(self.jwt_secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"SLOTBOOK_JWT_SECRET must be at least {MIN_SECRET_LENGTH} characters")
        if self.sandbox_webhook_secret is not None and not is_webhook_secret(
            self.sandbox_webhook_secret
        ):
            raise ValueError(
                "SLOTBOOK_SANDBOX_WEBHOOK_SECRET must be whsec_ followed by at least "
                f"{MIN_WEBHOOK_KEY_BYTES} bytes in base64"
            )
        self._refuse_half_configured_gateways()
        return self

    def _refuse_half_configured_gateways(self) -> None:
        """A real gateway is used with both its key and its webhook secret, or not at all."""
        chosen = {self.card_gateway, self.promptpay_gateway}
        for name, key, secret in (
            (GatewayName.STRIPE, self.stripe_secret_key, self.stripe_webhook_secret),
            (GatewayName.OMISE, self.omise_secret_key, self.omise_webhook_secret),
        ):
            upper = name.value.upper()
            if (key is None) != (secret is None):
                raise ValueError(
                    f"SLOTBOOK_{upper}_SECRET_KEY and SLOTBOOK_{upper}_WEBHOOK_SECRET go "
                    "together: set both or neither"
                )
            if name in chosen and key is None:
                raise ValueError(
                    f"{name.value} serves a payment method but SLOTBOOK_{upper}_SECRET_KEY "
                    f"and SLOTBOOK_{upper}_WEBHOOK_SECRET are not set"
                )
        if self.card_gateway is GatewayName.OMISE and self.omise_public_key is None:
            raise ValueError(
                "omise takes card payments but SLOTBOOK_OMISE_PUBLIC_KEY is not set: the card "
                "page's Omise.js makes the card token with it"
            )
        if self.omise_webhook_secret is not None and not _is_base64(self.omise_webhook_secret):
            raise ValueError("SLOTBOOK_OMISE_WEBHOOK_SECRET must be base64, as Omise shows it")

    @cached_property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


class DatabaseSettings(BaseSettings):
    """Only where the database is: all `slotbook migrate` needs."""

    model_config = SettingsConfigDict(env_prefix="SLOTBOOK_", env_file=".env", extra="ignore")

    database_url: str = Settings.model_fields["database_url"].default


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (used by tests and the CLI)."""
    return Settings(**overrides)  # type: ignore[arg-type]
