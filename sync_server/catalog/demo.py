"""Demo data: a store, tax rates, a minimarket catalog with stock, and people to log in.

``seed_demo`` only inserts what is missing (found by store code, tax code, category
name, SKU, username), so running it twice changes nothing and it never overwrites a
manager's edits. Run it with ``python -m sync_server.catalog.demo``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import count
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.barcodes import make_ean13
from shared.ids import new_id
from shared.models import Role, StockMoveKind
from sync_server.auth.models import User
from sync_server.catalog.demo_data import BEBAS, DEMO_CATEGORIES, PPN
from sync_server.catalog.models import Category, Product, TaxRate
from sync_server.core.database import Database, next_change_numbers, run_in_transaction, utcnow
from sync_server.core.models import Store
from sync_server.core.security import hash_secret
from sync_server.stock.models import StockLevel, StockMove

STORE_CODE = "S01"

STORE: dict[str, str] = {
    "code": STORE_CODE,
    "name": "Toko Sumber Rejeki",
    "address": "Jl. Pemuda No. 12, Sekayu, Semarang Tengah, Kota Semarang, Jawa Tengah 50132",
    "npwp": "01.234.567.8-503.000",
    "phone": "024-3512345",
    "timezone": "Asia/Jakarta",
    "receipt_header": "Buka setiap hari 07.00-22.00",
    "receipt_footer": (
        "Terima kasih atas kunjungan Anda\n"
        "Barang yang sudah dibeli tidak dapat ditukar/dikembalikan\n"
        "Harga sudah termasuk PPN"
    ),
    "logo_text": "SUMBER REJEKI",
}

TAX_RATES: list[dict[str, Any]] = [
    {"code": PPN, "name": "PPN 11%", "rate_bp": 1100, "inclusive": True},
    {"code": BEBAS, "name": "Bebas PPN", "rate_bp": 0, "inclusive": True},
]


@dataclass(frozen=True)
class DemoUser:
    """A person of the demo store and the secrets they log in with."""

    username: str
    full_name: str
    role: Role
    password: str | None = None
    pin: str | None = None
    in_store: bool = True


USERS = [
    DemoUser("admin", "Administrator", Role.ADMIN, password="admin12345", in_store=False),  # noqa: S106 - demo
    # The manager's PIN approves refunds and voids on the till.
    DemoUser("manager", "Andi Wijaya", Role.MANAGER, password="manager123", pin="9999"),  # noqa: S106 - demo
    DemoUser("siti", "Siti Rahmawati", Role.CASHIER, pin="1111"),
    DemoUser("budi", "Budi Santoso", Role.CASHIER, pin="2222"),
]


@dataclass(frozen=True)
class DemoItem:
    """One product of the demo catalog with its derived SKU, barcode and opening stock."""

    sku: str
    barcode: str
    name: str
    category: str
    unit: str
    price: int
    tax_code: str
    low_stock_threshold: int
    opening_stock: int


def demo_items() -> list[DemoItem]:
    """The demo catalog, deterministic: same SKUs, barcodes and stock on every run.

    Barcodes are EAN-13 under 899, Indonesia's GS1 prefix: ``899`` + category number
    (3 digits) + item number (6 digits) + check digit.
    """
    items = []
    for cat_no, category in enumerate(DEMO_CATEGORIES, start=1):
        for item_no, product in enumerate(category.products, start=1):
            name, unit, price = product[0], product[1], product[2]
            tax_code = product[3] if len(product) == 4 else PPN
            threshold = category.low_stock_threshold
            items.append(
                DemoItem(
                    sku=f"{category.prefix}-{item_no:03d}",
                    barcode=make_ean13(f"899{cat_no:03d}{item_no:06d}"),
                    name=name,
                    category=category.name,
                    unit=unit,
                    price=price,
                    tax_code=tax_code,
                    low_stock_threshold=threshold,
                    # Enough to sell from, a few items already below their threshold.
                    opening_stock=threshold - 1
                    if item_no % 9 == 0
                    else threshold * 3 + (cat_no * 7 + item_no * 5) % 40,
                )
            )
    return items


def seed_demo(db: Database) -> dict[str, object]:
    """Insert the demo store, catalog, stock and users that are missing; a summary.

    Idempotent: a second run finds everything and changes nothing (no row gets a new
    change number). Every inserted row gets its own change number, so tills pull it.
    """
    # Hash outside the transaction: argon2 is slow on purpose.
    with db.session() as session:
        known_users = set(session.scalars(select(User.username)))
    hashes = {
        user.username: (
            hash_secret(user.password) if user.password else None,
            hash_secret(user.pin) if user.pin else None,
        )
        for user in USERS
        if user.username not in known_users
    }
    return run_in_transaction(db, lambda session: _seed(session, hashes))


def _seed(session: Session, hashes: dict[str, tuple[str | None, str | None]]) -> dict[str, object]:
    now = utcnow()
    items = demo_items()
    store = session.scalar(select(Store).where(Store.code == STORE_CODE))
    taxes = {row.code: row for row in session.scalars(select(TaxRate))}
    categories = {row.name.casefold(): row for row in session.scalars(select(Category))}
    products = {row.sku: row for row in session.scalars(select(Product))}
    users = {row.username: row for row in session.scalars(select(User))}

    new_store = store is None
    new_taxes = [t for t in TAX_RATES if t["code"] not in taxes]
    cat_names = list(dict.fromkeys(item.category for item in items))
    new_categories = [name for name in cat_names if name.casefold() not in categories]
    new_items = [item for item in items if item.sku not in products]
    stocked: set[int] = set()
    if store is not None:
        stocked = set(
            session.scalars(select(StockLevel.product_id).where(StockLevel.store_id == store.id))
        )
    unstocked = [i for i in items if i.sku not in products or products[i.sku].id not in stocked]
    new_users = [user for user in USERS if user.username not in users]

    changed = (
        int(new_store)
        + len(new_taxes)
        + len(new_categories)
        + len(new_items)
        + len(unstocked)
        + len(new_users)
    )
    if changed:
        numbers = count(next_change_numbers(session, changed))
        if store is None:
            store = Store(**STORE, change_no=next(numbers), updated_at=now)
            session.add(store)
        for tax in new_taxes:
            taxes[tax["code"]] = TaxRate(**tax, active=True, change_no=next(numbers))
            session.add(taxes[tax["code"]])
        for name in new_categories:
            categories[name.casefold()] = Category(name=name, active=True, change_no=next(numbers))
            session.add(categories[name.casefold()])
        session.flush()
        for item in new_items:
            products[item.sku] = Product(
                sku=item.sku,
                barcode=item.barcode,
                name=item.name,
                category_id=categories[item.category.casefold()].id,
                unit=item.unit,
                price=item.price,
                tax_rate_id=taxes[item.tax_code].id,
                active=True,
                low_stock_threshold=item.low_stock_threshold,
                change_no=next(numbers),
                updated_at=now,
            )
        session.add_all(products[item.sku] for item in new_items)
        for user in new_users:
            password_hash, pin_hash = hashes.get(user.username) or (
                hash_secret(user.password) if user.password else None,
                hash_secret(user.pin) if user.pin else None,
            )
            session.add(
                User(
                    username=user.username,
                    full_name=user.full_name,
                    role=user.role.value,
                    store_id=store.id if user.in_store else None,
                    password_hash=password_hash,
                    pin_hash=pin_hash,
                    active=True,
                    change_no=next(numbers),
                    created_at=now,
                )
            )
        session.flush()
        for item in unstocked:
            product_id = products[item.sku].id
            session.add(
                StockMove(
                    id=new_id(),
                    store_id=store.id,
                    product_id=product_id,
                    kind=StockMoveKind.RECEIVE.value,
                    quantity=item.opening_stock,
                    ref_id="demo-seed",
                    note="Stok awal (data demo)",
                    created_at=now,
                )
            )
            session.add(
                StockLevel(
                    store_id=store.id,
                    product_id=product_id,
                    on_hand=item.opening_stock,
                    change_no=next(numbers),
                    updated_at=now,
                )
            )
        session.flush()
    assert store is not None
    return {
        "store": {"id": store.id, "code": store.code, "name": store.name},
        "created": {
            "stores": int(new_store),
            "tax_rates": len(new_taxes),
            "categories": len(new_categories),
            "products": len(new_items),
            "stock_levels": len(unstocked),
            "users": len(new_users),
        },
        "demo_products": len(items),
        "demo_categories": len(cat_names),
        "logins": {
            user.username: {
                "role": user.role.value,
                **({"password": user.password} if user.password else {}),
                **({"pin": user.pin} if user.pin else {}),
            }
            for user in USERS
        },
    }


def main() -> None:
    """Migrate the configured database and seed the demo data; print the summary."""
    from sync_server.core.config import get_settings
    from sync_server.migrate import upgrade

    settings = get_settings()
    if settings.environment == "production":
        raise SystemExit("Refusing to seed demo users with known passwords in production.")
    url = settings.effective_database_url
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(url)
    db = Database(url)
    try:
        print(json.dumps(seed_demo(db), indent=2, ensure_ascii=False))
    finally:
        db.dispose()


if __name__ == "__main__":
    main()
