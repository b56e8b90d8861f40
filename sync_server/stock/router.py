"""HTTP routes for stock (thin: parse, authorise, call the service).

Supervisors receive goods, count shelves and read levels and history; adjustments,
which change stock without goods moving, need a manager. Everyone acts on their own
store; an admin names one.
"""

from typing import Annotated

from fastapi import APIRouter, Query

from shared.models import Count, RowId, StockMoveOut
from sync_server.auth.deps import ManagerDep, SupervisorDep
from sync_server.core.database import DbDep
from sync_server.purchasing import service as purchasing_service
from sync_server.stock import service
from sync_server.stock.schemas import (
    AdjustIn,
    CountIn,
    ReceiveIn,
    StockChangeOut,
    StockLevelRow,
)

router = APIRouter(prefix="/api/v1", tags=["stock"])


@router.post("/stock/receive", summary="Goods received into the store")
def receive(body: ReceiveIn, user: SupervisorDep, db: DbDep) -> StockChangeOut:
    """Add received quantities to on hand, one ``receive`` move per line; a line's
    ``unit_cost`` moves the product's average cost. With a ``receipt_id`` the receipt
    is applied once (the same id again changes nothing; other content: 409)."""
    if body.receipt_id is None:
        return service.receive_stock(db, user=user, body=body)
    done = purchasing_service.receive_free(db, user=user, body=body)
    levels = service.store_levels(
        db,
        user=user,
        store_id=body.store_id,
        product_ids=sorted({line.product_id for line in body.lines}),
    )
    return StockChangeOut(moves=done.moves, levels=levels)


@router.post("/stock/adjust", summary="Correct on hand with a reason")
def adjust(body: AdjustIn, user: ManagerDep, db: DbDep) -> StockChangeOut:
    """Signed corrections (breakage, theft, found goods); a reason is required."""
    return service.adjust_stock(db, user=user, body=body)


@router.post("/stock/count", summary="Stock take: on hand becomes what was counted")
def count(body: CountIn, user: SupervisorDep, db: DbDep) -> StockChangeOut:
    """Write ``counted - on hand`` per product as a ``count`` move."""
    return service.count_stock(db, user=user, body=body)


@router.get("/stock/levels", summary="On hand per product, negative and low stock flagged")
def levels(
    user: SupervisorDep,
    db: DbDep,
    store_id: RowId | None = None,
    only: Annotated[service.LevelFilter | None, Query(description="negative or low")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    offset: Annotated[Count, Query()] = 0,
    after: Annotated[RowId | None, Query(description="Keyset paging: last product id seen")] = None,
) -> list[StockLevelRow]:
    """Levels of a store (default: yours), optionally only the negative or low ones."""
    return service.store_levels(
        db, user=user, store_id=store_id, only=only, limit=limit, offset=offset, after=after
    )


@router.get("/stock/moves", summary="The stock ledger, newest first")
def moves(
    user: SupervisorDep,
    db: DbDep,
    product_id: RowId | None = None,
    store_id: RowId | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[StockMoveOut]:
    """Movements of a store (default: yours), optionally of one product."""
    return service.store_moves(db, user=user, store_id=store_id, product_id=product_id, limit=limit)
