"""Sign up, log in, log out and the language switch: the API's accounts, in a cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from slotbook.domain import validation
from slotbook.domain.errors import EmailTaken, InvalidCredentials
from slotbook.domain.model import Role
from slotbook.service_layer import accounts
from slotbook.web import i18n
from slotbook.web.pages import ctx_of, render, safe_next, see_other
from slotbook.web.session import (
    LANGUAGE_COOKIE,
    YEAR_SECONDS,
    check_form,
    end_session,
    start_session,
)

router = APIRouter(include_in_schema=False)
Field = Annotated[str, Form()]
Next = Annotated[str, Form()]


@router.get("/login")
async def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", next=safe_next(next), error=None, email="")


@router.post("/login")
async def login(
    request: Request, email: Field, password: Field, csrf: Field, next: Next = "/"
) -> Response:
    check_form(request, csrf)
    ctx = ctx_of(request)
    try:
        signed = await accounts.log_in(ctx, email=email, password=password)
    except InvalidCredentials:
        return render(request, "login.html", 401, next=safe_next(next), error="wrong", email=email)
    response = see_other(safe_next(next))
    start_session(request, response, signed.access_token, ctx.settings.access_token_ttl_seconds)
    return response


@router.get("/signup")
async def signup_page(request: Request, next: str = "/") -> Response:
    return render(request, "signup.html", next=safe_next(next), errors={}, form={})


@router.post("/signup")
async def signup(
    request: Request,
    name: Field,
    email: Field,
    password: Field,
    csrf: Field,
    role: Field = "customer",
    next: Next = "/",
) -> Response:
    check_form(request, csrf)
    ctx = ctx_of(request)
    errors: dict[str, str] = {}
    for key, check, value in (
        ("name", validation.check_name, name),
        ("email", validation.check_email, email),
        ("password", validation.check_password, password),
    ):
        try:
            check(value)
        except ValueError as exc:
            errors[key] = str(exc)
    if role not in (Role.CUSTOMER, Role.PROVIDER):
        errors["role"] = "choose customer or provider"
    if not errors:
        try:
            signed = await accounts.sign_up(
                ctx, email=email, password=password, name=name, role=Role(role)
            )
        except EmailTaken:
            errors["email"] = "taken"
    form = {"name": name, "email": email, "role": role}
    if errors:
        return render(request, "signup.html", 422, next=safe_next(next), errors=errors, form=form)
    response = see_other(safe_next(next))
    start_session(request, response, signed.access_token, ctx.settings.access_token_ttl_seconds)
    return response


@router.post("/logout")
async def logout(request: Request, csrf: Field) -> Response:
    check_form(request, csrf)
    response = see_other("/")
    end_session(response)
    return response


@router.get("/language/{language}")
async def choose_language(request: Request, language: str, next: str = "/") -> Response:
    """The language switch on every page: remembered in a cookie for a year."""
    response = see_other(safe_next(next))
    if language in i18n.LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, language, max_age=YEAR_SECONDS, samesite="lax")
    return response
