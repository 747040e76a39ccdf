"""Idempotency keys in storage: claims, leases, stored answers and their expiry.

Every write but the first claim is conditional on the `attempt` its writer read or holds:
two processes can never both retake a key, and an attempt whose claim was retaken can no
longer store an answer to it or end its lease.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, delete, func, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from slotbook.adapters.db.tables import idempotency_keys as keys


@dataclass(frozen=True, slots=True)
class KeyRef:
    """An Idempotency-Key is scoped to its user and endpoint."""

    user_id: UUID
    endpoint: str
    key: str


@dataclass(frozen=True, slots=True)
class StoredKey:
    request_hash: str
    resource_id: UUID | None  # None only for keys claimed before leases existed
    attempt: int
    lease_until: datetime
    expires_at: datetime
    status_code: int | None  # None: no answer stored yet
    body: bytes | None


@dataclass(frozen=True, slots=True)
class NewClaim:
    """A first claim of a key, or of a key whose previous use expired."""

    request_hash: str
    resource_id: UUID
    now: datetime
    lease_until: datetime
    expires_at: datetime

    def columns(self) -> dict[str, Any]:
        return {
            "request_hash": self.request_hash,
            "resource_id": self.resource_id,
            "created_at": self.now,
            "lease_until": self.lease_until,
            "expires_at": self.expires_at,
            "status_code": None,
            "response_body": None,
        }


def _where(ref: KeyRef) -> tuple[ColumnElement[bool], ...]:
    return (keys.c.user_id == ref.user_id, keys.c.endpoint == ref.endpoint, keys.c.key == ref.key)


def _unanswered(ref: KeyRef, attempt: int) -> tuple[ColumnElement[bool], ...]:
    return (*_where(ref), keys.c.attempt == attempt, keys.c.status_code.is_(None))


async def insert_claim(conn: AsyncConnection, ref: KeyRef, claim: NewClaim) -> bool:
    """Claim a key nobody holds, as attempt 1; False if the key is already stored."""
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = (
        dialect_insert(keys)
        .values(user_id=ref.user_id, endpoint=ref.endpoint, key=ref.key, attempt=1)
        .values(claim.columns())
        .on_conflict_do_nothing()
        .returning(keys.c.attempt)
    )
    return (await conn.execute(statement)).first() is not None


async def read(conn: AsyncConnection, ref: KeyRef) -> StoredKey | None:
    row = (
        await conn.execute(
            select(
                keys.c.request_hash,
                keys.c.resource_id,
                keys.c.attempt,
                keys.c.lease_until,
                keys.c.expires_at,
                keys.c.status_code,
                keys.c.response_body,
            ).where(*_where(ref))
        )
    ).one_or_none()
    if row is None:
        return None
    return StoredKey(
        request_hash=row.request_hash,
        resource_id=row.resource_id,
        attempt=row.attempt,
        lease_until=row.lease_until,
        expires_at=row.expires_at,
        status_code=row.status_code,
        body=row.response_body,
    )


async def renew_expired(
    conn: AsyncConnection, ref: KeyRef, *, seen_attempt: int, claim: NewClaim
) -> bool:
    """Claim an expired key afresh (a new request), if it is still as its reader saw it."""
    done = await conn.execute(
        update(keys)
        .where(*_where(ref), keys.c.attempt == seen_attempt, keys.c.expires_at <= claim.now)
        .values(attempt=seen_attempt + 1, **claim.columns())
    )
    return done.rowcount == 1


async def retake(
    conn: AsyncConnection,
    ref: KeyRef,
    *,
    seen_attempt: int,
    resource_id: UUID,
    now: datetime,
    lease_until: datetime,
) -> bool:
    """Take over an unanswered claim whose lease is over; only one retaker of an attempt wins.

    The key keeps its resource id; `resource_id` is recorded only if it had none.
    """
    done = await conn.execute(
        update(keys)
        .where(*_unanswered(ref, seen_attempt), keys.c.lease_until <= now, keys.c.expires_at > now)
        .values(
            attempt=seen_attempt + 1,
            lease_until=lease_until,
            resource_id=func.coalesce(keys.c.resource_id, resource_id),
        )
    )
    return done.rowcount == 1


async def store(
    conn: AsyncConnection, ref: KeyRef, *, attempt: int, status_code: int, body: bytes
) -> bool:
    """Store the answer of `attempt`; False if that attempt no longer holds the claim."""
    done = await conn.execute(
        update(keys)
        .where(*_unanswered(ref, attempt))
        .values(status_code=status_code, response_body=body)
    )
    return done.rowcount == 1


async def end_lease(conn: AsyncConnection, ref: KeyRef, *, attempt: int, now: datetime) -> bool:
    """End the lease of `attempt` now, so a retry may retake the claim at once."""
    done = await conn.execute(
        update(keys).where(*_unanswered(ref, attempt)).values(lease_until=now)
    )
    return done.rowcount == 1


async def any_expired(conn: AsyncConnection, *, now: datetime) -> bool:
    found = await conn.scalar(select(keys.c.key).where(keys.c.expires_at <= now).limit(1))
    return found is not None


async def delete_expired(conn: AsyncConnection, *, now: datetime, batch: int) -> int:
    """Forget up to `batch` expired keys; how many. Rows another sweeper holds are skipped."""
    pk = tuple_(keys.c.user_id, keys.c.endpoint, keys.c.key)
    due = (
        select(keys.c.user_id, keys.c.endpoint, keys.c.key)
        .where(keys.c.expires_at <= now)
        .order_by(keys.c.expires_at)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    done = await conn.execute(delete(keys).where(pk.in_(due)))
    return int(done.rowcount)
