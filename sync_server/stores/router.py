"""HTTP routes for stores (thin: parse, authorise, call the service).

Reads need a supervisor or higher, edits a manager or higher; only an admin sees or
edits a store other than their own.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from shared.models import RowId, StoreOut
from sync_server.auth.deps import ManagerDep, SupervisorDep
from sync_server.core.database import DbDep
from sync_server.core.errors import documented_errors
from sync_server.stores import service
from sync_server.stores.schemas import StorePatch

router = APIRouter(prefix="/api/v1", tags=["stores"])


_errors = documented_errors(
    {
        403: "The caller's role may not do this.",
        404: "No such row.",
        422: "The input breaks a rule (an empty name, a field too long).",
    }
)


@router.get("/stores", summary="List stores")
def list_stores(db: DbDep, user: SupervisorDep) -> list[StoreOut]:
    """All stores for an admin; the caller's own store for everyone else."""
    return service.list_stores(db, user=user)


@router.get("/stores/{store_id}", summary="Get a store", responses=_errors(403, 404))
def get_store(store_id: RowId, db: DbDep, user: SupervisorDep) -> StoreOut:
    """A store with its receipt template."""
    return service.get_store(db, store_id=store_id, user=user)


@router.patch(
    "/stores/{store_id}",
    summary="Edit a store and its receipt",
    responses=_errors(403, 404, 422),
)
def update_store(
    store_id: RowId,
    patch: Annotated[
        StorePatch,
        Body(
            examples=[
                {
                    "receipt_header": "Toko Sumber Rejeki\nJl. Pemuda No. 12, Semarang",
                    "receipt_footer": "Terima kasih, selamat belanja kembali!",
                }
            ]
        ),
    ],
    db: DbDep,
    user: ManagerDep,
) -> StoreOut:
    """Edit the store's details and receipt header/footer (managers: their own store)."""
    return service.update_store(db, store_id=store_id, patch=patch, user=user)
