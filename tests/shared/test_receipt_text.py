"""The receipt's local time and the QRIS reference printed under its payment."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.receipt_text import (
    ReceiptData,
    ReceiptLine,
    ReceiptPayment,
    ReceiptStore,
    render_receipt,
)


def receipt(*payments: ReceiptPayment, timezone: str = "Asia/Jakarta") -> ReceiptData:
    return ReceiptData(
        store=ReceiptStore(name="Toko Maju", timezone=timezone),
        receipt_number="T01-20250616-0001",
        created_at=datetime(2025, 6, 15, 23, 30, tzinfo=UTC),
        cashier_name="Sari",
        lines=(ReceiptLine("Teh Botol", 1, 8500, total=8500),),
        subtotal=8500,
        discount_total=0,
        tax_total=0,
        tax_inclusive=True,
        total=8500,
        payments=payments or (ReceiptPayment("cash", 8500, tendered=10000, change=1500),),
    )


def test_a_sale_at_2330_utc_prints_0630_the_next_day_in_jakarta() -> None:
    text = render_receipt(receipt())
    assert "16/06/2025 06:30" in text
    assert "15/06/2025" not in text and "23:30" not in text


def test_the_time_follows_the_stores_zone() -> None:
    assert "16/06/2025 08:30" in render_receipt(receipt(timezone="Asia/Jayapura"))


def test_the_qris_reference_is_printed_under_its_payment_line() -> None:
    text = render_receipt(
        receipt(
            ReceiptPayment("qris", 5000, reference="T1234567890ABC"),
            ReceiptPayment("cash", 3500, tendered=5000, change=1500),
        ),
        width=32,
    )
    lines = text.splitlines()
    qris = next(i for i, line in enumerate(lines) if line.startswith("QRIS "))
    assert lines[qris].endswith("Rp 5.000")
    assert lines[qris + 1] == "  Ref.".ljust(32 - len("T1234567890ABC")) + "T1234567890ABC"
    assert lines[qris + 2].startswith("Tunai")
    assert all(len(line) <= 32 for line in lines)


def test_no_reference_line_for_cash() -> None:
    assert "Ref." not in render_receipt(receipt())


def test_static_qris_is_named_not_coded() -> None:
    text = render_receipt(receipt(ReceiptPayment("qris_static", 8500)))
    assert "QRIS statis" in text
    assert "QRIS_STATIC" not in text and "qris_static" not in text
