"""Who may call which route: every route of the app × every kind of caller × own/other store.

The routes come from the app itself, so a route added later fails here until it has a
row in ``RULES`` (the same table as docs/authorization.md). Callers belong to store S01;
"own" targets S01's rows, "other" S02's. A refused caller gets 403 (401 without a
token); a role refusal comes from the auth dependencies, before the request is even
validated, so it is also checked with a request that is nonsense. Runs on SQLite and
MariaDB.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select

from shared.models import PROTOCOL_HEADER, PROTOCOL_VERSION
from sync_server.auth.models import Terminal
from sync_server.catalog.models import Category, Product, TaxRate, Voucher
from sync_server.core.database import Database, next_change_numbers, utcnow
from sync_server.core.models import Store
from sync_server.customers.models import Customer
from sync_server.outlets.models import StockTransfer, StockTransferLine
from sync_server.purchasing.models import (
    PurchaseOrder,
    PurchaseOrderLine,
    StockRequest,
    StockRequestLine,
    Supplier,
)
from sync_server.sync.models import RejectedEvent
from tests.server.conftest import StoreStaff, World, api_token_for, build_staff

# --------------------------------------------------------------------------- the table

OK = "ok"  # allowed: anything but 401/403
ROLE = "role"  # 403 from the auth dependencies, whatever the request says
STORE = "store"  # 403: the role may, but not on another store's rows
ANON = "anon"  # 401: no token

CALLERS = ("admin", "manager", "supervisor", "cashier", "terminal", "anonymous")


@dataclass(frozen=True)
class Rule:
    """Outcome per caller; ``scoped`` routes are tried on S01's rows and on S02's."""

    admin: str
    manager: str
    supervisor: str
    cashier: str
    terminal: str
    scoped: bool = False

    def outcome(self, caller: str, target: str) -> str:
        """What ``caller`` gets on an own or other store's row."""
        if caller == "anonymous":
            return ANON
        own: str = getattr(self, caller)
        if target == "other" and own == OK and self.scoped and caller != "admin":
            return STORE
        return own


# Rows of the table in docs/authorization.md.
CHAIN_READ = Rule(admin=OK, manager=OK, supervisor=OK, cashier=ROLE, terminal=ROLE)
CHAIN_WRITE = Rule(admin=OK, manager=ROLE, supervisor=ROLE, cashier=ROLE, terminal=ROLE)
MANAGER_READ = Rule(admin=OK, manager=OK, supervisor=ROLE, cashier=ROLE, terminal=ROLE)
STORE_READ = Rule(admin=OK, manager=OK, supervisor=OK, cashier=ROLE, terminal=ROLE, scoped=True)
STORE_FLOOR = STORE_READ  # receiving goods and counting shelves: supervisors too
STORE_MANAGE = Rule(admin=OK, manager=OK, supervisor=ROLE, cashier=ROLE, terminal=ROLE, scoped=True)
OWN_SESSION = Rule(admin=OK, manager=OK, supervisor=OK, cashier=OK, terminal=ROLE)
TILL = Rule(admin=ROLE, manager=ROLE, supervisor=ROLE, cashier=ROLE, terminal=OK)
# Rows of the chain that any store's manager keeps (suppliers serve every outlet;
# customers and the points rule are the chain's): no store to check.
CHAIN_MANAGE = Rule(admin=OK, manager=OK, supervisor=ROLE, cashier=ROLE, terminal=ROLE)
# A till looks a customer up by phone and adds one; supervisors and up too.
CUSTOMER_LOOKUP = Rule(admin=OK, manager=OK, supervisor=OK, cashier=ROLE, terminal=OK)

