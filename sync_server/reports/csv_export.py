"""Report rows as CSV a spreadsheet opens: one header row, one line per row.

The header is the rows' field names (``sales_count``, ``net``, ``period_start`` …): stable
machine names a script can rely on, never the page's Indonesian titles (the Excel file
has those). Fields come in declaration order, computed fields (``net_after_refunds``,
``average_basket``) last; money is whole rupiah, days ISO ``2025-03-01``, moments ISO
UTC. An empty answer still writes its header row. Nested lists (such as a terminal's
rejected events) are left out of the flat file; the JSON answer has them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any, get_origin

from pydantic import BaseModel


def rows_to_csv(
    rows: Sequence[BaseModel],
    *,
    columns: Sequence[str] | None = None,
    model: type[BaseModel] | None = None,
) -> str:
    """CSV text of ``rows``: the header ``columns``, by default the fields of ``model``
    (or of the first row's type; see :func:`csv_fields`), then one line per row."""
    dumped = [row.model_dump(mode="json") for row in rows]
    if columns is None:
        model = model or (type(rows[0]) if rows else None)
        columns = csv_fields(model) if model is not None else []
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for item in dumped:
        writer.writerow(["" if item.get(c) is None else item.get(c) for c in columns])
    return out.getvalue()


def csv_fields(model: type[BaseModel]) -> list[str]:
    """The CSV header of ``model``'s rows: its fields in declaration order, computed
    fields last, nested lists and objects left out (the JSON answer has them)."""
    names = []
    for name, info in model.model_fields.items():
        if _is_nested(info.annotation):
            continue
        names.append(name)
    for name, computed in model.model_computed_fields.items():
        if not _is_nested(computed.return_type):
            names.append(name)
    return names


def _is_nested(annotation: Any) -> bool:
    """A list, dict or model field (not flat: left out of the CSV)."""
    origin = get_origin(annotation)
    if origin is not None:
        return origin in (list, dict, tuple, set)
    return isinstance(annotation, type) and issubclass(annotation, list | dict | BaseModel)
