"""Languages of the pages: which one a browser gets, Thai dates in the Buddhist era."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources

import pytest
from babel.messages.extract import extract_from_dir

from slotbook.web import i18n


@pytest.mark.parametrize(
    ("chosen", "accept", "expected"),
    [
        (None, "th-TH,th;q=0.9,en;q=0.8", "th"),
        (None, "en-US,th;q=0.5", "en"),
        (None, "fr-FR,th;q=0.4", "th"),
        (None, "th;q=0, en", "en"),
        (None, "fr", "en"),
        (None, None, "en"),
        ("en", "th", "en"),
        ("xx", "th", "th"),
    ],
)
def test_the_language_of_a_browser(chosen: str | None, accept: str | None, expected: str) -> None:
    assert i18n.pick_language(chosen, accept) == expected


def test_thai_dates_are_in_the_buddhist_era_in_the_providers_zone() -> None:
    moment = datetime(2026, 12, 3, 17, 30, tzinfo=UTC)  # 00:30 on the 4th in Bangkok
    assert i18n.format_when(moment, "Asia/Bangkok", "th") == "วันศุกร์ 4 ธันวาคม 2569 00:30 น."
    assert i18n.format_when(moment, "Asia/Bangkok", "en") == "Fri 4 Dec 2026, 00:30"


def test_prices_from_minor_units() -> None:
    assert i18n.format_money(45_000, "THB", "th") == "฿450.00"
    assert i18n.format_money(150_000_00, "THB", "en") == "฿150,000.00"


def test_every_message_of_the_pages_has_a_thai_translation() -> None:
    root = resources.files("slotbook.web")
    found = extract_from_dir(
        str(root),
        [("templates/**.html", "jinja2")],
        options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}},
    )
    messages = {m[2] for m in found}
    assert "Pay now" in messages
    catalog = i18n.translations("th")
    untranslated = sorted(m for m in messages if catalog.gettext(m) == m)
    assert untranslated == []
    assert catalog.gettext("%(minutes)s minutes") == "%(minutes)s นาที"
