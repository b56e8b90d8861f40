"""The receipt the till builds from a stored sale with a customer
(:func:`pos_client.services.receipts.receipt_for_sale`): the customer's name and the
points redeemed come from ``SaleIn.customer``; the points earned from the rule the till
pulled; the balance after only on the receipt made at checkout while the sale is still
unsynced. The printer's bytes and the WhatsApp link carry them."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from pos_client.printing.escpos import escpos_bytes
from pos_client.services.receipts import receipt_for_sale, whatsapp_link
from pos_client.store.customers import CustomersStore
from shared.ids import new_id
from shared.models import EventResult, EventStatus, EventType, SaleIn
from shared.models.customers import CustomerChangesOut, CustomerOut, LoyaltySettings
from shared.receipt_text import ReceiptCustomer, render_receipt
from tests.client.conftest import TEH, Till, ring

RULE = LoyaltySettings(enabled=True, earn_points=1, earn_per_rupiah=10_000, point_value=100)
AT = datetime(2025, 6, 15, 3, 0, tzinfo=UTC)
PHONE = "+6281234567890"


def pull_sari(till: Till, points: int = 30, rule: LoyaltySettings = RULE) -> None:
    sari = CustomerOut(id=new_id(), name="Ibu Sari", phone=PHONE, points=points, created_at=AT)
    CustomersStore(till.store).apply_changes(
        CustomerChangesOut(cursor=3, has_more=False, customers=[sari], loyalty=rule)
    )


def sale_for_sari(till: Till, redeem: int) -> SaleIn:
    for _ in range(5):
        till.checkout.scan(TEH)  # Rp 25.000
    found = till.customers.find("0812 3456 7890")
    assert found is not None
    till.customers.attach(found)
    till.customers.redeem(redeem)
    return till.checkout.checkout_cash(50_000).sale


def test_a_sale_with_no_customer_has_none_on_its_receipt(till: Till) -> None:
    pull_sari(till)
    sale = ring(till, TEH)
    receipt = receipt_for_sale(till.store, sale, just_made=True)
    assert receipt.customer is None
    assert "Pelanggan" not in render_receipt(receipt, width=48)


def test_the_receipt_at_checkout_has_points_earned_and_the_balance_after(till: Till) -> None:
    pull_sari(till, points=30)
    sale = sale_for_sari(till, redeem=30)  # Rp 25.000 - 3.000 = 22.000: earns 2
    assert sale.total == 22_000
    receipt = receipt_for_sale(till.store, sale, just_made=True)
    # 30 pulled - 30 redeemed here + 2 earned by this sale
    assert receipt.customer == ReceiptCustomer(
        name="Ibu Sari",
        points_redeemed=30,
        points_discount=3_000,
        points_earned=2,
        points_balance=2,
    )
    for width in (32, 48):
        text = render_receipt(receipt, width=width)
        assert "Pelanggan: Ibu Sari" in text
        assert "Tukar poin (30)" in text and "Total diskon" not in text
        assert "Poin didapat" in text and "Saldo poin" in text
    printed = escpos_bytes(receipt, width=32)
    assert b"Pelanggan: Ibu Sari" in printed and b"Tukar poin (30)" in printed
    text = parse_qs(urlsplit(whatsapp_link(receipt, "081234567890")).query)["text"][0]
    assert "Pelanggan: Ibu Sari" in text and "Saldo poin" in text


def test_a_reprint_or_a_synced_sale_prints_no_balance(till: Till) -> None:
    pull_sari(till, points=30)
    sale = sale_for_sari(till, redeem=10)
    again = receipt_for_sale(till.store, sale)
    assert again.customer is not None
    assert (again.customer.points_earned, again.customer.points_balance) == (2, None)
    # The server took the sale: a pull may already count it, so no balance.
    [event] = [e for e in till.store.pending_events(10) if e.type == EventType.SALE]
    till.store.acknowledge([EventResult(id=event.id, status=EventStatus.APPLIED)])
    after = receipt_for_sale(till.store, sale, just_made=True)
    assert after.customer is not None and after.customer.points_balance is None


def test_loyalty_off_prints_the_name_only(till: Till) -> None:
    pull_sari(till, rule=LoyaltySettings(enabled=False))
    sale = sale_for_sari(till, redeem=0)
    receipt = receipt_for_sale(till.store, sale, just_made=True)
    assert receipt.customer == ReceiptCustomer(name="Ibu Sari")
    text = render_receipt(receipt, width=32)
    assert "Pelanggan: Ibu Sari" in text and "oin" not in text
