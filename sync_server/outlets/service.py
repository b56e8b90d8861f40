"""Outlet logic: a product's price at one outlet, stock across outlets, and transfers.

**Prices.** An override is set or cleared by a manager of the outlet or an admin. Each
change takes a fresh change number for the override's row (the outlet's tills get the
product again at their next pull, with the price the outlet has then; other outlets'
tills never see it) and writes an :class:`OutletPriceHistory` row ingest checks line
prices against (``sync/ingest/verify.py``). A change that changes nothing writes
nothing.

**Transfers.** ``draft → sent → received``, or ``cancelled`` before it is received. The
source's manager (or an admin) makes, sends and cancels it; the destination's manager
(or an admin) receives it. Sending writes a negative ``adjust`` move per line at the
source; receiving a ``receive`` move of what was sent at the destination and, for what
did not arrive, a negative ``adjust`` move with the loss reason; cancelling a sent
transfer gives the source its stock back. Every move goes through
:func:`sync_server.stock.service.apply_stock_moves` (the ledger, the levels and their
change numbers) in the transfer's transaction, so on hand is exact at every read on
both outlets. A transfer is keyed by the client's id: the same content again answers
the stored transfer, other content under that id is 409; repeating a step already
taken answers the transfer as it is.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, func, or_, select
from sqlalchemy.orm import Session

from shared.ids import new_id
from shared.models import StockMoveKind, StoreOut
from sync_server.auth.models import User
from sync_server.catalog.models import Product
from sync_server.core.database import next_change_numbers, unit_of_work, utcnow
from sync_server.core.errors import Conflict, Invalid, NotFound
from sync_server.core.models import Store
from sync_server.outlets.models import (
    OutletPrice,
    OutletPriceHistory,
    StockTransfer,
    StockTransferLine,
)
from sync_server.outlets.schemas import (
    InTransitRow,
    OutletPriceIn,
    OutletPriceOut,
    OutletStock,
    ProductOutletsOut,
    TransferIn,
    TransferLineOut,
    TransferOut,
    TransferReceiveIn,
    TransferStatus,
)
from sync_server.stock import service as stock_service
from sync_server.stock.service import NewStockMove
from sync_server.stores.service import is_admin, require_store_access, store_out

STATUS_LABELS: dict[TransferStatus, str] = {
    TransferStatus.DRAFT: "draf",
    TransferStatus.SENT: "dikirim",
    TransferStatus.RECEIVED: "diterima",
    TransferStatus.CANCELLED: "dibatalkan",
}
"""What the manager reads for each status."""

PRICES = cast(Table, OutletPrice.__table__)
HISTORY = cast(Table, OutletPriceHistory.__table__)
TRANSFERS = cast(Table, StockTransfer.__table__)
LINES = cast(Table, StockTransferLine.__table__)


# ---------------------------------------------------------------- outlets


def _now() -> datetime:
    # Whole seconds, as MariaDB's DATETIME keeps them: an answer is the same made or read.
    return utcnow().replace(microsecond=0)


def _outlet(session: Session, *, user: User, store_id: int) -> Store:
    """The outlet ``store_id``, when ``user`` may act on it (404 unknown, 403 other)."""
    require_store_access(actor=user, store_id=store_id)
    return _known_store(session, store_id)


def _known_store(session: Session, store_id: int) -> Store:
    store = session.get(Store, store_id)
    if store is None:
        raise NotFound("unknown_store", code="unknown_store", store_id=store_id)
    return store


@unit_of_work
def outlets_of(session: Session, *, user: User) -> list[Store]:
    """The outlets ``user`` may act on, by code."""
    query = select(Store).order_by(Store.code)
    if not is_admin(user):
        query = query.where(Store.id == user.store_id)
    return list(session.scalars(query).all())


# ---------------------------------------------------------------- prices


def _price_rows(
    session: Session, *, store_id: int, product_ids: Sequence[int] | None, limit: int, offset: int
) -> list[OutletPriceOut]:
    query = (
        select(
            Product.id,
            Product.sku,
            Product.name,
            Product.price,
            PRICES.c.price,
            PRICES.c.updated_at,
        )
        .join(PRICES, PRICES.c.product_id == Product.id)
        .where(PRICES.c.store_id == store_id)
        .order_by(Product.sku)
    )
    if product_ids is None:
        query = query.where(PRICES.c.price.is_not(None)).limit(limit).offset(offset)
    else:
        query = query.where(Product.id.in_(product_ids))
    return [
        OutletPriceOut(
            store_id=store_id,
            product_id=pid,
            sku=sku,
            name=name,
            chain_price=chain,
            price=price,
            effective_price=chain if price is None else price,
            updated_at=updated_at,
        )
        for pid, sku, name, chain, price, updated_at in session.execute(query)
    ]


@unit_of_work
def list_outlet_prices(
    session: Session, *, user: User, store_id: int, limit: int = 500, offset: int = 0
) -> list[OutletPriceOut]:
    """The outlet's overrides in force, by SKU."""
    _outlet(session, user=user, store_id=store_id)
    return _price_rows(session, store_id=store_id, product_ids=None, limit=limit, offset=offset)


