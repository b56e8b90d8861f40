"""Who is asking for a back-office page: the session cookie, CSRF tokens and safe redirects.

A page needs a manager or admin session (the auth service says who may use the back
office); anonymous visitors are sent to the login form, everyone else gets 403. Every
form carries the session's CSRF token, an HMAC of the session token, so nothing is
stored and any replica can check it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from fastapi import Request

from shared.errors import CodedError
from sync_server.auth import service as auth_service
from sync_server.auth.deps import SESSION_COOKIE, principal_of_token
from sync_server.core.config import Settings
from sync_server.core.database import Database
from sync_server.core.errors import Unauthorized
from sync_server.core.security import constant_time_equal, sign
from sync_server.stores import service as stores_service

LOGIN_NONCE_COOKIE = "kasir_login_nonce"
"""A random value set with the login form; the form's CSRF token is its HMAC."""

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class LoginRequired(Exception):
    """No valid session: the page answers with a redirect to the login form."""

    def __init__(self, next_path: str = "/web/") -> None:
        super().__init__("login required")
        self.next_path = next_path


class WebForbidden(CodedError):
    """Valid credentials that may not use the back office (or a refused CSRF token); the
    page shows its message in Bahasa Indonesia."""

    code = "web_forbidden"


@dataclass(frozen=True)
class WebSession:
    """The signed-in manager or admin of a page request, and the CSRF token of the session."""

    user: auth_service.Actor
    token: str
    csrf: str

    @property
    def is_admin(self) -> bool:
        """True for an admin, who sees every store."""
        return stores_service.is_admin(self.user)


def csrf_token(secret_key: str, session_token: str) -> str:
    """The CSRF token of a session: an HMAC of the session token with the server secret.

    Nothing is stored: any replica recomputes it, and it dies with the session.
    """
    return sign(secret_key, f"csrf:{session_token}")


def csrf_valid(secret_key: str, session_token: str, supplied: str | None) -> bool:
    """True when ``supplied`` is this session's CSRF token (compared in constant time)."""
    if not supplied:
        return False
    return constant_time_equal(csrf_token(secret_key, session_token), supplied)


def new_login_nonce() -> str:
    """A random nonce for the login form's cookie."""
    return secrets.token_urlsafe(24)


def login_csrf_token(secret_key: str, nonce: str) -> str:
    """The login form's CSRF token: an HMAC of the nonce cookie (double submit, signed)."""
    return sign(secret_key, f"login:{nonce}")


def login_csrf_valid(secret_key: str, nonce: str | None, supplied: str | None) -> bool:
    """True when the login form came back with the token of the nonce cookie it was given."""
    if not nonce or not supplied:
        return False
    return constant_time_equal(login_csrf_token(secret_key, nonce), supplied)


def _request_token(request: Request) -> str | None:
    """A bearer token if one is sent (so terminals and cashiers get 403), else the cookie."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(SESSION_COOKIE)


def web_session(request: Request, *, db: Database, settings: Settings) -> WebSession:
    """Who is asking for a back-office page: a manager or admin, or refuse.

    No or a dead session redirects to the login form (:class:`LoginRequired`); a
    cashier, supervisor or terminal gets 403 (:class:`WebForbidden`).
    """
    token = _request_token(request)
    if not token:
        raise LoginRequired(_next_of(request))
    try:
        principal = principal_of_token(db, token)
    except Unauthorized:
        raise LoginRequired(_next_of(request)) from None
    if principal.user is None:
        raise WebForbidden("web_terminal_refused")
    if not auth_service.may_use_back_office(principal.user):
        raise WebForbidden("back_office_only")
    return WebSession(user=principal.user, token=token, csrf=csrf_token(settings.secret_key, token))


def _next_of(request: Request) -> str:
    if request.method != "GET":
        return "/web/"
    path = request.url.path
    return f"{path}?{request.url.query}" if request.url.query else path


def safe_next(raw: str | None) -> str:
    """Where to go after logging in: only a back-office path (no open redirect)."""
    if raw and raw.startswith("/web/") and not raw.startswith("//") and "\\" not in raw:
        return raw
    return "/web/"


def cookie_secure(settings: Settings) -> bool:
    """Session cookies are Secure everywhere but on a developer's or test machine."""
    return settings.environment not in ("development", "test")
