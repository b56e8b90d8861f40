"""HTML form fields to the services' request shapes (parsing only; nothing is saved here)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from pydantic import PlainValidator
from pydantic_core import PydanticCustomError

from shared.messages import render
from shared.models import StoreOut
from shared.receipt_text import TEMPLATE_FIELDS
from sync_server.stock.schemas import CountIn, CountLine, ReceiveIn, ReceiveLine
from sync_server.stores.schemas import StorePatch

# ---------------------------------------------------------------- dates

DATE_INVALID = "web_date_invalid"
"""The message code (and the validation error's type) of a date the back office refuses."""

_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})([/-])(\d{1,2})\2(\d{4})", re.ASCII)
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
FIRST_YEAR, LAST_YEAR = 1900, 2999
"""The years a typed date may name (wider ones overflow the period arithmetic)."""


def parse_web_date(value: object) -> date | None:
    """A date the manager typed or a link carried, or None for a blank field.

    Takes ``dd/mm/yyyy`` (also ``d/m/yyyy`` and ``dd-mm-yyyy``), the way the shop writes
    a day, and ISO ``yyyy-mm-dd`` (links, bookmarks and the API). Anything else raises
    :class:`ValueError` with the Indonesian sentence.
    """
    if value is None or isinstance(value, date):
        return value
    text = str(value).strip()
    if not text:
        return None
    found: date | None = None
    if (iso := _ISO.fullmatch(text)) is not None:
        year, month, day = (int(part) for part in iso.groups())
    elif (dmy := _DAY_MONTH_YEAR.fullmatch(text)) is not None:
        day, month, year = int(dmy.group(1)), int(dmy.group(3)), int(dmy.group(4))
    else:
        raise ValueError(render(DATE_INVALID, {"value": text[:40]}, "id"))
    if FIRST_YEAR <= year <= LAST_YEAR:
        try:
            found = date(year, month, day)
        except ValueError:
            found = None
    if found is None:
        raise ValueError(render(DATE_INVALID, {"value": text[:40]}, "id"))
    return found


def _web_date(value: object) -> date | None:
    try:
        return parse_web_date(value)
    except ValueError as exc:
        text = str(value).strip()[:40]
        raise PydanticCustomError(DATE_INVALID, str(exc), {"value": text}) from None


WebDate = Annotated[date | None, PlainValidator(_web_date)]
"""A date query parameter of a back-office page: ``dd/mm/yyyy`` as the forms write it, or
ISO ``yyyy-mm-dd`` as links do; blank is None. Anything else is refused (a 422 page with
the Indonesian sentence of ``web_date_invalid``)."""


def date_field_text(value: object) -> str:
    """A date (or an ISO ``yyyy-mm-dd`` string) as a date field shows it: ``31/12/2025``.

    Blank stays blank; text that is no date is shown as it is.
    """
    if value is None or value == "":
        return ""
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    try:
        found = parse_web_date(value)
    except ValueError:
        return str(value)
    return "" if found is None else f"{found:%d/%m/%Y}"


# ---------------------------------------------------------------- stock forms


@dataclass(frozen=True)
class CodeLine:
    """A product named on a form by SKU or barcode, and a quantity typed next to it."""

    code: str
    quantity: int


def parse_code_lines(
    codes: Sequence[str], quantities: Sequence[str]
) -> tuple[list[CodeLine], list[str]]:
    """Pair the SKU/barcode and quantity fields of a stock form; blank rows are skipped."""
    lines: list[CodeLine] = []
    errors: list[str] = []
    for row, (code, qty) in enumerate(zip(codes, quantities, strict=False), start=1):
        code, qty = code.strip(), qty.strip()
        if not code and not qty:
            continue
        if not code:
            errors.append(f"Baris {row}: isi SKU atau barcode.")
            continue
        try:
            value = int(qty.replace(".", ""))
        except ValueError:
            errors.append(f"Baris {row}: jumlah {qty!r} bukan bilangan bulat.")
            continue
        lines.append(CodeLine(code=code, quantity=value))
    if not lines and not errors:
        errors.append("Isi paling sedikit satu baris.")
    return lines, errors


def stock_request(
    kind: str,
    *,
    store_id: int | None,
    lines: Sequence[CodeLine],
    product_ids: Mapping[str, int],
    note: str,
) -> ReceiveIn | CountIn:
    """The stock service's request for a goods-received (``receive``) or count form."""
    if kind == "receive":
        return ReceiveIn(
            store_id=store_id,
            lines=[
                ReceiveLine(product_id=product_ids[ln.code], quantity=ln.quantity) for ln in lines
            ],
            note=note,
        )
    return CountIn(
        store_id=store_id,
        lines=[CountLine(product_id=product_ids[ln.code], counted=ln.quantity) for ln in lines],
        note=note,
    )


# ---------------------------------------------------------------- catalog forms


def product_form_values(form: Mapping[str, str]) -> dict[str, Any]:
    """HTML fields of the product form as the values ``ProductIn``/``ProductPatch`` take.

    Blank optional fields become null; rupiah may be typed with thousands dots.
    """
    values: dict[str, Any] = {
        "sku": form.get("sku", "").strip(),
        "name": form.get("name", "").strip(),
        "unit": form.get("unit", "").strip() or "pcs",
        "barcode": form.get("barcode", "").strip() or None,
        "category_id": int(form["category_id"]) if form.get("category_id") else None,
        "tax_rate_id": int(form["tax_rate_id"]) if form.get("tax_rate_id") else None,
        "active": form.get("active") in ("on", "1", "true"),
    }
    for key in ("price", "low_stock_threshold"):
        raw = form.get(key, "").strip().replace(".", "").replace("Rp", "").strip()
        values[key] = int(raw) if raw.lstrip("-").isdigit() else raw or 0
    return values


# ---------------------------------------------------------------- receipt form

RECEIPT_FIELDS = tuple(TEMPLATE_FIELDS)
"""The store fields the receipt form edits, in form order."""


def receipt_fields(store: StoreOut) -> dict[str, str]:
    """The receipt form filled in from a store."""
    return {key: str(getattr(store, key)) for key in RECEIPT_FIELDS}


def store_patch(fields: Mapping[str, str]) -> StorePatch:
    """The receipt form as an edit of the store (surrounding blanks trimmed)."""
    return StorePatch(**{key: fields.get(key, "").strip() for key in RECEIPT_FIELDS})
