"""The sale's customer and points on the printed receipt (and the WhatsApp text): the
name under the cashier, the points redeemed as a discount line of their own (the rest of
the discounts as "Total diskon"), and the points earned and the balance after when the
till knows them; a sale with no customer prints none of it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from shared.receipt_text import (
    ReceiptCustomer,
    ReceiptData,
    ReceiptLine,
    ReceiptPayment,
    ReceiptStore,
    render_receipt,
    share_text,
)

SARI = ReceiptCustomer(
    name="Ibu Sari Wulandari",
    points_redeemed=30,
    points_discount=3_000,
    points_earned=1,
    points_balance=1_251,
)


def receipt(customer: ReceiptCustomer | None = None) -> ReceiptData:
    """Two lines: Rp 20.000 less a Rp 1.000 line discount, Rp 3.000 of points off the
    order when the customer redeems them."""
    points = customer.points_discount if customer is not None else 0
    return ReceiptData(
        store=ReceiptStore(name="Toko Maju"),
        receipt_number="T01-20250615-0007",
        created_at=datetime(2025, 6, 15, 3, 0, tzinfo=UTC),
        cashier_name="Ibu Cashier",
        lines=(
            ReceiptLine("Teh Botol Sosro 450ml", 2, 5_000, total=10_000),
            ReceiptLine("Indomie Goreng 85g", 4, 2_500, discount=1_000, total=9_000),
        ),
        subtotal=20_000,
        discount_total=1_000 + points,
        tax_total=0,
        tax_inclusive=True,
        total=19_000 - points,
        payments=(ReceiptPayment("cash", 19_000 - points, tendered=20_000, change=1_000 + points),),
        customer=customer,
    )


def pair(left: str, right: str, width: int) -> str:
    return left + " " * (width - len(left) - len(right)) + right


@pytest.mark.parametrize("width", [32, 48])
def test_no_customer_prints_no_customer_lines(width: int) -> None:
    text = render_receipt(receipt(), width=width)
    lines = text.splitlines()
    assert "Pelanggan" not in text and "poin" not in text.lower()
    assert pair("Total diskon", "-Rp 1.000", width) in lines
    assert pair("TOTAL", "Rp 19.000", width) in lines
    assert all(len(line) <= width for line in lines)


@pytest.mark.parametrize("width", [32, 48])
def test_customer_name_points_redeemed_earned_and_balance(width: int) -> None:
    lines = render_receipt(receipt(SARI), width=width).splitlines()
    assert all(len(line) <= width for line in lines)
    kasir = next(i for i, line in enumerate(lines) if line.startswith("Kasir"))
    assert lines[kasir + 1] == "Pelanggan: Ibu Sari Wulandari"
    assert lines[kasir + 2] == "-" * width
    # The points' rupiah on a line of their own, the other discounts as before.
    subtotal = lines.index(pair("Subtotal", "Rp 20.000", width))
    assert lines[subtotal + 1 : subtotal + 4] == [
        pair("Total diskon", "-Rp 1.000", width),
        pair("Tukar poin (30)", "-Rp 3.000", width),
        pair("TOTAL", "Rp 16.000", width),
    ]
    # Under the payments: what the sale earns and the balance after it.
    change = lines.index(pair("Kembali", "Rp 4.000", width))
    assert lines[change + 1 : change + 4] == [
        "-" * width,
        pair("Poin didapat", "+1", width),
        pair("Saldo poin", "1.251", width),
    ]


def test_what_the_till_does_not_know_is_not_printed() -> None:
    # A reprint: no balance; loyalty unknown: nothing earned either.
    reprint = replace(SARI, points_balance=None)
    text = render_receipt(receipt(reprint), width=32)
    assert "Poin didapat" in text and "Saldo poin" not in text
    bare = ReceiptCustomer(name="Budi")
    lines = render_receipt(receipt(bare), width=32).splitlines()
    assert "Pelanggan: Budi" in lines
    assert not any("poin" in line.lower() for line in lines)
    assert lines[-1] == pair("Kembali", "Rp 1.000", 32)  # no empty points block


def test_only_points_discount_prints_no_total_discount_line() -> None:
    only_points = replace(receipt(SARI), discount_total=3_000, lines=receipt().lines[:1])
    lines = render_receipt(only_points, width=32).splitlines()
    assert not any(line.startswith("Total diskon") for line in lines)
    assert pair("Tukar poin (30)", "-Rp 3.000", 32) in lines


def test_a_long_name_wraps_within_the_paper() -> None:
    long = ReceiptCustomer(name="Raden Ajeng Kartini Sosroningrat Wulandari Putri")
    lines = render_receipt(receipt(long), width=32).splitlines()
    assert all(len(line) <= 32 for line in lines)
    at = next(i for i, line in enumerate(lines) if line.startswith("Pelanggan: "))
    assert " ".join(lines[at : at + 2]) == "Pelanggan: " + long.name


def test_the_whatsapp_text_carries_the_customer_and_points() -> None:
    text = share_text(replace(receipt(SARI), link="https://struk.example/r/1/abc/sig"))
    lines = text.splitlines()
    assert "Pelanggan: Ibu Sari Wulandari" in lines
    assert pair("Tukar poin (30)", "-Rp 3.000", 32) in lines
    assert pair("Poin didapat", "+1", 32) in lines
    assert pair("Saldo poin", "1.251", 32) in lines
    assert text.endswith("https://struk.example/r/1/abc/sig")
    assert "Pelanggan" not in share_text(receipt())
