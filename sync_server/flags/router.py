"""HTTP routes for flags (thin: parse, authorise, call the service).

Managers see and resolve their own store's flags, admins any store's; cashiers and
terminals get 403.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from sync_server.auth.deps import ManagerDep
from sync_server.core.database import DbDep
from sync_server.core.errors import documented_errors
from sync_server.flags import service
from sync_server.flags.schemas import FlagOut, FlagPage, FlagQuery, ResolveFlagIn

router = APIRouter(prefix="/api/v1", tags=["flags"])


_errors = documented_errors(
    {
        403: "Not a manager or admin, or another store's flag.",
        404: "No such flag.",
        409: "The flag was already resolved.",
    }
)


@router.get("/flags", summary="List flags", responses=_errors(403))
def list_flags(db: DbDep, user: ManagerDep, query: Annotated[FlagQuery, Query()]) -> FlagPage:
    """What tills claimed that the server could not verify, newest first."""
    return service.list_flags(db, user=user, query=query)


@router.post(
    "/flags/{flag_id}/resolve",
    summary="Resolve a flag with a note",
    responses=_errors(403, 404, 409),
)
def resolve_flag(flag_id: int, body: ResolveFlagIn, db: DbDep, user: ManagerDep) -> FlagOut:
    """Record who dealt with the flag, when and why."""
    return service.resolve_flag(db, user=user, flag_id=flag_id, note=body.note)
