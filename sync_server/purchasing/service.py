"""Purchasing: suppliers, purchase orders and receiving them, stock requests, reorder
suggestions.

A purchase order goes ``draft → sent → partial → received``; only a draft or sent
order may be cancelled. Each step is a conditional UPDATE on the status it leaves
(``WHERE status IN (...)``), so of two managers pressing at once one wins and the other
hears the order's new status; the database's CHECKs keep the status to the five names
and every line's received quantity within what was ordered.

Receiving locks the order row first (``SELECT ... FOR UPDATE``), so two receipts of one
order queue there and the second sees what the first received: the order is never
over-received. The receipt, the lines' received quantities, the stock moves (kind
``receive``, with the cost per unit) and the moving-average cost all commit together
(:func:`sync_server.stock.service.receive_lines`). A receipt is keyed by its sender's
id: the same id with the same content answers what it did, without doing it again;
other content under that id is a 409.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.models import StockMoveKind, StockMoveOut
from sync_server.auth.models import User
from sync_server.catalog.models import Product
from sync_server.core.database import unit_of_work, utcnow
from sync_server.core.errors import Conflict, Invalid, NotFound
from sync_server.purchasing.models import (
    GoodsReceipt,
    ProductCost,
    PurchaseOrder,
    PurchaseOrderLine,
    StockRequest,
    StockRequestLine,
    Supplier,
)
from sync_server.purchasing.schemas import (
    PO_STATUS_LABELS,
    REQUEST_STATUS_LABELS,
    OrderLineIn,
    OrderLineOut,
    OrderReceiptIn,
    ProductCostOut,
    PurchaseOrderIn,
    PurchaseOrderOut,
    ReceiptOut,
    RequestLineOut,
    StockRequestIn,
    StockRequestOut,
    SuggestionRow,
    SupplierIn,
    SupplierOut,
    ToOrderIn,
)
from sync_server.stock.models import StockMove
from sync_server.stock.schemas import ReceiveIn
from sync_server.stock.service import (
    known_products,
    product_stock,
    receive_lines,
    resolve_store,
)
from sync_server.stores.service import require_store_access

OPEN_ORDER_STATUSES = ("draft", "sent", "partial")
"""Orders whose missing quantities are still to arrive (the suggestions count them)."""


# --- suppliers ---------------------------------------------------------------------------


@unit_of_work
def list_suppliers(session: Session, *, active_only: bool = False) -> list[SupplierOut]:
    """Every supplier by name (suppliers serve every outlet)."""
    stmt = select(Supplier).order_by(Supplier.name, Supplier.id)
    if active_only:
        stmt = stmt.where(Supplier.active.is_(True))
    return [SupplierOut.of(s) for s in session.scalars(stmt)]


def _supplier(session: Session, supplier_id: int, *, for_update: bool = False) -> Supplier:
    stmt = select(Supplier).where(Supplier.id == supplier_id)
    if for_update:
        stmt = stmt.with_for_update()
    found = session.scalars(stmt).first()
    if found is None:
        raise NotFound("supplier_not_found", code="supplier_not_found", supplier_id=supplier_id)
    return found


@unit_of_work
def get_supplier(session: Session, *, supplier_id: int) -> SupplierOut:
    """One supplier."""
    return SupplierOut.of(_supplier(session, supplier_id))


@unit_of_work
def create_supplier(session: Session, *, body: SupplierIn) -> SupplierOut:
    """A new supplier."""
    now = utcnow()
    supplier = Supplier(**body.model_dump(), created_at=now, updated_at=now)
    session.add(supplier)
    session.flush()
    return SupplierOut.of(supplier)


@unit_of_work
def update_supplier(session: Session, *, supplier_id: int, body: SupplierIn) -> SupplierOut:
    """Replace a supplier's details (``active: false`` retires it; its orders stay)."""
    supplier = _supplier(session, supplier_id, for_update=True)
    for name, value in body.model_dump().items():
        setattr(supplier, name, value)
    supplier.updated_at = utcnow()
    session.flush()
    return SupplierOut.of(supplier)


