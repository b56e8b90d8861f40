"""People of the store: create cashiers (and, for an admin, managers), edit, reset PINs."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ValidationError

from shared.models import Role, UserCreate, UserPatch
from sync_server.auth import service as auth_service
from sync_server.auth.schemas import UserPublic
from sync_server.core.database import Database, DbDep
from sync_server.core.errors import AppError, NotFound
from sync_server.reports.exports import file_response
from sync_server.web import views
from sync_server.web.access import WebSession
from sync_server.web.deps import (
    PageDep,
    PostDep,
    back,
    current_store_id,
    page_router,
    render,
    render_for_store,
    store_timezone,
)

router = page_router()


def _find_user(db: Database, ws: WebSession, user_id: int) -> UserPublic:
    """One user this manager may see (404 for unknown users and other stores' people)."""
    # The auth service narrows the list to the stores this manager may see.
    for person in auth_service.list_users(db=db, actor=ws.user):
        if person.id == user_id:
            return person
    raise NotFound("user_not_found", code="user_not_found", user_id=user_id)


def _users_page(
    request: Request, ws: WebSession, db: Database, status_code: int = 200, **extra: Any
) -> HTMLResponse:
    sid = current_store_id(db, ws, None)
    users = auth_service.list_users(db=db, actor=ws.user)
    return render_for_store(
        request,
        ws,
        db,
        "users.html",
        store_id=sid,
        status_code=status_code,
        users=users,
        roles=views.assignable_roles(ws),
        **extra,
    )


@router.get("/users")
def users(request: Request, ws: PageDep, db: DbDep) -> HTMLResponse:
    """People of the store, their roles and whether they may log in."""
    return _users_page(request, ws, db)


@router.get("/users/export.{fmt}")
def export_users(request: Request, fmt: Literal["csv", "xlsx"], ws: PageDep, db: DbDep) -> Response:
    """The people list as CSV (machine headers, role codes) or Excel (Indonesian)."""
    rows = views.user_rows(auth_service.list_users(db=db, actor=ws.user))
    return file_response(
        fmt,
        "pengguna",
        rows,
        views.USER_COLUMNS,
        sheet="Pengguna",
        csv_columns=views.USER_CSV_COLUMNS,
        timezone=store_timezone(request),
    )


class _PersonForm(BaseModel):
    """What the new-user and edit-user forms both send (blank: not given)."""

    full_name: str = ""
    role: str = ""
    pin: str = ""
    password: str = ""


class NewUserForm(_PersonForm):
    """The new-user form: a cashier (with a PIN) or a manager (with a password)."""

    username: str = ""
    role: str = "cashier"
    store_id: int | None = None


class EditUserForm(_PersonForm):
    """The edit-user form; ``active`` is the checkbox (``on`` when ticked)."""

    active: str = ""


@router.post("/users")
def create_user(
    request: Request, ws: PostDep, db: DbDep, form: Annotated[NewUserForm, Form()]
) -> Response:
    """Create a cashier (with a PIN) or, for an admin, a manager (with a password)."""
    try:
        data = UserCreate(
            username=form.username.strip(),
            full_name=form.full_name.strip(),
            role=Role(form.role),
            store_id=current_store_id(db, ws, form.store_id),
            pin=form.pin.strip() or None,
            password=form.password or None,
        )
        created = auth_service.create_user(db=db, data=data, actor=ws.user)
    except (AppError, ValidationError, ValueError) as exc:
        return _users_page(
            request,
            ws,
            db,
            status_code=422,
            errors=views.error_messages(exc),
            draft={"username": form.username, "full_name": form.full_name, "role": form.role},
        )
    return back("/web/users", f"Pengguna {created.username} dibuat.")


@router.get("/users/{user_id}")
def edit_user_form(request: Request, user_id: int, ws: PageDep, db: DbDep) -> HTMLResponse:
    """One user's role, status and PIN reset."""
    return render(
        request,
        ws,
        "user_edit.html",
        person=_find_user(db, ws, user_id),
        roles=views.assignable_roles(ws),
    )


@router.post("/users/{user_id}")
def edit_user(
    request: Request, user_id: int, ws: PostDep, db: DbDep, form: Annotated[EditUserForm, Form()]
) -> Response:
    """Change name, role, active; a new PIN or password is set when typed."""
    person = _find_user(db, ws, user_id)
    try:
        patch = UserPatch(
            full_name=form.full_name.strip() or None,
            role=Role(form.role) if form.role else None,
            active=form.active == "on",
            pin=form.pin.strip() or None,
            password=form.password or None,
        )
        auth_service.update_user(db=db, user_id=user_id, data=patch, actor=ws.user)
    except (AppError, ValidationError, ValueError) as exc:
        return render(
            request,
            ws,
            "user_edit.html",
            status_code=422,
            person=person,
            roles=views.assignable_roles(ws),
            errors=views.error_messages(exc),
        )
    return back("/web/users", f"Pengguna {person.username} disimpan.")
