"""200 customers race for one slot against a real server: exactly one wins, every loser gets
a 409 problem with suggestions. PostgreSQL with two worker processes, SQLite with one."""

from __future__ import annotations

import signal
from collections import Counter
from datetime import timedelta

import httpx
import pytest

from tests.e2e.booking import (
    KINDS,
    SUGGESTION_KEYS,
    Account,
    Catalog,
    client_for,
    hourly,
    open_catalog,
    parse_time,
    race_for_slot,
    sign_up_customers,
    tomorrow_at,
)
from tests.e2e.servers import Launcher

CUSTOMERS = 200
ROUNDS = 5
DEFAULT_TTL = timedelta(seconds=600)
SHUTDOWN_COMPLETE = "Application shutdown complete."


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("backend", "workers"),
    [
        pytest.param("postgresql", 2, marks=pytest.mark.postgres, id="postgresql-2-workers"),
        pytest.param("sqlite", 1, id="sqlite-1-worker"),
    ],
)
async def test_exactly_one_of_200_concurrent_holds_wins(
    launch: Launcher, backend: str, workers: int
) -> None:
    url = await launch.postgres() if backend == "postgresql" else await launch.sqlite()
    server = await launch.server(url, workers=workers)

    async with client_for(server.url, lanes=CUSTOMERS) as client:
        customers = await sign_up_customers(client, CUSTOMERS)
        # Alpha: a 30-minute slot every hour; beta, same category: every hour at half past.
        alpha = await open_catalog(client, "alpha", hourly(tomorrow_at(9), 10))
        beta = await open_catalog(
            client, "beta", hourly(tomorrow_at(9) + timedelta(minutes=30), 10)
        )
        held: dict[int, str] = {}  # customer index -> the slot its active hold is on

        for contested in alpha.slots[0 : 2 * ROUNDS : 2]:
            slot_id = str(contested["id"])
            answers = await race_for_slot(client, slot_id, customers)

            statuses = Counter(a.status_code for a in answers)
            unexpected = [a.text for a in answers if a.status_code not in (201, 409)][:3]
            assert statuses == Counter({201: 1, 409: CUSTOMERS - 1}), (statuses, unexpected)
            winner = next(i for i, a in enumerate(answers) if a.status_code == 201)
            held.pop(winner, None)  # superseded by this win: it may be offered again
            for answer in answers:
                if answer.status_code == 409:
                    check_refusal(answer, contested, alpha, beta, set(held.values()))

            await check_winner(client, answers[winner], customers[winner], contested)
            held[winner] = slot_id

        # every worker's hold attempts, summed by the scrape
        metrics = await client.get("/metrics")
        assert metrics.status_code == 200
        assert sample(metrics.text, 'slotbook_hold_attempts_total{outcome="granted"}') == ROUNDS
        unavailable = sample(metrics.text, 'slotbook_hold_attempts_total{outcome="unavailable"}')
        assert unavailable == ROUNDS * (CUSTOMERS - 1)

    errors = [r for r in server.process.log_records() if r.get("level") in ("error", "critical")]
    assert errors == []
    # a graceful stop: uvicorn exits 0 with several workers, and re-raises SIGTERM with one
    code = await launch.stop(server.process)
    assert code in (0, -signal.SIGTERM), server.process.tail()
    shutdowns = [r for r in server.process.log_records() if r["event"] == SHUTDOWN_COMPLETE]
    assert len(shutdowns) == workers, server.process.tail()


def sample(exposition: str, name: str) -> float:
    """The value of one sample in Prometheus text format."""
    for line in exposition.splitlines():
        if line.startswith(f"{name} "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no sample {name}")


def check_refusal(
    answer: httpx.Response,
    contested: dict[str, object],
    alpha: Catalog,
    beta: Catalog,
    held: set[str],
) -> None:
    """A 409 slot-unavailable problem offering available slots, nearest first; `held` are
    slots other customers hold all through the race, which must not be offered."""
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["type"].endswith("/slot-unavailable"), problem
    assert problem["status"] == 409
    assert problem["request_id"]
    assert problem["slot_id"] == contested["id"]
    suggestions = problem["suggestions"]
    assert 1 <= len(suggestions) <= 5, problem
    assert len({s["slot_id"] for s in suggestions}) == len(suggestions)

    target = parse_time(str(contested["starts_at"]))
    distances = []
    for s in suggestions:
        assert s.keys() >= SUGGESTION_KEYS, s
        assert s["kind"] in KINDS, s
        assert s["slot_id"] != contested["id"], s
        assert s["slot_id"] not in held, s
        assert s["service_id"] in (alpha.service_id, beta.service_id), s
        assert (s["kind"] == "same_provider") == (s["provider_id"] == contested["provider_id"]), s
        assert isinstance(s["price_minor"], int)
        assert s["currency"] == "THB"
        starts, ends = parse_time(s["starts_at"]), parse_time(s["ends_at"])
        assert ends - starts == timedelta(minutes=30)
        distances.append(abs(starts - target))
    assert distances == sorted(distances), "suggestions must come nearest in time first"
    # beta has a free slot 30 minutes from every contested one, nearer than alpha's own
    assert {s["kind"] for s in suggestions} == KINDS, suggestions


async def check_winner(
    client: httpx.AsyncClient,
    answer: httpx.Response,
    winner: Account,
    contested: dict[str, object],
) -> None:
    hold = answer.json()
    assert hold["status"] == "active"
    assert hold["slot_id"] == contested["id"]
    assert hold["customer_id"] == winner.user_id
    assert hold["provider_id"] == contested["provider_id"]
    assert hold["amount_minor"] == contested["price_minor"]
    assert hold["release_reason"] is None
    assert parse_time(hold["expires_at"]) - parse_time(hold["created_at"]) == DEFAULT_TTL

    slot = await client.get(f"/v1/slots/{contested['id']}")
    assert slot.status_code == 200, slot.text
    assert slot.json()["status"] == "held"

    again = await client.get(f"/v1/holds/{hold['id']}", headers=winner.headers)
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "active"
    assert again.json()["slot_id"] == contested["id"]
