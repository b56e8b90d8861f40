"""Reading the catalog cache: products by barcode, SKU and name, stock, vouchers, users."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pos_client.domain.catalog import Product, User, Voucher
from pos_client.store.base import StoreBase, from_db_time, to_db_time
from shared.barcodes import gtin14
from shared.models import Role, StoreOut, VoucherKind

_PRODUCT_COLUMNS = """
    p.id, p.sku, p.name, p.price, p.barcode, p.unit, p.category_id, p.active,
    COALESCE(t.rate_bp, 0) AS tax_rate_bp, COALESCE(t.inclusive, 1) AS tax_inclusive
"""
_PRODUCT_FROM = "products p LEFT JOIN tax_rates t ON t.id = p.tax_rate_id"
_WORD = re.compile(r"\w+", re.UNICODE)


def _product(row: tuple[Any, ...]) -> Product:
    return Product(
        id=row[0],
        sku=row[1],
        name=row[2],
        price=row[3],
        barcode=row[4],
        unit=row[5],
        category_id=row[6],
        active=bool(row[7]),
        tax_rate_bp=row[8],
        tax_inclusive=bool(row[9]),
    )


def fts_prefix_query(text: str) -> str | None:
    """An FTS5 query matching every word of ``text`` as a prefix (None when no words)."""
    words = _WORD.findall(text)
    if not words:
        return None
    return " ".join(f'"{word}"*' for word in words)


class CatalogMixin(StoreBase):
    """Catalog lookups for ringing up; all rows come from pull (see :meth:`apply_pull_page`)."""

    def _product_where(self, where: str, params: tuple[Any, ...]) -> Product | None:
        row = self.conn.execute(
            f"SELECT {_PRODUCT_COLUMNS} FROM {_PRODUCT_FROM} WHERE {where} "  # noqa: S608
            "ORDER BY p.active DESC, p.id LIMIT 1",
            params,
        ).fetchone()
        return None if row is None else _product(row)

    def product(self, product_id: int) -> Product | None:
        """The product with ``product_id``, or None."""
        return self._product_where("p.id = ?", (product_id,))

    def product_by_barcode(self, barcode: str) -> Product | None:
        """The product printed with ``barcode`` (active ones first), or None.

        A GTIN (EAN-8, UPC-A, EAN-13, GTIN-14 with a right check digit) matches in its
        GTIN-14 form, so ``012345678905`` finds a product stored as ``0012345678905``;
        any other code (Code128) matches exactly.
        """
        key = gtin14(barcode)
        if key is not None:
            return self._product_where("p.gtin = ?", (key,))
        return self._product_where("p.barcode = ?", (barcode,))

    def product_by_sku(self, sku: str) -> Product | None:
        """The product with ``sku`` (exact), or None."""
        return self._product_where("p.sku = ?", (sku,))

    def search_products(
        self, text: str, *, limit: int = 20, include_inactive: bool = False
    ) -> list[Product]:
        """Products whose name or SKU has words starting with every word of ``text``."""
        query = fts_prefix_query(text)
        if query is None:
            return []
        active = "" if include_inactive else "AND p.active = 1"
        rows = self.conn.execute(
            f"SELECT {_PRODUCT_COLUMNS} FROM products_fts f "  # noqa: S608
            "JOIN products p ON p.id = f.rowid "
            "LEFT JOIN tax_rates t ON t.id = p.tax_rate_id "
            f"WHERE products_fts MATCH ? {active} ORDER BY f.rank, p.id LIMIT ?",
            (query, limit),
        ).fetchall()
        return [_product(row) for row in rows]

    def product_count(self) -> int:
        """How many products the catalog cache holds."""
        return int(self._scalar("SELECT count(*) FROM products"))

    def stock_on_hand(self, product_id: int) -> int:
        """Last level synced from the server plus this till's moves not yet acknowledged."""
        store_id = self._state("store_id")
        if store_id is None:
            server = self._scalar(
                "SELECT on_hand FROM stock_levels WHERE product_id = ? ORDER BY store_id LIMIT 1",
                (product_id,),
            )
        else:
            server = self._scalar(
                "SELECT on_hand FROM stock_levels WHERE product_id = ? AND store_id = ?",
                (product_id, int(store_id)),
            )
        local = self._scalar(
            "SELECT COALESCE(sum(quantity), 0) FROM stock_moves WHERE product_id = ?",
            (product_id,),
        )
        return int(server or 0) + int(local)

    def voucher(self, code: str) -> Voucher | None:
        """The voucher with ``code`` (case-insensitive), or None."""
        row = self._one(
            "SELECT * FROM vouchers WHERE upper(code) = upper(?) "
            "ORDER BY active DESC, id DESC LIMIT 1",
            (code.strip(),),
        )
        if row is None:
            return None
        return Voucher(
            code=row["code"],
            kind=VoucherKind(row["kind"]),
            value=row["value"],
            valid_from=from_db_time(row["valid_from"]),
            valid_until=from_db_time(row["valid_until"]),
            min_spend=row["min_spend"],
            usage_limit=row["usage_limit"],
            used_count=row["used_count"],
            active=bool(row["active"]),
        )

    def user(self, user_id: int) -> User | None:
        """The user with ``user_id`` (active or not), or None."""
        row = self._one("SELECT * FROM users WHERE id = ?", (user_id,))
        return None if row is None else _user(row)

    def users(self, *, active_only: bool = True) -> list[User]:
        """Users who may log in on this till, by name."""
        where = "WHERE active = 1" if active_only else ""
        rows = self._all(f"SELECT * FROM users {where} ORDER BY full_name, id")  # noqa: S608
        return [_user(row) for row in rows]

    def store_profile(self) -> StoreOut | None:
        """This till's store and its receipt template (header, footer, NPWP), or None."""
        store_id = self._state("store_id")
        if store_id is not None:
            row = self._one("SELECT * FROM stores WHERE id = ?", (int(store_id),))
        else:
            row = self._one("SELECT * FROM stores ORDER BY id LIMIT 1")
        return None if row is None else StoreOut(**row)

    # -- PIN lockouts (per user, on this till) -------------------------------------------
    def pin_lockout(self, user_id: int) -> tuple[int, int, datetime | None]:
        """``(failures, lockouts, locked_until)`` of a user on this till."""
        row = self._one("SELECT * FROM pin_lockouts WHERE user_id = ?", (user_id,))
        if row is None:
            return 0, 0, None
        return row["failures"], row["lockouts"], from_db_time(row["locked_until"])

    def save_pin_lockout(
        self, user_id: int, *, failures: int, lockouts: int, locked_until: datetime | None
    ) -> None:
        """Remember a user's wrong-PIN count and lock (survives restarts)."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO pin_lockouts (user_id, failures, lockouts, locked_until) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET "
                "failures = excluded.failures, lockouts = excluded.lockouts, "
                "locked_until = excluded.locked_until",
                (user_id, failures, lockouts, to_db_time(locked_until) if locked_until else None),
            )


def _user(row: dict[str, Any]) -> User:
    return User(
        id=row["id"],
        username=row["username"],
        full_name=row["full_name"],
        role=Role(row["role"]),
        pin_hash=row["pin_hash"],
        active=bool(row["active"]),
        store_id=row["store_id"],
    )