RULES: dict[tuple[str, str], Rule] = {
    ("POST", "/api/v1/auth/logout"): OWN_SESSION,
    ("GET", "/api/v1/auth/me"): OWN_SESSION,
    ("GET", "/api/v1/users"): STORE_MANAGE,
    ("POST", "/api/v1/users"): STORE_MANAGE,
    ("PATCH", "/api/v1/users/{user_id}"): STORE_MANAGE,
    ("POST", "/api/v1/terminals/enrollment-codes"): STORE_MANAGE,
    ("GET", "/api/v1/terminals"): STORE_MANAGE,
    ("GET", "/api/v1/terminals/me"): TILL,
    ("POST", "/api/v1/terminals/{terminal_id}/revoke"): STORE_MANAGE,
    ("GET", "/api/v1/categories"): CHAIN_READ,
    ("POST", "/api/v1/categories"): CHAIN_WRITE,
    ("PATCH", "/api/v1/categories/{category_id}"): CHAIN_WRITE,
    ("GET", "/api/v1/tax-rates"): CHAIN_READ,
    ("POST", "/api/v1/tax-rates"): CHAIN_WRITE,
    ("PATCH", "/api/v1/tax-rates/{tax_rate_id}"): CHAIN_WRITE,
    ("GET", "/api/v1/products"): CHAIN_READ,
    ("GET", "/api/v1/products/export.csv"): MANAGER_READ,
    ("POST", "/api/v1/products/import"): CHAIN_WRITE,
    ("GET", "/api/v1/products/{product_id}"): CHAIN_READ,
    ("POST", "/api/v1/products"): CHAIN_WRITE,
    ("PATCH", "/api/v1/products/{product_id}"): CHAIN_WRITE,
    ("POST", "/api/v1/products/{product_id}/deactivate"): CHAIN_WRITE,
    ("GET", "/api/v1/vouchers"): CHAIN_READ,
    ("POST", "/api/v1/vouchers"): CHAIN_WRITE,
    ("PATCH", "/api/v1/vouchers/{voucher_id}"): CHAIN_WRITE,
    ("GET", "/api/v1/payment/get-payment-channel"): TILL,
    ("POST", "/api/v1/payment/create-transaction"): TILL,
    ("POST", "/api/v1/payment/create-payment"): TILL,
    ("GET", "/api/v1/payment/get-status-payment"): TILL,
    # Always the caller's own store (an admin without a store sees every store's).
    ("GET", "/api/v1/payment/orders"): MANAGER_READ,
    ("GET", "/api/v1/reports/sales"): STORE_MANAGE,
    ("GET", "/api/v1/reports/top-products"): STORE_MANAGE,
    ("GET", "/api/v1/reports/payment-methods"): STORE_MANAGE,
    ("GET", "/api/v1/reports/cashiers"): STORE_MANAGE,
    ("GET", "/api/v1/reports/terminals"): STORE_MANAGE,
    ("GET", "/api/v1/reports/refunds-voids-discounts"): STORE_MANAGE,
    ("GET", "/api/v1/reports/stock"): STORE_MANAGE,
    ("GET", "/api/v1/reports/terminal-health"): STORE_MANAGE,
    ("GET", "/api/v1/reports/rejected-events"): STORE_MANAGE,
    ("POST", "/api/v1/reports/rejected-events/{event_id}/resolve"): STORE_MANAGE,
    ("GET", "/api/v1/reports/payments"): STORE_MANAGE,
    ("GET", "/api/v1/reports/dashboard"): STORE_MANAGE,
    ("POST", "/api/v1/stock/receive"): STORE_FLOOR,
    ("POST", "/api/v1/stock/adjust"): STORE_MANAGE,
    ("POST", "/api/v1/stock/count"): STORE_FLOOR,
    ("GET", "/api/v1/stock/levels"): STORE_READ,
    ("GET", "/api/v1/stock/moves"): STORE_READ,
    # Lists only the caller's store (every store for an admin): nothing to name.
    ("GET", "/api/v1/stores"): CHAIN_READ,
    ("GET", "/api/v1/stores/{store_id}"): STORE_READ,
    ("PATCH", "/api/v1/stores/{store_id}"): STORE_MANAGE,
    ("POST", "/api/v1/sync/push"): TILL,
    ("GET", "/api/v1/sync/pull"): TILL,
    ("GET", "/api/v1/flags"): STORE_MANAGE,
    # The flag's store is checked by the service (flags/service.py); no flag is seeded
    # here, so only the role column is exercised (an allowed call answers 404).
    ("POST", "/api/v1/flags/{flag_id}/resolve"): MANAGER_READ,
    # Reports added with issue 14 (the same period reports as above).
    ("GET", "/api/v1/reports/hourly"): STORE_MANAGE,
    ("GET", "/api/v1/reports/margin"): STORE_MANAGE,
    ("GET", "/api/v1/reports/margin-products"): STORE_MANAGE,
    ("GET", "/api/v1/reports/margin-categories"): STORE_MANAGE,
    # Sales and shifts: lists take ?store_id=. One sale or shift of another store
    # answers 404 by design (sales/service.py; tests/server/test_sales_api.py,
    # test_shifts_api.py), so only the role column is exercised here.
    ("GET", "/api/v1/sales"): STORE_MANAGE,
    ("GET", "/api/v1/sales/{sale_id}"): MANAGER_READ,
    ("GET", "/api/v1/shifts"): STORE_MANAGE,
    ("GET", "/api/v1/shifts/reconciliation"): STORE_MANAGE,
    ("GET", "/api/v1/shifts/{shift_id}"): MANAGER_READ,
    # E-receipts: the till's signing key.
    ("GET", "/api/v1/sync/receipt-key"): TILL,
    ("POST", "/api/v1/sync/receipt-email"): TILL,
    # Purchasing. Suppliers serve every outlet: read like the catalog, kept by managers.
    ("GET", "/api/v1/suppliers"): CHAIN_READ,
    ("POST", "/api/v1/suppliers"): CHAIN_MANAGE,
    ("GET", "/api/v1/suppliers/{supplier_id}"): CHAIN_READ,
    ("PUT", "/api/v1/suppliers/{supplier_id}"): CHAIN_MANAGE,
    # Orders and requests are a store's (purchasing/service.py: resolve_store, _may_see).
    ("GET", "/api/v1/purchase-orders"): STORE_READ,
    ("POST", "/api/v1/purchase-orders"): STORE_MANAGE,
    ("GET", "/api/v1/purchase-orders/{order_id}"): STORE_READ,
    ("POST", "/api/v1/purchase-orders/{order_id}/send"): STORE_MANAGE,
    ("POST", "/api/v1/purchase-orders/{order_id}/cancel"): STORE_MANAGE,
    ("POST", "/api/v1/purchase-orders/{order_id}/receive"): STORE_FLOOR,
    ("GET", "/api/v1/stock-requests"): STORE_READ,
    ("POST", "/api/v1/stock-requests"): STORE_FLOOR,
    ("GET", "/api/v1/stock-requests/{request_id}"): STORE_READ,
    ("POST", "/api/v1/stock-requests/{request_id}/approve"): STORE_MANAGE,
    ("POST", "/api/v1/stock-requests/{request_id}/reject"): STORE_MANAGE,
    ("POST", "/api/v1/stock-requests/{request_id}/to-po"): STORE_MANAGE,
    ("GET", "/api/v1/stock/suggestions"): STORE_READ,
    ("POST", "/api/v1/stock/suggestions/to-po"): STORE_MANAGE,
    # Outlets (outlets/service.py): the outlet in the path, or the transfer's source
    # (send, cancel, a new transfer's from_store_id) or destination (receive); either
    # outlet may read a transfer.
    ("GET", "/api/v1/outlets/{store_id}/prices"): STORE_MANAGE,
    ("PUT", "/api/v1/outlets/{store_id}/prices"): STORE_MANAGE,
    ("DELETE", "/api/v1/outlets/{store_id}/prices/{product_id}"): STORE_MANAGE,
    ("GET", "/api/v1/outlets/{store_id}/in-transit"): STORE_MANAGE,
    ("GET", "/api/v1/outlets/{store_id}/transfers"): STORE_MANAGE,
    ("POST", "/api/v1/outlets/transfers"): STORE_MANAGE,
    ("GET", "/api/v1/outlets/transfers/{transfer_id}"): STORE_MANAGE,
    ("POST", "/api/v1/outlets/transfers/{transfer_id}/send"): STORE_MANAGE,
    ("POST", "/api/v1/outlets/transfers/{transfer_id}/receive"): STORE_MANAGE,
    ("POST", "/api/v1/outlets/transfers/{transfer_id}/cancel"): STORE_MANAGE,
    # Lists only the outlets the caller may see: nothing to name.
    ("GET", "/api/v1/outlets/stock/{product_id}"): CHAIN_READ,
    # Customers and loyalty: the customer is the chain's; their history and the top
    # list are narrowed to a store (?store_id=, customers/service.py visible_store_ids).
    ("GET", "/api/v1/customers/changes"): TILL,
    ("GET", "/api/v1/customers"): CUSTOMER_LOOKUP,
    ("POST", "/api/v1/customers"): CUSTOMER_LOOKUP,
    ("GET", "/api/v1/customers/top"): STORE_MANAGE,
    ("GET", "/api/v1/customers/{customer_id}"): STORE_READ,
    ("PUT", "/api/v1/customers/{customer_id}"): CHAIN_MANAGE,
    ("POST", "/api/v1/customers/{customer_id}/points"): CHAIN_MANAGE,
    ("GET", "/api/v1/loyalty"): CHAIN_MANAGE,
    ("PUT", "/api/v1/loyalty"): CHAIN_WRITE,
}

