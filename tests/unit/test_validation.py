"""The input rules of domain/validation.py, without any web framework."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slotbook.domain import validation as v

BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]


@pytest.mark.parametrize("bad", ["a\x00b", "\x00", "x\ud800"])
def test_text_refuses_what_cannot_be_stored(bad: str) -> None:
    with pytest.raises(ValueError, match="must not contain"):
        v.check_text(bad)


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00")))
def test_any_other_text_passes_unchanged(text: str) -> None:
    assert v.check_text(text) == text


@pytest.mark.parametrize("bad", ["Ann\nLee", "Ann\tLee", "Ann\x1b[31m", "Ann\x7f", "A\u2028B"])
def test_names_are_one_line_without_control_characters(bad: str) -> None:
    with pytest.raises(ValueError, match=r"control characters|one line"):
        v.check_name(bad)


@pytest.mark.parametrize("char", BIDI)
def test_names_refuse_bidi_overrides_and_isolates(char: str) -> None:
    with pytest.raises(ValueError, match="bidirectional"):
        v.check_name(f"Spa{char}moc.live")


@pytest.mark.parametrize("blank", ["", "   ", *ZERO_WIDTH, "\u200b \ufeff\u2060"])
def test_names_are_not_blank_once_zero_width_characters_go(blank: str) -> None:
    with pytest.raises(ValueError, match="blank"):
        v.check_name(blank)


def test_names_are_kept_stripped_and_composed() -> None:
    assert v.check_name("  Cafe\u0301 Siam ") == "Caf\u00e9 Siam"
    assert v.check_name("สปา ริมน้ำ") == "สปา ริมน้ำ"
    assert v.check_name("Zero\u200bwidth inside") == "Zero\u200bwidth inside"


def test_a_bio_may_have_lines_and_tabs_but_no_other_controls() -> None:
    assert v.check_bio("Line one\r\nLine two\n\tindented") == "Line one\r\nLine two\n\tindented"
    assert v.check_bio("") == ""
    with pytest.raises(ValueError, match="control"):
        v.check_bio("bell\x07")
    with pytest.raises(ValueError, match="bidirectional"):
        v.check_bio("text\u202eevil")


def test_passwords_are_taken_exactly_as_typed() -> None:
    assert v.check_password("  spaced out  ") == "  spaced out  "
    for bad in ("short", "x" * 257, "password\x00"):
        with pytest.raises(ValueError, match=r"characters long|NUL"):
            v.check_password(bad)


def test_emails_within_rfc_lengths() -> None:
    assert v.check_email(" Ann@Example.COM ") == "Ann@example.com"
    assert v.check_email("a" * 64 + "@example.com")
    with pytest.raises(ValueError, match="64 octets"):
        v.check_email("a" * 65 + "@example.com")
    with pytest.raises(ValueError, match="64 octets"):
        v.check_email("ü" * 33 + "@example.com")  # 33 characters, 66 octets
    with pytest.raises(ValueError, match="too long"):
        v.check_email("x@" + ("a" * 63 + ".") * 4 + "com")  # domain over 255
    with pytest.raises(ValueError, match="too long"):
        v.check_email("a" * 64 + "@" + ("b" * 62 + ".") * 3 + "com")  # address over 254
    assert v.check_email("a@example.com\n") == "a@example.com"
    for bad in ("not-an-email", "a\x00b@example.com", "a@exa\nmple.com"):
        with pytest.raises(ValueError, match=r"."):
            v.check_email(bad)


def test_currencies_are_iso_4217_codes_in_use() -> None:
    assert v.check_currency("thb") == "THB"
    assert v.check_currency("EUR") == "EUR"
    for bad in ("ABC", "DEM", "XXX", "TH", "THBB"):
        with pytest.raises(ValueError, match="not an ISO 4217 currency code"):
            v.check_currency(bad)
    with pytest.raises(ValueError, match="NUL"):
        v.check_currency("T\x00B")


def test_prices_are_more_than_zero() -> None:
    assert v.check_price_minor(1) == 1
    assert v.check_price_minor(10**12) == 10**12
    for bad in (0, -1, 10**12 + 1):
        with pytest.raises(ValueError, match="cannot be free"):
            v.check_price_minor(bad)


def test_time_zones_are_iana_names() -> None:
    assert v.check_timezone("Asia/Bangkok") == "Asia/Bangkok"
    assert v.check_timezone("UTC") == "UTC"
    # `localtime` would follow the server's own zone; `Factory` names no place
    for bad in ("Mars/Olympus", "", "Asia/Bangkok\u200b", "localtime", "Factory", "posixrules"):
        with pytest.raises(ValueError, match="unknown time zone"):
            v.check_timezone(bad)
    with pytest.raises(ValueError, match="NUL"):
        v.check_timezone("Asia/Bangkok\x00")


def test_instants_are_aware_in_range_and_kept_in_utc() -> None:
    bangkok = timezone(timedelta(hours=7))
    assert v.check_instant(datetime(2030, 1, 1, 15, tzinfo=bangkok)) == datetime(
        2030, 1, 1, 8, tzinfo=UTC
    )
    assert v.check_instant(datetime(2030, 1, 1, 8, tzinfo=UTC)).tzinfo is UTC
    with pytest.raises(ValueError, match="time zone offset"):
        v.check_instant(datetime(2030, 1, 1))
    far = [
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-14))),
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))),
        datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
        datetime(1969, 12, 31, tzinfo=UTC),
    ]
    for moment in far:
        with pytest.raises(ValueError, match="between 1970-01-01T00:00:00Z and 2200"):
            v.check_instant(moment)
