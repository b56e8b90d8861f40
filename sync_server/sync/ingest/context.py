"""Step 2 of ingest: the batch's state, stored rows loaded in few round trips (kinds of
things combined into one query where they can be, none for kinds the batch lacks).

The table handles every step writes to live here too, next to the state read from them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    Integer,
    Select,
    String,
    Table,
    bindparam,
    case,
    func,
    literal,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from shared.models import (
    CashMoveIn,
    NoSaleIn,
    RefundIn,
    Role,
    SaleIn,
    ShiftCloseIn,
    ShiftOpenIn,
    VoidIn,
)
from shared.timezones import DEFAULT_TIMEZONE, store_zone
from sync_server.auth.models import Terminal, User
from sync_server.catalog.models import Product, TaxRate, Voucher
from sync_server.catalog.price_history import HISTORY, PricePoint
from sync_server.core.database import utcnow
from sync_server.core.errors import Unauthorized
from sync_server.core.models import Store
from sync_server.customers.models import CustomerSale
from sync_server.flags.models import Flag, QrisPaymentUse, VoucherUse
from sync_server.outlets.prices import OutletPoint, outlet_history_rows
from sync_server.payments.models import PaymentOrder
from sync_server.purchasing.models import ProductCost
from sync_server.sync.ingest.parse import ParsedEvent, Rejection, conflict
from sync_server.sync.models import (
    CashMove,
    DrawerOpen,
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
DRAWER_OPENS = _table(DrawerOpen)
TERMINALS = _table(Terminal)
FLAGS = _table(Flag)
VOUCHER_USES = _table(VoucherUse)
QRIS_USES = _table(QrisPaymentUse)
CUSTOMER_SALES = _table(CustomerSale)
COSTS = _table(ProductCost)


@dataclass(frozen=True, slots=True)
class AppliedEvent:
    """An event id already applied: who sent it and its digest (None: from before digests)."""

    terminal_id: int
    digest: str | None


def _text(column: Any) -> Any:
    """``column`` as text of the connection's collation: the parts of a UNION ALL must
    agree on it (MariaDB refuses a mix of a column's collation and the literals')."""
    return sql_cast(column, String)


def applied_events(
    session: Session, event_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, AppliedEvent]:
    """The events of ``event_ids`` already applied, by id."""
    ids = list(event_ids)
    if not ids:
        return {}
    rows = session.connection().execute(
        select(SYNC_EVENTS.c.id, SYNC_EVENTS.c.terminal_id, SYNC_EVENTS.c.digest).where(
            SYNC_EVENTS.c.id.in_(ids)
        )
    )
    return {eid: AppliedEvent(terminal_id=tid, digest=digest) for eid, tid, digest in rows}


def _stored_time(text: str) -> datetime:
    """A UTC time read back as text (MariaDB's ``CAST(... AS CHAR)`` and SQLite's stored
    form alike), timezone-aware."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


_KNOWN_QUERIES: dict[tuple[bool, bool, bool, bool, bool], Any] = {}
"""The UNION ALL of :func:`_known_rows` for each combination of parts, built once: a
statement made afresh on every push cost more Python than the round trip it saves."""


