"""The rules for what people type: text, names, emails, passwords, currencies, zones, times.

Plain functions shared by the HTTP schemas and the command line. Each returns the value
as slotbook keeps it, or raises ValueError with a message a person can act on.

- Any text: no NUL and no lone surrogate (neither can be stored as UTF-8 text).
- A name: no control character, no bidi override or isolate (U+202A-U+202E,
  U+2066-U+2069), no line or paragraph separator, and not blank once zero-width
  characters (U+200B-U+200D, U+2060, U+FEFF) are removed; kept stripped and in NFC.
- A bio: like a name, except that it may hold newlines and tabs, and may be empty.
- A password: kept exactly as typed; 8 to 256 characters.
- An email: RFC 5321 lengths in octets (local part 64, domain 255, address 254).
- A currency: an ISO 4217 code still legal tender somewhere (CLDR, through Babel).
- A price: whole minor units, more than zero (a customer pays 100% up front, and no
  gateway takes a payment of nothing), at most PRICE_MAX_MINOR.
- A time of day: HH:MM, 00:00 to 24:00.
- A time: RFC 3339 (never a bare number), timezone-aware, kept in UTC, between EARLIEST
  and LATEST.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from functools import cache
from zoneinfo import available_timezones

import babel.core
from babel.numbers import get_territory_currencies
from email_validator import EmailNotValidError, validate_email

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 256
NAME_MAX_LENGTH = 200
BIO_MAX_LENGTH = 2000
EMAIL_MAX_OCTETS = 254
EMAIL_LOCAL_MAX_OCTETS = 64
PRICE_MIN_MINOR = 1
PRICE_MAX_MINOR = 10**12
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
_ZERO_WIDTH = re.compile("[\u200b-\u200d\u2060\ufeff]")
_SEPARATORS = re.compile("[\u2028\u2029]")
_BIO_WHITESPACE = frozenset("\n\r\t")
_WALL_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d|24:00")
_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


def check_text(value: str) -> str:
    """Any text slotbook stores or searches for: no NUL, no lone surrogate."""
    found = _UNSTORABLE.search(value)
    if found is not None:
        what = "a NUL character" if found.group() == "\x00" else "a lone surrogate"
        raise ValueError(f"must not contain {what}")
    return value


def _refuse_controls(value: str, *, allowed: frozenset[str] = frozenset()) -> None:
    if any(unicodedata.category(c) == "Cc" and c not in allowed for c in value):
        raise ValueError("must not contain control characters")
    if _BIDI_CONTROLS.search(value):
        raise ValueError("must not contain bidirectional override or isolate characters")


def check_name(value: str) -> str:
    """A person's, provider's or service's name, as shown to others."""
    value = unicodedata.normalize("NFC", check_text(value).strip())
    _refuse_controls(value)
    if _SEPARATORS.search(value):
        raise ValueError("must be one line")
    if not _ZERO_WIDTH.sub("", value).strip():
        raise ValueError("must not be blank")
    if len(value) > NAME_MAX_LENGTH:
        raise ValueError(f"must be at most {NAME_MAX_LENGTH} characters")
    return value


def check_bio(value: str) -> str:
    """A provider's free text: lines and tabs allowed, other control characters not."""
    value = unicodedata.normalize("NFC", check_text(value).strip())
    _refuse_controls(value, allowed=_BIO_WHITESPACE)
    if len(value) > BIO_MAX_LENGTH:
        raise ValueError(f"must be at most {BIO_MAX_LENGTH} characters")
    return value


def check_password(value: str) -> str:
    """A new password, taken exactly as typed (spaces included)."""
    check_text(value)
    if not PASSWORD_MIN_LENGTH <= len(value) <= PASSWORD_MAX_LENGTH:
        raise ValueError(f"must be {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters long")
    return value


def check_email(value: str) -> str:
    """A deliverable-looking address within RFC 5321's lengths; its normalised form."""
    try:
        parsed = validate_email(check_text(value).strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    # email-validator counts the local part in characters; SMTP's limit is in octets
    if len(parsed.local_part.encode()) > EMAIL_LOCAL_MAX_OCTETS:
        raise ValueError(
            f"the part before the @-sign must be at most {EMAIL_LOCAL_MAX_OCTETS} octets"
        )
    return parsed.normalized


def check_currency(value: str) -> str:
    """An ISO 4217 code in use today, any case in, upper case out."""
    code = check_text(value).strip().upper()
    if code not in currencies():
        raise ValueError(f"{value!r} is not an ISO 4217 currency code in use, such as THB")
    return code


def check_price_minor(value: int) -> int:
    """A service's price in minor units: something to pay, within PRICE_MAX_MINOR."""
    if not PRICE_MIN_MINOR <= value <= PRICE_MAX_MINOR:
        raise ValueError(
            f"must be between {PRICE_MIN_MINOR} and {PRICE_MAX_MINOR} minor units: "
            "customers pay the whole price up front, so a service cannot be free"
        )
    return value


def check_timezone(value: str) -> str:
    """An IANA time zone name, such as Asia/Bangkok."""
    if check_text(value).strip() not in timezones():
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Asia/Bangkok")
    return value.strip()


def check_wall_time(value: str) -> str:
    """A wall-clock time of day, HH:MM on the 24-hour clock; 24:00 is the day's end."""
    if not _WALL_TIME.fullmatch(value):
        raise ValueError("must be a time of day as HH:MM, from 00:00 to 24:00")
    return value


def wall_minutes(value: str) -> int:
    """Minutes since midnight of a checked HH:MM."""
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def check_rfc3339(value: object) -> object:
    """A time as sent, before it is parsed: pydantic would read a bare number as seconds
    since 1970; slotbook takes RFC 3339 text only."""
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("must be an RFC 3339 date-time, such as 2030-01-01T09:00:00Z")
    return value


def check_instant(value: datetime) -> datetime:
    """A timezone-aware time between EARLIEST and LATEST, in UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must include a time zone offset, such as Z or +07:00")
    allowed = f"must be between {iso(EARLIEST)} and {iso(LATEST)}"
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise ValueError(allowed) from None
    if not EARLIEST <= utc <= LATEST:
        raise ValueError(allowed)
    return utc


def iso(moment: datetime) -> str:
    """RFC 3339 in UTC with a Z, as slotbook writes times."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@cache
def currencies() -> frozenset[str]:
    """Codes that are legal tender in some territory with no end date announced."""
    territories = babel.core.get_global("territory_currencies")
    return frozenset(
        code
        for territory in territories
        for code in get_territory_currencies(territory, start_date=datetime.max.date())
    )


# Files the system's zone database holds beside the zones: `localtime` is whatever zone the
# server runs in, `Factory` a placeholder meaning "no zone set". Neither names a place.
_NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})


@cache
def timezones() -> frozenset[str]:
    """The IANA zones a provider may keep its hours in: the system's, less those that
    name no place."""
    return frozenset(available_timezones()) - _NOT_PLACES
