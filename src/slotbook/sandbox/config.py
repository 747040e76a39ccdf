"""The sandbox gateway's own settings, taken from slotbook's at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from slotbook.config import Settings

DEFAULT_FILE = "sandbox-gateway.db"


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    database_url: str  # a SQLite file of its own
    webhook_secret: str  # whsec_...: signs every webhook it delivers
    promptpay_id: str
    merchant_name: str
    webhook_timeout_seconds: float = 5.0
    webhook_retry_seconds: float = 1.0  # the first backoff; it doubles up to MAX_BACKOFF
    webhook_give_up_seconds: float = 3600.0  # a delivery not accepted by then is abandoned

    @classmethod
    def from_settings(cls, settings: Settings, *, webhook_secret: str) -> SandboxConfig:
        return cls(
            database_url=sandbox_database_url(settings),
            webhook_secret=webhook_secret,
            promptpay_id=settings.sandbox_promptpay_id,
            merchant_name=settings.sandbox_merchant_name,
            webhook_timeout_seconds=settings.sandbox_webhook_timeout_seconds,
            webhook_retry_seconds=settings.sandbox_webhook_retry_seconds,
            webhook_give_up_seconds=settings.sandbox_webhook_give_up_seconds,
        )


def sandbox_database_url(settings: Settings) -> str:
    """The configured URL (SQLite, the settings check), else a file beside the service's
    SQLite database, else `./sandbox-gateway.db`."""
    if settings.sandbox_database_url:
        return settings.sandbox_database_url
    service = make_url(settings.database_url)
    if settings.is_sqlite and service.database and service.database != ":memory:":
        return f"sqlite:///{Path(service.database).resolve().parent / DEFAULT_FILE}"
    return f"sqlite:///{Path.cwd() / DEFAULT_FILE}"
