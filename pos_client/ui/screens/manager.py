"""The Manager area: sales by day, week, month and year as a bar chart with the top
products, payment methods and cashiers, and the store's people (add a cashier, reset a
PIN, deactivate).

A manager gets here by logging in with their PIN. The figures are the server's once the
manager signs in to it with their password (kept in memory for this visit only), and
this till's own while offline or not signed in, labelled as such. People are managed on
the server only; offline the screen says so. Every network call runs in a worker
(:func:`~pos_client.ui.workers.run_in_worker`); the screens only show what
:class:`~pos_client.services.manager.ManagerService` returns.
"""

from __future__ import annotations

from typing import Any

from kivy.graphics import Color, Line, Rectangle
from kivy.metrics import dp, sp
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from pos_client.domain.catalog import User
from pos_client.services.manager import GRANULARITIES, ManagerReport, ManagerService
from pos_client.sync.manager_client import Granularity, ManagerClient, StaffMember
from pos_client.ui.i18n import describe, tr
from pos_client.ui.screens.base import KasirScreen, load_kv
from pos_client.ui.workers import run_in_worker
from shared.money import format_rupiah
from shared.receipt_text import payment_label

load_kv("manager")
load_kv("manager_users")


def short_rupiah(amount: int) -> str:
    """``1,2 jt`` / ``850 rb`` above a bar (the full figure is in the totals)."""
    if amount >= 1_000_000:
        whole, rest = divmod(amount // 100_000, 10)
        return f"{whole},{rest} jt" if rest else f"{whole} jt"
    if amount >= 1_000:
        return f"{amount // 1_000} rb"
    return str(amount)


class BarChart(Widget):
    """Bars drawn on the canvas: ``bars`` is a list of ``(label, value)``, oldest first."""

    bars = ListProperty([])
    bar_color = ListProperty([0.20, 0.36, 0.62, 1])

    def __init__(self, **kwargs: Any) -> None:
        """Redraw whenever the bars, the size or the position change."""
        super().__init__(**kwargs)
        self.bind(bars=self._redraw, size=self._redraw, pos=self._redraw)

    def _redraw(self, *_: Any) -> None:
        self.canvas.before.clear()
        self.clear_widgets()
        if not self.bars or self.width < 10 or self.height < 10:
            return
        label_h, value_h = dp(24), dp(20)
        top = max((value for _, value in self.bars), default=0) or 1
        slot = self.width / len(self.bars)
        gap = min(dp(10), slot * 0.2)
        room = self.height - label_h - value_h
        with self.canvas.before:
            Color(1, 1, 1, 1)
            Rectangle(pos=self.pos, size=self.size)
            Color(0.80, 0.80, 0.78, 1)
            Line(points=[self.x, self.y + label_h, self.right, self.y + label_h], width=1)
            Color(*self.bar_color)
            for n, (_, value) in enumerate(self.bars):
                height = room * value / top
                Rectangle(
                    pos=(self.x + n * slot + gap / 2, self.y + label_h),
                    size=(slot - gap, max(height, dp(1) if value else 0)),
                )
        for n, (label, value) in enumerate(self.bars):
            x = self.x + n * slot
            height = room * value / top
            self.add_widget(
                Label(
                    text=str(label),
                    pos=(x, self.y),
                    size=(slot, label_h),
                    font_size=sp(13),
                    color=(0.25, 0.25, 0.3, 1),
                )
            )
            if value:
                self.add_widget(
                    Label(
                        text=short_rupiah(int(value)),
                        pos=(x, self.y + label_h + height),
                        size=(slot, value_h),
                        font_size=sp(12),
                        color=(0.1, 0.1, 0.12, 1),
                    )
                )


class ManagerScreen(KasirScreen):
    """The figures of the chosen granularity; sign-in to the server; a door to people."""

    granularity = StringProperty("day")
    source_text = StringProperty("")
    offline = BooleanProperty(True)
    signed_in = BooleanProperty(False)
    busy = BooleanProperty(False)
    total_text = StringProperty("")
    products_text = StringProperty("")
    payments_text = StringProperty("")
    cashiers_text = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        """No figures yet; the service is made on first use."""
        super().__init__(**kwargs)
        self._service: ManagerService | None = None
        self.report: ManagerReport | None = None
        self.visitor: User | None = None
        """The manager whose PIN opened the area for a cashier (None: the one logged in)."""

    @property
    def service(self) -> ManagerService:
        """The Manager area's service (one per app: it holds the server sign-in)."""
        if self._service is None:
            till = self.till

            def connect() -> ManagerClient:
                return ManagerClient(till.http(), base_url=till.server_url())

            self._service = ManagerService(
                till.open_store, connect, zone=self.app._store_zone(), now=till.now
            )
        return self._service

    def refresh(self) -> None:
        """Load the figures of the chosen granularity."""
        self.signed_in = self.service.signed_in
        self.load(self.granularity)

    def load(self, granularity: str) -> None:
        """Show ``granularity`` ("day", "week", "month" or "year")."""
        chosen: Granularity = "day"
        for known in GRANULARITIES:
            if known == granularity:
                chosen = known
        self.granularity = chosen
        self.busy = True
        service = self.service
        run_in_worker(lambda: service.report(chosen), self.show, self._failed, name="kasir-manager")

    def show(self, report: ManagerReport) -> None:
        """Draw a report the service returned."""
        self.busy = False
        self.report = report
        self.signed_in = self.service.signed_in
        self.offline = report.source == "local"
        self.source_text = tr("manager_source_local" if self.offline else "manager_source_server")
        self.ids.chart.bars = [(bar.label, bar.net) for bar in report.bars]
        self.total_text = tr(
            "manager_total",
            first=f"{report.start:%d/%m/%Y}",
            last=f"{report.end:%d/%m/%Y}",
            n=report.sales_count,
            net=format_rupiah(report.net),
        )
        none = tr("manager_none")
        self.products_text = (
            "\n".join(
                f"{p.name} · {p.quantity} · {format_rupiah(p.revenue)}" for p in report.products
            )
            or none
        )
        self.payments_text = (
            "\n".join(
                f"{payment_label(p.method)} · {p.payments_count}× · {format_rupiah(p.amount)}"
                for p in report.payments
            )
            or none
        )
        self.cashiers_text = (
            "\n".join(
                f"{c.full_name} · {c.sales_count}× · {format_rupiah(c.net)}"
                for c in report.cashiers
            )
            or none
        )

    def _failed(self, exc: Exception) -> None:
        self.busy = False
        self.message = describe(exc)

    # -- the server ------------------------------------------------------------------------
    def visit(self, manager: User) -> None:
        """Open the area for ``manager``: the logged-in one, or the one whose PIN let a
        cashier in (the server sign-in is then theirs)."""
        self.visitor = manager
        self.app.go("manager")

    def sign_in(self) -> None:
        """Sign the manager of this visit in to the server with the password typed."""
        user = self.visitor or self.till.auth.current_user
        password = self.ids.password.text
        if user is None or not password:
            self.message = tr("manager_password_hint")
            return
        self.ids.password.text = ""
        self.busy = True
        self.message = tr("manager_signing_in")
        service = self.service

        def done(_none: None) -> None:
            self.message = ""
            self.refresh()

        run_in_worker(
            lambda: service.sign_in(user.username, password),
            done,
            self._failed,
            name="kasir-manager",
        )

    def people(self) -> None:
        """Open the people screen."""
        self.app.go("manager_users")

    def leave(self) -> None:
        """Back to selling: the server sign-in ends here (revoked in a worker)."""
        if self._service is not None and self._service.signed_in:
            run_in_worker(self._service.sign_out, name="kasir-manager")
        self.signed_in = False
        self.visitor = None
        self.app.go("sale" if self.till.shifts.current() is not None else "shift")


class StaffRow(BoxLayout):
    """One person: name, role and state, with Reset PIN and Deactivate."""

    user_id = NumericProperty(0)
    title = StringProperty("")
    detail = StringProperty("")
    active = BooleanProperty(True)
    manageable = BooleanProperty(True)


class ManagerUsersScreen(KasirScreen):
    """The store's people from the server; refused offline with a sentence."""

    busy = BooleanProperty(False)

    @property
    def service(self) -> ManagerService:
        """The service the Manager area holds (with its server sign-in)."""
        manager: ManagerScreen = self.app.screen("manager")
        return manager.service

    def refresh(self) -> None:
        """Ask the server for the people of the store."""
        self._call(self.service.staff, self.show)

    def show(self, people: list[StaffMember]) -> None:
        """List ``people``."""
        box = self.ids.list
        box.clear_widgets()
        for person in people:
            state = tr("manager_active") if person.active else tr("manager_inactive")
            pin = tr("manager_has_pin") if person.has_pin else tr("manager_no_pin")
            row = StaffRow(
                user_id=person.id,
                title=person.full_name,
                detail=f"{person.username} · {person.role.value} · {state} · {pin}",
                active=person.active,
                manageable=person.role.value in ("cashier", "supervisor"),
            )
            box.add_widget(row)

    def rows(self) -> list[StaffRow]:
        """The people on screen, top to bottom."""
        return [w for w in reversed(self.ids.list.children) if isinstance(w, StaffRow)]

    def _call(self, job: Any, then: Any) -> None:
        self.busy = True

        def done(result: Any) -> None:
            self.busy = False
            then(result)

        def failed(exc: Exception) -> None:
            self.busy = False
            self.message = describe(exc)

        run_in_worker(job, done, failed, name="kasir-manager")

    def _changed(self, sentence: str) -> Any:
        def then(_person: StaffMember) -> None:
            self.app.sync_now()  # the till sees the change at its next pull
            self._call(self.service.staff, self.show)
            self.message = sentence

        return then

    def add_cashier(self) -> None:
        """Add the cashier typed in the form."""
        username, name, pin = (
            self.ids.new_username.text,
            self.ids.new_name.text,
            self.ids.new_pin.text,
        )
        service = self.service

        def job() -> StaffMember:
            return service.add_cashier(username, name, pin)

        def then(person: StaffMember) -> None:
            for field in ("new_username", "new_name", "new_pin"):
                self.ids[field].text = ""
            self._changed(tr("manager_added", name=person.full_name))(person)

        self._call(job, then)

    def reset_pin(self, user_id: int) -> None:
        """Give ``user_id`` the PIN typed in the "new PIN" field."""
        pin = self.ids.reset_pin.text
        service = self.service

        def then(person: StaffMember) -> None:
            self.ids.reset_pin.text = ""
            self._changed(tr("manager_pin_reset", name=person.full_name))(person)

        self._call(lambda: service.reset_pin(user_id, pin), then)

    def deactivate(self, user_id: int) -> None:
        """Stop ``user_id`` from logging in."""
        service = self.service

        def then(person: StaffMember) -> None:
            self._changed(tr("manager_deactivated", name=person.full_name))(person)

        self._call(lambda: service.deactivate(user_id), then)