# --- purchase orders ---------------------------------------------------------------------


def _check_products(session: Session, product_ids: Sequence[int]) -> dict[int, Product]:
    if len(set(product_ids)) != len(product_ids):
        raise Invalid("duplicate_product", code="duplicate_product")
    return known_products(session, product_ids)


def _order_row(session: Session, order_id: int, *, user: User, lock: bool = False) -> PurchaseOrder:
    stmt = select(PurchaseOrder).where(PurchaseOrder.id == order_id)
    if lock:
        stmt = stmt.with_for_update()
    order = session.scalars(stmt).first()
    if order is None:
        raise NotFound("purchase_order_not_found", code="not_found", order_id=order_id)
    require_store_access(actor=user, store_id=order.store_id)
    return order


def _order_out(session: Session, order: PurchaseOrder) -> PurchaseOrderOut:
    return _orders_out(session, [order])[0]


def _orders_out(session: Session, orders: Sequence[PurchaseOrder]) -> list[PurchaseOrderOut]:
    """The answers of ``orders``: their lines, suppliers and requests in three queries."""
    ids = [order.id for order in orders]
    lines: dict[int, list[OrderLineOut]] = defaultdict(list)
    for line, sku, name in session.execute(
        select(PurchaseOrderLine, Product.sku, Product.name)
        .join(Product, Product.id == PurchaseOrderLine.product_id)
        .where(PurchaseOrderLine.order_id.in_(ids))
        .order_by(PurchaseOrderLine.order_id, PurchaseOrderLine.id)
    ).all():
        lines[line.order_id].append(
            OrderLineOut.of(
                line, sku=sku, name=name, line_total=line.quantity_ordered * line.unit_cost
            )
        )
    suppliers = dict(
        session.execute(
            select(Supplier.id, Supplier.name).where(
                Supplier.id.in_({order.supplier_id for order in orders})
            )
        ).all()
    )
    requests = {
        order_id: request_id
        for request_id, order_id in session.execute(
            select(StockRequest.id, StockRequest.order_id).where(StockRequest.order_id.in_(ids))
        )
        if order_id is not None
    }
    return [
        PurchaseOrderOut.of(
            order,
            status_label=PO_STATUS_LABELS[order.status],
            supplier_name=suppliers.get(order.supplier_id, "?"),
            lines=lines[order.id],
            total_cost=sum(line.line_total for line in lines[order.id]),
            request_id=requests.get(order.id),
        )
        for order in orders
    ]


def _new_order(
    session: Session,
    *,
    user: User,
    store_id: int,
    supplier_id: int,
    lines: Sequence[OrderLineIn],
    note: str,
) -> PurchaseOrder:
    supplier = _supplier(session, supplier_id)
    if not supplier.active:
        raise Invalid("supplier_inactive", code="supplier_inactive", supplier_id=supplier_id)
    _check_products(session, [line.product_id for line in lines])
    now = utcnow()
    order = PurchaseOrder(
        store_id=store_id,
        supplier_id=supplier_id,
        status="draft",
        note=note,
        created_by=user.id,
        created_at=now,
        updated_at=now,
    )
    session.add(order)
    session.flush()
    session.add_all(
        PurchaseOrderLine(
            order_id=order.id,
            product_id=line.product_id,
            quantity_ordered=line.quantity,
            unit_cost=line.unit_cost,
            quantity_received=0,
        )
        for line in lines
    )
    session.flush()
    return order


@unit_of_work
def create_order(session: Session, *, user: User, body: PurchaseOrderIn) -> PurchaseOrderOut:
    """A draft purchase order for the user's store (an admin names one)."""
    store_id = resolve_store(session, user=user, store_id=body.store_id)
    order = _new_order(
        session,
        user=user,
        store_id=store_id,
        supplier_id=body.supplier_id,
        lines=body.lines,
        note=body.note,
    )
    return _order_out(session, order)


