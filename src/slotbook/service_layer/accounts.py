"""Sign-up, login and who-am-I."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from uuid import UUID

from slotbook.adapters.db.repos import catalog, users
from slotbook.domain.errors import InvalidCredentials, InvalidToken
from slotbook.domain.model import Principal, Provider, Role, User
from slotbook.service_layer.context import Context

DEFAULT_TIMEZONE = "Asia/Bangkok"


@dataclass(frozen=True, slots=True)
class SignedIn:
    user: User
    access_token: str


def normalise_email(email: str) -> str:
    """Emails are compared case-insensitively and without surrounding spaces."""
    return email.strip().lower()


async def sign_up(ctx: Context, *, email: str, password: str, name: str, role: Role) -> SignedIn:
    """Register a user (a provider also gets its profile) and sign them in."""
    password_hash = await ctx.passwords.hash(password)
    user = User(
        id=uuid.uuid4(),
        email=normalise_email(email),
        name=name.strip(),
        role=role,
        password_hash=password_hash,
        provider_id=uuid.uuid4() if role is Role.PROVIDER else None,
    )
    now = ctx.clock.now()
    async with ctx.db.write() as conn:
        await users.add_user(conn, user, now=now)
        if user.provider_id is not None:
            profile = Provider(
                id=user.provider_id,
                user_id=user.id,
                display_name=user.name,
                timezone=DEFAULT_TIMEZONE,
                bio="",
            )
            await catalog.add_provider(conn, profile, now=now)
    return SignedIn(user=user, access_token=issue_token(ctx, user))


async def log_in(ctx: Context, *, email: str, password: str) -> SignedIn:
    """A token for the right email and password; InvalidCredentials otherwise."""
    async with ctx.db.read() as conn:
        user = await users.user_by_email(conn, normalise_email(email))
    stored = user.password_hash if user else None
    ok = await ctx.passwords.verify(stored, password)
    if user is None or not ok:
        raise InvalidCredentials("email or password is wrong")
    return SignedIn(user=user, access_token=issue_token(ctx, user))


async def create_admin(ctx: Context, *, email: str, password: str, name: str = "Admin") -> User:
    """Create an admin account (command line only)."""
    return (await sign_up(ctx, email=email, password=password, name=name, role=Role.ADMIN)).user


async def current_user(ctx: Context, user_id: UUID) -> User:
    async with ctx.db.read() as conn:
        user = await users.user_by_id(conn, user_id)
    if user is None:
        raise InvalidToken("the account no longer exists")
    return user


def issue_token(ctx: Context, user: User) -> str:
    principal = Principal(user_id=user.id, role=user.role)
    return ctx.tokens.issue(principal, now=ctx.clock.now())
