"""Exactly-once ingest: check a batch of outbox events and write it in one transaction.

A batch goes through four steps, with one query per kind of thing it refers to rather
than one per event:

1. :func:`parse_events` (outside any transaction): each payload against its schema.
2. :class:`BatchContext.load`: which event ids are already applied, which products,
   receipt numbers, users, sales (locked, for refunds and voids) and shifts exist.
3. The checkers: totals recomputed with :mod:`shared.pricing`, payments, receipts,
   refunds, voids and shifts, in the order the till sent them, so a refund may refer
   to a sale earlier in the same batch. An accepted event becomes an :class:`EventPlan`
   (rows to insert, rows to update, stock moves); a refused one a :class:`Rejection`.
4. :func:`ingest_batch` writes all plans with one bulk insert per table, records the
   rejections, and last of all brings stock levels up to date.

The ``sync_events`` row of an event is inserted in the same transaction as what the
event creates; its primary key is the till's event id, so a second copy can never be
applied, whether it arrives later, in the same batch, or at the same moment through
another server process.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from pydantic import BaseModel, ValidationError
from sqlalchemy import Insert, Table, Update, bindparam, literal_column, select, update
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.ids import new_id
from shared.models import (
    PAYLOAD_SCHEMAS,
    CashMoveIn,
    EventResult,
    EventStatus,
    EventType,
    OutboxEvent,
    PaymentMethod,
    RefundIn,
    Role,
    SaleIn,
    ShiftCloseIn,
    ShiftOpenIn,
    StockMoveKind,
    VoidIn,
)
from shared.pricing import LineInput, PricingError, price_sale, refund_amount
from shared.timezones import DEFAULT_TIMEZONE, store_zone
from sync_server.auth.models import Terminal, User
from sync_server.catalog.models import Product
from sync_server.core.database import bulk_insert, utcnow
from sync_server.core.models import Store
from sync_server.reports.rollups import record_batch
from sync_server.stock.service import (
    MOVES,
    NewStockMove,
    net_quantities,
    stock_move_rows,
    update_stock_levels,
)
from sync_server.sync.models import (
    CashMove,
    Refund,
    RefundLine,
    RejectedEvent,
    Sale,
    SaleLine,
    SalePayment,
    Shift,
    SyncEvent,
)


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


SYNC_EVENTS = _table(SyncEvent)
REJECTED = _table(RejectedEvent)
SALES = _table(Sale)
SALE_LINES = _table(SaleLine)
SALE_PAYMENTS = _table(SalePayment)
REFUNDS = _table(Refund)
REFUND_LINES = _table(RefundLine)
SHIFTS = _table(Shift)
CASH_MOVES = _table(CashMove)
TERMINALS = _table(Terminal)

INSERT_ORDER: tuple[Table, ...] = (
    SHIFTS,
    SALES,
    SALE_LINES,
    SALE_PAYMENTS,
    REFUNDS,
    REFUND_LINES,
    CASH_MOVES,
    MOVES,
)
"""Tables an event writes, parents before children (foreign keys)."""

MAX_AMOUNT = 10**15
"""Largest number (rupiah, id or quantity) a payload may carry; far above any real sale."""

_VOID_SALE: Update = (
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


class Rejection(Exception):
    """Why an event was refused: a stable code and a sentence for the manager."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(slots=True)
class ParsedEvent:
    """An event with its payload checked against its schema (or why it failed)."""

    event: OutboxEvent
    kind: EventType | None = None
    payload: BaseModel | None = None
    rejection: Rejection | None = None
    repeat_of: int | None = None
    """Index of an earlier event of the same batch with the same id."""


