"""The availability document of `PUT /v1/providers/me/availability` and its answer.

Times of day are HH:MM wall-clock times in the provider's time zone (24:00 ends the day);
dates are local dates. Every list is bounded, so no body can ask for unbounded work (the
bounds are the domain's, domain/availability.py, which the web form applies too).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from slotbook.api.schemas import Strict, TimeZone
from slotbook.domain import validation as rules
from slotbook.domain.availability import (
    MAX_BREAKS,
    MAX_DAYS_OFF,
    MAX_HOURS_PER_DAY,
    MAX_OVERRIDES,
    MAX_SERVICES,
    MAX_WEEKLY,
)

WallTime = Annotated[
    str,
    StringConstraints(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$"),
    AfterValidator(rules.check_wall_time),
    Field(description="HH:MM on the 24-hour clock, local time; 24:00 is the end of the day"),
]
Day = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2199, 12, 31))]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class BreakIn(Strict):
    start: WallTime
    end: WallTime


class HoursIn(Strict):
    start: WallTime
    end: WallTime
    breaks: list[BreakIn] = Field(default_factory=list, max_length=MAX_BREAKS)


class WeeklyHoursIn(HoursIn):
    weekday: Weekday


class DateOverrideIn(Strict):
    date: Day
    hours: list[HoursIn] = Field(
        default_factory=list,
        max_length=MAX_HOURS_PER_DAY,
        description="that day's hours instead of the weekly ones; none: closed that day",
    )


class ServiceAvailabilityIn(Strict):
    service_id: UUID
    weekly: list[WeeklyHoursIn] = Field(default_factory=list, max_length=MAX_WEEKLY)
    overrides: list[DateOverrideIn] = Field(default_factory=list, max_length=MAX_OVERRIDES)


class AvailabilityIn(Strict):
    timezone: TimeZone | None = Field(
        default=None, description="when given, becomes the provider's time zone"
    )
    services: list[ServiceAvailabilityIn] = Field(default_factory=list, max_length=MAX_SERVICES)
    days_off: list[Day] = Field(
        default_factory=list,
        max_length=MAX_DAYS_OFF,
        description="local dates with no slot at all",
    )


class AvailabilityOut(BaseModel):
    provider_id: UUID
    timezone: str
    horizon_days: int
    services: list[ServiceAvailabilityIn]
    days_off: list[date]
    version: int
    updated_at: datetime | None
    materialised_version: int | None
    materialised_at: datetime | None