def _change_price(
    session: Session, *, user: User, store_id: int, product_id: int, price: int | None
) -> OutletPriceOut:
    _outlet(session, user=user, store_id=store_id)
    product = stock_service.known_products(session, [product_id])[product_id]
    # The counter first: it is held to the commit anyway, and two managers changing the
    # same override then take turns instead of both inserting its row.
    change_no = next_change_numbers(session, 1)
    row = session.get(OutletPrice, (store_id, product_id))
    now = _now()
    if row is None and price is None:
        pass  # nothing to clear
    elif row is not None and row.price == price:
        pass  # already so: no new number, no history row
    else:
        if row is None:
            row = OutletPrice(store_id=store_id, product_id=product_id)
            session.add(row)
        row.price, row.change_no, row.updated_at, row.updated_by = price, change_no, now, user.id
        session.add(
            OutletPriceHistory(
                store_id=store_id,
                product_id=product_id,
                price=price,
                valid_from=now,
                change_no=change_no,
            )
        )
        session.flush()
    return OutletPriceOut(
        store_id=store_id,
        product_id=product_id,
        sku=product.sku,
        name=product.name,
        chain_price=product.price,
        price=price,
        effective_price=product.price if price is None else price,
        updated_at=None if row is None else row.updated_at,
    )


@unit_of_work
def set_outlet_price(
    session: Session, *, user: User, store_id: int, body: OutletPriceIn
) -> OutletPriceOut:
    """The product costs ``body.price`` at the outlet from now on (its tills: next pull)."""
    return _change_price(
        session, user=user, store_id=store_id, product_id=body.product_id, price=body.price
    )


@unit_of_work
def clear_outlet_price(
    session: Session, *, user: User, store_id: int, product_id: int
) -> OutletPriceOut:
    """The outlet sells the product at the chain price again."""
    return _change_price(session, user=user, store_id=store_id, product_id=product_id, price=None)


# ---------------------------------------------------------------- stock across outlets


def _in_transit(session: Session, product_ids: Sequence[int]) -> dict[tuple[str, int, int], int]:
    """Units of sent, not yet received transfers: ``("in"|"out", store, product)``."""
    rows = session.execute(
        select(
            TRANSFERS.c.from_store_id,
            TRANSFERS.c.to_store_id,
            LINES.c.product_id,
            func.sum(LINES.c.quantity),
        )
        .join(LINES, LINES.c.transfer_id == TRANSFERS.c.id)
        .where(TRANSFERS.c.status == TransferStatus.SENT.value, LINES.c.product_id.in_(product_ids))
        .group_by(TRANSFERS.c.from_store_id, TRANSFERS.c.to_store_id, LINES.c.product_id)
    )
    moving: dict[tuple[str, int, int], int] = defaultdict(int)
    for source, target, pid, units in rows:
        moving[("out", source, pid)] += int(units)
        moving[("in", target, pid)] += int(units)
    return moving


@unit_of_work
def product_outlets(session: Session, *, user: User, product_id: int) -> ProductOutletsOut:
    """A product's on hand at every outlet the caller may see, with what is in transit."""
    product = stock_service.known_products(session, [product_id])[product_id]
    moving = _in_transit(session, [product_id])
    outlets = []
    for store in outlets_of(session, user=user):
        on_hand = stock_service.on_hand_of(session, store_id=store.id, product_ids=[product_id])
        outlets.append(
            OutletStock(
                store_id=store.id,
                store_code=store.code,
                store_name=store.name,
                on_hand=on_hand[product_id],
                in_transit_in=moving.get(("in", store.id, product_id), 0),
                in_transit_out=moving.get(("out", store.id, product_id), 0),
            )
        )
    return ProductOutletsOut(
        product_id=product.id, sku=product.sku, name=product.name, outlets=outlets
    )


