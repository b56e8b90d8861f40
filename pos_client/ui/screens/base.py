"""What every screen shares: the app, the till, a message line, scans routed to it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import StringProperty
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
    """A screen of the till. ``message`` is the sentence shown to the cashier."""

    message = StringProperty("")

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