@unit_of_work
def get_order(session: Session, *, user: User, order_id: int) -> PurchaseOrderOut:
    """One purchase order with its lines."""
    return _order_out(session, _order_row(session, order_id, user=user))


@unit_of_work
def list_orders(
    session: Session,
    *,
    user: User,
    store_id: int | None,
    status: str | None = None,
    limit: int = 200,
) -> list[PurchaseOrderOut]:
    """A store's purchase orders, newest first, optionally of one status."""
    sid = resolve_store(session, user=user, store_id=store_id)
    stmt = (
        select(PurchaseOrder)
        .where(PurchaseOrder.store_id == sid)
        .order_by(PurchaseOrder.id.desc())
        .limit(limit)
    )
    if status is not None:
        stmt = stmt.where(PurchaseOrder.status == status)
    return _orders_out(session, session.scalars(stmt).all())


def _move_order(
    session: Session, *, user: User, order_id: int, action: str, sources: tuple[str, ...], to: str
) -> PurchaseOrderOut:
    order = _order_row(session, order_id, user=user)
    now = utcnow()
    values: dict[str, Any] = {"status": to, "updated_at": now}
    if to == "sent":
        values["sent_at"] = now
    if to == "cancelled":
        values["closed_at"] = now
    done = (
        session.connection()
        .execute(
            update(PurchaseOrder)
            .where(PurchaseOrder.id == order_id, PurchaseOrder.status.in_(sources))
            .values(**values)
        )
        .rowcount
    )
    session.refresh(order)
    if done != 1:
        raise Conflict(
            "po_bad_transition",
            code="po_bad_transition",
            details={"status": order.status, "action": action},
            status=PO_STATUS_LABELS[order.status],
        )
    return _order_out(session, order)


@unit_of_work
def send_order(session: Session, *, user: User, order_id: int) -> PurchaseOrderOut:
    """A draft goes to the supplier (``draft → sent``)."""
    return _move_order(
        session, user=user, order_id=order_id, action="send", sources=("draft",), to="sent"
    )


@unit_of_work
def cancel_order(session: Session, *, user: User, order_id: int) -> PurchaseOrderOut:
    """Call off a draft or sent order (nothing received yet)."""
    return _move_order(
        session,
        user=user,
        order_id=order_id,
        action="cancel",
        sources=("draft", "sent"),
        to="cancelled",
    )


def _digest(content: dict[str, Any]) -> str:
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _receipt_answer(
    session: Session,
    *,
    receipt_id: UUID,
    store_id: int,
    order: PurchaseOrder | None,
    duplicate: bool,
) -> ReceiptOut:
    moves = session.scalars(
        select(StockMove).where(StockMove.ref_id == str(receipt_id)).order_by(StockMove.id)
    ).all()
    pids = sorted({m.product_id for m in moves})
    costs = session.execute(
        select(ProductCost.product_id, ProductCost.avg_cost).where(
            ProductCost.store_id == store_id, ProductCost.product_id.in_(pids)
        )
    ).all()
    return ReceiptOut(
        receipt_id=receipt_id,
        duplicate=duplicate,
        order=_order_out(session, order) if order is not None else None,
        moves=[StockMoveOut.of(m, kind=StockMoveKind(m.kind)) for m in moves],
        costs=[ProductCostOut(product_id=pid, avg_cost=avg) for pid, avg in costs],
    )


def _claim_receipt(
    session: Session,
    *,
    receipt_id: UUID,
    store_id: int,
    order_id: int | None,
    user: User,
    digest: str,
    note: str,
) -> GoodsReceipt | None:
    """Insert the receipt's row; the stored receipt instead when its id was used before
    (None: this one is new). A receipt sent twice at once: the second insert waits for
    the first and then finds it."""
    existing = session.get(GoodsReceipt, receipt_id)
    if existing is None:
        try:
            with session.begin_nested():
                session.add(
                    GoodsReceipt(
                        id=receipt_id,
                        store_id=store_id,
                        order_id=order_id,
                        digest=digest,
                        user_id=user.id,
                        note=note,
                        created_at=utcnow(),
                    )
                )
                session.flush()
            return None
        except IntegrityError:
            existing = session.get(GoodsReceipt, receipt_id, populate_existing=True)
            if existing is None:  # pragma: no cover - the clash was not on the id
                raise
    if existing.digest != digest or existing.order_id != order_id:
        raise Conflict(
            "receipt_conflict",
            code="receipt_conflict",
            details={"receipt_id": str(receipt_id)},
            receipt_id=str(receipt_id),
        )
    return existing


