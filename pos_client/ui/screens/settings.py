"""Device settings: printer (network ESC/POS or USB), receipt width, camera, language."""

from __future__ import annotations

from pos_client.ui.i18n import LANGUAGES, tr
from pos_client.ui.prefs import UiPrefs
from pos_client.ui.screens.base import KasirScreen, load_kv

load_kv("settings")

PRINTER_KINDS = ("none", "network", "usb")


class SettingsScreen(KasirScreen):
    """Edit :class:`~pos_client.ui.prefs.UiPrefs` and save them."""

    def refresh(self) -> None:
        """Show the saved preferences."""
        prefs = self.till.prefs
        ids = self.ids
        ids.printer_kind.values = [tr(f"printer_{k}") for k in PRINTER_KINDS]
        ids.printer_kind.text = tr(f"printer_{prefs.printer_kind}")
        ids.printer_host.text = prefs.printer_host
        ids.printer_port.text = str(prefs.printer_port)
        ids.printer_device.text = prefs.printer_device
        ids.width.values = [tr("columns", n=n) for n in (32, 42, 48)]
        ids.width.text = tr("columns", n=prefs.receipt_width)
        ids.camera.text = prefs.camera_source
        ids.language.values = list(LANGUAGES.values())
        ids.language.text = LANGUAGES[prefs.language]

    def collect(self) -> UiPrefs:
        """The preferences as the form shows them."""
        ids = self.ids
        kinds = {tr(f"printer_{k}"): k for k in PRINTER_KINDS}
        widths = {tr("columns", n=n): n for n in (32, 42, 48)}
        languages = {name: code for code, name in LANGUAGES.items()}
        port = ids.printer_port.text.strip()
        return self.till.prefs.with_changes(
            printer_kind=kinds.get(ids.printer_kind.text, "none"),
            printer_host=ids.printer_host.text.strip(),
            printer_port=int(port) if port.isdigit() else 9100,
            printer_device=ids.printer_device.text.strip(),
            receipt_width=widths.get(ids.width.text, 32),
            camera_source=ids.camera.text.strip(),
            language=languages.get(ids.language.text, "id"),
        )

    def save(self) -> None:
        """Keep the preferences and apply the language at once."""
        prefs = self.collect()
        self.till.save_prefs(prefs)
        self.app.set_language(prefs.language)
        self.refresh()
        self.message = tr("saved")