def _known_query(
    *, events: bool, receipts: bool, users: bool, shifts: bool, costs: bool = False
) -> Any:
    """The union of :func:`_known_rows` with the parts asked for (built once, bound
    parameters ``store_id``, ``terminal_id``, ``event_ids``, ``receipts``, ``users``,
    ``shifts``, ``cost_products``)."""
    key = (events, receipts, users, shifts, costs)
    query = _KNOWN_QUERIES.get(key)
    if query is not None:
        return query
    born = (
        select(func.min(TERMINALS.c.created_at))
        .where(TERMINALS.c.store_id == bindparam("store_id"))
        .scalar_subquery()
    )
    parts: list[Select[Any]] = [
        select(literal("t"), _text(Store.timezone), _text(born), null(), null(), null()).where(
            Store.id == bindparam("store_id")
        ),
        # The pushing terminal as it is now, in this transaction: a token revoked (or
        # replaced by a new enrollment) since the caller was authenticated is refused.
        select(
            literal("k"),
            _text(TERMINALS.c.token_hash),
            null(),
            case((TERMINALS.c.revoked_at.is_(None), 0), else_=1),
            null(),
            null(),
        ).where(TERMINALS.c.id == bindparam("terminal_id")),
    ]
    if events:
        event_ids: Any = bindparam("event_ids", expanding=True)
        parts.append(
            select(
                literal("e"),
                _text(SYNC_EVENTS.c.id),
                _text(SYNC_EVENTS.c.digest),
                SYNC_EVENTS.c.terminal_id,
                null(),
                null(),
            ).where(SYNC_EVENTS.c.id.in_(event_ids))
        )
        # Refusals of these ids still open: an applied event resolves them (write.py),
        # and a batch that has none (nearly all) sends no UPDATE for it.
        parts.append(
            select(literal("x"), _text(REJECTED.c.event_id), null(), null(), null(), null()).where(
                REJECTED.c.terminal_id == bindparam("terminal_id"),
                REJECTED.c.event_id.in_(bindparam("rejected_ids", expanding=True)),
                REJECTED.c.resolved_at.is_(None),
            )
        )
    if receipts:
        parts.append(
            select(
                literal("r"), _text(SALES.c.receipt_number), null(), null(), null(), null()
            ).where(SALES.c.receipt_number.in_(bindparam("receipts", expanding=True)))
        )
    if users:
        parts.append(
            select(
                literal("u"),
                _text(User.role),
                null(),
                User.id,
                User.store_id,
                sql_cast(User.active, Integer),
            ).where(User.id.in_(bindparam("users", expanding=True)))
        )
    if shifts:
        parts.append(
            select(
                literal("s"),
                _text(SHIFTS.c.id),
                null(),
                SHIFTS.c.terminal_id,
                case((SHIFTS.c.closed_at.is_(None), 0), else_=1),
                null(),
            ).where(SHIFTS.c.id.in_(bindparam("shifts", expanding=True)))
        )
    if costs:
        # The store's moving-average cost of the products sold (purchasing), recorded
        # on each sale line: read here, so costing a sale adds no round trip.
        parts.append(
            select(
                literal("c"), null(), null(), COSTS.c.product_id, COSTS.c.avg_cost, null()
            ).where(
                COSTS.c.store_id == bindparam("store_id"),
                COSTS.c.product_id.in_(bindparam("cost_products", expanding=True)),
            )
        )
    query = _KNOWN_QUERIES[key] = union_all(*parts)
    return query


def _known_rows(
    session: Session,
    *,
    terminal: Terminal,
    event_ids: Sequence[uuid.UUID],
    receipts: Sequence[str],
    users: set[int],
    shifts: set[uuid.UUID],
    products: set[int] | None = None,
) -> list[Any]:
    """The store (its timezone, and when its first till was made), the terminal's token
    and revocation, applied event ids, this terminal's open rejections of those ids,
    receipt numbers taken, users and shifts: one UNION ALL, one round trip.

    Rows are (kind, text, text, int, int, int); ids and times travel as text (uuid.UUID
    reads SQLite's hex and MariaDB's dashed form alike)."""
    query = _known_query(
        events=bool(event_ids),
        receipts=bool(receipts),
        users=bool(users),
        shifts=bool(shifts),
        costs=bool(products),
    )
    params: dict[str, Any] = {"store_id": terminal.store_id, "terminal_id": terminal.id}
    if event_ids:
        params["event_ids"] = params["rejected_ids"] = list(event_ids)
    if receipts:
        params["receipts"] = list(receipts)
    if users:
        params["users"] = list(users)
    if shifts:
        params["shifts"] = list(shifts)
    if products:
        params["cost_products"] = sorted(products)
    return list(session.connection().execute(query, params))


_PRODUCT_IDS: BindParameter[Any] = bindparam("product_ids", expanding=True)
_PRICES = union_all(
    select(
        Product.id.label("product_id"),
        Product.price,
        func.coalesce(TaxRate.rate_bp, 0),
        HISTORY.c.id.label("history_id"),
        HISTORY.c.price,
        HISTORY.c.tax_rate_bp,
        HISTORY.c.valid_from,
        HISTORY.c.change_no,
    )
    .outerjoin(TaxRate, TaxRate.id == Product.tax_rate_id)
    .outerjoin(HISTORY, HISTORY.c.product_id == Product.id)
    .where(Product.id.in_(_PRODUCT_IDS)),
    # The store's own prices (outlets/prices.py), told apart by a NULL chain price.
    outlet_history_rows(_PRODUCT_IDS, bindparam("store_id")),
).order_by(literal_column("product_id"), literal_column("history_id"))
"""Products with their price history and the store's override history (built once;
``product_ids`` and ``store_id`` bound per batch)."""


