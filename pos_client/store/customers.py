"""The till's customers: a cache of the server's (with balances) and the ones made here.

``customers.points`` is the balance as last pulled (``GET /api/v1/customers/changes``).
What this till redeemed since is kept in ``customer_redeems`` (by phone number, the
customer's identity: a customer made here offline may come back from the server under
another id) until a pull that started after the sale was acknowledged brings a balance
that includes it. What the till may still redeem is the pulled balance less those.

:class:`CustomersStore` works on a :class:`~pos_client.store.base.StoreBase`'s
connection (the same thread's), with its own write transactions.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from pydantic import ValidationError

from pos_client.store.base import StoreBase, to_db_time
from shared.models.customers import CustomerChangesOut, CustomerOut, LoyaltySettings

CURSOR_KEY = "customers_cursor"
LOYALTY_KEY = "loyalty_settings"


@dataclass(frozen=True, slots=True)
class LocalCustomer:
    """A customer as the till knows them."""

    id: UUID
    phone: str
    name: str
    email: str | None
    points: int
    """The balance as last pulled from the server."""
    synced: bool
    """False for a customer made on this till that the server has not sent back yet."""


class CustomerTaken(Exception):
    """Another customer already has that phone number on this till."""


def _customer(row: dict[str, object]) -> LocalCustomer:
    return LocalCustomer(
        id=UUID(str(row["id"])),
        phone=str(row["phone"]),
        name=str(row["name"]),
        email=None if row["email"] is None else str(row["email"]),
        points=int(row["points"]),  # type: ignore[call-overload]
        synced=bool(row["synced"]),
    )


_UPSERT = (
    "INSERT INTO customers (id, phone, name, email, points, synced) VALUES (?, ?, ?, ?, ?, 1) "
    "ON CONFLICT(id) DO UPDATE SET phone = excluded.phone, name = excluded.name, "
    "email = excluded.email, points = excluded.points, synced = 1"
)

_FROM_OUTBOX = """
INSERT OR IGNORE INTO customer_redeems (sale_id, phone, points, created_at)
SELECT json_extract(payload, '$.id'), json_extract(payload, '$.customer.phone'),
       json_extract(payload, '$.customer.points_redeemed'), created_at
FROM outbox
WHERE type = 'sale' AND json_extract(payload, '$.customer.points_redeemed') > 0
"""


_MISSING_FROM_OUTBOX = """
SELECT COUNT(*) FROM outbox
WHERE type = 'sale' AND json_extract(payload, '$.customer.points_redeemed') > 0
  AND json_extract(payload, '$.id') NOT IN (SELECT sale_id FROM customer_redeems)
