"""Customers at the till, with no window: find by phone (offline cache, then the
server), register offline, attach to the sale, redeem only what was pulled, and the
sale carrying the customer and the points discount the server checks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import UUID

import httpx
import pytest

from pos_client.domain import CartError
from pos_client.services.customers import CustomerError, CustomersService
from pos_client.services.receipts import receipt_for_sale
from pos_client.store.customers import CustomersStore
from pos_client.sync.client import SyncClient
from pos_client.sync.customers_client import CustomersRefresher, refresh_customers
from pos_client.sync.http import Offline
from shared.ids import new_id
from shared.models import EventResult, EventStatus, SaleIn
from shared.models.customers import CustomerChangesOut, CustomerOut, LoyaltySettings
from shared.pricing import LineInput, price_sale
from shared.receipt_text import render_receipt
from tests.client.conftest import TEH, Till

RULE = LoyaltySettings(enabled=True, earn_points=1, earn_per_rupiah=10_000, point_value=100)
AT = datetime(2025, 6, 15, 3, 0, tzinfo=UTC)


def pulled(
    till: Till, phone: str = "+6281234567890", points: int = 10, *, rule: LoyaltySettings = RULE
) -> CustomerOut:
    sari = CustomerOut(id=new_id(), name="Sari", phone=phone, points=points, created_at=AT)
    CustomersStore(till.store).apply_changes(
        CustomerChangesOut(cursor=3, has_more=False, customers=[sari], loyalty=rule)
    )
    return sari


def outbox_sales(till: Till) -> list[dict]:
    rows = till.store.conn.execute("SELECT payload FROM outbox WHERE type = 'sale' ORDER BY seq")
    return [json.loads(r[0]) for r in rows]


def server_total(sale: SaleIn) -> int:
    """What the server's recomputation of the sale's totals gives."""
    lines = [
        LineInput(
            unit_price=line.unit_price,
            quantity=line.quantity,
            discount=line.discount,
            tax_rate_bp=line.tax_rate_bp,
            tax_inclusive=line.tax_inclusive,
        )
        for line in sale.lines
    ]
    return price_sale(lines, sale.order_discount).total


def test_find_by_any_spelling_and_redeem_what_was_pulled(till: Till) -> None:
    sari = pulled(till)
    found = till.customers.find("0812-3456-7890")
    assert found is not None and found.id == sari.id
    till.checkout.scan(TEH)
    till.checkout.scan(TEH)  # Rp 10.000
    view = till.customers.attach(found)
    assert (view.available, view.max_redeem, view.redeemed) == (10, 10, 0)
    view = till.customers.redeem(5)
    assert (view.redeemed, view.discount) == (5, 500)
    assert till.checkout.totals().total == 9_500
    sale = till.checkout.checkout_cash(10_000).sale
    assert sale.customer is not None
    assert (sale.customer.points_redeemed, sale.customer.points_discount) == (5, 500)
    assert sale.order_discount == 500
    assert server_total(sale) == sale.total == 9_500
    # The outbox payload carries the block as the server reads it.
    sent = SaleIn.model_validate(outbox_sales(till)[-1])
    assert sent.customer == sale.customer
    # The till counts its redemption until a pulled balance includes it.
    assert till.customers.available("+6281234567890") == 5
    assert till.checkout.cart.customer is None  # the next sale starts for nobody


def test_redeeming_more_than_pulled_or_than_the_sale_is_refused(till: Till) -> None:
    pulled(till, points=30)
    till.checkout.scan(TEH)  # Rp 5.000: at most 50 points of Rp 100
    till.customers.attach(till.customers.find("081234567890"))  # type: ignore[arg-type]
    with pytest.raises(CustomerError) as over:
        till.customers.redeem(31)
    assert over.value.message_code == "points_over_balance"
    till.checkout.scan(TEH)
    view = till.customers.redeem_all()
    assert (view.redeemed, view.discount) == (30, 3_000)
    sale = till.checkout.checkout_cash(10_000).sale
    assert sale.customer is not None and sale.customer.points_redeemed == 30
    # A second sale at once: nothing left to redeem on this till.
    till.checkout.scan(TEH)
    till.customers.attach(till.customers.find("081234567890"))  # type: ignore[arg-type]
    assert till.customers.view().available == 0  # type: ignore[union-attr]
    with pytest.raises(CustomerError):
        till.customers.redeem(1)


def test_points_never_exceed_what_the_sale_covers(till: Till) -> None:
    pulled(till, points=500)
    till.checkout.scan(TEH)  # Rp 5.000
    till.customers.attach(till.customers.find("081234567890"))  # type: ignore[arg-type]
    with pytest.raises(CustomerError) as over:
        till.customers.redeem(51)
    assert over.value.message_code == "points_over_total"
    view = till.customers.redeem_all()
    assert (view.redeemed, view.discount) == (50, 5_000)
    assert till.checkout.totals().total == 0
    # A line removed after redeeming: the sale takes fewer points, never a mismatch.
    till.checkout.scan(TEH)
    line = till.checkout.cart.lines[0]
    till.checkout.change_quantity(line.id, 1)
    totals = till.checkout.totals()
    assert totals.points_discount == totals.points_redeemed * 100


def test_loyalty_off_refuses_points_but_keeps_the_customer(till: Till) -> None:
    pulled(till, rule=LoyaltySettings(enabled=False))
    till.checkout.scan(TEH)
    view = till.customers.attach(till.customers.find("081234567890"))  # type: ignore[arg-type]
    assert view.max_redeem == 0
    with pytest.raises(CustomerError) as off:
        till.customers.redeem(1)
    assert off.value.message_code == "points_disabled"
    sale = till.checkout.checkout_cash(10_000).sale
    assert sale.customer is not None and sale.customer.points_redeemed == 0


def test_register_offline_and_sell(till: Till) -> None:
    assert till.customers.find("0857 1111 2222") is None
    made = till.customers.register("0857 1111 2222", "  Budi   Santoso ", "Budi@Mail.com")
    assert (made.phone, made.name, made.email, made.synced) == (
        "+6285711112222",
        "Budi Santoso",
        "budi@mail.com",
        False,
    )
    with pytest.raises(CustomerError) as taken:
        till.customers.register("+62 857-1111-2222", "Lain")
    assert taken.value.message_code == "customer_phone_taken"
    till.checkout.scan(TEH)
    till.customers.attach(made)
    sale = till.checkout.checkout_cash(5_000).sale
    assert sale.customer is not None
    assert (sale.customer.id, sale.customer.name) == (made.id, "Budi Santoso")


@pytest.mark.parametrize(
    ("phone", "name", "email", "code"),
    [
        ("12345", "Budi", None, "customer_phone_invalid"),
        ("0857 1111 2222", "   ", None, "customer_name_required"),
        ("0857 1111 2222", "Budi", "bukan", "customer_email_invalid"),
    ],
)
def test_bad_registrations(till: Till, phone: str, name: str, email: str | None, code: str) -> None:
    with pytest.raises(CustomerError) as bad:
        till.customers.register(phone, name, email)
    assert bad.value.message_code == code


def test_online_lookup_is_kept_and_offline_is_none(till: Till) -> None:
    remote = CustomerOut(id=new_id(), name="Ani", phone="+6281122223333", points=12, created_at=AT)
    asked: list[str] = []

    def lookup(phone: str) -> CustomerOut | None:
        asked.append(phone)
        return remote

    service = CustomersService(till.store, till.checkout, lookup=lookup)
    found = service.find("0811 2222 3333")
    assert found is not None and found.points == 12 and asked == ["+6281122223333"]
    assert service.find("0811-2222-3333") is not None and len(asked) == 1  # cached now

    def offline(phone: str) -> CustomerOut | None:
        raise Offline("no network")

    assert (
        CustomersService(till.store, till.checkout, lookup=offline).find("0899 0000 1111") is None
    )


def test_a_held_cart_keeps_its_customer_and_points(till: Till) -> None:
    pulled(till)
    till.checkout.scan(TEH)
    till.customers.attach(till.customers.find("081234567890"))  # type: ignore[arg-type]
    till.customers.redeem(3)
    held = till.checkout.hold()
    till.checkout.resume(held.id)
    view = till.customers.view()
    assert view is not None and view.customer.name == "Sari" and view.redeemed == 3


def test_no_customer_means_no_block_and_no_points(till: Till) -> None:
    till.checkout.scan(TEH)
    with pytest.raises(CartError):
        till.customers.redeem(1)
    sale = till.checkout.checkout_cash(5_000).sale
    assert sale.customer is None
    assert "customer" not in outbox_sales(till)[-1] or outbox_sales(till)[-1]["customer"] is None


def _server(pages: list[dict], asked: list[str]) -> httpx.MockTransport:
    """Answers customer-change pages in turn (and 404 once they run out)."""

    def handle(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url.params.get("cursor")))
        if not pages:
            return httpx.Response(
                404, json={"error": {"code": "not_found", "message": "Not Found", "details": None}}
            )
        return httpx.Response(200, json=pages.pop(0))

    return httpx.MockTransport(handle)


def _page(cursor: int, has_more: bool, *people: tuple[str, int]) -> dict:
    return CustomerChangesOut(
        cursor=cursor,
        has_more=has_more,
        customers=[
            CustomerOut(
                id=new_id(), name=f"P{phone[-4:]}", phone=phone, points=points, created_at=AT
            )
            for phone, points in people
        ],
        loyalty=RULE,
    ).model_dump(mode="json")


def test_the_worker_step_pages_through_changes_and_keeps_the_cursor(till: Till) -> None:
    asked: list[str] = []
    pages = [
        _page(7, True, ("+6281100000001", 3)),
        _page(9, False, ("+6281100000002", 4)),
    ]
    clock = [0.0]
    refresher = CustomersRefresher(lambda: clock[0])
    client = SyncClient(
        httpx.Client(transport=_server(pages, asked)), base_url="http://server", token="t"
    )
    assert refresher(till.store, client) == 2
    assert asked == ["0", "7"]
    store = CustomersStore(till.store)
    assert store.cursor() == 9 and store.loyalty() == RULE
    assert store.available("+6281100000002") == 4
    # An older server without the route: logged, the round goes on, asked again later.
    assert refresher(till.store, client) is None
    assert asked == ["0", "7", "9"]
    assert refresher(till.store, client) is None
    assert asked == ["0", "7", "9"]  # not every round
    clock[0] += 301
    pages.append(_page(9, False))
    assert refresher(till.store, client) == 0
    assert asked == ["0", "7", "9", "9"]


def test_a_redemption_stops_counting_once_acknowledged_and_pulled(till: Till) -> None:
    pulled(till, points=10)
    till.checkout.scan(TEH)
    till.customers.attach(till.customers.find("081234567890"))  # type: ignore[arg-type]
    till.customers.redeem(4)
    sale = till.checkout.checkout_cash(10_000).sale
    store = CustomersStore(till.store)
    assert store.available("+6281234567890") == 6
    cid = till.customers.find("081234567890").id  # type: ignore[union-attr]
    asked: list[str] = []
    pages = [
        CustomerChangesOut(
            cursor=4,
            has_more=False,
            customers=[
                CustomerOut(id=cid, name="Sari", phone="+6281234567890", points=10, created_at=AT)
            ],
            loyalty=RULE,
        ).model_dump(mode="json")
    ]
    client = SyncClient(
        httpx.Client(transport=_server(pages, asked)), base_url="http://server", token="t"
    )
    # Still in the outbox: the pulled 10 may not include it, so it still counts.
    refresh_customers(till.store, client)
    assert store.available("+6281234567890") == 6
    # Acknowledged (the outbox row gone), then a pull brings the balance with it.
    row = till.store._one("SELECT id FROM outbox WHERE type = 'sale'")
    assert row is not None
    till.store.acknowledge([EventResult(id=UUID(row["id"]), status=EventStatus.APPLIED)])
    pages.append(
        CustomerChangesOut(
            cursor=5,
            has_more=False,
            customers=[
                CustomerOut(id=cid, name="Sari", phone="+6281234567890", points=6, created_at=AT)
            ],
            loyalty=RULE,
        ).model_dump(mode="json")
    )
    refresh_customers(till.store, client)
    assert store.redeemed_here("+6281234567890") == 0
    assert store.available("+6281234567890") == 6
    assert sale.customer is not None


def test_a_sale_read_back_keeps_its_customer_for_reprints(till: Till) -> None:
    found = till.customers.find(pulled(till).phone)
    assert found is not None
    till.checkout.scan(TEH)
    till.checkout.scan(TEH)
    till.customers.attach(found)
    till.customers.redeem(5)
    sale = till.checkout.checkout_cash(10_000).sale
    stored = till.store.sale(sale.id)
    assert stored == sale and stored is not None and stored.customer == sale.customer
    reprint = render_receipt(receipt_for_sale(till.store, stored), width=32)
    assert "Pelanggan: Sari" in reprint and "Tukar poin (5)" in reprint
    # A sale without a customer reads back without one.
    till.checkout.scan(TEH)
    plain = till.checkout.checkout_cash(5_000).sale
    assert till.store.sale(plain.id) == plain and plain.customer is None
