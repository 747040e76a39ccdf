"""A confirmed booking as an iCalendar (RFC 5545) event."""

from __future__ import annotations

from datetime import datetime

from icalendar import Calendar, Event

from slotbook.domain.bookings import Booking
from slotbook.web.describe import SlotView


def ics_of(booking: Booking, view: SlotView, *, stamp: datetime) -> bytes:
    """One VEVENT at the slot's times, named after the service and the provider."""
    calendar = Calendar()
    calendar.add("prodid", "-//slotbook//bookings//EN")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"{booking.id}@slotbook")
    event.add("dtstamp", stamp)
    event.add("dtstart", view.slot.starts_at)
    event.add("dtend", view.slot.ends_at)
    service = view.service.name if view.service else "Booking"
    event.add("summary", f"{service} — {view.provider.display_name}")
    event.add("description", f"slotbook booking {booking.id}")
    event.add("status", "CONFIRMED")
    calendar.add_component(event)
    data: bytes = calendar.to_ical()
    return data
