"""Device settings: printer (network ESC/POS, or a USB, serial or Bluetooth device file),
receipt width, camera, language, the USB scanner (suffix, prefix, pace), and a test page
to check the printer."""

from __future__ import annotations

from pos_client.printing.escpos import check_page_heading, print_lines, slip_lines
from pos_client.scanner.wedge import SUFFIX_CHOICES, ScannerSetupError, wedge_setup
from pos_client.ui.i18n import LANGUAGES, describe, tr
from pos_client.ui.prefs import UiPrefs, scanner_prefs
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
        scanner = prefs.wedge(self.till.settings)
        ids.scanner_suffix.values = [tr(f"scanner_suffix_{k}") for k in SUFFIX_CHOICES]
        ids.scanner_suffix.text = tr(f"scanner_suffix_{scanner.suffix_choice}")
        ids.scanner_prefix.text = scanner.prefix
        ids.scanner_gap.text = str(scanner.max_gap_ms)
        ids.scanner_length.text = str(scanner.min_length)

    def collect(self) -> UiPrefs:
        """The preferences as the form shows them (:class:`ScannerSetupError` when the
        scanner's values cannot be used)."""
        ids = self.ids
        kinds = {tr(f"printer_{k}"): k for k in PRINTER_KINDS}
        widths = {tr("columns", n=n): n for n in (32, 42, 48)}
        languages = {name: code for code, name in LANGUAGES.items()}
        port = ids.printer_port.text.strip()
        suffixes = {tr(f"scanner_suffix_{k}"): k for k in SUFFIX_CHOICES}
        scanner = wedge_setup(
            suffix=suffixes.get(ids.scanner_suffix.text, ""),
            prefix=ids.scanner_prefix.text,
            max_gap_ms=ids.scanner_gap.text,
            min_length=ids.scanner_length.text,
        )
        return self.till.prefs.with_changes(
            printer_kind=kinds.get(ids.printer_kind.text, "none"),
            printer_host=ids.printer_host.text.strip(),
            printer_port=int(port) if port.isdigit() else 9100,
            printer_device=ids.printer_device.text.strip(),
            receipt_width=widths.get(ids.width.text, 32),
            camera_source=ids.camera.text.strip(),
            language=languages.get(ids.language.text, "id"),
            scanner=scanner_prefs(scanner),
        )

    def save(self) -> None:
        """Keep the preferences; apply the language and the scanner's setup at once."""
        try:
            prefs = self.collect()
        except ScannerSetupError as exc:
            self.tell(describe(exc), "error")
            return
        self.till.save_prefs(prefs)
        self.app.set_language(prefs.language)
        self.app.apply_scanner(prefs.wedge(self.till.settings))
        self.refresh()
        self.tell(tr("saved"), "ok")

    def test_print(self) -> None:
        """Print a test page with the printer as the form shows it (saved or not), in a
        worker; say in a sentence whether it printed."""
        try:
            prefs = self.collect()
        except ScannerSetupError as exc:
            self.tell(describe(exc), "error")
            return
        transport = prefs.printer()
        if transport is None:
            self.tell(tr("no_printer"), "error")
            return
        width = prefs.receipt_width
        profile = self.till.store.store_profile()
        lines = slip_lines(
            tr("test_print_title"),
            [
                (tr("printer"), tr(f"printer_{prefs.printer_kind}")),
                (tr("receipt_width"), str(width)),
            ],
            width=width,
            heading=[
                profile.name if profile else "Kasir",
                *check_page_heading(width, self.till.now(), profile.timezone if profile else None),
            ],
            footer=[tr("test_print_footer")],
        )
        self.message = tr("printing")
        self.print_in_worker(
            lambda: print_lines(transport, lines),
            lambda: tr("test_printed"),
            lambda reason: tr("test_print_failed", reason=reason),
        )
