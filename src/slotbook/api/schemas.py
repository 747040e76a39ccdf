"""Request bodies and documented response shapes of API.md.

Every text a request carries goes through one of the checked types below (never a bare
`str`), so no field or query parameter can skip the rules of domain/validation.py; a test
walks the request schemas to keep it so.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    WithJsonSchema,
)

from slotbook.domain import validation as rules
from slotbook.domain.saved_bookings import NOTE_MAX_LENGTH
from slotbook.edge.schemas import Problem

Text = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(rules.check_text)]
"""Any other text: stripped, no NUL."""

Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=rules.NAME_MAX_LENGTH),
    AfterValidator(rules.check_name),
]
Bio = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=rules.BIO_MAX_LENGTH),
    AfterValidator(rules.check_bio),
]
NewPassword = Annotated[
    str,
    StringConstraints(min_length=rules.PASSWORD_MIN_LENGTH, max_length=rules.PASSWORD_MAX_LENGTH),
    AfterValidator(rules.check_password),
]
"""Taken exactly as typed: never stripped."""

Password = Annotated[
    str,
    StringConstraints(min_length=1, max_length=rules.PASSWORD_MAX_LENGTH),
    AfterValidator(rules.check_text),
]
Email = Annotated[
    str,
    AfterValidator(rules.check_email),
    WithJsonSchema({"type": "string", "format": "email", "maxLength": rules.EMAIL_MAX_OCTETS}),
]
Category = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$"
    ),
    AfterValidator(rules.check_text),
]
Currency = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z]{3}$"),
    AfterValidator(rules.check_currency),
]
"""An ISO 4217 code in use, any case; kept upper-case."""

TimeZone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    AfterValidator(rules.check_timezone),
]
INSTANT_RANGE = f"between {rules.iso(rules.EARLIEST)} and {rules.iso(rules.LATEST)}"

Instant = Annotated[
    AwareDatetime,
    BeforeValidator(rules.check_rfc3339),
    AfterValidator(rules.check_instant),
    Field(description=f"RFC 3339 with an offset, {INSTANT_RANGE}"),
]
"""A timezone-aware RFC 3339 time, converted to UTC, within the sane range."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignUp(Strict):
    email: Email
    password: NewPassword
    name: Name
    role: Literal["customer", "provider"]


class LogIn(Strict):
    email: Email
    password: Password


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
    display_name: Name | None = None
    timezone: TimeZone | None = None
    bio: Bio | None = None


class ServiceIn(Strict):
    name: Name
    category: Category
    duration_minutes: StrictInt = Field(gt=0, le=24 * 60)
    price_minor: StrictInt = Field(ge=rules.PRICE_MIN_MINOR, le=rules.PRICE_MAX_MINOR)
    currency: Currency


class SlotsIn(Strict):
    service_id: UUID
    starts_at: list[Instant] = Field(min_length=1, max_length=1000)


class HoldIn(Strict):
    slot_id: UUID


Note = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=NOTE_MAX_LENGTH),
    AfterValidator(rules.check_text),
]


class SavedBookingIn(Strict):
    slot_id: UUID
    note: Note | None = None


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


class SlotUnavailableProblem(Problem):
    slot_id: str
    suggestions: list[SuggestionOut]


class SavedBookingOut(BaseModel):
    id: UUID
    slot_id: UUID
    note: str | None
    created_at: datetime
    slot: SlotOut


class SavedBookingsOut(BaseModel):
    saved_bookings: list[SavedBookingOut]
