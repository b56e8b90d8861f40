"""Manager catalog API: categories, tax rates, products, vouchers and stores (both DBs)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from shared.barcodes import make_ean13
from sync_server.catalog import service
from sync_server.catalog.models import Product
from sync_server.core.database import Database
from tests.server.conftest import World

API = "/api/v1"


def ean(n: int) -> str:
    """A valid Indonesian EAN-13 numbered ``n``."""
    return make_ean13(f"899{n:09d}")


def make_refs(client: TestClient, world: World) -> tuple[int, int]:
    """A category and the PPN tax rate; their ids."""
    h = world.admin_headers()
    cat = client.post(f"{API}/categories", json={"name": "Mi Instan"}, headers=h)
    assert cat.status_code == 201, cat.text
    tax = client.post(
        f"{API}/tax-rates",
        json={"code": "ppn", "name": "PPN 11%", "rate_bp": 1100, "inclusive": True},
        headers=h,
    )
    assert tax.status_code == 201, tax.text
    assert tax.json()["code"] == "PPN"
    return cat.json()["id"], tax.json()["id"]


def product_body(n: int = 1, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sku": f"MI-{n:04d}",
        "barcode": ean(n),
        "name": f"Indomie Goreng 85g #{n}",
        "unit": "pcs",
        "price": 3500,
        "low_stock_threshold": 24,
    }
    body.update(over)
    return body


def error_code(resp: Any) -> str:
    return str(resp.json()["error"]["code"])


def test_product_create_edit_deactivate_bumps_change_no(client: TestClient, world: World) -> None:
    h = world.admin_headers()
    cat_id, tax_id = make_refs(client, world)
    created = client.post(
        f"{API}/products",
        json=product_body(category_id=cat_id, tax_rate_id=tax_id),
        headers=h,
    )
    assert created.status_code == 201, created.text
    product = created.json()
    assert product["category_id"] == cat_id and product["tax_rate_id"] == tax_id
    first = product["change_no"]
    assert first > 0

    edited = client.patch(f"{API}/products/{product['id']}", json={"price": 3700}, headers=h)
    assert edited.status_code == 200, edited.text
    assert edited.json()["price"] == 3700
    assert edited.json()["change_no"] > first

    # Nothing really changed: no new number, so tills don't download it again.
    same = client.patch(f"{API}/products/{product['id']}", json={"price": 3700}, headers=h)
    assert same.json()["change_no"] == edited.json()["change_no"]

    gone = client.post(f"{API}/products/{product['id']}/deactivate", headers=h)
    assert gone.status_code == 200
    assert gone.json()["active"] is False
    assert gone.json()["change_no"] > edited.json()["change_no"]

    # Never deleted: still readable, and the stored row matches the answers.
    fetched = client.get(f"{API}/products/{product['id']}", headers=h).json()
    assert fetched["active"] is False and fetched["price"] == 3700
    assert fetched["change_no"] == gone.json()["change_no"]


def test_clearing_barcode_and_category_with_null(client: TestClient, world: World) -> None:
    h = world.admin_headers()
    cat_id, _ = make_refs(client, world)
    pid = client.post(f"{API}/products", json=product_body(category_id=cat_id), headers=h).json()[
        "id"
    ]
    resp = client.patch(
        f"{API}/products/{pid}", json={"barcode": None, "category_id": None}, headers=h
    )
    assert resp.status_code == 200
    assert resp.json()["barcode"] is None and resp.json()["category_id"] is None
    refused = client.patch(f"{API}/products/{pid}", json={"price": None}, headers=h)
    assert refused.status_code == 422


@pytest.mark.parametrize(
    ("barcode", "expected"),
    [("8990000010013", "EAN-13 check digit"), ("036000291453", "UPC-A check digit")],
)
def test_bad_check_digit_is_422(
    client: TestClient, world: World, db: Database, barcode: str, expected: str
) -> None:
    resp = client.post(
        f"{API}/products", json=product_body(barcode=barcode), headers=world.admin_headers()
    )
    assert resp.status_code == 422
    assert error_code(resp) == "bad_barcode"
    assert expected in resp.json()["error"]["message"]
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Product)) == 0


def test_bad_barcode_on_patch_is_422(client: TestClient, world: World) -> None:
    h = world.admin_headers()
    pid = client.post(f"{API}/products", json=product_body(), headers=h).json()["id"]
    resp = client.patch(f"{API}/products/{pid}", json={"barcode": "96385075"}, headers=h)
    assert resp.status_code == 422
    assert "EAN-8 check digit" in resp.json()["error"]["message"]


def test_duplicate_sku_and_barcode_are_409(client: TestClient, world: World) -> None:
    h = world.admin_headers()
    assert client.post(f"{API}/products", json=product_body(1), headers=h).status_code == 201
    second = client.post(f"{API}/products", json=product_body(2), headers=h).json()

    dup_sku = client.post(f"{API}/products", json=product_body(3, sku="MI-0001"), headers=h)
    assert dup_sku.status_code == 409 and error_code(dup_sku) == "sku_taken"
    dup_code = client.post(f"{API}/products", json=product_body(3, barcode=ean(1)), headers=h)
    assert dup_code.status_code == 409 and error_code(dup_code) == "barcode_taken"
    patch_dup = client.patch(f"{API}/products/{second['id']}", json={"sku": "MI-0001"}, headers=h)
    assert patch_dup.status_code == 409 and error_code(patch_dup) == "sku_taken"


def test_unique_constraint_backs_up_the_service_check(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two managers racing past the check: the constraint still answers 409."""
    h = world.admin_headers()
    assert client.post(f"{API}/products", json=product_body(1), headers=h).status_code == 201
    monkeypatch.setattr(service, "_ensure_unique", lambda *a, **k: None)
    dup_code = client.post(f"{API}/products", json=product_body(2, barcode=ean(1)), headers=h)
    assert dup_code.status_code == 409 and error_code(dup_code) == "barcode_taken"
    dup_sku = client.post(f"{API}/products", json=product_body(3, sku="MI-0001"), headers=h)
    assert dup_sku.status_code == 409 and error_code(dup_sku) == "sku_taken"


