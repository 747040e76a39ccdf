"""No secret in the source: generated once into a local file outside production, and
refused when missing in production."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from slotbook.adapters.local_secrets import SecretsRefused, resolve_secrets
from slotbook.config import load_settings

JWT = "a-jwt-secret-chosen-by-the-operator-0123456789"
WEBHOOK = "whsec_b3BlcmF0b3ItY2hvc2VuLXdlYmhvb2stc2VjcmV0"


def sqlite_at(directory: Path, **changes: object) -> dict[str, object]:
    return {"database_url": f"sqlite:///{directory / 'slotbook.db'}", **changes}


def test_development_generates_secrets_beside_the_sqlite_database(tmp_path: Path) -> None:
    secrets = resolve_secrets(load_settings(**sqlite_at(tmp_path)))
    assert secrets.generated_in == tmp_path / ".slotbook-secrets.json"
    assert len(secrets.jwt_secret) >= 32
    assert secrets.sandbox_webhook_secret.startswith("whsec_")
    assert stat.S_IMODE(secrets.generated_in.stat().st_mode) == 0o600


def test_generated_secrets_survive_a_restart(tmp_path: Path) -> None:
    first = resolve_secrets(load_settings(**sqlite_at(tmp_path)))
    again = resolve_secrets(load_settings(**sqlite_at(tmp_path)))
    assert again == first


def test_processes_starting_together_agree_on_one_secret(tmp_path: Path) -> None:
    settings = load_settings(**sqlite_at(tmp_path))
    with ThreadPoolExecutor(8) as pool:
        found = list(pool.map(lambda _: resolve_secrets(settings), range(16)))
    assert len({s.jwt_secret for s in found}) == 1


def test_two_databases_get_different_secrets(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = resolve_secrets(load_settings(**sqlite_at(tmp_path / "a")))
    b = resolve_secrets(load_settings(**sqlite_at(tmp_path / "b")))
    assert a.jwt_secret != b.jwt_secret


def test_secrets_set_in_the_environment_are_used_and_nothing_is_written(tmp_path: Path) -> None:
    settings = load_settings(**sqlite_at(tmp_path, jwt_secret=JWT, sandbox_webhook_secret=WEBHOOK))
    secrets = resolve_secrets(settings)
    assert (secrets.jwt_secret, secrets.sandbox_webhook_secret) == (JWT, WEBHOOK)
    assert secrets.generated_in is None
    assert not (tmp_path / ".slotbook-secrets.json").exists()


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ({}, "SLOTBOOK_JWT_SECRET and SLOTBOOK_SANDBOX_WEBHOOK_SECRET"),
        ({"jwt_secret": JWT}, "SLOTBOOK_SANDBOX_WEBHOOK_SECRET"),
        ({"sandbox_webhook_secret": WEBHOOK}, "SLOTBOOK_JWT_SECRET"),
    ],
)
def test_production_refuses_to_run_without_its_secrets(
    tmp_path: Path, given: dict[str, str], missing: str
) -> None:
    settings = load_settings(**sqlite_at(tmp_path, env="production", **given))
    with pytest.raises(SecretsRefused, match=missing):
        resolve_secrets(settings)
    assert not (tmp_path / ".slotbook-secrets.json").exists()


def test_a_short_jwt_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        load_settings(jwt_secret="short")


def test_a_damaged_secrets_file_is_refused_not_trusted(tmp_path: Path) -> None:
    (tmp_path / ".slotbook-secrets.json").write_text('{"jwt_secret": "x"}')
    with pytest.raises(SecretsRefused, match="does not hold usable secrets"):
        resolve_secrets(load_settings(**sqlite_at(tmp_path)))
