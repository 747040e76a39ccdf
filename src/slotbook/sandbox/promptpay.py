"""PromptPay QR codes: the EMVCo merchant-presented payload Thai banking apps scan.

The payload is a list of TLV fields (two-digit tag, two-digit length, value) ending in a
CRC-16/CCITT-FALSE of everything before its value. A dynamic QR (point of initiation
`12`) carries the exact amount; the merchant's PromptPay id is a phone number (tag 01, as
0066 + the number without its leading 0), a national or tax id of 13 digits (02), or an
e-wallet id of 15 (03), in the merchant account template 29 under PromptPay's AID.
The PyPI packages that build it (promptpay, promptpay-qr) take the amount as a float and
carry no types, so it is written here and tested against published payloads.
"""

from __future__ import annotations

import binascii
import io

import segno

PROMPTPAY_AID = "A000000677010111"
THB_NUMERIC = "764"
COUNTRY = "TH"
STATIC, DYNAMIC = "11", "12"


def tlv(tag: str, value: str) -> str:
    if len(value) > 99:
        raise ValueError(f"EMVCo field {tag} is longer than 99 characters")
    return f"{tag}{len(value):02d}{value}"


def crc16(data: str) -> str:
    """CRC-16/CCITT-FALSE (poly 0x1021, initial 0xFFFF) as four upper-case hex digits."""
    return f"{binascii.crc_hqx(data.encode('ascii'), 0xFFFF):04X}"


def merchant_account(promptpay_id: str) -> str:
    """Template 29 for a phone number, a national/tax id or an e-wallet id."""
    digits = "".join(c for c in promptpay_id if c.isdigit())
    if len(digits) == 10 and digits.startswith("0"):
        account = tlv("01", "0066" + digits[1:])
    elif len(digits) == 13:
        account = tlv("02", digits)
    elif len(digits) == 15:
        account = tlv("03", digits)
    else:
        raise ValueError(f"not a PromptPay id: {promptpay_id!r}")
    return tlv("29", tlv("00", PROMPTPAY_AID) + account)


def baht(amount_minor: int) -> str:
    """Satang as the payload writes baht: 150050 -> "1500.50"."""
    if amount_minor <= 0:
        raise ValueError("a PromptPay amount is positive")
    return f"{amount_minor // 100}.{amount_minor % 100:02d}"


def payload(promptpay_id: str, amount_minor: int | None = None) -> str:
    """The payload: static without an amount, dynamic with the exact one."""
    fields = [
        tlv("00", "01"),  # payload format indicator
        tlv("01", STATIC if amount_minor is None else DYNAMIC),
        merchant_account(promptpay_id),
        tlv("58", COUNTRY),
        tlv("53", THB_NUMERIC),
    ]
    if amount_minor is not None:
        fields.append(tlv("54", baht(amount_minor)))
    body = "".join(fields) + "6304"  # the CRC field's tag and length are covered by it
    return body + crc16(body)


def qr_png(text: str, *, scale: int = 8) -> bytes:
    """The QR code of `text` as a PNG (error correction M, the usual quiet zone)."""
    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()