def test_unknown_category_or_tax_is_422(client: TestClient, world: World) -> None:
    h = world.admin_headers()
    resp = client.post(f"{API}/products", json=product_body(category_id=999), headers=h)
    assert resp.status_code == 422 and error_code(resp) == "unknown_category"
    resp = client.post(f"{API}/products", json=product_body(tax_rate_id=999), headers=h)
    assert resp.status_code == 422 and error_code(resp) == "unknown_tax_rate"


def test_float_price_is_refused(client: TestClient, world: World) -> None:
    resp = client.post(
        f"{API}/products", json=product_body(price=3500.5), headers=world.admin_headers()
    )
    assert resp.status_code == 422


WRITES = [
    ("post", "/categories", {"name": "Rokok"}),
    ("post", "/tax-rates", {"code": "X", "name": "X", "rate_bp": 0}),
    ("post", "/products", product_body()),
    ("patch", "/products/1", {"price": 1}),
    ("post", "/products/1/deactivate", None),
    ("post", "/vouchers", {"code": "A", "kind": "fixed", "value": 1000}),
    ("patch", "/stores/1", {"name": "X"}),
    ("get", "/products/export.csv", None),
]


def test_only_an_admin_writes_the_catalog(client: TestClient, world: World) -> None:
    for method, path, body in WRITES:
        kwargs: dict[str, Any] = {} if body is None else {"json": body}
        as_cashier = client.request(method, API + path, headers=world.cashier_headers(), **kwargs)
        assert as_cashier.status_code == 403, (path, as_cashier.text)
        assert error_code(as_cashier) == "role_required"
        as_terminal = client.request(method, API + path, headers=world.terminal_headers(), **kwargs)
        assert as_terminal.status_code == 403, path
        assert error_code(as_terminal) == "user_required"
        assert client.request(method, API + path, **kwargs).status_code == 401, path
        # A manager's own store is theirs to edit, and the CSV export is a read.
        if method != "get" and not path.startswith("/stores"):
            as_manager = client.request(
                method, API + path, headers=world.manager_headers(), **kwargs
            )
            assert as_manager.status_code == 403, path  # the chain catalog is an admin's
    h = world.admin_headers()
    assert client.get(f"{API}/products", headers=h).json()["total"] == 0  # nothing was written


def test_reads_need_supervisor(client: TestClient, world: World) -> None:
    for path in ("/products", "/categories", "/tax-rates", "/vouchers", "/stores"):
        assert client.get(API + path, headers=world.cashier_headers()).status_code == 403
        assert client.get(API + path, headers=world.manager_headers()).status_code == 200


