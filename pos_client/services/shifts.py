"""Shifts: open with a float, cash in and out, X report any time, Z report at close,
and opening the cash drawer with no sale (a supervisor's PIN; a ``no_sale`` event for
the server, and a line in the log)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from uuid import UUID

from pos_client.domain.catalog import User
from pos_client.domain.errors import ShiftError
from pos_client.domain.shifts import (
    Denomination,
    ShiftReport,
    counted_from_denominations,
    expected_cash,
)
from pos_client.services.auth import AuthService
from pos_client.services.clock import Clock, utc_now
from pos_client.store import LocalStore, ShiftRow
from shared.ids import new_id
from shared.models import CashMoveIn, NoSaleIn, Role, ShiftCloseIn, ShiftOpenIn

drawer_log = logging.getLogger("kasir.drawer")


class ShiftService:
    """The cash drawer's day: one open shift per till; every step is an outbox event."""

    def __init__(self, store: LocalStore, auth: AuthService, *, now: Clock = utc_now) -> None:
        """Keep shifts in ``store`` for ``auth``'s current user."""
        self.store = store
        self.auth = auth
        self.now = now

    def current(self) -> ShiftRow | None:
        """The open shift, or None."""
        return self.store.open_shift_row()

    def _require_open(self) -> ShiftRow:
        shift = self.store.open_shift_row()
        if shift is None:
            raise ShiftError("no_open_shift")
        return shift

    def open(self, opening_float: int) -> ShiftRow:
        """Open a shift with ``opening_float`` rupiah in the drawer."""
        user = self.auth.require_user()
        if opening_float < 0:
            raise ShiftError("float_negative")
        event = ShiftOpenIn(
            id=new_id(), user_id=user.id, opening_float=opening_float, opened_at=self.now()
        )
        self.store.open_shift(event)
        shift = self.store.shift(event.id)
        assert shift is not None
        return shift

    def cash_in(self, amount: int, reason: str = "") -> CashMoveIn:
        """Record cash put into the drawer."""
        return self._move(amount, reason)

    def cash_out(self, amount: int, reason: str = "") -> CashMoveIn:
        """Record cash taken out of the drawer (``amount`` is positive)."""
        return self._move(-amount, reason)

    def _move(self, signed: int, reason: str) -> CashMoveIn:
        user = self.auth.require_user()
        if signed == 0:
            raise ShiftError("cash_move_zero")
        shift = self._require_open()
        move = CashMoveIn(
            id=new_id(),
            shift_id=shift.id,
            user_id=user.id,
            amount=signed,
            reason=reason,
            created_at=self.now(),
        )
        self.store.record_cash_move(move)
        return move

    def x_report(self) -> ShiftReport:
        """The open shift so far (changes nothing)."""
        return self._report("X", self._require_open())

    def close(self, counted_cash: int) -> ShiftReport:
        """Close the open shift with the cash counted in the drawer; returns the Z report."""
        user = self.auth.require_user()
        if counted_cash < 0:
            raise ShiftError("counted_cash_negative")
        shift = self._require_open()
        figures = self.store.shift_figures(shift.id)
        closed_at = self.now()
        self.store.close_shift(
            ShiftCloseIn(
                id=shift.id,
                user_id=user.id,
                counted_cash=counted_cash,
                expected_cash=expected_cash(figures),
                closed_at=closed_at,
            )
        )
        return self.z_report(shift.id)

    def close_counted(self, counts: Mapping[Denomination, int]) -> ShiftReport:
        """Close with the drawer counted note by note and coin by coin."""
        return self.close(counted_from_denominations(counts))

    def authorize_drawer(self, approver_id: int, pin: str, reason: str = "") -> User:
        """A supervisor (or higher) lets the drawer open with no sale; returns who.

        The opening is a ``no_sale`` event (cashier, approver, open shift, time and
        ``reason``) queued for the server in one local transaction, and a line in the
        ``kasir.drawer`` log. Nothing is recorded when the PIN is refused.
        """
        cashier = self.auth.require_user()
        approver = self.auth.authorize(approver_id, pin, Role.SUPERVISOR)
        shift = self.store.open_shift_row()
        opening = NoSaleIn(
            id=new_id(),
            shift_id=shift.id if shift else None,
            cashier_id=cashier.id,
            approved_by=approver.id,
            reason=reason.strip()[:200],
            created_at=self.now(),
        )
        self.store.record_no_sale(opening)
        drawer_log.info(
            "drawer opened with no sale at %s: cashier %s (%d), approved by %s (%d), shift %s",
            opening.created_at.isoformat(),
            cashier.full_name,
            cashier.id,
            approver.full_name,
            approver.id,
            shift.id if shift else "none",
        )
        return approver

    def z_report(self, shift_id: UUID) -> ShiftReport:
        """The Z report of a closed shift (to reprint it)."""
        shift = self.store.shift(shift_id)
        if shift is None or shift.closed_at is None:
            raise ShiftError("shift_not_closed")
        return self._report("Z", shift)

    def _report(self, kind: str, shift: ShiftRow) -> ShiftReport:
        """The ``kind`` report of ``shift``, its figures as they stand now (an open
        shift has neither a close time nor counted cash yet)."""
        return ShiftReport(
            kind,
            shift_id=shift.id,
            user_id=shift.user_id,
            opened_at=shift.opened_at,
            generated_at=self.now(),
            figures=self.store.shift_figures(shift.id),
            closed_at=shift.closed_at,
            counted_cash=shift.counted_cash,
        )
