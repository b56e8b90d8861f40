"""Reading the catalog cache: products by barcode, SKU, name and category, stock,
vouchers, users; and this till's favourite products (a local list, never synced)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class Category:
    """A category from the pulled catalog, as a tab of the sale screen's product grid."""

    id: int
    name: str


def _fold(text: str) -> str:
    # Case and accents do not matter to a cashier ("Minuman" = "minúman"), as in FTS.
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words_match(text: str, name: str) -> bool:
    """True when every word of ``text`` starts a word of ``name`` (the search rule)."""
    wanted = _WORD.findall(_fold(text))
    have = _WORD.findall(_fold(name))
    return bool(wanted) and all(any(w.startswith(x) for w in have) for x in wanted)


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
        """Products whose name or SKU has words starting with every word of ``text``,
        then (up to ``limit``) the products of categories whose name matches that way."""
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
        found = [_product(row) for row in rows]
        if len(found) < limit:
            seen = {p.id for p in found}
            for category in self.categories():
                if words_match(text, category.name):
                    more = self.products_in_category(
                        category.id, limit=limit, include_inactive=include_inactive
                    )
                    found += [p for p in more if p.id not in seen]
                    seen.update(p.id for p in more)
        return found[:limit]

    # -- the product grid ----------------------------------------------------------------
    def categories(self) -> list[Category]:
        """Active categories with at least one active product, by name."""
        rows = self.conn.execute(
            "SELECT c.id, c.name FROM categories c WHERE c.active = 1 AND EXISTS ("
            "SELECT 1 FROM products p WHERE p.category_id = c.id AND p.active = 1) "
            "ORDER BY c.name COLLATE NOCASE, c.id"
        ).fetchall()
        return [Category(id=row[0], name=row[1]) for row in rows]

    def has_uncategorised(self) -> bool:
        """True when some active product has no (active) category."""
        return bool(
            self._scalar(
                "SELECT 1 FROM products p LEFT JOIN categories c ON c.id = p.category_id "
                "WHERE p.active = 1 AND (c.id IS NULL OR c.active = 0) LIMIT 1"
            )
        )

    def products_in_category(
        self, category_id: int | None, *, limit: int = 60, include_inactive: bool = False
    ) -> list[Product]:
        """Products of a category by name; ``None`` means those with no active category."""
        active = "" if include_inactive else "AND p.active = 1"
        if category_id is None:
            where = (
                "(p.category_id IS NULL OR NOT EXISTS (SELECT 1 FROM categories c "
                "WHERE c.id = p.category_id AND c.active = 1))"
            )
            params: tuple[Any, ...] = (limit,)
        else:
            where = "p.category_id = ?"
            params = (category_id, limit)
        rows = self.conn.execute(
            f"SELECT {_PRODUCT_COLUMNS} FROM {_PRODUCT_FROM} "  # noqa: S608
            f"WHERE {where} {active} ORDER BY p.name COLLATE NOCASE, p.id LIMIT ?",
            params,
        ).fetchall()
        return [_product(row) for row in rows]

    def category_names(self, category_ids: Sequence[int]) -> dict[int, str]:
        """The names of these categories (the ones the catalog still has)."""
        ids = sorted(set(category_ids))
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.conn.execute(
            f"SELECT id, name FROM categories WHERE id IN ({marks})",  # noqa: S608
            tuple(ids),
        ).fetchall()
        return {row[0]: row[1] for row in rows}

    # -- favourites (this till only) -----------------------------------------------------
    def favourite_products(self, *, limit: int = 60) -> list[Product]:
        """The products pinned on this till that are still for sale, by name."""
        rows = self.conn.execute(
            f"SELECT {_PRODUCT_COLUMNS} FROM favourites f "  # noqa: S608
            "JOIN products p ON p.id = f.product_id "
            "LEFT JOIN tax_rates t ON t.id = p.tax_rate_id "
            "WHERE p.active = 1 ORDER BY p.name COLLATE NOCASE, p.id LIMIT ?",
            (limit,),
        ).fetchall()
        return [_product(row) for row in rows]

    def favourite_ids(self) -> set[int]:
        """The ids of every product pinned on this till."""
        return {row[0] for row in self.conn.execute("SELECT product_id FROM favourites")}

    def set_favourite(self, product_id: int, pinned: bool, *, at: datetime) -> None:
        """Pin (``pinned``) or unpin a product on this till; doing it twice changes nothing."""
        with self._write() as conn:
            if pinned:
                conn.execute(
                    "INSERT INTO favourites (product_id, pinned_at) VALUES (?, ?) "
                    "ON CONFLICT(product_id) DO NOTHING",
                    (product_id, to_db_time(at)),
                )
            else:
                conn.execute("DELETE FROM favourites WHERE product_id = ?", (product_id,))

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

    def stock_on_hand_of(self, product_ids: Sequence[int]) -> dict[int, int]:
        """:meth:`stock_on_hand` of several products in two queries (search results)."""
        ids = sorted(set(product_ids))
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        store_id = self._state("store_id")
        if store_id is None:
            # As stock_on_hand: the first store's level when the till is not enrolled.
            server_sql = (
                "SELECT product_id, on_hand FROM stock_levels s WHERE product_id IN "  # noqa: S608
                f"({marks}) AND store_id = (SELECT min(store_id) FROM stock_levels "
                "WHERE product_id = s.product_id)"
            )
            server_params: tuple[Any, ...] = tuple(ids)
        else:
            server_sql = (
                "SELECT product_id, on_hand FROM stock_levels "  # noqa: S608
                f"WHERE product_id IN ({marks}) AND store_id = ?"
            )
            server_params = (*ids, int(store_id))
        levels = dict.fromkeys(ids, 0)
        for product_id, on_hand in self.conn.execute(server_sql, server_params):
            levels[product_id] += int(on_hand)
        local_sql = (
            "SELECT product_id, sum(quantity) FROM stock_moves "  # noqa: S608
            f"WHERE product_id IN ({marks}) GROUP BY product_id"
        )
        for product_id, moved in self.conn.execute(local_sql, tuple(ids)):
            levels[product_id] += int(moved)
        return levels

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