"""


class CustomersStore:
    """Customers and points on the till's database (one thread's connection)."""

    def __init__(self, store: StoreBase) -> None:
        """Work on ``store``'s connection."""
        self.store = store

    # -- reading -------------------------------------------------------------------------
    def by_phone(self, phone: str) -> LocalCustomer | None:
        """The customer of a canonical phone number, or None."""
        row = self.store._one("SELECT * FROM customers WHERE phone = ?", (phone,))
        return None if row is None else _customer(row)

    def get(self, customer_id: UUID) -> LocalCustomer | None:
        """The customer of an id, or None."""
        row = self.store._one("SELECT * FROM customers WHERE id = ?", (str(customer_id),))
        return None if row is None else _customer(row)

    def search(self, text: str, limit: int = 20) -> list[LocalCustomer]:
        """Customers whose name or phone digits contain ``text``, by name."""
        digits = "".join(ch for ch in text if ch.isdigit())
        like = f"%{text.strip()}%"
        tail = f"%{digits.lstrip('0')}%" if len(digits) >= 3 else None
        rows = self.store._all(
            "SELECT * FROM customers WHERE name LIKE ? OR (? IS NOT NULL AND phone LIKE ?) "
            "ORDER BY name LIMIT ?",
            (like, tail, tail, limit),
        )
        return [_customer(r) for r in rows]

    def loyalty(self) -> LoyaltySettings:
        """The chain's points rule as last pulled (off until then)."""
        raw = self.store._state(LOYALTY_KEY)
        if not raw:
            return LoyaltySettings()
        try:
            return LoyaltySettings.model_validate_json(raw)
        except ValidationError:
            return LoyaltySettings()

    def cursor(self) -> int:
        """Where the next page of customer changes starts."""
        raw = self.store._state(CURSOR_KEY)
        return int(raw) if raw else 0

    def redeemed_here(self, phone: str) -> int:
        """Points this till redeemed for ``phone`` that the pulled balance may not show."""
        return int(
            self.store._scalar(
                "SELECT COALESCE(SUM(points), 0) FROM customer_redeems WHERE phone = ?", (phone,)
            )
        )

    def available(self, phone: str) -> int:
        """What the till may let the customer of ``phone`` redeem now (never below 0)."""
        customer = self.by_phone(phone)
        pulled = customer.points if customer else 0
        return max(0, pulled - self.redeemed_here(phone))

    def sales_in_outbox(self) -> set[str]:
        """Ids of sales not acknowledged by the server yet (pending or refused)."""
        rows = self.store.conn.execute(
            "SELECT json_extract(payload, '$.id') FROM outbox WHERE type = 'sale'"
        ).fetchall()
        return {str(r[0]) for r in rows}

    def redeem_sale_ids(self) -> set[str]:
        """Sales whose redemptions are still counted here."""
        return {str(r[0]) for r in self.store.conn.execute("SELECT sale_id FROM customer_redeems")}

    # -- writing -------------------------------------------------------------------------
    def add_local(
        self, customer_id: UUID, phone: str, name: str, email: str | None
    ) -> LocalCustomer:
        """A customer made on this till (offline too); the server learns of them with
        their first sale. :class:`CustomerTaken` when the phone is someone's here."""
        try:
            with self.store._write() as conn:
                conn.execute(
                    "INSERT INTO customers (id, phone, name, email, points, synced) "
                    "VALUES (?, ?, ?, ?, 0, 0)",
                    (str(customer_id), phone, name, email),
                )
        except sqlite3.IntegrityError:
            raise CustomerTaken(phone) from None
        found = self.get(customer_id)
        assert found is not None
        return found

    def keep(self, customer: CustomerOut) -> LocalCustomer:
        """Keep one customer as the server sent it (an online lookup)."""
        with self.store._write() as conn:
            self._upsert(conn, [customer])
        found = self.get(customer.id)
        assert found is not None
        return found

    def note_redeem(self, sale_id: UUID, phone: str, points: int, at: datetime) -> None:
        """Count a sale's redemption against the customer here until the server's
        balance includes it (exactly once per sale)."""
        if points <= 0:
            return
        with self.store._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO customer_redeems (sale_id, phone, points, created_at) "
                "VALUES (?, ?, ?, ?)",
                (str(sale_id), phone, points, to_db_time(at)),
            )

    def count_outbox_redeems(self) -> None:
        """Count redemptions of sales still in the outbox that were not counted yet (a
        till stopped between writing a sale and noting it). Writes only when one is
        missing, so the sync worker's rounds take no write lock for nothing."""
        missing = self.store._scalar(_MISSING_FROM_OUTBOX)
        if missing:
            with self.store._write() as conn:
                conn.execute(_FROM_OUTBOX)

    def apply_changes(self, page: CustomerChangesOut, *, settled: Iterable[str] = ()) -> None:
        """Store a page of changed customers, the rule and the cursor in one transaction,
        and stop counting the redemptions of ``settled`` sales (acknowledged before the
        page was asked for, so its balances include them)."""
        settled = list(settled)
        if (
            not page.customers
            and not settled
            and page.cursor == self.cursor()
            and page.loyalty == self.loyalty()
        ):
            return  # nothing new: no write transaction
        with self.store._write() as conn:
            self._upsert(conn, page.customers)
            conn.executemany(
                "DELETE FROM customer_redeems WHERE sale_id = ?", [(s,) for s in settled]
            )
            self.store._set_state(CURSOR_KEY, str(page.cursor))
            self.store._set_state(LOYALTY_KEY, page.loyalty.model_dump_json())

    @staticmethod
    def _upsert(conn: sqlite3.Connection, customers: Iterable[CustomerOut]) -> None:
        rows = list(customers)
        # The phone is who someone is: a customer made here under another id (or the
        # server's earlier holder of a number) gives way to the server's.
        conn.executemany(
            "DELETE FROM customers WHERE phone = ? AND id <> ?",
            [(c.phone, str(c.id)) for c in rows],
        )
        conn.executemany(_UPSERT, [(str(c.id), c.phone, c.name, c.email, c.points) for c in rows])
