"""The stock ledger: every change of on hand is a signed move, written by one function.

:func:`apply_stock_moves` is the one way the manager's receive, adjust and count change
stock. It appends the moves, adds their sum to ``stock_levels`` (the base) with an
upsert per product (in product order, so two writers lock rows in the same order and
merge without lost updates), and stamps each touched level with a fresh change number
reserved last, just before the caller commits.

Sales ingest writes its moves itself and adds their sum to the pushing terminal's own
``stock_deltas`` rows (:func:`add_stock_deltas`), never to a row another till writes,
so tills of one store never queue on one row (nor abort each other across Galera
nodes). On hand is therefore base plus deltas; every read here sums both in one
statement (:func:`on_hand_rows`, :func:`product_stock`), so it is exact at every
moment. Before each pull, :func:`fold_stock_deltas` moves deltas into the base in a
short transaction of its own (the sum stays the same), and :func:`stamp_stock_changes`
numbers the changed levels, so a till pulls the summed on hand.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Insert,
    Subquery,
    Table,
    and_,
    bindparam,
    delete,
    exists,
    func,
    literal_column,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.orm import Session

from shared.ids import new_id
from shared.models import StockMoveKind, StockMoveOut
from sync_server.auth.models import User
from sync_server.catalog.models import Product
from sync_server.core.database import (
    driver_statement,
    next_change_numbers,
    unit_of_work,
    utcnow,
)
from sync_server.core.errors import Forbidden, Invalid, NotFound
from sync_server.core.models import Store
from sync_server.purchasing.models import ProductCost
from sync_server.stock.models import StockDelta, StockLevel, StockMove
from sync_server.stock.schemas import (
    AdjustIn,
    CountIn,
    ReceiveIn,
    StockChangeOut,
    StockLevelRow,
)
from sync_server.stores.service import may_see_store

MOVES = cast(Table, StockMove.__table__)
LEVELS = cast(Table, StockLevel.__table__)
DELTAS = cast(Table, StockDelta.__table__)
COSTS = cast(Table, ProductCost.__table__)

LevelFilter = Literal["negative", "low"]


@dataclass(frozen=True, slots=True)
class NewStockMove:
    """A movement about to be written: positive adds to on hand, negative takes away."""

    id: UUID
    product_id: int
    kind: StockMoveKind
    quantity: int
    created_at: datetime
    ref_id: str | None = None
    terminal_id: int | None = None
    user_id: int | None = None
    note: str = ""
    unit_cost: int | None = None
    """What one unit cost (a receive that named it); None otherwise."""


def stock_move_rows(*, store_id: int, moves: Iterable[NewStockMove]) -> list[dict[str, Any]]:
    """The ``stock_moves`` rows for ``moves`` in ``store_id``, ready for a bulk insert."""
    return [
        {
            "id": m.id,
            "store_id": store_id,
            "product_id": m.product_id,
            "kind": m.kind.value,
            "quantity": m.quantity,
            "ref_id": m.ref_id,
            "terminal_id": m.terminal_id,
            "user_id": m.user_id,
            "note": m.note,
            "created_at": m.created_at,
            "unit_cost": m.unit_cost,
        }
        for m in moves
    ]


def net_quantities(moves: Iterable[NewStockMove]) -> dict[int, int]:
    """Sum of the moves per product."""
    deltas: dict[int, int] = defaultdict(int)
    for move in moves:
        deltas[move.product_id] += move.quantity
    return dict(deltas)


def apply_stock_moves(session: Session, *, store_id: int, moves: Sequence[NewStockMove]) -> None:
    """Write ``moves`` to the ledger and bring the store's on hand up to date.

    Reserves change numbers, so call it last in the transaction (nothing but the
    commit should follow). Negative stock is allowed: it is flagged, never refused.
    """
    if not moves:
        return
    session.execute(MOVES.insert(), stock_move_rows(store_id=store_id, moves=moves))
    update_stock_levels(session, store_id=store_id, deltas=net_quantities(moves))


def update_stock_levels(session: Session, *, store_id: int, deltas: Mapping[int, int]) -> None:
    """Add ``deltas`` (product id to signed quantity) to the base and number the rows.

    The half of :func:`apply_stock_moves` that touches ``stock_levels``. A changed row
    gets a fresh change number at once (the counter is the last lock taken), so a
    manager's change reaches the tills at their next pull. Ingest never calls this: it
    writes its terminal's own deltas (:func:`add_stock_deltas`).
    """
    if not deltas:
        return
    now = utcnow()
    products = sorted(deltas)
    dialect = session.get_bind().dialect.name
    session.execute(
        _level_upsert(dialect, "add"),
        [
            {
                "store_id": store_id,
                "product_id": pid,
                "on_hand": deltas[pid],
                "change_no": 0,
                "updated_at": now,
            }
            for pid in products
        ],
    )
    _stamp(session, [(store_id, pid) for pid in products])


def _stamp(session: Session, keys: Sequence[tuple[int, int]]) -> None:
    first = next_change_numbers(session, len(keys))
    dialect = session.get_bind().dialect.name
    now = utcnow()
    session.execute(
        _level_upsert(dialect, "stamp"),
        [
            {
                "store_id": store_id,
                "product_id": pid,
                "on_hand": 0,
                "change_no": first + i,
                "updated_at": now,
            }
            for i, (store_id, pid) in enumerate(keys)
        ],
    )


def add_stock_deltas(
    session: Session, *, store_id: int, terminal_id: int, deltas: Mapping[int, int]
) -> None:
    """Add ``deltas`` (product id to signed quantity) to ``terminal_id``'s own delta rows.

    What ingest does instead of touching ``stock_levels``: the rows are keyed by the
    pushing terminal, so no other till writes them, and they are upserted in product
    order. On hand (base plus deltas) is exact as soon as this commits; the base and
    its change number follow at the next fold (:func:`fold_stock_deltas`).
    """
    rows = [(store_id, pid, terminal_id, qty) for pid, qty in sorted(deltas.items()) if qty]
    if rows:
        dialect = session.get_bind().dialect
        upsert = driver_statement(_delta_upsert(dialect.name), _DELTA_COLUMNS, dialect)
        upsert.execute_many(session, rows)


_DELTA_COLUMNS = ("store_id", "product_id", "terminal_id", "quantity")
"""The columns of :func:`add_stock_deltas`'s upsert, in the order of its rows."""