def test_import_refused_for_cashier(client: TestClient, world: World) -> None:
    resp = client.post(
        f"{API}/products/import",
        files={"file": ("p.csv", b"sku,name,price\nA,B,1\n", "text/csv")},
        headers=world.cashier_headers(),
    )
    assert resp.status_code == 403


def test_list_search_and_paging(client: TestClient, world: World) -> None:
    h = world.admin_headers()
    names = ["Aqua 600ml", "Aqua 1500ml", "Teh Botol Sosro 450ml", "Indomie Goreng 85g"]
    ids = []
    for n, name in enumerate(names, start=1):
        sku = f"{'AQ' if 'Aqua' in name else 'XX'}-{n}"
        resp = client.post(f"{API}/products", json=product_body(n, name=name, sku=sku), headers=h)
        ids.append(resp.json()["id"])

    def search(**params: Any) -> dict[str, Any]:
        resp = client.get(f"{API}/products", params=params, headers=h)
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        return body

    by_name = search(q="aqua")
    assert [p["name"] for p in by_name["items"]] == ["Aqua 600ml", "Aqua 1500ml"]
    assert by_name["total"] == 2
    assert [p["id"] for p in search(q="XX-")["items"]] == ids[2:]
    assert [p["name"] for p in search(q=ean(3))["items"]] == ["Teh Botol Sosro 450ml"]
    assert search(q="100%")["total"] == 0  # wildcards in the query are literal

    first = search(limit=3)
    assert [p["id"] for p in first["items"]] == ids[:3] and first["total"] == 4
    assert [p["id"] for p in search(limit=3, offset=3)["items"]] == ids[3:]
    keyset = search(limit=3, after_id=first["next_after_id"])
    assert [p["id"] for p in keyset["items"]] == ids[3:] and keyset["next_after_id"] is None

    client.post(f"{API}/products/{ids[0]}/deactivate", headers=h)
    assert search(active=False)["total"] == 1


def test_get_unknown_product_is_404(client: TestClient, world: World) -> None:
    resp = client.get(f"{API}/products/4242", headers=world.admin_headers())
    assert resp.status_code == 404 and error_code(resp) == "not_found"


def test_categories_and_tax_rates(client: TestClient, world: World) -> None:
    h = world.admin_headers()
    cat_id, tax_id = make_refs(client, world)
    dup = client.post(f"{API}/categories", json={"name": "mi instan"}, headers=h)
    assert dup.status_code == 409 and error_code(dup) == "category_taken"
    before = client.get(f"{API}/categories", headers=h).json()[0]["change_no"]
    off = client.patch(f"{API}/categories/{cat_id}", json={"active": False}, headers=h).json()
    assert off["active"] is False and off["change_no"] > before

    dup_tax = client.post(
        f"{API}/tax-rates", json={"code": "PPN", "name": "again", "rate_bp": 1100}, headers=h
    )
    assert dup_tax.status_code == 409 and error_code(dup_tax) == "tax_code_taken"
    too_high = client.post(
        f"{API}/tax-rates", json={"code": "X", "name": "X", "rate_bp": 10_001}, headers=h
    )
    assert too_high.status_code == 422
    tax = client.patch(f"{API}/tax-rates/{tax_id}", json={"rate_bp": 1200}, headers=h).json()
    assert tax["rate_bp"] == 1200 and tax["change_no"] > off["change_no"]
    assert client.get(f"{API}/tax-rates", headers=h).json()[0]["rate_bp"] == 1200