@dataclass(slots=True)
class EventPlan:
    """What one accepted event writes."""

    index: int
    event: OutboxEvent
    rows: dict[Table, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    updates: list[tuple[Update, dict[str, Any]]] = field(default_factory=list)
    moves: list[NewStockMove] = field(default_factory=list)


@dataclass(slots=True)
class LineState:
    """A sale line as refunds see it."""

    product_id: int
    quantity: int
    total: int
    refunded_quantity: int
    refunded_amount: int


@dataclass(slots=True)
class SaleState:
    """A sale as refunds and voids see it, stored or created earlier in the batch."""

    store_id: int
    voided: bool
    lines: dict[uuid.UUID, LineState]

    @property
    def has_refunds(self) -> bool:
        """True once any unit of the sale went back."""
        return any(line.refunded_quantity for line in self.lines.values())


@dataclass(slots=True)
class ShiftState:
    """A shift as closes and cash moves see it."""

    terminal_id: int
    closed: bool


@dataclass(frozen=True, slots=True)
class UserState:
    """What the checks need to know about a user."""

    role: Role
    store_id: int | None
    active: bool


def _error_text(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:10]:
        loc = ".".join(str(p) for p in err.get("loc", ())) or "payload"
        parts.append(f"{loc}: {err.get('msg', '')}")
    return "; ".join(parts)


def _numbers(payload: BaseModel) -> Iterator[int]:
    """Every integer of a payload that reaches a query or a column."""
    if isinstance(payload, SaleIn):
        yield from (payload.cashier_id, payload.order_discount, payload.subtotal)
        yield from (payload.discount_total, payload.tax_total, payload.total)
        for line in payload.lines:
            yield from (line.product_id, line.unit_price, line.discount, line.tax, line.total)
        for pay in payload.payments:
            yield from (pay.amount, pay.tendered or 0, pay.change)
    elif isinstance(payload, RefundIn):
        yield from (payload.cashier_id, payload.approved_by, payload.total)
        yield from (line.amount for line in payload.lines)
    elif isinstance(payload, VoidIn):
        yield from (payload.cashier_id, payload.approved_by)
    elif isinstance(payload, ShiftOpenIn):
        yield from (payload.user_id, payload.opening_float)
    elif isinstance(payload, ShiftCloseIn):
        yield from (payload.user_id, payload.counted_cash, payload.expected_cash)
    elif isinstance(payload, CashMoveIn):
        yield from (payload.user_id, payload.amount)


def _out_of_range(payload: BaseModel) -> bool:
    return any(not -MAX_AMOUNT <= n <= MAX_AMOUNT for n in _numbers(payload))


def _naive_datetime_field(model: BaseModel) -> str | None:
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, datetime) and value.tzinfo is None:
            return name
    return None


def parse_events(events: Sequence[OutboxEvent]) -> list[ParsedEvent]:
    """Check every payload against its schema; unknown types and bad payloads are refused.

    Pure (no database), so it runs once even when the transaction is retried.
    """
    parsed: list[ParsedEvent] = []
    first_index: dict[uuid.UUID, int] = {}
    for index, event in enumerate(events):
        item = ParsedEvent(event=event)
        parsed.append(item)
        if event.id in first_index:
            item.repeat_of = first_index[event.id]
            continue
        first_index[event.id] = index
        try:
            item.kind = EventType(event.type)
        except ValueError:
            item.rejection = Rejection(
                "unknown_event_type",
                f"This server does not know events of type {event.type!r}.",
            )
            continue
        if event.created_at.tzinfo is None:
            item.rejection = Rejection(
                "invalid_payload", "created_at: the time must carry a UTC offset."
            )
            continue
        try:
            item.payload = PAYLOAD_SCHEMAS[item.kind].model_validate(event.payload)
        except ValidationError as exc:
            item.rejection = Rejection("invalid_payload", _error_text(exc))
            continue
        naive = _naive_datetime_field(item.payload)
        if naive is not None:
            item.payload = None
            item.rejection = Rejection(
                "invalid_payload", f"{naive}: the time must carry a UTC offset."
            )
        elif _out_of_range(item.payload):
            item.payload = None
            item.rejection = Rejection(
                "invalid_payload", f"A number in the payload is beyond {MAX_AMOUNT}."
            )
    return parsed


