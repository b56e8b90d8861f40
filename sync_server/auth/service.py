"""Auth logic: password logins with lockout, users, stores, terminals and their enrollment.

Every function takes keyword-only arguments and runs its own transaction on the
``Database`` it is given, so the API and the ``kasir-server`` CLI share one path.
An ``actor`` of ``None`` is the server operator at the command line, who may do anything.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import TypeAlias

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.models import (
    EnrollmentCodeOut,
    EnrollmentCodeRequest,
    EnrollOut,
    Role,
    StoreOut,
    TerminalOut,
    TokenOut,
    UserCreate,
    UserPatch,
)
from sync_server.auth.models import ApiToken, EnrollmentCode, Terminal, User
from sync_server.auth.schemas import TerminalMeOut, UserPublic
from sync_server.core.database import Database, next_change_numbers, run_in_transaction, utcnow
from sync_server.core.errors import AppError, Conflict, Forbidden, Invalid, NotFound, Unauthorized
from sync_server.core.models import Store
from sync_server.core.security import (
    hash_secret,
    new_enrollment_code,
    new_token,
    normalise_code,
    token_hash,
    verify_secret,
)
from sync_server.stores.service import (
    is_admin,
    require_store_access,
    store_out,
    visible_store_ids,
)
from sync_server.sync.models import RejectedEvent

MAX_FAILED_LOGINS = 5
"""Consecutive wrong passwords after which a user is locked out."""

LOCK_BASE_SECONDS = 30
LOCK_MAX_SECONDS = 3600


# ---------------------------------------------------------------- logins


def lock_seconds(failed_logins: int) -> int | None:
    """How long a user is locked after ``failed_logins`` consecutive failures (None: not).

    30 s at the fifth failure, doubling with each further one, never more than an hour.
    """
    if failed_logins < MAX_FAILED_LOGINS:
        return None
    doublings = min(failed_logins - MAX_FAILED_LOGINS, 16)  # 2**16 * 30 s is far past the cap
    return min(LOCK_BASE_SECONDS * 2**doublings, LOCK_MAX_SECONDS)


def _locked(until: datetime, now: datetime) -> AppError:
    seconds = max(1, math.ceil((until - now).total_seconds()))
    return AppError(
        "login_locked",
        code="locked",
        seconds=seconds,
        status_code=429,
        details={"retry_after_seconds": seconds},
    )


def _bad_credentials() -> Unauthorized:
    return Unauthorized("invalid_credentials", code="invalid_credentials")


@cache
def _decoy_hash() -> str:
    # Verifying against a real hash for unknown users keeps their answer as slow as a
    # known user's, so response times do not reveal which usernames exist.
    return hash_secret(new_token())


@dataclass
class _LoginOutcome:
    token: TokenOut | None = None
    error: AppError | None = None


def login(
    *,
    db: Database,
    username: str,
    password: str,
    session_hours: int,
    kind: str = "api",
) -> TokenOut:
    """Check a password and hand out a token valid for ``session_hours``.

    Wrong passwords count up ``failed_logins``; from the fifth in a row the user is
    locked (429 ``locked``) for a delay that doubles with each further failure. A locked
    user is refused without the password being checked; a success resets the count.
    The failure count is committed even though the call then raises.
    """

    def work(session: Session) -> _LoginOutcome:
        now = utcnow()
        user = session.scalar(
            select(User).where(func.lower(User.username) == username.lower()).with_for_update()
        )
        if user is None:
            verify_secret(_decoy_hash(), password)
            return _LoginOutcome(error=_bad_credentials())
        if user.locked_until is not None and user.locked_until > now:
            return _LoginOutcome(error=_locked(user.locked_until, now))
        if not verify_secret(user.password_hash, password):
            user.failed_logins += 1
            seconds = lock_seconds(user.failed_logins)
            if seconds is None:
                return _LoginOutcome(error=_bad_credentials())
            user.locked_until = now + timedelta(seconds=seconds)
            return _LoginOutcome(error=_locked(user.locked_until, now))
        if not user.active:
            return _LoginOutcome(error=_bad_credentials())
        user.failed_logins = 0
        user.locked_until = None
        raw = new_token()
        expires_at = now + timedelta(hours=session_hours)
        session.add(
            ApiToken(token_hash=token_hash(raw), user_id=user.id, kind=kind, expires_at=expires_at)
        )
        return _LoginOutcome(token=TokenOut(access_token=raw, expires_at=expires_at))

    outcome = run_in_transaction(db, work)
    if outcome.error is not None:
        raise outcome.error
    assert outcome.token is not None
    return outcome.token


def logout(*, db: Database, token: str) -> None:
    """Revoke a user's token or web session; later calls with it get 401 ``token_revoked``."""
    with db.session() as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.token_hash == token_hash(token), ApiToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )


