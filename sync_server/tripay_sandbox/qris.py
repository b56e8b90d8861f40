"""EMVCo merchant-presented QR payloads as QRIS uses them, and their CRC.

A payload is a run of TLV fields (two-digit tag, two-digit length, value); the last
field is tag 63, the CRC-16/CCITT-FALSE of everything before it including "6304".
"""

from __future__ import annotations

# The one CRC of a QRIS payload (re-exported: the sandbox's callers check with it too).
from sync_server.stores.qris import crc16_ccitt_false as crc16_ccitt_false

PAYLOAD_FORMAT = "01"
POINT_OF_INITIATION_DYNAMIC = "12"
CURRENCY_IDR = "360"
COUNTRY_ID = "ID"
MCC_GROCERY = "5411"


def tlv(tag: str, value: str) -> str:
    """One EMV field: ``tag`` (2 digits), the value's length (2 digits), the value."""
    if len(tag) != 2 or not tag.isdigit():
        raise ValueError(f"bad EMV tag {tag!r}")
    if len(value) > 99:
        raise ValueError(f"EMV field {tag} is longer than 99 characters")
    return f"{tag}{len(value):02d}{value}"


def with_crc(payload: str) -> str:
    """Append tag 63 with the CRC over ``payload + "6304"``."""
    body = payload + "6304"
    return body + f"{crc16_ccitt_false(body.encode('ascii')):04X}"


def parse_tlv(payload: str) -> list[tuple[str, str]]:
    """Split a payload into its (tag, value) fields; raises ValueError if malformed."""
    fields: list[tuple[str, str]] = []
    i = 0
    while i < len(payload):
        if i + 4 > len(payload):
            raise ValueError("truncated EMV field header")
        tag, length_text = payload[i : i + 2], payload[i + 2 : i + 4]
        if not (tag.isdigit() and length_text.isdigit()):
            raise ValueError(f"bad EMV field header at {i}")
        length = int(length_text)
        value = payload[i + 4 : i + 4 + length]
        if len(value) != length:
            raise ValueError(f"truncated EMV field {tag}")
        fields.append((tag, value))
        i += 4 + length
    return fields


def crc_is_valid(payload: str) -> bool:
    """True when the payload ends in tag 63 holding the right CRC."""
    if len(payload) < 8 or payload[-8:-4] != "6304":
        return False
    expected = crc16_ccitt_false(payload[:-4].encode("ascii"))
    return payload[-4:].upper() == f"{expected:04X}"


def qris_payload(
    *,
    merchant_name: str,
    merchant_city: str,
    merchant_id: str,
    amount: int,
    bill_number: str,
    reference: str,
    postal_code: str = "40111",
) -> str:
    """A dynamic QRIS payload for ``amount`` rupiah, labelled with the transaction."""
    merchant_account = (
        tlv("00", "ID.CO.SHOPEE.WWW") + tlv("01", "936009180000000000") + tlv("02", merchant_id)
    ) + tlv("03", "UMI")
    qris_info = tlv("00", "ID.CO.QRIS.WWW") + tlv("02", "ID1020000000001") + tlv("03", "UMI")
    additional = tlv("01", bill_number[:25]) + tlv("05", reference[:25])
    payload = (
        tlv("00", PAYLOAD_FORMAT)
        + tlv("01", POINT_OF_INITIATION_DYNAMIC)
        + tlv("26", merchant_account)
        + tlv("51", qris_info)
        + tlv("52", MCC_GROCERY)
        + tlv("53", CURRENCY_IDR)
        + tlv("54", str(amount))
        + tlv("58", COUNTRY_ID)
        + tlv("59", merchant_name[:25])
        + tlv("60", merchant_city[:15])
        + tlv("61", postal_code)
        + tlv("62", additional)
    )
    return with_crc(payload)
