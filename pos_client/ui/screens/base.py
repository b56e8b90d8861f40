"""What every screen shares: the app, the till, a message line, scans routed to it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import BooleanProperty, OptionProperty, StringProperty
from kivy.uix.screenmanager import Screen

from pos_client.printing.escpos import PrinterError, PrinterTransport
from pos_client.ui.i18n import tr
from pos_client.ui.paths import KV_DIR
from pos_client.ui.workers import run_in_worker

if TYPE_CHECKING:
    from pos_client.ui.app import KasirApp
    from pos_client.ui.till import Till


def load_kv(name: str) -> None:
    """Load ``kv/<name>.kv`` once (the screen's layout)."""
    path = str(KV_DIR / f"{name}.kv")
    if path not in Builder.files:
        Builder.load_file(path)


class KasirScreen(Screen):
    """A screen of the till. ``message`` is the sentence shown to the cashier, in the
    colour of its ``message_tone``: plain, green for something done, red for a problem."""

    message = StringProperty("")
    message_tone = OptionProperty("info", options=["info", "ok", "error"])
    printing = BooleanProperty(False)
    """True while :meth:`print_in_worker` has a print job out."""

    def on_message(self, *_: Any) -> None:
        """A sentence set directly is plain news; :meth:`tell` sets its tone after."""
        self.message_tone = "info"

    def tell(self, text: str, tone: str = "info") -> None:
        """Show ``text`` on this screen's message line as ``"info"``, ``"ok"`` or ``"error"``."""
        self.message = text
        self.message_tone = tone

    def toast(self, text: str, tone: str = "info") -> None:
        """Show ``text`` on the status bar's news line in the colour of ``tone``."""
        self.app.toast(text)
        bar = self.app.status_bar
        if bar is not None:
            bar.tone = tone

    def print_in_worker(
        self,
        job: Callable[[], None],
        printed: Callable[[], str],
        failed: Callable[[str], str],
    ) -> None:
        """Run the print ``job`` in the printing worker (``printing`` is true meanwhile),
        then tell the cashier ``printed()``, or ``failed(reason)`` with the printer's
        reason; a failed print never undoes what was printed for."""
        self.printing = True

        def done(_none: None) -> None:
            self.printing = False
            self.tell(printed(), "ok")

        def refused(exc: Exception) -> None:
            self.printing = False
            reason = str(exc) if isinstance(exc, PrinterError) else repr(exc)
            self.tell(failed(reason), "error")

        run_in_worker(job, done, refused, name="kasir-print")

    def print_with(
        self,
        job: Callable[[PrinterTransport], None],
        printed: Callable[[], str],
        failed: Callable[[str], str],
    ) -> None:
        """:meth:`print_in_worker` of ``job(printer)`` on the configured printer, saying
        "printing" meanwhile; with no printer set, tell the cashier so and print nothing."""
        transport = self.till.prefs.printer()
        if transport is None:
            self.tell(tr("no_printer"), "error")
            return
        self.message = tr("printing")
        self.print_in_worker(lambda: job(transport), printed, failed)

    @property
    def app(self) -> KasirApp:
        """The running app."""
        app: Any = App.get_running_app()
        return app

    @property
    def till(self) -> Till:
        """The services."""
        return self.app.till

    def on_pre_enter(self, *_: Any) -> None:
        """Refresh what the screen shows each time it comes up."""
        self.message = ""
        self.refresh()

    def refresh(self) -> None:
        """Re-read what the screen shows from the services (override)."""

    def on_scan(self, code: str) -> bool:
        """A barcode arrived (USB or camera); return True when this screen used it."""
        return False

    def on_keys(self, text: str) -> None:
        """Typing while no field has the focus (``"\\n"`` for Enter); ignored by default."""
