"""Errors the till shows a cashier: each carries a stable ``code`` and its parameters."""

from __future__ import annotations

from typing import Any

from shared.errors import CodedError


class DomainError(CodedError):
    """A rule of the shop said no: ``code`` and ``params``, rendered from shared.messages."""

    code = "domain_error"


class CartError(DomainError):
    """The cart cannot do that (unknown line, bad quantity, discount too big)."""

    code = "cart_error"


class VoucherError(DomainError):
    """A voucher cannot be used on this sale now."""

    code = "voucher_invalid"


class PaymentError(DomainError):
    """The tender does not pay the sale (too little cash, QRIS above the total...)."""

    code = "payment_error"


class RefundError(DomainError):
    """The refund or void is not allowed (more than sold, sale already voided...)."""

    code = "refund_error"


class ApprovalRequired(DomainError):
    """A discount is above the threshold: a supervisor's PIN must approve it.

    ``amount`` is the discount asked for and ``base`` what it is taken from.
    """

    code = "approval_required"

    def __init__(
        self,
        code: str | None = None,
        /,
        *,
        amount: int,
        base: int,
        threshold_bp: int,
        **params: Any,
    ) -> None:
        super().__init__(code, amount=amount, base=base, threshold_bp=threshold_bp, **params)
        self.amount = amount
        self.base = base
        self.threshold_bp = threshold_bp


class ShiftError(DomainError):
    """The shift cannot do that (none open, one already open...)."""

    code = "shift_error"
