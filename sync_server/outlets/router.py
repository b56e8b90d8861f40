"""HTTP routes for outlets (thin: parse, authorise, call the service).

A manager acts on their own outlet, an admin on any: prices at the outlet, stock of a
product across outlets, and transfers (made and sent by the source, received by the
destination).
"""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from shared.models import RowId
from sync_server.auth.deps import ManagerDep, SupervisorDep
from sync_server.core.database import DbDep
from sync_server.outlets import service
from sync_server.outlets.schemas import (
    InTransitRow,
    OutletPriceIn,
    OutletPriceOut,
    ProductOutletsOut,
    TransferIn,
    TransferOut,
    TransferReceiveIn,
    TransferStatus,
)

router = APIRouter(prefix="/api/v1/outlets", tags=["outlets"])


@router.get("/{store_id}/prices", summary="The outlet's own prices")
def prices(
    store_id: RowId,
    user: ManagerDep,
    db: DbDep,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[OutletPriceOut]:
    """Products whose price at the outlet is not the chain price, by SKU."""
    return service.list_outlet_prices(db, user=user, store_id=store_id, limit=limit, offset=offset)


@router.put("/{store_id}/prices", summary="Set a product's price at the outlet")
def set_price(store_id: RowId, body: OutletPriceIn, user: ManagerDep, db: DbDep) -> OutletPriceOut:
    """The outlet's tills sell at this price from their next pull; other outlets keep theirs."""
    return service.set_outlet_price(db, user=user, store_id=store_id, body=body)


@router.delete("/{store_id}/prices/{product_id}", summary="Back to the chain price")
def clear_price(store_id: RowId, product_id: RowId, user: ManagerDep, db: DbDep) -> OutletPriceOut:
    """Clear the outlet's price: its tills get the chain price at their next pull."""
    return service.clear_outlet_price(db, user=user, store_id=store_id, product_id=product_id)


@router.get("/stock/{product_id}", summary="A product's stock at every outlet")
def product_stock(product_id: RowId, user: SupervisorDep, db: DbDep) -> ProductOutletsOut:
    """On hand per outlet you may see, with units in transit in and out."""
    return service.product_outlets(db, user=user, product_id=product_id)


@router.get("/{store_id}/in-transit", summary="Units on their way into and out of the outlet")
def in_transit(store_id: RowId, user: ManagerDep, db: DbDep) -> list[InTransitRow]:
    """Per product, units of sent transfers not yet received."""
    return service.in_transit(db, user=user, store_id=store_id)


@router.get("/{store_id}/transfers", summary="Transfers out of and into the outlet")
def transfers(
    store_id: RowId,
    user: ManagerDep,
    db: DbDep,
    status: TransferStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[TransferOut]:
    """Newest first, optionally of one status."""
    return service.list_transfers(db, user=user, store_id=store_id, status=status, limit=limit)


@router.post("/transfers", summary="A new transfer between outlets")
def create_transfer(body: TransferIn, user: ManagerDep, db: DbDep) -> TransferOut:
    """Made by the source's manager; ``send`` sends it at once. Same id again: applied once."""
    return service.create_transfer(db, user=user, body=body)


@router.get("/transfers/{transfer_id}", summary="One transfer")
def get_transfer(transfer_id: UUID, user: ManagerDep, db: DbDep) -> TransferOut:
    """With its lines, for a manager of either outlet."""
    return service.get_transfer(db, user=user, transfer_id=transfer_id)


@router.post("/transfers/{transfer_id}/send", summary="Goods leave the source")
def send(transfer_id: UUID, user: ManagerDep, db: DbDep) -> TransferOut:
    """The source's on hand goes down by every line (once)."""
    return service.send_transfer(db, user=user, transfer_id=transfer_id)


@router.post("/transfers/{transfer_id}/receive", summary="Goods arrive at the destination")
def receive(transfer_id: UUID, body: TransferReceiveIn, user: ManagerDep, db: DbDep) -> TransferOut:
    """Lines not listed arrived in full; a shortfall is a loss move with the reason."""
    return service.receive_transfer(db, user=user, transfer_id=transfer_id, body=body)


@router.post("/transfers/{transfer_id}/cancel", summary="Call a transfer off")
def cancel(transfer_id: UUID, user: ManagerDep, db: DbDep) -> TransferOut:
    """Before it is received; a sent transfer gives the source its stock back."""
    return service.cancel_transfer(db, user=user, transfer_id=transfer_id)