# ---------------------------------------------------------------- back-office logins

FAILED_LOGIN_DELAY_SECONDS = 0.4
"""Each wrong password on the manager pages costs this much more wall time (locks at five)."""


Actor: TypeAlias = User
"""A signed-in person as other features hold them (the web pages do not import tables)."""


def may_use_back_office(user: User | None) -> bool:
    """True for a manager or an admin, the only people the back-office pages let in."""
    return user is not None and Role(user.role).at_least(Role.MANAGER)


def failed_logins_of(*, db: Database, username: str) -> int:
    """The current count of wrong passwords of ``username`` (0 for an unknown name)."""
    with db.session() as session:
        count = session.scalar(select(User.failed_logins).where(User.username == username))
    return int(count or 0)


def back_office_login(
    *, db: Database, username: str, password: str, session_hours: int
) -> TokenOut:
    """A session token for the manager pages: the password login, slowed and role-checked.

    A refused password waits ``FAILED_LOGIN_DELAY_SECONDS`` times the user's failure
    count before the error is raised, so guessing gets slower with every try; the fifth
    wrong one locks the user (429 ``locked``, see :func:`login`). The right password of
    someone who may not use the back office is logged out at once and refused (403
    ``back_office_only``). Blocking: async callers run it in a worker thread.
    """
    username = username.strip()
    try:
        token = login(
            db=db,
            username=username,
            password=password,
            session_hours=session_hours,
            kind="session",
        )
    except AppError:
        failures = failed_logins_of(db=db, username=username)
        time.sleep(FAILED_LOGIN_DELAY_SECONDS * max(1, failures))
        raise
    with db.session() as session:
        user = session.scalar(
            select(User)
            .join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == token_hash(token.access_token))
        )
        allowed = may_use_back_office(user)
    if not allowed:
        logout(db=db, token=token.access_token)
        raise Forbidden("back_office_only", code="back_office_only")
    return token


# ---------------------------------------------------------------- users


def user_public(user: User) -> UserPublic:
    """The API view of a user (hashes left out)."""
    return UserPublic.of(
        user,
        role=Role(user.role),
        has_password=user.password_hash is not None,
        has_pin=user.pin_hash is not None,
    )


def _check_may_manage(actor: User | None, *, role: Role, store_id: int | None) -> None:
    """Only an admin creates, edits or appoints managers and admins."""
    if not is_admin(actor) and role.at_least(Role.MANAGER):
        raise Forbidden(
            "admin_manages_role",
            role=role.value,
            code="role_required",
            details={"required": Role.ADMIN.value, "target_role": role.value},
        )
    require_store_access(actor=actor, store_id=store_id)


def _username_taken(username: str) -> Conflict:
    return Conflict(
        "username_taken",
        username=repr(username),
        code="username_taken",
        details={"field": "username"},
    )


