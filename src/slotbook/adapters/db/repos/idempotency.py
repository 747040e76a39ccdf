"""Stored responses of requests sent with an Idempotency-Key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from slotbook.adapters.db.tables import idempotency_keys as keys


@dataclass(frozen=True, slots=True)
class StoredKey:
    request_hash: str
    status_code: int | None  # None: the first request is still being processed
    body: bytes | None


def _where(user_id: UUID, endpoint: str, key: str) -> tuple[object, ...]:
    return (keys.c.user_id == user_id, keys.c.endpoint == endpoint, keys.c.key == key)


async def claim(
    conn: AsyncConnection, *, user_id: UUID, endpoint: str, key: str, request_hash: str,
    now: datetime,
) -> StoredKey | None:
    """Claim the key for a new request; the stored entry instead if it was claimed before."""
    try:
        async with conn.begin_nested():
            await conn.execute(
                insert(keys).values(
                    user_id=user_id, endpoint=endpoint, key=key, request_hash=request_hash,
                    created_at=now,
                )
            )
        return None
    except IntegrityError:
        row = (
            await conn.execute(
                select(keys.c.request_hash, keys.c.status_code, keys.c.response_body).where(
                    *_where(user_id, endpoint, key)  # type: ignore[arg-type]
                )
            )
        ).one()
        return StoredKey(row.request_hash, row.status_code, row.response_body)


async def store(
    conn: AsyncConnection, *, user_id: UUID, endpoint: str, key: str, status_code: int,
    body: bytes,
) -> None:
    await conn.execute(
        update(keys)
        .where(*_where(user_id, endpoint, key))  # type: ignore[arg-type]
        .values(status_code=status_code, response_body=body)
    )


async def forget(conn: AsyncConnection, *, user_id: UUID, endpoint: str, key: str) -> None:
    await conn.execute(delete(keys).where(*_where(user_id, endpoint, key)))  # type: ignore[arg-type]
