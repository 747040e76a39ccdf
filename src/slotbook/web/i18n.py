"""Languages of the pages: English and Thai, from gettext catalogs compiled at start-up.

The Thai catalog is kept as a .po file and compiled in memory (no .mo is committed).
Thai dates are in the Buddhist era (the Gregorian year + 543), as Thai readers expect.
"""

from __future__ import annotations

import gettext
from datetime import datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from io import BytesIO
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, get_currency_symbol

LANGUAGES = ("en", "th")
DEFAULT = "en"
BUDDHIST_ERA_OFFSET = 543


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalog of `language`, compiled from its .po file; English is the source text."""
    if language == DEFAULT:
        return gettext.NullTranslations()
    po = resources.files("slotbook.web").joinpath(f"locale/{language}/LC_MESSAGES/messages.po")
    with po.open("rb") as source:
        catalog = read_po(source, locale=language)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def pick_language(chosen: str | None, accept_language: str | None) -> str:
    """The language chosen on the page (cookie), else the browser's first known one."""
    if chosen in LANGUAGES:
        return chosen
    ranked: list[tuple[float, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, f"{index:04d}{primary}"))
    if not ranked:
        return DEFAULT
    return min(ranked)[1][4:]


def format_when(moment: datetime, timezone: str, language: str, *, with_time: bool = True) -> str:
    """A moment in the provider's zone: Thai with a Buddhist-era year, else English."""
    local = moment.astimezone(ZoneInfo(timezone))
    if language == "th":
        text = format_datetime(local, "EEEE d MMMM", locale="th_TH")
        text += f" {local.year + BUDDHIST_ERA_OFFSET}"
        return f"{text} {local:%H:%M} น." if with_time else text
    pattern = "EEE d MMM y, HH:mm" if with_time else "EEEE d MMMM y"
    return format_datetime(local, pattern, locale="en_GB")


def format_time(moment: datetime, timezone: str) -> str:
    return f"{moment.astimezone(ZoneInfo(timezone)):%H:%M}"


def format_money(amount_minor: int, currency: str, language: str) -> str:
    """A price from minor units (two decimals), in the reader's locale."""
    amount = Decimal(amount_minor) / 100
    if language == "th":
        return format_currency(amount, currency, locale="th_TH")
    # the symbol Thai shops show (฿ for baht), the English digits
    symbol = get_currency_symbol(currency, locale="th_TH")
    return f"{symbol}{format_decimal(amount, '#,##0.00', locale='en_GB')}"
