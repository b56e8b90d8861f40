"""Bulk product CSV import and export (both DBs)."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from shared.barcodes import make_ean13
from sync_server.catalog.csv_io import COLUMNS, import_products_csv
from sync_server.catalog.models import Category, Product
from sync_server.core.database import Database
from sync_server.core.errors import Invalid
from tests.server.conftest import World

API = "/api/v1"
HEADER = ",".join(COLUMNS)
CATEGORIES = ["Minuman", "Makanan Ringan", "Mi Instan", "Sembako"]


def ean(n: int) -> str:
    return make_ean13(f"899{n:09d}")


def good_line(n: int, *, price: int | None = None) -> list[str]:
    return [
        f"SKU-{n:05d}",
        ean(n),
        f"Produk Contoh {n}",
        CATEGORIES[n % len(CATEGORIES)],
        "pcs",
        str(price if price is not None else 1000 + n),
        "PPN" if n % 5 else "BEBAS",
        "true",
        str(n % 30),
    ]


def to_csv(rows: list[list[str]], header: str = HEADER) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow(row)
    return header + "\n" + out.getvalue()


def upload(client: TestClient, world: World, text: str) -> Any:
    return client.post(
        f"{API}/products/import",
        files={"file": ("products.csv", text.encode(), "text/csv")},
        headers=world.admin_headers(),
    )


def product_count(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(Product)) or 0)


def make_taxes(client: TestClient, world: World) -> None:
    for code, rate in (("PPN", 1100), ("BEBAS", 0)):
        resp = client.post(
            f"{API}/tax-rates",
            json={"code": code, "name": code, "rate_bp": rate},
            headers=world.admin_headers(),
        )
        assert resp.status_code == 201


def bad_lines() -> dict[int, tuple[list[str], list[str]]]:
    """Row index (0-based, line = index + 2) -> (the row, expected error fragments)."""

    def mutate(n: int, **cells: str) -> list[str]:
        row = good_line(n)
        for key, value in cells.items():
            row[COLUMNS.index(key)] = value
        return row

    wrong_digit = ean(1234)[:-1] + str((int(ean(1234)[-1]) + 1) % 10)
    return {
        10: (mutate(10, price="12.500,00"), ["price '12.500,00' is not a whole number"]),
        250: (mutate(250, price="-500"), ["price -500 is negative"]),
        1234: (mutate(1234, barcode=wrong_digit), ["EAN-13 check digit is wrong"]),
        2000: (mutate(2000, barcode=ean(5)), ["barcode " + ean(5) + " is also on line 7"]),
        2500: (mutate(2500, barcode=ean(99_999)), ["already belongs to product EXIST-1"]),
        3000: (mutate(3000, name=""), ["name is missing"]),
        3500: (mutate(3500, tax_code="PPH"), ["tax code PPH is unknown"]),
        4000: (mutate(4000, sku="SKU-00011"), ["sku SKU-00011 is also on line 13"]),
        4500: (mutate(4500, active="mungkin"), ["active 'mungkin' is not true or false"]),
        5000: (mutate(5000, low_stock_threshold="-3"), ["low_stock_threshold '-3'"]),
        5500: (
            mutate(5500, name=" ", price="abc", barcode="96385075"),
            ["name is missing", "price 'abc'", "barcode 96385075: EAN-8 check digit"],
        ),
        6000: ([*mutate(6000)[:5], "12", "500", *mutate(6000)[6:]], ["line has 10 fields"]),
        6500: (mutate(6500, sku=""), ["sku is missing"]),
        7000: (mutate(7000, price=""), ["price is missing"]),
        7500: (mutate(7500, price="Rp 3500"), ["price 'Rp 3500' is not a whole number"]),
        8000: (mutate(8000, price="3500.5"), ["price '3500.5' is not a whole number"]),
        8500: (mutate(8500, barcode="89912345678"), ["length does not match"]),
        9000: (mutate(9000, unit="x" * 17), ["unit is longer than 16"]),
        9500: (mutate(9500, sku="S" * 65), ["sku is longer than 64"]),
        9998: (mutate(9998, tax_code="ppn", price="1e3"), ["price '1e3'"]),
    }


def test_import_10k_lines_reports_bad_lines_and_imports_the_rest(
    client: TestClient, world: World, db: Database
) -> None:
    make_taxes(client, world)
    existing = client.post(
        f"{API}/products",
        json={"sku": "EXIST-1", "barcode": ean(99_999), "name": "Sudah Ada", "price": 1},
        headers=world.admin_headers(),
    )
    assert existing.status_code == 201
    bad = bad_lines()
    rows = [bad[i][0] if i in bad else good_line(i) for i in range(10_000)]
    text = to_csv(rows)

    started = time.perf_counter()
    resp = upload(client, world, text)
    elapsed = time.perf_counter() - started
    print(f"\n10k-line CSV import on {db.engine.dialect.name}: {elapsed:.2f} s")
    assert resp.status_code == 200, resp.text
    result = resp.json()

    reported = {f["line"]: f["errors"] for f in result["failed"]}
    assert sorted(reported) == sorted(i + 2 for i in bad)
    for index, (_, fragments) in bad.items():
        errors = reported[index + 2]
        assert len(errors) == len(fragments), (index + 2, errors)
        for fragment, error in zip(fragments, errors, strict=True):
            assert fragment in error, (index + 2, fragment, errors)

    assert result["created"] == 10_000 - len(bad)
    assert result["updated"] == 0
    assert product_count(db) == 10_000 - len(bad) + 1
    with db.session() as s:
        names = set(s.scalars(select(Category.name)))
        assert names == set(CATEGORIES)
        numbers = list(s.scalars(select(Product.change_no)))
        assert len(set(numbers)) == len(numbers)  # each row its own change number
        row = s.scalars(select(Product).where(Product.sku == "SKU-00042")).one()
        assert (row.barcode, row.price, row.low_stock_threshold) == (ean(42), 1042, 12)

    # The same file again: nothing new, nothing changed, the same lines refused.
    again = upload(client, world, text).json()
    assert (again["created"], again["updated"]) == (0, 0)
    assert [f["line"] for f in again["failed"]] == [f["line"] for f in result["failed"]]
    assert product_count(db) == 10_000 - len(bad) + 1

    # New prices for 300 products and the fixed bad lines: updates, not duplicates.
    with db.session() as s:
        high_before = s.scalar(select(func.max(Product.change_no))) or 0
    fixed = [good_line(i, price=999 if i < 300 else None) for i in range(10_000)]
    third = upload(client, world, to_csv(fixed)).json()
    assert third["failed"] == []
    assert third["created"] == len(bad)  # the lines refused before, now right
    assert third["updated"] == 300 - 2  # lines 12 and 252 were refused before: created now
    assert product_count(db) == 10_000 + 1
    with db.session() as s:
        repriced = s.scalars(select(Product).where(Product.price == 999)).all()
        assert len(repriced) == 300
        assert min(p.change_no for p in repriced) > high_before


def test_export_import_round_trip(client: TestClient, world: World, db: Database) -> None:
    make_taxes(client, world)
    rows = [good_line(i) for i in range(40)]
    rows[3][COLUMNS.index("barcode")] = ""
    rows[4][COLUMNS.index("category")] = ""
    rows[5][COLUMNS.index("tax_code")] = ""
    rows[6][COLUMNS.index("active")] = "false"
    rows[7][COLUMNS.index("name")] = 'Kopi "Kapal Api", Special Mix 165g'
    first = upload(client, world, to_csv(rows)).json()
    assert first == {"created": 40, "updated": 0, "failed": []}

    exported = client.get(f"{API}/products/export.csv", headers=world.admin_headers())
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    parsed = list(csv.reader(io.StringIO(exported.text, newline="")))
    assert parsed[0] == list(COLUMNS)
    assert parsed[1:] == rows

    # Importing the export back changes nothing...
    assert upload(client, world, exported.text).json() == {"created": 0, "updated": 0, "failed": []}
    # ...and restores what was edited since.
    h = world.admin_headers()
    page = client.get(f"{API}/products", params={"q": "SKU-00001"}, headers=h).json()
    pid = page["items"][0]["id"]
    client.patch(f"{API}/products/{pid}", json={"price": 1, "barcode": None}, headers=h)
    restored = upload(client, world, exported.text).json()
    assert restored == {"created": 0, "updated": 1, "failed": []}
    product = client.get(f"{API}/products/{pid}", headers=h).json()
    assert (product["price"], product["barcode"]) == (1001, ean(1))


def test_partial_columns_keep_other_fields(client: TestClient, world: World) -> None:
    make_taxes(client, world)
    assert upload(client, world, to_csv([good_line(1)])).json()["created"] == 1
    result = upload(client, world, "sku,name,price\nSKU-00001,Nama Baru,7000\n").json()
    assert result == {"created": 0, "updated": 1, "failed": []}
    h = world.admin_headers()
    product = client.get(f"{API}/products", params={"q": "SKU-00001"}, headers=h).json()["items"][0]
    assert (product["name"], product["price"], product["barcode"]) == ("Nama Baru", 7000, ean(1))
    assert product["category_id"] is not None and product["low_stock_threshold"] == 1


def test_semicolon_bom_and_case_insensitive_names(
    client: TestClient, world: World, db: Database
) -> None:
    make_taxes(client, world)
    text = "\ufeffSKU;Name;Price;Category;Tax_Code\nA-1;Aqua 600ml;3500;minuman;ppn\n"
    text += "A-2;Le Minerale 600ml;3500;MINUMAN;BEBAS\n"
    resp = client.post(
        f"{API}/products/import",
        files={"file": ("p.csv", text.encode("utf-8"), "text/csv")},
        headers=world.admin_headers(),
    )
    assert resp.json() == {"created": 2, "updated": 0, "failed": []}
    with db.session() as s:
        assert list(s.scalars(select(Category.name))) == ["minuman"]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty_csv"),
        ("sku,barcode,price\n", "bad_csv_header"),
        ("sku,name,price,colour\n", "bad_csv_header"),
        ("sku,name,price,price\n", "bad_csv_header"),
    ],
)
def test_bad_header_refuses_the_file(
    client: TestClient, world: World, db: Database, text: str, code: str
) -> None:
    resp = upload(client, world, text + "A,B,1\n" if text else text)
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == code
    assert product_count(db) == 0


def test_not_utf8_is_refused(client: TestClient, world: World) -> None:
    resp = client.post(
        f"{API}/products/import",
        files={"file": ("p.csv", "sku,name,price\nA,Café,1\n".encode("utf-16"), "text/csv")},
        headers=world.admin_headers(),
    )
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "bad_encoding"


def test_service_reports_start_line_of_multiline_records(db: Database) -> None:
    text = 'sku,name,price\nA,"Dua\nbaris",1\nB,,2\n'
    with db.session() as s:
        result = import_products_csv(s, text=text)
    assert result.created == 1
    assert [(f.line, f.errors) for f in result.failed] == [(4, ["name is missing"])]
    with pytest.raises(Invalid), db.session() as s:
        import_products_csv(s, text="nama,harga\n")