def test_vouchers(client: TestClient, world: World) -> None:
    h = world.admin_headers()
    body = {
        "code": "hemat10",
        "kind": "percent",
        "value": 1000,
        "valid_from": "2025-01-01T00:00:00+07:00",
        "valid_until": "2025-02-01T00:00:00+07:00",
        "min_spend": 50000,
    }
    created = client.post(f"{API}/vouchers", json=body, headers=h)
    assert created.status_code == 201, created.text
    voucher = created.json()
    assert voucher["code"] == "HEMAT10" and voucher["change_no"] > 0
    assert voucher["valid_from"].startswith("2024-12-31T17:00:00")  # stored in UTC

    dup = client.post(f"{API}/vouchers", json=body, headers=h)
    assert dup.status_code == 409 and error_code(dup) == "voucher_code_taken"
    backwards = {**body, "code": "B", "valid_from": body["valid_until"]}
    resp = client.post(f"{API}/vouchers", json=backwards, headers=h)
    assert resp.status_code == 422 and error_code(resp) == "bad_validity"
    over = client.post(f"{API}/vouchers", json={**body, "code": "C", "value": 10_001}, headers=h)
    assert over.status_code == 422 and error_code(over) == "bad_voucher_value"
    naive = client.post(
        f"{API}/vouchers",
        json={**body, "code": "D", "valid_from": "2025-01-01T00:00:00"},
        headers=h,
    )
    assert naive.status_code == 422 and error_code(naive) == "naive_datetime"
    fixed = client.post(
        f"{API}/vouchers", json={"code": "POTONG5K", "kind": "fixed", "value": 5000}, headers=h
    )
    assert fixed.status_code == 201

    # A patch is checked against the merged voucher.
    bad = client.patch(
        f"{API}/vouchers/{voucher['id']}",
        json={"valid_until": "2024-12-01T00:00:00+07:00"},
        headers=h,
    )
    assert bad.status_code == 422
    off = client.patch(f"{API}/vouchers/{voucher['id']}", json={"active": False}, headers=h)
    assert off.json()["active"] is False and off.json()["change_no"] > fixed.json()["change_no"]
    codes = [v["code"] for v in client.get(f"{API}/vouchers", headers=h).json()]
    assert codes == ["HEMAT10", "POTONG5K"]


def test_store_patch_edits_receipt_and_bumps_change_no(
    client: TestClient, world: World, db: Database
) -> None:
    h = world.manager_headers()
    stores = client.get(f"{API}/stores", headers=h).json()
    assert [s["id"] for s in stores] == [world.store_id]
    before = stores[0]["change_no"]
    patch = {
        "receipt_header": "Toko Maju Jaya\nJl. Merdeka 1, Bandung",
        "receipt_footer": "Terima kasih atas kunjungan Anda",
        "npwp": "01.234.567.8-901.000",
        "logo_text": "MAJU JAYA",
    }
    resp = client.patch(f"{API}/stores/{world.store_id}", json=patch, headers=h)
    assert resp.status_code == 200, resp.text
    assert resp.json()["change_no"] > before
    stored = client.get(f"{API}/stores/{world.store_id}", headers=h).json()
    assert {k: stored[k] for k in patch} == patch

    other = client.patch(f"{API}/stores/{world.other_store_id}", json={"name": "X"}, headers=h)
    assert other.status_code == 403 and error_code(other) == "other_store"
    assert client.get(f"{API}/stores/{world.other_store_id}", headers=h).status_code == 403

    admin = world.admin_headers()
    assert len(client.get(f"{API}/stores", headers=admin).json()) == 2
    renamed = client.patch(
        f"{API}/stores/{world.other_store_id}", json={"name": "Toko Sebelah Baru"}, headers=admin
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "Toko Sebelah Baru"
    assert renamed.json()["change_no"] > resp.json()["change_no"]
    assert client.patch(f"{API}/stores/999", json={"name": "X"}, headers=admin).status_code == 404


def test_change_numbers_are_unique_and_rising_across_kinds(
    client: TestClient, world: World
) -> None:
    h = world.admin_headers()
    cat_id, _ = make_refs(client, world)
    numbers = []
    for n in range(1, 4):
        resp = client.post(f"{API}/products", json=product_body(n, category_id=cat_id), headers=h)
        numbers.append(resp.json()["change_no"])
    numbers.append(
        client.patch(f"{API}/stores/{world.store_id}", json={"phone": "022-123"}, headers=h).json()[
            "change_no"
        ]
    )
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)


def test_openapi_documents_the_catalog(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    assert paths["/api/v1/products"]["post"]["summary"] == "Create a product"
    assert "409" in paths["/api/v1/products"]["post"]["responses"]
    assert (
        "multipart/form-data" in paths["/api/v1/products/import"]["post"]["requestBody"]["content"]
    )
    assert paths["/api/v1/stores/{store_id}"]["patch"]["summary"] == "Edit a store and its receipt"
    example = paths["/api/v1/products"]["post"]["requestBody"]["content"]["application/json"]
    assert example["examples"]["indomie"]["value"]["price"] == 3500