# Routes left out, each with its reason.
EXCLUDED: dict[tuple[str, str], str] = {
    ("GET", "/health"): "public liveness probe",
    ("GET", "/ready"): "public readiness probe",
    ("GET", "/metrics"): "Prometheus scrape, kept off the public network by the proxy",
    ("POST", "/api/v1/auth/login"): "sign-in: no token yet by design",
    ("POST", "/api/v1/terminals/enroll"): "enrolment: the one-time code is the credential",
    ("POST", "/api/v1/payment/callback"): "Tripay's callback: authorised by its signature",
    ("GET", "/r/{terminal}/{sale}/{signature}"): "the e-receipt page: authorised by its signature",
}
EXCLUDED_PREFIXES: dict[str, str] = {
    "/web": "back-office pages: tests/web/test_access.py walks every one",
    "/static": "static files",
    "/docs": "API docs",
    "/redoc": "API docs",
    "/openapi.json": "API docs",
}


def app_routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """Every (method, path template) the app answers, however its routers are nested."""

    def walk(routes: Any) -> Iterator[tuple[str, str]]:
        for route in routes:
            if hasattr(route, "effective_route_contexts"):  # an included router (FastAPI ≥ 0.16x)
                for context in route.effective_route_contexts():
                    methods = getattr(context.original_route, "methods", None) or ()
                    for method in methods:
                        yield method, context.path
            elif isinstance(route, APIRoute) or hasattr(route, "methods"):
                for method in getattr(route, "methods", None) or ():
                    yield method, route.path
            else:
                yield "*", getattr(route, "path", repr(route))

    for method, path in walk(app.routes):
        if method in {"HEAD", "OPTIONS"}:
            continue
        yield method, path


