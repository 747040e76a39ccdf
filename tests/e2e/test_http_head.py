"""HEAD answers as GET does, on every GET route, without a body."""

from __future__ import annotations

import httpx

from slotbook.service_layer.context import Context
from tests import builders
from tests.conftest import START
from tests.e2e.http_helpers import bearer, sign_up

SAME_HEADERS = ("content-type", "content-length", "www-authenticate")


async def test_head_is_get_without_the_body(client: httpx.AsyncClient, ctx: Context) -> None:
    provider_id, (slot, *_) = await builders.provider_with_slots(ctx, first=START.replace(day=2))
    token = bearer((await sign_up(client))["access_token"])
    missing = "00000000-0000-4000-8000-000000000000"
    spec = (await client.get("/openapi.json")).json()
    gets = [path for path, ops in spec["paths"].items() if "get" in ops]
    assert "/v1/slots/{slot_id}" in gets
    ids = {"{provider_id}": str(provider_id), "{slot_id}": str(slot.id), "{hold_id}": missing}
    paths = []
    for path in gets:
        for name, value in ids.items():
            path = path.replace(name, value)
        paths.append(path)
    paths += [f"/v1/slots/{missing}", "/v1/slots?from=bad", "/v1/me", "/openapi.json", "/docs"]
    for path in paths:
        for headers in ({}, token):
            got = await client.get(path, headers=headers)
            head = await client.head(path, headers=headers)
            assert head.status_code == got.status_code, path
            assert head.content == b"", path
            for name in SAME_HEADERS:
                if name != "content-length" or path != "/metrics":  # metrics move on
                    assert head.headers.get(name) == got.headers.get(name), (path, name)


async def test_head_where_there_is_no_get_answers_as_get_would(
    client: httpx.AsyncClient,
) -> None:
    head = await client.head("/v1/holds")
    assert head.status_code == (await client.get("/v1/holds")).status_code == 405
    assert head.content == b""
    assert (await client.head("/v1/nowhere")).status_code == 404
