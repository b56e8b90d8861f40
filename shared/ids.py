"""Ids made where the thing is born: time-ordered UUIDv7."""

from __future__ import annotations

from uuid import UUID

import uuid6


def new_id() -> UUID:
    """A new time-ordered UUID (version 7) for a sale, line, payment, shift or move."""
    return UUID(str(uuid6.uuid7()))
