"""Loose goods end to end: a till sells from in-store scale labels and the server checks
the weight and the price per kg it was priced from (docs/pricing.md §9)."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from shared.barcodes import MeasureKind, make_ean13
from shared.models import LineMeasure, ProductIn, ProductOut
from shared.pricing import weighed_price
from sync_server.flags.models import Flag
from sync_server.sync.models import Sale, SaleLine
from tests.e2e.conftest import Till

PRICE_PER_KG = 32_990


def _add_product(till: Till, **fields: object) -> ProductOut:
    """Create a product through the admin API, as the back office does."""
    server = till.server
    response = httpx.post(
        f"{server.base_url}/api/v1/products",
        content=ProductIn.model_validate(fields).model_dump_json(),
        headers={
            "Authorization": f"Bearer {server.admin_token()}",
            "Content-Type": "application/json",
        },
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return ProductOut.model_validate_json(response.content)


def test_a_weighed_and_a_price_label_sale_is_applied_unflagged(selling_till: Till) -> None:
    till, server = selling_till, selling_till.server
    # Each carries its label code with the value zeroed (prefix, item code, 00000).
    apel = _add_product(
        till,
        sku="APEL-FUJI",
        barcode=make_ean13("251234500000"),
        name="Apel Fuji",
        unit="kg",
        price=PRICE_PER_KG,
    )
    kue = _add_product(
        till, sku="KUE-LAPIS", barcode=make_ean13("210004200000"), name="Kue Lapis", price=1
    )
    assert till.worker.run_once().pending == 0  # pulls the two products

    weight_label = make_ean13("251234501234")  # 1,234 kg of apples
    price_label = make_ean13("210004215500")  # a cake the scale priced at Rp15.500
    till.checkout.scan(weight_label)
    till.checkout.scan(price_label)
    sale = till.checkout.checkout_cash(60_000).sale

    weighed = weighed_price(PRICE_PER_KG, 1234)
    assert weighed == 40_710
    assert [(w.product_id, w.name, w.quantity, w.unit_price, w.measure) for w in sale.lines] == [
        (
            apel.id,
            "Apel Fuji 1,234 kg",
            1,
            weighed,
            LineMeasure(kind=MeasureKind.WEIGHT, value=1234, base_price=PRICE_PER_KG),
        ),
        (
            kue.id,
            "Kue Lapis",
            1,
            15_500,
            LineMeasure(kind=MeasureKind.PRICE, value=15_500, base_price=1),
        ),
    ]

    report = till.worker.run_once()

    assert report.online is True and report.pending == 0
    assert server.count(Sale, id=sale.id) == 1
    with server.db.session() as session:
        flags = session.execute(select(Flag.kind, Flag.sale_id)).all()
        lines = session.execute(
            select(SaleLine.product_id, SaleLine.unit_price).where(SaleLine.sale_id == sale.id)
        ).all()
    assert flags == []
    assert sorted(lines) == sorted([(apel.id, weighed), (kue.id, 15_500)])
