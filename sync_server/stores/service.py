"""Store logic: which stores a user may see, and the one wire shape of a store.

Every feature that scopes by store (catalog, users and terminals, reports, the web
pages) asks here: an admin (or the operator at the command line, ``actor=None``) sees
every store, everyone else only their own.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.models import Role, StoreOut
from sync_server.auth.models import User
from sync_server.core.database import next_change_numbers, unit_of_work, utcnow
from sync_server.core.errors import Forbidden, Invalid, NotFound
from sync_server.core.models import Store
from sync_server.stores.qris import crc16_ccitt_false
from sync_server.stores.schemas import StorePatch

# ---------------------------------------------------------------- who sees what


def is_admin(actor: User | None) -> bool:
    """True for an admin, and for the operator at the command line (``None``)."""
    return actor is None or Role(actor.role) is Role.ADMIN


def may_see_store(actor: User | None, store_id: int | None) -> bool:
    """True when ``actor`` may see and act on the store ``store_id``."""
    if is_admin(actor):
        return True
    assert actor is not None
    return store_id is not None and store_id == actor.store_id


def require_store_access(*, actor: User | None, store_id: int | None) -> None:
    """Raise 403 ``other_store`` unless ``actor`` may see the store ``store_id``."""
    if not may_see_store(actor, store_id):
        assert actor is not None
        raise Forbidden(
            "other_store",
            code="other_store",
            details={"store_id": store_id, "your_store_id": actor.store_id},
        )


def visible_store_ids(*, actor: User | None, store_id: int | None = None) -> int | None:
    """The store a list is narrowed to: ``None`` means every store (admins only).

    A non-admin gets their own store (naming another one is a 403); an admin gets the
    store they named, or every store.
    """
    if is_admin(actor):
        return store_id
    assert actor is not None
    store_id = actor.store_id if store_id is None else store_id
    require_store_access(actor=actor, store_id=store_id)
    return store_id


# ---------------------------------------------------------------- the wire shape


def store_out(store: Store) -> StoreOut:
    """The wire view of a store (the API, the pull and the web pages all use this)."""
    return StoreOut.model_validate(store, from_attributes=True)


# ---------------------------------------------------------------- reads and edits


def check_static_qris(payload: str) -> str:
    """A pasted static QRIS payload, trimmed; "" (none) stays "".

    Raises :class:`Invalid` (``static_qris_invalid``) unless it is an EMVCo
    merchant-presented payload (``000201`` first) ending in tag 63 with the right
    CRC-16/CCITT-FALSE, so a typo never reaches the tills' screens.
    """
    text = payload.strip()
    if not text:
        return ""
    signed, crc = text[:-4], text[-4:]
    ok = (
        text.startswith("000201")
        and signed.endswith("6304")
        and crc.upper() == f"{crc16_ccitt_false(signed.encode()):04X}"
    )
    if not ok:
        raise Invalid("static_qris_invalid", details={"field": "static_qris"})
    return text


@unit_of_work
def list_stores(session: Session, *, user: User | None) -> list[StoreOut]:
    """The stores ``user`` may see: all for an admin, their own for everyone else."""
    query = select(Store).order_by(Store.code)
    if not is_admin(user):
        assert user is not None
        query = query.where(Store.id == user.store_id)
    return [store_out(row) for row in session.scalars(query).all()]


def _get_store_row(session: Session, *, store_id: int, user: User, for_update: bool) -> Store:
    row = session.get(Store, store_id, with_for_update=for_update)
    if row is None:
        raise NotFound("store_not_found", store_id=store_id, details={"id": store_id})
    require_store_access(actor=user, store_id=store_id)
    return row


@unit_of_work
def get_store(session: Session, *, store_id: int, user: User) -> StoreOut:
    """One store with its receipt template (only an admin sees other stores)."""
    return store_out(_get_store_row(session, store_id=store_id, user=user, for_update=False))


@unit_of_work
def store_exists(session: Session, *, store_id: int) -> bool:
    """True when there is a store ``store_id``."""
    return session.get(Store, store_id) is not None


@unit_of_work
def update_store(session: Session, *, store_id: int, patch: StorePatch, user: User) -> StoreOut:
    """Edit a store's details and receipt template; its tills get it on their next pull.

    Called with the app's ``Database`` it commits before it returns (``unit_of_work``).
    """
    row = _get_store_row(session, store_id=store_id, user=user, for_update=True)
    changes = patch.model_dump(exclude_unset=True, exclude_none=True)
    if "name" in changes:
        changes["name"] = changes["name"].strip()
        if not changes["name"]:
            raise Invalid("store_name_empty", details={"field": "name"})
    if "static_qris" in changes:
        changes["static_qris"] = check_static_qris(changes["static_qris"])
    changed = False
    for key, value in changes.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    if changed:
        row.updated_at = utcnow()
        # The change counter stays locked from here until the caller's commit.
        with session.no_autoflush:
            row.change_no = next_change_numbers(session, 1)
        session.flush()
    return store_out(row)
