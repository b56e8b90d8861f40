"""A big catalog as the server pages it to a till: for the 100,000-product store tests and
the benches that load one (``benches/barcode_lookup.py``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from shared.barcodes import make_ean13
from shared.models import ProductOut, PullResponse

WORDS = ["Indomie", "Teh", "Aqua", "Beras", "Gula", "Kopi", "Sabun", "Susu", "Roti", "Minyak"]
"""The first words of the generated product names."""


def barcode(i: int) -> str:
    """The EAN-13 of product ``i``."""
    return make_ean13(f"{899_000_000_000 + i:012d}")


def variant_name(i: int) -> str:
    """Product ``i``'s name: a word, a variant number and a size, e.g. ``Teh Varian1 200g``."""
    return f"{WORDS[i % 10]} Varian{i} {i % 7 + 1}00g"


def catalog_product(i: int, **fields: Any) -> ProductOut:
    """Product ``i``: its SKU, barcode, name and price follow from ``i``, its change number
    is ``i``; ``fields`` override any of them."""
    defaults: dict[str, Any] = {
        "sku": f"SKU-{i:06d}",
        "barcode": barcode(i),
        "name": variant_name(i),
        "price": 1000 + i,
        "change_no": i,
    }
    return ProductOut(id=i, **{**defaults, **fields})


def catalog_pages(
    count: int, size: int, make: Callable[[int], ProductOut], **extra: Any
) -> Iterator[PullResponse]:
    """Products 1..``count`` made by ``make``, in pages of ``size`` as the server sends a
    first download (each page's cursor is its last id); ``extra`` goes on every page."""
    for start in range(1, count + 1, size):
        yield PullResponse(
            cursor=start + size - 1,
            has_more=start + size <= count,
            remaining=max(0, count - start - size + 1),
            products=[make(i) for i in range(start, start + size)],
            **extra,
        )
