"""The plain objects of the catalog and accounts."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID


class Role(StrEnum):
    CUSTOMER = "customer"
    PROVIDER = "provider"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class User:
    id: UUID
    email: str
    name: str
    role: Role
    password_hash: str
    provider_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, as proven by a verified access token."""

    user_id: UUID
    role: Role


@dataclass(frozen=True, slots=True)
class Provider:
    id: UUID
    user_id: UUID
    display_name: str
    timezone: str
    bio: str
    categories: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Service:
    id: UUID
    provider_id: UUID
    name: str
    category: str
    duration_minutes: int
    price_minor: int
    currency: str