_FOLD_SUBTRACT = (
    update(DELTAS)
    .where(
        DELTAS.c.store_id == bindparam("b_store"),
        DELTAS.c.product_id == bindparam("b_product"),
        DELTAS.c.terminal_id == bindparam("b_terminal"),
    )
    .values(quantity=DELTAS.c.quantity - bindparam("b_quantity"))
)
_FOLD_DROP_EMPTY = delete(DELTAS).where(
    DELTAS.c.store_id == bindparam("b_store"),
    DELTAS.c.product_id == bindparam("b_product"),
    DELTAS.c.terminal_id == bindparam("b_terminal"),
    DELTAS.c.quantity == 0,
)


def fold_stock_deltas(session: Session, *, store_id: int | None = None) -> int:
    """Move the terminals' stock deltas into ``stock_levels``; how many delta rows moved.

    For each delta row (of ``store_id``, or of every store): add its quantity
    to the level's ``on_hand`` (``change_no`` goes to 0, so :func:`stamp_stock_changes`
    numbers it), subtract exactly that quantity from the delta row and delete the row
    once it is empty, all in this transaction, so base plus deltas never changes. Run
    it in a short transaction of its own before the stamping. On MariaDB the delta rows
    are locked with ``FOR UPDATE SKIP LOCKED``: a row another puller is folding, or a
    push is writing, is left for the next fold instead of queueing behind it (on hand
    stays exact meanwhile: it is the sum). Locks are taken delta rows first, then levels
    in key order; nothing that locks a level ever waits for a delta row, so this cannot
    deadlock with a count or a manager's change.
    """
    dialect = session.get_bind().dialect.name
    stmt = select(
        DELTAS.c.store_id, DELTAS.c.product_id, DELTAS.c.terminal_id, DELTAS.c.quantity
    ).order_by(DELTAS.c.store_id, DELTAS.c.product_id, DELTAS.c.terminal_id)
    if store_id is not None:
        stmt = stmt.where(DELTAS.c.store_id == store_id)
    if dialect != "sqlite":  # SQLite: BEGIN IMMEDIATE already holds the only write lock
        stmt = stmt.with_for_update(skip_locked=True)
    rows = session.execute(stmt).all()
    if not rows:
        return 0
    keys = [
        {"b_store": r.store_id, "b_product": r.product_id, "b_terminal": r.terminal_id}
        for r in rows
    ]
    moved = [(key, int(r.quantity)) for key, r in zip(keys, rows, strict=True) if r.quantity]
    sums: dict[tuple[int, int], int] = defaultdict(int)
    for key, qty in moved:
        sums[(int(key["b_store"]), int(key["b_product"]))] += qty
    now = utcnow()
    levels = [
        {"store_id": store, "product_id": pid, "on_hand": qty, "change_no": 0, "updated_at": now}
        for (store, pid), qty in sorted(sums.items())
        if qty
    ]
    if levels:
        session.execute(_level_upsert(dialect, "add"), levels)
    if moved:
        session.execute(_FOLD_SUBTRACT, [key | {"b_quantity": qty} for key, qty in moved])
    # Emptied rows go, so the table holds only what is not folded yet and a fold reads
    # little. (Each row is locked by this fold, so it is empty now; the test only guards.)
    session.execute(_FOLD_DROP_EMPTY, keys)
    return len(moved)


