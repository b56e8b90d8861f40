"""The Kivy app: wires the screens, the status bar, the sync worker, scanners and language.

Scanning: a USB keyboard-wedge scanner "types" very fast and ends with Enter (or Tab).
The app reads every KEY-DOWN at the window before any field sees it and feeds
:class:`~pos_client.scanner.wedge.WedgeBuffer`. Key-downs, not text-input events: SDL
sends text input only while a field has started it (after a field loses focus it
stops), key-downs always come, so scans work on every screen, focused field or not. A
fast burst ending in a suffix is a scan and goes to the current screen's ``on_scan``
(the sale screen rings it up), so a scan never lands in a field. Characters that turn
out to be typing are handed to the focused field (or, with none, to a screen that takes
keys, like the PIN keypad) a few milliseconds later (``WedgeBuffer.poll``); the text
input SDL sends for a key is swallowed, only used to correct the character for the real
keyboard layout. Keys are read in batches, once a frame, so the gaps between them are
measured against the moments the window's event queue was found empty
(``WedgeBuffer.caught_up``, each frame right after reading it): a slow frame does not
split a scan. Camera codes come from a
:class:`~pos_client.scanner.camera.CameraScanner` worker through ``Clock.schedule_once``.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from argon2 import PasswordHasher
from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.factory import Factory
from kivy.properties import ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import NoTransition, ScreenManager
from kivy.uix.textinput import TextInput

from pos_client.config import ClientSettings
from pos_client.domain.catalog import User
from pos_client.domain.errors import DomainError
from pos_client.scanner.camera import (
    PRODUCT_SYMBOLS,
    RECEIPT_SYMBOLS,
    BarcodeDecoder,
    CameraScanner,
    CameraUnavailable,
    open_source,
)
from pos_client.scanner.keys import MODIFIER_KEYS, key_char, terminator
from pos_client.scanner.wedge import WedgeBuffer, WedgeSetup
from pos_client.services.checkout import CheckoutResult
from pos_client.services.clock import Clock as NowClock
from pos_client.services.clock import utc_now
from pos_client.services.qris import QrisGateway
from pos_client.sync.worker import SyncReport, SyncWorker
from pos_client.ui import i18n
from pos_client.ui.glue import stuck_sentence
from pos_client.ui.i18n import describe, tr
from pos_client.ui.screens.firstrun import FirstRunScreen
from pos_client.ui.screens.history import HistoryScreen
from pos_client.ui.screens.login import LoginScreen
from pos_client.ui.screens.manager import ManagerScreen, ManagerUsersScreen
from pos_client.ui.screens.payment import PaymentScreen
from pos_client.ui.screens.receipt import ReceiptScreen
from pos_client.ui.screens.refund import RefundScreen
from pos_client.ui.screens.sale import SaleScreen
from pos_client.ui.screens.settings import SettingsScreen
from pos_client.ui.screens.shift import ShiftScreen
from pos_client.ui.screens.stock import StockScreen
from pos_client.ui.sound import Beeper
from pos_client.ui.till import Till
from pos_client.ui.widgets import StatusBar
from pos_client.ui.workers import on_ui
from shared.models import Role
from shared.timezones import format_local, store_zone

log = logging.getLogger("kasir.ui")


# Screens where a scan means something; elsewhere it is dropped with a note.
SCAN_SCREENS = {"sale", "refund", "stock"}


class KasirApp(App):
    """The till. Construct with settings; tests inject a transport, a QRIS fake, a clock."""

    lang = StringProperty(i18n.DEFAULT_LANGUAGE)
    online = ObjectProperty(None, allownone=True)
    title = "Kasir"

    def __init__(
        self,
        settings: ClientSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        qris: QrisGateway | None = None,
        start_sync: bool = True,
        now: NowClock = utc_now,
        hasher: PasswordHasher | None = None,
        **kwargs: Any,
    ) -> None:
        """Open the till's store in ``settings.data_dir``; nothing shows until ``run()``."""
        super().__init__(**kwargs)
        self.settings = settings
        self.till = Till.open(settings, qris=qris, transport=transport, now=now, hasher=hasher)
        self.start_sync = start_sync
        self.sync: SyncWorker | None = None
        self.wedge: WedgeBuffer = self.till.prefs.wedge(settings).buffer(time.monotonic)
        self._key_text: str | None = None  # the character the last key-down typed
        self.scan_key_at: float | None = None  # monotonic: the key-down that ended the last scan
        self.camera: CameraScanner | None = None
        self.beeper = Beeper()
        self.scans: list[str] = []
        self.status_bar: StatusBar | None = None
        self.manager: ScreenManager | None = None
        self.pending_enroll_code: str | None = None
        self.set_language(self.till.prefs.language)

    # -- language ------------------------------------------------------------------------
    def tr(self, key: str, _lang: str | None = None, **values: object) -> str:
        """``tr`` for kv rules; passing ``app.lang`` makes the rule redraw on a switch."""
        return tr(key, **values)

    def set_language(self, code: str) -> None:
        """Switch every screen to ``code`` ("id" or "en")."""
        i18n.set_language(code)
        self.lang = code
        if self.manager is not None:
            self.refresh_status()

    # -- building ------------------------------------------------------------------------
    def load_kv(self, filename: str | None = None) -> bool:
        """No app-wide kv file: each screen loads its own from ``ui/kv``."""
        return True

    def build(self) -> BoxLayout:
        """Status bar on top, one screen below."""
        root = BoxLayout(orientation="vertical")
        self.status_bar = StatusBar()
        self.manager = ScreenManager(transition=NoTransition())
        for screen in (
            FirstRunScreen(name="firstrun"),
            LoginScreen(name="login"),
            SaleScreen(name="sale"),
            PaymentScreen(name="payment"),
            ReceiptScreen(name="receipt"),
            RefundScreen(name="refund"),
            HistoryScreen(name="history"),
            ShiftScreen(name="shift"),
            StockScreen(name="stock"),
            SettingsScreen(name="settings"),
            ManagerScreen(name="manager"),
            ManagerUsersScreen(name="manager_users"),
        ):
            self.manager.add_widget(screen)
        root.add_widget(self.status_bar)
        root.add_widget(self.manager)
        Window.bind(on_key_down=self._on_key_down, on_textinput=self._on_textinput)
        Window.bind(on_keyboard=self._on_back_key)
        Clock.schedule_interval(self._poll_wedge, 0)  # each frame
        self.refresh_status()
        self.manager.current = "login" if self.till.enrolled() else "firstrun"
        return root

    def on_start(self) -> None:
        """Start syncing once the window is up; enroll at once with a code from the CLI."""
        self._fit_window()
        if self.till.enrolled():
            self._start_sync()
        elif self.pending_enroll_code:
            first: FirstRunScreen = self.screen("firstrun")
            first.ids.server.text = self.settings.server_url
            first.ids.code.text = self.pending_enroll_code
            first.start_enroll()

    def on_stop(self) -> None:
        """Stop workers and close the store."""
        self.stop_camera()
        if self.sync is not None:
            self.sync.stop(timeout=2)
        Window.unbind(on_key_down=self._on_key_down, on_textinput=self._on_textinput)
        Window.unbind(on_keyboard=self._on_back_key)

    # -- navigation ----------------------------------------------------------------------
    def screen(self, name: str) -> Any:
        """The screen called ``name``."""
        assert self.manager is not None
        return self.manager.get_screen(name)

    @property
    def current(self) -> str:
        """The name of the screen showing."""
        assert self.manager is not None
        return str(self.manager.current)

    def go(self, name: str) -> None:
        """Show screen ``name`` (the camera only runs on the sale screen)."""
        assert self.manager is not None
        if name != "sale" and self.camera is not None and name not in SCAN_SCREENS:
            self.stop_camera()
        self.wedge.reset()
        if self.manager.current == name:
            self.manager.get_screen(name).on_pre_enter()
        else:
            self.manager.current = name
        if self.camera is not None:
            symbols = RECEIPT_SYMBOLS if name == "refund" else PRODUCT_SYMBOLS
            self.camera.decoder = BarcodeDecoder(symbols)

    def enrolled(self) -> None:
        """First run finished: start syncing and ask for a PIN."""
        self._start_sync()
        self.go("login")

    def logged_in(self, user: User) -> None:
        """After a PIN: the sale screen, or the shift screen when no shift is open; a
        manager's PIN opens the Manager area (its Back leads on to selling)."""
        self.refresh_status()
        if user.role.at_least(Role.MANAGER):
            self.go("manager")
            return
        self.go("sale" if self.till.shifts.current() is not None else "shift")

    def logout(self) -> None:
        """Hand the till back to the login screen."""
        self.stop_camera()
        self.till.auth.logout()
        self.refresh_status()
        self.go("login")

    # -- back, quitting and the window ----------------------------------------------------
    fit_window = False
    """Set by the ``kasir`` command: open at the screen's size (tests keep their size)."""
    _quit_popup: Any = None
    # The window's close request is left alone: SDL sends the same event for SIGTERM
    # (a shutdown must not wait for a PIN); a kiosk window has no close button.

    def _fit_window(self) -> None:
        """Kiosk: full screen; otherwise maximized to the screen (1280×800 when the
        screen's size is unknown, set before the window opened: ``cli.window_config``)."""
        if not self.fit_window:
            return
        if self.settings.kiosk:
            Window.fullscreen = "auto"
        else:
            Window.maximize()

    def _on_back_key(self, _window: Any, key: int, *_args: Any) -> bool:
        if key != 27:  # Esc, and Android's back button
            return False
        self.back()
        return True  # never Kivy's default (which quits)

    def back(self) -> None:
        """Esc or Android back: go back a screen; where there is none, ask to quit."""
        if self._quit_popup is not None:
            self._quit_popup.dismiss()
            return
        if self.manager is None:
            return
        screen = self.screen(self.current)
        button = screen.ids.get("back")
        if button is not None and not button.disabled:
            button.dispatch("on_release")
        elif callable(getattr(screen, "back", None)):
            screen.back()
        elif self.current == "receipt":
            screen.new_sale()
        elif self.current in ("stock", "settings", "history"):
            self.go("sale")
        else:  # sale, login, first run
            self.ask_to_quit()

    def ask_to_quit(self) -> Any:
        """A confirm with a supervisor's PIN before the app closes; returns the popup."""
        from kivy.metrics import dp
        from kivy.uix.popup import Popup
        from kivy.uix.spinner import Spinner

        if self._quit_popup is not None:
            return self._quit_popup
        approvers = [u for u in self.till.auth.users() if u.role.at_least(Role.SUPERVISOR)]
        box = BoxLayout(orientation="vertical", padding=dp(12), spacing=dp(8))
        box.add_widget(Factory.KLabel(text=tr("quit_help"), color=(1, 1, 1, 1)))
        who = Spinner(
            text=approvers[0].full_name if approvers else "",
            values=[u.full_name for u in approvers],
            size_hint_y=None,
            height=dp(52),
            font_size=dp(20),
        )
        pin = Factory.KField(password=True, input_filter="int", hint_text=tr("quit_pin"))
        if approvers:
            box.add_widget(who)
            box.add_widget(pin)
        note = Factory.KLabel(text="", color=(1, 0.65, 0.55, 1))
        box.add_widget(note)
        row = BoxLayout(size_hint_y=None, height=dp(56), spacing=dp(8))
        cancel = Factory.KQuiet(text=tr("cancel"))
        confirm = Factory.KDanger(text=tr("quit_confirm"))
        row.add_widget(cancel)
        row.add_widget(confirm)
        box.add_widget(row)
        popup = Popup(
            title=tr("quit_title"),
            content=box,
            size_hint=(None, None),
            size=(dp(520), dp(400)),
            auto_dismiss=False,
        )

        def approve(*_: Any) -> None:
            if approvers:
                chosen = next((u for u in approvers if u.full_name == who.text), approvers[0])
                try:
                    self.till.auth.authorize(chosen.id, pin.text, Role.SUPERVISOR)
                except DomainError as exc:
                    pin.text = ""
                    note.text = describe(exc)
                    return
            popup.dismiss()
            self.stop()

        def closed(*_: Any) -> None:
            self._quit_popup = None

        cancel.bind(on_release=lambda *_: popup.dismiss())
        confirm.bind(on_release=approve)
        pin.bind(on_text_validate=approve)
        popup.bind(on_dismiss=closed)
        self._quit_popup = popup
        popup.open()
        self.quit_parts = {"who": who, "pin": pin, "note": note, "confirm": confirm}
        return popup

    def sale_done(self, result: CheckoutResult) -> None:
        """Show the receipt and push the sale soon."""
        receipt: ReceiptScreen = self.screen("receipt")
        self.go("receipt")
        receipt.show(result.sale, result.change)
        self.sync_now()

    def toast(self, text: str) -> None:
        """A short note in the status bar."""
        if self.status_bar is not None:
            self.status_bar.message = text

    # -- scanning ------------------------------------------------------------------------
    def handle_scan(self, code: str) -> None:
        """A scan from the USB scanner or the camera: to the current screen."""
        code = code.strip()
        if not code:
            return
        self.scans.append(code)
        if self.current not in SCAN_SCREENS or self.till.auth.current_user is None:
            self.toast(tr("scan_ignored"))
            return
        if self.screen(self.current).on_scan(code):
            self.beeper.beep()

    def _focused_field(self) -> TextInput | None:
        if self.manager is None:
            return None
        for root in Window.children:  # a popup first, then the screens
            for widget in root.walk():
                if isinstance(widget, TextInput) and widget.focus:
                    return widget
        return None

    def _deliver_typed(self, typed: str) -> None:
        if not typed:
            return
        field = self._focused_field()
        if field is not None:
            if not field.readonly:
                field.insert_text(typed)
        elif self.manager is not None:
            # No field: a screen that takes keys (the PIN keypad) gets them.
            self.screen(self.current).on_keys(typed)

    def _on_textinput(self, _window: Any, text: str) -> bool:
        if self._key_text is not None:
            # The text of the key just read at key-down: the wedge has it already;
            # the window knows the layout, so its character wins.
            if text != self._key_text:
                self.wedge.amend_last(text)
            self._key_text = None
            return True
        # Text no key-down explains (an input method, a dead key): the field's, after
        # whatever was held before it.
        self._deliver_typed(self.wedge.flush())
        return False

    def _on_key_down(
        self, _window: Any, key: int, _scancode: int, _codepoint: str | None, modifiers: list[str]
    ) -> bool:
        self._key_text = None
        end = terminator(key)
        if end is not None and self.wedge.ends_scan(end):
            at = time.monotonic()
            code = self.wedge.feed(end)
            if code is not None:
                self.scan_key_at = at
                self.handle_scan(code)
                return True
            self._deliver_typed(self.wedge.take_typed())
            if end == "enter" and self._focused_field() is None and self.manager is not None:
                self.screen(self.current).on_keys("\n")
            return False  # the field's own Enter (on_text_validate) or Tab
        char = key_char(key, modifiers)
        if char is not None:
            self.wedge.feed(char)
            self._key_text = char
            return True  # held back: typing reaches the field via _poll_wedge
        if key in MODIFIER_KEYS:
            return False  # Shift for a capital does not end a scan
        # Backspace, arrows, shortcuts: they apply after the characters typed before them.
        self._deliver_typed(self.wedge.flush())
        return False

    def _poll_wedge(self, _dt: float) -> None:
        # Keys a slow frame (or a busy CPU) left waiting are read first: only once the
        # window's queue is empty has the app caught up, and only then can a burst be
        # known to have gone quiet. (Reading them here is what the loop does next anyway.)
        Window.mainloop()
        self.wedge.caught_up()
        self._deliver_typed(self.wedge.poll())

    def apply_scanner(self, setup: WedgeSetup) -> None:
        """Read the USB scanner as ``setup`` says from the next key on (Settings saved)."""
        self.wedge = setup.buffer(time.monotonic)

    # -- camera --------------------------------------------------------------------------
    def toggle_camera(self) -> None:
        """Start or stop camera scanning (preview on the sale screen)."""
        if self.camera is not None:
            self.stop_camera()
        else:
            self.start_camera()

    def start_camera(self, source: str | None = None) -> bool:
        """Open the chosen camera (or ``source``); a plain message when there is none."""
        spec = source if source is not None else self.till.prefs.camera_source
        try:
            frames = open_source(spec or os.environ.get("KASIR_CAMERA", "0"))
        except CameraUnavailable as exc:
            log.info("camera: %s", exc)
            self.toast(tr("camera_none"))
            self.screen("sale").message = tr("camera_none")
            return False
        sale: SaleScreen = self.screen("sale")
        self.camera = CameraScanner(
            frames,
            on_code=on_ui(self.handle_scan),
            on_preview=on_ui(sale.show_preview),
            on_error=on_ui(self._camera_stopped),
            stop_at_end=False,
            idle_sleep=0.05,
        )
        self.camera.start()
        sale.camera_on = True
        return True

    def stop_camera(self) -> None:
        """Stop the camera worker."""
        if self.camera is not None:
            self.camera.stop()
            self.camera = None
        if self.manager is not None:
            self.screen("sale").camera_on = False

    def _camera_stopped(self, sentence: str) -> None:
        log.info("camera: %s", sentence)
        self.stop_camera()
        self.toast(tr("camera_none"))

    # -- sync ----------------------------------------------------------------------------
    def _start_sync(self) -> None:
        if not self.start_sync or self.sync is not None:
            return
        self.sync = self.till.sync_worker(on_ui(self.show_sync))
        self.sync.start()

    def sync_now(self, manual: bool = False) -> None:
        """Push now and refresh the waiting count.

        ``manual`` is the cashier's tap on the Sync button: it may cut a backoff short
        (the worker rate-limits taps). After a sale or a shift change it stays False, so
        a till that is backing off from a failing server does not hammer it.
        """
        if self.sync is not None:
            self.sync.sync_now(manual=manual)
        self.refresh_status()

    def show_sync(self, report: SyncReport) -> None:
        """A report from the sync worker (already on the UI thread).

        Whether the server answered comes from the report; the counts are read again
        from the local store here: a report counted at the start of its round reaches
        the UI later, and a sale rung up meanwhile must not vanish from "waiting".
        """
        self.online = report.online
        self._show_local_counts(online=report.online, stopped=report.stopped)
        if report.stopped_reason:
            self.toast(report.stopped_reason)
        if self.current == "payment":
            self.screen("payment").update_qris_availability()

    def _store_zone(self) -> ZoneInfo:
        """The store's time zone (receipts and the status bar speak local time)."""
        profile = self.till.store.store_profile()
        try:
            return store_zone(profile.timezone if profile else None)
        except (KeyError, ValueError):
            return store_zone(None)

    def refresh_status(self) -> None:
        """Re-read counts from the local store (sync worker not needed)."""
        stopped = self.sync.status().stopped if self.sync else False
        self._show_local_counts(online=self.online, stopped=stopped)

    def _show_local_counts(self, *, online: bool | None, stopped: bool) -> None:
        """The status bar with the local store's counts as they are now."""
        status = self.till.store.sync_status()
        self._show_status(
            online=online,
            stopped=stopped,
            pending=status.pending,
            rejected=status.rejected,
            last=status.last_success_at,
            stuck=status.stuck,
            next_stuck_retry_at=status.next_stuck_retry_at,
        )

    def show_stuck(self) -> Any:
        """List the events the server keeps failing on, each with its answer (a tap on
        the stuck count). Returns the popup."""
        zone = self._store_zone()
        stuck = self.till.store.stuck_events()
        popup = Factory.StuckPopup(title=tr("stuck_title"))
        lines = [stuck_sentence(item, zone) for item in stuck] or [tr("stuck_none")]
        for text in [tr("stuck_intro"), *lines]:
            popup.ids.list.add_widget(Factory.StuckLine(text=text))
        popup.open()
        return popup

    def _show_status(
        self,
        *,
        online: bool | None,
        stopped: bool,
        pending: int,
        rejected: int,
        last: datetime | None,
        stuck: int = 0,
        next_stuck_retry_at: datetime | None = None,
    ) -> None:
        bar = self.status_bar
        if bar is None:
            return
        if stopped:
            bar.online_text = tr("sync_stopped")
        elif online is None:
            bar.online_text = tr("connecting") if self.sync is not None else tr("offline")
        else:
            bar.online_text = tr("online") if online else tr("offline")
        bar.is_online = bool(online) and not stopped
        bar.has_rejected = rejected > 0
        bar.waiting_text = tr("waiting", n=pending)
        bar.rejected_text = tr("rejected", n=rejected)
        bar.has_stuck = stuck > 0
        zone = self._store_zone()
        retry = format_local(next_stuck_retry_at, zone, "time") if next_stuck_retry_at else "–"
        bar.stuck_text = tr("stuck", n=stuck, time=retry)
        bar.last_sync_text = (
            tr("last_sync", time=format_local(last, zone, "time")) if last else tr("never_synced")
        )
        user = self.till.auth.current_user
        bar.user_text = user.full_name if user else ""
