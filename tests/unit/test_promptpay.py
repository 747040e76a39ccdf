"""PromptPay payloads: the published examples, the CRC, and a QR that scans back."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image

from slotbook.sandbox import promptpay

# from the widely used promptpay-qr package's own tests (dtinth/promptpay-qr)
PUBLISHED = [
    ("0801234567", None, "00020101021129370016A00000067701011101130066801234567"
                         "5802TH530376463046197"),
    ("1111111111111", None, "00020101021129370016A00000067701011102131111111111111"
                            "5802TH530376463047B5A"),
    ("0123456789012", None, "00020101021129370016A00000067701011102130123456789012"
                            "5802TH530376463040CBD"),
    ("0000000000", 422, "00020101021229370016A00000067701011101130066000000000"
                        "5802TH530376454044.226304E469"),
]  # fmt: skip


def fields(payload: str) -> dict[str, str]:
    """The top-level TLV fields of an EMVCo payload, by tag."""
    found, at = {}, 0
    while at < len(payload):
        tag, length = payload[at : at + 2], int(payload[at + 2 : at + 4])
        found[tag] = payload[at + 4 : at + 4 + length]
        at += 4 + length
    assert at == len(payload)
    return found


def scanned(png: bytes) -> str:
    codes = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(codes) == 1
    assert codes[0].format == zxingcpp.BarcodeFormat.QRCode
    return str(codes[0].text)


@pytest.mark.parametrize(("promptpay_id", "amount_minor", "expected"), PUBLISHED)
def test_payload_matches_published_examples(
    promptpay_id: str, amount_minor: int | None, expected: str
) -> None:
    assert promptpay.payload(promptpay_id, amount_minor) == expected


def test_crc_is_ccitt_false() -> None:
    assert promptpay.crc16("123456789") == "29B1"  # the catalogued check value


@pytest.mark.parametrize(
    ("amount_minor", "baht"), [(150_050, "1500.50"), (5, "0.05"), (100, "1.00"), (99, "0.99")]
)
def test_amount_is_exact_baht(amount_minor: int, baht: str) -> None:
    assert promptpay.baht(amount_minor) == baht


def test_an_e_wallet_id_goes_in_tag_03() -> None:
    account = fields(fields(promptpay.payload("123456789012345", 100))["29"])
    assert account == {"00": promptpay.PROMPTPAY_AID, "03": "123456789012345"}


@pytest.mark.parametrize("bad", ["12345", "1234567890", "08123456789", ""])
def test_not_a_promptpay_id(bad: str) -> None:
    with pytest.raises(ValueError, match="PromptPay id"):
        promptpay.payload(bad, 100)


def test_the_qr_scans_to_a_valid_dynamic_payload_with_the_exact_amount() -> None:
    text = scanned(promptpay.qr_png(promptpay.payload("0812345678", 150_050)))
    top = fields(text)
    assert top["00"] == "01"
    assert top["01"] == "12"  # dynamic: one payment, this amount
    assert fields(top["29"]) == {"00": "A000000677010111", "01": "0066812345678"}
    assert top["53"] == "764"
    assert top["54"] == "1500.50"
    assert top["58"] == "TH"
    assert text.endswith("6304" + top["63"])
    assert top["63"] == promptpay.crc16(text[:-4])
