"""The product grid of the sale screen: category tabs, a Favorit tab, big tiles.

For goods without barcodes (food and drinks made to order, loose goods): a tap on a
tile fires ``on_pick`` with the product id (the screen adds one to the cart); the star
on a tile pins or unpins it on this till's Favorit tab. Tabs come from the pulled
catalog through :class:`~pos_client.services.catalog.CatalogService`, which the screen
hands in as ``catalog``; nothing here reads the database. Layout in ``kv/grid.kv``.
"""

from __future__ import annotations

from typing import Any

from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.relativelayout import RelativeLayout
from kivy.uix.togglebutton import ToggleButton

from pos_client.services.catalog import ProductHit
from pos_client.ui import widgets  # noqa: F401  (the K* styles the grid uses)
from pos_client.ui.i18n import tr
from pos_client.ui.paths import KV_DIR
from shared.money import format_rupiah

FAVOURITES = -1
"""The id of the Favorit tab (catalog category ids are positive, 0 is "no category")."""

_KV = str(KV_DIR / "grid.kv")
if _KV not in Builder.files:
    Builder.load_file(_KV)


class GridTab(ToggleButton):
    """One tab: Favorit, a category, or the products with no category."""

    tab_id = NumericProperty(FAVOURITES)
    grid = ObjectProperty(None)


class ProductTile(RelativeLayout):
    """One product: tap to add one; the star pins or unpins it."""

    product_id = NumericProperty(0)
    name = StringProperty("")
    price = StringProperty("")
    stock = StringProperty("")
    favourite = BooleanProperty(False)
    grid = ObjectProperty(None)


class ProductGrid(BoxLayout):
    """Tabs over a scrolling grid of tiles; fires ``on_pick(product_id)``."""

    catalog = ObjectProperty(None, allownone=True)
    """The :class:`CatalogService` the tabs and tiles come from."""
    selected = NumericProperty(FAVOURITES)
    empty_text = StringProperty("")

    __events__ = ("on_pick", "on_pinned")

    def reload(self) -> None:
        """Rebuild the tabs from the catalog and show the selected tab (Favorit when it
        has products, else the first category, when the selected one is gone)."""
        if self.catalog is None:
            return
        tabs: list[tuple[int, str]] = [(FAVOURITES, tr("favourites_tab"))]
        for category in self.catalog.categories():
            tabs.append((category.id, category.name or tr("other_tab")))
        box = self.ids.tabs
        box.clear_widgets()
        for tab_id, name in tabs:
            tab = GridTab(text=name, tab_id=tab_id, grid=self)
            if tab_id == FAVOURITES:
                tab.font_name = "DejaVuSans"  # has the star; the default font does not
            box.add_widget(tab)
        ids = [tab_id for tab_id, _ in tabs]
        if self.selected not in ids or (
            self.selected == FAVOURITES and len(ids) > 1 and not self.catalog.favourites(limit=1)
        ):
            self.selected = ids[1] if len(ids) > 1 else FAVOURITES
        self.show(int(self.selected))

    def show(self, tab_id: int) -> None:
        """Show the tiles of tab ``tab_id``."""
        if self.catalog is None:
            return
        self.selected = tab_id
        for tab in self.tabs():
            tab.state = "down" if tab.tab_id == tab_id else "normal"
        if tab_id == FAVOURITES:
            hits = self.catalog.favourites()
            self.empty_text = "" if hits else tr("favourites_empty")
        else:
            hits = self.catalog.category_hits(tab_id)
            self.empty_text = "" if hits else tr("category_empty")
        box = self.ids.tiles
        box.clear_widgets()
        for hit in hits:
            box.add_widget(self._tile(hit))

    def _tile(self, hit: ProductHit) -> ProductTile:
        product = hit.product
        return ProductTile(
            product_id=product.id,
            name=product.name,
            price=format_rupiah(product.price),
            stock=tr("on_hand", n=hit.on_hand, unit=product.unit),
            favourite=hit.favourite,
            grid=self,
        )

    def pick(self, product_id: int) -> None:
        """A tile was tapped."""
        self.dispatch("on_pick", product_id)

    def toggle_favourite(self, tile: ProductTile) -> None:
        """The star of a tile: pin it, or unpin it (and leave the Favorit tab)."""
        if self.catalog is None:
            return
        pinned = not tile.favourite
        self.catalog.pin(tile.product_id, pinned)
        tile.favourite = pinned
        if self.selected == FAVOURITES and not pinned:
            self.ids.tiles.remove_widget(tile)
            if not self.ids.tiles.children:
                self.empty_text = tr("favourites_empty")
        self.dispatch("on_pinned", tile.name, pinned)

    # -- what tests read -----------------------------------------------------------------
    def tabs(self) -> list[GridTab]:
        """The tabs, left to right."""
        return [w for w in reversed(self.ids.tabs.children) if isinstance(w, GridTab)]

    def tab(self, name: str) -> GridTab:
        """The tab called ``name``."""
        return next(t for t in self.tabs() if t.text == name)

    def tiles(self) -> list[ProductTile]:
        """The tiles shown, in order."""
        return [w for w in reversed(self.ids.tiles.children) if isinstance(w, ProductTile)]

    def tile(self, name: str) -> ProductTile:
        """The tile of the product called ``name``."""
        return next(t for t in self.tiles() if t.name == name)

    # -- events --------------------------------------------------------------------------
    def on_pick(self, product_id: int) -> None:
        """A tile was tapped (bind to it)."""

    def on_pinned(self, name: str, pinned: bool) -> None:
        """A product was pinned or unpinned (bind to it)."""

    def on_kv_post(self, base_widget: Any) -> None:
        """Nothing to show until the screen hands in the catalog."""
        self.empty_text = ""
