"""What a manager does on the pages changes what the services store (SQLite and MariaDB)."""

from __future__ import annotations

import html as html_lib
import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from shared.models import PROTOCOL_HEADER, PROTOCOL_VERSION
from sync_server.auth.models import Terminal, User
from sync_server.catalog.models import Product
from sync_server.core.database import Database
from sync_server.core.models import Store
from sync_server.core.security import verify_secret
from sync_server.payments.models import PaymentOrder
from sync_server.reports.registry import QRIS_STATUS_LABELS
from sync_server.web import charts as web_charts
from sync_server.web import views as web_views
from tests.server.conftest import World, detached_row
from tests.server.sync_helpers import add_products, on_hand, push, sale_event, statuses, stock_up
from tests.web.conftest import WebClient


def _product(db: Database, product_id: int) -> Product:
    return detached_row(db, Product, product_id)


def _form(product: Product, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "sku": product.sku,
        "name": product.name,
        "barcode": product.barcode or "",
        "price": str(product.price),
        "unit": product.unit,
        "category_id": product.category_id or "",
        "tax_rate_id": product.tax_rate_id or "",
        "low_stock_threshold": str(product.low_stock_threshold),
        "active": "on",
    }
    data.update(changes)
    return data


def test_edit_product_persists_and_bad_input_is_shown(admin_web: WebClient, db: Database) -> None:
    (p, q) = add_products(db, 2)
    resp = admin_web.post(
        f"/web/products/{p.id}", _form(_product(db, p.id), name="Kopi Kapal Api", price="12.500")
    )
    assert resp.status_code == 303
    saved = _product(db, p.id)
    assert (saved.name, saved.price) == ("Kopi Kapal Api", 12_500)
    page = admin_web.http.get(f"/web/products/{p.id}")
    assert (
        'value="Kopi Kapal Api"' in page.text
        and "disimpan" in admin_web.http.get(resp.headers["location"]).text
    )

    resp = admin_web.post(f"/web/products/{p.id}", _form(saved, price="dua ribu"))
    assert resp.status_code == 422 and "price" in resp.text
    resp = admin_web.post(f"/web/products/{p.id}", _form(saved, sku=q.sku))
    assert resp.status_code == 422 and q.sku in resp.text
    assert _product(db, p.id).price == 12_500


def test_create_search_and_deactivate_a_product(admin_web: WebClient, db: Database) -> None:
    resp = admin_web.post(
        "/web/products",
        {
            "sku": "KOP-001",
            "name": "Kopi Tubruk 200g",
            "price": "18000",
            "unit": "pcs",
            "barcode": "8991234567891",
            "active": "on",
            "low_stock_threshold": "5",
        },
    )
    assert resp.status_code == 303, resp.text
    product_id = int(resp.headers["location"].split("?")[0].rsplit("/", 1)[1])
    listing = admin_web.http.get("/web/products?q=Tubruk")
    assert "Kopi Tubruk 200g" in listing.text and "Rp 18.000" in listing.text
    assert admin_web.post(f"/web/products/{product_id}/deactivate").status_code == 303
    assert _product(db, product_id).active is False
    assert "Kopi Tubruk" not in admin_web.http.get("/web/products?q=Tubruk").text
    assert "Kopi Tubruk" in admin_web.http.get("/web/products?q=Tubruk&show=inactive").text


