"""Fixtures for the till's core: a seeded local store, a settable clock, logged-in services."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from argon2 import PasswordHasher

from pos_client.config import ClientSettings
from pos_client.services.wiring import TillServices
from pos_client.store import LocalStore
from shared.barcodes import make_ean13
from shared.models import (
    CategoryOut,
    ProductOut,
    PullResponse,
    RefundIn,
    RefundMethod,
    Role,
    SaleIn,
    StockLevelOut,
    StoreOut,
    TaxRateOut,
    UserOut,
    VoucherKind,
    VoucherOut,
)

# Cheap argon2id parameters: the same algorithm the server uses, fast enough for tests.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)

CASHIER, SUPERVISOR, MANAGER, ADMIN = 1, 2, 3, 4
PINS = {CASHIER: "1111", SUPERVISOR: "2222", MANAGER: "3333", ADMIN: "4444"}
STORE_ID = 7

INDOMIE = make_ean13("899999900001")
TEH = make_ean13("899999900002")
BERAS = make_ean13("899999900003")
ROKOK = make_ean13("899999900004")


PRODUCTS: list[tuple[int, str, str | None, str, int, dict[str, Any]]] = [
    # id, SKU, barcode, name, price, the other fields
    (1, "IDM-001", INDOMIE, "Indomie Goreng 85g", 3500, {"category_id": 1, "tax_rate_id": 1}),
    (2, "TEH-001", TEH, "Teh Botol Sosro 450ml", 5000, {"tax_rate_id": 1}),
    (3, "BRS-005", BERAS, "Beras Pandan Wangi 5kg", 72500, {"tax_rate_id": 2}),
    (4, "RKK-001", ROKOK, "Rokok Kretek 12", 25000, {"active": False}),
    (5, "GULA-1KG", None, "Gula Pasir 1kg", 17000, {}),
]
"""The small catalog's products; each one's change number is 9 + its id."""

VOUCHERS: list[tuple[int, str, VoucherKind, int, dict[str, Any]]] = [
    # id, code, kind, value, the other fields
    (
        1,
        "HEMAT10",
        VoucherKind.PERCENT,
        1000,
        {
            "min_spend": 20000,
            "valid_from": datetime(2025, 1, 1, tzinfo=UTC),
            "valid_until": datetime(2025, 12, 31, tzinfo=UTC),
        },
    ),
    (2, "POTONG5RB", VoucherKind.FIXED, 5000, {}),
    (3, "HABIS", VoucherKind.FIXED, 1000, {"usage_limit": 1, "used_count": 1}),
]
"""The small catalog's vouchers; each one's change number is 39 + its id."""


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime) -> None:
        self.moment = start

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


def catalog_product(
    pid: int, sku: str, barcode: str | None, name: str, price: int, extra: Mapping[str, Any]
) -> ProductOut:
    """A product of the small catalog, from its :data:`PRODUCTS` row (change number 9 + id)."""
    return ProductOut(
        id=pid, sku=sku, barcode=barcode, name=name, price=price, change_no=9 + pid, **extra
    )


def seed_page(*, cursor: int = 100) -> PullResponse:
    """A small catalog as the server would send it in one pull page."""
    return PullResponse(
        cursor=cursor,
        has_more=False,
        remaining=0,
        categories=[CategoryOut(id=1, name="Sembako", change_no=1)],
        tax_rates=[
            TaxRateOut(id=1, code="PPN", name="PPN 11%", rate_bp=1100, inclusive=True, change_no=2),
            TaxRateOut(
                id=2, code="PPNX", name="PPN 11% excl", rate_bp=1100, inclusive=False, change_no=3
            ),
        ],
        products=[catalog_product(*row) for row in PRODUCTS],
        users=[
            UserOut(
                id=uid,
                username=role.value,
                full_name=f"Ibu {role.value.title()}",
                role=role,
                store_id=STORE_ID,
                pin_hash=FAST_HASHER.hash(PINS[uid]),
                change_no=20 + uid,
            )
            for uid, role in [
                (CASHIER, Role.CASHIER),
                (SUPERVISOR, Role.SUPERVISOR),
                (MANAGER, Role.MANAGER),
                (ADMIN, Role.ADMIN),
            ]
        ],
        stores=[
            StoreOut(
                id=STORE_ID,
                code="JKT1",
                name="Toko Maju",
                address="Jl. Sudirman 1",
                npwp="01.234.567.8-901.000",
                timezone="Asia/Jakarta",
                change_no=30,
            )
        ],
        vouchers=[
            VoucherOut(id=vid, code=code, kind=kind, value=value, change_no=39 + vid, **extra)
            for vid, code, kind, value, extra in VOUCHERS
        ],
        stock=[
            StockLevelOut(product_id=1, store_id=STORE_ID, on_hand=100, change_no=50),
            StockLevelOut(product_id=2, store_id=STORE_ID, on_hand=24, change_no=51),
        ],
    )


MenuItem = tuple[int, str, str, int, int]
"""A product made to order (no barcode): id, SKU, name, price, category id."""

WARUNG: list[MenuItem] = [
    (101, "ES-TEH", "Es Teh Manis", 4000, 10),
    (102, "ES-JRK", "Es Jeruk", 6000, 10),
    (103, "KOPI-SSU", "Kopi Susu", 8000, 10),
    (111, "NSG-GRG", "Nasi Goreng", 18000, 11),
]
"""Drinks (category 10) and food (11) of a small warung, for :func:`menu_page`."""


def menu_page(
    items: Sequence[MenuItem],
    categories: Mapping[int, str],
    *,
    cursor: int = 200,
    retired: Collection[int] = (),
    on_hand: Mapping[int, int] | None = None,
) -> PullResponse:
    """A pull page of goods without barcodes, taxed at PPN: ``categories`` by id, the
    ``items`` (those ``retired`` no longer for sale) and stock ``on_hand`` by product id.
    Change numbers follow the ids."""
    return PullResponse(
        cursor=cursor,
        has_more=False,
        remaining=0,
        categories=[
            CategoryOut(id=i, name=name, change_no=91 + i) for i, name in categories.items()
        ],
        products=[
            ProductOut(
                id=pid,
                sku=sku,
                name=name,
                price=price,
                category_id=category,
                tax_rate_id=1,
                active=pid not in retired,
                change_no=110 + pid,
            )
            for pid, sku, name, price, category in items
        ],
        stock=[
            StockLevelOut(product_id=pid, store_id=STORE_ID, on_hand=count, change_no=300 + pid)
            for pid, count in (on_hand or {}).items()
        ],
    )


def seed(store: LocalStore) -> LocalStore:
    """Enroll ``store`` as terminal T01 of store 7 and load the small catalog."""
    store.save_enrollment(
        device_token="tok-test", terminal_id=1, terminal_code="T01", store_id=STORE_ID
    )
    store.apply_pull_page(seed_page())
    return store


@pytest.fixture
def clock() -> FakeClock:
    """15 June 2025, 10:00 in Jakarta."""
    return FakeClock(datetime(2025, 6, 15, 3, 0, tzinfo=UTC))


@pytest.fixture
def settings(tmp_path: Path) -> ClientSettings:
    """Settings pointing at a temporary data folder."""
    return ClientSettings(data_dir=tmp_path, terminal_code="T01")


@pytest.fixture
def store() -> Iterator[LocalStore]:
    """An in-memory store with the small catalog."""
    s = seed(LocalStore.memory())
    yield s
    s.close()


@dataclass
class Till(TillServices):
    """All services wired as the UI wires them."""

    clock: FakeClock

    def manager_refund(
        self,
        sale_id: UUID,
        quantities: Mapping[UUID, int] | None = None,
        *,
        reason: str = "rusak",
        method: RefundMethod = RefundMethod.CASH,
    ) -> RefundIn:
        """Refund ``quantities`` of a sale (None = all that is left), the manager approving."""
        return self.refunds.refund(
            sale_id,
            quantities,
            manager_id=MANAGER,
            manager_pin=PINS[MANAGER],
            reason=reason,
            method=method,
        )


def make_till(store: LocalStore, settings: ClientSettings, clock: FakeClock) -> Till:
    """Services over ``store`` sharing ``clock``."""
    return Till.wire(store, settings, now=clock, hasher=FAST_HASHER, clock=clock)


def ring(till: Till, *codes: str, tendered: int = 1_000_000) -> SaleIn:
    """Scan ``codes`` and take cash for them; the sale as it went to the outbox."""
    for code in codes:
        till.checkout.scan(code)
    return till.checkout.checkout_cash(tendered).sale


@pytest.fixture
def till(store: LocalStore, settings: ClientSettings, clock: FakeClock) -> Till:
    """A till with the cashier logged in and a shift open with a Rp200.000 float."""
    t = make_till(store, settings, clock)
    t.auth.login(CASHIER, PINS[CASHIER])
    t.shifts.open(200_000)
    return t
