"""Request bodies and documented response shapes of API.md."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SignUp(Strict):
    email: EmailStr
    password: str = Field(min_length=8, max_length=256)
    name: str = Field(min_length=1, max_length=200)
    role: Literal["customer", "provider"]


class LogIn(Strict):
    email: EmailStr
    password: str = Field(min_length=1, max_length=256)


class UserOut(BaseModel):
    id: UUID
    email: str
    name: str
    role: Literal["customer", "provider", "admin"]
    provider_id: UUID | None = None


class SignedUpOut(BaseModel):
    user: UserOut
    access_token: str
    token_type: Literal["bearer"]


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"]


class ProfilePatch(Strict):
    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    timezone: str | None = Field(default=None, min_length=1, max_length=64)
    bio: str | None = Field(default=None, max_length=2000)


class ServiceIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    category: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    duration_minutes: int = Field(gt=0, le=24 * 60)
    price_minor: int = Field(ge=0, le=10**12)
    currency: str = Field(pattern=r"^[A-Za-z]{3}$")


class SlotsIn(Strict):
    service_id: UUID
    starts_at: list[AwareDatetime] = Field(min_length=1, max_length=1000)


class HoldIn(Strict):
    slot_id: UUID


class ProviderOut(BaseModel):
    id: UUID
    display_name: str
    timezone: str
    bio: str
    categories: list[str]


class ServiceOut(BaseModel):
    id: UUID
    provider_id: UUID
    name: str
    category: str
    duration_minutes: int
    price_minor: int
    currency: str


class ProviderDetailOut(ProviderOut):
    services: list[ServiceOut]


class ProvidersOut(BaseModel):
    providers: list[ProviderOut]


class SlotOut(BaseModel):
    id: UUID
    provider_id: UUID
    service_id: UUID
    category: str
    starts_at: datetime
    ends_at: datetime
    price_minor: int
    currency: str
    status: Literal["available", "held", "booked", "closed"]


class SlotsOut(BaseModel):
    slots: list[SlotOut]


class HoldOut(BaseModel):
    id: UUID
    slot_id: UUID
    provider_id: UUID
    customer_id: UUID
    status: Literal["active", "confirmed", "released"]
    release_reason: (
        Literal["cancelled", "expired", "payment_failed", "payment_unconfirmed", "superseded"]
        | None
    )
    created_at: datetime
    expires_at: datetime
    amount_minor: int
    currency: str
    booking_id: UUID | None
    payments: list[dict[str, object]]


class SuggestionOut(BaseModel):
    slot_id: UUID
    provider_id: UUID
    service_id: UUID
    starts_at: datetime
    ends_at: datetime
    price_minor: int
    currency: str
    kind: Literal["same_provider", "other_provider"]


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    request_id: str


class SlotUnavailableProblem(Problem):
    slot_id: str
    suggestions: list[SuggestionOut]
