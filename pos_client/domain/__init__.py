"""The till's business rules: cart, discounts, vouchers, tender, refunds, receipts, shifts.

Pure dataclasses and functions, no IO and no Kivy. Money is ``int`` rupiah and every
amount is computed by :mod:`shared.pricing`, the same code the server checks with.
"""

from pos_client.domain.cart import Cart, CartLine, CartTotals, Discount, DiscountKind
from pos_client.domain.catalog import Product, User, Voucher
from pos_client.domain.errors import (
    ApprovalRequired,
    CartError,
    DomainError,
    PaymentError,
    RefundError,
    ShiftError,
    VoucherError,
)
from pos_client.domain.receipts import format_receipt_number, parse_receipt_number
from pos_client.domain.refunds import SoldLine, plan_refund
from pos_client.domain.sale import SaleDraft, build_sale_draft
from pos_client.domain.shifts import ShiftFigures, ShiftReport, expected_cash
from pos_client.domain.tender import CashTender, QrisPayment, Tender, settle
from pos_client.domain.vouchers import voucher_discount

__all__ = [
    "ApprovalRequired",
    "Cart",
    "CartError",
    "CartLine",
    "CartTotals",
    "CashTender",
    "Discount",
    "DiscountKind",
    "DomainError",
    "PaymentError",
    "Product",
    "QrisPayment",
    "RefundError",
    "SaleDraft",
    "ShiftError",
    "ShiftFigures",
    "ShiftReport",
    "SoldLine",
    "Tender",
    "User",
    "Voucher",
    "VoucherError",
    "build_sale_draft",
    "expected_cash",
    "format_receipt_number",
    "parse_receipt_number",
    "plan_refund",
    "settle",
    "voucher_discount",
]
