"""The provider's weekly hours page, no browser: the stored hours shown as a form, saved
through publish (the API reads them back, the sweeper opens the slots), every problem
shown next to its field with nothing stored, providers only, CSRF on the form."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import httpx

from slotbook.domain.availability import (
    Availability,
    DateOverride,
    OpenHours,
    ServiceHours,
    Span,
    WeeklyHours,
)
from slotbook.domain.model import Role
from slotbook.service_layer import accounts, availability, providers, sweeper
from slotbook.service_layer.context import Context
from tests import builders
from tests.integration.test_web_saved_pages import log_in

PAGE = "/provider/hours"


async def provider(ctx: Context) -> tuple[str, UUID, UUID]:
    """A provider with one 60-minute service: its email, provider id and service id."""
    email = f"hours-{uuid.uuid4().hex[:8]}@example.com"
    signed = await accounts.sign_up(
        ctx, email=email, password="password123", name="Nok", role=Role.PROVIDER
    )
    provider_id = signed.user.provider_id
    assert provider_id is not None
    service = await providers.add_service(
        ctx,
        provider_id=provider_id,
        name="Foot massage",
        category="massage",
        duration_minutes=60,
        price_minor=40_000,
        currency="THB",
    )
    return email, provider_id, service.id


def value_of(html: str, name: str) -> str:
    found = re.search(rf'<input id="{re.escape(name)}" name="{re.escape(name)}"[^>]*>', html)
    assert found is not None, name
    value = re.search(r'value="([^"]*)"', found.group(0))
    return value.group(1) if value else ""


def checked(html: str, name: str) -> bool:
    found = re.search(rf'<input id="{re.escape(name)}" name="{re.escape(name)}"[^>]*>', html)
    assert found is not None, name
    return " checked" in found.group(0)


def problem_at(html: str, name: str) -> str:
    """The problem shown next to the field (empty: none), which names it as its
    description."""
    field = re.search(rf'<input id="{re.escape(name)}"[^>]*>', html)
    assert field is not None, name
    found = re.search(rf'<span id="{re.escape(name)}-error" class="[^"]*">([^<]*)</span>', html)
    if found is None:
        return ""
    assert 'aria-invalid="true"' in field.group(0)
    assert f"{name}-error" in field.group(0)
    return " ".join(found.group(1).split())


async def api_token(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    signed = await client.post("/v1/auth/login", json={"email": email, "password": "password123"})
    assert signed.status_code == 200
    return {"Authorization": f"Bearer {signed.json()['access_token']}"}


async def test_the_page_shows_the_stored_hours(ctx: Context, client: httpx.AsyncClient) -> None:
    email, provider_id, service_id = await provider(ctx)
    lunch = OpenHours(Span(9 * 60, 17 * 60), (Span(12 * 60, 13 * 60),))
    late = OpenHours(Span(18 * 60, 24 * 60))
    stored = Availability(
        services=(
            ServiceHours(
                service_id,
                weekly=(WeeklyHours(0, lunch), WeeklyHours(0, late), WeeklyHours(5, late)),
                overrides=(DateOverride(date(2030, 1, 15)),),
            ),
        ),
        days_off=frozenset({date(2030, 1, 20)}),
    )
    await availability.publish(ctx, provider_id=provider_id, availability=stored, timezone=None)
    await log_in(client, email)
    bookings = await client.get("/provider/bookings")
    assert f'href="{PAGE}"' in bookings.text
    page = await client.get(PAGE)
    assert page.status_code == 200
    html, w = page.text, f"w-{service_id}"
    assert value_of(html, "timezone") == "Asia/Bangkok"
    monday = [value_of(html, f"{w}-0-{r}-{part}") for r in (0, 1) for part in ("start", "end")]
    assert monday == ["09:00", "17:00", "18:00", "24:00"]
    assert [value_of(html, f"{w}-0-0-b0-{p}") for p in ("start", "end")] == ["12:00", "13:00"]
    assert value_of(html, f"{w}-0-2-start") == ""  # an empty row to add more
    assert value_of(html, f"{w}-5-0-end") == "24:00"
    assert value_of(html, f"{w}-1-0-start") == ""
    assert value_of(html, f"o-{service_id}-0-date") == "2030-01-15"
    assert checked(html, f"o-{service_id}-0-closed")
    assert not checked(html, f"o-{service_id}-1-closed")
    assert value_of(html, "off-0") == "2030-01-20"
    assert "Saved " in html  # not materialised yet: the slots are on their way
    thai = await client.get(PAGE, headers={"Accept-Language": "th"})
    assert "<h1>เวลาทำการประจำสัปดาห์</h1>" in thai.text
    assert "ล่วงหน้า 60 วัน" in thai.text


def valid_form(csrf: str, service_id: UUID) -> dict[str, str]:
    w, o = f"w-{service_id}", f"o-{service_id}"
    return {
        "csrf": csrf,
        "timezone": "Europe/London",
        f"{w}-0-0-start": "09:00",  # Mondays, a break from 10:00 to 10:30
        f"{w}-0-0-end": "12:00",
        f"{w}-0-0-b0-start": "10:00",
        f"{w}-0-0-b0-end": "10:30",
        f"{w}-0-1-start": "",
        f"{w}-0-1-end": "",
        f"{w}-3-0-start": "13.00",  # Thursdays, written the Thai way
        f"{w}-3-0-end": "15:00",
        f"{o}-0-date": "2030-01-07",  # the first Monday closed
        f"{o}-0-closed": "1",
        f"{o}-1-date": "2030-01-21",  # another Monday: 14:00 to 16:00 instead
        f"{o}-1-start": "14:00",
        f"{o}-1-end": "16:00",
        "off-0": "2030-01-10",  # the first Thursday off
        "off-1": "",
    }


async def test_saving_valid_hours_stores_them_and_the_sweeper_opens_the_slots(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    email, provider_id, service_id = await provider(ctx)
    token = await log_in(client, email)
    saved = await client.post(PAGE, data=valid_form(token, service_id))
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"{PAGE}?saved=1"
    page = await client.get(saved.headers["location"])
    assert "Your hours are saved." in page.text
    assert "appear within a minute, 60 days ahead" in page.text

    stored = await client.get(
        "/v1/providers/me/availability", headers=await api_token(client, email)
    )
    body = stored.json()
    assert (body["timezone"], body["version"], body["days_off"]) == (
        "Europe/London",
        1,
        ["2030-01-10"],
    )
    assert body["services"] == [
        {
            "service_id": str(service_id),
            "weekly": [
                {
                    "weekday": "monday",
                    "start": "09:00",
                    "end": "12:00",
                    "breaks": [{"start": "10:00", "end": "10:30"}],
                },
                {"weekday": "thursday", "start": "13:00", "end": "15:00", "breaks": []},
            ],
            "overrides": [
                {"date": "2030-01-07", "hours": []},
                {"date": "2030-01-21", "hours": [{"start": "14:00", "end": "16:00", "breaks": []}]},
            ],
        }
    ]
    assert (await client.get(f"/v1/providers/{provider_id}/slots")).json()["slots"] == []

    await sweeper.sweep_once(ctx)
    slots = (await client.get(f"/v1/providers/{provider_id}/slots?to=2030-01-22T00:00:00Z")).json()
    london = ZoneInfo("Europe/London")
    starts = [
        datetime.fromisoformat(s["starts_at"]).astimezone(london).strftime("%a %d %H:%M")
        for s in slots["slots"]
    ]
    assert starts == [
        "Thu 03 13:00",  # Monday the 7th closed, Thursday the 10th off
        "Thu 03 14:00",
        "Mon 14 09:00",
        "Mon 14 10:30",  # 11:30 would end past noon
        "Thu 17 13:00",
        "Thu 17 14:00",
        "Mon 21 14:00",
        "Mon 21 15:00",
    ]
    page = await client.get(PAGE)
    assert "Your free times follow these hours, 60 days ahead" in page.text
    assert value_of(page.text, f"w-{service_id}-3-0-start") == "13:00"


async def test_invalid_hours_show_every_problem_next_to_its_field_and_store_nothing(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    email, provider_id, service_id = await provider(ctx)
    token = await log_in(client, email)
    w = f"w-{service_id}"
    form = {
        "csrf": token,
        "timezone": "Mars/Olympus",
        f"{w}-0-0-start": "17:00",  # Monday: ends before it starts
        f"{w}-0-0-end": "09:00",
        f"{w}-1-0-start": "09:00",  # Tuesday: two stretches overlapping
        f"{w}-1-0-end": "12:00",
        f"{w}-1-1-start": "11:00",
        f"{w}-1-1-end": "13:00",
    }
    answer = await client.post(PAGE, data=form)
    assert answer.status_code == 422
    html = answer.text
    assert "Nothing was saved" in html
    assert problem_at(html, f"{w}-0-0-end") == "Must close after it opens, on the same day."
    assert problem_at(html, f"{w}-1-1-start") == "Overlaps other hours of this service that day."
    assert problem_at(html, "timezone").startswith("Unknown time zone.")
    assert problem_at(html, f"{w}-0-0-start") == problem_at(html, f"{w}-1-0-start") == ""
    assert value_of(html, f"{w}-0-0-start") == "17:00"  # what was typed, to correct
    assert value_of(html, "timezone") == "Mars/Olympus"

    # a time that cannot be read, a half-given break, a change with no date: shown with
    # the rules the rest breaks
    form |= {
        f"{w}-2-0-start": "25:00",
        f"{w}-2-0-end": "18:00",
        f"{w}-4-0-start": "09:00",
        f"{w}-4-0-end": "12:00",
        f"{w}-4-0-b0-start": "10:00",
        f"o-{service_id}-0-start": "09:00",
        f"o-{service_id}-0-end": "10:00",
    }
    answer = await client.post(PAGE, data=form)
    assert answer.status_code == 422
    html = answer.text
    assert problem_at(html, f"{w}-2-0-start") == "Give a time as HH:MM, from 00:00 to 24:00."
    assert problem_at(html, f"{w}-4-0-b0-end") == "Give both ends of the break."
    assert problem_at(html, f"o-{service_id}-0-date") == "Give the date this change is for."
    assert problem_at(html, f"{w}-0-0-end") == "Must close after it opens, on the same day."
    assert problem_at(html, f"{w}-1-1-start") == "Overlaps other hours of this service that day."
    assert problem_at(html, "timezone").startswith("Unknown time zone.")

    view = await availability.get_availability(ctx, provider_id=provider_id)
    assert (view.stored, view.timezone) == (None, "Asia/Bangkok")
    await sweeper.sweep_once(ctx)
    assert (await client.get(f"/v1/providers/{provider_id}/slots")).json()["slots"] == []


async def test_two_services_open_at_once_are_shown_where_they_clash(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    email, provider_id, first = await provider(ctx)
    second = await providers.add_service(
        ctx,
        provider_id=provider_id,
        name="Head massage",
        category="massage",
        duration_minutes=30,
        price_minor=20_000,
        currency="THB",
    )
    token = await log_in(client, email)
    a, b = f"w-{first}", f"w-{second.id}"
    form = {
        "csrf": token,
        "timezone": "Asia/Bangkok",
        f"{a}-0-0-start": "09:00",  # Mondays: both services from 11:00 to 12:00
        f"{a}-0-0-end": "12:00",
        f"{b}-0-0-start": "11:00",
        f"{b}-0-0-end": "13:00",
        f"{a}-2-0-start": "09:00",  # Wednesdays apart, but on the 9th the second
        f"{a}-2-0-end": "12:00",  # service opens at 10:00 instead
        f"{b}-2-0-start": "13:00",
        f"{b}-2-0-end": "15:00",
        f"o-{second.id}-0-date": "2030-01-09",
        f"o-{second.id}-0-start": "10:00",
        f"o-{second.id}-0-end": "15:00",
    }
    answer = await client.post(PAGE, data=form)
    assert answer.status_code == 422
    clash = (
        "Overlaps another service\N{RIGHT SINGLE QUOTATION MARK}s hours that day:"
        " you serve one customer at a time."
    )
    assert problem_at(answer.text, f"{b}-0-0-start") == clash
    assert problem_at(answer.text, f"o-{second.id}-0-start") == clash
    assert problem_at(answer.text, f"{a}-0-0-start") == problem_at(answer.text, f"{a}-2-0-start")
    assert problem_at(answer.text, f"{a}-2-0-start") == ""
    assert (await availability.get_availability(ctx, provider_id=provider_id)).stored is None


def section_problem(html: str, service_id: UUID) -> str:
    found = re.search(rf'<span id="svc-{service_id}-error" class="[^"]*">([^<]*)</span>', html)
    return " ".join(found.group(1).split()) if found else ""


async def test_hours_over_a_limit_are_refused_whole_as_the_api_refuses_them(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    """500 days off, 450 one-off changes, 14 breaks: each over the API's limit, so nothing
    is stored (never the first 400 or 12) and the page says which."""
    email, provider_id, service_id = await provider(ctx)
    token = await log_in(client, email)
    first = date(2030, 1, 1)
    days = [(first + timedelta(days=r)).isoformat() for r in range(500)]
    w, o = f"w-{service_id}-0-0", f"o-{service_id}"
    cases: list[tuple[dict[str, str], str]] = [
        ({f"off-{r}": day for r, day in enumerate(days)}, "off-400"),
        (
            {f"{o}-{r}-date": day for r, day in enumerate(days[:450])}
            | {f"{o}-{r}-closed": "1" for r in range(450)},
            f"svc-{service_id}",
        ),
        (
            {f"{w}-start": "00:00", f"{w}-end": "24:00"}
            | {f"{w}-b{k}-start": f"{k:02d}:00" for k in range(14)}
            | {f"{w}-b{k}-end": f"{k:02d}:30" for k in range(14)},
            f"{w}-b12-start",
        ),
    ]
    words = {
        "off-400": "Too many days off: at most 400.",
        f"svc-{service_id}": "Too many one-off changes: at most 400 dates for a service.",
        f"{w}-b12-start": "Too many breaks: at most 12 in one stretch of hours.",
    }
    api = await api_token(client, email)
    for fields, where in cases:
        answer = await client.post(PAGE, data={"csrf": token, "timezone": "Asia/Bangkok"} | fields)
        assert answer.status_code == 422, where
        assert "Nothing was saved" in answer.text
        shown = (
            section_problem(answer.text, service_id)
            if where.startswith("svc-")
            else problem_at(answer.text, where)
        )
        assert shown == words[where]
        assert (await availability.get_availability(ctx, provider_id=provider_id)).stored is None
    refused = await client.put(
        "/v1/providers/me/availability", json={"days_off": days}, headers=api
    )
    assert refused.status_code == 422  # the API, for the same 500 days off

    # at the limits, all of it is saved
    at_limit = {f"off-{r}": day for r, day in enumerate(days[:400])}
    saved = await client.post(PAGE, data={"csrf": token, "timezone": "Asia/Bangkok"} | at_limit)
    assert saved.status_code == 303, saved.text
    stored = (await client.get("/v1/providers/me/availability", headers=api)).json()
    assert stored["days_off"] == days[:400]


async def test_a_day_off_given_twice_is_one_day_off(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    """As in the API (days off are a set of dates): harmless, stored once."""
    email, provider_id, _ = await provider(ctx)
    token = await log_in(client, email)
    form = {"csrf": token, "timezone": "Asia/Bangkok", "off-0": "2030-01-10"}
    saved = await client.post(PAGE, data=form | {"off-1": "2030-01-10"})
    assert saved.status_code == 303, saved.text
    stored = await availability.get_availability(ctx, provider_id=provider_id)
    assert stored.stored is not None
    assert stored.stored.availability.days_off == frozenset({date(2030, 1, 10)})


async def test_a_customer_or_a_signed_out_visitor_cannot_use_it(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    _, provider_id, service_id = await provider(ctx)
    away = await client.get(PAGE)
    assert away.status_code == 303
    assert away.headers["location"] == f"/login?next={PAGE}"
    token = await log_in(client, (await builders.customer(ctx, "kai")).email)
    page = await client.get(PAGE)
    assert page.status_code == 403
    assert "Only providers have weekly hours" in page.text
    posted = await client.post(PAGE, data=valid_form(token, service_id))
    assert posted.status_code == 403
    await client.post("/logout", data={"csrf": token})
    signed_out = await client.post(PAGE, data=valid_form(token, service_id))
    assert signed_out.status_code == 303
    assert signed_out.headers["location"] == f"/login?next={PAGE}"
    assert (await availability.get_availability(ctx, provider_id=provider_id)).stored is None


async def test_saving_without_the_csrf_token_is_refused(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    email, provider_id, service_id = await provider(ctx)
    await log_in(client, email)
    form = valid_form("guess", service_id)
    refused = await client.post(PAGE, data=form)
    assert refused.status_code == 403
    assert "This form has expired" in refused.text
    del form["csrf"]
    assert (await client.post(PAGE, data=form)).status_code == 403
    view = await availability.get_availability(ctx, provider_id=provider_id)
    assert (view.stored, view.timezone) == (None, "Asia/Bangkok")
