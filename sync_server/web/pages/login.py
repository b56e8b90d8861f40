"""The login form, logging in and out (the rules themselves are the auth service's)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from shared.messages import render as render_message
from sync_server.auth import service as auth_service
from sync_server.auth.deps import SESSION_COOKIE
from sync_server.core.config import SettingsDep
from sync_server.core.database import DbDep
from sync_server.core.errors import AppError
from sync_server.web import access
from sync_server.web.access import LOGIN_NONCE_COOKIE, WebForbidden
from sync_server.web.deps import PostDep, page_router, render

router = page_router()


@router.get("/login")
def login_form(request: Request, settings: SettingsDep, next: str = "/web/") -> HTMLResponse:
    """The login form, with a fresh signed nonce against login CSRF."""
    nonce = access.new_login_nonce()
    response = render(
        request,
        None,
        "login.html",
        login_csrf=access.login_csrf_token(settings.secret_key, nonce),
        next=access.safe_next(next),
    )
    response.set_cookie(
        LOGIN_NONCE_COOKIE,
        nonce,
        httponly=True,
        samesite="lax",
        secure=access.cookie_secure(settings),
        path="/web",
    )
    return response


_REFUSALS = {"locked": 429, "back_office_only": 403}
"""The status of a refused login by its code; any other refusal is a wrong password (401)."""


def _refusal(exc: AppError) -> tuple[str, int]:
    """The login form's sentence and status for a refused login."""
    if exc.code in _REFUSALS:
        return exc.text("id"), _REFUSALS[exc.code]
    return render_message("invalid_credentials", {}, "id"), 401


class LoginForm(BaseModel):
    """The login form, with the login CSRF token it was served with."""

    username: str = ""
    password: str = ""
    csrf_token: str = ""
    next: str = "/web/"


@router.post("/login")
async def login(
    request: Request, db: DbDep, settings: SettingsDep, form: Annotated[LoginForm, Form()]
) -> Response:
    """Log a manager in (the auth service slows, locks and role-checks) and set the cookie."""
    nonce = request.cookies.get(LOGIN_NONCE_COOKIE)
    if not access.login_csrf_valid(settings.secret_key, nonce, form.csrf_token):
        raise WebForbidden("web_login_form_expired")
    try:
        token = await asyncio.to_thread(
            auth_service.back_office_login,
            db=db,
            username=form.username,
            password=form.password,
            session_hours=settings.session_hours,
        )
    except AppError as exc:
        error, status_code = _refusal(exc)
        return render(
            request,
            None,
            "login.html",
            status_code=status_code,
            errors=[error],
            username=form.username,
            login_csrf=form.csrf_token,
            next=access.safe_next(form.next),
        )
    response = RedirectResponse(access.safe_next(form.next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token.access_token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=access.cookie_secure(settings),
        path="/",
    )
    response.delete_cookie(LOGIN_NONCE_COOKIE, path="/web")
    return response


@router.post("/logout")
def logout(ws: PostDep, db: DbDep) -> Response:
    """Revoke the session and forget the cookie."""
    auth_service.logout(db=db, token=ws.token)
    response = RedirectResponse("/web/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
