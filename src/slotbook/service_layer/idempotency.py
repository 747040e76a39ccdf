"""Idempotency-Key: one effect per key, and the first answer replayed to every retry.

The rules, per (user, endpoint, key):
- **Claim.** The first request claims the key, with the id of the resource it will create
  (for holds, the hold id), chosen before the effect, and a lease
  (`idempotency_lease_seconds`). The same key with a different body is refused (422).
- **Replay.** Once an answer is stored, every retry gets it (client errors included),
  carrying the retry's own request id.
- **Lease.** While a claim is unanswered and its lease runs, a retry answers 409 (in
  flight). After the lease, one retry retakes the claim (a conditional write: of two
  retakers, one wins and the other is in flight).
- **Recovery.** A retaken claim first looks for the effect by its resource id (`recover`):
  if the first attempt's effect committed but its answer was never stored (the store
  failed, the process died), that effect's answer is replayed. Only when there is no
  effect does the request run again, with the same resource id.
- **Never freed.** Once an outside effect may have happened, the key is never given up:
  an exception out of the request ends its lease at once (so a retry can retake it at
  once), and the claim stays.
- **Expiry.** A key expires `idempotency_key_ttl_seconds` after its claim; from then on the
  same key is a new request. The sweeper deletes expired keys.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import structlog

from slotbook.adapters.db.engine import Connection
from slotbook.adapters.db.repos import idempotency as repo
from slotbook.domain.errors import IdempotencyKeyInFlight, IdempotencyKeyReused, InvalidRequest
from slotbook.service_layer.context import Context

MAX_KEY_LENGTH = 255
log = structlog.get_logger("slotbook.idempotency")


@dataclass(frozen=True, slots=True)
class Answer:
    status_code: int
    body: bytes
    replayed: bool = False  # True: stored by an earlier request, not made by this one


@dataclass(frozen=True, slots=True)
class _Claim:
    """This request holds the key as `attempt`, for the resource `resource_id`."""

    attempt: int
    resource_id: UUID
    retaken: bool  # an earlier attempt may have made the effect already


Handle = Callable[[UUID], Awaitable[Answer]]
Recover = Callable[[UUID], Awaitable[Answer | None]]


async def run_idempotent(
    ctx: Context,
    *,
    user_id: UUID,
    endpoint: str,
    key: str,
    request_body: bytes,
    handle: Handle,
    recover: Recover,
) -> Answer:
    """Run the request once per (user, endpoint, key) and replay its answer afterwards.

    `handle(resource_id)` makes the effect under that id and answers client errors itself
    (stored and replayed like any answer); `recover(resource_id)` answers as the first
    attempt did if its effect exists, else None.
    """
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidRequest(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters",
            loc=("header", "Idempotency-Key"),
        )
    ref = repo.KeyRef(user_id=user_id, endpoint=endpoint, key=key)
    claim = await _claim(ctx, ref, hashlib.sha256(request_body).hexdigest())
    if isinstance(claim, Answer):
        return claim
    try:
        answer = await recover(claim.resource_id) if claim.retaken else None
        if answer is None:
            answer = await handle(claim.resource_id)
    except BaseException:
        await _end_lease(ctx, ref, claim)
        raise
    await _store(ctx, ref, claim, answer)
    return answer


async def _claim(ctx: Context, ref: repo.KeyRef, digest: str) -> _Claim | Answer:
    """Claim the key, or the stored answer; raise if it is in flight or reused."""
    now = ctx.clock.now()
    fresh = repo.NewClaim(
        request_hash=digest,
        resource_id=uuid.uuid4(),
        now=now,
        lease_until=now + timedelta(seconds=ctx.settings.idempotency_lease_seconds),
        expires_at=now + timedelta(seconds=ctx.settings.idempotency_key_ttl_seconds),
    )
    async with ctx.db.write() as conn:
        for _ in range(2):  # a second round only if the key expired and was swept meanwhile
            if await repo.insert_claim(conn, ref, fresh):
                return _Claim(attempt=1, resource_id=fresh.resource_id, retaken=False)
            stored = await repo.read(conn, ref)
            if stored is not None:
                return await _claim_stored(conn, ref, stored, fresh)
    raise _in_flight()


async def _claim_stored(
    conn: Connection, ref: repo.KeyRef, stored: repo.StoredKey, fresh: repo.NewClaim
) -> _Claim | Answer:
    """A key already stored: renewed if expired, replayed if answered, else retaken if its
    lease is over. A conditional write lost to another request means it is in flight."""
    if stored.expires_at <= fresh.now:
        if await repo.renew_expired(conn, ref, seen_attempt=stored.attempt, claim=fresh):
            return _Claim(stored.attempt + 1, fresh.resource_id, retaken=False)
        raise _in_flight()
    if stored.request_hash != fresh.request_hash:
        raise IdempotencyKeyReused("this Idempotency-Key was used with a different request")
    if stored.status_code is not None and stored.body is not None:
        return Answer(stored.status_code, stored.body, replayed=True)
    if stored.lease_until > fresh.now:
        raise _in_flight()
    resource_id = stored.resource_id or fresh.resource_id
    taken = await repo.retake(
        conn,
        ref,
        seen_attempt=stored.attempt,
        resource_id=resource_id,
        now=fresh.now,
        lease_until=fresh.lease_until,
    )
    if not taken:
        raise _in_flight()
    return _Claim(stored.attempt + 1, resource_id, retaken=True)


def _in_flight() -> IdempotencyKeyInFlight:
    return IdempotencyKeyInFlight("the first request with this key is still in progress")


async def _store(ctx: Context, ref: repo.KeyRef, claim: _Claim, answer: Answer) -> None:
    """Store the answer. If that fails, the effect stands and its answer is still given;
    the lease is ended so a retry recovers the effect by its resource id."""
    try:
        async with ctx.db.write() as conn:
            stored = await repo.store(
                conn, ref, attempt=claim.attempt, status_code=answer.status_code, body=answer.body
            )
    except Exception:
        log.exception("idempotency_store_failed", endpoint=ref.endpoint)
        await _end_lease(ctx, ref, claim)
        return
    if not stored:  # a retry retook the claim after this attempt's lease: its answer counts
        log.warning("idempotency_claim_lost", endpoint=ref.endpoint, attempt=claim.attempt)


async def _end_lease(ctx: Context, ref: repo.KeyRef, claim: _Claim) -> None:
    """Let a retry retake the claim at once; if even that fails, the lease runs out."""
    try:
        async with ctx.db.write() as conn:
            await repo.end_lease(conn, ref, attempt=claim.attempt, now=ctx.clock.now())
    except Exception:
        log.warning("idempotency_lease_not_ended", endpoint=ref.endpoint, exc_info=True)
