"""Users and their provider profiles."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from slotbook.adapters.db.tables import providers, users
from slotbook.domain.errors import EmailTaken
from slotbook.domain.model import Role, User

_USER_COLUMNS = (*users.c, providers.c.id.label("provider_id"))


def _user(row: Row[Any]) -> User:
    return User(
        id=row.id,
        email=row.email,
        name=row.name,
        role=Role(row.role),
        password_hash=row.password_hash,
        provider_id=row.provider_id,
    )


async def add_user(conn: AsyncConnection, user: User, *, now: datetime) -> None:
    """Insert the user; EmailTaken when the (normalised) email is already registered."""
    try:
        async with conn.begin_nested():
            await conn.execute(
                insert(users).values(
                    id=user.id,
                    email=user.email,
                    name=user.name,
                    role=user.role,
                    password_hash=user.password_hash,
                    created_at=now,
                )
            )
    except IntegrityError as exc:
        raise EmailTaken(f"{user.email} is already registered") from exc


async def _one(conn: AsyncConnection, where: object) -> User | None:
    stmt = (
        select(*_USER_COLUMNS)
        .select_from(users.outerjoin(providers, providers.c.user_id == users.c.id))
        .where(where)  # type: ignore[arg-type]
    )
    row = (await conn.execute(stmt)).one_or_none()
    return _user(row) if row else None


async def user_by_email(conn: AsyncConnection, email: str) -> User | None:
    return await _one(conn, users.c.email == email)


async def user_by_id(conn: AsyncConnection, user_id: UUID) -> User | None:
    return await _one(conn, users.c.id == user_id)