def on_hand_rows(*, store_id: int, product_ids: Sequence[int] | None = None) -> Subquery:
    """``(product_id, on_hand)`` of a store: base plus every terminal's delta, summed.

    One statement reads both tables, so a fold committing meanwhile (which moves a
    quantity from one to the other) can never be seen half done. Only products with a
    level or a delta row appear. For a page over all products, :func:`product_stock`
    reads less.
    """
    base = select(LEVELS.c.product_id, LEVELS.c.on_hand.label("quantity")).where(
        LEVELS.c.store_id == store_id
    )
    deltas = select(DELTAS.c.product_id, DELTAS.c.quantity).where(DELTAS.c.store_id == store_id)
    if product_ids is not None:
        base = base.where(LEVELS.c.product_id.in_(product_ids))
        deltas = deltas.where(DELTAS.c.product_id.in_(product_ids))
    parts = union_all(base, deltas).subquery("parts")
    return (
        select(parts.c.product_id, func.sum(parts.c.quantity).label("on_hand"))
        .group_by(parts.c.product_id)
        .subquery("on_hand")
    )


@dataclass(frozen=True, slots=True)
class ProductStock:
    """On hand per row of a SELECT over ``products``, in one statement (so exact)."""

    joined: FromClause
    """``products`` outer-joined to the store's levels: select from this."""
    on_hand: ColumnElement[Any]
    """The level plus the product's deltas (0 for a product that never moved)."""
    stocked: ColumnElement[bool]
    """The product has a level or a delta row in the store."""


def product_stock(store_id: int) -> ProductStock:
    """What a SELECT over products needs to read on hand in ``store_id``.

    The deltas come from a correlated sum per product (an index range on the small
    ``stock_deltas`` table), so a page of products reads only its own rows.
    """
    product = cast(Table, Product.__table__)
    mine = and_(DELTAS.c.store_id == store_id, DELTAS.c.product_id == product.c.id)
    delta = select(func.sum(DELTAS.c.quantity)).where(mine).scalar_subquery()
    return ProductStock(
        joined=product.outerjoin(
            LEVELS, and_(LEVELS.c.product_id == product.c.id, LEVELS.c.store_id == store_id)
        ),
        on_hand=func.coalesce(LEVELS.c.on_hand, 0) + func.coalesce(delta, 0),
        stocked=or_(LEVELS.c.on_hand.is_not(None), exists().where(mine)),
    )


def on_hand_of(session: Session, *, store_id: int, product_ids: Sequence[int]) -> dict[int, int]:
    """On hand (base plus deltas) of ``product_ids`` in a store; 0 for one never moved."""
    found = on_hand_rows(store_id=store_id, product_ids=product_ids)
    summed = {
        int(pid): int(qty)
        for pid, qty in session.execute(select(found.c.product_id, found.c.on_hand))
    }
    return {pid: summed.get(pid, 0) for pid in product_ids}


