"""HTTP routes for customers and loyalty points (thin: parse, authorise, call).

Tills look a customer up by phone, create one, and page through changed customers and
balances (``/customers/changes``); supervisors and up read customers and their
history; managers edit customers and adjust points; the admin sets the points rule.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from shared.models import ChangeNumber, Count, Role, RowId
from shared.models.customers import (
    CustomerChangesOut,
    CustomerIn,
    CustomerOut,
    LoyaltySettings,
    PointsAdjustIn,
)
from sync_server.auth.deps import (
    AdminDep,
    ManagerDep,
    Principal,
    PrincipalDep,
    SupervisorDep,
    TerminalDep,
    check_protocol,
)
from sync_server.core.database import DbDep, ReportsDbDep
from sync_server.core.errors import Forbidden, Invalid, NotFound
from sync_server.customers import service
from sync_server.customers.schemas import (
    MAX_PAGE,
    CustomerHistory,
    CustomerPage,
    LoyaltySettingsOut,
    TopCustomerRow,
)
from sync_server.reports.exports import file_response
from sync_server.reports.registry import Column

router = APIRouter(prefix="/api/v1", tags=["customers"])


async def _till_or_supervisor(principal: PrincipalDep, request: Request) -> Principal:
    """A till (speaking this protocol) or a supervisor and up."""
    if principal.terminal is not None:
        await check_protocol(request)
        return principal
    role = principal.role
    if role is None or not role.at_least(Role.SUPERVISOR):
        raise Forbidden(
            "role_required",
            code="role_required",
            details={"required": Role.SUPERVISOR.value, "role": role.value if role else None},
            required=Role.SUPERVISOR.value,
        )
    return principal


TillOrSupervisorDep = Annotated[Principal, Depends(_till_or_supervisor)]

TOP_COLUMNS = (
    Column("Pelanggan", "name"),
    Column("Telepon", "phone"),
    Column("Belanja", "spend", "money"),
    Column("Kunjungan", "visits", "number"),
    Column("Poin didapat", "points_earned", "number"),
    Column("Poin ditukar", "points_redeemed", "number"),
    Column("Saldo poin", "points", "number"),
)
"""The top customers table: the page, the CSV (its keys) and the Excel file (titles)."""


@router.get("/customers/changes", summary="Customers and balances changed since a cursor")
def changes(
    terminal: TerminalDep,
    db: DbDep,
    cursor: Annotated[ChangeNumber, Query()] = 0,
    limit: Annotated[int, Query(ge=1, le=service.MAX_CHANGES)] = service.MAX_CHANGES,
) -> CustomerChangesOut:
    """Whole customers with their balance, changed since ``cursor``; ask again from the
    answer's ``cursor`` while ``has_more``. Also carries the chain's points rule."""
    return service.customer_changes(db, cursor=cursor, limit=limit)


@router.get("/customers", summary="Find customers (a till: by phone number)")
def customers(
    principal: TillOrSupervisorDep,
    db: DbDep,
    phone: Annotated[str | None, Query(max_length=32)] = None,
    q: Annotated[str, Query(max_length=100)] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[Count, Query()] = 0,
) -> CustomerPage:
    """By ``phone`` (any Indonesian spelling: 08…, +628…, 628…): the one customer or
    none. Otherwise (supervisors and up) a page by name, narrowed by ``q``."""
    if phone is not None:
        try:
            found = [service.find_by_phone(db, phone=phone)]
        except NotFound:
            found = []
        return CustomerPage(items=found, total=len(found), limit=1, offset=0)
    if principal.terminal is not None:
        raise Invalid("customer_phone_required", code="customer_phone_required")
    return service.list_customers(db, q=q, limit=limit, offset=offset)


@router.post("/customers", status_code=201, summary="Add a customer")
def create(body: CustomerIn, principal: TillOrSupervisorDep, db: DbDep) -> CustomerOut:
    """A new customer; 409 ``customer_phone_taken`` when the number is someone's."""
    store_id = (
        principal.terminal.store_id
        if principal.terminal is not None
        else (principal.user.store_id if principal.user else None)
    )
    return service.create_customer(db, body=body, store_id=store_id)


@router.get(
    "/customers/top",
    summary="Customers who spent most over a period",
    response_model=list[TopCustomerRow],
)
def top(
    user: ManagerDep,
    db: ReportsDbDep,
    store_id: RowId | None = None,
    day_from: date | None = None,
    day_to: date | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
    format: Literal["json", "csv", "xlsx"] = "json",
) -> list[TopCustomerRow] | Response:
    """Spend (sales less refunds, voids left out), visits and points per customer."""
    rows = service.top_customers(
        db, user=user, store_id=store_id, day_from=day_from, day_to=day_to, limit=limit
    )
    if format == "json":
        return rows
    return file_response(format, "pelanggan-teratas", rows, TOP_COLUMNS, sheet="Pelanggan teratas")


@router.get("/customers/{customer_id}", summary="A customer, their sales and points moves")
def history(
    customer_id: uuid.UUID,
    user: SupervisorDep,
    db: ReportsDbDep,
    store_id: RowId | None = None,
) -> CustomerHistory:
    """The customer with their balance, sales in your store (an admin: any) and moves."""
    return service.customer_history(db, user=user, customer_id=customer_id, store_id=store_id)


@router.put("/customers/{customer_id}", summary="Change a customer's details")
def update(customer_id: uuid.UUID, body: CustomerIn, user: ManagerDep, db: DbDep) -> CustomerOut:
    """Name, phone and e-mail (409 ``customer_phone_taken`` when the number is someone's)."""
    return service.update_customer(db, customer_id=customer_id, body=body)


@router.post("/customers/{customer_id}/points", summary="Adjust a customer's points")
def adjust(
    customer_id: uuid.UUID, body: PointsAdjustIn, user: ManagerDep, db: DbDep
) -> CustomerOut:
    """A signed correction with its reason, kept as an ``adjust`` move."""
    return service.adjust_points(db, user=user, customer_id=customer_id, body=body)


@router.get("/loyalty", summary="The chain's points rule")
def loyalty(user: ManagerDep, db: DbDep) -> LoyaltySettingsOut:
    """Earn ``earn_points`` per ``earn_per_rupiah`` spent; one point is ``point_value``."""
    return service.get_loyalty(db)


@router.put("/loyalty", summary="Set the chain's points rule")
def set_loyalty(body: LoyaltySettings, user: AdminDep, db: DbDep) -> LoyaltySettingsOut:
    """Applies to sales pushed from now on; tills get it with their next changes. The rule
    gives a point its rupiah value in every outlet: the admin's, like prices and PPN."""
    return service.set_loyalty(db, user=user, body=body)
