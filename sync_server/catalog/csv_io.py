"""Bulk product import and export as CSV.

Columns: ``sku,barcode,name,category,unit,price,tax_code,active,low_stock_threshold``.
The header is required (line 1); ``sku``, ``name`` and ``price`` must be among its
columns, the others are optional. Rows are upserted by SKU. Every bad line is reported
with its line number and all its problems while every good line is imported.

Built for big files: the existing SKUs and barcodes are read in one query, rows are
written with executemany, and change numbers are reserved once for the whole file.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.barcodes import barcode_problem
from shared.messages import Language, render
from shared.models import ImportLineError, ImportResult
from sync_server.catalog.models import Category, Product, TaxRate
from sync_server.core.database import next_change_numbers, unit_of_work, utcnow
from sync_server.core.errors import Conflict, Invalid

COLUMNS = (
    "sku",
    "barcode",
    "name",
    "category",
    "unit",
    "price",
    "tax_code",
    "active",
    "low_stock_threshold",
)
"""The columns of the product CSV, in the order export writes them."""

REQUIRED_COLUMNS = ("sku", "name", "price")

MAX_LINES = 200_000
"""Most data lines one import accepts."""

MAX_PRICE = 1_000_000_000_000

_TRUE = {"1", "true", "yes", "y", "ya", "aktif"}
_FALSE = {"0", "false", "no", "n", "tidak", "nonaktif"}
_DIGITS = re.compile(r"[0-9]+")

_DEFAULTS: dict[str, Any] = {
    "barcode": None,
    "category_id": None,
    "unit": "pcs",
    "tax_rate_id": None,
    "active": True,
    "low_stock_threshold": 0,
}


_Problem = tuple[str, dict[str, Any]]
"""A problem on a line: its message code and parameters."""


def _line_error(number: int, problems: list[_Problem], language: Language) -> ImportLineError:
    return ImportLineError(
        line=number, errors=[render(code, params, language) for code, params in problems]
    )


@dataclass
class _Line:
    """One good data line, its values keyed by product field."""

    number: int
    sku_key: str
    values: dict[str, Any] = field(default_factory=dict)
    new_category: str | None = None


@dataclass
class _Catalog:
    """What is stored, read once at the start of an import."""

    products: dict[str, Any]  # sku casefolded -> row
    barcode_owner: dict[str, str]  # barcode -> sku casefolded
    categories: dict[str, int]  # name casefolded -> id
    tax_codes: dict[str, int]  # code upper -> id

    @classmethod
    def load(cls, session: Session) -> _Catalog:
        rows = session.execute(
            select(
                Product.id,
                Product.sku,
                Product.barcode,
                Product.name,
                Product.category_id,
                Product.unit,
                Product.price,
                Product.tax_rate_id,
                Product.active,
                Product.low_stock_threshold,
            )
        ).all()
        return cls(
            products={row.sku.casefold(): row for row in rows},
            barcode_owner={row.barcode: row.sku.casefold() for row in rows if row.barcode},
            categories={
                name.casefold(): id_
                for id_, name in session.execute(select(Category.id, Category.name))
            },
            tax_codes={
                code.upper(): id_ for id_, code in session.execute(select(TaxRate.id, TaxRate.code))
            },
        )


def _read_header(reader: Any) -> list[str]:
    try:
        raw = next(reader)
    except StopIteration:
        raise Invalid("empty_csv", code="empty_csv") from None
    header = [name.strip().lower() for name in raw]
    unknown = [name for name in header if name not in COLUMNS]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    doubled = sorted({name for name in header if header.count(name) > 1})
    if unknown or missing or doubled:
        raise Invalid(
            "bad_csv_header",
            columns=",".join(COLUMNS),
            code="bad_csv_header",
            details={"unknown": unknown, "missing": missing, "repeated": doubled},
        )
    return header


def _delimiter(text: str) -> str:
    # Spreadsheets set to Indonesian write ';' because ',' is the decimal separator.
    first = text.split("\n", 1)[0]
    return ";" if first.count(";") > first.count(",") else ","


def _parse_line(
    number: int,
    cells: dict[str, str],
    catalog: _Catalog,
    seen_skus: dict[str, int],
    seen_barcodes: dict[str, int],
) -> tuple[_Line | None, list[_Problem]]:
    """Check one line; the good values, or every problem found on it."""
    errors: list[_Problem] = []
    values: dict[str, Any] = {}
    new_category: str | None = None

    sku = cells["sku"].strip()
    sku_key = sku.casefold()
    if not sku:
        errors.append(("csv_sku_missing", {}))
    elif len(sku) > 64:
        errors.append(("csv_value_too_long", {"column": "sku", "max_length": 64}))
    elif sku_key in seen_skus:
        errors.append(("csv_sku_repeated", {"sku": sku, "other_line": seen_skus[sku_key]}))
    else:
        seen_skus[sku_key] = number
    values["sku"] = sku

    name = cells["name"].strip()
    if not name:
        errors.append(("csv_name_missing", {}))
    elif len(name) > 200:
        errors.append(("csv_value_too_long", {"column": "name", "max_length": 200}))
    values["name"] = name

    price = cells["price"].strip()
    if not price:
        errors.append(("csv_price_missing", {}))
    elif price.startswith("-"):
        errors.append(("csv_price_negative", {"price": price}))
    elif not _DIGITS.fullmatch(price):
        errors.append(("csv_price_not_whole", {"price": price}))
    elif int(price) > MAX_PRICE:
        errors.append(("csv_price_too_large", {"price": price}))
    else:
        values["price"] = int(price)

    if "barcode" in cells:
        barcode = cells["barcode"].strip() or None
        if barcode is not None:
            problem = barcode_problem(barcode) if len(barcode) <= 64 else ("barcode_too_long", {})
            owner = catalog.barcode_owner.get(barcode)
            if problem:
                why, params = problem
                errors.append(("csv_barcode_invalid", {"barcode": barcode, "why": why, **params}))
            elif barcode in seen_barcodes:
                errors.append(
                    (
                        "csv_barcode_repeated",
                        {"barcode": barcode, "other_line": seen_barcodes[barcode]},
                    )
                )
            elif owner is not None and owner != sku_key:
                errors.append(
                    ("csv_barcode_taken", {"barcode": barcode, "sku": catalog.products[owner].sku})
                )
            seen_barcodes.setdefault(barcode, number)
        values["barcode"] = barcode

    if "category" in cells:
        category = cells["category"].strip()
        if len(category) > 100:
            errors.append(("csv_value_too_long", {"column": "category", "max_length": 100}))
        elif category:
            category_id = catalog.categories.get(category.casefold())
            if category_id is None:
                new_category = category
            values["category_id"] = category_id
        else:
            values["category_id"] = None

    if "unit" in cells:
        unit = cells["unit"].strip() or "pcs"
        if len(unit) > 16:
            errors.append(("csv_value_too_long", {"column": "unit", "max_length": 16}))
        values["unit"] = unit

    if "tax_code" in cells:
        tax_code = cells["tax_code"].strip().upper()
        if tax_code and tax_code not in catalog.tax_codes:
            known = ", ".join(sorted(catalog.tax_codes)) or "csv_no_tax_codes"
            errors.append(("csv_tax_code_unknown", {"tax_code": tax_code, "known": known}))
        values["tax_rate_id"] = catalog.tax_codes.get(tax_code) if tax_code else None

    if "active" in cells:
        active = cells["active"].strip().lower()
        if not active or active in _TRUE:
            values["active"] = True
        elif active in _FALSE:
            values["active"] = False
        else:
            errors.append(("csv_active_not_boolean", {"active": cells["active"].strip()}))

    if "low_stock_threshold" in cells:
        threshold = cells["low_stock_threshold"].strip()
        if not threshold:
            values["low_stock_threshold"] = 0
        elif _DIGITS.fullmatch(threshold) and int(threshold) <= 2**31 - 1:
            values["low_stock_threshold"] = int(threshold)
        else:
            errors.append(("csv_threshold_not_whole", {"threshold": threshold}))

    if errors:
        return None, errors
    return _Line(number=number, sku_key=sku_key, values=values, new_category=new_category), []


@unit_of_work
def import_products_csv(session: Session, *, text: str, language: Language = "en") -> ImportResult:
    """Upsert products from CSV ``text`` by SKU; report each bad line with all its errors.

    The line problems are written in ``language`` (English for the API, Bahasa Indonesia
    for the back office).

    Good lines are written even when others fail. A missing category is created;
    tax rates are found by code. Lines identical to what is stored change nothing
    (and are counted neither as created nor updated), so re-importing a file is cheap
    and does not make every till download the catalog again.
    """
    text = text.removeprefix("\ufeff")  # a byte-order mark from Excel
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    header = _read_header(reader)
    catalog = _Catalog.load(session)
    seen_skus: dict[str, int] = {}
    seen_barcodes: dict[str, int] = {}
    good: list[_Line] = []
    failed: list[ImportLineError] = []
    last_line = reader.line_num
    for record in reader:
        number, last_line = last_line + 1, reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if number > MAX_LINES + 1:
            raise Invalid("csv_too_long", code="csv_too_long", max_lines=MAX_LINES)
        if len(record) != len(header):
            problem = ("csv_field_count", {"fields": len(record), "expected": len(header)})
            failed.append(_line_error(number, [problem], language))
            continue
        line, errors = _parse_line(
            number, dict(zip(header, record, strict=True)), catalog, seen_skus, seen_barcodes
        )
        if line is None:
            failed.append(_line_error(number, errors, language))
        else:
            good.append(line)

    creates: list[_Line] = []
    updates: list[tuple[_Line, int]] = []
    for line in good:
        stored = catalog.products.get(line.sku_key)
        if stored is None:
            creates.append(line)
        elif line.new_category is not None or any(
            getattr(stored, key) != value for key, value in line.values.items()
        ):
            updates.append((line, stored.id))
    new_categories: dict[str, str] = {}
    for line in good:
        if line.new_category is not None:
            new_categories.setdefault(line.new_category.casefold(), line.new_category)

    changed = len(new_categories) + len(creates) + len(updates)
    if changed:
        try:
            _write(session, catalog, new_categories, creates, updates, changed)
        except IntegrityError as exc:
            raise Conflict("import_conflict", code="import_conflict") from exc
    return ImportResult(created=len(creates), updated=len(updates), failed=failed)


def _write(
    session: Session,
    catalog: _Catalog,
    new_categories: dict[str, str],
    creates: list[_Line],
    updates: list[tuple[_Line, int]],
    changed: int,
) -> None:
    # Reserved once for the whole file, after every check: the counter stays locked
    # only for the writes themselves.
    numbers = count(next_change_numbers(session, changed))
    now = utcnow()
    if new_categories:
        session.execute(
            insert(Category),
            [
                {"name": name, "active": True, "change_no": next(numbers)}
                for name in new_categories.values()
            ],
        )
        for id_, name in session.execute(
            select(Category.id, Category.name).where(Category.name.in_(new_categories.values()))
        ):
            catalog.categories[name.casefold()] = id_

    def resolved(line: _Line) -> dict[str, Any]:
        values = dict(line.values)
        if line.new_category is not None:
            values["category_id"] = catalog.categories[line.new_category.casefold()]
        return values

    if creates:
        session.execute(
            insert(Product),
            [
                {**_DEFAULTS, **resolved(line), "change_no": next(numbers), "updated_at": now}
                for line in creates
            ],
        )
    if updates:
        # Every update sets the same columns (those in the header), so one executemany.
        session.execute(
            update(Product),
            [
                {**resolved(line), "id": product_id, "change_no": next(numbers), "updated_at": now}
                for line, product_id in updates
            ],
        )
    session.flush()


@unit_of_work
def export_products_csv(session: Session) -> str:
    """Every product as CSV in :data:`COLUMNS` order; importing it back changes nothing."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    rows = session.execute(
        select(
            Product.sku,
            Product.barcode,
            Product.name,
            Category.name.label("category"),
            Product.unit,
            Product.price,
            TaxRate.code.label("tax_code"),
            Product.active,
            Product.low_stock_threshold,
        )
        .outerjoin(Category, Category.id == Product.category_id)
        .outerjoin(TaxRate, TaxRate.id == Product.tax_rate_id)
        .order_by(Product.id)
    )
    for row in rows:
        writer.writerow(
            [
                row.sku,
                row.barcode or "",
                row.name,
                row.category or "",
                row.unit,
                row.price,
                row.tax_code or "",
                "true" if row.active else "false",
                row.low_stock_threshold,
            ]
        )
    return out.getvalue()
