"""HTML form fields to the services' request shapes (parsing only; nothing is saved here)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.models import StoreOut
from shared.receipt_text import TEMPLATE_FIELDS
from sync_server.stock.schemas import CountIn, CountLine, ReceiveIn, ReceiveLine
from sync_server.stores.schemas import StorePatch

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
