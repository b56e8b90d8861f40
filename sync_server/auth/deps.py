"""Who is calling: a user (manager API token or web session) or a terminal (device token).

Routers declare what they need with the aliases at the bottom; the checks live here.
The dependencies that do no I/O are ``async``: FastAPI then runs them on the event loop
instead of sending each to a worker thread (a thread hop per dependency per request).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, cast

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Table, bindparam, select
from starlette.concurrency import run_in_threadpool

from shared.models import PROTOCOL_HEADER, PROTOCOL_VERSION, Role
from sync_server.auth.known import (
    detached_terminal,
    forget_terminal,
    known_terminal,
    remember_terminal,
)
from sync_server.auth.models import ApiToken, Terminal, User
from sync_server.core.database import Database, DbDep, utcnow
from sync_server.core.errors import AppError, Forbidden, Unauthorized
from sync_server.core.logs import note_caller
from sync_server.core.security import token_hash

bearer = HTTPBearer(auto_error=False, description="A manager API token or a device token.")


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: exactly one of ``user`` or ``terminal`` is set."""

    user: User | None = None
    terminal: Terminal | None = None

    @property
    def role(self) -> Role | None:
        """The user's role, None for a terminal."""
        return Role(self.user.role) if self.user else None


SESSION_COOKIE = "kasir_session"


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _token_from(request: Request, creds: HTTPAuthorizationCredentials | None) -> str | None:
    if creds is not None and creds.scheme.lower() == "bearer":
        return creds.credentials
    # The web session cookie opens the JSON API for reading only (CSV downloads): a
    # cookie is sent by the browser on any cross-site form, so writes need a bearer
    # token (the web pages' own forms carry their CSRF token instead).
    if request.method in _SAFE_METHODS:
        return request.cookies.get(SESSION_COOKIE)
    return None


async def get_principal(
    request: Request,
    db: DbDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """Resolve the bearer token (or session cookie) to a user or a terminal, or refuse;
    the caller's id goes on the request's access log line.

    The database lookup runs in a worker thread. A route registered with
    :func:`terminal_rechecked_in_transaction` takes a terminal this process already
    authenticated from memory instead: its service reads the terminal again in its
    own transaction and refuses a revoked token there (so no thread hop, no second
    connection, and revocation still bites at once)."""
    token = _token_from(request, creds)
    if not token:
        raise Unauthorized("missing_token", code="missing_token")
    principal: Principal | None = None
    if request.scope.get("endpoint") in _RECHECKED_ENDPOINTS:
        terminal = known_terminal(db, token_hash(token))
        principal = None if terminal is None else Principal(terminal=terminal)
    if principal is None:
        principal = await run_in_threadpool(principal_of_token, db, token)
    note_caller(
        request.scope,
        terminal_id=principal.terminal.id if principal.terminal else None,
        user_id=principal.user.id if principal.user else None,
    )
    return principal


_RECHECKED_ENDPOINTS: set[Callable[..., Any]] = set()


def terminal_rechecked_in_transaction(endpoint: Callable[..., Any]) -> None:
    """Let ``endpoint`` authenticate a terminal from memory (see :func:`get_principal`).

    Only for a route whose service checks, in the transaction that does its work, that
    the terminal's row still holds the caller's token hash and is not revoked (the push:
    :mod:`sync_server.sync.ingest.context`), refusing with 401 and writing nothing."""
    _RECHECKED_ENDPOINTS.add(endpoint)


_TERMINALS = cast(Table, Terminal.__table__)
_TERMINAL_OF_TOKEN = select(*_TERMINALS.c).where(_TERMINALS.c.token_hash == bindparam("digest"))
"""A terminal by its token's hash, as a plain row (built once: a till's every call)."""


def principal_of_token(db: Database, token: str) -> Principal:
    """The user or terminal a bearer token or session token belongs to, or refuse.

    A terminal (every till call) is read as one plain row, no ORM loading; the Terminal
    handed on is detached, as one loaded and expunged would be."""
    digest = token_hash(token)
    with db.sessions() as session:
        found = session.connection().execute(_TERMINAL_OF_TOKEN, {"digest": digest}).first()
        if found is not None:
            if found.revoked_at is not None:
                forget_terminal(db, digest)
                raise Unauthorized("terminal_revoked", code="token_revoked")
            columns = dict(found._mapping)
            remember_terminal(db, digest, detached_terminal(columns))  # the push's own
            return Principal(terminal=detached_terminal(columns))
        forget_terminal(db, digest)
        row = session.execute(
            select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == digest)
        ).first()
        if row is None:
            raise Unauthorized("invalid_token", code="invalid_token")
        api_token, user = row
        if api_token.revoked_at is not None:
            raise Unauthorized("token_signed_out", code="token_revoked")
        if api_token.expires_at <= utcnow():
            raise Unauthorized("token_expired", code="token_expired")
        if not user.active:
            raise Unauthorized("user_inactive", code="user_inactive")
        session.expunge(user)
        return Principal(user=user)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_token(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> str | None:
    """The raw bearer token or session cookie of this request (to sign it out), if any."""
    return _token_from(request, creds)


TokenDep = Annotated[str | None, Depends(get_token)]


def require_role(minimum: Role) -> object:
    """A dependency that lets through users with at least ``minimum`` role."""

    async def _check(principal: PrincipalDep) -> User:
        if principal.user is None:
            raise Forbidden("user_required", code="user_required")
        if not Role(principal.user.role).at_least(minimum):
            raise Forbidden(
                "role_required",
                code="role_required",
                details={"required": minimum.value, "role": principal.user.role},
                required=minimum.value,
            )
        return principal.user

    return Depends(_check)


async def check_protocol(request: Request) -> None:
    """Refuse a till that speaks another protocol version, with an upgrade message."""
    raw = request.headers.get(PROTOCOL_HEADER)
    if raw is None or raw.strip() != str(PROTOCOL_VERSION):
        raise AppError(
            "protocol_mismatch",
            code="protocol_mismatch",
            status_code=426,
            details={"server_protocol": PROTOCOL_VERSION, "client_protocol": raw},
            client_protocol=raw or "unknown",
            server_protocol=PROTOCOL_VERSION,
        )


async def get_terminal(principal: PrincipalDep, request: Request) -> Terminal:
    """The calling terminal; users are refused on terminal routes.

    Who is calling is settled before the protocol version: a user token gets 403, never
    426, so a manager is not told to upgrade a till they may not act as.
    """
    if principal.terminal is None:
        raise Forbidden("terminal_required", code="terminal_required")
    await check_protocol(request)
    return principal.terminal


TerminalDep = Annotated[Terminal, Depends(get_terminal)]
UserDep = Annotated[User, require_role(Role.CASHIER)]
ManagerDep = Annotated[User, require_role(Role.MANAGER)]
SupervisorDep = Annotated[User, require_role(Role.SUPERVISOR)]
AdminDep = Annotated[User, require_role(Role.ADMIN)]