def stamp_stock_changes(session: Session) -> int:
    """Give every changed, not yet numbered stock level its change number; how many.

    Runs before each pull, in a short transaction of its own after
    :func:`fold_stock_deltas`: the rows are locked in key order, then the change
    counter, exactly as :func:`update_stock_levels` does.
    A row changed again after this commits goes back to 0 and is numbered next time,
    so a till never misses a stock change.
    """
    keys = [
        (int(r.store_id), int(r.product_id))
        for r in session.execute(
            select(LEVELS.c.store_id, LEVELS.c.product_id)
            .where(LEVELS.c.change_no == 0)
            .order_by(LEVELS.c.store_id, LEVELS.c.product_id)
            .with_for_update()
        )
    ]
    if keys:
        _stamp(session, keys)
    return len(keys)


_DELTA_UPSERTS: dict[str, Insert] = {}


def _delta_upsert(dialect: str) -> Insert:
    """``INSERT ... ON DUPLICATE KEY / ON CONFLICT`` adding to a terminal's delta."""
    stmt = _DELTA_UPSERTS.get(dialect)
    if stmt is not None:
        return stmt
    if dialect == "sqlite":
        lite = sqlite.insert(DELTAS)
        stmt = lite.on_conflict_do_update(
            index_elements=[DELTAS.c.store_id, DELTAS.c.product_id, DELTAS.c.terminal_id],
            set_={"quantity": DELTAS.c.quantity + lite.excluded.quantity},
        )
    else:
        my = mysql.insert(DELTAS)
        stmt = my.on_duplicate_key_update(quantity=DELTAS.c.quantity + my.inserted.quantity)
    _DELTA_UPSERTS[dialect] = stmt
    return stmt


_UPSERTS: dict[tuple[str, str], Insert] = {}


def _level_upsert(dialect: str, mode: Literal["add", "stamp"]) -> Insert:
    """``INSERT ... ON DUPLICATE KEY / ON CONFLICT`` adding on hand or setting change_no."""
    key = (dialect, mode)
    stmt = _UPSERTS.get(key)
    if stmt is not None:
        return stmt
    if dialect in ("mysql", "mariadb"):
        my = mysql.insert(LEVELS)
        if mode == "add":
            stmt = my.on_duplicate_key_update(
                on_hand=LEVELS.c.on_hand + my.inserted.on_hand,
                change_no=literal_column("0"),  # a literal: PyMySQL cannot bind here
                updated_at=my.inserted.updated_at,
            )
        else:
            stmt = my.on_duplicate_key_update(change_no=my.inserted.change_no)
    elif dialect == "sqlite":
        lite = sqlite.insert(LEVELS)
        if mode == "add":
            stmt = lite.on_conflict_do_update(
                index_elements=[LEVELS.c.store_id, LEVELS.c.product_id],
                set_={
                    "on_hand": LEVELS.c.on_hand + lite.excluded.on_hand,
                    "change_no": 0,
                    "updated_at": lite.excluded.updated_at,
                },
            )
        else:
            stmt = lite.on_conflict_do_update(
                index_elements=[LEVELS.c.store_id, LEVELS.c.product_id],
                set_={"change_no": lite.excluded.change_no},
            )
    else:  # pragma: no cover - only SQLite and MySQL/MariaDB are supported
        raise NotImplementedError(f"no stock upsert for {dialect}")
    _UPSERTS[key] = stmt
    return stmt


# --- the manager's stock API -------------------------------------------------------------


def resolve_store(session: Session, *, user: User, store_id: int | None) -> int:
    """The store a user acts on: their own by default; only an admin may name another."""
    if store_id is None:
        if user.store_id is None:
            raise Invalid("store_required", code="store_required")
        store_id = user.store_id
    elif not may_see_store(user, store_id):
        # The one rule of stores/service.py: a non-admin acts on their own store only
        # (a user with no store has none, so may name none).
        raise Forbidden(
            "stock_other_store",
            code="other_store",
            details={"store_id": store_id, "your_store_id": user.store_id},
        )
    if session.get(Store, store_id) is None:
        raise NotFound("unknown_store", code="unknown_store", store_id=store_id)
    return store_id