def checked_routes(app: FastAPI) -> list[tuple[str, str]]:
    """The routes this matrix covers (every route but the listed exclusions)."""
    return sorted(
        {
            (method, path)
            for method, path in app_routes(app)
            if (method, path) not in EXCLUDED
            and not any(path.startswith(prefix) for prefix in EXCLUDED_PREFIXES)
        }
    )


# --------------------------------------------------------------------------- the rows


@dataclass
class Matrix:
    """Seeded rows and the callers' credentials."""

    own: StoreStaff
    other: StoreStaff
    headers: dict[str, dict[str, str]]
    ppn_id: int
    category_id: int
    product_id: int
    voucher_id: int
    own_cashier_id: int
    own_terminal_id: int
    rejected: dict[str, uuid.UUID]
    supplier_id: int
    customer_id: uuid.UUID
    orders: dict[str, int]
    requests: dict[str, int]
    transfers: dict[str, uuid.UUID]


def _seed_catalog(db: Database) -> tuple[int, int, int, int]:
    with db.session() as s:
        ppn = TaxRate(code="PPN", name="PPN 11%", rate_bp=1100, inclusive=True, change_no=0)
        category = Category(name="Minuman", change_no=0)
        s.add_all([ppn, category])
        s.flush()
        product = Product(
            sku="TEH-0001",
            name="Teh Botol 450ml",
            category_id=category.id,
            price=5000,
            tax_rate_id=ppn.id,
            change_no=0,
            updated_at=utcnow(),
        )
        voucher = Voucher(code="HEMAT10", kind="percent", value=1000, change_no=0)
        s.add_all([product, voucher])
        s.flush()
        for row in (ppn, category, product, voucher):
            row.change_no = next_change_numbers(s, 1)
        return ppn.id, category.id, product.id, voucher.id


def _seed_rejected(db: Database, terminal_id: int) -> uuid.UUID:
    event_id = uuid.uuid4()
    with db.session() as s:
        s.add(
            RejectedEvent(
                event_id=event_id,
                terminal_id=terminal_id,
                type="sale",
                code="bad_total",
                reason="The total does not add up.",
                payload="{}",
            )
        )
    return event_id