@unit_of_work
def receive_order(
    session: Session, *, user: User, order_id: int, body: OrderReceiptIn
) -> ReceiptOut:
    """Goods arrived against a sent (or partly received) order: received quantities,
    stock and average cost move together; never more than ordered."""
    order = _order_row(session, order_id, user=user, lock=True)
    lines = [(ln.product_id, ln.quantity, ln.unit_cost) for ln in body.lines]
    digest = _digest({"order": order_id, "lines": lines, "note": body.note})
    claim: dict[str, Any] = {
        "receipt_id": body.receipt_id,
        "store_id": order.store_id,
        "order_id": order_id,
        "user": user,
        "digest": digest,
        "note": body.note,
    }
    if session.get(GoodsReceipt, body.receipt_id) is not None:
        _claim_receipt(session, **claim)  # the same receipt again, or a 409
        return _receipt_answer(
            session,
            receipt_id=body.receipt_id,
            store_id=order.store_id,
            order=order,
            duplicate=True,
        )
    if order.status not in ("sent", "partial"):
        raise Conflict(
            "po_bad_transition",
            code="po_bad_transition",
            details={"status": order.status, "action": "receive"},
            status=PO_STATUS_LABELS[order.status],
        )
    pids = [pid for pid, _, _ in lines]
    if len(set(pids)) != len(pids):
        raise Invalid("duplicate_product", code="duplicate_product")
    ordered = {
        line.product_id: line
        for line in session.scalars(
            select(PurchaseOrderLine).where(PurchaseOrderLine.order_id == order_id)
        )
    }
    for pid, qty, _ in lines:
        line = ordered.get(pid)
        if line is None:
            raise Invalid("po_product_not_ordered", code="po_product_not_ordered", product_id=pid)
        remaining = line.quantity_ordered - line.quantity_received
        if qty > remaining:
            raise Conflict(
                "po_over_receive",
                code="po_over_receive",
                details={"product_id": pid, "remaining": remaining},
                product_id=pid,
                remaining=remaining,
            )
    if _claim_receipt(session, **claim) is not None:  # pragma: no cover - order lock
        return _receipt_answer(
            session,
            receipt_id=body.receipt_id,
            store_id=order.store_id,
            order=order,
            duplicate=True,
        )
    for pid, qty, _ in sorted(lines):
        # Conditional: the CHECK would refuse it too; the order lock makes it never happen.
        done = (
            session.connection()
            .execute(
                update(PurchaseOrderLine)
                .where(
                    PurchaseOrderLine.id == ordered[pid].id,
                    PurchaseOrderLine.quantity_received + qty <= PurchaseOrderLine.quantity_ordered,
                )
                .values(quantity_received=PurchaseOrderLine.quantity_received + qty)
            )
            .rowcount
        )
        if done != 1:  # pragma: no cover - guarded above under the order's lock
            raise Conflict(
                "po_over_receive",
                code="po_over_receive",
                details={"product_id": pid},
                product_id=pid,
                remaining=0,
            )
    left = session.scalar(
        select(func.count())
        .select_from(PurchaseOrderLine)
        .where(
            PurchaseOrderLine.order_id == order_id,
            PurchaseOrderLine.quantity_received < PurchaseOrderLine.quantity_ordered,
        )
    )
    now = utcnow()
    status = "partial" if left else "received"
    session.execute(
        update(PurchaseOrder)
        .where(PurchaseOrder.id == order_id, PurchaseOrder.status.in_(("sent", "partial")))
        .values(status=status, updated_at=now, closed_at=None if left else now)
    )
    session.refresh(order)
    receive_lines(
        session,
        store_id=order.store_id,
        user=user,
        lines=[
            (pid, qty, ordered[pid].unit_cost if cost is None else cost) for pid, qty, cost in lines
        ],
        note=body.note or f"PO #{order_id}",
        ref_id=str(body.receipt_id),
    )
    return _receipt_answer(
        session, receipt_id=body.receipt_id, store_id=order.store_id, order=order, duplicate=False
    )


