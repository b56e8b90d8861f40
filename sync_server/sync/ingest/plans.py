"""Step 3 of ingest: one check per event type, turning an accepted event into a plan.

A plan holds the rows the event inserts, the updates it makes and its stock moves; a
refused event raises :class:`Rejection`. The checks run in the order the till sent the
events, so a refund may refer to a sale earlier in the same batch.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Table, Update, bindparam, update

from shared.ids import new_id
from shared.models import (
    CashMoveIn,
    NoSaleIn,
    OutboxEvent,
    PaymentMethod,
    RefundIn,
    SaleIn,
    ShiftCloseIn,
    ShiftOpenIn,
    StockMoveKind,
    VoidIn,
)
from shared.pricing import LineInput, PricingError, price_sale, refund_amount
from sync_server.stock.service import NewStockMove
from sync_server.sync.ingest.context import (
    CASH_MOVES,
    DRAWER_OPENS,
    REFUND_LINES,
    REFUNDS,
    SALE_LINES,
    SALE_PAYMENTS,
    SALES,
    SHIFTS,
    BatchContext,
    LineState,
    SaleState,
    ShiftState,
)
from sync_server.sync.ingest.parse import Rejection
from sync_server.sync.ingest.verify import own_shift, verify_sale

VOID_SALE: Update = (
    update(SALES)
    .where(SALES.c.id == bindparam("b_id"))
    .values(
        voided=True,
        voided_at=bindparam("b_at"),
        voided_by=bindparam("b_by"),
        void_reason=bindparam("b_reason"),
    )
)
_REFUND_LINE: Update = (
    update(SALE_LINES)
    .where(SALE_LINES.c.id == bindparam("b_id"))
    .values(
        refunded_quantity=SALE_LINES.c.refunded_quantity + bindparam("b_qty"),
        refunded_amount=SALE_LINES.c.refunded_amount + bindparam("b_amount"),
    )
)
_CLOSE_SHIFT: Update = (
    update(SHIFTS)
    .where(SHIFTS.c.id == bindparam("b_id"))
    .values(
        closed_at=bindparam("b_at"),
        closed_by=bindparam("b_by"),
        counted_cash=bindparam("b_counted"),
        expected_cash=bindparam("b_expected"),
    )
)


@dataclass(slots=True)
class EventPlan:
    """What one accepted event writes."""

    index: int
    event: OutboxEvent
    digest: str | None = None
    rows: dict[Table, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    updates: list[tuple[Update, dict[str, Any]]] = field(default_factory=list)
    moves: list[NewStockMove] = field(default_factory=list)


def _mismatch(label: str, expected: int, got: int) -> str:
    return f"{label}: expected {expected}, got {got}"


def plan_sale(ctx: BatchContext, plan: EventPlan, sale: SaleIn) -> None:
    """Check a sale against the lines and the rules, then plan its rows and stock moves."""
    ctx.require_cashier(sale.cashier_id)
    if not sale.receipt_number.startswith(ctx.receipt_prefix):
        raise Rejection(
            "receipt_terminal_mismatch",
            f"Receipt {sale.receipt_number} does not start with this terminal's code "
            f"{ctx.receipt_prefix!r}.",
        )
    if sale.receipt_number in ctx.receipts:
        raise Rejection(
            "duplicate_receipt", f"Another sale already has receipt {sale.receipt_number}."
        )
    if sale.id in ctx.sales:
        raise Rejection("duplicate_sale", f"Sale {sale.id} was already recorded.")
    missing = sorted({line.product_id for line in sale.lines} - ctx.products)
    if missing:
        raise Rejection(
            "unknown_product", f"Unknown product(s): {', '.join(str(p) for p in missing)}."
        )
    try:
        priced = price_sale(
            [
                LineInput(
                    unit_price=line.unit_price,
                    quantity=line.quantity,
                    discount=line.discount,
                    tax_rate_bp=line.tax_rate_bp,
                    tax_inclusive=line.tax_inclusive,
                )
                for line in sale.lines
            ],
            sale.order_discount,
        )
    except PricingError as exc:
        raise Rejection("totals_mismatch", f"The lines cannot be priced: {exc}.") from exc
    problems = []
    for n, (line, want) in enumerate(zip(sale.lines, priced.lines, strict=True), start=1):
        if line.tax != want.tax:
            problems.append(_mismatch(f"line {n} tax", want.tax, line.tax))
        if line.total != want.total:
            problems.append(_mismatch(f"line {n} total", want.total, line.total))
    for label, want_total, got_total in (
        ("subtotal", priced.subtotal, sale.subtotal),
        ("discount_total", priced.discount_total, sale.discount_total),
        ("tax_total", priced.tax_total, sale.tax_total),
        ("total", priced.total, sale.total),
    ):
        if want_total != got_total:
            problems.append(_mismatch(label, want_total, got_total))
    if problems:
        raise Rejection("totals_mismatch", "Totals disagree with the lines: " + "; ".join(problems))
    paid = sum(p.amount for p in sale.payments)
    if paid != sale.total:
        raise Rejection(
            "payments_mismatch", f"Payments add up to {paid} but the sale's total is {sale.total}."
        )
    for n, pay in enumerate(sale.payments, start=1):
        expected_change = 0 if pay.tendered is None else pay.tendered - pay.amount
        if pay.tendered is not None and pay.method is not PaymentMethod.CASH:
            raise Rejection("payments_mismatch", f"Payment {n}: only cash is tendered with change.")
        if expected_change < 0 or pay.change != expected_change:
            raise Rejection(
                "payments_mismatch",
                f"Payment {n}: {pay.tendered} tendered for {pay.amount} means change of "
                f"{expected_change}, not {pay.change}.",
            )

    # Past every refusal: from here on the sale is applied, and what cannot be
    # confirmed is flagged in the same transaction.
    verify_sale(ctx, plan.rows, event_id=plan.event.id, sale=sale)
    plan.rows[SALES].append(
        {
            "id": sale.id,
            "event_id": plan.event.id,
            "store_id": ctx.store_id,
            "terminal_id": ctx.terminal_id,
            "receipt_number": sale.receipt_number,
            "shift_id": own_shift(
                ctx, plan.rows, event_id=plan.event.id, record=sale, sale_id=sale.id
            ),
            "cashier_id": sale.cashier_id,
            "created_at": sale.created_at,
            "business_date": ctx.business_date(sale.created_at),
            "subtotal": priced.subtotal,
            "discount_total": priced.discount_total,
            "order_discount": sale.order_discount,
            "tax_total": priced.tax_total,
            "total": priced.total,
            "voucher_code": sale.voucher_code,
            "voided": False,
            "voided_at": None,
            "voided_by": None,
            "void_reason": None,
            "received_at": ctx.now,
        }
    )
    lines = plan.rows[SALE_LINES]
    ref = str(sale.id)
    for line, want in zip(sale.lines, priced.lines, strict=True):
        lines.append(
            {
                "id": line.id,
                "sale_id": sale.id,
                "product_id": line.product_id,
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "discount": line.discount,
                "order_discount": want.order_discount,
                "tax_rate_bp": line.tax_rate_bp,
                "tax_inclusive": line.tax_inclusive,
                "tax": want.tax,
                "total": want.total,
                "refunded_quantity": 0,
                "refunded_amount": 0,
            }
        )
        plan.moves.append(
            NewStockMove(
                id=line.id,
                product_id=line.product_id,
                kind=StockMoveKind.SALE,
                quantity=-line.quantity,
                created_at=sale.created_at,
                ref_id=ref,
                terminal_id=ctx.terminal_id,
                user_id=sale.cashier_id,
            )
        )
    plan.rows[SALE_PAYMENTS].extend(
        {
            "id": pay.id,
            "sale_id": sale.id,
            "method": pay.method.value,
            "amount": pay.amount,
            "tendered": pay.tendered,
            "change": pay.change,
            "reference": pay.reference,
            "order_id": pay.order_id,
        }
        for pay in sale.payments
    )
    ctx.receipts.add(sale.receipt_number)
    ctx.sales[sale.id] = SaleState(
        store_id=ctx.store_id,
        voided=False,
        lines={
            line.id: LineState(line.product_id, line.quantity, want.total, 0, 0)
            for line, want in zip(sale.lines, priced.lines, strict=True)
        },
    )


def plan_refund(ctx: BatchContext, plan: EventPlan, refund: RefundIn) -> None:
    """Check a refund against what was sold and refunded before, then plan it."""
    sale = ctx.sale(refund.sale_id)
    if sale.voided:
        raise Rejection("sale_voided", f"Sale {refund.sale_id} was voided; nothing to refund.")
    ctx.require_cashier(refund.cashier_id)
    ctx.require_approver(refund.approved_by)
    if refund.id in ctx.refund_ids:
        raise Rejection("duplicate_refund", f"Refund {refund.id} was already recorded.")
    taken: dict[uuid.UUID, list[int]] = defaultdict(lambda: [0, 0])
    rows: list[dict[str, Any]] = []
    for n, rl in enumerate(refund.lines, start=1):
        line = sale.lines.get(rl.sale_line_id)
        if line is None:
            raise Rejection(
                "unknown_sale_line",
                f"Refund line {n}: line {rl.sale_line_id} is not part of sale {refund.sale_id}.",
            )
        before = line.refunded_quantity + taken[rl.sale_line_id][0]
        if before + rl.quantity > line.quantity:
            raise Rejection(
                "refund_exceeds_sale",
                f"Refund line {n}: {rl.quantity} more of a line that sold {line.quantity} "
                f"with {before} already refunded.",
            )
        expected = refund_amount(
            line_total=line.total,
            sold_quantity=line.quantity,
            refunded_before=before,
            quantity=rl.quantity,
        )
        if rl.amount != expected:
            raise Rejection(
                "refund_amount_mismatch",
                f"Refund line {n}: " + _mismatch("amount", expected, rl.amount),
            )
        taken[rl.sale_line_id][0] += rl.quantity
        taken[rl.sale_line_id][1] += rl.amount
        rows.append(
            {
                "id": rl.id,
                "refund_id": refund.id,
                "sale_line_id": rl.sale_line_id,
                "product_id": line.product_id,
                "quantity": rl.quantity,
                "amount": rl.amount,
            }
        )
    lines_total = sum(rl.amount for rl in refund.lines)
    if refund.total != lines_total:
        raise Rejection(
            "refund_amount_mismatch", "Refund " + _mismatch("total", lines_total, refund.total)
        )

    plan.rows[REFUNDS].append(
        {
            "id": refund.id,
            "event_id": plan.event.id,
            "sale_id": refund.sale_id,
            "store_id": ctx.store_id,
            "terminal_id": ctx.terminal_id,
            "shift_id": own_shift(
                ctx, plan.rows, event_id=plan.event.id, record=refund, sale_id=refund.sale_id
            ),
            "cashier_id": refund.cashier_id,
            "approved_by": refund.approved_by,
            "reason": refund.reason,
            "method": refund.method.value,
            "created_at": refund.created_at,
            "business_date": ctx.business_date(refund.created_at),
            "total": refund.total,
        }
    )
    plan.rows[REFUND_LINES].extend(rows)
    ref = str(refund.id)
    for row in rows:
        plan.moves.append(
            NewStockMove(
                id=row["id"],
                product_id=row["product_id"],
                kind=StockMoveKind.REFUND,
                quantity=row["quantity"],
                created_at=refund.created_at,
                ref_id=ref,
                terminal_id=ctx.terminal_id,
                user_id=refund.cashier_id,
                note=refund.reason,
            )
        )
    for line_id, (qty, amount) in taken.items():
        plan.updates.append((_REFUND_LINE, {"b_id": line_id, "b_qty": qty, "b_amount": amount}))
        sale.lines[line_id].refunded_quantity += qty
        sale.lines[line_id].refunded_amount += amount
    ctx.refund_ids.add(refund.id)


def plan_void(ctx: BatchContext, plan: EventPlan, void: VoidIn) -> None:
    """Check a void (a whole sale cancelled) and plan stock going back."""
    sale = ctx.sale(void.sale_id)
    if sale.voided:
        raise Rejection("already_voided", f"Sale {void.sale_id} is already voided.")
    if sale.has_refunds:
        raise Rejection(
            "sale_has_refunds", f"Sale {void.sale_id} has refunds; refund the rest instead."
        )
    ctx.require_cashier(void.cashier_id)
    ctx.require_approver(void.approved_by)
    plan.updates.append(
        (
            VOID_SALE,
            {
                "b_id": void.sale_id,
                "b_at": void.created_at,
                "b_by": void.approved_by,
                "b_reason": void.reason,
            },
        )
    )
    ref = str(void.sale_id)
    for line in sale.lines.values():
        plan.moves.append(
            NewStockMove(
                id=new_id(),
                product_id=line.product_id,
                kind=StockMoveKind.VOID,
                quantity=line.quantity,
                created_at=void.created_at,
                ref_id=ref,
                terminal_id=ctx.terminal_id,
                user_id=void.cashier_id,
                note=void.reason,
            )
        )
    sale.voided = True


def plan_shift_open(ctx: BatchContext, plan: EventPlan, shift: ShiftOpenIn) -> None:
    """Check and plan a new shift on this terminal."""
    if shift.id in ctx.shifts:
        raise Rejection("duplicate_shift", f"Shift {shift.id} was already opened.")
    ctx.require_cashier(shift.user_id)
    plan.rows[SHIFTS].append(
        {
            "id": shift.id,
            "terminal_id": ctx.terminal_id,
            "store_id": ctx.store_id,
            "user_id": shift.user_id,
            "opened_at": shift.opened_at,
            "opening_float": shift.opening_float,
            "closed_at": None,
            "closed_by": None,
            "counted_cash": None,
            "expected_cash": None,
        }
    )
    ctx.shifts[shift.id] = ShiftState(terminal_id=ctx.terminal_id, closed=False)


def plan_shift_close(ctx: BatchContext, plan: EventPlan, close: ShiftCloseIn) -> None:
    """Check and plan the close of one of this terminal's open shifts."""
    shift = ctx.shift(close.id)
    if shift.closed:
        raise Rejection("shift_closed", f"Shift {close.id} is already closed.")
    ctx.require_cashier(close.user_id)
    plan.updates.append(
        (
            _CLOSE_SHIFT,
            {
                "b_id": close.id,
                "b_at": close.closed_at,
                "b_by": close.user_id,
                "b_counted": close.counted_cash,
                "b_expected": close.expected_cash,
            },
        )
    )
    shift.closed = True