def known_products(session: Session, product_ids: Iterable[int]) -> dict[int, Product]:
    """The products by id; 422 ``unknown_product`` naming any that do not exist."""
    wanted = set(product_ids)
    found = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(wanted)))}
    missing = sorted(wanted - set(found))
    if missing:
        raise Invalid(
            "unknown_products",
            code="unknown_product",
            details={"product_ids": missing},
            product_ids=", ".join(map(str, missing)),
        )
    return found


def _change(session: Session, *, store_id: int, moves: list[NewStockMove]) -> StockChangeOut:
    apply_stock_moves(session, store_id=store_id, moves=moves)
    levels = list_levels(
        session, store_id=store_id, product_ids=sorted({m.product_id for m in moves})
    )
    return StockChangeOut(
        moves=[StockMoveOut.of(m, store_id=store_id) for m in moves],
        levels=levels,
    )


def _moves_by_hand(
    *, user: User, kind: StockMoveKind, at: datetime, lines: Iterable[tuple[int, int, str]]
) -> list[NewStockMove]:
    """The moves a manager's receive, adjust or count writes: ``(product_id, quantity,
    note)`` per line, all by ``user`` at the same moment."""
    return [
        NewStockMove(
            id=new_id(),
            product_id=product_id,
            kind=kind,
            quantity=quantity,
            created_at=at,
            user_id=user.id,
            note=note,
        )
        for product_id, quantity, note in lines
    ]


@unit_of_work
def receive_stock(session: Session, *, user: User, body: ReceiveIn) -> StockChangeOut:
    """Goods arrived: one positive ``receive`` move per line; a line with a cost per
    unit moves the product's average cost too (:func:`receive_lines`).

    With a ``receipt_id`` the receipt is applied once (the purchasing service keeps it);
    the route sends those there."""
    store_id = resolve_store(session, user=user, store_id=body.store_id)
    known_products(session, (line.product_id for line in body.lines))
    lines = [(line.product_id, line.quantity, line.unit_cost) for line in body.lines]
    return receive_lines(session, store_id=store_id, user=user, lines=lines, note=body.note)


# --- cost: the moving average of what goods cost ------------------------------------------


def moving_average(
    *, on_hand_before: int, avg_before: int | None, quantity: int, unit_cost: int
) -> int:
    """The average cost per unit after ``quantity`` units arrive at ``unit_cost``.

    ``(on_hand_before × avg_before + quantity × unit_cost) / (on_hand_before + quantity)``
    in whole rupiah, rounded half up (an exact half goes up). With nothing on hand
    (``on_hand_before`` ≤ 0: the shelf is empty or sold short) or no average known yet,
    the average becomes the receipt's own cost: units sold short were already counted
    at the cost known then, and nothing on the shelf carries an older cost.
    """
    if avg_before is None or on_hand_before <= 0:
        return unit_cost
    total = on_hand_before * avg_before + quantity * unit_cost
    units = on_hand_before + quantity
    return (2 * total + units) // (2 * units)


def lock_levels(session: Session, *, store_id: int, product_ids: Sequence[int]) -> dict[int, int]:
    """Create the products' level rows if missing, lock them in product order and read
    on hand (base plus deltas); what a count and a receipt with cost do first.

    While the levels are locked no fold moves a quantity and no other receipt changes
    the products' average cost (every writer of ``product_costs`` holds these locks).
    """
    wanted = sorted(set(product_ids))
    now = utcnow()
    dialect = session.get_bind().dialect.name
    session.execute(
        _level_upsert(dialect, "add"),
        [
            {
                "store_id": store_id,
                "product_id": pid,
                "on_hand": 0,
                "change_no": 0,
                "updated_at": now,
            }
            for pid in wanted
        ],
    )
    session.execute(
        select(LEVELS.c.product_id)
        .where(LEVELS.c.store_id == store_id, LEVELS.c.product_id.in_(wanted))
        .order_by(LEVELS.c.product_id)
        .with_for_update()
    )
    return on_hand_of(session, store_id=store_id, product_ids=wanted)