@unit_of_work
def receive_free(session: Session, *, user: User, body: ReceiveIn) -> ReceiptOut:
    """Goods received without an order, under the sender's receipt id (applied once)."""
    assert body.receipt_id is not None
    store_id = resolve_store(session, user=user, store_id=body.store_id)
    lines = [(ln.product_id, ln.quantity, ln.unit_cost) for ln in body.lines]
    digest = _digest({"store": store_id, "lines": lines, "note": body.note})
    stored = _claim_receipt(
        session,
        receipt_id=body.receipt_id,
        store_id=store_id,
        order_id=None,
        user=user,
        digest=digest,
        note=body.note,
    )
    if stored is None:
        _check_products(session, [pid for pid, _, _ in lines])
        receive_lines(
            session,
            store_id=store_id,
            user=user,
            lines=lines,
            note=body.note,
            ref_id=str(body.receipt_id),
        )
    return _receipt_answer(
        session,
        receipt_id=body.receipt_id,
        store_id=store_id,
        order=None,
        duplicate=stored is not None,
    )


# --- stock requests ----------------------------------------------------------------------


def _request_out(session: Session, request: StockRequest) -> StockRequestOut:
    rows = session.execute(
        select(StockRequestLine.product_id, Product.sku, Product.name, StockRequestLine.quantity)
        .join(Product, Product.id == StockRequestLine.product_id)
        .where(StockRequestLine.request_id == request.id)
        .order_by(StockRequestLine.id)
    ).all()
    return StockRequestOut.of(
        request,
        status_label=REQUEST_STATUS_LABELS[request.status],
        lines=[
            RequestLineOut(product_id=pid, sku=sku, name=name, quantity=qty)
            for pid, sku, name, qty in rows
        ],
    )


def _request_row(session: Session, request_id: int, *, user: User) -> StockRequest:
    request = session.get(StockRequest, request_id)
    if request is None:
        raise NotFound("stock_request_not_found", code="not_found", request_id=request_id)
    require_store_access(actor=user, store_id=request.store_id)
    return request


@unit_of_work
def create_request(session: Session, *, user: User, body: StockRequestIn) -> StockRequestOut:
    """An outlet asks for goods."""
    store_id = resolve_store(session, user=user, store_id=body.store_id)
    _check_products(session, [line.product_id for line in body.lines])
    request = StockRequest(
        store_id=store_id,
        status="requested",
        note=body.note,
        requested_by=user.id,
        created_at=utcnow(),
    )
    session.add(request)
    session.flush()
    session.add_all(
        StockRequestLine(request_id=request.id, product_id=line.product_id, quantity=line.quantity)
        for line in body.lines
    )
    session.flush()
    return _request_out(session, request)


@unit_of_work
def get_request(session: Session, *, user: User, request_id: int) -> StockRequestOut:
    """One stock request."""
    return _request_out(session, _request_row(session, request_id, user=user))


@unit_of_work
def list_requests(
    session: Session, *, user: User, store_id: int | None, status: str | None = None
) -> list[StockRequestOut]:
    """A store's stock requests, newest first."""
    sid = resolve_store(session, user=user, store_id=store_id)
    stmt = (
        select(StockRequest)
        .where(StockRequest.store_id == sid)
        .order_by(StockRequest.id.desc())
        .limit(500)
    )
    if status is not None:
        stmt = stmt.where(StockRequest.status == status)
    return [_request_out(session, r) for r in session.scalars(stmt)]


