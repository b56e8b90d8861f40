"""What the screens need that the services do not give directly, built from them.

* :func:`build_receipt` turns a stored :class:`~shared.models.SaleIn` into the
  printing module's :class:`~pos_client.printing.receipt.ReceiptData` (the services
  return the sale; nothing in the core builds the receipt from it yet).
* :func:`report_rows` lays out an X/Z shift report as label/value rows.
* :func:`parse_rupiah` reads what a cashier typed ("12.500", "Rp 12.500") as int rupiah.
"""

from __future__ import annotations

from pos_client.domain.shifts import ShiftReport
from pos_client.printing.money import format_rupiah
from pos_client.printing.receipt import ReceiptData, ReceiptLine, ReceiptPayment, ReceiptStore
from pos_client.store import LocalStore
from pos_client.ui.i18n import tr
from shared.models import SaleIn


def parse_rupiah(text: str) -> int | None:
    """Whole rupiah from typed text (dots, spaces and "Rp" ignored); None when not a number."""
    cleaned = text.replace("Rp", "").replace(".", "").replace(",", "").replace(" ", "").strip()
    if not cleaned.isdigit():
        return None
    return int(cleaned)


def build_receipt(store: LocalStore, sale: SaleIn) -> ReceiptData:
    """The receipt of ``sale`` with the store's template and the cashier's name."""
    profile = store.store_profile()
    receipt_store = (
        ReceiptStore.from_store_out(profile) if profile is not None else ReceiptStore(name="Kasir")
    )
    cashier = store.user(sale.cashier_id)
    return ReceiptData(
        store=receipt_store,
        receipt_number=sale.receipt_number,
        created_at=sale.created_at,
        cashier_name=cashier.full_name if cashier else str(sale.cashier_id),
        lines=tuple(
            ReceiptLine(
                name=line.name,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount=line.discount,
                total=line.total,
            )
            for line in sale.lines
        ),
        subtotal=sale.subtotal,
        discount_total=sale.discount_total,
        tax_total=sale.tax_total,
        tax_inclusive=all(line.tax_inclusive for line in sale.lines),
        total=sale.total,
        payments=tuple(
            ReceiptPayment(
                method=p.method.value, amount=p.amount, tendered=p.tendered, change=p.change
            )
            for p in sale.payments
        ),
    )


def report_rows(report: ShiftReport) -> list[tuple[str, str]]:
    """An X or Z report as (label, value) rows in the current language."""
    f = report.figures
    rows = [
        (tr("opening_float").replace(" (Rp)", ""), format_rupiah(f.opening_float)),
        (tr("sales_count"), str(f.sales_count)),
        (tr("sales_total"), format_rupiah(f.sales_total)),
        (tr("refunds_total"), format_rupiah(f.refunds_total)),
        (tr("voids_total"), format_rupiah(f.voids_total)),
        (tr("net_sales"), format_rupiah(report.net_sales)),
    ]
    by_method = report.net_by_method.items()
    rows += [(method.upper(), format_rupiah(amount)) for method, amount in by_method]
    rows += [
        (tr("cash_in_total"), format_rupiah(f.cash_in)),
        (tr("cash_out_total"), format_rupiah(f.cash_out)),
        (tr("expected_cash"), format_rupiah(report.expected_cash)),
    ]
    if report.counted_cash is not None:
        rows.append((tr("counted"), format_rupiah(report.counted_cash)))
    if report.variance is not None:
        rows.append((tr("variance"), format_rupiah(report.variance)))
    return rows
