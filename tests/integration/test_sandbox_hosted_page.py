"""The hosted payment page, posted as a browser posts its forms: test cards pay or are
declined, PromptPay shows a QR that scans to the exact amount, and a payment that cannot
be paid any more says why; to a client that is not a browser, its refusals are
problem+json."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
import zxingcpp
from PIL import Image

from slotbook.adapters.clock import ManualClock
from slotbook.domain.gateway import PaymentMethod
from slotbook.sandbox import promptpay
from tests.sandbox_helpers import (
    PROMPTPAY_ID,
    RETURN_URL,
    RunningSandbox,
    assert_sandbox_problem,
    running_sandbox,
)

NOTIFY_URL = "http://127.0.0.1:9/nobody-listens"
CARD = {"expiry": "12/34", "cvc": "123"}
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


class Page(HTMLParser):
    """What a test reads off a page: forms with their fields, labels, links and images."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self.labels: set[str] = set()
        self.inputs: set[str] = set()
        self.urls: list[str] = []
        self.html = html
        self.text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": found["action"], "method": found.get("method")})
        if tag == "label":
            self.labels.add(found["for"])
        if tag == "input":
            self.inputs.add(found["id"])
        self.urls += [found[k] for k in ("href", "src") if k in found]


@pytest.fixture
async def gw(tmp_path: Path, clock: ManualClock) -> AsyncIterator[RunningSandbox]:
    """The gateway, its raw client sending what a browser accepts."""
    async with running_sandbox(tmp_path / "sandbox.db", clock) as running:
        running.http.headers["accept"] = BROWSER
        yield running


async def opened(
    gw: RunningSandbox, method: PaymentMethod = PaymentMethod.CARD
) -> tuple[str, Page]:
    """A new payment, and its hosted page as the customer's browser gets it."""
    created = await gw.gateway.create_payment(gw.new_payment(NOTIFY_URL, method=method))
    answer = await gw.http.get(created.redirect_url)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    return created.gateway_payment_id, Page(answer.text)


async def status(gw: RunningSandbox, payment_id: str) -> str:
    return str((await gw.http.get(f"/payments/{payment_id}")).json()["status"])


async def test_the_card_page_shows_amount_merchant_and_labelled_fields(gw: RunningSandbox) -> None:
    _, page = await opened(gw)
    assert "฿1,500.50" in page.text
    assert "slotbook test shop" in page.text
    assert "4242 4242 4242 4242" in page.text
    assert {"card_number", "expiry", "cvc"} <= page.inputs
    assert page.inputs <= page.labels  # every field has its label
    assert '<meta name="viewport" content="width=device-width' in page.html  # phone width


async def test_assets_come_from_the_gateway_itself(gw: RunningSandbox) -> None:
    _, page = await opened(gw, PaymentMethod.PROMPTPAY)
    assert page.urls
    for url in page.urls:
        if url == RETURN_URL:
            continue
        assert url.startswith(gw.url + "/"), url
        answer = await gw.http.get(url)
        assert answer.status_code == 200, url
    (css,) = [u for u in page.urls if u.endswith(".css")]
    assert (await gw.http.get(css)).headers["content-type"].startswith("text/css")


@pytest.mark.parametrize(
    ("number", "outcome"), [("4242 4242 4242 4242", "succeeded"), ("4000-0000-0000-0002", "failed")]
)
async def test_a_test_card_settles_and_returns_the_customer(
    gw: RunningSandbox, number: str, outcome: str
) -> None:
    payment_id, page = await opened(gw)
    (form,) = page.forms
    assert form["method"] == "post"
    answer = await gw.http.post(form["action"], data={"card_number": number, **CARD})
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == RETURN_URL
    assert await status(gw, payment_id) == outcome
    (event,) = (await gw.http.get(f"/payments/{payment_id}/events")).json()["events"]
    assert event["type"] == f"payment.{outcome}"
    after = Page((await gw.http.get(f"/pay/{payment_id}")).text)
    assert ("Paid" if outcome == "succeeded" else "Declined") in after.text
    assert after.forms == []
    again = await gw.http.post(form["action"], data={"card_number": number, **CARD})
    assert again.status_code == 409  # settled once, shown as it is
    assert len((await gw.http.get(f"/payments/{payment_id}/events")).json()["events"]) == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"card_number": "5555 5555 5555 4444", **CARD}, "not a sandbox test card"),
        ({"card_number": "4242424242424242", "expiry": "13/30", "cvc": "123"}, "MM/YY"),
        ({"card_number": "4242424242424242", "expiry": "12/34", "cvc": "12"}, "security code"),
        ({}, "MM/YY"),
    ],
)
async def test_a_card_form_it_cannot_take_says_why(
    gw: RunningSandbox, fields: dict[str, str], message: str
) -> None:
    payment_id, page = await opened(gw)
    answer = await gw.http.post(page.forms[0]["action"], data=fields)
    assert answer.status_code == 422
    assert message in Page(answer.text).text
    assert f'value="{fields.get("card_number", "")}"' in answer.text  # kept for the next try
    assert await status(gw, payment_id) == "pending"


