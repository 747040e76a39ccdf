"""Idempotency-Key: the same key and body replays the first answer.

The same key with a different body is refused (422); a key whose first request is still
being processed answers 409. A request that failed with a server error frees its key, so
the client may retry it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

from slotbook.adapters.db.repos import idempotency as repo
from slotbook.domain.errors import IdempotencyKeyInFlight, IdempotencyKeyReused, InvalidRequest
from slotbook.service_layer.context import Context

MAX_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class Answer:
    status_code: int
    body: bytes


async def run_idempotent(
    ctx: Context,
    *,
    user_id: UUID,
    endpoint: str,
    key: str,
    request_body: bytes,
    handle: Callable[[], Awaitable[Answer]],
) -> Answer:
    """Run `handle` once per (user, endpoint, key); replay its stored answer afterwards.

    `handle` answers client errors itself (they are stored and replayed like any answer);
    an exception out of it frees the key.
    """
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidRequest(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters")
    digest = hashlib.sha256(request_body).hexdigest()
    ref = repo.KeyRef(user_id=user_id, endpoint=endpoint, key=key)
    async with ctx.db.write() as conn:
        stored = await repo.claim(conn, ref, request_hash=digest, now=ctx.clock.now())
    if stored is not None:
        if stored.request_hash != digest:
            raise IdempotencyKeyReused("this Idempotency-Key was used with a different request")
        if stored.status_code is None or stored.body is None:
            raise IdempotencyKeyInFlight("the first request with this key is still in progress")
        return Answer(stored.status_code, stored.body)
    try:
        answer = await handle()
    except BaseException:
        async with ctx.db.write() as conn:
            await repo.forget(conn, ref)
        raise
    async with ctx.db.write() as conn:
        await repo.store(conn, ref, status_code=answer.status_code, body=answer.body)
    return answer
