"""Passwords (argon2) and access tokens (JWT, HS256)."""

from __future__ import annotations

import asyncio
import os
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from slotbook.domain.errors import InvalidToken, Overloaded
from slotbook.domain.model import Principal, Role

_T = TypeVar("_T")
_ALGORITHM = "HS256"
_AUDIENCE = "slotbook"


def default_hash_concurrency() -> int:
    """Hashes at once when not set: one per CPU. A hash is CPU-bound, so more would only
    queue inside the operating system (and hold 64 MiB each) instead of here; measured on
    two cores, two at once hash 35% faster than one, and holds placed meanwhile kept their
    p99 well under a second."""
    return max(1, os.cpu_count() or 1)


class Passwords:
    """argon2id hashing, a few at a time, off the event loop.

    The cost is a setting so tests and demo data stay quick. A burst of sign-ups or logins
    queues for `concurrency` hashing threads instead of starving the process: it is
    answered slower, and only a wait longer than `wait_seconds` answers 503 `overloaded`.
    """

    def __init__(
        self, *, time_cost: int, memory_kib: int, concurrency: int, wait_seconds: float
    ) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
        self._dummy_hash: str | None = None
        self._executor = ThreadPoolExecutor(concurrency, thread_name_prefix="argon2")
        self._turns = asyncio.Semaphore(concurrency)
        self._wait_seconds = wait_seconds

    async def hash(self, password: str) -> str:
        return await self._run(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when the password matches; with no hash (unknown user) it still spends the
        same time on a dummy hash, so response time does not reveal which emails exist."""
        return await self._run(self._verify, password_hash, password)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _run(self, work: Callable[..., _T], *args: Any) -> _T:
        try:
            async with asyncio.timeout(self._wait_seconds):
                await self._turns.acquire()
        except TimeoutError:
            raise Overloaded(
                "too many sign-ins at once; retry shortly", retry_after_seconds=5
            ) from None
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work, *args)
        finally:
            self._turns.release()

    def _verify(self, password_hash: str | None, password: str) -> bool:
        if password_hash is None:
            if self._dummy_hash is None:
                self._dummy_hash = self._hasher.hash("not-a-real-password")
            self._hasher.verify(self._dummy_hash, "not-a-real-password")
            return False
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


class Tokens:
    """Signs and verifies access tokens.

    Verified tokens are remembered (bounded LRU) so a busy client costs one signature
    check, not one per request; expiry is still checked against the clock every time.
    """

    def __init__(self, *, secret: str, ttl_seconds: int, cache_size: int = 100_000) -> None:
        self._secret = secret
        self._ttl = timedelta(seconds=ttl_seconds)
        self._verified: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._cache_size = cache_size

    def issue(self, principal: Principal, *, now: datetime, ttl: timedelta | None = None) -> str:
        claims = {
            "sub": str(principal.user_id),
            "role": principal.role.value,
            "aud": _AUDIENCE,
            "iat": int(now.timestamp()),
            "exp": int((now + (ttl or self._ttl)).timestamp()),
        }
        return jwt.encode(claims, self._secret, algorithm=_ALGORITHM)

    def verify(self, token: str, *, now: datetime) -> Principal:
        """The caller the token proves, or InvalidToken (bad signature, expired, malformed)."""
        cached = self._verified.get(token)
        if cached is None:
            cached = self._decode(token)
            self._verified[token] = cached
            if len(self._verified) > self._cache_size:
                self._verified.popitem(last=False)
        principal, expires = cached
        if now.timestamp() >= expires:
            raise InvalidToken("the access token has expired")
        return principal

    def _decode(self, token: str) -> tuple[Principal, float]:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                audience=_AUDIENCE,
                # expiry is checked against the injected clock, not the system clock
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "require": ["sub", "role", "exp"],
                },
            )
            principal = Principal(user_id=UUID(claims["sub"]), role=Role(claims["role"]))
            return principal, float(claims["exp"])
        except (jwt.InvalidTokenError, ValueError, KeyError) as exc:
            raise InvalidToken("the access token is not valid") from exc
