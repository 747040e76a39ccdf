"""The payment path's figures: webhook handling, and gateway success to booking.

- Webhooks: each a signed `payment.succeeded` for a payment of its own (so each is a real
  confirming transaction: hold, slot, booking, escrow, the event's record), posted by the
  bench straight to `POST /v1/webhooks/sandbox`, first one at a time (a gateway's steady
  delivery: the handling itself), then at a fixed concurrency (a burst: handling and
  queueing for two cores), after a few unmeasured ones at that concurrency that open the
  connections a burst needs; latency from the request to its answer, through a lean
  client (loads.post_all).
- Success to booking: 32 flows at once. Each customer waits on its payment
  (`GET /v1/payments/{id}?wait=10`), then all 32 payments are completed at the sandbox
  gateway at once (a process of its own, delivering its webhooks over HTTP); latency
  from the moment the gateway recorded each success (its `settled_at`, the same machine's
  clock) to the moment the waiting request answers `succeeded`. The same flows are also
  timed from the `complete` call, which adds the sandbox's own queue: it settles one
  payment at a time, so the last of 32 calls waits for the other 31.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from standardwebhooks import Webhook

import loads

HOST = "127.0.0.1"


@dataclass
class PaymentFigures:
    webhook_ms: list[float] = field(default_factory=list)
    webhook_statuses: dict[int, int] = field(default_factory=dict)
    webhook_concurrency: int = 0
    webhook_one_ms: list[float] = field(default_factory=list)  # one at a time, no queueing
    webhook_one_statuses: dict[int, int] = field(default_factory=dict)
    webhook_server_cpu_ms: float = float("nan")  # per webhook, the server's processes
    webhook_pg_cpu_ms: float = float("nan")  # per webhook, PostgreSQL's
    success_to_booking_ms: list[float] = field(default_factory=list)  # from settled_at
    call_to_booking_ms: list[float] = field(default_factory=list)  # from the complete call
    flows_confirmed: int = 0
    flows: int = 0


async def open_payments(
    port: int, tokens: list[str], slots: list[str]
) -> list[tuple[str, dict[str, object]]]:
    """A hold and a card payment for each (token, slot): (token, payment)."""
    opened: list[tuple[str, dict[str, object]]] = []
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=30) as api:
        gate = asyncio.Semaphore(8)

        async def one(token: str, slot: str) -> None:
            headers = {"Authorization": f"Bearer {token}"}
            async with gate:
                hold = await api.post("/v1/holds", json={"slot_id": slot}, headers=headers)
                if hold.status_code != 201:
                    raise RuntimeError(f"hold for the payment bench: {hold.status_code}")
                payment = await api.post(
                    f"/v1/holds/{hold.json()['id']}/payments",
                    json={"method": "card"},
                    headers=headers,
                )
                if payment.status_code != 201:
                    raise RuntimeError(f"payment for the bench: {payment.text}")
                opened.append((token, payment.json()))

        await asyncio.gather(*(one(t, s) for t, s in zip(tokens, slots, strict=True)))
    return opened


def _signed_event(payment: dict[str, object], secret: str) -> tuple[bytes, dict[str, str]]:
    msg_id = f"evt_bench_{uuid.uuid4().hex}"
    body = json.dumps(
        {
            "id": msg_id,
            "type": "payment.succeeded",
            "created_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "data": {
                "payment": {
                    "id": payment["gateway_payment_id"],
                    "reference": payment["id"],
                    "status": "succeeded",
                    "amount_minor": payment["amount_minor"],
                    "currency": payment["currency"],
                    "method": payment["method"],
                }
            },
        }
    )
    now = datetime.now(UTC)
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, now, body),
        "content-type": "application/json",
    }
    return body.encode(), headers


async def webhooks(
    port: int, payments: list[dict[str, object]], secret: str, *, concurrency: int
) -> tuple[list[float], dict[int, int]]:
    """Post one signed success per payment, `concurrency` at a time, with the bench's
    lean client (loads.post_all; an HTTP library would take more of the two cores than
    the server does): latencies, statuses."""
    requests = [
        loads.raw_post("/v1/webhooks/sandbox", body, headers)
        for body, headers in (_signed_event(p, secret) for p in payments)
    ]
    statuses, latencies = await loads.post_all(port, requests, concurrency=concurrency)
    return latencies, dict(Counter(statuses))


async def success_to_booking(
    port: int, sandbox_port: int, flows: list[tuple[str, dict[str, object]]]
) -> tuple[list[float], list[float], int]:
    """Complete every payment at the gateway at once; from each success as the gateway
    recorded it, and from each `complete` call, to its waiting customer's answer
    `succeeded`, in ms; how many were confirmed."""
    limits = httpx.Limits(max_connections=2 * len(flows) + 4)
    async with (
        httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=30, limits=limits) as api,
        httpx.AsyncClient(base_url=f"http://{HOST}:{sandbox_port}", timeout=30) as gateway,
    ):
        called_at: dict[object, float] = {}  # perf_counter
        settled_at: dict[object, float] = {}  # the gateway's record, as a perf_counter time

        async def wait(token: str, payment: dict[str, object]) -> tuple[object, float] | None:
            answer = await api.get(
                f"/v1/payments/{payment['id']}",
                params={"wait": 10},
                headers={"Authorization": f"Bearer {token}"},
            )
            if answer.json().get("status") != "succeeded":
                return None
            return payment["id"], time.perf_counter()  # often before complete's answer

        async def complete(payment: dict[str, object]) -> None:
            called_at[payment["id"]] = time.perf_counter()
            done = await gateway.post(
                f"/sandbox/payments/{payment['gateway_payment_id']}/complete",
                json={"outcome": "succeeded"},
            )
            if done.status_code != 200:
                raise RuntimeError(f"complete at the sandbox: {done.text}")
            # the wall clock's settled_at, moved onto perf_counter's scale
            ago = time.time() - datetime.fromisoformat(done.json()["settled_at"]).timestamp()
            settled_at[payment["id"]] = time.perf_counter() - ago

        waiting = [asyncio.create_task(wait(t, p)) for t, p in flows]
        await asyncio.sleep(0.5)  # every wait is parked on its payment first
        await asyncio.gather(*(complete(p) for _, p in flows))
        results = await asyncio.gather(*waiting)
    confirmed = [answered for answered in results if answered is not None]
    return (
        [(at - settled_at[paid]) * 1000 for paid, at in confirmed],
        [(at - called_at[paid]) * 1000 for paid, at in confirmed],
        len(confirmed),
    )