def plan_cash_move(ctx: BatchContext, plan: EventPlan, move: CashMoveIn) -> None:
    """Check and plan cash put in or taken out of a shift's drawer."""
    ctx.shift(move.shift_id)
    ctx.require_cashier(move.user_id)
    plan.rows[CASH_MOVES].append(
        {
            "id": move.id,
            "shift_id": move.shift_id,
            "terminal_id": ctx.terminal_id,
            "user_id": move.user_id,
            "amount": move.amount,
            "reason": move.reason,
            "created_at": move.created_at,
        }
    )


def plan_no_sale(ctx: BatchContext, plan: EventPlan, opening: NoSaleIn) -> None:
    """Check and plan a drawer opened with no sale: one ``drawer_opens`` row."""
    if opening.shift_id is not None:
        ctx.shift(opening.shift_id)
    ctx.require_cashier(opening.cashier_id)
    ctx.require_supervisor(opening.approved_by)
    if opening.id in ctx.drawer_open_ids:
        raise Rejection("duplicate_no_sale", f"Drawer opening {opening.id} was already recorded.")
    plan.rows[DRAWER_OPENS].append(
        {
            "id": opening.id,
            "event_id": plan.event.id,
            "store_id": ctx.store_id,
            "terminal_id": ctx.terminal_id,
            "shift_id": opening.shift_id,
            "cashier_id": opening.cashier_id,
            "approved_by": opening.approved_by,
            "reason": opening.reason,
            "created_at": opening.created_at,
            "business_date": ctx.business_date(opening.created_at),
        }
    )
    ctx.drawer_open_ids.add(opening.id)


def plan_event(ctx: BatchContext, plan: EventPlan, payload: BaseModel) -> None:
    """Run the check of ``payload``'s type; raises :class:`Rejection` when it fails."""
    if isinstance(payload, SaleIn):
        plan_sale(ctx, plan, payload)
    elif isinstance(payload, RefundIn):
        plan_refund(ctx, plan, payload)
    elif isinstance(payload, VoidIn):
        plan_void(ctx, plan, payload)
    elif isinstance(payload, ShiftOpenIn):
        plan_shift_open(ctx, plan, payload)
    elif isinstance(payload, ShiftCloseIn):
        plan_shift_close(ctx, plan, payload)
    elif isinstance(payload, CashMoveIn):
        plan_cash_move(ctx, plan, payload)
    elif isinstance(payload, NoSaleIn):
        plan_no_sale(ctx, plan, payload)
    else:  # pragma: no cover - PAYLOAD_SCHEMAS and this function change together
        raise Rejection("unknown_event_type", f"No check for {type(payload).__name__}.")
