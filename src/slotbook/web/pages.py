"""Rendering a page: one Jinja2 environment per language, the context every page has."""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from slotbook.domain.model import Principal
from slotbook.service_layer.context import Context
from slotbook.web import i18n
from slotbook.web.session import LANGUAGE_COOKIE, csrf_token, keep_csrf, principal_of


@cache
def environment(language: str) -> Environment:
    env = Environment(
        loader=PackageLoader("slotbook.web", "templates"),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters["when"] = lambda m, tz, time=True: i18n.format_when(m, tz, language, with_time=time)
    env.filters["clock"] = i18n.format_time
    env.filters["money"] = lambda minor, cur: i18n.format_money(minor, cur, language)
    return env


def language_of(request: Request) -> str:
    return i18n.pick_language(
        request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language")
    )


def ctx_of(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def render(
    request: Request,
    template: str,
    status_code: int = 200,
    principal: Principal | None = None,
    **values: Any,
) -> Response:
    """The page `template` in the visitor's language, with who is signed in and a CSRF
    token for its forms."""
    language = language_of(request)
    who = principal or principal_of(ctx_of(request), request)
    body = (
        environment(language)
        .get_template(template)
        .render(
            request=request,
            lang=language,
            user=who,
            csrf=csrf_token(request),
            here=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            **values,
        )
    )
    response = HTMLResponse(body, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    keep_csrf(request, response)
    return response


def not_found(request: Request, who: Principal | None = None) -> Response:
    """The not-found page (404)."""
    return render(request, "not_found.html", 404, principal=who)


def to_login(request: Request, back: str | None = None) -> Response:
    """Off to the log-in page, back here (or to `back`) afterwards."""
    return RedirectResponse(f"/login?next={quote(back or request.url.path)}", status_code=303)


def see_other(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def safe_next(url: str | None) -> str:
    """A local path to go back to (never another site)."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/"
    return url
