"""The shift: open with a float, cash in and out, X report, open the drawer with a
supervisor's PIN, and close like a cash office: count the drawer note by note (blind when
the shop wants it), confirm, then the Z report on screen and on paper."""

from __future__ import annotations

from typing import Any

from kivy.factory import Factory
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from pos_client.domain.errors import DomainError
from pos_client.domain.shifts import (
    DENOMINATIONS,
    Denomination,
    ShiftReport,
    counted_from_denominations,
)
from pos_client.printing.escpos import PrinterError, open_drawer, print_lines, slip_lines
from pos_client.ui.glue import report_rows, shown_time, till_zone
from pos_client.ui.i18n import describe, tr
from pos_client.ui.screens.base import KasirScreen, load_kv
from pos_client.ui.workers import run_in_worker
from shared.models import Role
from shared.money import format_rupiah, parse_rupiah
from shared.receipt_text import payment_label

load_kv("shift")

# Rows that give the expected cash away; hidden while a blind count is running.
_BLIND_KEYS = ("expected_cash", "variance")


class ShiftScreen(KasirScreen):
    """Open, run and close the drawer's shift."""

    is_open = BooleanProperty(False)
    blind = BooleanProperty(False)
    header = StringProperty("")
    report_title = StringProperty("")
    counted_text = StringProperty("")
    active_row = NumericProperty(-1)
    """The denomination row the keypad types into (the last one tapped)."""

    def __init__(self, **kwargs: Any) -> None:
        """No report or popup yet."""
        super().__init__(**kwargs)
        self.report: ShiftReport | None = None
        self.confirm_popup: Any = None
        self.drawer_popup: Any = None
        self._rows: list[Any] = []

    # -- showing -------------------------------------------------------------------------
    def refresh(self) -> None:
        """Show the open shift's X report, or the form to open one."""
        self.blind = self.till.settings.blind_count
        self._build_count_rows()
        shift = self.till.shifts.current()
        self.is_open = shift is not None
        if shift is None:
            self.header = tr("shift_none")
            if not self.report_title:
                self.report = None
                self.ids.report.clear_widgets()
            return
        opened = shown_time(shift.opened_at, till_zone(self.till))
        self.header = tr("shift_open_since", time=opened)
        self.show_report(self.till.shifts.x_report())

    def _report_rows(self, report: ShiftReport) -> list[tuple[str, str]]:
        rows = report_rows(report, till_zone(self.till))
        if self.blind and report.kind == "X":
            hidden = {tr(k) for k in _BLIND_KEYS} | {payment_label("cash")}
            rows = [(label, value) for label, value in rows if label not in hidden]
        return rows

    def show_report(self, report: ShiftReport) -> None:
        """Lay the report out as label/value rows (a blind X report keeps the cash hidden)."""
        self.report = report
        self.report_title = tr("z_report") if report.kind == "Z" else tr("x_report")
        box = self.ids.report
        box.clear_widgets()
        for label, value in self._report_rows(report):
            box.add_widget(Factory.KLabel(text=label))
            box.add_widget(Factory.KLabel(text=value, halign="right", bold=True))

    def report_values(self) -> dict[str, str]:
        """The report as shown: label → value (tests read it)."""
        cells = [w.text for w in reversed(self.ids.report.children)]
        return dict(zip(cells[::2], cells[1::2], strict=True))

    # -- opening and moving cash ---------------------------------------------------------
    def open_shift(self) -> None:
        """Open with the float typed in."""
        amount = parse_rupiah(self.ids.float_amount.text)
        if amount is None:
            self.message = tr("opening_float")
            return
        try:
            self.till.shifts.open(amount)
        except DomainError as exc:
            self.tell(describe(exc), "error")
            return
        self.ids.float_amount.text = ""
        self.report_title = ""
        self.app.sync_now()
        self.app.go("sale")

    def move(self, direction: int) -> None:
        """Cash in (+1) or out (−1) of the drawer."""
        amount = parse_rupiah(self.ids.move_amount.text)
        if not amount:
            self.message = tr("amount")
            return
        reason = self.ids.move_reason.text.strip()
        try:
            if direction > 0:
                self.till.shifts.cash_in(amount, reason)
            else:
                self.till.shifts.cash_out(amount, reason)
        except DomainError as exc:
            self.tell(describe(exc), "error")
            return
        self.ids.move_amount.text = ""
        self.ids.move_reason.text = ""
        self.refresh()
        self.tell(tr("moved", amount=format_rupiah(amount if direction > 0 else -amount)), "ok")

    # -- counting ------------------------------------------------------------------------
    def _build_count_rows(self) -> None:
        if self._rows:
            for row in self._rows:  # labels follow the language
                row.label = tr(row.denomination.kind, amount=format_rupiah(row.denomination.value))
            return
        box = self.ids.denominations
        for index, denomination in enumerate(DENOMINATIONS):
            row = Factory.DenominationRow()  # kv-declared properties are set after
            row.index = index
            row.label = tr(denomination.kind, amount=format_rupiah(denomination.value))
            row.denomination = denomination
            row.screen = self
            box.add_widget(row)
            self._rows.append(row)

    def count_rows(self) -> list[Any]:
        """The denomination rows, largest first (tests type into them)."""
        return list(self._rows)

    def counts(self) -> dict[Denomination, int]:
        """How many of each note and coin are typed in."""
        out: dict[Denomination, int] = {}
        for row in self._rows:
            text = row.ids.count.text.strip()
            out[row.denomination] = int(text) if text.isdigit() else 0
        return out

    def select_row(self, index: int) -> None:
        """The keypad now types into row ``index``."""
        self.active_row = index
        keypad = self.ids.count_keypad
        keypad.value = self._rows[index].ids.count.text

    def on_keypad(self, value: str) -> None:
        """A keypad tap: the selected row's count becomes the keypad's value."""
        if 0 <= self.active_row < len(self._rows):
            field = self._rows[self.active_row].ids.count
            if field.text != value:
                field.text = value

    def on_count_changed(self) -> None:
        """A count changed: the counted cash is their sum."""
        total = counted_from_denominations(self.counts())
        self.counted_text = tr("count_total", amount=format_rupiah(total))
        self.ids.counted.text = str(total) if total else ""

    def clear_counts(self) -> None:
        """Empty every denomination row."""
        for row in self._rows:
            row.ids.count.text = ""
        self.active_row = -1
        self.ids.count_keypad.value = ""
        self.counted_text = ""

    # -- closing -------------------------------------------------------------------------
    def close_shift(self) -> None:
        """Ask before closing with the counted cash (the count itself, or typed in)."""
        counted = parse_rupiah(self.ids.counted.text)
        if counted is None:
            self.message = tr("counted_cash")
            return
        text = tr("confirm_close", counted=format_rupiah(counted))
        if not self.blind:
            expected = self.till.shifts.x_report().expected_cash
            text += " " + tr(
                "confirm_close_expected",
                expected=format_rupiah(expected),
                variance=format_rupiah(counted - expected),
            )
        popup = Factory.ConfirmClosePopup(title=tr("confirm_close_title"))
        popup.ids.text.text = text
        popup.ids.confirm.bind(on_release=lambda *_: self._confirmed(popup, counted))
        popup.bind(on_dismiss=lambda *_: setattr(self, "confirm_popup", None))
        self.confirm_popup = popup
        popup.open()

    def _confirmed(self, popup: Any, counted: int) -> None:
        popup.dismiss()
        try:
            report = self.till.shifts.close(counted)
        except DomainError as exc:
            self.tell(describe(exc), "error")
            return
        self.ids.counted.text = ""
        self.clear_counts()
        self.is_open = False
        self.header = tr("shift_closed")
        self.show_report(report)
        self.tell(tr("shift_closed"), "ok")
        self.app.sync_now()
        if self.till.prefs.printer() is not None:
            self.print_report()

    # -- printing ------------------------------------------------------------------------
    def print_report(self) -> None:
        """Print the report on screen in a worker (the Z report after a close)."""
        report = self.report
        if report is None:
            return
        width = self.till.prefs.receipt_width
        heading = [self.till.settings.terminal_code]  # the times are rows of the report
        lines = slip_lines(
            self.report_title, self._report_rows(report), width=width, heading=heading
        )
        self.print_with(
            lambda printer: print_lines(printer, lines),
            lambda: tr("report_printed"),
            lambda reason: tr("report_print_failed", reason=reason),
        )

    # -- the drawer with no sale ---------------------------------------------------------
    def ask_drawer(self) -> None:
        """Ask a supervisor's PIN, then kick the drawer through the printer."""
        approvers = [u for u in self.till.auth.users() if u.role.at_least(Role.SUPERVISOR)]
        popup = Factory.DrawerPopup(title=tr("drawer_title"))
        popup.ids.approver.values = [u.full_name for u in approvers]

        def approve(*_: Any) -> None:
            chosen = [u for u in approvers if u.full_name == popup.ids.approver.text]
            pin, popup.ids.pin.text = popup.ids.pin.text, ""
            if not chosen:
                popup.ids.message.text = tr("choose_approver")
                return
            try:
                approver = self.till.shifts.authorize_drawer(chosen[0].id, pin)
            except DomainError as exc:
                popup.ids.message.text = describe(exc)
                return
            popup.dismiss()
            self.kick_drawer(approver.full_name)

        popup.ids.approve.bind(on_release=approve)
        popup.bind(on_dismiss=lambda *_: setattr(self, "drawer_popup", None))
        self.drawer_popup = popup
        popup.open()

    def kick_drawer(self, approver_name: str) -> None:
        """Send the drawer pulse in a worker; say whether it went."""
        transport = self.till.prefs.printer()
        if transport is None:
            self.tell(tr("drawer_failed", reason=tr("no_printer")), "error")
            return

        def done(_none: None) -> None:
            self.tell(tr("drawer_opened", name=approver_name), "ok")

        def failed(exc: Exception) -> None:
            reason = str(exc) if isinstance(exc, PrinterError) else repr(exc)
            self.tell(tr("drawer_failed", reason=reason), "error")

        run_in_worker(lambda: open_drawer(transport), done, failed, name="kasir-drawer")

    def back(self) -> None:
        """To the sale screen when a shift is open, else to the login screen."""
        self.report_title = ""
        self.app.go("sale" if self.is_open else "login")