@unit_of_work
def find_products(session: Session, *, text: str, limit: int = 20) -> list[tuple[int, str, str]]:
    """(id, SKU, name) of products whose SKU, barcode or name holds ``text``."""
    needle = text.strip()
    if not needle:
        return []
    like = f"%{needle.replace('%', '').replace('_', '')}%"
    rows = session.execute(
        select(Product.id, Product.sku, Product.name)
        .where(or_(Product.sku == needle, Product.barcode == needle, Product.name.ilike(like)))
        .order_by(Product.sku)
        .limit(limit)
    )
    return [(int(pid), sku, name) for pid, sku, name in rows]


# ---------------------------------------------------------------- transfers


def _digest(body: TransferIn) -> str:
    content = {
        "from": body.from_store_id,
        "to": body.to_store_id,
        "lines": sorted((line.product_id, line.quantity) for line in body.lines),
        "note": body.note,
        "send": body.send,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _transfer_out(session: Session, transfer: StockTransfer) -> TransferOut:
    rows = session.execute(
        select(LINES.c.product_id, Product.sku, Product.name, LINES.c.quantity, LINES.c.received)
        .join(Product, Product.id == LINES.c.product_id)
        .where(LINES.c.transfer_id == transfer.id)
        .order_by(Product.sku)
    )
    return TransferOut(
        id=transfer.id,
        from_store_id=transfer.from_store_id,
        to_store_id=transfer.to_store_id,
        status=TransferStatus(transfer.status),
        note=transfer.note,
        loss_reason=transfer.loss_reason,
        created_by=transfer.created_by,
        created_at=transfer.created_at,
        sent_at=transfer.sent_at,
        received_at=transfer.received_at,
        cancelled_at=transfer.cancelled_at,
        lines=[
            TransferLineOut(product_id=pid, sku=sku, name=name, quantity=qty, received=got)
            for pid, sku, name, qty, got in rows
        ],
    )


def _lines(session: Session, transfer_id: uuid.UUID) -> list[StockTransferLine]:
    return list(
        session.scalars(
            select(StockTransferLine)
            .where(StockTransferLine.transfer_id == transfer_id)
            .order_by(StockTransferLine.product_id)
        ).all()
    )


def _moves(
    transfer: StockTransfer,
    *,
    user: User,
    kind: StockMoveKind,
    lines: Iterable[tuple[int, int]],
    note: str,
) -> list[NewStockMove]:
    now = _now()
    return [
        NewStockMove(
            id=new_id(),
            product_id=pid,
            kind=kind,
            quantity=quantity,
            created_at=now,
            ref_id=str(transfer.id),
            user_id=user.id,
            note=note[:200],
        )
        for pid, quantity in lines
        if quantity
    ]


def _locked(session: Session, transfer_id: uuid.UUID) -> StockTransfer:
    transfer = session.get(StockTransfer, transfer_id, with_for_update=True)
    if transfer is None:
        raise NotFound(
            "transfer_not_found", code="transfer_not_found", transfer_id=str(transfer_id)
        )
    return transfer


def _wrong_state(transfer: StockTransfer, step: str) -> Conflict:
    return Conflict(
        "transfer_state",
        code="transfer_state",
        details={"status": transfer.status, "step": step},
        # The label the pages show (as purchase orders do); the code is in details.
        status=STATUS_LABELS[TransferStatus(transfer.status)],
    )


def _adjust_source(
    session: Session, transfer: StockTransfer, *, user: User, sign: int, note: str
) -> None:
    """The transfer's goods taken out of (``sign`` -1) or put back into (+1) the source."""
    lines = [(line.product_id, sign * line.quantity) for line in _lines(session, transfer.id)]
    moves = _moves(transfer, user=user, kind=StockMoveKind.ADJUST, lines=lines, note=note)
    stock_service.apply_stock_moves(session, store_id=transfer.from_store_id, moves=moves)


def _send(session: Session, transfer: StockTransfer, *, user: User) -> None:
    target = _known_store(session, transfer.to_store_id)
    transfer.status = TransferStatus.SENT.value
    transfer.sent_at, transfer.sent_by = _now(), user.id
    session.flush()
    _adjust_source(session, transfer, user=user, sign=-1, note=f"Transfer ke {target.code}")


@unit_of_work
def create_transfer(session: Session, *, user: User, body: TransferIn) -> TransferOut:
    """A new transfer (sent at once when ``body.send``); the same id again: the stored one."""
    digest = _digest(body)
    # A locking read, also of an id not stored yet (a gap lock on MariaDB): two requests
    # with the same new id then deadlock instead of both inserting, and the one retried
    # (run_in_transaction) finds the other's transfer.
    stored = session.get(StockTransfer, body.id, with_for_update=True)
    if stored is not None:
        if stored.digest != digest:
            raise Conflict("transfer_conflict", code="transfer_conflict", transfer_id=str(body.id))
        require_store_access(actor=user, store_id=stored.from_store_id)
        return _transfer_out(session, stored)
    _outlet(session, user=user, store_id=body.from_store_id)
    _known_store(session, body.to_store_id)
    stock_service.known_products(session, (line.product_id for line in body.lines))
    transfer = StockTransfer(
        id=body.id,
        from_store_id=body.from_store_id,
        to_store_id=body.to_store_id,
        status=TransferStatus.DRAFT.value,
        note=body.note.strip(),
        digest=digest,
        created_by=user.id,
        created_at=_now(),
        loss_reason="",
    )
    session.add(transfer)
    session.flush()
    session.add_all(
        StockTransferLine(transfer_id=body.id, product_id=line.product_id, quantity=line.quantity)
        for line in body.lines
    )
    session.flush()
    if body.send:
        _send(session, transfer, user=user)
    return _transfer_out(session, transfer)


@unit_of_work
def send_transfer(session: Session, *, user: User, transfer_id: uuid.UUID) -> TransferOut:
    """Goods leave the source: its on hand goes down by every line."""
    transfer = _locked(session, transfer_id)
    require_store_access(actor=user, store_id=transfer.from_store_id)
    if transfer.status == TransferStatus.DRAFT.value:
        _send(session, transfer, user=user)
    elif transfer.status == TransferStatus.CANCELLED.value:
        raise _wrong_state(transfer, "send")
    return _transfer_out(session, transfer)


@unit_of_work
def receive_transfer(
    session: Session, *, user: User, transfer_id: uuid.UUID, body: TransferReceiveIn
) -> TransferOut:
    """Goods arrive at the destination; what did not arrive is a loss with its reason."""
    transfer = _locked(session, transfer_id)
    require_store_access(actor=user, store_id=transfer.to_store_id)
    lines = _lines(session, transfer.id)
    sent = {line.product_id: line.quantity for line in lines}
    claimed = {line.product_id: line.received for line in body.lines}
    unknown = sorted(set(claimed) - set(sent))
    if unknown:
        raise Invalid(
            "transfer_line_unknown",
            code="transfer_line_unknown",
            details={"product_ids": unknown},
            product_ids=", ".join(map(str, unknown)),
        )
    over = sorted(pid for pid, got in claimed.items() if got > sent[pid])
    if over:
        raise Invalid(
            "transfer_over_received",
            code="transfer_over_received",
            details={"product_ids": over},
            product_ids=", ".join(map(str, over)),
        )
    arrived = {pid: claimed.get(pid, qty) for pid, qty in sent.items()}
    if transfer.status == TransferStatus.RECEIVED.value:
        if arrived == {line.product_id: line.received for line in lines}:
            return _transfer_out(session, transfer)
        raise _wrong_state(transfer, "receive")
    if transfer.status != TransferStatus.SENT.value:
        raise _wrong_state(transfer, "receive")
    reason = body.loss_reason.strip()
    lost = [(pid, arrived[pid] - qty) for pid, qty in sent.items() if arrived[pid] < qty]
    if lost and not reason:
        raise Invalid("transfer_loss_reason", code="transfer_loss_reason")
    source = _known_store(session, transfer.from_store_id)
    for line in lines:
        line.received = arrived[line.product_id]
    transfer.status = TransferStatus.RECEIVED.value
    transfer.received_at, transfer.received_by = _now(), user.id
    transfer.loss_reason = reason if lost else ""
    session.flush()
    moves = _moves(
        transfer,
        user=user,
        kind=StockMoveKind.RECEIVE,
        lines=sent.items(),
        note=f"Transfer dari {source.code}",
    ) + _moves(
        transfer,
        user=user,
        kind=StockMoveKind.ADJUST,
        lines=lost,
        note=f"Hilang dalam transfer dari {source.code}: {reason}",
    )
    stock_service.apply_stock_moves(session, store_id=transfer.to_store_id, moves=moves)
    return _transfer_out(session, transfer)


@unit_of_work
def cancel_transfer(session: Session, *, user: User, transfer_id: uuid.UUID) -> TransferOut:
    """Call a transfer off before it is received; a sent one gives the source its stock back."""
    transfer = _locked(session, transfer_id)
    require_store_access(actor=user, store_id=transfer.from_store_id)
    if transfer.status == TransferStatus.RECEIVED.value:
        raise _wrong_state(transfer, "cancel")
    if transfer.status == TransferStatus.CANCELLED.value:
        return _transfer_out(session, transfer)
    was_sent = transfer.status == TransferStatus.SENT.value
    transfer.status = TransferStatus.CANCELLED.value
    transfer.cancelled_at, transfer.cancelled_by = _now(), user.id
    session.flush()
    if was_sent:
        target = _known_store(session, transfer.to_store_id)
        _adjust_source(
            session, transfer, user=user, sign=1, note=f"Transfer ke {target.code} dibatalkan"
        )
    return _transfer_out(session, transfer)


@unit_of_work
def get_transfer(session: Session, *, user: User, transfer_id: uuid.UUID) -> TransferOut:
    """One transfer, for a manager of either outlet or an admin."""
    transfer = session.get(StockTransfer, transfer_id)
    if transfer is None:
        raise NotFound(
            "transfer_not_found", code="transfer_not_found", transfer_id=str(transfer_id)
        )
    if not is_admin(user) and user.store_id not in (transfer.from_store_id, transfer.to_store_id):
        require_store_access(actor=user, store_id=transfer.from_store_id)
    return _transfer_out(session, transfer)


@unit_of_work
def list_transfers(
    session: Session,
    *,
    user: User,
    store_id: int,
    status: TransferStatus | None = None,
    limit: int = 200,
) -> list[TransferOut]:
    """Transfers out of and into the outlet, newest first."""
    _outlet(session, user=user, store_id=store_id)
    query = (
        select(StockTransfer)
        .where(or_(StockTransfer.from_store_id == store_id, StockTransfer.to_store_id == store_id))
        .order_by(StockTransfer.created_at.desc(), StockTransfer.id)
        .limit(limit)
    )
    if status is not None:
        query = query.where(StockTransfer.status == status.value)
    return [_transfer_out(session, t) for t in session.scalars(query).all()]


@unit_of_work
def in_transit(session: Session, *, user: User, store_id: int) -> list[InTransitRow]:
    """Per product, units of sent transfers on their way into and out of the outlet."""
    _outlet(session, user=user, store_id=store_id)
    found = session.execute(
        select(
            TRANSFERS.c.from_store_id,
            LINES.c.product_id,
            Product.sku,
            Product.name,
            LINES.c.quantity,
        )
        .join(TRANSFERS, TRANSFERS.c.id == LINES.c.transfer_id)
        .join(Product, Product.id == LINES.c.product_id)
        .where(
            TRANSFERS.c.status == TransferStatus.SENT.value,
            or_(TRANSFERS.c.from_store_id == store_id, TRANSFERS.c.to_store_id == store_id),
        )
    )
    moving: dict[int, InTransitRow] = {}
    for source, pid, sku, name, qty in found:
        row = moving.setdefault(pid, InTransitRow(product_id=pid, sku=sku, name=name))
        if source == store_id:
            row.outgoing += int(qty)
        else:
            row.incoming += int(qty)
    return sorted(moving.values(), key=lambda row: row.sku)


@unit_of_work
def all_outlets(session: Session) -> list[StoreOut]:
    """Every outlet of the chain, by code (a transfer may go to any of them)."""
    return [store_out(s) for s in session.scalars(select(Store).order_by(Store.code)).all()]
