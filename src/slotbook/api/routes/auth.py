"""Accounts: sign-up, login, who-am-I."""

from __future__ import annotations

from fastapi import APIRouter

from slotbook.api import render
from slotbook.api.deps import Ctx, CurrentUser
from slotbook.api.routes import documented
from slotbook.api.schemas import LogIn, SignedUpOut, SignUp, TokenOut, UserOut
from slotbook.domain.model import Role
from slotbook.edge.responses import JSON
from slotbook.service_layer import accounts

router = APIRouter(tags=["accounts"])


@router.post("/v1/auth/signup", status_code=201, responses=documented(201, SignedUpOut, 409, 422))
async def sign_up(body: SignUp, ctx: Ctx) -> JSON:
    signed = await accounts.sign_up(
        ctx, email=body.email, password=body.password, name=body.name, role=Role(body.role)
    )
    return JSON(
        {
            "user": render.user(signed.user),
            "access_token": signed.access_token,
            "token_type": "bearer",
        },
        status_code=201,
    )


@router.post("/v1/auth/login", responses=documented(200, TokenOut, 401, 422))
async def log_in(body: LogIn, ctx: Ctx) -> JSON:
    signed = await accounts.log_in(ctx, email=body.email, password=body.password)
    return JSON({"access_token": signed.access_token, "token_type": "bearer"})


@router.get("/v1/me", responses=documented(200, UserOut, 401))
async def me(principal: CurrentUser, ctx: Ctx) -> JSON:
    return JSON(render.user(await accounts.current_user(ctx, principal.user_id)))