def update_costs(
    session: Session,
    *,
    store_id: int,
    on_hand: Mapping[int, int],
    lines: Sequence[tuple[int, int, int | None]],
) -> dict[int, int]:
    """Move the average cost of each product by the lines ``(product_id, quantity,
    unit_cost)`` that name a cost, in order (a product on two lines moves twice);
    ``on_hand`` is before the receipt, read under :func:`lock_levels`. Returns the new
    averages of the products that moved."""
    costed = [(pid, qty, cost) for pid, qty, cost in lines if cost is not None]
    if not costed:
        return {}
    pids = sorted({pid for pid, _, _ in costed})
    known = {
        int(pid): int(avg)
        for pid, avg in session.execute(
            select(COSTS.c.product_id, COSTS.c.avg_cost).where(
                COSTS.c.store_id == store_id, COSTS.c.product_id.in_(pids)
            )
        )
    }
    stored = set(known)
    current: dict[int, int | None] = {pid: known.get(pid) for pid in pids}
    units = {pid: int(on_hand.get(pid, 0)) for pid in pids}
    last: dict[int, int] = {}
    for pid, qty, cost in costed:
        current[pid] = moving_average(
            on_hand_before=units[pid], avg_before=current[pid], quantity=qty, unit_cost=cost
        )
        units[pid] += qty
        last[pid] = cost
    now = utcnow()
    rows = [
        {"b_store": store_id, "b_product": pid, "b_avg": current[pid], "b_last": last[pid]}
        for pid in pids
    ]
    old = [r for r in rows if r["b_product"] in stored]
    new = [r for r in rows if r["b_product"] not in stored]
    if old:
        session.execute(
            update(COSTS)
            .where(
                COSTS.c.store_id == bindparam("b_store"),
                COSTS.c.product_id == bindparam("b_product"),
            )
            .values(avg_cost=bindparam("b_avg"), last_cost=bindparam("b_last"), updated_at=now),
            old,
        )
    if new:
        session.execute(
            COSTS.insert(),
            [
                {
                    "store_id": r["b_store"],
                    "product_id": r["b_product"],
                    "avg_cost": r["b_avg"],
                    "last_cost": r["b_last"],
                    "updated_at": now,
                }
                for r in new
            ],
        )
    return {pid: int(avg) for pid, avg in current.items() if avg is not None}


def receive_lines(
    session: Session,
    *,
    store_id: int,
    user: User,
    lines: Sequence[tuple[int, int, int | None]],
    note: str = "",
    ref_id: str | None = None,
) -> StockChangeOut:
    """Goods in: a ``receive`` move per line ``(product_id, quantity, unit_cost)`` with its
    cost, and the average cost moved (:func:`moving_average`), in the caller's
    transaction (call it last: it reserves change numbers)."""
    on_hand = lock_levels(session, store_id=store_id, product_ids=[pid for pid, _, _ in lines])
    update_costs(session, store_id=store_id, on_hand=on_hand, lines=lines)
    at = utcnow()
    moves = [
        NewStockMove(
            id=new_id(),
            product_id=pid,
            kind=StockMoveKind.RECEIVE,
            quantity=qty,
            created_at=at,
            ref_id=ref_id,
            user_id=user.id,
            note=note,
            unit_cost=cost,
        )
        for pid, qty, cost in lines
    ]
    return _change(session, store_id=store_id, moves=moves)


@unit_of_work
def adjust_stock(session: Session, *, user: User, body: AdjustIn) -> StockChangeOut:
    """Signed corrections with a reason (breakage, theft, found goods)."""
    store_id = resolve_store(session, user=user, store_id=body.store_id)
    known_products(session, (line.product_id for line in body.lines))
    if any(line.quantity == 0 for line in body.lines):
        raise Invalid("zero_adjustment", code="zero_adjustment")
    lines = [(line.product_id, line.quantity, body.reason) for line in body.lines]
    moves = _moves_by_hand(user=user, kind=StockMoveKind.ADJUST, at=utcnow(), lines=lines)
    return _change(session, store_id=store_id, moves=moves)