class BatchContext:
    """What the checks of one batch know: stored state, loaded in one query per kind,
    plus everything the batch's earlier events have created or changed."""

    def __init__(self, *, terminal: Terminal, timezone: str) -> None:
        self.terminal_id: int = terminal.id
        self.store_id: int = terminal.store_id
        self.receipt_prefix = f"{terminal.code}-"
        self.zone = store_zone(timezone)
        self.now = utcnow()
        self.applied_events: set[uuid.UUID] = set()
        self.products: set[int] = set()
        self.receipts: set[str] = set()
        self.users: dict[int, UserState] = {}
        self.sales: dict[uuid.UUID, SaleState] = {}
        self.shifts: dict[uuid.UUID, ShiftState] = {}
        self.refund_ids: set[uuid.UUID] = set()

    @classmethod
    def load(
        cls, session: Session, *, terminal: Terminal, parsed: Sequence[ParsedEvent]
    ) -> BatchContext:
        """Read everything the batch refers to, one query per kind of thing."""
        timezone = session.scalar(select(Store.timezone).where(Store.id == terminal.store_id))
        ctx = cls(terminal=terminal, timezone=timezone or DEFAULT_TIMEZONE)
        event_ids: list[uuid.UUID] = []
        products: set[int] = set()
        receipts: list[str] = []
        users: set[int] = set()
        sale_refs: set[uuid.UUID] = set()
        shift_refs: set[uuid.UUID] = set()
        for item in parsed:
            if item.repeat_of is not None:
                continue
            event_ids.append(item.event.id)
            p = item.payload
            if isinstance(p, SaleIn):
                products.update(line.product_id for line in p.lines)
                receipts.append(p.receipt_number)
                users.add(p.cashier_id)
            elif isinstance(p, RefundIn | VoidIn):
                sale_refs.add(p.sale_id)
                users.update((p.cashier_id, p.approved_by))
            elif isinstance(p, ShiftOpenIn | ShiftCloseIn):
                shift_refs.add(p.id)
                users.add(p.user_id)
            elif isinstance(p, CashMoveIn):
                shift_refs.add(p.shift_id)
                users.add(p.user_id)
        if event_ids:
            ctx.applied_events = set(
                session.scalars(select(SYNC_EVENTS.c.id).where(SYNC_EVENTS.c.id.in_(event_ids)))
            )
        if products:
            ctx.products = set(session.scalars(select(Product.id).where(Product.id.in_(products))))
        if receipts:
            ctx.receipts = set(
                session.scalars(
                    select(SALES.c.receipt_number).where(SALES.c.receipt_number.in_(receipts))
                )
            )
        if users:
            ctx.users = {
                uid: UserState(role=Role(role), store_id=store_id, active=active)
                for uid, role, store_id, active in session.execute(
                    select(User.id, User.role, User.store_id, User.active).where(User.id.in_(users))
                )
            }
        if sale_refs:
            ctx._load_sales(session, sale_refs)
        if shift_refs:
            ctx.shifts = {
                sid: ShiftState(terminal_id=tid, closed=closed_at is not None)
                for sid, tid, closed_at in session.execute(
                    select(SHIFTS.c.id, SHIFTS.c.terminal_id, SHIFTS.c.closed_at).where(
                        SHIFTS.c.id.in_(shift_refs)
                    )
                )
            }
        return ctx

    def _load_sales(self, session: Session, sale_ids: Iterable[uuid.UUID]) -> None:
        # Locked to the commit: two refunds of one sale through two servers queue here.
        rows = session.execute(
            select(
                SALES.c.id,
                SALES.c.store_id,
                SALES.c.voided,
                SALE_LINES.c.id,
                SALE_LINES.c.product_id,
                SALE_LINES.c.quantity,
                SALE_LINES.c.total,
                SALE_LINES.c.refunded_quantity,
                SALE_LINES.c.refunded_amount,
            )
            .select_from(SALES.join(SALE_LINES, SALE_LINES.c.sale_id == SALES.c.id))
            .where(SALES.c.id.in_(sorted(sale_ids)))
            .order_by(SALES.c.id, SALE_LINES.c.id)
            .with_for_update()
        )
        for sale_id, store_id, voided, line_id, pid, qty, total, r_qty, r_amount in rows:
            sale = self.sales.get(sale_id)
            if sale is None:
                sale = self.sales[sale_id] = SaleState(
                    store_id=store_id, voided=bool(voided), lines={}
                )
            sale.lines[line_id] = LineState(pid, qty, total, r_qty, r_amount)

    # --- who may do what ------------------------------------------------------------

    def _user(self, user_id: int) -> UserState | None:
        user = self.users.get(user_id)
        if user is None or not user.active:
            return None
        # The people a till knows: its store's, and the admins of no store.
        if user.store_id == self.store_id or (user.store_id is None and user.role is Role.ADMIN):
            return user
        return None

    def require_cashier(self, user_id: int) -> None:
        """Refuse a user who is not an active person of this store."""
        if self._user(user_id) is None:
            raise Rejection(
                "unknown_cashier", f"User {user_id} is not an active user of this store."
            )

    def require_approver(self, user_id: int) -> None:
        """Refuse an approval by anyone below manager."""
        user = self._user(user_id)
        if user is None or not user.role.at_least(Role.MANAGER):
            raise Rejection(
                "approval_required",
                f"User {user_id} may not approve this: it needs a manager of this store.",
            )

    def business_date(self, moment: datetime) -> date:
        """The store's calendar day at ``moment``."""
        return moment.astimezone(self.zone).date()

    def sale(self, sale_id: uuid.UUID) -> SaleState:
        """A sale of this store, stored or earlier in the batch, or a rejection."""
        sale = self.sales.get(sale_id)
        if sale is None or sale.store_id != self.store_id:
            raise Rejection("unknown_sale", f"Sale {sale_id} is not known in this store.")
        return sale

    def shift(self, shift_id: uuid.UUID) -> ShiftState:
        """A shift of this terminal, stored or earlier in the batch, or a rejection."""
        shift = self.shifts.get(shift_id)
        if shift is None:
            raise Rejection("unknown_shift", f"Shift {shift_id} is not known.")
        if shift.terminal_id != self.terminal_id:
            raise Rejection(
                "shift_terminal_mismatch", f"Shift {shift_id} belongs to another terminal."
            )
        return shift


