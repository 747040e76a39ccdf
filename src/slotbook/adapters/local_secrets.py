"""The service's secrets: from the environment, or generated once for a development box.

No secret lives in the source. In production both must be set (`SLOTBOOK_JWT_SECRET`,
`SLOTBOOK_SANDBOX_WEBHOOK_SECRET`) and start-up refuses to go on without them. Anywhere
else, a secret left unset is generated at random the first time and kept in a local file
(`SLOTBOOK_SECRETS_FILE`; by default `.slotbook-secrets.json` beside the SQLite database,
or in the working directory), readable by its owner only, so tokens survive a restart and
every worker process of one server signs with the same key.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import tempfile
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from slotbook.config import MIN_SECRET_LENGTH, Environment, Settings

FILE_NAME = ".slotbook-secrets.json"


class SecretsRefused(ValueError):
    """The configured secrets cannot be used (production without them, say)."""


@dataclass(frozen=True, slots=True)
class Secrets:
    jwt_secret: str
    sandbox_webhook_secret: str
    generated_in: Path | None = None  # the file, when any of them was generated


def secrets_path(settings: Settings) -> Path:
    if settings.secrets_file:
        return Path(settings.secrets_file)
    url = make_url(settings.database_url)
    if settings.is_sqlite and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent / FILE_NAME
    return Path.cwd() / FILE_NAME


def resolve_secrets(settings: Settings) -> Secrets:
    """The secrets to run with; SecretsRefused in production when one is missing."""
    jwt, webhook = settings.jwt_secret, settings.sandbox_webhook_secret
    if settings.env is Environment.PRODUCTION:
        missing = [
            name
            for name, value in (
                ("SLOTBOOK_JWT_SECRET", jwt),
                ("SLOTBOOK_SANDBOX_WEBHOOK_SECRET", webhook),
            )
            if not value
        ]
        if missing:
            raise SecretsRefused(
                f"{' and '.join(missing)} must be set in production "
                "(generated development secrets are never used there)"
            )
    if jwt and webhook:
        return Secrets(jwt, webhook)
    path = secrets_path(settings)
    stored = _load_or_create(path)
    return Secrets(
        jwt or stored["jwt_secret"],
        webhook or stored["sandbox_webhook_secret"],
        generated_in=path,
    )


def _generate() -> dict[str, str]:
    return {
        "jwt_secret": secrets.token_urlsafe(48),
        "sandbox_webhook_secret": "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode(),
    }


def _load_or_create(path: Path) -> dict[str, str]:
    """Read the file, creating it first if absent; concurrent creators agree on one."""
    try:
        if not path.exists():
            _create(path)
        stored = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SecretsRefused(f"cannot keep generated secrets in {path}: {exc}") from exc
    if not isinstance(stored, dict) or any(
        not isinstance(stored.get(k), str) or len(stored[k]) < MIN_SECRET_LENGTH
        for k in ("jwt_secret", "sandbox_webhook_secret")
    ):
        raise SecretsRefused(f"{path} does not hold usable secrets; delete it to start afresh")
    return stored


def _create(path: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".slotbook-secrets-", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(_generate(), handle)
        os.chmod(tmp, 0o600)
        with suppress(FileExistsError):  # another process created it first: use theirs
            os.link(tmp, path)  # atomic, and never replaces an existing file
    finally:
        os.unlink(tmp)
