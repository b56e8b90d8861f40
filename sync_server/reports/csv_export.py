"""Report rows as CSV a spreadsheet opens: one header row, one line per row.

Nested lists (such as a terminal's rejected events) are left out of the flat file;
the JSON answer has them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from pydantic import BaseModel


def rows_to_csv(rows: Sequence[BaseModel], *, columns: Sequence[str] | None = None) -> str:
    """CSV text of ``rows`` (fields in declaration order, computed fields last)."""
    dumped = [row.model_dump(mode="json") for row in rows]
    if columns is None:
        columns = [
            name
            for name, value in (dumped[0].items() if dumped else ())
            if not isinstance(value, list | dict)
        ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for item in dumped:
        writer.writerow(["" if item.get(c) is None else item.get(c) for c in columns])
    return out.getvalue()
