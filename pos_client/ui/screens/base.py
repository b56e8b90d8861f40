"""What every screen shares: the app, the till, a message line, scans routed to it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import OptionProperty, StringProperty
from kivy.uix.screenmanager import Screen

from pos_client.ui.paths import KV_DIR

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