def _check_terminal(terminal: Terminal, known: Sequence[Any]) -> None:
    """Refuse the push (401, nothing written) when the terminal's token no longer works:
    revoked, or replaced by a new enrollment, since the caller was authenticated (which
    may have been from the authentication cache: this is where revocation bites)."""
    row = next((r for r in known if r[0] == "k"), None)
    # As auth.deps.principal_of_token answers: a token no terminal holds any more is
    # unknown; one still held by a revoked terminal is revoked.
    if row is None or row[1] != terminal.token_hash:
        raise Unauthorized("invalid_token", code="invalid_token")
    if row[3]:
        raise Unauthorized("terminal_revoked", code="token_revoked")


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


@dataclass(slots=True)
class VoucherState:
    """A voucher as the checks see it, with its uses so far (stored and in this batch)."""

    id: int
    active: bool
    valid_from: datetime | None
    valid_until: datetime | None
    min_spend: int
    usage_limit: int | None
    uses: int


@dataclass(slots=True)
class OrderState:
    """A QRIS payment order as the checks see it."""

    id: int
    order_id: str
    reference: str | None
    terminal_id: int
    status: str
    amount: int
    used: bool


@dataclass(frozen=True, slots=True)
class UserState:
    """What the checks need to know about a user."""

    role: Role
    store_id: int | None
    active: bool


