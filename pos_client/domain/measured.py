"""Loose goods rung up from an in-store label: an embedded price or an embedded weight.

The scale (or the shop's label printer) prints an EAN-13 with a GS1 in-store prefix, the
item code and the price or weight (see :class:`shared.barcodes.VariableMeasureScheme`).
The line rings up as quantity 1 at the label's price, or at the product's price per kg
times the weight, rounded half up once (:func:`shared.pricing.weighed_price`). The line's
name carries the weight for the receipt ("Apel Fuji 1,234 kg"), and the sale line on the
wire carries the label (:class:`shared.models.LineMeasure`) so the server can check the
price.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from pos_client.domain.catalog import Product
from pos_client.domain.errors import CartError
from shared.barcodes import MeasuredCode, MeasureKind
from shared.models import LineMeasure
from shared.pricing import GRAMS_PER_KG, weighed_price

LINE_NAME_MAX = 200
"""The longest line name the wire takes (``shared.models.SaleLineIn.name``)."""


@dataclass(frozen=True, slots=True)
class Measure:
    """What the label said: ``value`` is grams (weight) or rupiah (price).

    ``base_price`` is the catalog price the line was priced from (per kg for a weight),
    ``code`` the scanned barcode; both are kept so a receipt or an audit can show them.
    """

    kind: MeasureKind
    value: int
    base_price: int
    code: str

    @property
    def grams(self) -> int | None:
        """The weight in grams, or None for a price label."""
        return self.value if self.kind is MeasureKind.WEIGHT else None

    def to_wire(self) -> LineMeasure:
        """What the sale line sends: kind, value and base price (the code stays local)."""
        return LineMeasure(kind=self.kind, value=self.value, base_price=self.base_price)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (for held carts)."""
        return {
            "kind": self.kind.value,
            "value": self.value,
            "base_price": self.base_price,
            "code": self.code,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Measure:
        """Rebuild from :meth:`to_dict`."""
        return cls(
            kind=MeasureKind(data["kind"]),
            value=int(data["value"]),
            base_price=int(data["base_price"]),
            code=str(data["code"]),
        )


def format_kg(grams: int) -> str:
    """Grams as kilograms the Indonesian way: 1234 → ``1,234 kg``, 250 → ``0,250 kg``."""
    kg, rest = divmod(grams, GRAMS_PER_KG)
    return f"{kg},{rest:03d} kg"


def measured_item(product: Product, label: MeasuredCode, code: str) -> tuple[Product, Measure]:
    """``product`` as this label rings it up, and what the label said.

    A weight is priced from ``product.price`` per kg and named with the weight; a price
    label rings up at its price. A zero weight or price (a label printed with nothing on
    the scale, or the catalog's own template code) is refused with :class:`CartError`.
    """
    if label.value == 0:
        raise CartError(
            "measured_weight_zero" if label.kind is MeasureKind.WEIGHT else "measured_price_zero",
            name=product.name,
        )
    measure = Measure(kind=label.kind, value=label.value, base_price=product.price, code=code)
    if label.kind is MeasureKind.WEIGHT:
        priced = replace(
            product,
            price=weighed_price(product.price, label.value),
            name=_named_with(product.name, format_kg(label.value)),
        )
    else:
        priced = replace(product, price=label.value)
    return priced, measure


def _named_with(name: str, suffix: str) -> str:
    # The weight must survive on the receipt; a long product name gives way to it.
    return f"{name[: LINE_NAME_MAX - len(suffix) - 1].rstrip()} {suffix}"


# -- a quantity typed on the keypad ------------------------------------------------------

WEIGHED_UNITS = frozenset({"kg"})
"""Catalog units of goods sold by weight: their keyed quantity may have decimals."""
THOUSANDTHS = 1000
"""Keyed quantities are read in thousandths: grams for a kilogram (3 decimals at most)."""
MAX_KEYED_GRAMS = 1_000_000
"""The heaviest weight a cashier may key in (1.000 kg)."""
_KEYED = re.compile(r"(?P<whole>[0-9]*)(?:[,.](?P<fraction>[0-9]*))?")


def sold_by_weight(product: Product) -> bool:
    """True for goods the catalog sells by the kilogram (``unit`` ``kg``)."""
    return product.unit.strip().lower() in WEIGHED_UNITS


def parse_keyed_quantity(text: str) -> int:
    """A quantity typed on the keypad, in thousandths: ``"0,75"`` → 750, ``"2"`` → 2000.

    The decimal mark is the Indonesian comma or a point; no thousands separators. More
    than three decimals, or anything that is not a number, is a :class:`CartError`.
    """
    match = _KEYED.fullmatch(text.strip())
    if match is None or not (match["whole"] or match["fraction"]):
        raise CartError("quantity_unreadable", text=text.strip())
    whole, fraction = match["whole"], match["fraction"] or ""
    if len(fraction) > 3:
        raise CartError("quantity_too_precise")
    return int(whole or "0") * THOUSANDTHS + int((fraction or "0").ljust(3, "0"))


def format_keyed_kg(grams: int) -> str:
    """A keyed weight as the cashier typed it: 750 → ``0,75 kg``, 2000 → ``2 kg``."""
    kg, rest = divmod(grams, GRAMS_PER_KG)
    decimals = f"{rest:03d}".rstrip("0")
    return f"{kg},{decimals} kg" if decimals else f"{kg} kg"


def keyed_weight(product: Product, grams: int) -> tuple[Product, Measure]:
    """``grams`` of ``product`` (sold per kg) keyed in by the cashier, priced and named
    like a scale label (:func:`measured_item`): ``weighed_price`` half up once, the
    weight in the line's name (``Beras Curah 0,75 kg``)."""
    if not sold_by_weight(product):
        raise CartError("quantity_not_whole_unit", name=product.name, unit=product.unit)
    if not 0 < grams <= MAX_KEYED_GRAMS:
        raise CartError(
            "weight_out_of_range", low=format_keyed_kg(1), high=format_keyed_kg(MAX_KEYED_GRAMS)
        )
    measure = Measure(kind=MeasureKind.WEIGHT, value=grams, base_price=product.price, code="")
    priced = replace(
        product,
        price=weighed_price(product.price, grams),
        name=_named_with(product.name, format_keyed_kg(grams)),
    )
    return priced, measure
