"""Settings, read once from the environment (and an optional `.env` file)."""

from __future__ import annotations

from enum import StrEnum
from functools import cached_property
from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "dev-only-jwt-secret-change-me-0123456789abcdef"
DEV_WEBHOOK_SECRET = "whsec_ZGV2LW9ubHktc2FuZGJveC13ZWJob29rLXNlY3JldA=="


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


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
    db_statement_timeout_seconds: float = Field(default=5.0, gt=0)

    hold_ttl_seconds: int = Field(default=600, ge=1)
    payment_confirm_timeout_seconds: int = Field(default=5, ge=1)
    late_payment_policy: LatePaymentPolicy = LatePaymentPolicy.REFUND
    platform_fee_bps: int = Field(default=1000, ge=0, le=10_000)
    sandbox_webhook_secret: str = DEV_WEBHOOK_SECRET

    jwt_secret: str = DEV_JWT_SECRET
    access_token_ttl_seconds: int = Field(default=3600, ge=60)
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8)

    sweeper_interval_seconds: float = Field(default=0.25, gt=0, le=1.0)
    suggestion_limit: int = Field(default=5, ge=1, le=20)
    suggestion_cache_seconds: float = Field(default=1.0, ge=0, le=60)
    log_level: str = "INFO"
    access_log: bool = True

    @model_validator(mode="after")
    def _refuse_dev_secrets_outside_development(self) -> Self:
        if self.env is Environment.PRODUCTION and self.jwt_secret == DEV_JWT_SECRET:
            raise ValueError("SLOTBOOK_JWT_SECRET must be set outside development")
        if len(self.jwt_secret) < 32:
            raise ValueError("SLOTBOOK_JWT_SECRET must be at least 32 characters")
        return self

    @cached_property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (used by tests and the CLI)."""
    return Settings(**overrides)  # type: ignore[arg-type]