def list_users(
    *, db: Database, actor: User | None, store_id: int | None = None
) -> list[UserPublic]:
    """Users an actor may see: a manager their store's, an admin everyone's (or one store's)."""
    store_id = visible_store_ids(actor=actor, store_id=store_id)
    stmt = select(User).order_by(User.id)
    if store_id is not None:
        stmt = stmt.where(User.store_id == store_id)
    with db.session() as session:
        return [user_public(u) for u in session.scalars(stmt)]


def _insert_numbered(session: Session, row: User | Store, *, taken: Conflict) -> None:
    """Add ``row`` (its unique constraints answer ``taken``), then give it a change number."""
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise taken from None
    row.change_no = next_change_numbers(session, 1)
    session.flush()


def create_user(*, db: Database, data: UserCreate, actor: User | None = None) -> UserPublic:
    """Create a user; a manager makes cashiers and supervisors of their own store only.

    The user gets a fresh change number so their PIN hash reaches the tills by pull.
    """
    store_id = data.store_id
    if store_id is None and not is_admin(actor):
        assert actor is not None
        store_id = actor.store_id
    _check_may_manage(actor, role=data.role, store_id=store_id)
    if store_id is None and data.role is not Role.ADMIN:
        raise Invalid(
            "role_needs_store",
            role=data.role.value,
            code="store_required",
            details={"field": "store_id"},
        )
    # argon2 is deliberately slow: hash before the transaction takes any lock.
    password_hash = hash_secret(data.password) if data.password else None
    pin_hash = hash_secret(data.pin) if data.pin else None

    def work(session: Session) -> UserPublic:
        if store_id is not None and session.get(Store, store_id) is None:
            raise NotFound("store_not_found", code="store_not_found", store_id=store_id)
        taken = session.scalar(
            select(User.id).where(func.lower(User.username) == data.username.lower())
        )
        if taken is not None:
            raise _username_taken(data.username)
        user = User(
            username=data.username,
            full_name=data.full_name,
            role=data.role.value,
            store_id=store_id,
            password_hash=password_hash,
            pin_hash=pin_hash,
            active=True,
            failed_logins=0,
        )
        _insert_numbered(session, user, taken=_username_taken(data.username))
        return user_public(user)

    return run_in_transaction(db, work)


def update_user(
    *, db: Database, user_id: int, data: UserPatch, actor: User | None = None
) -> UserPublic:
    """Edit a user; a new password or PIN is hashed. Users may edit their own name and secrets.

    Nobody changes their own role or deactivates themselves (so the last admin stays).
    """
    password_hash = hash_secret(data.password) if data.password else None
    pin_hash = hash_secret(data.pin) if data.pin else None

    def work(session: Session) -> UserPublic:
        user = session.get(User, user_id, with_for_update=True)
        if user is None:
            raise NotFound("user_not_found", code="user_not_found", user_id=user_id)
        current = Role(user.role)
        if actor is not None and actor.id == user.id:
            if (data.role is not None and data.role is not current) or data.active is False:
                raise Forbidden("self_change", code="self_change")
        else:
            _check_may_manage(actor, role=current, store_id=user.store_id)
        if data.role is not None and data.role is not current:
            _check_may_manage(actor, role=data.role, store_id=user.store_id)
            if data.role is not Role.ADMIN and user.store_id is None:
                raise Invalid("role_needs_store_none", role=data.role.value, code="store_required")
            user.role = data.role.value
        if data.full_name is not None:
            user.full_name = data.full_name
        if data.active is not None:
            user.active = data.active
        if password_hash is not None:
            user.password_hash = password_hash
            user.failed_logins = 0
            user.locked_until = None
        if pin_hash is not None:
            user.pin_hash = pin_hash
        user.change_no = next_change_numbers(session, 1)
        session.flush()
        return user_public(user)

    return run_in_transaction(db, work)


# ---------------------------------------------------------------- stores


def _store_code_taken(code: str) -> Conflict:
    return Conflict("store_code_taken", code="store_code_taken", store_code=code)