def _seed_purchasing(
    db: Database, *, product_id: int, staff: dict[str, StoreStaff]
) -> tuple[int, dict[str, int], dict[str, int]]:
    """A supplier, and a draft purchase order and an open stock request per store."""
    orders: dict[str, int] = {}
    requests: dict[str, int] = {}
    with db.session() as s:
        supplier = Supplier(name="CV Sumber Rejeki")
        s.add(supplier)
        s.flush()
        for target, people in staff.items():
            order = PurchaseOrder(
                store_id=people.store_id,
                supplier_id=supplier.id,
                status="draft",
                created_by=people.manager_id,
            )
            request = StockRequest(
                store_id=people.store_id, status="requested", requested_by=people.supervisor_id
            )
            s.add_all([order, request])
            s.flush()
            s.add_all(
                [
                    PurchaseOrderLine(
                        order_id=order.id,
                        product_id=product_id,
                        quantity_ordered=10,
                        unit_cost=3000,
                        quantity_received=0,
                    ),
                    StockRequestLine(request_id=request.id, product_id=product_id, quantity=10),
                ]
            )
            orders[target], requests[target] = order.id, request.id
        return supplier.id, orders, requests


def _seed_transfers(
    db: Database, *, product_id: int, stores: dict[str, int], created_by: int
) -> dict[str, uuid.UUID]:
    """Draft transfers: ``out`` S01 → S02 (S01 sends), ``in`` S02 → S01 (S01 receives),
    ``elsewhere`` S02 → S03 (S01 is neither end)."""
    ends = {
        "out": (stores["own"], stores["other"]),
        "in": (stores["other"], stores["own"]),
        "elsewhere": (stores["other"], stores["third"]),
    }
    ids = {name: uuid.uuid4() for name in ends}
    with db.session() as s:
        for name, (source, target) in ends.items():
            s.add(
                StockTransfer(
                    id=ids[name],
                    from_store_id=source,
                    to_store_id=target,
                    status="draft",
                    note="",
                    digest="0" * 64,
                    created_by=created_by,
                    created_at=utcnow().replace(microsecond=0),
                    loss_reason="",
                )
            )
        s.flush()
        s.add_all(
            StockTransferLine(transfer_id=ids[name], product_id=product_id, quantity=2)
            for name in ends
        )
    return ids


def _seed_customer(db: Database, *, store_id: int) -> uuid.UUID:
    customer_id = uuid.uuid4()
    with db.session() as s:
        s.add(Customer(id=customer_id, phone="+6281100000001", name="Ibu Ani", store_id=store_id))
    return customer_id


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def matrix(db: Database, world: World) -> Matrix:
    """S01 and S02 each with staff, a shared catalog, a supplier and a customer, and per
    store a rejected event, a purchase order and a stock request; transfers out of, into
    and away from S01 (S03 is a third outlet)."""
    own = build_staff(db, store_id=world.store_id, prefix="s01")
    other = build_staff(db, store_id=world.other_store_id, prefix="s02")
    ppn_id, category_id, product_id, voucher_id = _seed_catalog(db)
    with db.session() as s:
        third = Store(code="S03", name="Toko Ketiga")
        s.add(third)
        s.flush()
        third_store_id = third.id
    supplier_id, orders, requests = _seed_purchasing(
        db, product_id=product_id, staff={"own": own, "other": other}
    )
    transfers = _seed_transfers(
        db,
        product_id=product_id,
        stores={"own": own.store_id, "other": other.store_id, "third": third_store_id},
        created_by=world.admin_id,
    )
    admin_token = api_token_for(db, world.admin_id)
    headers = {
        "admin": _bearer(admin_token),
        "manager": _bearer(own.manager_token),
        "supervisor": _bearer(own.supervisor_token),
        "cashier": _bearer(own.cashier_token),
        "terminal": {
            **_bearer(own.terminal_token),
            PROTOCOL_HEADER: str(PROTOCOL_VERSION),
        },
        "anonymous": {},
    }
    return Matrix(
        own=own,
        other=other,
        headers=headers,
        ppn_id=ppn_id,
        category_id=category_id,
        product_id=product_id,
        voucher_id=voucher_id,
        own_cashier_id=world.cashier_ids[1],
        own_terminal_id=world.terminal_ids[1],
        rejected={
            "own": _seed_rejected(db, world.terminal_ids[1]),
            "other": _seed_rejected(db, other.terminal_id),
        },
        supplier_id=supplier_id,
        customer_id=_seed_customer(db, store_id=own.store_id),
        orders=orders,
        requests=requests,
        transfers=transfers,
    )


_unique = itertools.count(1)


