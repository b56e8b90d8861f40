"""HTTP routes for the catalog (thin: parse, authorise, call the service).

The catalog (products and prices, categories, tax rates, vouchers) is the chain's, one
for every store: supervisors and managers read it, only an admin changes it (a manager
of one outlet must not re-price another's shelves or its PPN; docs/authorization.md).
Terminals get the catalog through sync pull, not through these routes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, File, Query, UploadFile, status
from fastapi.responses import Response

from shared.models import (
    MAX_BIGINT,
    CategoryIn,
    CategoryOut,
    Count,
    ImportResult,
    ProductIn,
    ProductOut,
    ProductPatch,
    RowId,
    TaxRateIn,
    TaxRateOut,
    VoucherIn,
    VoucherOut,
)
from sync_server.auth.deps import AdminDep, ManagerDep, SupervisorDep
from sync_server.catalog import csv_io, service
from sync_server.catalog.schemas import (
    CategoryPatch,
    ProductPage,
    TaxRatePatch,
    VoucherPatch,
)
from sync_server.core.database import DbDep
from sync_server.core.errors import Invalid, documented_errors

router = APIRouter(prefix="/api/v1", tags=["catalog"])


_errors = documented_errors(
    {
        403: "The caller's role may not do this (catalog changes: admins only).",
        404: "No such row.",
        409: "A unique value (SKU, barcode, code, name) is already taken.",
        422: "The input breaks a rule (bad barcode, unknown category...).",
    }
)


PRODUCT_EXAMPLES = {
    "indomie": {
        "summary": "A product with an EAN-13 barcode",
        "value": {
            "sku": "MI-0001",
            "barcode": "8990000010012",
            "name": "Indomie Goreng 85g",
            "category_id": 1,
            "unit": "pcs",
            "price": 3500,
            "tax_rate_id": 1,
            "low_stock_threshold": 24,
        },
    }
}

# --- categories -----------------------------------------------------------------


@router.get("/categories", summary="List categories")
def list_categories(db: DbDep, _: SupervisorDep) -> list[CategoryOut]:
    """Every category, active or not, by name."""
    return service.list_categories(db)


@router.post(
    "/categories",
    status_code=status.HTTP_201_CREATED,
    summary="Create a category",
    responses=_errors(403, 409, 422),
)
def create_category(
    data: Annotated[CategoryIn, Body(examples=[{"name": "Minuman"}])],
    db: DbDep,
    _: AdminDep,
) -> CategoryOut:
    """Create a category; names are unique ignoring case."""
    return service.create_category(db, data=data)


@router.patch(
    "/categories/{category_id}",
    summary="Rename or (de)activate a category",
    responses=_errors(403, 404, 409, 422),
)
def update_category(
    category_id: RowId,
    patch: Annotated[CategoryPatch, Body(examples=[{"name": "Minuman Dingin"}])],
    db: DbDep,
    _: AdminDep,
) -> CategoryOut:
    """Change a category's name or deactivate it (categories are never deleted)."""
    return service.update_category(db, category_id=category_id, patch=patch)


# --- tax rates ------------------------------------------------------------------


@router.get("/tax-rates", summary="List tax rates")
def list_tax_rates(db: DbDep, _: SupervisorDep) -> list[TaxRateOut]:
    """Every tax rate by code. Rates are basis points: PPN 11 % is 1100."""
    return service.list_tax_rates(db)


@router.post(
    "/tax-rates",
    status_code=status.HTTP_201_CREATED,
    summary="Create a tax rate",
    responses=_errors(403, 409, 422),
)
def create_tax_rate(
    data: Annotated[
        TaxRateIn,
        Body(examples=[{"code": "PPN", "name": "PPN 11%", "rate_bp": 1100, "inclusive": True}]),
    ],
    db: DbDep,
    _: AdminDep,
) -> TaxRateOut:
    """Create a tax class (code upper-cased); inclusive means prices already contain it."""
    return service.create_tax_rate(db, data=data)


@router.patch(
    "/tax-rates/{tax_rate_id}",
    summary="Edit a tax rate",
    responses=_errors(403, 404, 409, 422),
)
def update_tax_rate(
    tax_rate_id: RowId,
    patch: Annotated[TaxRatePatch, Body(examples=[{"rate_bp": 1200}])],
    db: DbDep,
    _: AdminDep,
) -> TaxRateOut:
    """Change a tax rate; tills re-price its products after their next pull."""
    return service.update_tax_rate(db, tax_rate_id=tax_rate_id, patch=patch)


# --- products -------------------------------------------------------------------