def create_store(
    *, db: Database, code: str, name: str, address: str = "", npwp: str = ""
) -> StoreOut:
    """Create a store (a shop); its code is unique."""

    def work(session: Session) -> StoreOut:
        if session.scalar(select(Store.id).where(Store.code == code)) is not None:
            raise _store_code_taken(code)
        store = Store(code=code, name=name, address=address, npwp=npwp)
        _insert_numbered(session, store, taken=_store_code_taken(code))
        return store_out(store)

    return run_in_transaction(db, work)


def store_id_for_code(*, db: Database, code: str) -> int:
    """The id of the store with ``code``, or 404 ``store_not_found``."""
    with db.session() as session:
        store_id = session.scalar(select(Store.id).where(Store.code == code))
    if store_id is None:
        raise NotFound("store_code_not_found", code="store_not_found", store_code=code)
    return store_id


# ---------------------------------------------------------------- terminals


def terminal_out(terminal: Terminal, *, rejected_events: int = 0) -> TerminalOut:
    """The wire view of a terminal and its sync health."""
    out = TerminalOut.model_validate(terminal, from_attributes=True)
    out.rejected_events = rejected_events
    return out


def _rejected_count(session: Session, terminal_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(RejectedEvent)
            .where(RejectedEvent.terminal_id == terminal_id, RejectedEvent.resolved_at.is_(None))
        )
        or 0
    )


def _expire_open_codes(session: Session, terminal_id: int, now: datetime) -> None:
    session.execute(
        update(EnrollmentCode)
        .where(
            EnrollmentCode.terminal_id == terminal_id,
            EnrollmentCode.used_at.is_(None),
            EnrollmentCode.expires_at > now,
        )
        .values(expires_at=now)
    )


def create_enrollment_code(
    *, db: Database, request: EnrollmentCodeRequest, actor: User | None = None
) -> EnrollmentCodeOut:
    """Make a one-time code that enrolls terminal ``request.terminal_code`` of a store.

    The terminal row is created, or reused when it was revoked or never enrolled; an
    enrolled terminal must be revoked first. A new code replaces any unused earlier one.
    Only the code's hash is stored: the plain code is in this answer and nowhere else.
    """
    require_store_access(actor=actor, store_id=request.store_id)
    code = new_enrollment_code()

    def work(session: Session) -> EnrollmentCodeOut:
        now = utcnow()
        if session.get(Store, request.store_id) is None:
            raise NotFound("store_not_found", code="store_not_found", store_id=request.store_id)
        terminal = session.scalar(
            select(Terminal).where(Terminal.code == request.terminal_code).with_for_update()
        )
        if terminal is None:
            terminal = Terminal(
                store_id=request.store_id, code=request.terminal_code, name=request.name
            )
            session.add(terminal)
            try:
                session.flush()
            except IntegrityError:
                raise Conflict(
                    "terminal_just_created",
                    terminal_code=request.terminal_code,
                    code="terminal_code_taken",
                ) from None
        elif terminal.store_id != request.store_id:
            raise Conflict(
                "terminal_code_other_store",
                terminal_code=terminal.code,
                code="terminal_code_taken",
                details={"store_id": terminal.store_id},
            )
        elif terminal.token_hash is not None and terminal.revoked_at is None:
            raise Conflict(
                "terminal_enrolled",
                terminal_code=terminal.code,
                code="terminal_enrolled",
                details={"terminal_id": terminal.id},
            )
        else:
            if request.name:
                terminal.name = request.name
            _expire_open_codes(session, terminal.id, now)
        expires_at = now + timedelta(minutes=request.ttl_minutes)
        session.add(
            EnrollmentCode(
                code_hash=token_hash(normalise_code(code)),
                terminal_id=terminal.id,
                created_by=actor.id if actor is not None else None,
                expires_at=expires_at,
            )
        )
        return EnrollmentCodeOut(
            code=code, terminal_id=terminal.id, terminal_code=terminal.code, expires_at=expires_at
        )

    return run_in_transaction(db, work)


