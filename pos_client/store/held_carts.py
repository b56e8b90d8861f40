"""Held carts: a cart put aside while the customer fetches something, resumed later.

A held cart is the till's own business: it never goes to the server (no outbox row),
but it survives a restart, and taking it back is atomic so two hands cannot resume it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from pos_client.store.base import StoreBase, dumps, to_db_time


@dataclass(frozen=True, slots=True)
class HeldCart:
    """A cart put aside; ``payload`` is :meth:`pos_client.domain.Cart.to_dict`."""

    id: UUID
    label: str
    cashier_id: int
    created_at: datetime
    payload: dict[str, Any]


class HeldCartsMixin(StoreBase):
    """Put carts aside, list them, and take one back exactly once."""

    def hold_cart(
        self,
        cart_id: UUID,
        *,
        label: str,
        cashier_id: int,
        created_at: datetime,
        payload: dict[str, Any],
    ) -> None:
        """Put a cart aside (replacing an earlier hold of the same cart)."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO held_carts (id, label, cashier_id, created_at, payload) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET label = excluded.label, "
                "cashier_id = excluded.cashier_id, created_at = excluded.created_at, "
                "payload = excluded.payload",
                (str(cart_id), label, cashier_id, to_db_time(created_at), dumps(payload)),
            )

    def held_carts(self) -> list[HeldCart]:
        """Carts put aside, oldest first."""
        return [
            HeldCart(
                id=UUID(r["id"]),
                label=r["label"],
                cashier_id=r["cashier_id"],
                created_at=datetime.fromisoformat(r["created_at"]),
                payload=json.loads(r["payload"]),
            )
            for r in self._all("SELECT * FROM held_carts ORDER BY created_at, id")
        ]

    def take_held_cart(self, cart_id: UUID) -> dict[str, Any] | None:
        """Remove a held cart and return its payload (None if another hand took it)."""
        with self._write() as conn:
            row = conn.execute(
                "DELETE FROM held_carts WHERE id = ? RETURNING payload", (str(cart_id),)
            ).fetchone()
        return None if row is None else dict(json.loads(row[0]))