def test_csv_import_lists_bad_lines_and_export_round_trips(
    admin_web: WebClient, db: Database
) -> None:
    csv_text = "sku,name,price,unit\nAIR-001,Air Mineral 600ml,4000,pcs\nAIR-002,,abc,pcs\n"
    resp = admin_web.post(
        "/web/products/import", files={"file": ("produk.csv", csv_text.encode(), "text/csv")}
    )
    assert resp.status_code == 200, resp.text
    assert "1 dibuat" in resp.text
    assert re.search(r'<tr class="line-error"><td class="num">3</td>', resp.text)
    exported = admin_web.http.get("/web/products/export.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    assert "AIR-001" in exported.text and "AIR-002" not in exported.text


def test_label_sheet_is_a_pdf(admin_web: WebClient) -> None:
    made = admin_web.post(
        "/web/products",
        {
            "sku": "LBL-1",
            "name": "Sabun",
            "price": "3500",
            "barcode": "8991234567891",
            "active": "on",
        },
    )
    product_id = made.headers["location"].split("?")[0].rsplit("/", 1)[1]
    resp = admin_web.http.get(f"/web/products/labels.pdf?ids={product_id}&copies=3")
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/pdf"
    assert resp.content.startswith(b"%PDF")


def test_receive_and_count_stock_by_sku_or_barcode(
    manager_web: WebClient, db: Database, world: World
) -> None:
    (p,) = add_products(db, 1)
    resp = manager_web.post(
        "/web/stock/receive", {"code": [p.sku, ""], "quantity": ["24", ""], "note": "SJ-1"}
    )
    assert resp.status_code == 303, resp.text
    assert on_hand(db, world.store_id, p.id) == 24
    resp = manager_web.post("/web/stock/count", {"code": [p.sku], "quantity": ["20"]})
    assert resp.status_code == 303
    assert on_hand(db, world.store_id, p.id) == 20
    history = manager_web.http.get(f"/web/stock/{p.id}/moves").text
    assert "barang masuk" in history and "+24" in history and "-4" in history

    resp = manager_web.post(
        "/web/stock/receive", {"code": ["NOPE-1", p.sku], "quantity": ["1", "x"]}
    )
    assert resp.status_code == 422
    assert "NOPE-1" not in resp.text or "tidak dikenal" in resp.text
    assert "bukan bilangan bulat" in resp.text
    assert on_hand(db, world.store_id, p.id) == 20


def test_stock_page_flags_negative_and_low(
    manager_web: WebClient, db: Database, world: World
) -> None:
    low, neg = add_products(db, 2, low_stock_threshold=5)
    stock_up(db, world.store_id, low.id, 3)
    stock_up(db, world.store_id, neg.id, -2)
    page = manager_web.http.get("/web/stock?only=negative").text
    assert neg.sku in page and low.sku not in page
    page = manager_web.http.get("/web/stock?only=low").text
    assert low.sku in page
    # The page's Excel link downloads the same list, with the session (no API token).
    link = re.search(r'href="([^"]+)" class="csv" id="stock-xlsx"', page)
    assert link is not None
    sheet = manager_web.http.get(link.group(1).replace("&amp;", "&"))
    assert sheet.status_code == 200, sheet.text[:200]
    rows = list(load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
    assert rows[0][0] and any(low.sku in row for row in rows[1:])


def test_enroll_shows_a_code_that_enrolls_a_till_then_revoke(
    manager_web: WebClient, client: TestClient, db: Database
) -> None:
    resp = manager_web.post(
        "/web/terminals/enroll", {"terminal_code": "t09", "name": "Kasir belakang"}
    )
    assert resp.status_code == 200
    code = re.search(r'id="enrollment-code">([A-Z0-9-]+)<', resp.text)
    assert code, resp.text
    enrolled = client.post(
        "/api/v1/terminals/enroll",
        json={"code": code.group(1)},
        headers={PROTOCOL_HEADER: str(PROTOCOL_VERSION)},
    )
    assert enrolled.status_code == 200, enrolled.text
    with db.session() as s:
        terminal = s.scalar(select(Terminal).where(Terminal.code == "T09"))
        assert terminal is not None and terminal.enrolled_at is not None
        terminal_id = terminal.id
    again = manager_web.post("/web/terminals/enroll", {"terminal_code": "T09"})
    assert again.status_code == 422 and "revoke" in again.text
    assert manager_web.post(f"/web/terminals/{terminal_id}/revoke").status_code == 303
    with db.session() as s:
        assert s.get(Terminal, terminal_id).revoked_at is not None  # type: ignore[union-attr]


def test_rejected_events_are_listed_and_resolved(
    manager_web: WebClient, client: TestClient, db: Database, world: World
) -> None:
    (p,) = add_products(db, 1)
    sale = sale_event(terminal_code="T01", cashier_id=world.cashier_ids[0], items=[(p, 1)])
    sale["payload"]["total"] += 1
    sale["payload"]["payments"][0]["amount"] += 1
    assert statuses(push(client, world.terminal_headers(0), [sale])) == ["rejected"]
    page = manager_web.http.get("/web/terminals").text
    assert "totals_mismatch" in page
    event_id = sale["id"]
    resp = manager_web.post(
        f"/web/terminals/rejected/{event_id}/resolve", {"note": "diinput ulang"}
    )
    assert resp.status_code == 303
    assert "totals_mismatch" not in manager_web.http.get("/web/terminals").text


def test_users_create_edit_role_and_reset_pin(manager_web: WebClient, db: Database) -> None:
    resp = manager_web.post(
        "/web/users",
        {"username": "dewi", "full_name": "Dewi Lestari", "role": "cashier", "pin": "4321"},
    )
    assert resp.status_code == 303, resp.text
    with db.session() as s:
        dewi = s.scalar(select(User).where(User.username == "dewi"))
        assert dewi is not None and verify_secret(dewi.pin_hash, "4321")
        dewi_id = dewi.id
    resp = manager_web.post(
        f"/web/users/{dewi_id}", {"full_name": "Dewi L.", "role": "supervisor", "pin": "8765"}
    )
    assert resp.status_code == 303
    with db.session() as s:
        dewi = s.get(User, dewi_id)
        assert dewi is not None
        assert (dewi.full_name, dewi.role, dewi.active) == ("Dewi L.", "supervisor", False)
        assert verify_secret(dewi.pin_hash, "8765")
    # A manager may not make managers; the page says so and nothing changes.
    resp = manager_web.post(
        f"/web/users/{dewi_id}", {"full_name": "Dewi", "role": "manager", "active": "on"}
    )
    assert resp.status_code == 422 and "admin" in resp.text
    bad = manager_web.post("/web/users", {"username": "x", "full_name": "", "role": "cashier"})
    assert bad.status_code == 422


def test_receipt_template_saves_and_previews(
    manager_web: WebClient, db: Database, world: World
) -> None:
    fields = {
        "name": "Toko Maju Jaya",
        "address": "Jl. Merdeka 1",
        "npwp": "01.234.567.8-901.000",
        "phone": "022-123",
        "receipt_header": "Buka 07.00-22.00",
        "receipt_footer": "Terima kasih",
        "logo_text": "MAJU",
        "width": "42",
    }
    preview = manager_web.http.post(
        "/web/receipt/preview", data=fields, headers={"X-CSRF-Token": manager_web.csrf}
    )
    assert preview.status_code == 200
    assert "NPWP 01.234.567.8-901.000" in preview.text and "Terima kasih" in preview.text
    assert max(len(line) for line in preview.text.splitlines()) <= 42
    assert manager_web.http.post("/web/receipt/preview", data=fields).status_code == 403
    assert manager_web.post("/web/receipt", fields).status_code == 303
    with db.session() as s:
        store = s.get(Store, world.store_id)
        assert store is not None
        assert (store.npwp, store.receipt_footer) == ("01.234.567.8-901.000", "Terima kasih")
    assert "Buka 07.00-22.00" in manager_web.http.get("/web/receipt").text


def test_reports_show_pushed_sales_with_a_chart_and_csv(
    manager_web: WebClient, client: TestClient, db: Database, world: World
) -> None:
    (p,) = add_products(db, 1, price=12_500)
    sale = sale_event(terminal_code="T01", cashier_id=world.cashier_ids[0], items=[(p, 2)])
    assert statuses(push(client, world.terminal_headers(0), [sale])) == ["applied"]
    board = manager_web.http.get("/web/").text
    assert "Rp 25.000" in board
    assert 'data-value="25000"' in board
    page = manager_web.http.get("/web/reports/sales?preset=7d").text
    assert "<svg" in page and 'data-value="25000"' in page
    link = re.search(r'id="csv-link" href="([^"]+)"', page)
    assert link
    csv = manager_web.http.get(link.group(1).replace("&amp;", "&"))
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "25000" in csv.text
    products = manager_web.http.get("/web/reports/products").text
    assert p.sku in products and "Rp 25.000" in products
    cashiers = manager_web.http.get("/web/reports/cashiers").text
    assert "Kasir1" in cashiers


def test_chart_geometry_scales_to_the_largest_value() -> None:
    chart = web_charts.bar_chart([("a", 100), ("b", 50), ("c", 0)], width=400, height=200)
    heights = [pt.height for pt in chart.points]
    assert heights[0] == 2 * heights[1] and heights[2] == 0
    assert all(pt.y + pt.height == chart.baseline for pt in chart.points)
    assert web_charts.bar_chart([]).empty


def test_a_manager_cannot_change_the_chain_catalog_from_the_pages(
    manager_web: WebClient, db: Database
) -> None:
    (p,) = add_products(db, 1)
    before = _product(db, p.id)
    edit = manager_web.post(f"/web/products/{p.id}", _form(before, price="1"))
    create = manager_web.post("/web/products", {"sku": "X-1", "name": "X", "price": "1"})
    gone = manager_web.post(f"/web/products/{p.id}/deactivate")
    imported = manager_web.post(
        "/web/products/import", files={"file": ("p.csv", b"sku,name,price\nY-1,Y,1\n", "text/csv")}
    )
    assert [r.status_code for r in (edit, create, gone, imported)] == [403] * 4
    assert "hanya bisa diubah oleh admin" in edit.text
    after = _product(db, p.id)
    assert (after.price, after.active) == (before.price, before.active)
    assert manager_web.http.get("/web/products?q=X").status_code == 200  # reading is fine


def test_payments_page_reads_the_chosen_period_and_links_its_csv(
    manager_web: WebClient, world: World
) -> None:
    page = manager_web.http.get("/web/payments?start=2025-01-01&end=2025-01-31&status=PAID")
    assert page.status_code == 200
    assert "Tidak ada pembayaran QRIS pada periode ini." in page.text
    query = f"store_id={world.store_id}&amp;start=2025-01-01&amp;end=2025-01-31&amp;status=PAID"
    assert f'href="/api/v1/reports/payments?format=csv&amp;{query}"' in page.text
    # Another store's payments stay out of a manager's reach.
    other = manager_web.http.get(f"/web/payments?store_id={world.other_store_id}")
    assert "store_id=" + str(world.other_store_id) not in other.text


_TAGS = re.compile(r"<script.*?</script>|<style.*?</style>|<[^>]+>", re.S)
_ISO_DAY = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_ENGLISH_STATUS = re.compile(r"\b(UNPAID|PAID|EXPIRED|FAILED|REFUND|ORDER|Order)\b")


def _visible(html: str) -> str:
    """The text a manager reads on a page (tags, attributes and scripts left out)."""
    return html_lib.unescape(_TAGS.sub(" ", html))


def test_pages_show_dd_mm_yyyy_and_indonesian_labels_only(
    manager_web: WebClient, client: TestClient, db: Database, world: World
) -> None:
    (p,) = add_products(db, 1, price=12_500)
    sale = sale_event(terminal_code="T01", cashier_id=world.cashier_ids[0], items=[(p, 2)])
    bad = sale_event(terminal_code="T01", cashier_id=world.cashier_ids[0], items=[])
    bad["payload"]["lines"] = []
    assert statuses(push(client, world.terminal_headers(0), [sale, bad])) == [
        "applied",
        "rejected",
    ]
    now = datetime.now(UTC)
    with db.session() as s:
        for i, status in enumerate(QRIS_STATUS_LABELS):
            s.add(
                PaymentOrder(
                    order_id=f"ORD-LABEL-{i}",
                    store_id=world.store_id,
                    terminal_id=world.terminal_ids[0],
                    amount=10_000 + i,
                    customer_name="Pelanggan",
                    customer_email="a@b.id",
                    status=status,
                    created_at=now - timedelta(minutes=i),
                    paid_at=now if status == "PAID" else None,
                )
            )
    pages = [
        "/web/",
        "/web/payments",
        "/web/terminals",
        "/web/users",
        "/web/products",
        *(f"/web/reports/{slug}?preset=7d" for slug, _ in web_views.REPORTS),
        "/web/reports/sales?preset=year&granularity=week",
        "/web/reports/sales?preset=year&granularity=month",
    ]
    for path in pages:
        resp = manager_web.http.get(path)
        assert resp.status_code == 200, path
        text = _visible(resp.text)
        assert not _ISO_DAY.findall(text), (path, _ISO_DAY.findall(text)[:3])
        assert not _ENGLISH_STATUS.findall(text), (path, _ENGLISH_STATUS.findall(text)[:3])
        assert "Event ditolak" not in text, path
    payments = _visible(manager_web.http.get("/web/payments").text)
    for label in QRIS_STATUS_LABELS.values():
        assert label in payments
    assert re.search(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", payments)
    terminals = _visible(manager_web.http.get("/web/terminals").text)
    assert "Transaksi ditolak" in terminals and "Penjualan" in terminals
    sales = _visible(manager_web.http.get("/web/reports/sales?preset=7d").text)
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Jakarta")).date()
    assert today.strftime("%d/%m/%Y") in sales
    weeks = _visible(manager_web.http.get("/web/reports/sales?preset=year&granularity=week").text)
    assert "Minggu " in weeks


def test_every_report_page_links_its_excel_and_the_lists_download(
    manager_web: WebClient, admin_web: WebClient, client: TestClient, db: Database, world: World
) -> None:
    (p,) = add_products(db, 1, price=12_500)
    sale = sale_event(terminal_code="T01", cashier_id=world.cashier_ids[0], items=[(p, 3)])
    assert statuses(push(client, world.terminal_headers(0), [sale])) == ["applied"]
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    for slug, _ in web_views.REPORTS:
        page = manager_web.http.get(f"/web/reports/{slug}").text
        link = re.search(r'id="xlsx-link" href="([^"]+)"', page)
        assert link, slug
        book = manager_web.http.get(html_lib.unescape(link.group(1)))
        assert book.status_code == 200 and book.headers["content-type"] == xlsx, slug
        sheet = load_workbook(io.BytesIO(book.content)).active
        assert sheet is not None and sheet.max_row >= 1
    hours = manager_web.http.get("/web/reports/hours").text
    assert "Jam tersibuk" in hours and "Rata-rata per transaksi" in hours
    # The chart of best sellers names the products (the SKU stays a column).
    products = manager_web.http.get("/web/reports/products").text
    assert f'data-label="{p.name}"' in products and f'<td data-label="SKU">{p.sku}</td>' in products
    for path in ("/web/payments", "/web/terminals", "/web/users", "/web/products"):
        assert "Unduh Excel" in manager_web.http.get(path).text or path == "/web/products"
    catalog = admin_web.http.get("/web/products/export.xlsx")
    assert catalog.status_code == 200 and catalog.headers["content-type"] == xlsx
    sheet = load_workbook(io.BytesIO(catalog.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("SKU", "Barcode", "Nama")
    mine = next(r for r in rows if r[0] == p.sku)
    assert mine[5] == 12_500 and mine[7] == "Ya"
    people = manager_web.http.get("/web/users/export.xlsx")
    assert people.status_code == 200 and people.headers["content-type"] == xlsx
    sheet = load_workbook(io.BytesIO(people.content)).active
    assert sheet is not None
    names = [r[0] for r in sheet.iter_rows(values_only=True)]
    assert names[0] == "Nama pengguna" and "kasir1" in names
    people_csv = manager_web.http.get("/web/users/export.csv").text.splitlines()
    assert people_csv[0] == "username,full_name,role,active,has_pin,has_password"
    assert manager_web.http.get("/web/users/export.pdf").status_code == 422