def build_request(m: Matrix, method: str, path: str, target: str) -> dict[str, Any]:
    """A minimal valid request for the route, aimed at S01's rows ("own") or S02's."""
    n = next(_unique)
    store_id = m.own.store_id if target == "own" else m.other.store_id
    elsewhere = m.other.store_id if target == "own" else m.own.store_id
    # S01 sends "out" and receives "in"; S01 is no end of "elsewhere".
    transfer = "elsewhere" if target == "other" else "in" if path.endswith("/receive") else "out"
    ids = {
        "store_id": store_id,
        "user_id": m.own_cashier_id if target == "own" else m.other.cashier_id,
        "terminal_id": m.own_terminal_id if target == "own" else m.other.terminal_id,
        "event_id": m.rejected[target],
        "product_id": m.product_id,
        "category_id": m.category_id,
        "tax_rate_id": m.ppn_id,
        "voucher_id": m.voucher_id,
        "flag_id": 999_999,
        "sale_id": uuid.uuid4(),
        "shift_id": uuid.uuid4(),
        "supplier_id": m.supplier_id,
        "order_id": m.orders[target],
        "request_id": m.requests[target],
        "transfer_id": m.transfers[transfer],
        "customer_id": m.customer_id,
    }
    url = re.sub(r"\{(\w+)\}", lambda match: str(ids[match.group(1)]), path)
    bodies: dict[tuple[str, str], Any] = {
        ("POST", "/api/v1/users"): {
            "username": f"baru{n}",
            "full_name": "Kasir Baru",
            "role": "cashier",
            "store_id": store_id,
            "pin": "4321",
        },
        ("PATCH", "/api/v1/users/{user_id}"): {"full_name": f"Nama {n}"},
        ("POST", "/api/v1/terminals/enrollment-codes"): {
            "store_id": store_id,
            "terminal_code": f"N{n}",
        },
        ("POST", "/api/v1/categories"): {"name": f"Kategori {n}"},
        ("PATCH", "/api/v1/categories/{category_id}"): {"name": f"Minuman {n}"},
        ("POST", "/api/v1/tax-rates"): {"code": f"TX{n}", "name": "Bebas", "rate_bp": 0},
        ("PATCH", "/api/v1/tax-rates/{tax_rate_id}"): {"rate_bp": 0},
        ("POST", "/api/v1/products"): {"sku": f"SKU-{n}", "name": "Roti", "price": 8000},
        ("PATCH", "/api/v1/products/{product_id}"): {"price": 1},
        ("POST", "/api/v1/vouchers"): {"code": f"V{n}", "kind": "fixed", "value": 1000},
        ("PATCH", "/api/v1/vouchers/{voucher_id}"): {"min_spend": 10000},
        ("POST", "/api/v1/payment/create-transaction"): {
            "order_id": f"S01T1-{n:020d}",
            "amount": 10000,
        },
        ("POST", "/api/v1/payment/create-payment"): {"order_id": f"S01T1-{n:020d}"},
        ("POST", "/api/v1/reports/rejected-events/{event_id}/resolve"): {"note": "Diketik ulang"},
        ("POST", "/api/v1/stock/receive"): {
            "store_id": store_id,
            "lines": [{"product_id": m.product_id, "quantity": 5}],
        },
        ("POST", "/api/v1/stock/adjust"): {
            "store_id": store_id,
            "lines": [{"product_id": m.product_id, "quantity": -1}],
            "reason": "Pecah",
        },
        ("POST", "/api/v1/stock/count"): {
            "store_id": store_id,
            "lines": [{"product_id": m.product_id, "counted": 3}],
        },
        ("PATCH", "/api/v1/stores/{store_id}"): {"receipt_footer": f"Terima kasih {n}"},
        ("POST", "/api/v1/sync/push"): {"events": []},
        ("POST", "/api/v1/sync/receipt-email"): {"sale_id": str(uuid.uuid4()), "to": "a@b.id"},
        ("POST", "/api/v1/flags/{flag_id}/resolve"): {"note": "Sudah dicek"},
        ("POST", "/api/v1/suppliers"): {"name": f"Pemasok {n}"},
        ("PUT", "/api/v1/suppliers/{supplier_id}"): {"name": f"CV Sumber Rejeki {n}"},
        ("POST", "/api/v1/purchase-orders"): {
            "store_id": store_id,
            "supplier_id": m.supplier_id,
            "lines": [{"product_id": m.product_id, "quantity": 5, "unit_cost": 3000}],
        },
        ("POST", "/api/v1/purchase-orders/{order_id}/receive"): {
            "receipt_id": str(uuid.uuid4()),
            "lines": [{"product_id": m.product_id, "quantity": 1}],
        },
        ("POST", "/api/v1/stock-requests"): {
            "store_id": store_id,
            "lines": [{"product_id": m.product_id, "quantity": 5}],
        },
        ("POST", "/api/v1/stock-requests/{request_id}/to-po"): {"supplier_id": m.supplier_id},
        ("POST", "/api/v1/stock/suggestions/to-po"): {
            "supplier_id": m.supplier_id,
            "store_id": store_id,
        },
        ("PUT", "/api/v1/outlets/{store_id}/prices"): {"product_id": m.product_id, "price": 4500},
        ("POST", "/api/v1/outlets/transfers"): {
            "id": str(uuid.uuid4()),
            "from_store_id": store_id,
            "to_store_id": elsewhere,
            "lines": [{"product_id": m.product_id, "quantity": 1}],
        },
        ("POST", "/api/v1/customers"): {"name": "Pelanggan", "phone": f"0812{n:08d}"},
        ("PUT", "/api/v1/customers/{customer_id}"): {
            "name": "Ibu Ani",
            "phone": f"0813{n:08d}",
        },
        ("POST", "/api/v1/customers/{customer_id}/points"): {"points": 5, "reason": "koreksi"},
        ("PUT", "/api/v1/loyalty"): {
            "enabled": True,
            "earn_points": 1,
            "earn_per_rupiah": 10000,
            "point_value": 100,
        },
    }
    query: dict[str, Any] = {}
    store_lists = {
        "/api/v1/users",
        "/api/v1/terminals",
        "/api/v1/flags",
        "/api/v1/sales",
        "/api/v1/shifts",
        "/api/v1/shifts/reconciliation",
        "/api/v1/purchase-orders",
        "/api/v1/stock-requests",
        "/api/v1/customers/top",
        "/api/v1/customers/{customer_id}",
    }
    if path in store_lists and method == "GET":
        query["store_id"] = store_id
    if (method, path) == ("GET", "/api/v1/customers"):
        query["phone"] = "081100000001"  # a till must give one
    if path.startswith(("/api/v1/reports/", "/api/v1/stock/")) and method == "GET":
        query["store_id"] = store_id
    if path == "/api/v1/payment/get-status-payment":
        query["order_id"] = "S01T1-unknown"
    request: dict[str, Any] = {"method": method, "url": url, "params": query}
    if (method, path) == ("POST", "/api/v1/products/import"):
        csv = "sku,barcode,name,category,unit,price,tax_code,active,low_stock_threshold\n"
        csv += f"IMP-{n},,Gula 1kg,Minuman,pcs,16000,PPN,true,0\n"
        request["files"] = {"file": ("products.csv", csv.encode(), "text/csv")}
    elif (method, path) in bodies:
        request["json"] = bodies[(method, path)]
    elif method in {"POST", "PATCH", "PUT"}:
        request["json"] = {}
    return request