def _move_request(
    session: Session,
    *,
    user: User,
    request_id: int,
    action: str,
    source: str,
    to: str,
    order_id: int | None = None,
) -> StockRequest:
    request = _request_row(session, request_id, user=user)
    values: dict[str, Any] = {"status": to, "decided_by": user.id, "decided_at": utcnow()}
    if order_id is not None:
        values["order_id"] = order_id
    done = (
        session.connection()
        .execute(
            update(StockRequest)
            .where(StockRequest.id == request_id, StockRequest.status == source)
            .values(**values)
        )
        .rowcount
    )
    session.refresh(request)
    if done != 1:
        raise Conflict(
            "request_bad_transition",
            code="request_bad_transition",
            details={"status": request.status, "action": action},
            status=REQUEST_STATUS_LABELS[request.status],
        )
    return request


def _decide_request(
    session: Session, *, user: User, request_id: int, action: str, to: str
) -> StockRequestOut:
    """A ``requested`` request approved or rejected, as the wire shape."""
    request = _move_request(
        session, user=user, request_id=request_id, action=action, source="requested", to=to
    )
    return _request_out(session, request)


@unit_of_work
def approve_request(session: Session, *, user: User, request_id: int) -> StockRequestOut:
    """``requested → approved``."""
    return _decide_request(
        session, user=user, request_id=request_id, action="approve", to="approved"
    )


@unit_of_work
def reject_request(session: Session, *, user: User, request_id: int) -> StockRequestOut:
    """``requested → rejected``."""
    return _decide_request(
        session, user=user, request_id=request_id, action="reject", to="rejected"
    )


def _last_costs(session: Session, *, store_id: int, product_ids: Sequence[int]) -> dict[int, int]:
    return {
        int(pid): int(cost)
        for pid, cost in session.execute(
            select(ProductCost.product_id, ProductCost.last_cost).where(
                ProductCost.store_id == store_id, ProductCost.product_id.in_(product_ids)
            )
        )
    }


@unit_of_work
def request_to_order(
    session: Session, *, user: User, request_id: int, body: ToOrderIn
) -> PurchaseOrderOut:
    """An approved request becomes a draft order from ``body.supplier_id`` (costs: the
    last paid per product, 0 when never received); the request is then ``ordered``."""
    request = _request_row(session, request_id, user=user)
    if request.status != "approved":
        raise Conflict(
            "request_bad_transition",
            code="request_bad_transition",
            details={"status": request.status, "action": "to_po"},
            status=REQUEST_STATUS_LABELS[request.status],
        )
    wanted = session.execute(
        select(StockRequestLine.product_id, StockRequestLine.quantity)
        .where(StockRequestLine.request_id == request_id)
        .order_by(StockRequestLine.id)
    ).all()
    costs = _last_costs(session, store_id=request.store_id, product_ids=[p for p, _ in wanted])
    order = _new_order(
        session,
        user=user,
        store_id=request.store_id,
        supplier_id=body.supplier_id,
        lines=[
            OrderLineIn(product_id=pid, quantity=qty, unit_cost=costs.get(pid, 0))
            for pid, qty in wanted
        ],
        note=body.note or f"Permintaan stok #{request_id}",
    )
    _move_request(
        session,
        user=user,
        request_id=request_id,
        action="to_po",
        source="approved",
        to="ordered",
        order_id=order.id,
    )
    return _order_out(session, order)


# --- reorder suggestions -----------------------------------------------------------------


def suggested_quantity(*, on_hand: int, reorder_point: int, on_order: int) -> int:
    """How many to order: up to twice the reorder point (at least 1 unit on the shelf),
    less what is on hand and what open orders still bring; 0 when that is enough."""
    target = max(2 * reorder_point, 1)
    return max(target - on_hand - on_order, 0)


