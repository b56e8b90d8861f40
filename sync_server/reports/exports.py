"""Downloads of a report or a list: CSV for machines, Excel (.xlsx) for people.

Both files come from the same rows and :class:`~sync_server.reports.registry.Column`
list the page draws its table from:

* **CSV** keeps stable machine headers: the row fields' names (``sales_count``,
  ``net``, ``period_start`` …), never the Indonesian titles, so scripts reading it do
  not break when a heading is reworded. Money is whole rupiah, dates ISO
  (``2025-03-01``). An empty period still writes the header row.
* **Excel** is for the shop: the header row is the Indonesian column titles, frozen;
  money cells are whole-rupiah *numbers* with the number format ``"Rp "#,##0``;
  counts are integers; ``date`` cells are real dates shown ``dd/mm/yyyy`` and
  ``datetime`` cells real date-times shown ``dd/mm/yyyy hh:mm`` in the store's local
  time (a daily sales period is a date too); payment methods, QRIS statuses, event
  types and yes/no carry their Indonesian names. An empty period still has its header
  row.

The money format ``"Rp "#,##0`` is the locale-independent code: in a number format the
``,`` means "the thousands separator of the reader's locale", so an Excel or
LibreOffice set to Indonesian shows ``Rp 12.500`` and an English one ``Rp 12,500``;
the cell itself stays the number ``12500`` and sums like one.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, Literal

from fastapi import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from pydantic import BaseModel

from shared.timezones import DEFAULT_TIMEZONE, store_zone
from sync_server.reports.csv_export import csv_fields, rows_to_csv
from sync_server.reports.registry import Column, ColumnKind, label_of

__all__ = [
    "DATETIME_FORMAT",
    "DATE_FORMAT",
    "MONEY_FORMAT",
    "XLSX_MEDIA_TYPE",
    "ExportFormat",
    "csv_fields",
    "file_response",
    "rows_to_xlsx",
]

ExportFormat = Literal["csv", "xlsx"]

MONEY_FORMAT = '"Rp "#,##0'
"""Whole rupiah: ``Rp 12.500`` in an Indonesian spreadsheet (see the module doc)."""
NUMBER_FORMAT = "#,##0"
DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"

_MIN_WIDTH = 8
_MAX_WIDTH = 50
_WIDTH_SAMPLE = 500
"""Column widths are measured on the first rows only (bounded work on a big file)."""

_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def _sheet_title(sheet: str) -> str:
    """A valid worksheet name: at most 31 characters, none of ``[]:*?/\\``."""
    title = _SHEET_BAD.sub(" ", sheet).strip() or "Laporan"
    return title[:31]


def _local(moment: datetime, timezone: str | None) -> datetime:
    """A moment as the store reads it, without a zone (Excel has none)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(store_zone(timezone)).replace(tzinfo=None)


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _cell_value(kind: ColumnKind, value: Any, timezone: str | None) -> Any:
    """The value a cell holds: a number, a date, a label or text (None stays empty)."""
    if value is None:
        return None
    if kind in ("money", "number"):
        return int(value)
    if kind == "period" and len(str(value)) == 10:
        day = _as_date(value)  # a day's period: a real date
        if day is not None:
            return day
    label = label_of(kind, value)
    if label is not None:
        return label
    if kind == "date":
        day = _as_date(value)
        return day if day is not None else str(value)
    if kind == "datetime":
        moment = _as_datetime(value)
        return _local(moment, timezone) if moment is not None else str(value)
    if isinstance(value, bool):
        return "Ya" if value else "Tidak"
    if isinstance(value, int | float):
        return value
    return str(getattr(value, "value", value))


_FORMATS: dict[str, str] = {
    "money": MONEY_FORMAT,
    "number": NUMBER_FORMAT,
    "date": DATE_FORMAT,
    "period": DATE_FORMAT,
    "datetime": DATETIME_FORMAT,
}

_SHOWN_WIDTH: dict[str, int] = {"date": 10, "datetime": 16}


def _shown_width(kind: ColumnKind, value: Any) -> int:
    """About how many characters the cell shows (for the column's width)."""
    if value is None:
        return 0
    if isinstance(value, date):
        return _SHOWN_WIDTH["datetime" if isinstance(value, datetime) else "date"]
    if kind == "money":
        return len(f"Rp {int(value):,}")
    if kind == "number":
        return len(f"{int(value):,}")
    return len(str(value))


def rows_to_xlsx(
    rows: Sequence[BaseModel],
    columns: Sequence[Column],
    *,
    sheet: str,
    timezone: str | None = DEFAULT_TIMEZONE,
) -> bytes:
    """An Excel workbook of one sheet: the Indonesian header row (frozen), then one
    row per item with money, counts and dates as real typed cells (module doc).

    ``timezone``: the store's, for ``datetime`` columns (UTC moments are shown local).
    """
    values = [
        [_cell_value(c.kind, getattr(row, c.key, None), timezone) for c in columns] for row in rows
    ]
    widths = [max(_MIN_WIDTH, len(c.title) + 2) for c in columns]
    for line in values[:_WIDTH_SAMPLE]:
        for i, (column, value) in enumerate(zip(columns, line, strict=True)):
            widths[i] = max(widths[i], _shown_width(column.kind, value) + 2)

    book = Workbook(write_only=True)
    ws: WriteOnlyWorksheet = book.create_sheet(_sheet_title(sheet))
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = min(width, _MAX_WIDTH)
    ws.freeze_panes = "A2"

    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="E8EEF4")
    header = []
    for column in columns:
        cell = WriteOnlyCell(ws, value=column.title)
        cell.font = bold
        cell.fill = fill
        if column.kind in ("money", "number"):
            cell.alignment = Alignment(horizontal="right")
        header.append(cell)
    ws.append(header)

    formats = [_FORMATS.get(column.kind) for column in columns]
    for line in values:
        out: list[Any] = []
        for number_format, value in zip(formats, line, strict=True):
            if number_format and isinstance(value, int | date):
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = number_format
                out.append(cell)
            else:  # text: a plain value is written faster than a cell
                out.append(value)
        ws.append(out)

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _filename(name: str) -> str:
    """A safe download name (letters, digits, ``-``, ``_`` and ``.``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "laporan"


def file_response(
    fmt: ExportFormat,
    name: str,
    rows: Sequence[BaseModel],
    columns: Sequence[Column],
    *,
    sheet: str,
    csv_columns: Sequence[str] | None = None,
    timezone: str | None = DEFAULT_TIMEZONE,
) -> Response:
    """``rows`` as a download, ``name.csv`` or ``name.xlsx`` (an attachment).

    CSV headers are ``csv_columns`` (the stable machine names, see :func:`csv_fields`;
    default: the columns' keys), written even when there are no rows.
    """
    filename = _filename(name)
    if fmt == "xlsx":
        body = rows_to_xlsx(rows, columns, sheet=sheet, timezone=timezone)
        return Response(
            body,
            media_type=XLSX_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{filename}.xlsx"'},
        )
    keys = list(csv_columns) if csv_columns is not None else [c.key for c in columns]
    return Response(
        rows_to_csv(rows, columns=keys),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
    )
