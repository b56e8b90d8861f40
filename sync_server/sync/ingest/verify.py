"""Step 3b of ingest: verify what a till claims, and flag what does not match.

A till may sell offline from an older catalog, so a real sale is never refused for a
price, tax rate, voucher, QRIS payment, shift or date the server cannot confirm (the
money was taken): it is applied, and a flag row (:class:`sync_server.flags.models.Flag`)
goes into the same transaction for a manager to resolve. Totals that do not add up are
still refused by the plan before any of this runs.

Prices: a line's unit price (and tax rate) must be one the product had

* at the till's ``catalog_cursor`` (the newest history row at or below it), or at the
  moment of the sale;
* without a cursor (older tills): at the moment of the sale or at any time in the
  :data:`PRICE_GRACE` before it (a till that pulled a week ago may still show it);

or the line carries a ``price_override`` approved by an active supervisor, manager or
admin of the store.

At an outlet with its own price for the product (``outlets/models.py``), "a price the
product had" is the outlet's: the override while one is in force, the chain price
before it was set and after it was cleared, each known from the change number that
set it (so a till whose cursor is below the override may still sell at the chain
price, and one above it may not).

A line rung up from an in-store label carries its ``measure`` (docs/pricing.md §9):

* a **weight** label: ``unit_price`` must be ``weighed_price(base_price, grams)``, and
  ``base_price`` (the price per kg) must be a price the product had, by the rules above;
* a **price** label: the label's price is the line's price (``unit_price`` must equal
  it). The price is trusted as the store's own scale printed it; the catalog price is
  not compared.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from shared.barcodes import MeasureKind
from shared.models import PaymentMethod, RefundIn, SaleIn, SaleLineIn
from shared.pricing import weighed_price
from sync_server.catalog.price_history import PricePoint
from sync_server.flags.models import FlagKind
from sync_server.outlets.prices import effective_points
from sync_server.payments.tripay import TripayStatus
from sync_server.sync.ingest.context import FLAGS, QRIS_USES, VOUCHER_USES, BatchContext

PRICE_GRACE = timedelta(days=7)
"""Without a catalog cursor, a price valid this long before the sale is accepted."""

FUTURE_SKEW = timedelta(days=2)
"""A sale dated further than this ahead of the server clock is flagged ``clock_skew``."""

PAST_SKEW = timedelta(days=1)
"""Slack before the store's first till was made (a till's clock may be a little behind)."""


def add_flag(
    ctx: BatchContext,
    rows: list[dict[str, Any]],
    *,
    kind: FlagKind,
    event_id: uuid.UUID,
    sale_id: uuid.UUID | None,
    cashier_id: int | None,
    moment: datetime,
    details: dict[str, Any],
) -> None:
    """Add a flag row to ``rows`` (the event's plan rows of the flags table)."""
    rows.append(
        {
            "store_id": ctx.store_id,
            "terminal_id": ctx.terminal_id,
            "kind": kind.value,
            "event_id": event_id,
            "sale_id": sale_id,
            "cashier_id": cashier_id,
            "business_date": ctx.business_date(moment),
            "details": json.dumps(details, ensure_ascii=False, sort_keys=True, default=str),
            "created_at": ctx.now,
            "resolved_at": None,
            "resolved_by": None,
            "resolution": None,
        }
    )


# ---------------------------------------------------------------- prices and tax


def _at_time(points: Sequence[PricePoint], moment: datetime) -> PricePoint:
    found = points[0]
    for point in points:
        if point.valid_from <= moment:
            found = point
    return found


def _at_cursor(points: Sequence[PricePoint], cursor: int) -> PricePoint:
    found = points[0]
    for point in points:
        if point.change_no <= cursor:
            found = point
    return found


def _in_window(points: Sequence[PricePoint], start: datetime, end: datetime) -> list[PricePoint]:
    """Points valid at some moment of ``[start, end]``."""
    chosen = []
    for point, after in zip(points, [*points[1:], None], strict=True):
        if point.valid_from <= end and (after is None or after.valid_from >= start):
            chosen.append(point)
    return chosen or [_at_time(points, end)]


def accepted_points(
    points: Sequence[PricePoint], *, moment: datetime, cursor: int | None
) -> tuple[PricePoint, list[PricePoint]]:
    """The price expected (at the cursor, else at the sale) and every price accepted."""
    at_sale = _at_time(points, moment)
    if cursor is not None:
        at_cursor = _at_cursor(points, cursor)
        return at_cursor, [at_cursor, at_sale]
    return at_sale, _in_window(points, moment - PRICE_GRACE, moment)


def _price_problems(
    line: SaleLineIn, expected: int, prices: Sequence[int]
) -> tuple[list[str], int]:
    """What is wrong with ``line``'s price (empty when nothing) and the unit price the
    server expected, given the catalog price ``expected`` and every price ``accepted``."""
    measure = line.measure
    if measure is None:
        return ([] if line.unit_price in prices else ["unit_price"]), expected
    if measure.kind is MeasureKind.PRICE:
        # The store's own scale printed the price: it is the line's price.
        return ([] if line.unit_price == measure.value else ["label_price"]), measure.value
    problems = []
    if line.unit_price != weighed_price(measure.base_price, measure.value):
        problems.append("weighed_price")
    if measure.base_price not in prices:
        problems.append("base_price")
    return problems, weighed_price(expected, measure.value)


def check_prices(
    ctx: BatchContext, sale: SaleIn
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Lines whose price, and lines whose tax rate, the server cannot confirm."""
    price_problems: list[dict[str, Any]] = []
    tax_problems: list[dict[str, Any]] = []
    for n, line in enumerate(sale.lines, start=1):
        # At an outlet with its own price, the prices its tills had (outlets/prices.py).
        points = effective_points(
            ctx.prices[line.product_id], ctx.outlet_prices.get(line.product_id)
        )
        expected, accepted = accepted_points(
            points, moment=sale.created_at, cursor=sale.catalog_cursor
        )
        prices = sorted({p.price for p in accepted})
        problems, expected_price = _price_problems(line, expected.price, prices)
        if problems:
            approver = line.price_override.approved_by if line.price_override else None
            if approver is None or not ctx.may_override_price(approver):
                problem: dict[str, Any] = {
                    "line": n,
                    "line_id": str(line.id),
                    "product_id": line.product_id,
                    "claimed": line.unit_price,
                    "expected": expected_price,
                    "accepted": prices,
                    "override_by": approver,
                    "override_refused": approver is not None,
                }
                if line.measure is not None:
                    problem["measure"] = line.measure.model_dump(mode="json")
                    problem["problems"] = problems
                price_problems.append(problem)
        rates = sorted({p.tax_rate_bp for p in accepted})
        if line.tax_rate_bp not in rates:
            tax_problems.append(
                {
                    "line": n,
                    "line_id": str(line.id),
                    "product_id": line.product_id,
                    "claimed": line.tax_rate_bp,
                    "expected": expected.tax_rate_bp,
                    "accepted": rates,
                }
            )
    return price_problems, tax_problems


# ---------------------------------------------------------------- vouchers


def check_voucher(
    ctx: BatchContext, sale: SaleIn, uses: list[dict[str, Any]]
) -> list[tuple[FlagKind, dict[str, Any]]]:
    """Count the sale's voucher use (one row in ``uses``) and say what does not hold.

    The minimum spend is compared with the lines after their own discounts, before the
    order discount: at least what the till compared, so an honest sale never fails it.
    """
    code = sale.voucher_code
    if not code:
        return []
    voucher = ctx.vouchers.get(code)
    if voucher is None:
        return [(FlagKind.VOUCHER_UNKNOWN, {"code": code})]
    voucher.uses += 1
    uses.append(
        {
            "sale_id": sale.id,
            "voucher_id": voucher.id,
            "terminal_id": ctx.terminal_id,
            "used_at": sale.created_at,
        }
    )
    found: list[tuple[FlagKind, dict[str, Any]]] = []
    problems = []
    if not voucher.active:
        problems.append("inactive")
    if voucher.valid_from is not None and sale.created_at < voucher.valid_from:
        problems.append("not_yet_valid")
    if voucher.valid_until is not None and sale.created_at > voucher.valid_until:
        problems.append("expired")
    spend = sum(line.unit_price * line.quantity - line.discount for line in sale.lines)
    if spend < voucher.min_spend:
        problems.append("below_min_spend")
    if problems:
        found.append(
            (
                FlagKind.VOUCHER_INVALID,
                {
                    "code": code,
                    "problems": problems,
                    "valid_from": voucher.valid_from,
                    "valid_until": voucher.valid_until,
                    "min_spend": voucher.min_spend,
                    "spend": spend,
                },
            )
        )
    if voucher.usage_limit is not None and voucher.uses > voucher.usage_limit:
        found.append(
            (
                FlagKind.VOUCHER_OVERUSED,
                {"code": code, "usage_limit": voucher.usage_limit, "use_number": voucher.uses},
            )
        )
    return found


# ---------------------------------------------------------------- QRIS


def check_qris(ctx: BatchContext, sale: SaleIn, uses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """QRIS payments not backed by a PAID order of this terminal, of the same amount,
    paying no other sale. A verified one takes its order (one row in ``uses``)."""
    problems: list[dict[str, Any]] = []
    for pay in sale.payments:
        if pay.method is not PaymentMethod.QRIS:
            continue
        order = ctx.orders.get(pay.order_id or "") or ctx.orders.get(pay.reference or "")
        claim: dict[str, Any] = {
            "payment_id": str(pay.id),
            "order_id": pay.order_id,
            "reference": pay.reference,
            "claimed_amount": pay.amount,
        }
        if order is None:
            problem = "no_reference" if not (pay.order_id or pay.reference) else "unknown_order"
            problems.append({**claim, "problem": problem})
            continue
        extra: dict[str, Any]
        if order.status != TripayStatus.PAID.value:
            problem, extra = "not_paid", {"status": order.status}
        elif order.terminal_id != ctx.terminal_id:
            problem, extra = "other_terminal", {}
        elif order.amount != pay.amount:
            problem, extra = "amount_mismatch", {"expected_amount": order.amount}
        elif order.used:
            problem, extra = "already_used", {}
        else:
            order.used = True
            uses.append(
                {
                    "payment_order_id": order.id,
                    "sale_id": sale.id,
                    "payment_id": pay.id,
                    "terminal_id": ctx.terminal_id,
                    "used_at": sale.created_at,
                }
            )
            continue
        problems.append({**claim, "problem": problem, **extra})
    return problems


def check_qris_static(sale: SaleIn) -> dict[str, Any] | None:
    """The sale's payments to the store's static QRIS (no order backs them: the cashier
    confirmed them from the customer's proof), for the manager to reconcile; None when
    there are none."""
    static = [p for p in sale.payments if p.method is PaymentMethod.QRIS_STATIC]
    if not static:
        return None
    return {
        "amount": sum(p.amount for p in static),
        "receipt_number": sale.receipt_number,
        "confirmed_by": sale.cashier_id,
        "payment_ids": [str(p.id) for p in static],
    }


# ---------------------------------------------------------------- the whole sale


def own_shift(
    ctx: BatchContext,
    rows: dict[Any, list[dict[str, Any]]],
    *,
    event_id: uuid.UUID,
    record: SaleIn | RefundIn,
    sale_id: uuid.UUID,
) -> uuid.UUID | None:
    """The shift to store the sale or refund under: its own, or none (and a flag) when
    it names another till's shift, so it never counts in that till's drawer."""
    if record.shift_id is None:
        return None
    shift = ctx.shifts.get(record.shift_id)
    if shift is None or shift.terminal_id == ctx.terminal_id:
        return record.shift_id
    details: dict[str, Any] = {
        "shift_id": str(record.shift_id),
        "shift_terminal_id": shift.terminal_id,
        "stored_shift_id": None,
    }
    add_flag(
        ctx,
        rows[FLAGS],
        kind=FlagKind.SHIFT_FOREIGN,
        event_id=event_id,
        sale_id=sale_id,
        cashier_id=record.cashier_id,
        moment=record.created_at,
        details=details,
    )
    return None


def verify_sale(
    ctx: BatchContext, rows: dict[Any, list[dict[str, Any]]], *, event_id: uuid.UUID, sale: SaleIn
) -> None:
    """Flag what the sale claims that the server cannot confirm; count its voucher and
    QRIS uses. Never refuses: the sale is applied whatever is found."""
    found: list[tuple[FlagKind, dict[str, Any]]] = []
    price_problems, tax_problems = check_prices(ctx, sale)
    if price_problems:
        found.append((FlagKind.PRICE_MISMATCH, {"lines": price_problems}))
    if tax_problems:
        found.append((FlagKind.TAX_MISMATCH, {"lines": tax_problems}))
    found.extend(check_voucher(ctx, sale, rows[VOUCHER_USES]))
    qris = check_qris(ctx, sale, rows[QRIS_USES])
    if qris:
        found.append((FlagKind.QRIS_UNVERIFIED, {"payments": qris}))
    static = check_qris_static(sale)
    if static is not None:
        found.append((FlagKind.QRIS_STATIC, static))
    if sale.created_at > ctx.now + FUTURE_SKEW:
        found.append(
            (
                FlagKind.CLOCK_SKEW,
                {"problem": "future", "claimed": sale.created_at, "server_time": ctx.now},
            )
        )
    elif ctx.store_born is not None and sale.created_at < ctx.store_born - PAST_SKEW:
        found.append(
            (
                FlagKind.CLOCK_SKEW,
                {
                    "problem": "before_store",
                    "claimed": sale.created_at,
                    "store_since": ctx.store_born,
                },
            )
        )
    for kind, details in found:
        add_flag(
            ctx,
            rows[FLAGS],
            kind=kind,
            event_id=event_id,
            sale_id=sale.id,
            cashier_id=sale.cashier_id,
            moment=sale.created_at,
            details=details,
        )
