"""HTTP routes for purchasing (thin: parse, authorise, call the service).

Managers keep suppliers and purchase orders of their own store and decide stock
requests; supervisors may ask for stock and read. Admins name any store.
"""

from typing import Annotated

from fastapi import APIRouter, Query

from shared.models import RowId
from sync_server.auth.deps import ManagerDep, SupervisorDep
from sync_server.core.database import DbDep
from sync_server.purchasing import service
from sync_server.purchasing.schemas import (
    OrderReceiptIn,
    PoStatus,
    PurchaseOrderIn,
    PurchaseOrderOut,
    ReceiptOut,
    RequestStatus,
    StockRequestIn,
    StockRequestOut,
    SuggestionRow,
    SupplierIn,
    SupplierOut,
    ToOrderIn,
)

router = APIRouter(prefix="/api/v1", tags=["purchasing"])


@router.get("/suppliers", summary="Suppliers, by name")
def suppliers(user: SupervisorDep, db: DbDep, active_only: bool = False) -> list[SupplierOut]:
    """Every supplier (they serve every outlet)."""
    return service.list_suppliers(db, active_only=active_only)


@router.post("/suppliers", status_code=201, summary="Add a supplier")
def create_supplier(body: SupplierIn, user: ManagerDep, db: DbDep) -> SupplierOut:
    """A new supplier: name, phone, address, note."""
    return service.create_supplier(db, body=body)


@router.get("/suppliers/{supplier_id}", summary="One supplier")
def supplier(supplier_id: RowId, user: SupervisorDep, db: DbDep) -> SupplierOut:
    """One supplier."""
    return service.get_supplier(db, supplier_id=supplier_id)


@router.put("/suppliers/{supplier_id}", summary="Change a supplier")
def update_supplier(
    supplier_id: RowId, body: SupplierIn, user: ManagerDep, db: DbDep
) -> SupplierOut:
    """Replace a supplier's details; ``active: false`` retires it."""
    return service.update_supplier(db, supplier_id=supplier_id, body=body)


@router.get("/purchase-orders", summary="Purchase orders of a store, newest first")
def orders(
    user: SupervisorDep,
    db: DbDep,
    store_id: RowId | None = None,
    status: PoStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[PurchaseOrderOut]:
    """A store's orders (default: yours), optionally of one status."""
    return service.list_orders(db, user=user, store_id=store_id, status=status, limit=limit)


@router.post("/purchase-orders", status_code=201, summary="A draft purchase order")
def create_order(body: PurchaseOrderIn, user: ManagerDep, db: DbDep) -> PurchaseOrderOut:
    """Lines of product, quantity and cost per unit from one supplier."""
    return service.create_order(db, user=user, body=body)


@router.get("/purchase-orders/{order_id}", summary="One purchase order")
def order(order_id: RowId, user: SupervisorDep, db: DbDep) -> PurchaseOrderOut:
    """An order with its lines and what arrived."""
    return service.get_order(db, user=user, order_id=order_id)


@router.post("/purchase-orders/{order_id}/send", summary="Send a draft to the supplier")
def send_order(order_id: RowId, user: ManagerDep, db: DbDep) -> PurchaseOrderOut:
    """``draft → sent``; any other status answers 409."""
    return service.send_order(db, user=user, order_id=order_id)


@router.post("/purchase-orders/{order_id}/cancel", summary="Cancel a draft or sent order")
def cancel_order(order_id: RowId, user: ManagerDep, db: DbDep) -> PurchaseOrderOut:
    """``draft|sent → cancelled``; any other status answers 409."""
    return service.cancel_order(db, user=user, order_id=order_id)


@router.post("/purchase-orders/{order_id}/receive", summary="Goods arrived against an order")
def receive_order(
    order_id: RowId, body: OrderReceiptIn, user: SupervisorDep, db: DbDep
) -> ReceiptOut:
    """Stock, average cost and the order move together; never more than ordered (409).
    The same ``receipt_id`` again is applied once."""
    return service.receive_order(db, user=user, order_id=order_id, body=body)


@router.get("/stock-requests", summary="Stock requests of a store, newest first")
def requests(
    user: SupervisorDep,
    db: DbDep,
    store_id: RowId | None = None,
    status: RequestStatus | None = None,
) -> list[StockRequestOut]:
    """A store's requests (default: yours)."""
    return service.list_requests(db, user=user, store_id=store_id, status=status)


@router.post("/stock-requests", status_code=201, summary="Ask for stock")
def create_request(body: StockRequestIn, user: SupervisorDep, db: DbDep) -> StockRequestOut:
    """An outlet asks for goods."""
    return service.create_request(db, user=user, body=body)


@router.get("/stock-requests/{request_id}", summary="One stock request")
def request(request_id: RowId, user: SupervisorDep, db: DbDep) -> StockRequestOut:
    """One request with its lines."""
    return service.get_request(db, user=user, request_id=request_id)


@router.post("/stock-requests/{request_id}/approve", summary="Approve a request")
def approve_request(request_id: RowId, user: ManagerDep, db: DbDep) -> StockRequestOut:
    """``requested → approved``."""
    return service.approve_request(db, user=user, request_id=request_id)


@router.post("/stock-requests/{request_id}/reject", summary="Reject a request")
def reject_request(request_id: RowId, user: ManagerDep, db: DbDep) -> StockRequestOut:
    """``requested → rejected``."""
    return service.reject_request(db, user=user, request_id=request_id)


@router.post("/stock-requests/{request_id}/to-po", status_code=201, summary="Request → order")
def request_to_order(
    request_id: RowId, body: ToOrderIn, user: ManagerDep, db: DbDep
) -> PurchaseOrderOut:
    """An approved request becomes a draft order from the supplier named."""
    return service.request_to_order(db, user=user, request_id=request_id, body=body)


@router.get("/stock/suggestions", summary="Low stock: what to order")
def suggestions(
    user: SupervisorDep, db: DbDep, store_id: RowId | None = None
) -> list[SuggestionRow]:
    """Products at or below their reorder point, or out of stock, with a quantity."""
    return service.suggestions(db, user=user, store_id=store_id)


@router.post("/stock/suggestions/to-po", status_code=201, summary="Suggestions → draft order")
def suggestions_to_order(body: ToOrderIn, user: ManagerDep, db: DbDep) -> PurchaseOrderOut:
    """The suggestions of a store as one draft order from the supplier named."""
    return service.suggestions_to_order(db, user=user, body=body)
