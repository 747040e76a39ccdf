"""Dependencies as `Annotated` aliases: the context and who is calling."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from slotbook.domain.errors import Forbidden, InvalidToken
from slotbook.domain.model import Principal, Role
from slotbook.service_layer.context import Context

bearer = HTTPBearer(auto_error=False, description="An access token from signup or login")


def context_of(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


async def _context(request: Request) -> Context:
    """`context_of` as a dependency: a coroutine, so FastAPI calls it in the event loop
    (a plain function dependency costs every request a hop through the thread pool)."""
    return context_of(request)


def principal_from_header(ctx: Context, authorization: str | None) -> Principal:
    """The caller proven by an `Authorization: Bearer` header, or InvalidToken."""
    if not authorization:
        raise InvalidToken("an access token is required")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise InvalidToken("use Authorization: Bearer <access_token>")
    return ctx.tokens.verify(token.strip(), now=ctx.clock.now())


def require_role(*roles: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    async def dependency(
        request: Request,
        _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        principal = principal_from_header(context_of(request), request.headers.get("authorization"))
        if roles and principal.role not in roles:
            raise Forbidden(f"this call is for the role {' or '.join(roles)}")
        return principal

    return dependency


Ctx = Annotated[Context, Depends(_context)]
CurrentUser = Annotated[Principal, Depends(require_role())]
CurrentCustomer = Annotated[Principal, Depends(require_role(Role.CUSTOMER))]
CurrentProvider = Annotated[Principal, Depends(require_role(Role.PROVIDER))]
CurrentAdmin = Annotated[Principal, Depends(require_role(Role.ADMIN))]