@unit_of_work
def count_stock(session: Session, *, user: User, body: CountIn) -> StockChangeOut:
    """A stock take: write ``counted - on hand`` for each product, read under a row lock.

    The levels are created if missing and locked (``SELECT ... FOR UPDATE``) before on
    hand (base plus deltas) is read, so a fold or another count lands before or after
    the count, never inside it, and a sale ingested at the same moment counts as before
    the count when its delta was committed by then, as after it otherwise.
    """
    store_id = resolve_store(session, user=user, store_id=body.store_id)
    product_ids = [line.product_id for line in body.lines]
    if len(set(product_ids)) != len(product_ids):
        raise Invalid("duplicate_product", code="duplicate_product")
    known_products(session, product_ids)
    now = utcnow()
    # Every level row made to exist and locked in product order, then base plus the tills'
    # deltas read in one statement. No fold can move a quantity between the two while the
    # levels are locked; a sale whose delta commits after this read counts as sold after
    # the count (on hand ends at counted minus that sale).
    on_hand = lock_levels(session, store_id=store_id, product_ids=product_ids)
    lines = [
        (
            line.product_id,
            line.counted - int(on_hand[line.product_id]),
            body.note or f"counted {line.counted}",
        )
        for line in body.lines
    ]
    moves = _moves_by_hand(user=user, kind=StockMoveKind.COUNT, at=now, lines=lines)
    return _change(session, store_id=store_id, moves=moves)


def list_levels(
    session: Session,
    *,
    store_id: int,
    only: LevelFilter | None = None,
    product_ids: Sequence[int] | None = None,
    limit: int = 1000,
    offset: int = 0,
    after: int | None = None,
) -> list[StockLevelRow]:
    """On hand (base plus deltas) per product of a store, flagging negative and low stock.

    Active products without a level count as zero on hand; inactive ones show only
    while they still have a level or a delta. ``only`` keeps the negative or the low ones
    (low: on hand at or below the product's threshold). Rows come in product id order;
    ``after`` (keyset paging: the last product id of the page before) starts after it.
    """
    stock = product_stock(store_id)
    on_hand = stock.on_hand
    stmt = (
        select(
            Product.id,
            Product.sku,
            Product.name,
            Product.low_stock_threshold,
            on_hand.label("on_hand"),
        )
        .select_from(stock.joined)
        .order_by(Product.id)
        .limit(limit)
        .offset(offset)
    )
    if product_ids is not None:
        stmt = stmt.where(Product.id.in_(product_ids))
    else:
        stmt = stmt.where(or_(Product.active.is_(True), stock.stocked))
    if after is not None:
        stmt = stmt.where(Product.id > after)
    if only == "negative":
        stmt = stmt.where(on_hand < 0)
    elif only == "low":
        stmt = stmt.where(on_hand <= Product.low_stock_threshold)
    return [
        StockLevelRow(
            product_id=pid,
            store_id=store_id,
            sku=sku,
            name=name,
            on_hand=int(qty),
            low_stock_threshold=threshold,
            negative=qty < 0,
            low=qty <= threshold,
        )
        for pid, sku, name, threshold, qty in session.execute(stmt)
    ]


def list_moves(
    session: Session,
    *,
    store_id: int,
    product_id: int | None = None,
    limit: int = 200,
) -> list[StockMoveOut]:
    """A store's ledger, newest first, optionally for one product."""
    stmt = select(StockMove).where(StockMove.store_id == store_id)
    if product_id is not None:
        stmt = stmt.where(StockMove.product_id == product_id)
    stmt = stmt.order_by(StockMove.created_at.desc(), StockMove.id.desc()).limit(limit)
    return [StockMoveOut.of(m, kind=StockMoveKind(m.kind)) for m in session.scalars(stmt)]


@unit_of_work
def store_levels(
    session: Session,
    *,
    user: User,
    store_id: int | None,
    only: LevelFilter | None = None,
    limit: int = 1000,
    offset: int = 0,
    after: int | None = None,
    product_ids: Sequence[int] | None = None,
) -> list[StockLevelRow]:
    """:func:`list_levels` of the store ``user`` may see (their own unless an admin)."""
    store = resolve_store(session, user=user, store_id=store_id)
    return list_levels(
        session,
        store_id=store,
        only=only,
        limit=limit,
        offset=offset,
        after=after,
        product_ids=product_ids,
    )


@unit_of_work
def store_moves(
    session: Session,
    *,
    user: User,
    store_id: int | None,
    product_id: int | None = None,
    limit: int = 200,
) -> list[StockMoveOut]:
    """:func:`list_moves` of the store ``user`` may see (their own unless an admin)."""
    store = resolve_store(session, user=user, store_id=store_id)
    return list_moves(session, store_id=store, product_id=product_id, limit=limit)
