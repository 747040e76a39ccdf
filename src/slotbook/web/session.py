"""The browser's session: a cookie holding the same access token the API issues, and a
CSRF token every form posts back.

The session cookie is HttpOnly and SameSite=Lax; a form is accepted only when its `csrf`
field matches the visitor's CSRF cookie (double submit, compared in constant time) and,
when the browser says where the form came from, that origin is this site.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from slotbook.domain.errors import InvalidToken
from slotbook.domain.model import Principal
from slotbook.service_layer.context import Context

SESSION_COOKIE = "sb_session"
CSRF_COOKIE = "sb_csrf"
LANGUAGE_COOKIE = "sb_lang"
YEAR_SECONDS = 365 * 24 * 3600


class FormRefused(Exception):
    """A form posted without the visitor's CSRF token, or from another site."""


def principal_of(ctx: Context, request: Request) -> Principal | None:
    """Who is signed in, or None (no cookie, or a token that expired)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return ctx.tokens.verify(token, now=ctx.clock.now())
    except InvalidToken:
        return None


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def start_session(request: Request, response: Response, access_token: str, ttl: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        access_token,
        max_age=ttl,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE)


def csrf_token(request: Request) -> str:
    """The visitor's CSRF token: the cookie's, or a new one (`keep_csrf` stores it)."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not token:
        token = secrets.token_urlsafe(32)
        request.state.new_csrf = token
    return str(token)


def keep_csrf(request: Request, response: Response) -> None:
    """Store a CSRF token made for this page in the visitor's cookie."""
    token = getattr(request.state, "new_csrf", None)
    if token:
        response.set_cookie(
            CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request)
        )


def check_form(request: Request, form_token: object) -> None:
    """Refuse (FormRefused) a form without the visitor's CSRF token, or from another site."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    given = form_token if isinstance(form_token, str) else ""
    if not cookie or not hmac.compare_digest(cookie.encode(), given.encode()):
        raise FormRefused("the form has expired; reload the page and try again")
    origin = request.headers.get("origin")
    if origin and origin != "null":
        here = urlsplit(str(request.base_url))
        there = urlsplit(origin)
        if (there.scheme, there.netloc) != (here.scheme, here.netloc):
            raise FormRefused("the form was sent from another site")