def nonsense_request(method: str, path: str) -> dict[str, Any]:
    """A request no validator would pass: words for ids, a body of the wrong shape."""
    url = re.sub(r"\{(\w+)\}", "not-an-id", path)
    request: dict[str, Any] = {
        "method": method,
        "url": url,
        "params": {"store_id": "x", "limit": "-5", "order_id": "x" * 500},
    }
    if method in {"POST", "PATCH", "PUT"}:
        request["json"] = {"nonsense": [1, 2, 3]}
    return request


def expected_status(outcome: str) -> int | None:
    """The exact status of a refusal; None for an allowed call."""
    return {ANON: 401, ROLE: 403, STORE: 403}.get(outcome)


# --------------------------------------------------------------------------- the tests


def test_every_route_has_a_rule_and_every_rule_a_route(app: FastAPI) -> None:
    routes = checked_routes(app)
    assert ("PATCH", "/api/v1/tax-rates/{tax_rate_id}") in routes
    assert len(routes) >= 50
    unruled = [route for route in routes if route not in RULES]
    assert unruled == [], "add these routes to RULES and docs/authorization.md"
    stale = [route for route in RULES if route not in routes]
    assert stale == []
    unknown = [route for route in app_routes(app) if route[0] == "*"]
    assert all(
        any(path.startswith(prefix) for prefix in EXCLUDED_PREFIXES) for _, path in unknown
    ), unknown


def _cells(rule: Rule) -> list[tuple[str, str]]:
    targets = ("own", "other") if rule.scoped else ("own",)
    cells = [(caller, target) for caller in CALLERS for target in targets]
    # Refusals first: an allowed call may sign a caller out or revoke a till.
    return sorted(cells, key=lambda cell: rule.outcome(*cell) == OK)


