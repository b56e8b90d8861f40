"""Terminals this process has authenticated, by token hash (see ``auth.deps.get_principal``).

Only routes whose service reads the terminal again in its own transaction take a
terminal from here (the push): a revoked or re-enrolled till is refused there, and
forgotten here.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy.orm import make_transient_to_detached

from sync_server.auth.models import Terminal
from sync_server.core.database import Database

KNOWN_TERMINALS_MAX = 50_000
"""Entries kept at most (the whole memory is cleared when full: tills are read again)."""

_KNOWN: WeakKeyDictionary[Database, dict[str, Terminal]] = WeakKeyDictionary()
"""Per database (an app's, so a test's app never sees another's tills): token hash to
the terminal, detached. One object serves every push of that till: it is read only
(nothing on the push's path sets an attribute or adds it to a session)."""


def remember_terminal(db: Database, digest: str, terminal: Terminal) -> None:
    """Keep ``terminal`` (detached) of ``db``, read for the token hash ``digest``."""
    known = _KNOWN.get(db)
    if known is None or len(known) >= KNOWN_TERMINALS_MAX:
        known = _KNOWN[db] = {}
    known[digest] = terminal


def forget_terminal(db: Database, digest: str | None) -> None:
    """Drop what is known for the token hash ``digest`` (revoked, re-enrolled, unknown)."""
    known = _KNOWN.get(db)
    if known is not None and digest is not None:
        known.pop(digest, None)


def known_terminal(db: Database, digest: str) -> Terminal | None:
    """The terminal of ``db`` last read for the token hash ``digest``, or None."""
    known = _KNOWN.get(db)
    return None if known is None else known.get(digest)


def detached_terminal(columns: dict[str, Any]) -> Terminal:
    """A Terminal of the row ``columns``, detached, as one loaded and expunged would be."""
    terminal = Terminal(**columns)
    make_transient_to_detached(terminal)
    return terminal
