"""Catalog logic: categories, tax rates, products and vouchers (stores: ``sync_server.stores``).

Every public function is one unit of work (``core.database.unit_of_work``): given the
app's database it commits before it returns. Every create or update stamps the changed
rows with fresh change numbers (reserved late, just before the commit) so tills pulling
``change_no > cursor`` see them. Nothing is ever deleted: rows are deactivated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.barcodes import barcode_error, barcode_problem
from shared.models import (
    CategoryIn,
    CategoryOut,
    ProductIn,
    ProductOut,
    ProductPatch,
    TaxRateIn,
    TaxRateOut,
    VoucherIn,
    VoucherKind,
    VoucherOut,
)
from sync_server.catalog.models import Category, Product, TaxRate, Voucher
from sync_server.catalog.schemas import (
    CategoryPatch,
    ProductPage,
    TaxRatePatch,
    VoucherPatch,
)
from sync_server.core.database import next_change_numbers, unit_of_work, utcnow
from sync_server.core.errors import Conflict, Invalid, NotFound

MAX_PAGE = 500
"""Most products one list call returns."""

# The sentence of a bad barcode in the catalog, by shared.barcodes' problem code.
_BARCODE_MESSAGES = {
    "barcode_empty": "bad_barcode_empty",
    "barcode_check_digit": "bad_barcode_check_digit",
    "barcode_length": "bad_barcode_length",
    "barcode_charset": "bad_barcode_charset",
}


class _Versioned(Protocol):
    change_no: int


def stamp_change_numbers(session: Session, rows: Sequence[_Versioned]) -> None:
    """Give each row its own new change number, reserved in one call.

    Call it after every other check of the transaction, just before it commits: the
    change counter stays locked from here until the commit.
    """
    if not rows:
        return
    # No autoflush: the rows are written once, with their numbers, by the caller's flush.
    with session.no_autoflush:
        first = next_change_numbers(session, len(rows))
    for offset, row in enumerate(rows):
        row.change_no = first + offset


def conflict_from_integrity_error(exc: IntegrityError) -> Conflict:
    """Turn a unique-constraint violation into the 409 a person can act on."""
    text = str(exc.orig).lower()
    for needle, code, message_code in (
        ("barcode", "barcode_taken", "barcode_used"),
        ("sku", "sku_taken", "sku_used"),
        ("categories", "category_taken", "category_name_used"),
        ("tax_rates", "tax_code_taken", "tax_code_used"),
        ("vouchers", "voucher_code_taken", "voucher_code_used"),
    ):
        if needle in text:
            return Conflict(message_code, code=code)
    return Conflict("conflict_stored")


def _flush(session: Session) -> None:
    # The service checks come first; the unique constraints catch what a concurrent
    # writer slipped in between check and insert.
    try:
        session.flush()
    except IntegrityError as exc:
        raise conflict_from_integrity_error(exc) from exc


def _apply(row: object, changes: dict[str, Any]) -> bool:
    """Set the attributes that differ; True when anything changed."""
    changed = False
    for key, value in changes.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    return changed


_Row = TypeVar("_Row", bound=Category | TaxRate | Product | Voucher)


def _locked_row(
    session: Session, model: type[_Row], row_id: int, *, message_code: str, param: str
) -> _Row:
    """The row ``row_id`` of ``model``, locked for the update; 404 ``message_code``
    (with the id as ``param``) when there is none."""
    row = session.get(model, row_id, with_for_update=True)
    if row is None:
        params: dict[str, Any] = {param: row_id}
        raise NotFound(message_code, details={"id": row_id}, **params)
    return row


_Out = TypeVar("_Out", bound=BaseModel)


def _all(session: Session, model: type[_Row], *, order_by: Any, out: type[_Out]) -> list[_Out]:
    """Every row of ``model``, active or not, in ``order_by`` order, as ``out``."""
    rows = session.scalars(select(model).order_by(order_by)).all()
    return [out.model_validate(row, from_attributes=True) for row in rows]


def _changes(patch: BaseModel, *, nullable: set[str]) -> dict[str, Any]:
    """The fields ``patch`` sets; 422 ``field_not_null`` for a null outside ``nullable``."""
    changes = patch.model_dump(exclude_unset=True)
    not_nullable = sorted(k for k, v in changes.items() if v is None and k not in nullable)
    if not_nullable:
        raise Invalid("field_not_null", details={"fields": not_nullable}, field=not_nullable[0])
    return changes


def _insert(session: Session, row: _Row, *, out: type[_Out]) -> _Out:
    """Add a new row with its change number (the unique constraints checked on flush);
    the row as ``out``."""
    session.add(row)
    stamp_change_numbers(session, [row])
    _flush(session)
    return out.model_validate(row, from_attributes=True)


def _save(session: Session, row: _Versioned, changes: dict[str, Any]) -> None:
    """Apply ``changes``; a row that really changed gets a new change number."""
    if _apply(row, changes):
        stamp_change_numbers(session, [row])
        _flush(session)


@dataclass(frozen=True)
class _UniqueKey:
    """The value a person types that must be unique in its table (a category's name, a
    tax rate's or voucher's code): how it is tidied and the 409 a clash answers.

    The unique constraint stays the last word; :meth:`claim` gives the clear message first.
    """

    model: type[Category] | type[TaxRate] | type[Voucher]
    field: str
    conflict: str
    param: str
    not_found: str
    id_param: str
    upper: bool = False
    ignore_case: bool = False
    quoted: bool = True
    empty: str | None = None

    def claim(self, session: Session, raw: str, *, exclude_id: int | None) -> str:
        """``raw`` tidied; 422 ``empty`` when nothing is left, 409 when another row
        (not ``exclude_id``) holds it."""
        value = raw.strip().upper() if self.upper else raw.strip()
        if not value and self.empty is not None:
            raise Invalid(self.empty, details={"field": self.field})
        column = getattr(self.model, self.field)
        # Case-insensitive on both databases (MariaDB's collation is; SQLite's is not).
        match = func.lower(column) == value.lower() if self.ignore_case else column == value
        query = select(self.model.id).where(match)
        if exclude_id is not None:
            query = query.where(self.model.id != exclude_id)
        if session.scalar(query) is not None:
            params: dict[str, Any] = {self.param: repr(value) if self.quoted else value}
            raise Conflict(self.conflict, code=self.conflict, details={self.field: value}, **params)
        return value

    def claim_change(self, session: Session, changes: dict[str, Any], *, row_id: int) -> None:
        """Tidy and check the key in ``changes`` (an edit of row ``row_id``), when it is there."""
        if self.field in changes:
            changes[self.field] = self.claim(session, changes[self.field], exclude_id=row_id)


def _edit(
    session: Session,
    key: _UniqueKey,
    row_id: int,
    patch: BaseModel,
    *,
    out: type[_Out],
) -> _Out:
    """Apply ``patch`` to the row ``row_id`` of ``key``'s table, whose one checked field is
    ``key`` (fields left out or null stay); 404 ``key.not_found`` when there is none."""
    row = _locked_row(session, key.model, row_id, message_code=key.not_found, param=key.id_param)
    changes = patch.model_dump(exclude_unset=True, exclude_none=True)
    key.claim_change(session, changes, row_id=row.id)
    _save(session, row, changes)
    return out.model_validate(row, from_attributes=True)


# model, field, 409 code, its parameter, 404 code, its parameter; how the value is tidied
_CATEGORY_NAME = _UniqueKey(
    Category,
    "name",
    "category_taken",
    "name",
    "category_not_found",
    "category_id",
    ignore_case=True,
    empty="category_name_empty",
)
_TAX_CODE = _UniqueKey(
    TaxRate, "code", "tax_code_taken", "tax_code", "tax_rate_not_found", "tax_rate_id", upper=True
)
_VOUCHER_CODE = _UniqueKey(
    Voucher,
    "code",
    "voucher_code_taken",
    "voucher_code",
    "voucher_not_found",
    "voucher_id",
    upper=True,
    quoted=False,
)


# --- categories -----------------------------------------------------------------


@unit_of_work
def list_categories(session: Session) -> list[CategoryOut]:
    """Every category, active or not, by name."""
    return _all(session, Category, order_by=Category.name, out=CategoryOut)


@unit_of_work
def create_category(session: Session, *, data: CategoryIn) -> CategoryOut:
    """Create a category; its name must be unique (ignoring case)."""
    name = _CATEGORY_NAME.claim(session, data.name, exclude_id=None)
    row = Category(name=name, active=data.active)
    return _insert(session, row, out=CategoryOut)


@unit_of_work
def update_category(session: Session, *, category_id: int, patch: CategoryPatch) -> CategoryOut:
    """Rename or (de)activate a category."""
    return _edit(session, _CATEGORY_NAME, category_id, patch, out=CategoryOut)


# --- tax rates ------------------------------------------------------------------


@unit_of_work
def list_tax_rates(session: Session) -> list[TaxRateOut]:
    """Every tax rate, active or not, by code."""
    return _all(session, TaxRate, order_by=TaxRate.code, out=TaxRateOut)


@unit_of_work
def create_tax_rate(session: Session, *, data: TaxRateIn) -> TaxRateOut:
    """Create a tax rate. Codes are kept upper-case so CSV files can name them in any case."""
    code = _TAX_CODE.claim(session, data.code, exclude_id=None)
    row = TaxRate(
        code=code,
        name=data.name.strip(),
        rate_bp=data.rate_bp,
        inclusive=data.inclusive,
        active=data.active,
    )
    return _insert(session, row, out=TaxRateOut)


@unit_of_work
def update_tax_rate(session: Session, *, tax_rate_id: int, patch: TaxRatePatch) -> TaxRateOut:
    """Edit a tax rate; products keep pointing at it, so tills re-price with the new rate."""
    return _edit(session, _TAX_CODE, tax_rate_id, patch, out=TaxRateOut)


# --- products -------------------------------------------------------------------


def _product_out(row: Product) -> ProductOut:
    return ProductOut.model_validate(row, from_attributes=True)


def normalise_barcode(raw: str | None) -> str | None:
    """Strip a barcode; empty means none. Raises 422 ``bad_barcode`` when it is invalid."""
    if raw is None or not raw.strip():
        return None
    code = raw.strip()
    problem = barcode_problem(code)
    if problem is not None:
        message_code, params = problem
        raise Invalid(
            _BARCODE_MESSAGES[message_code],
            code="bad_barcode",
            details={"field": "barcode", "barcode": code, "reason": barcode_error(code)},
            barcode=code,
            **params,
        )
    return code


def _check_references(
    session: Session, *, category_id: int | None, tax_rate_id: int | None
) -> None:
    if category_id is not None and session.get(Category, category_id) is None:
        raise Invalid(
            "category_not_found",
            category_id=category_id,
            code="unknown_category",
            details={"field": "category_id", "id": category_id},
        )
    if tax_rate_id is not None and session.get(TaxRate, tax_rate_id) is None:
        raise Invalid(
            "tax_rate_not_found",
            tax_rate_id=tax_rate_id,
            code="unknown_tax_rate",
            details={"field": "tax_rate_id", "id": tax_rate_id},
        )


def _ensure_unique(
    session: Session, *, sku: str | None, barcode: str | None, exclude_id: int | None
) -> None:
    for column, value, code in (
        (Product.sku, sku, "sku_taken"),
        (Product.barcode, barcode, "barcode_taken"),
    ):
        if value is None:
            continue
        query = select(Product.id, Product.name).where(column == value)
        if exclude_id is not None:
            query = query.where(Product.id != exclude_id)
        other = session.execute(query).first()
        if other is not None:
            field = column.key
            raise Conflict(
                "product_value_taken",
                code=code,
                details={"field": field, "value": value, "product_id": other.id},
                field=field,
                value=value,
                product_name=repr(other.name),
            )


def _search_filter(query: Select[Any], q: str) -> Select[Any]:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return query.where(
        or_(
            Product.name.ilike(f"%{escaped}%", escape="\\"),
            Product.sku.ilike(f"{escaped}%", escape="\\"),
            Product.barcode == q,
        )
    )


@unit_of_work
def list_products(
    session: Session,
    *,
    q: str | None = None,
    category_id: int | None = None,
    active: bool | None = None,
    limit: int = 50,
    offset: int = 0,
    after_id: int | None = None,
) -> ProductPage:
    """A page of products by id, optionally searched by name, SKU prefix or exact barcode.

    Page with ``offset`` or, for big catalogs, with ``after_id`` (the last id seen).
    """
    limit = max(1, min(limit, MAX_PAGE))
    filtered: Select[Any] = select(Product)
    if q and q.strip():
        filtered = _search_filter(filtered, q.strip())
    if category_id is not None:
        filtered = filtered.where(Product.category_id == category_id)
    if active is not None:
        filtered = filtered.where(Product.active == active)
    total = session.scalar(select(func.count()).select_from(filtered.subquery())) or 0
    page = filtered.order_by(Product.id).limit(limit)
    page = page.where(Product.id > after_id) if after_id is not None else page.offset(offset)
    rows = session.scalars(page).all()
    return ProductPage(
        items=[_product_out(row) for row in rows],
        total=total,
        limit=limit,
        offset=offset if after_id is None else 0,
        next_after_id=rows[-1].id if len(rows) == limit else None,
    )


def _get_product_row(session: Session, product_id: int, *, for_update: bool = False) -> Product:
    row = session.get(Product, product_id, with_for_update=for_update)
    if row is None:
        raise NotFound("product_id_not_found", details={"id": product_id}, product_id=product_id)
    return row


@unit_of_work
def get_product(session: Session, *, product_id: int) -> ProductOut:
    """One product by id (404 when unknown)."""
    return _product_out(_get_product_row(session, product_id))


@unit_of_work
def create_product(session: Session, *, data: ProductIn) -> ProductOut:
    """Create a product after checking its barcode, references and unique SKU/barcode."""
    sku = data.sku.strip()
    name = data.name.strip()
    if not sku or not name:
        raise Invalid("sku_name_blank", details={"fields": ["sku", "name"]})
    barcode = normalise_barcode(data.barcode)
    _check_references(session, category_id=data.category_id, tax_rate_id=data.tax_rate_id)
    _ensure_unique(session, sku=sku, barcode=barcode, exclude_id=None)
    row = Product(
        sku=sku,
        barcode=barcode,
        name=name,
        category_id=data.category_id,
        unit=data.unit.strip() or "pcs",
        price=data.price,
        tax_rate_id=data.tax_rate_id,
        active=data.active,
        low_stock_threshold=data.low_stock_threshold,
        updated_at=utcnow(),
    )
    return _insert(session, row, out=ProductOut)


@unit_of_work
def update_product(session: Session, *, product_id: int, patch: ProductPatch) -> ProductOut:
    """Change the given fields of a product. ``barcode``, ``category_id`` and
    ``tax_rate_id`` may be set to null explicitly to clear them."""
    row = _get_product_row(session, product_id, for_update=True)
    changes = _changes(patch, nullable={"barcode", "category_id", "tax_rate_id"})
    for key in ("sku", "name", "unit"):
        if key in changes:
            changes[key] = changes[key].strip()
            if not changes[key]:
                raise Invalid("field_blank", details={"field": key}, field=key)
    if "barcode" in changes:
        changes["barcode"] = normalise_barcode(changes["barcode"])
    _check_references(
        session,
        category_id=changes.get("category_id"),
        tax_rate_id=changes.get("tax_rate_id"),
    )
    _ensure_unique(
        session, sku=changes.get("sku"), barcode=changes.get("barcode"), exclude_id=row.id
    )
    if _apply(row, changes):
        row.updated_at = utcnow()
        stamp_change_numbers(session, [row])
        _flush(session)
    return _product_out(row)


@unit_of_work
def deactivate_product(session: Session, *, product_id: int) -> ProductOut:
    """Take a product off sale (never deleted: old sales still point at it)."""
    return update_product(session, product_id=product_id, patch=ProductPatch(active=False))


# --- vouchers -------------------------------------------------------------------


def _voucher_out(row: Voucher) -> VoucherOut:
    return VoucherOut.model_validate(row, from_attributes=True)


def _check_voucher(
    *, kind: str, value: int, valid_from: datetime | None, valid_until: datetime | None
) -> None:
    if kind == VoucherKind.PERCENT and value > 10_000:
        raise Invalid(
            "bad_voucher_value",
            code="bad_voucher_value",
            details={"field": "value", "value": value},
        )
    for field, moment in (("valid_from", valid_from), ("valid_until", valid_until)):
        if moment is not None and moment.tzinfo is None:
            raise Invalid(
                "naive_datetime",
                field=field,
                code="naive_datetime",
                details={"field": field},
            )
    if valid_from is not None and valid_until is not None and valid_from >= valid_until:
        raise Invalid(
            "bad_validity",
            code="bad_validity",
            details={"valid_from": valid_from.isoformat(), "valid_until": valid_until.isoformat()},
        )


def _utc(moment: datetime | None) -> datetime | None:
    return moment.astimezone(UTC) if moment is not None else None


@unit_of_work
def list_vouchers(session: Session) -> list[VoucherOut]:
    """Every voucher, active or not, by code."""
    return _all(session, Voucher, order_by=Voucher.code, out=VoucherOut)


@unit_of_work
def create_voucher(session: Session, *, data: VoucherIn) -> VoucherOut:
    """Create a voucher. Codes are kept upper-case: cashiers type them."""
    _check_voucher(
        kind=data.kind, value=data.value, valid_from=data.valid_from, valid_until=data.valid_until
    )
    code = _VOUCHER_CODE.claim(session, data.code, exclude_id=None)
    row = Voucher(
        code=code,
        kind=data.kind.value,
        value=data.value,
        valid_from=_utc(data.valid_from),
        valid_until=_utc(data.valid_until),
        min_spend=data.min_spend,
        usage_limit=data.usage_limit,
        used_count=0,
        active=data.active,
    )
    return _insert(session, row, out=VoucherOut)


@unit_of_work
def update_voucher(session: Session, *, voucher_id: int, patch: VoucherPatch) -> VoucherOut:
    """Edit a voucher; the result must still be a valid voucher."""
    row = _locked_row(
        session,
        Voucher,
        voucher_id,
        message_code=_VOUCHER_CODE.not_found,
        param=_VOUCHER_CODE.id_param,
    )
    changes = _changes(patch, nullable={"valid_from", "valid_until", "usage_limit"})
    _VOUCHER_CODE.claim_change(session, changes, row_id=row.id)
    if "kind" in changes:
        changes["kind"] = VoucherKind(changes["kind"]).value
    _check_voucher(
        kind=changes.get("kind", row.kind),
        value=changes.get("value", row.value),
        valid_from=changes.get("valid_from", row.valid_from),
        valid_until=changes.get("valid_until", row.valid_until),
    )
    for key in ("valid_from", "valid_until"):
        if key in changes:
            changes[key] = _utc(changes[key])
    _save(session, row, changes)
    return _voucher_out(row)


# --- lookups for forms ----------------------------------------------------------


def product_ids_by_code(
    session: Session, *, codes: Sequence[str]
) -> tuple[dict[str, int], list[str]]:
    """Product ids of SKUs or barcodes typed on a form, and the codes nobody knows."""
    wanted = sorted({c.strip() for c in codes if c.strip()})
    found: dict[str, int] = {}
    if wanted:
        rows = session.execute(
            select(Product.id, Product.sku, Product.barcode).where(
                or_(Product.sku.in_(wanted), Product.barcode.in_(wanted))
            )
        ).all()
        for pid, sku, barcode in rows:
            if sku in wanted:
                found[sku] = pid
            if barcode in wanted:
                found[barcode] = pid
    return found, [c for c in wanted if c not in found]
