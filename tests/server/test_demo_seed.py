"""The demo seed: a realistic store and catalog, inserted once (both DBs)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from shared.barcodes import barcode_error
from shared.models import Role
from sync_server.auth.models import User
from sync_server.catalog.demo import demo_items, seed_demo
from sync_server.catalog.models import Category, Product, TaxRate
from sync_server.catalog.price_history import PriceHistory
from sync_server.core.database import Database
from sync_server.core.models import Store
from sync_server.core.security import verify_secret
from sync_server.stock.models import StockLevel, StockMove

DEMO_CATEGORIES = {
    "Minuman",
    "Makanan Ringan",
    "Mi Instan",
    "Sembako",
    "Susu & Olahan",
    "Perawatan Diri",
    "Kebersihan Rumah",
    "Rokok",
    "Bumbu Dapur",
    "Roti & Kue",
    "Obat-obatan",
    "Alat Tulis",
}


def snapshot(db: Database) -> dict[str, object]:
    """Every seeded row with its change number, to compare runs."""
    with db.session() as s:
        return {
            "products": sorted(s.execute(select(Product.sku, Product.change_no)).all()),
            "categories": sorted(s.execute(select(Category.name, Category.change_no)).all()),
            "taxes": sorted(s.execute(select(TaxRate.code, TaxRate.change_no)).all()),
            "stores": sorted(s.execute(select(Store.code, Store.change_no)).all()),
            "users": sorted(s.execute(select(User.username, User.change_no)).all()),
            "levels": sorted(
                s.execute(
                    select(StockLevel.product_id, StockLevel.on_hand, StockLevel.change_no)
                ).all()
            ),
            "moves": s.scalar(select(func.count()).select_from(StockMove)),
            "counter": s.execute(text("SELECT value FROM change_counter")).scalar(),
        }


def test_seed_demo_is_complete_and_idempotent(db: Database) -> None:
    first = seed_demo(db)
    after_first = snapshot(db)
    second = seed_demo(db)
    assert snapshot(db) == after_first
    assert second["created"] == {
        "stores": 0,
        "tax_rates": 0,
        "categories": 0,
        "products": 0,
        "stock_levels": 0,
        "users": 0,
    }
    created = first["created"]
    assert isinstance(created, dict)
    assert created["products"] >= 200 and created["users"] == 4

    with db.session() as s:
        products = s.scalars(select(Product)).all()
        assert len(products) >= 200
        assert len({p.sku for p in products}) == len(products)
        assert len({p.barcode for p in products}) == len(products)
        for p in products:
            assert p.barcode is not None and barcode_error(p.barcode) is None, p.barcode
            assert p.barcode.startswith("899") and len(p.barcode) == 13
            assert p.price > 0 and p.price % 100 == 0  # whole rupiah, shelf-style
            assert p.category_id is not None and p.tax_rate_id is not None
        names = {p.name for p in products}
        assert {"Indomie Goreng 85g", "Aqua 600ml", "Teh Botol Sosro 450ml"} <= names
        assert {"Beras Pandan Wangi 5kg", "Gula Pasir Gulaku 1kg"} <= names

        assert set(s.scalars(select(Category.name))) == DEMO_CATEGORIES
        taxes = {t.code: (t.rate_bp, t.inclusive) for t in s.scalars(select(TaxRate))}
        assert taxes == {"PPN": (1100, True), "BEBAS": (0, True)}
        beras = s.scalars(select(Product).where(Product.name == "Beras Pandan Wangi 5kg")).one()
        assert s.get(TaxRate, beras.tax_rate_id).code == "BEBAS"  # type: ignore[union-attr]

        store = s.scalars(select(Store).where(Store.code == "S01")).one()
        assert store.name == "Toko Sumber Rejeki"
        assert store.npwp and "Terima kasih" in store.receipt_footer

        # Opening stock: one receive move per product, matching its level.
        levels = {lv.product_id: lv.on_hand for lv in s.scalars(select(StockLevel))}
        moves = s.scalars(select(StockMove)).all()
        assert {m.product_id: m.quantity for m in moves} == levels
        assert {m.kind for m in moves} == {"receive"} and len(moves) == len(products)
        assert all(lv.store_id == store.id for lv in s.scalars(select(StockLevel)))

        users = {u.username: u for u in s.scalars(select(User))}
        assert verify_secret(users["manager"].password_hash, "manager123")
        assert verify_secret(users["admin"].password_hash, "admin12345")
        assert verify_secret(users["siti"].pin_hash, "1111")
        assert verify_secret(users["budi"].pin_hash, "2222")
        assert not verify_secret(users["budi"].pin_hash, "1111")
        assert users["siti"].role == Role.CASHIER and users["siti"].store_id == store.id
        assert users["admin"].role == Role.ADMIN and users["admin"].store_id is None

    # Every seeded row carries its own change number, so a new till pulls them all.
    keys = ("products", "categories", "taxes", "stores", "users")
    numbers = [n for key in keys for _, n in after_first[key]]  # type: ignore[attr-defined]
    numbers += [n for _, _, n in after_first["levels"]]  # type: ignore[attr-defined]
    assert 0 not in numbers and len(set(numbers)) == len(numbers)


def test_demo_items_are_deterministic() -> None:
    assert demo_items() == demo_items()
    items = demo_items()
    assert len({i.sku for i in items}) == len(items) >= 200


def test_seed_fills_in_around_existing_rows(db: Database, client: TestClient) -> None:
    """A catalog that already has some of the demo rows gets only the rest."""
    seed_demo(db)
    with db.session() as s:
        gone = s.scalars(select(Product).where(Product.sku == "MIN-001")).one()
        s.delete(s.scalars(select(StockLevel).where(StockLevel.product_id == gone.id)).one())
        for move in s.scalars(select(StockMove).where(StockMove.product_id == gone.id)):
            s.delete(move)
        for point in s.scalars(select(PriceHistory).where(PriceHistory.product_id == gone.id)):
            s.delete(point)
        s.flush()
        s.delete(gone)
    again = seed_demo(db)
    assert again["created"] == {
        "stores": 0,
        "tax_rates": 0,
        "categories": 0,
        "products": 1,
        "stock_levels": 1,
        "users": 0,
    }

    # The seeded manager signs in with the documented password and sees the catalog.
    login = client.post(
        "/api/v1/auth/login", json={"username": "manager", "password": "manager123"}
    )
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    page = client.get(
        "/api/v1/products",
        params={"q": "Indomie Goreng 85g"},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    assert page["total"] == 1 and page["items"][0]["sku"] == "MIN-001"
