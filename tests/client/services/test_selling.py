"""Selling faster, below the window: category search with stock, the product grid's
tabs and tiles, favourites pinned on this till, quantities, whole-cart discounts."""

from __future__ import annotations

import pytest

from pos_client.config import ClientSettings
from pos_client.domain import ApprovalRequired, CartError, Discount
from pos_client.domain.tender import CashTender
from pos_client.services import ProductNotFound, WrongPin
from pos_client.services.catalog import UNCATEGORISED
from pos_client.store import LocalStore
from pos_client.store.catalog import words_match
from pos_client.store.migrations import MIGRATIONS
from shared.models import PullResponse
from tests.client.conftest import (
    CASHIER,
    PINS,
    SUPERVISOR,
    TEH,
    WARUNG,
    FakeClock,
    Till,
    make_till,
    menu_page,
    seed,
)


def warung(cursor: int = 200) -> PullResponse:
    """Drinks and food without barcodes, and a category that has nothing for sale."""
    return menu_page(
        [*WARUNG, (121, "OLD-1", "Barang Lama", 1000, 12)],
        {10: "Minuman Dingin", 11: "Makanan", 12: "Arsip"},
        cursor=cursor,
        retired={121},
        on_hand={101: 30},
    )


@pytest.fixture
def shop(store: LocalStore, settings: ClientSettings, clock: FakeClock) -> Till:
    store.apply_pull_page(warung())
    till = make_till(store, settings, clock)
    till.auth.login(CASHIER, PINS[CASHIER])
    return till


def test_a_category_name_finds_its_products_after_name_matches(shop: Till) -> None:
    assert [p.name for p in shop.catalog.search("minuman")] == [
        "Es Jeruk",
        "Es Teh Manis",
        "Kopi Susu",
    ]
    assert [p.name for p in shop.catalog.search("dingin minum")] == [
        "Es Jeruk",
        "Es Teh Manis",
        "Kopi Susu",
    ]
    # a name match comes first, then the category's other products, each once
    assert [p.name for p in shop.catalog.search("ma")] == [
        "Es Teh Manis",
        "Nasi Goreng",
    ]
    assert [p.name for p in shop.catalog.search("minuman", limit=2)] == ["Es Jeruk", "Es Teh Manis"]
    assert shop.catalog.search("arsip") == [], "inactive products are not for sale"
    assert words_match("MINUMAN din", "Minuman Dingin")
    assert not words_match("inuman", "Minuman Dingin"), "words match from their start"


def test_search_hits_carry_price_stock_on_hand_and_category(shop: Till) -> None:
    hits = {h.product.name: h for h in shop.catalog.search_hits("minuman")}
    assert hits["Es Teh Manis"].on_hand == 30
    assert hits["Es Teh Manis"].product.price == 4000
    assert hits["Es Teh Manis"].category == "Minuman Dingin"
    assert hits["Es Jeruk"].on_hand == 0, "no level pulled: nothing on hand"
    # a sale on this till not yet synced counts at once
    shop.shifts.open(100_000)
    shop.checkout.add_product(101, 4)
    shop.checkout.checkout([CashTender(20_000)])
    (teh,) = [h for h in shop.catalog.search_hits("es teh")]
    assert teh.on_hand == 26 == shop.catalog.stock_on_hand(101)
    (seeded,) = shop.catalog.search_hits("teh botol")
    assert (seeded.on_hand, seeded.category) == (24, None)


def test_grid_tabs_are_categories_with_goods_for_sale_then_the_rest(shop: Till) -> None:
    tabs = shop.catalog.categories()
    assert [(c.id, c.name) for c in tabs] == [
        (11, "Makanan"),
        (10, "Minuman Dingin"),
        (1, "Sembako"),
        (UNCATEGORISED, ""),
    ]
    assert [h.product.name for h in shop.catalog.category_hits(10)] == [
        "Es Jeruk",
        "Es Teh Manis",
        "Kopi Susu",
    ]
    others = [h.product.name for h in shop.catalog.category_hits(UNCATEGORISED)]
    assert others == ["Beras Pandan Wangi 5kg", "Gula Pasir 1kg", "Teh Botol Sosro 450ml"]
    assert shop.catalog.category_hits(12) == []


def test_favourites_are_pinned_per_till_and_survive_a_restart(
    settings: ClientSettings, clock: FakeClock
) -> None:
    store = LocalStore.open(settings)
    seed(store)
    store.apply_pull_page(warung())
    till = make_till(store, settings, clock)
    assert till.catalog.favourites() == []
    till.catalog.pin(103)
    till.catalog.pin(101)
    till.catalog.pin(101)  # twice is once
    assert [h.product.name for h in till.catalog.favourites()] == ["Es Teh Manis", "Kopi Susu"]
    assert all(h.favourite for h in till.catalog.favourites())
    assert till.catalog.is_favourite(103)
    with pytest.raises(ProductNotFound):
        till.catalog.pin(999)
    store.close()
    again = LocalStore.open(settings)
    assert again.schema_version == len(MIGRATIONS)
    till = make_till(again, settings, clock)
    assert [h.product.name for h in till.catalog.favourites()] == ["Es Teh Manis", "Kopi Susu"]
    till.catalog.pin(101, False)
    assert [h.product.name for h in till.catalog.favourites()] == ["Kopi Susu"]
    assert [h.favourite for h in till.catalog.category_hits(10)] == [False, False, True]
    again.close()


def test_a_favourite_no_longer_for_sale_leaves_the_tab(shop: Till) -> None:
    shop.catalog.pin(102)
    page = warung(cursor=300)
    page.products = [
        p.model_copy(update={"active": False, "change_no": 400})
        for p in page.products
        if p.id == 102
    ]
    page.categories, page.stock = [], []
    shop.store.apply_pull_page(page)
    assert shop.catalog.favourites() == []


def test_a_typed_quantity_sets_the_line(shop: Till) -> None:
    line = shop.checkout.scan(TEH)
    assert shop.checkout.change_quantity(line.id, 24).quantity == 24
    assert shop.checkout.totals().subtotal == 120_000
    with pytest.raises(CartError):
        shop.checkout.change_quantity(line.id, 0)
    assert shop.checkout.cart.line(line.id).quantity == 24


def test_whole_cart_discount_needs_a_supervisor_above_the_threshold(shop: Till) -> None:
    shop.checkout.add_product(111, 2)  # 36.000
    shop.checkout.add_product(103)  # 8.000
    shop.checkout.set_order_discount(Discount.rupiah(4_000))  # under 10 %: no approval
    assert shop.checkout.totals().total == 40_000
    with pytest.raises(ApprovalRequired):
        shop.checkout.set_order_discount(Discount.percent(2000))
    with pytest.raises(WrongPin):
        shop.checkout.set_order_discount(
            Discount.percent(2000), approver_id=SUPERVISOR, approver_pin="9999"
        )
    assert shop.checkout.order_discount == Discount.rupiah(4_000), "refusals change nothing"
    shop.checkout.set_order_discount(
        Discount.percent(2000), approver_id=SUPERVISOR, approver_pin=PINS[SUPERVISOR]
    )
    assert shop.checkout.order_discount is not None
    assert shop.checkout.order_discount.approved_by == SUPERVISOR
    assert shop.checkout.totals().total == 35_200
    shop.checkout.set_order_discount(None)
    assert shop.checkout.order_discount is None