@router.get("/products", summary="List and search products")
def list_products(
    db: DbDep,
    _: SupervisorDep,
    q: Annotated[
        str | None,
        Query(max_length=100, description="Part of the name, a SKU prefix or an exact barcode."),
    ] = None,
    category_id: RowId | None = None,
    active: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 50,
    offset: Annotated[Count, Query()] = 0,
    after_id: Annotated[
        int | None,
        Query(ge=0, le=MAX_BIGINT, description="Keyset paging: the last id of the previous page."),
    ] = None,
) -> ProductPage:
    """A page of products ordered by id, with the total matching count."""
    return service.list_products(
        db,
        q=q,
        category_id=category_id,
        active=active,
        limit=limit,
        offset=offset,
        after_id=after_id,
    )


@router.get(
    "/products/export.csv",
    summary="Export every product as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "The product CSV."}},
)
def export_products(db: DbDep, _: ManagerDep) -> Response:
    """The whole catalog in the import format; importing it back changes nothing."""
    return Response(
        content=csv_io.export_products_csv(db),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="products.csv"'},
    )


@router.post(
    "/products/import",
    summary="Import products from a CSV file",
    responses=_errors(403, 409, 422),
)
def import_products(
    file: Annotated[
        UploadFile,
        File(
            description="CSV (UTF-8) with the header "
            "sku,barcode,name,category,unit,price,tax_code,active,low_stock_threshold"
        ),
    ],
    db: DbDep,
    _: AdminDep,
) -> ImportResult:
    """Upsert products by SKU. Good lines are imported; every bad line is listed with
    its line number (the header is line 1) and all its problems."""
    # A plain (threadpool) route: parsing and writing 10,000 rows must not block the loop.
    raw = file.file.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid("bad_encoding", code="bad_encoding") from exc
    return csv_io.import_products_csv(db, text=text)


@router.get("/products/{product_id}", summary="Get a product", responses=_errors(403, 404))
def get_product(product_id: RowId, db: DbDep, _: SupervisorDep) -> ProductOut:
    """One product by id."""
    return service.get_product(db, product_id=product_id)


@router.post(
    "/products",
    status_code=status.HTTP_201_CREATED,
    summary="Create a product",
    responses=_errors(403, 409, 422),
)
def create_product(
    data: Annotated[ProductIn, Body(openapi_examples=PRODUCT_EXAMPLES)],
    db: DbDep,
    _: AdminDep,
) -> ProductOut:
    """Create a product. The barcode's check digit is verified (EAN-13, UPC-A, EAN-8);
    SKU and barcode must be unique (409 `sku_taken` / `barcode_taken`)."""
    return service.create_product(db, data=data)


@router.patch(
    "/products/{product_id}",
    summary="Edit a product",
    responses=_errors(403, 404, 409, 422),
)
def update_product(
    product_id: RowId,
    patch: Annotated[ProductPatch, Body(examples=[{"price": 3700}])],
    db: DbDep,
    _: AdminDep,
) -> ProductOut:
    """Change only the fields given; each real change gives the product a new change number."""
    return service.update_product(db, product_id=product_id, patch=patch)


@router.post(
    "/products/{product_id}/deactivate",
    summary="Take a product off sale",
    responses=_errors(403, 404),
)
def deactivate_product(product_id: RowId, db: DbDep, _: AdminDep) -> ProductOut:
    """Deactivate a product. Products are never deleted: past sales point at them."""
    return service.deactivate_product(db, product_id=product_id)


# --- vouchers -------------------------------------------------------------------


@router.get("/vouchers", summary="List vouchers")
def list_vouchers(db: DbDep, _: SupervisorDep) -> list[VoucherOut]:
    """Every voucher by code."""
    return service.list_vouchers(db)


@router.post(
    "/vouchers",
    status_code=status.HTTP_201_CREATED,
    summary="Create a voucher",
    responses=_errors(403, 409, 422),
)
def create_voucher(
    data: Annotated[
        VoucherIn,
        Body(
            examples=[
                {
                    "code": "HEMAT10",
                    "kind": "percent",
                    "value": 1000,
                    "valid_from": "2025-01-01T00:00:00+07:00",
                    "valid_until": "2025-02-01T00:00:00+07:00",
                    "min_spend": 50000,
                }
            ]
        ),
    ],
    db: DbDep,
    _: AdminDep,
) -> VoucherOut:
    """Create a voucher: percent in basis points (1000 = 10 %) or a fixed rupiah amount."""
    return service.create_voucher(db, data=data)


@router.patch(
    "/vouchers/{voucher_id}",
    summary="Edit a voucher",
    responses=_errors(403, 404, 409, 422),
)
def update_voucher(
    voucher_id: RowId,
    patch: Annotated[VoucherPatch, Body(examples=[{"active": False}])],
    db: DbDep,
    _: AdminDep,
) -> VoucherOut:
    """Change a voucher; the result is checked like a new voucher."""
    return service.update_voucher(db, voucher_id=voucher_id, patch=patch)
