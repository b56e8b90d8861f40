"""Finding products to ring up: scanned barcodes, SKUs, name search, and stock on hand."""

from __future__ import annotations

from pos_client.domain.catalog import Product
from pos_client.services.errors import InvalidBarcode, ProductNotFound
from pos_client.store import LocalStore
from shared.barcodes import barcode_problem


class CatalogService:
    """Catalog lookups over the local cache (works offline)."""

    def __init__(self, store: LocalStore) -> None:
        """Look products up in ``store``."""
        self.store = store

    def by_barcode(self, code: str) -> Product:
        """The product with barcode ``code``.

        :class:`InvalidBarcode` when the check digit or length is wrong (say, a misread),
        :class:`ProductNotFound` when no product carries it.
        """
        code = code.strip()
        problem = barcode_problem(code)
        if problem is not None:
            key, params = problem
            raise InvalidBarcode("barcode_unreadable", problem=key, **params)
        product = self.store.product_by_barcode(code)
        if product is None:
            raise ProductNotFound("product_not_found_barcode", code=code)
        return product

    def by_sku(self, sku: str) -> Product:
        """The product with ``sku``, or :class:`ProductNotFound`."""
        product = self.store.product_by_sku(sku.strip())
        if product is None:
            raise ProductNotFound("product_not_found_sku", sku=sku.strip())
        return product

    def find(self, code: str) -> Product:
        """What a scanner or keyboard sent: a barcode first, else a SKU.

        A numeric EAN/UPC with a wrong check digit is refused, never guessed as a SKU.
        """
        code = code.strip()
        if code.isdigit() and len(code) in (8, 12, 13):
            return self.by_barcode(code)
        product = self.store.product_by_barcode(code) or self.store.product_by_sku(code)
        if product is None:
            raise ProductNotFound("product_not_found_code", code=code)
        return product

    def product(self, product_id: int) -> Product:
        """The product with ``product_id``, or :class:`ProductNotFound`."""
        product = self.store.product(product_id)
        if product is None:
            raise ProductNotFound("product_not_in_catalog")
        return product

    def search(self, text: str, *, limit: int = 20) -> list[Product]:
        """Products for sale whose name or SKU words start with every word of ``text``."""
        return self.store.search_products(text, limit=limit)

    def stock_on_hand(self, product_id: int) -> int:
        """Server level at the last sync plus this till's moves not yet acknowledged."""
        return self.store.stock_on_hand(product_id)