class BatchContext:
    """What the checks of one batch know: stored state, loaded in one query per kind,
    plus everything the batch's earlier events have created or changed."""

    def __init__(self, *, terminal: Terminal, timezone: str) -> None:
        self.terminal_id: int = terminal.id
        self.store_id: int = terminal.store_id
        self.receipt_prefix = f"{terminal.code}-"
        self.zone = store_zone(timezone)
        self.now = utcnow()
        self.applied: dict[uuid.UUID, AppliedEvent] = {}
        self.products: set[int] = set()
        self.receipts: set[str] = set()
        self.users: dict[int, UserState] = {}
        self.sales: dict[uuid.UUID, SaleState] = {}
        self.shifts: dict[uuid.UUID, ShiftState] = {}
        self.refund_ids: set[uuid.UUID] = set()
        self.drawer_open_ids: set[uuid.UUID] = set()
        self.open_rejections: set[uuid.UUID] = set()
        """Event ids of the batch this terminal had refused and no one resolved yet."""
        self.store_born: datetime | None = None
        """When the store's first till was made: no sale of the store is older."""
        self.prices: dict[int, list[PricePoint]] = {}
        """Each product's price history, oldest first (what a line's price is checked
        against); a product with no history has its current price as its only point."""
        self.outlet_prices: dict[int, list[OutletPoint]] = {}
        """The store's overrides of each product set or cleared, oldest first."""
        self.costs: dict[int, int] = {}
        """The store's moving-average cost per product sold in the batch (a product with
        none is not here: its lines' cost is unknown)."""
        self.line_costs: dict[uuid.UUID, tuple[int | None, int, int]] = {}
        """Per stored sale line refunds of the batch name: (cost per unit or None,
        total, tax), what the margin rollup takes back out."""
        self.customer_sale_ids: set[uuid.UUID] = set()
        """Stored sales refunded or voided by the batch that were sold to a customer
        (read with them): only these send the points ledger to the database."""
        self.vouchers: dict[str, VoucherState] = {}
        self.orders: dict[str, OrderState] = {}
        """QRIS orders named by the batch, by order id and by Tripay reference."""

    @classmethod
    def load(
        cls, session: Session, *, terminal: Terminal, parsed: Sequence[ParsedEvent]
    ) -> BatchContext:
        """Read everything the batch refers to in as few round trips as possible: the
        store, event ids (and their open refusals), receipts, users and shifts together,
        then products with their price history, and vouchers, QRIS orders and sales only
        when named."""
        event_ids: list[uuid.UUID] = []
        products: set[int] = set()
        receipts: list[str] = []
        users: set[int] = set()
        sale_refs: set[uuid.UUID] = set()
        shift_refs: set[uuid.UUID] = set()
        voucher_codes: set[str] = set()
        order_refs: set[str] = set()
        for item in parsed:
            if item.repeat_of is not None or item.bad_id:
                continue
            event_ids.append(item.event.id)
            p = item.payload
            if isinstance(p, SaleIn):
                products.update(line.product_id for line in p.lines)
                receipts.append(p.receipt_number)
                users.add(p.cashier_id)
                users.update(
                    line.price_override.approved_by for line in p.lines if line.price_override
                )
                if p.shift_id is not None:
                    shift_refs.add(p.shift_id)
                if p.voucher_code:
                    voucher_codes.add(p.voucher_code)
                for pay in p.payments:
                    order_refs.update(r for r in (pay.order_id, pay.reference) if r)
            elif isinstance(p, RefundIn | VoidIn):
                sale_refs.add(p.sale_id)
                users.update((p.cashier_id, p.approved_by))
                if isinstance(p, RefundIn) and p.shift_id is not None:
                    shift_refs.add(p.shift_id)
            elif isinstance(p, ShiftOpenIn | ShiftCloseIn):
                shift_refs.add(p.id)
                users.add(p.user_id)
            elif isinstance(p, CashMoveIn):
                shift_refs.add(p.shift_id)
                users.add(p.user_id)
            elif isinstance(p, NoSaleIn):
                users.update((p.cashier_id, p.approved_by))
                if p.shift_id is not None:
                    shift_refs.add(p.shift_id)
        known = _known_rows(
            session,
            terminal=terminal,
            event_ids=event_ids,
            receipts=receipts,
            users=users,
            shifts=shift_refs,
            products=products,
        )
        _check_terminal(terminal, known)
        timezone = next((text for kind, text, *_ in known if kind == "t"), None)
        ctx = cls(terminal=terminal, timezone=timezone or DEFAULT_TIMEZONE)
        ctx._take_known(known)
        if products:
            ctx._load_prices(session, products)
        if voucher_codes:
            ctx._load_vouchers(session, voucher_codes)
        if order_refs:
            ctx._load_orders(session, order_refs)
        if sale_refs:
            ctx._load_sales(session, sale_refs)
        return ctx

    def _take_known(self, rows: Sequence[Any]) -> None:
        """Fill the state from the rows of :func:`_known_rows`."""
        for kind, text, digest, n1, n2, n3 in rows:
            if kind == "e":
                self.applied[uuid.UUID(text)] = AppliedEvent(terminal_id=n1, digest=digest)
            elif kind == "r":
                self.receipts.add(text)
            elif kind == "u":
                self.users[n1] = UserState(role=Role(text), store_id=n2, active=bool(n3))
            elif kind == "s":
                self.shifts[uuid.UUID(text)] = ShiftState(terminal_id=n1, closed=bool(n2))
            elif kind == "x":
                self.open_rejections.add(uuid.UUID(text))
            elif kind == "c":
                self.costs[n1] = n2
            elif kind == "t" and digest is not None:  # ("k", the terminal: _check_terminal)
                self.store_born = _stored_time(digest)

    def _load_prices(self, session: Session, product_ids: set[int]) -> None:
        """Each product with its price history, oldest first, in one query (a product
        with no history has today's price as its only point)."""
        rows = session.connection().execute(
            _PRICES, {"product_ids": list(product_ids), "store_id": self.store_id}
        )
        for pid, price, rate_bp, hid, h_price, h_bp, h_from, h_change in rows:
            if price is None:  # the store's override set (or cleared: no price)
                point = OutletPoint(h_price, h_from, h_change)
                self.outlet_prices.setdefault(pid, []).append(point)
                continue
            self.products.add(pid)
            points = self.prices.setdefault(pid, [])
            if hid is not None:
                points.append(PricePoint(h_price, h_bp, h_from, h_change))
            else:  # written around the session events: today's price
                points.append(PricePoint(price, rate_bp, datetime.min.replace(tzinfo=UTC), 0))

    def _load_vouchers(self, session: Session, codes: set[str]) -> None:
        rows = (
            session.connection()
            .execute(
                select(
                    Voucher.id,
                    Voucher.code,
                    Voucher.active,
                    Voucher.valid_from,
                    Voucher.valid_until,
                    Voucher.min_spend,
                    Voucher.usage_limit,
                ).where(Voucher.code.in_(codes))
            )
            .all()
        )
        if not rows:
            return
        uses: dict[int, int] = dict(
            session.connection()
            .execute(
                select(VOUCHER_USES.c.voucher_id, func.count())
                .where(VOUCHER_USES.c.voucher_id.in_([r[0] for r in rows]))
                .group_by(VOUCHER_USES.c.voucher_id)
            )
            .all()
        )
        for vid, code, active, v_from, v_until, min_spend, limit in rows:
            self.vouchers[code] = VoucherState(
                vid, bool(active), v_from, v_until, min_spend, limit, int(uses.get(vid, 0))
            )

    def _load_orders(self, session: Session, refs: set[str]) -> None:
        used = select(QRIS_USES.c.payment_order_id)
        rows = session.connection().execute(
            select(
                PaymentOrder.id,
                PaymentOrder.order_id,
                PaymentOrder.reference,
                PaymentOrder.terminal_id,
                PaymentOrder.status,
                PaymentOrder.amount,
                PaymentOrder.id.in_(used),
            ).where(PaymentOrder.order_id.in_(refs) | PaymentOrder.reference.in_(refs))
        )
        for oid, order_id, reference, tid, status, amount, is_used in rows:
            order = OrderState(oid, order_id, reference, tid, status, amount, bool(is_used))
            self.orders[order_id] = order
            if reference:
                self.orders.setdefault(reference, order)

    def _load_sales(self, session: Session, sale_ids: Iterable[uuid.UUID]) -> None:
        # Locked to the commit: two refunds of one sale through two servers queue here.
        # Whether the sale had a customer comes along (its customer_sales row, keyed by
        # the sale), so reversals of sales without one cost the points ledger nothing.
        # Under READ COMMITTED a missing row locks no gap: other tills' customer sales
        # are never held up by it.
        rows = session.connection().execute(
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
                SALE_LINES.c.unit_cost,
                SALE_LINES.c.tax,
                CUSTOMER_SALES.c.sale_id,
            )
            .select_from(
                SALES.join(SALE_LINES, SALE_LINES.c.sale_id == SALES.c.id).outerjoin(
                    CUSTOMER_SALES, CUSTOMER_SALES.c.sale_id == SALES.c.id
                )
            )
            .where(SALES.c.id.in_(sorted(sale_ids)))
            .order_by(SALES.c.id, SALE_LINES.c.id)
            .with_for_update()
        )
        for sale_id, store_id, voided, line_id, pid, qty, total, r_qty, r_amount, *more in rows:
            unit_cost, tax, customer_sale = more
            self.line_costs[line_id] = (unit_cost, total, tax)
            sale = self.sales.get(sale_id)
            if sale is None:
                if customer_sale is not None:
                    self.customer_sale_ids.add(sale_id)
                sale = self.sales[sale_id] = SaleState(
                    store_id=store_id, voided=bool(voided), lines={}
                )
            sale.lines[line_id] = LineState(pid, qty, total, r_qty, r_amount)

    def refusal_of_copy(self, stored: AppliedEvent, item: ParsedEvent) -> Rejection | None:
        """None when ``item`` is a copy of the applied event ``stored`` (a duplicate);
        a conflict when the id was used by another terminal or for other content."""
        if stored.terminal_id != self.terminal_id:
            return conflict(item.event.id)
        if stored.digest is None or stored.digest == item.digest:
            return None
        return conflict(item.event.id)

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

    def may_override_price(self, user_id: int) -> bool:
        """True for an active supervisor, manager or admin of this store."""
        user = self._user(user_id)
        return user is not None and user.role.at_least(Role.SUPERVISOR)

    def require_supervisor(self, user_id: int) -> None:
        """Refuse an approval by anyone below supervisor (the drawer opened with no sale)."""
        if not self.may_override_price(user_id):
            raise Rejection(
                "approval_required",
                f"User {user_id} may not approve this: it needs a supervisor of this store.",
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
