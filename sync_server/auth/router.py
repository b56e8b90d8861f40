"""HTTP routes for auth, users and terminals (thin: parse, authorise, call the service)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from shared.models import (
    EnrollmentCodeOut,
    EnrollmentCodeRequest,
    EnrollOut,
    EnrollRequest,
    ErrorResponse,
    LoginRequest,
    RowId,
    TerminalOut,
    TokenOut,
    UserCreate,
    UserPatch,
)
from sync_server.auth import service
from sync_server.auth.deps import (
    ManagerDep,
    TerminalDep,
    TokenDep,
    UserDep,
    check_protocol,
)
from sync_server.auth.schemas import TerminalMeOut, UserPublic
from sync_server.core.config import SettingsDep
from sync_server.core.database import DbDep

_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 422, 426, 429)
}

router = APIRouter(prefix="/api/v1", responses=_ERRORS)
auth = APIRouter(prefix="/auth", tags=["auth"])
users = APIRouter(prefix="/users", tags=["users"])
terminals = APIRouter(prefix="/terminals", tags=["terminals"])


# ---------------------------------------------------------------- auth


@auth.post("/login", summary="Sign in with a password and get a bearer token")
def login(body: LoginRequest, db: DbDep, settings: SettingsDep) -> TokenOut:
    """Five wrong passwords in a row lock the user for a growing delay (429 ``locked``)."""
    return service.login(
        db=db,
        username=body.username,
        password=body.password,
        session_hours=settings.session_hours,
    )


@auth.post("/logout", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke this token")
def logout(_: UserDep, token: TokenDep, db: DbDep) -> Response:
    """The token stops working at once (401 ``token_revoked``)."""
    assert token is not None  # UserDep already refused a request without one
    service.logout(db=db, token=token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@auth.get("/me", summary="Who this token belongs to")
def me(user: UserDep) -> UserPublic:
    """The signed-in user."""
    return service.user_public(user)


# ---------------------------------------------------------------- users


@users.get("", summary="List users (a manager sees their own store)")
def list_users(
    actor: ManagerDep, db: DbDep, store_id: Annotated[RowId | None, Query()] = None
) -> list[UserPublic]:
    """Users of the caller's store; an admin sees every store or the one asked for."""
    return service.list_users(db=db, actor=actor, store_id=store_id)


@users.post("", status_code=status.HTTP_201_CREATED, summary="Create a user")
def create_user(body: UserCreate, actor: ManagerDep, db: DbDep) -> UserPublic:
    """Managers create cashiers and supervisors of their store; admins anyone."""
    return service.create_user(db=db, data=body, actor=actor)


@users.patch("/{user_id}", summary="Edit a user (a new password or PIN is rehashed)")
def update_user(user_id: RowId, body: UserPatch, actor: ManagerDep, db: DbDep) -> UserPublic:
    """Change name, role, password, PIN or whether the user is active."""
    return service.update_user(db=db, user_id=user_id, data=body, actor=actor)


# ---------------------------------------------------------------- terminals


@terminals.post(
    "/enrollment-codes",
    status_code=status.HTTP_201_CREATED,
    summary="Make a one-time code to enroll a till",
)
def create_enrollment_code(
    body: EnrollmentCodeRequest, actor: ManagerDep, db: DbDep
) -> EnrollmentCodeOut:
    """The code is shown once; the till trades it at ``POST /terminals/enroll``."""
    return service.create_enrollment_code(db=db, request=body, actor=actor)


@terminals.post(
    "/enroll",
    dependencies=[Depends(check_protocol)],
    summary="A till trades its one-time code for a device token",
)
def enroll(body: EnrollRequest, db: DbDep) -> EnrollOut:
    """No sign-in, but the till must send ``X-Kasir-Protocol``. The token is shown once."""
    return service.enroll(db=db, code=body.code, device_name=body.device_name)


@terminals.get("", summary="List terminals and their sync health")
def list_terminals(
    actor: ManagerDep, db: DbDep, store_id: Annotated[RowId | None, Query()] = None
) -> list[TerminalOut]:
    """Last seen, events waiting on the till and unresolved rejected events, per terminal."""
    return service.list_terminals(db=db, actor=actor, store_id=store_id)


@terminals.get("/me", summary="The calling till and its store")
def terminal_me(terminal: TerminalDep, db: DbDep) -> TerminalMeOut:
    """What an enrolled till learns about itself."""
    return service.terminal_me(db=db, terminal_id=terminal.id)


@terminals.post("/{terminal_id}/revoke", summary="Revoke a till's device token")
def revoke_terminal(terminal_id: RowId, actor: ManagerDep, db: DbDep) -> TerminalOut:
    """The old token stops working at once; a new enrollment code can enroll it again."""
    return service.revoke_terminal(db=db, terminal_id=terminal_id, actor=actor)


for _sub in (auth, users, terminals):
    router.include_router(_sub)
