"""Loose goods from in-store labels: weighed prices, line names, and lines never merged."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pos_client.domain import Cart, CartError, Product
from pos_client.domain.measured import (
    LINE_NAME_MAX,
    MAX_KEYED_GRAMS,
    Measure,
    format_keyed_kg,
    format_kg,
    keyed_weight,
    measured_item,
    parse_keyed_quantity,
    sold_by_weight,
)
from pos_client.domain.sale import build_sale_draft
from shared.barcodes import DEFAULT_MEASURE_SCHEME, MeasuredCode, MeasureKind, make_ean13
from shared.models import LineMeasure
from shared.pricing import weighed_price

APEL = Product(id=1, sku="APEL", name="Apel Fuji", price=32_990, unit="kg", tax_rate_bp=1100)
ROTI = Product(id=2, sku="ROTI", name="Roti Tawar", price=15_000)


def weighed(grams: int) -> MeasuredCode:
    code = DEFAULT_MEASURE_SCHEME.parse(make_ean13(f"2512345{grams:05d}"))
    assert code is not None
    return code


@pytest.mark.parametrize(
    ("grams", "text"),
    [(1234, "1,234 kg"), (250, "0,250 kg"), (5, "0,005 kg"), (12000, "12,000 kg")],
)
def test_format_kg_uses_the_indonesian_decimal_comma(grams: int, text: str) -> None:
    assert format_kg(grams) == text


def test_weighed_price_rounds_half_up_once() -> None:
    product, measure = measured_item(APEL, weighed(250), "code")
    # 32.990 × 0,250 = 8.247,5 → 8.248 (half up); the tax rule is the product's.
    assert (product.price, product.name, product.tax_rate_bp) == (8248, "Apel Fuji 0,250 kg", 1100)
    assert measure == Measure(MeasureKind.WEIGHT, 250, 32_990, "code")
    product, _ = measured_item(APEL, weighed(1), "code")
    assert product.price == 33  # 32,99 → 33


def test_a_long_name_gives_way_to_the_weight() -> None:
    long = Product(id=3, sku="X", name="Keju " * 40, price=100_000)
    product, _ = measured_item(long, weighed(1500), "code")
    assert len(product.name) <= LINE_NAME_MAX and product.name.endswith(" 1,500 kg")


def test_label_lines_are_never_merged() -> None:
    cart = Cart()
    first, measure = measured_item(APEL, weighed(1000), "a")
    line = cart.add(first, measure=measure)
    second = cart.add(first, measure=measure)  # the same label scanned twice: two bags
    plain = cart.add(APEL)  # the product rung up by hand is not added to a bag either
    assert len({line.id, second.id, plain.id}) == 3
    assert cart.add(APEL).id == plain.id and plain.quantity == 2
    assert cart.totals().subtotal == 32_990 * 2 + 32_990 * 2


def test_an_inactive_product_is_refused_even_from_a_label() -> None:
    product, measure = measured_item(
        Product(id=9, sku="OFF", name="Off", price=1, active=False), weighed(100), "c"
    )
    with pytest.raises(CartError):
        Cart().add(product, measure=measure)


def test_held_carts_keep_measures_and_old_ones_still_load() -> None:
    cart = Cart()
    product, measure = measured_item(APEL, weighed(1234), "code")
    cart.add(product, measure=measure)
    cart.add(ROTI)
    again = Cart.from_dict(cart.to_dict())
    assert [(ln.product, ln.measure) for ln in again.lines] == [
        (product, measure),
        (ROTI, None),
    ]
    old = cart.to_dict()
    for item in old["lines"]:
        del item["measure"]  # a cart held before labels were read
    assert [ln.measure for ln in Cart.from_dict(old).lines] == [None, None]


def test_label_lines_carry_their_measure_on_the_wire() -> None:
    cart = Cart()
    apples, weight = measured_item(APEL, weighed(1234), "2512345012344")
    cake, price = measured_item(
        Product(id=4, sku="KUE", name="Kue Lapis", price=1),
        MeasuredCode("21", "00042", MeasureKind.PRICE, 15_500, "02100042000008"),
        "2100042155004",
    )
    cart.add(apples, measure=weight)
    cart.add(cake, measure=price)
    cart.add(ROTI)
    draft = build_sale_draft(
        cart,
        cart.totals(),
        [],
        cashier_id=1,
        shift_id=None,
        created_at=datetime(2025, 3, 1, 10, 0, tzinfo=UTC),
    )
    assert [(line.unit_price, line.quantity, line.measure) for line in draft.lines] == [
        (
            weighed_price(32_990, 1234),
            1,
            LineMeasure(kind=MeasureKind.WEIGHT, value=1234, base_price=32_990),
        ),
        (15_500, 1, LineMeasure(kind=MeasureKind.PRICE, value=15_500, base_price=1)),
        (15_000, 1, None),
    ]


# -- a quantity keyed on the keypad --------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "thousandths"),
    [("0,75", 750), ("0.75", 750), ("2", 2000), ("1,5", 1500), (",25", 250), ("3,", 3000)],
)
def test_a_keyed_quantity_reads_the_comma_or_a_point(text: str, thousandths: int) -> None:
    assert parse_keyed_quantity(text) == thousandths


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "quantity_unreadable"),
        (",", "quantity_unreadable"),
        ("1,2,3", "quantity_unreadable"),
        ("1.000,5", "quantity_unreadable"),
        ("-1", "quantity_unreadable"),
        ("٣", "quantity_unreadable"),  # an Arabic-Indic digit is not a keypad digit
        ("0,1234", "quantity_too_precise"),
    ],
)
def test_a_keyed_quantity_that_is_not_a_number_is_refused(text: str, code: str) -> None:
    with pytest.raises(CartError) as refused:
        parse_keyed_quantity(text)
    assert refused.value.code == code


@pytest.mark.parametrize(
    ("grams", "text"), [(750, "0,75 kg"), (2000, "2 kg"), (1234, "1,234 kg"), (5, "0,005 kg")]
)
def test_a_keyed_weight_reads_as_typed(grams: int, text: str) -> None:
    assert format_keyed_kg(grams) == text


def test_a_keyed_weight_is_priced_and_named_like_a_scale_label() -> None:
    priced, measure = keyed_weight(APEL, 750)
    assert (priced.name, priced.price) == ("Apel Fuji 0,75 kg", weighed_price(32_990, 750))
    assert priced.price == 24_743  # 24.742,5 half up, once
    assert measure.to_wire() == LineMeasure(kind=MeasureKind.WEIGHT, value=750, base_price=32_990)
    cart = Cart()
    line = cart.add(APEL)
    cart.weigh(line.id, priced, measure)
    assert (line.quantity, line.net, cart.totals().total) == (1, 24_743, 24_743)


def test_only_goods_sold_by_weight_take_a_keyed_weight() -> None:
    assert sold_by_weight(APEL) and not sold_by_weight(ROTI)
    with pytest.raises(CartError) as refused:
        keyed_weight(ROTI, 500)
    assert refused.value.code == "quantity_not_whole_unit"
    assert refused.value.params == {"name": "Roti Tawar", "unit": "pcs"}
    for grams in (0, MAX_KEYED_GRAMS + 1):
        with pytest.raises(CartError) as out:
            keyed_weight(APEL, grams)
        assert out.value.code == "weight_out_of_range"