def _code_refused(code: str) -> Unauthorized:
    return Unauthorized(code, code=code)


def enroll(*, db: Database, code: str, device_name: str = "") -> EnrollOut:
    """Trade a one-time code for a device token (shown once, stored hashed).

    An unknown, expired or used code changes nothing. The code is claimed with a
    conditional UPDATE, so two tills racing with one code get exactly one token.
    """
    digest = token_hash(normalise_code(code))
    device_token = new_token()

    def work(session: Session) -> EnrollOut:
        now = utcnow()
        row = session.scalar(select(EnrollmentCode).where(EnrollmentCode.code_hash == digest))
        if row is None:
            raise _code_refused("enrollment_code_invalid")
        if row.used_at is not None:
            raise _code_refused("enrollment_code_used")
        if row.expires_at <= now:
            raise _code_refused("enrollment_code_expired")
        claimed = session.execute(
            update(EnrollmentCode)
            .where(EnrollmentCode.id == row.id, EnrollmentCode.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            raise _code_refused("enrollment_code_used")
        terminal = session.get(Terminal, row.terminal_id, with_for_update=True)
        assert terminal is not None  # a foreign key guarantees it
        store = session.get(Store, terminal.store_id)
        assert store is not None
        terminal.token_hash = token_hash(device_token)
        terminal.enrolled_at = now
        terminal.revoked_at = None
        if device_name and not terminal.name:
            terminal.name = device_name
        return EnrollOut(
            device_token=device_token,
            terminal_id=terminal.id,
            terminal_code=terminal.code,
            store_id=store.id,
            store_name=store.name,
        )

    return run_in_transaction(db, work)


def list_terminals(
    *, db: Database, actor: User | None, store_id: int | None = None
) -> list[TerminalOut]:
    """Terminals an actor may see, with their sync health and unresolved rejected events."""
    store_id = visible_store_ids(actor=actor, store_id=store_id)
    rejected = (
        select(RejectedEvent.terminal_id, func.count().label("n"))
        .where(RejectedEvent.resolved_at.is_(None))
        .group_by(RejectedEvent.terminal_id)
        .subquery()
    )
    stmt = (
        select(Terminal, func.coalesce(rejected.c.n, 0))
        .outerjoin(rejected, rejected.c.terminal_id == Terminal.id)
        .order_by(Terminal.store_id, Terminal.code)
    )
    if store_id is not None:
        stmt = stmt.where(Terminal.store_id == store_id)
    with db.session() as session:
        return [terminal_out(t, rejected_events=int(n)) for t, n in session.execute(stmt)]


def revoke_terminal(*, db: Database, terminal_id: int, actor: User | None = None) -> TerminalOut:
    """Stop a terminal's device token from working; a new code can enroll it again."""

    def work(session: Session) -> TerminalOut:
        now = utcnow()
        terminal = session.get(Terminal, terminal_id, with_for_update=True)
        if terminal is None:
            raise NotFound("terminal_not_found", code="terminal_not_found", terminal_id=terminal_id)
        require_store_access(actor=actor, store_id=terminal.store_id)
        if terminal.revoked_at is None:
            terminal.revoked_at = now
        terminal.token_hash = None
        _expire_open_codes(session, terminal.id, now)
        session.flush()
        return terminal_out(terminal, rejected_events=_rejected_count(session, terminal.id))

    return run_in_transaction(db, work)


def terminal_me(*, db: Database, terminal_id: int) -> TerminalMeOut:
    """The calling terminal and its store, as the till shows them."""
    with db.session() as session:
        terminal = session.get(Terminal, terminal_id)
        if terminal is None:
            raise NotFound("terminal_not_found", code="terminal_not_found", terminal_id=terminal_id)
        store = session.get(Store, terminal.store_id)
        assert store is not None
        return TerminalMeOut(
            terminal=terminal_out(terminal, rejected_events=_rejected_count(session, terminal.id)),
            store=store_out(store),
        )
