"""The provider's weekly hours in a browser: the availability as a form, saved through
`availability.publish` (all or nothing; every problem shown next to its field)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import Response

from slotbook.domain import availability as rules
from slotbook.domain.availability import Availability, problems
from slotbook.domain.errors import InvalidRequest, InvalidToken
from slotbook.domain.model import Principal, Role, Service
from slotbook.domain.validation import timezones
from slotbook.service_layer import accounts, availability, catalog
from slotbook.service_layer.context import Context
from slotbook.web.hours_form import Errors, HoursForm, form_of
from slotbook.web.hours_parse import parse
from slotbook.web.hours_problems import place, zone_errors
from slotbook.web.pages import ctx_of, not_found, render, see_other, to_login
from slotbook.web.session import check_form, principal_of

router = APIRouter(include_in_schema=False)
PAGE = "/provider/hours"
MAX_FIELDS = 50_000  # 50 services with every row filled stays well under
LIMITS = {  # the domain's, as the page words them
    "services": rules.MAX_SERVICES,
    "weekly": rules.MAX_WEEKLY,
    "changes": rules.MAX_OVERRIDES,
    "hours": rules.MAX_HOURS_PER_DAY,
    "breaks": rules.MAX_BREAKS,
    "days_off": rules.MAX_DAYS_OFF,
}


async def _provider(ctx: Context, request: Request) -> tuple[Principal, UUID] | Response:
    """The signed-in provider and its profile, or the page to show instead."""
    who = principal_of(ctx, request)
    if who is None:
        return to_login(request, PAGE)
    if who.role is not Role.PROVIDER:
        return render(request, "message.html", 403, principal=who, message="providers-only")
    try:
        user = await accounts.current_user(ctx, who.user_id)
    except InvalidToken:
        return to_login(request, PAGE)
    if user.provider_id is None:
        return not_found(request, who)
    return who, user.provider_id


async def _services(ctx: Context, provider_id: UUID) -> list[Service]:
    return (await catalog.provider_detail(ctx, provider_id=provider_id)).services


async def _page(
    request: Request,
    who: Principal,
    provider_id: UUID,
    form: HoursForm,
    errors: Errors,
    *,
    status_code: int = 200,
    saved: bool = False,
) -> Response:
    view = await availability.get_availability(ctx_of(request), provider_id=provider_id)
    return render(
        request,
        "provider_hours.html",
        status_code,
        principal=who,
        form=form,
        errors=errors,
        view=view,
        saved=saved,
        zones=sorted(timezones()),
        limits=LIMITS,
    )


@router.get(PAGE)
async def hours_page(request: Request, saved: int = 0) -> Response:
    ctx = ctx_of(request)
    found = await _provider(ctx, request)
    if isinstance(found, Response):
        return found
    who, provider_id = found
    view = await availability.get_availability(ctx, provider_id=provider_id)
    stored = view.stored.availability if view.stored else Availability()
    form = form_of(stored, await _services(ctx, provider_id), view.timezone)
    return await _page(request, who, provider_id, form, {}, saved=saved == 1)


@router.post(PAGE)
async def save_hours(request: Request) -> Response:
    """Publish the hours as posted, or show the form again with every problem; nothing
    is stored unless all of it is valid."""
    data = await request.form(max_fields=MAX_FIELDS)
    check_form(request, data.get("csrf"))
    ctx = ctx_of(request)
    found = await _provider(ctx, request)
    if isinstance(found, Response):
        return found
    who, provider_id = found
    fields = {k: v for k, v in data.items() if isinstance(v, str)}
    parsed = parse(fields, await _services(ctx, provider_id))
    errors = parsed.errors
    if errors:  # what could be read is checked too, so every problem shows at once
        for name, codes in zone_errors(parsed.form.timezone).items():
            errors.setdefault(name, []).extend(codes)
        place([(p.loc, p.msg) for p in problems(parsed.availability)], parsed, errors)
    else:
        try:
            await availability.publish(
                ctx,
                provider_id=provider_id,
                availability=parsed.availability,
                timezone=parsed.form.timezone,
            )
        except InvalidRequest as exc:
            listed = exc.extra.get("errors", [])
            place([(tuple(p["loc"][1:]), p["msg"]) for p in listed], parsed, errors)
            if not errors:
                errors["form"] = [exc.detail]
        else:
            return see_other(f"{PAGE}?saved=1")
    return await _page(request, who, provider_id, parsed.form, errors, status_code=422)