def run_matrix(client: TestClient, m: Matrix, routes: list[tuple[str, str]]) -> list[str]:
    """Call every cell; the cells whose answer does not match the table."""
    wrong: list[str] = []
    # Signing out ends the caller's token: that route goes last.
    for method, path in sorted(routes, key=lambda route: route[1] == "/api/v1/auth/logout"):
        rule = RULES[(method, path)]
        for caller, target in _cells(rule):
            outcome = rule.outcome(caller, target)
            want = expected_status(outcome)
            headers = m.headers[caller]
            resp = client.request(headers=headers, **build_request(m, method, path, target))
            got = resp.status_code
            if want is None and got in (401, 403):
                wrong.append(f"{method} {path} {caller}/{target}: want allowed, got {got}")
            elif want is not None and got != want:
                wrong.append(f"{method} {path} {caller}/{target}: want {want}, got {got}")
            if outcome in (ROLE, ANON):
                # Refused by who the caller is, before the request is looked at.
                resp = client.request(headers=headers, **nonsense_request(method, path))
                if resp.status_code != want:
                    wrong.append(
                        f"{method} {path} {caller}/nonsense: want {want}, got {resp.status_code}"
                    )
    return wrong


def test_authorisation_matrix_over_every_route(
    app: FastAPI, client: TestClient, matrix: Matrix
) -> None:
    wrong = run_matrix(client, matrix, checked_routes(app))
    assert wrong == [], "\n".join(wrong)


# --------------------------------------------------------------- the cases of issue 10 §7


def test_a_manager_of_s02_cannot_set_s01s_ppn_to_zero(
    client: TestClient, db: Database, world: World, other_staff: StoreStaff
) -> None:
    ppn_id, _, _, _ = _seed_catalog(db)
    for token in (other_staff.manager_token, world.manager_token):
        resp = client.patch(
            f"/api/v1/tax-rates/{ppn_id}", json={"rate_bp": 0}, headers=_bearer(token)
        )
        assert resp.status_code == 403, resp.text
        assert resp.json()["error"]["code"] == "role_required"
    with db.session() as s:
        ppn = s.get(TaxRate, ppn_id)
        assert ppn is not None and ppn.rate_bp == 1100


def test_a_manager_of_s02_cannot_change_a_product_price(
    client: TestClient, db: Database, world: World, other_staff: StoreStaff
) -> None:
    _, _, product_id, _ = _seed_catalog(db)
    with db.session() as s:
        before = s.get(Product, product_id)
        assert before is not None
        change_no = before.change_no
    resp = client.patch(
        f"/api/v1/products/{product_id}",
        json={"price": 1},
        headers=_bearer(other_staff.manager_token),
    )
    assert resp.status_code == 403, resp.text
    with db.session() as s:
        after = s.get(Product, product_id)
        assert after is not None
        assert (after.price, after.change_no) == (5000, change_no)


def test_a_manager_of_s02_cannot_edit_s01s_receipt_but_can_edit_their_own(
    client: TestClient, db: Database, world: World, other_staff: StoreStaff
) -> None:
    headers = _bearer(other_staff.manager_token)
    resp = client.patch(
        f"/api/v1/stores/{world.store_id}", json={"receipt_footer": "Tutup"}, headers=headers
    )
    assert resp.status_code == 403
    with db.session() as s:
        s01 = s.get(Store, world.store_id)
        assert s01 is not None and s01.receipt_footer != "Tutup"
    resp = client.patch(
        f"/api/v1/stores/{world.other_store_id}", json={"receipt_footer": "Buka"}, headers=headers
    )
    assert resp.status_code == 200 and resp.json()["receipt_footer"] == "Buka"


def test_an_admin_changes_the_chain_catalog(
    client: TestClient, db: Database, world: World, matrix: Matrix
) -> None:
    resp = client.patch(
        f"/api/v1/tax-rates/{matrix.ppn_id}",
        json={"rate_bp": 1200},
        headers=matrix.headers["admin"],
    )
    assert resp.status_code == 200 and resp.json()["rate_bp"] == 1200


def test_a_terminal_revoked_by_another_stores_manager_keeps_working(
    client: TestClient, db: Database, world: World, other_staff: StoreStaff
) -> None:
    resp = client.post(
        f"/api/v1/terminals/{world.terminal_ids[0]}/revoke",
        headers=_bearer(other_staff.manager_token),
    )
    assert resp.status_code == 403
    with db.session() as s:
        terminal = s.scalar(select(Terminal).where(Terminal.id == world.terminal_ids[0]))
        assert terminal is not None and terminal.revoked_at is None