def scanned(png: bytes) -> str:
    (code,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return str(code.text)


async def test_the_promptpay_page_shows_a_qr_of_the_exact_amount(gw: RunningSandbox) -> None:
    _, page = await opened(gw, PaymentMethod.PROMPTPAY)
    (qr_url,) = [u for u in page.urls if u.endswith(".png")]
    image = await gw.http.get(qr_url)
    assert image.headers["content-type"] == "image/png"
    text = scanned(image.content)
    assert text == promptpay.payload(PROMPTPAY_ID, 150_050)
    for field in ("54071500.50", "5303764", "5802TH"):  # amount, baht, Thailand
        assert field in text
    assert text[-4:] == promptpay.crc16(text[:-4])
    assert "฿1,500.50" in page.text


@pytest.mark.parametrize(("result", "outcome"), [("paid", "succeeded"), ("not_paid", "failed")])
async def test_the_bank_buttons_settle_a_promptpay_payment(
    gw: RunningSandbox, result: str, outcome: str
) -> None:
    payment_id, page = await opened(gw, PaymentMethod.PROMPTPAY)
    (form,) = page.forms
    answer = await gw.http.post(form["action"], data={"result": result})
    assert (answer.status_code, answer.headers["location"]) == (303, RETURN_URL)
    assert await status(gw, payment_id) == outcome


async def test_an_expired_payment_shows_so_and_takes_no_payment(
    gw: RunningSandbox, clock: ManualClock
) -> None:
    payment_id, page = await opened(gw)
    clock.advance(600)
    expired = Page((await gw.http.get(f"/pay/{payment_id}")).text)
    assert "Expired" in expired.text
    assert expired.forms == []
    for number in ("4242424242424242", "1234"):  # its state first, whatever the card
        answer = await gw.http.post(page.forms[0]["action"], data={"card_number": number, **CARD})
        assert answer.status_code == 409
        assert "Expired" in Page(answer.text).text
    assert await status(gw, payment_id) == "pending"
    await gw.complete(payment_id)  # the control call still settles it: a late payment


async def test_a_cancelled_payment_shows_so_and_takes_no_payment(gw: RunningSandbox) -> None:
    payment_id, page = await opened(gw)
    await gw.gateway.cancel_payment(payment_id, idempotency_key="c-1")
    shown = Page((await gw.http.get(f"/pay/{payment_id}")).text)
    assert "Cancelled" in shown.text
    answer = await gw.http.post(
        page.forms[0]["action"], data={"card_number": "4242424242424242", **CARD}
    )
    assert answer.status_code == 409
    assert await status(gw, payment_id) == "cancelled"


async def test_an_unknown_payment_or_the_wrong_method(gw: RunningSandbox) -> None:
    assert (await gw.http.get("/pay/sbx_pay_nope")).status_code == 404
    payment_id, _ = await opened(gw)
    wrong = await gw.http.post(f"/pay/{payment_id}/promptpay", data={"result": "paid"})
    assert wrong.status_code == 404
    assert (await gw.http.get(f"/pay/{payment_id}/qr.png")).status_code == 404
    assert await status(gw, payment_id) == "pending"


async def test_a_client_that_is_not_a_browser_gets_problems(
    gw: RunningSandbox, clock: ManualClock
) -> None:
    card_id, page = await opened(gw)
    promptpay_id, _ = await opened(gw, PaymentMethod.PROMPTPAY)
    async with httpx.AsyncClient(base_url=gw.url) as api:  # Accept: */*
        assert_sandbox_problem(await api.get("/pay/sbx_pay_nope"), 404, "payment_not_found")
        unknown = await api.get(f"/pay/{card_id}/qr.png")
        assert_sandbox_problem(unknown, 404, "payment_not_found")
        wrong = await api.post(f"/pay/{card_id}/promptpay", data={"result": "paid"})
        assert_sandbox_problem(wrong, 404, "payment_not_found")
        action = page.forms[0]["action"]
        bad = await api.post(action, data={"card_number": "5555 5555 5555 4444", **CARD})
        problem = assert_sandbox_problem(bad, 422, "card_refused")
        assert [e["loc"] for e in problem["errors"]] == [["body", "card_number"]]
        cvc = await api.post(action, data={"card_number": "4242424242424242", "expiry": "12/34"})
        assert [e["loc"] for e in cvc.json()["errors"]] == [["body", "cvc"]]
        no_result = await api.post(f"/pay/{promptpay_id}/promptpay", data={})
        assert_sandbox_problem(no_result, 422, "invalid_request")
        clock.advance(600)
        expired = await api.post(action, data={"card_number": "4242424242424242", **CARD})
        assert_sandbox_problem(expired, 409, "payment_not_payable")
    assert await status(gw, card_id) == "pending"
    assert (await gw.http.get("/pay/sbx_pay_nope")).headers["content-type"].startswith("text/html")
