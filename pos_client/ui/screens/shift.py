"""The shift: open with a float, cash in and out, X report, close with a count → Z report."""

from __future__ import annotations

from kivy.factory import Factory
from kivy.properties import BooleanProperty, StringProperty

from pos_client.domain.errors import DomainError
from pos_client.domain.shifts import ShiftReport
from pos_client.ui.glue import report_rows
from pos_client.ui.i18n import describe, tr
from pos_client.ui.screens.base import KasirScreen, load_kv
from shared.money import format_rupiah, parse_rupiah

load_kv("shift")


class ShiftScreen(KasirScreen):
    """Open, run and close the drawer's shift."""

    is_open = BooleanProperty(False)
    header = StringProperty("")
    report_title = StringProperty("")

    def refresh(self) -> None:
        """Show the open shift's X report, or the form to open one."""
        shift = self.till.shifts.current()
        self.is_open = shift is not None
        if shift is None:
            self.header = tr("shift_none")
            if not self.report_title:
                self.ids.report.clear_widgets()
            return
        local = shift.opened_at.astimezone()
        self.header = tr("shift_open_since", time=f"{local:%d-%m-%Y %H:%M}")
        self.show_report(self.till.shifts.x_report())

    def show_report(self, report: ShiftReport) -> None:
        """Lay the report out as label/value rows."""
        self.report_title = tr("z_report") if report.kind == "Z" else tr("x_report")
        box = self.ids.report
        box.clear_widgets()
        for label, value in report_rows(report):
            box.add_widget(Factory.KLabel(text=label))
            box.add_widget(Factory.KLabel(text=value, halign="right", bold=True))

    def report_values(self) -> dict[str, str]:
        """The report as shown: label → value (tests read it)."""
        cells = [w.text for w in reversed(self.ids.report.children)]
        return dict(zip(cells[::2], cells[1::2], strict=True))

    def open_shift(self) -> None:
        """Open with the float typed in."""
        amount = parse_rupiah(self.ids.float_amount.text)
        if amount is None:
            self.message = tr("opening_float")
            return
        try:
            self.till.shifts.open(amount)
        except DomainError as exc:
            self.message = describe(exc)
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
            self.message = describe(exc)
            return
        self.ids.move_amount.text = ""
        self.ids.move_reason.text = ""
        self.refresh()
        self.message = tr("moved", amount=format_rupiah(amount if direction > 0 else -amount))

    def close_shift(self) -> None:
        """Close with the counted cash and show the Z report."""
        counted = parse_rupiah(self.ids.counted.text)
        if counted is None:
            self.message = tr("counted_cash")
            return
        try:
            report = self.till.shifts.close(counted)
        except DomainError as exc:
            self.message = describe(exc)
            return
        self.ids.counted.text = ""
        self.is_open = False
        self.header = tr("shift_closed")
        self.show_report(report)
        self.message = tr("shift_closed")
        self.app.sync_now()

    def back(self) -> None:
        """To the sale screen when a shift is open, else to the login screen."""
        self.report_title = ""
        self.app.go("sale" if self.is_open else "login")
