"""Whether a voucher applies to a sale now, and how much it takes off."""

from __future__ import annotations

from datetime import datetime

from pos_client.domain.catalog import Voucher
from pos_client.domain.errors import VoucherError
from shared.models import VoucherKind
from shared.pricing import percent_of


def check_voucher(voucher: Voucher, *, spend: int, now: datetime) -> None:
    """Raise :class:`VoucherError` with a cashier-readable reason when ``voucher`` cannot apply.

    ``spend`` is the sale after line discounts (what the minimum spend is compared with).
    """
    if not voucher.active:
        raise VoucherError("voucher_inactive", code=voucher.code)
    if voucher.valid_from is not None and now < voucher.valid_from:
        raise VoucherError("voucher_not_yet_valid", code=voucher.code)
    if voucher.valid_until is not None and now > voucher.valid_until:
        raise VoucherError("voucher_expired", code=voucher.code)
    if voucher.usage_limit is not None and voucher.used_count >= voucher.usage_limit:
        raise VoucherError("voucher_used_up", code=voucher.code)
    if spend < voucher.min_spend:
        raise VoucherError("voucher_min_spend", code=voucher.code, amount=voucher.min_spend)


def voucher_amount(voucher: Voucher, spend: int) -> int:
    """Rupiah ``voucher`` takes off ``spend`` (never more than ``spend``), validity aside."""
    if voucher.kind is VoucherKind.PERCENT:
        return min(spend, percent_of(spend, voucher.value))
    return min(spend, voucher.value)


def voucher_discount(voucher: Voucher, *, spend: int, now: datetime) -> int:
    """Rupiah ``voucher`` takes off ``spend`` at ``now``; :class:`VoucherError` if invalid."""
    check_voucher(voucher, spend=spend, now=now)
    return voucher_amount(voucher, spend)