def _suggestions(session: Session, *, store_id: int) -> list[SuggestionRow]:
    stock = product_stock(store_id)
    on_hand = stock.on_hand
    stmt = (
        select(Product.id, Product.sku, Product.name, Product.low_stock_threshold, on_hand)
        .select_from(stock.joined)
        .where(
            Product.active.is_(True),
            (on_hand <= Product.low_stock_threshold) | (on_hand <= 0),
        )
        .order_by(Product.id)
        .limit(5000)
    )
    low = session.execute(stmt).all()
    pids = [int(r[0]) for r in low]
    if not pids:
        return []
    coming: dict[int, int] = defaultdict(int)
    for pid, missing in session.execute(
        select(
            PurchaseOrderLine.product_id,
            PurchaseOrderLine.quantity_ordered - PurchaseOrderLine.quantity_received,
        )
        .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.order_id)
        .where(
            PurchaseOrder.store_id == store_id,
            PurchaseOrder.status.in_(OPEN_ORDER_STATUSES),
            PurchaseOrderLine.product_id.in_(pids),
        )
    ):
        coming[int(pid)] += int(missing)
    costs = _last_costs(session, store_id=store_id, product_ids=pids)
    out = []
    for pid, sku, name, threshold, qty in low:
        want = suggested_quantity(
            on_hand=int(qty), reorder_point=int(threshold), on_order=coming[int(pid)]
        )
        if want > 0:
            out.append(
                SuggestionRow(
                    product_id=pid,
                    sku=sku,
                    name=name,
                    on_hand=int(qty),
                    reorder_point=int(threshold),
                    on_order=coming[int(pid)],
                    suggested_quantity=want,
                    last_cost=costs.get(int(pid)),
                )
            )
    return out


@unit_of_work
def suggestions(session: Session, *, user: User, store_id: int | None) -> list[SuggestionRow]:
    """Active products at or below their reorder point (the product's low-stock
    threshold) or out of stock, with how many to order (:func:`suggested_quantity`)."""
    sid = resolve_store(session, user=user, store_id=store_id)
    return _suggestions(session, store_id=sid)


@unit_of_work
def suggestions_to_order(session: Session, *, user: User, body: ToOrderIn) -> PurchaseOrderOut:
    """The reorder suggestions as one draft order from ``body.supplier_id``."""
    sid = resolve_store(session, user=user, store_id=body.store_id)
    rows = _suggestions(session, store_id=sid)
    if not rows:
        raise Invalid("nothing_to_order", code="nothing_to_order")
    order = _new_order(
        session,
        user=user,
        store_id=sid,
        supplier_id=body.supplier_id,
        lines=[
            OrderLineIn(
                product_id=r.product_id,
                quantity=min(r.suggested_quantity, 1_000_000),
                unit_cost=r.last_cost or 0,
            )
            for r in rows[:500]
        ],
        note=body.note or "Saran stok rendah",
    )
    return _order_out(session, order)


# --- finding products on the receive, count and order forms ------------------------------


@unit_of_work
def lookup_products(
    session: Session, *, user: User, store_id: int | None, q: str, limit: int = 10
) -> list[dict[str, Any]]:
    """Products whose name, SKU or barcode match ``q`` (an exact SKU or barcode first),
    with the store's last paid cost of each, for a form's search box."""
    sid = resolve_store(session, user=user, store_id=store_id)
    text = q.strip()[:100]
    if not text:
        return []
    exact = session.scalars(
        select(Product).where((Product.sku == text) | (Product.barcode == text))
    ).all()
    like = f"%{text.replace('%', '').replace('_', '')}%"
    more = session.scalars(
        select(Product)
        .where(
            Product.active.is_(True),
            (Product.name.ilike(like)) | (Product.sku.ilike(like)),
        )
        .order_by(Product.name, Product.id)
        .limit(limit)
    ).all()
    found = list({p.id: p for p in [*exact, *more]}.values())[:limit]
    costs = _last_costs(session, store_id=sid, product_ids=[p.id for p in found])
    return [
        {
            "id": p.id,
            "sku": p.sku,
            "barcode": p.barcode,
            "name": p.name,
            "exact": p in exact,
            "last_cost": costs.get(p.id),
        }
        for p in found
    ]
