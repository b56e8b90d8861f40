"""What ingest needs of outlet prices: the outlet's override history next to the chain's
price history, and the two merged into the prices the outlet's tills had.

The override history is read in the same statement as the chain's
(:func:`outlet_history_rows` is one more part of ``sync/ingest/context.py``'s UNION ALL,
its rows told apart by a NULL chain price), so a push costs no extra round trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import BigInteger, BindParameter, Integer, Select, Table, null, select
from sqlalchemy import cast as sql_cast

from sync_server.catalog.price_history import PricePoint
from sync_server.outlets.models import OutletPriceHistory

HISTORY = cast(Table, OutletPriceHistory.__table__)


@dataclass(frozen=True, slots=True)
class OutletPoint:
    """An override set (``price``) or cleared (None) from ``valid_from`` and ``change_no``."""

    price: int | None
    valid_from: datetime
    change_no: int


def outlet_history_rows(
    product_ids: BindParameter[Any], store_id: BindParameter[Any]
) -> Select[Any]:
    """The store's override history of ``product_ids`` in the columns of the chain's
    price-history query: ``(product_id, NULL, NULL, id, price, NULL, valid_from,
    change_no)``; the NULL chain price marks the row as an outlet's."""
    return select(
        HISTORY.c.product_id,
        sql_cast(null(), BigInteger),
        sql_cast(null(), Integer),
        HISTORY.c.id,
        HISTORY.c.price,
        sql_cast(null(), Integer),
        HISTORY.c.valid_from,
        HISTORY.c.change_no,
    ).where(HISTORY.c.product_id.in_(product_ids), HISTORY.c.store_id == store_id)


def effective_points(
    chain: Sequence[PricePoint], outlet: Sequence[OutletPoint] | None
) -> Sequence[PricePoint]:
    """The prices the outlet's tills had, oldest first: the chain's points, and one more
    at each override set or cleared, priced at the override while one is in force.

    Each point keeps the change number a till must have pulled to know it, so "the price
    at the till's cursor" stays the newest point at or below the cursor.
    """
    if not outlet:
        return chain
    events: list[tuple[int, int, PricePoint | OutletPoint]] = [(p.change_no, 0, p) for p in chain]
    events += [(o.change_no, 1, o) for o in outlet]
    events.sort(key=lambda e: (e[0], e[1]))
    merged: list[PricePoint] = []
    current: PricePoint | None = None
    override: int | None = None
    for change_no, _, point in events:
        if isinstance(point, PricePoint):
            current = point
        else:
            override = point.price
        if current is None:
            continue
        price = current.price if override is None else override
        merged.append(PricePoint(price, current.tax_rate_bp, point.valid_from, change_no))
    return merged or chain
