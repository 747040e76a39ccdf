"""Stored responses of requests sent with an Idempotency-Key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import ColumnElement, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from slotbook.adapters.db.tables import idempotency_keys as keys


@dataclass(frozen=True, slots=True)
class StoredKey:
    request_hash: str
    status_code: int | None  # None: the first request is still being processed
    body: bytes | None


@dataclass(frozen=True, slots=True)
class KeyRef:
    """An Idempotency-Key is scoped to its user and endpoint."""

    user_id: UUID
    endpoint: str
    key: str


def _where(ref: KeyRef) -> tuple[ColumnElement[bool], ...]:
    return (keys.c.user_id == ref.user_id, keys.c.endpoint == ref.endpoint, keys.c.key == ref.key)


async def claim(
    conn: AsyncConnection, ref: KeyRef, *, request_hash: str, now: datetime
) -> StoredKey | None:
    """Claim the key for a new request; the stored entry instead if it was claimed before."""
    try:
        async with conn.begin_nested():
            await conn.execute(
                insert(keys).values(
                    user_id=ref.user_id,
                    endpoint=ref.endpoint,
                    key=ref.key,
                    request_hash=request_hash,
                    created_at=now,
                )
            )
        return None
    except IntegrityError:
        row = (
            await conn.execute(
                select(keys.c.request_hash, keys.c.status_code, keys.c.response_body).where(
                    *_where(ref)
                )
            )
        ).one()
        return StoredKey(row.request_hash, row.status_code, row.response_body)


async def store(conn: AsyncConnection, ref: KeyRef, *, status_code: int, body: bytes) -> None:
    await conn.execute(
        update(keys).where(*_where(ref)).values(status_code=status_code, response_body=body)
    )


async def forget(conn: AsyncConnection, ref: KeyRef) -> None:
    await conn.execute(delete(keys).where(*_where(ref)))