# --- the checks, one per event type -------------------------------------------------------


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

    plan.rows[SALES].append(
        {
            "id": sale.id,
            "event_id": plan.event.id,
            "store_id": ctx.store_id,
            "terminal_id": ctx.terminal_id,
            "receipt_number": sale.receipt_number,
            "shift_id": sale.shift_id,
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
            "shift_id": refund.shift_id,
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
            _VOID_SALE,
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
    else:  # pragma: no cover - PAYLOAD_SCHEMAS and this function change together
        raise Rejection("unknown_event_type", f"No check for {type(payload).__name__}.")


# --- writing ------------------------------------------------------------------------------


class _Vanished(Exception):
    """An update found no row: what it refers to failed earlier in careful mode."""


def _event_row(ctx: BatchContext, event: OutboxEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "terminal_id": ctx.terminal_id,
        "type": event.type,
        "created_at": event.created_at,
        "received_at": ctx.now,
    }


def _write_all(session: Session, ctx: BatchContext, plans: Sequence[EventPlan]) -> None:
    """The fast way: one bulk insert per table for the whole batch."""
    # Event ids in sorted order, so two servers given overlapping batches lock alike.
    events = sorted((_event_row(ctx, p.event) for p in plans), key=lambda r: r["id"])
    bulk_insert(session, SYNC_EVENTS, events)
    rows: dict[Table, list[dict[str, Any]]] = defaultdict(list)
    updates: dict[Update, list[dict[str, Any]]] = defaultdict(list)
    moves: list[NewStockMove] = []
    for plan in plans:
        for table, table_rows in plan.rows.items():
            rows[table].extend(table_rows)
        for stmt, params in plan.updates:
            updates[stmt].append(params)
        moves.extend(plan.moves)
    rows[MOVES] = stock_move_rows(store_id=ctx.store_id, moves=moves)
    for table in INSERT_ORDER:
        bulk_insert(session, table, rows[table])
    for stmt, params_list in updates.items():
        session.execute(stmt, params_list)


def _write_one(session: Session, ctx: BatchContext, plan: EventPlan) -> None:
    session.execute(SYNC_EVENTS.insert(), [_event_row(ctx, plan.event)])
    for table in INSERT_ORDER:
        table_rows = (
            stock_move_rows(store_id=ctx.store_id, moves=plan.moves)
            if table is MOVES
            else plan.rows.get(table)
        )
        if table_rows:
            session.execute(table.insert(), table_rows)
    for stmt, params in plan.updates:
        if session.execute(stmt, params).rowcount != 1:  # type: ignore[attr-defined]
            raise _Vanished


def _write_carefully(
    session: Session,
    ctx: BatchContext,
    plans: Sequence[EventPlan],
    results: list[EventResult | None],
    rejections: dict[int, Rejection],
) -> list[EventPlan]:
    """The slow way, after the fast one hit a clash twice: each event in a savepoint.

    An event whose ids clash with stored rows is refused (``id_conflict``), or counted as
    a duplicate when another server applied the same event meanwhile. Returns the plans
    that were written.
    """
    written = []
    for plan in plans:
        try:
            with session.begin_nested():
                _write_one(session, ctx, plan)
        except (IntegrityError, _Vanished):
            applied = session.scalar(
                select(SYNC_EVENTS.c.id).where(SYNC_EVENTS.c.id == plan.event.id)
            )
            if applied is not None:
                results[plan.index] = EventResult(id=plan.event.id, status=EventStatus.DUPLICATE)
            else:
                rejections[plan.index] = Rejection(
                    "id_conflict",
                    "An id in this event is already used by another record, or it refers "
                    "to a record that could not be written.",
                )
            continue
        written.append(plan)
    return written


_REJECT_UPSERTS: dict[str, Insert] = {}


def _rejected_upsert(dialect: str) -> Insert:
    stmt = _REJECT_UPSERTS.get(dialect)
    if stmt is not None:
        return stmt
    if dialect == "sqlite":
        lite = sqlite.insert(REJECTED)
        stmt = lite.on_conflict_do_update(
            index_elements=[REJECTED.c.event_id],
            set_={
                "attempts": REJECTED.c.attempts + literal_column("1"),
                "last_seen_at": lite.excluded.last_seen_at,
                "type": lite.excluded.type,
                "code": lite.excluded.code,
                "reason": lite.excluded.reason,
                "payload": lite.excluded.payload,
            },
        )
    else:
        # No bound values after ON DUPLICATE KEY: PyMySQL's multi-row executemany
        # cannot carry them there.
        my = mysql.insert(REJECTED)
        stmt = my.on_duplicate_key_update(
            attempts=REJECTED.c.attempts + literal_column("1"),
            last_seen_at=my.inserted.last_seen_at,
            type=my.inserted.type,
            code=my.inserted.code,
            reason=my.inserted.reason,
            payload=my.inserted.payload,
        )
    _REJECT_UPSERTS[dialect] = stmt
    return stmt


def _record_rejections(
    session: Session,
    ctx: BatchContext,
    parsed: Sequence[ParsedEvent],
    rejections: dict[int, Rejection],
) -> None:
    rows = []
    for index in sorted(rejections, key=lambda i: parsed[i].event.id):
        event = parsed[index].event
        rejection = rejections[index]
        rows.append(
            {
                "event_id": event.id,
                "terminal_id": ctx.terminal_id,
                "type": event.type[:32],
                "code": rejection.code,
                "reason": rejection.reason,
                "payload": json.dumps(event.model_dump(mode="json"), ensure_ascii=False),
                "first_seen_at": ctx.now,
                "last_seen_at": ctx.now,
                "attempts": 1,
            }
        )
    if rows:
        session.execute(_rejected_upsert(session.get_bind().dialect.name), rows)


def _drop_applied_meanwhile(
    session: Session,
    parsed: Sequence[ParsedEvent],
    results: list[EventResult | None],
    rejections: dict[int, Rejection],
    indexes: Sequence[int],
) -> None:
    """Turn a refusal into ``duplicate`` when another server applied that event meanwhile.

    Under READ COMMITTED each query sees the latest commits, so a sale committed by a
    concurrent push of the same batch can be missed by our duplicate check and then
    seen by the receipt check a moment later. Whatever we saw was committed before this
    query runs, so asking again now tells the two apart.
    """
    if not indexes:
        return
    ids = {parsed[i].event.id: i for i in indexes}
    for event_id in session.scalars(select(SYNC_EVENTS.c.id).where(SYNC_EVENTS.c.id.in_(ids))):
        index = ids[event_id]
        del rejections[index]
        results[index] = EventResult(id=event_id, status=EventStatus.DUPLICATE)


def ingest_batch(
    session: Session,
    *,
    terminal: Terminal,
    parsed: Sequence[ParsedEvent],
    waiting: int | None,
    careful: bool = False,
) -> list[EventResult]:
    """Apply a parsed batch in ``session``'s transaction; one result per event, in order.

    Raises ``IntegrityError`` when (outside ``careful`` mode) a row clashes with one
    committed meanwhile; the caller rolls back and runs the batch again.
    """
    ctx = BatchContext.load(session, terminal=terminal, parsed=parsed)
    results: list[EventResult | None] = [None] * len(parsed)
    rejections: dict[int, Rejection] = {}
    refused_by_checks: list[int] = []
    plans: list[EventPlan] = []
    for index, item in enumerate(parsed):
        event = item.event
        if item.repeat_of is not None:
            continue
        if event.id in ctx.applied_events:
            results[index] = EventResult(id=event.id, status=EventStatus.DUPLICATE)
        elif item.rejection is not None or item.payload is None:
            rejections[index] = item.rejection or Rejection("invalid_payload", "No payload.")
        else:
            plan = EventPlan(index=index, event=event)
            try:
                plan_event(ctx, plan, item.payload)
            except Rejection as refused:
                rejections[index] = refused
                refused_by_checks.append(index)
            else:
                plans.append(plan)

    if careful:
        written = _write_carefully(session, ctx, plans, results, rejections)
    else:
        if plans:
            _write_all(session, ctx, plans)
        written = plans
    for plan in written:
        results[plan.index] = EventResult(id=plan.event.id, status=EventStatus.APPLIED)
    _drop_applied_meanwhile(session, parsed, results, rejections, refused_by_checks)
    for index, rejection in rejections.items():
        results[index] = EventResult(
            id=parsed[index].event.id,
            status=EventStatus.REJECTED,
            code=rejection.code,
            reason=rejection.reason,
        )
    _record_rejections(session, ctx, parsed, rejections)
    if written:
        session.execute(
            update(REJECTED)
            .where(
                REJECTED.c.event_id.in_([p.event.id for p in written]),
                REJECTED.c.resolved_at.is_(None),
            )
            .values(resolved_at=ctx.now, resolution="applied when pushed again")
        )
    seen: dict[str, Any] = {"last_seen_at": ctx.now}
    if waiting is not None:
        seen["events_waiting"] = waiting
    session.execute(update(TERMINALS).where(TERMINALS.c.id == ctx.terminal_id).values(**seen))
    # Last, the rows every till of the store shares, so their locks are held the least:
    # stock levels in product order (numbered before the next pull, not here, so tills
    # never queue on the change counter), then the report rollups in key order. Both
    # move in this same transaction, so they always equal the raw rows.
    update_stock_levels(
        session,
        store_id=ctx.store_id,
        deltas=net_quantities(m for plan in written for m in plan.moves),
        stamp=False,
    )
    record_batch(
        session,
        rows=[plan.rows for plan in written],
        voided_sale_ids=[p["b_id"] for plan in written for s, p in plan.updates if s is _VOID_SALE],
    )
    for index, item in enumerate(parsed):
        if item.repeat_of is not None:
            first = results[item.repeat_of]
            assert first is not None
            results[index] = (
                EventResult(id=first.id, status=EventStatus.DUPLICATE)
                if first.status is not EventStatus.REJECTED
                else first
            )
    return [r for r in results if r is not None]
