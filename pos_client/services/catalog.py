"""Finding products to ring up: scanned barcodes, SKUs, name and category search, the
product grid by category with this till's favourites, and stock on hand.

A GTIN matches in any of its forms (UPC-A as 12, 13 or 14 digits); an in-store label
(GS1 prefix 02 or 20–29 by default, see :class:`shared.barcodes.VariableMeasureScheme`)
finds its product by the catalog barcode with the value zeroed, and rings up at the
label's price or weight (:mod:`pos_client.domain.measured`).
"""

from __future__ import annotations

from dataclasses import dataclass

from pos_client.domain.catalog import Product
from pos_client.domain.measured import Measure, measured_item
from pos_client.services.clock import Clock, utc_now
from pos_client.services.errors import InvalidBarcode, ProductNotFound
from pos_client.store import LocalStore
from pos_client.store.catalog import Category
from shared.barcodes import (
    DEFAULT_MEASURE_SCHEME,
    MeasuredCode,
    VariableMeasureScheme,
    barcode_problem,
    looks_like_gtin,
)


@dataclass(frozen=True, slots=True)
class ScannedItem:
    """What one scan rings up: the product (priced from its label when ``measure`` is
    set) and what the label said."""

    product: Product
    measure: Measure | None = None


@dataclass(frozen=True, slots=True)
class ProductHit:
    """A product as a search result or a grid tile shows it: with its stock on hand (server
    level plus this till's unsynced moves), its category's name and whether it is pinned."""

    product: Product
    on_hand: int
    category: str | None = None
    favourite: bool = False


UNCATEGORISED = 0
"""The grid tab of products with no category (category ids from the server start at 1)."""


class CatalogService:
    """Catalog lookups over the local cache (works offline)."""

    def __init__(
        self,
        store: LocalStore,
        *,
        measures: VariableMeasureScheme = DEFAULT_MEASURE_SCHEME,
        now: Clock = utc_now,
    ) -> None:
        """Look products up in ``store``; read in-store labels laid out as ``measures``."""
        self.store = store
        self.measures = measures
        self.now = now

    def _check(self, code: str) -> None:
        problem = barcode_problem(code)
        if problem is not None:
            key, params = problem
            raise InvalidBarcode("barcode_unreadable", problem=key, **params)

    def by_barcode(self, code: str) -> Product:
        """The product with barcode ``code`` (a GTIN in any of its 8–14 digit forms).

        :class:`InvalidBarcode` when the check digit or length is wrong (say, a misread),
        :class:`ProductNotFound` when no product carries it.
        """
        code = code.strip()
        self._check(code)
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
        """The catalog product a scanner or keyboard names: a barcode first, else a SKU.

        A numeric EAN/UPC/GTIN with a wrong check digit is refused, never guessed as a
        SKU. An in-store label names its product as the catalog holds it (the price per
        kg of a weighed one); :meth:`scan` is what rings it up.
        """
        code = code.strip()
        if looks_like_gtin(code):
            self._check(code)
            label = self.measures.parse(code)
            if label is not None:
                return self._labelled(code, label)[0]
            return self.by_barcode(code)
        product = self.store.product_by_barcode(code) or self.store.product_by_sku(code)
        if product is None:
            raise ProductNotFound("product_not_found_code", code=code)
        return product

    def scan(self, code: str) -> ScannedItem:
        """What a scan rings up: :meth:`find`, priced from an in-store label if it is one.

        A label with an item code no product carries raises :class:`ProductNotFound`
        (``product_not_found_item_code``); a zero weight or price, :class:`CartError`.
        """
        code = code.strip()
        label = self.measures.parse(code) if looks_like_gtin(code) else None
        if label is None:
            return ScannedItem(self.find(code))
        product, from_label = self._labelled(code, label)
        if not from_label:
            return ScannedItem(product)
        priced, measure = measured_item(product, label, code)
        return ScannedItem(priced, measure)

    def _labelled(self, code: str, label: MeasuredCode) -> tuple[Product, bool]:
        # The product carries the label's code with the value zeroed (True). A product
        # whose own barcode is the scanned code, a shop's fixed-price code in the same
        # prefix range, comes second and rings up at its catalog price (False).
        product = self.store.product_by_barcode(label.template)
        if product is not None:
            return product, True
        product = self.store.product_by_barcode(code)
        if product is not None:
            return product, False
        raise ProductNotFound("product_not_found_item_code", code=code, item_code=label.item_code)

    def product(self, product_id: int) -> Product:
        """The product with ``product_id``, or :class:`ProductNotFound`."""
        product = self.store.product(product_id)
        if product is None:
            raise ProductNotFound("product_not_in_catalog")
        return product

    def search(self, text: str, *, limit: int = 20) -> list[Product]:
        """Products for sale whose name or SKU words start with every word of ``text``,
        then those of categories whose name does (typing "minuman" lists the drinks)."""
        return self.store.search_products(text, limit=limit)

    def search_hits(self, text: str, *, limit: int = 20) -> list[ProductHit]:
        """:meth:`search` with each product's stock on hand and category (search results)."""
        return self._hits(self.search(text, limit=limit))

    def _hits(self, products: list[Product]) -> list[ProductHit]:
        levels = self.store.stock_on_hand_of([p.id for p in products])
        names = self.store.category_names([p.category_id for p in products if p.category_id])
        pinned = self.store.favourite_ids()
        return [
            ProductHit(
                product=p,
                on_hand=levels.get(p.id, 0),
                category=names.get(p.category_id) if p.category_id else None,
                favourite=p.id in pinned,
            )
            for p in products
        ]

    # -- the product grid ----------------------------------------------------------------
    def categories(self) -> list[Category]:
        """The grid's category tabs: categories with products for sale, by name, then
        :data:`UNCATEGORISED` (named ``""``) when some product has no category."""
        tabs = self.store.categories()
        if self.store.has_uncategorised():
            tabs.append(Category(id=UNCATEGORISED, name=""))
        return tabs

    def category_hits(self, category_id: int, *, limit: int = 60) -> list[ProductHit]:
        """The tiles of one category tab, by name (:data:`UNCATEGORISED` for none)."""
        wanted = None if category_id == UNCATEGORISED else category_id
        return self._hits(self.store.products_in_category(wanted, limit=limit))

    def favourites(self, *, limit: int = 60) -> list[ProductHit]:
        """The products pinned on this till (still for sale), by name."""
        return self._hits(self.store.favourite_products(limit=limit))

    def pin(self, product_id: int, pinned: bool = True) -> None:
        """Pin a product to this till's favourites (``pinned=False`` unpins it)."""
        if pinned:
            self.product(product_id)  # ProductNotFound for a product the catalog lacks
        self.store.set_favourite(product_id, pinned, at=self.now())

    def is_favourite(self, product_id: int) -> bool:
        """True when the product is pinned on this till."""
        return product_id in self.store.favourite_ids()

    def stock_on_hand(self, product_id: int) -> int:
        """Server level at the last sync plus this till's moves not yet acknowledged."""
        return self.store.stock_on_hand(product_id)
