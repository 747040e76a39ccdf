"""The pages' rules that need no browser: CSRF on every form, the same accounts as the
API, the language chosen from the browser or the switch, /docs served from the app."""

from __future__ import annotations

import re

import httpx

PASSWORD = "web-password-123"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def csrf_of(client: httpx.AsyncClient, path: str = "/signup") -> str:
    page = await client.get(path)
    assert page.status_code == 200
    found = CSRF.search(page.text)
    assert found is not None
    return found.group(1)


async def test_a_form_without_the_csrf_token_is_refused(client: httpx.AsyncClient) -> None:
    await csrf_of(client)  # the visitor has a CSRF cookie, but the form does not carry it
    answer = await client.post(
        "/signup",
        data={"name": "Eve", "email": "eve@example.com", "password": PASSWORD, "csrf": "guess"},
    )
    assert answer.status_code == 403
    assert "This form has expired" in answer.text
    assert "sb_session" not in answer.cookies
    login = await client.post(
        "/v1/auth/login", json={"email": "eve@example.com", "password": PASSWORD}
    )
    assert login.status_code == 401  # no account was made


async def test_a_form_from_another_site_is_refused(client: httpx.AsyncClient) -> None:
    token = await csrf_of(client)
    answer = await client.post(
        "/signup",
        data={"name": "Eve", "email": "eve2@example.com", "password": PASSWORD, "csrf": token},
        headers={"Origin": "http://evil.example"},
    )
    assert answer.status_code == 403


async def test_signing_up_on_the_page_makes_an_api_account(client: httpx.AsyncClient) -> None:
    token = await csrf_of(client)
    answer = await client.post(
        "/signup",
        data={
            "name": "Fon",
            "email": "Fon@Example.com",
            "password": PASSWORD,
            "csrf": token,
            "next": "/me/bookings",
        },
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/me/bookings"
    assert "httponly" in answer.headers["set-cookie"].lower()
    mine = await client.get("/me/bookings")
    assert mine.status_code == 200
    assert "Log out" in mine.text
    login = await client.post(
        "/v1/auth/login", json={"email": "fon@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200


async def test_next_never_leads_to_another_site(client: httpx.AsyncClient) -> None:
    answer = await client.get("/language/th", params={"next": "//evil.example/x"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"


async def test_thai_for_a_thai_browser_and_the_switch_wins(client: httpx.AsyncClient) -> None:
    thai = await client.get("/", headers={"Accept-Language": "th-TH,th;q=0.9,en;q=0.5"})
    assert '<html lang="th">' in thai.text
    assert "จองเวลากับผู้ให้บริการ" in thai.text
    switched = await client.get("/language/en", params={"next": "/"})
    assert switched.status_code == 303
    english = await client.get("/", headers={"Accept-Language": "th-TH"})
    assert '<html lang="en">' in english.text
    assert "Book a time with a provider" in english.text


async def test_docs_use_the_apps_own_swagger_ui(client: httpx.AsyncClient) -> None:
    docs = await client.get("/docs")
    assert docs.status_code == 200
    scripts = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert scripts
    assert all(s.startswith("/static/swagger/") for s in scripts)
    for asset in scripts:
        assert (await client.get(asset)).status_code == 200


async def test_booking_an_unknown_time_is_a_page_not_found(client: httpx.AsyncClient) -> None:
    token = await csrf_of(client)
    answer = await client.post(
        "/book", data={"slot_id": "00000000-0000-4000-8000-000000000000", "csrf": token}
    )
    assert answer.status_code == 404
    assert "Not found" in answer.text
    assert answer.headers["content-type"].startswith("text/html")


async def test_pages_that_need_a_login_send_the_visitor_to_it(client: httpx.AsyncClient) -> None:
    answer = await client.get("/me/bookings")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/me/bookings"


async def test_a_browser_asking_for_a_page_that_is_not_there_gets_the_not_found_page(
    client: httpx.AsyncClient,
) -> None:
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    for path in ("/holds/not-an-id", "/payments/12/back", "/no-such-page"):
        page = await client.get(path, headers=browser)
        assert (page.status_code, page.headers["content-type"]) == (
            404,
            "text/html; charset=utf-8",
        ), path
        assert "Not found" in page.text
    # the API's paths, and clients that do not ask for a page, keep their problems
    for path, headers, status in (
        ("/v1/holds/not-an-id", browser, 401),
        ("/holds/not-an-id", {"Accept": "application/json"}, 422),
    ):
        answer = await client.get(path, headers=headers)
        assert (answer.status_code, answer.headers["content-type"]) == (
            status,
            "application/problem+json",
        ), path
    unknown = await client.get("/v1/no-such-thing", headers=browser)
    assert (unknown.status_code, unknown.headers["content-type"]) == (
        404,
        "application/problem+json",
    )
