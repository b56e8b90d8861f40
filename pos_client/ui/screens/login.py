"""PIN login: pick a name, type the PIN on the keypad; lockouts say how long to wait."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kivy.clock import Clock, ClockEvent
from kivy.factory import Factory
from kivy.properties import NumericProperty, StringProperty

from pos_client.domain.errors import DomainError
from pos_client.services import UserLocked, WrongPin
from pos_client.ui.glue import role_name
from pos_client.ui.i18n import describe, tr
from pos_client.ui.screens.base import KasirScreen, load_kv

load_kv("login")


class LoginScreen(KasirScreen):
    """The store's name (and text logo) on top; users on the left, PIN keypad on the right."""

    store_name = StringProperty("")
    logo_text = StringProperty("")
    selected_id = NumericProperty(0)
    selected_name = StringProperty("")
    pin_dots = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        """Nothing locked yet."""
        super().__init__(**kwargs)
        self._locked_until: datetime | None = None
        self._countdown: ClockEvent | None = None

    def refresh(self) -> None:
        """Show the store (from the last pull) and list the users who may log in."""
        profile = self.till.store.store_profile()
        self.store_name = profile.name if profile else ""
        self.logo_text = profile.logo_text if profile else ""
        self.ids.keypad.value = ""
        box = self.ids.users
        box.clear_widgets()
        users = self.till.auth.users()
        if not users:
            self.tell(tr("no_users"), "error")
        for user in users:
            role = f"[size=14sp]{role_name(user.role)}[/size]"
            button = Factory.UserButton(text=f"{user.full_name}\n{role}")
            button.user_id = user.id
            button.user_name = user.full_name
            button.bind(on_release=self._pick)
            box.add_widget(button)
        if users and not self.selected_id:
            self.select(users[0].id, users[0].full_name)

    def _pick(self, button: Any) -> None:
        self.select(button.user_id, button.user_name)

    def select(self, user_id: int, name: str) -> None:
        """Choose who is logging in."""
        self.selected_id = user_id
        self.selected_name = name
        self.ids.keypad.value = ""
        self.message = ""
        for child in self.ids.users.children:
            child.state = "down" if child.user_id == user_id else "normal"

    def on_pin(self, value: str) -> None:
        """The keypad changed: show dots, never digits."""
        self.pin_dots = "●" * len(value)

    def on_keys(self, text: str) -> None:
        """A keyboard at the till: digits go to the keypad, Enter logs in."""
        for char in text:
            if char.isdigit():
                self.ids.keypad.press(char)
            elif char == "\n":
                self.submit()

    def submit(self) -> None:
        """Check the PIN (argon2 verify takes a few ms; fine on the UI thread)."""
        pin = self.ids.keypad.value
        if not self.selected_id or not pin:
            return
        self.ids.keypad.value = ""
        try:
            user = self.till.auth.login(self.selected_id, pin)
        except WrongPin as exc:
            self.tell(tr("wrong_pin", n=exc.attempts_left), "error")
            return
        except UserLocked as exc:
            self._start_countdown(exc.until)
            return
        except DomainError as exc:
            self.tell(describe(exc), "error")
            return
        self.message = ""
        self.app.logged_in(user)

    def _start_countdown(self, until: datetime) -> None:
        self._locked_until = until
        if self._countdown is not None:
            self._countdown.cancel()
        self._tick(0)
        self._countdown = Clock.schedule_interval(self._tick, 1.0)

    def _tick(self, _dt: float) -> None:
        if self._locked_until is None:
            return
        left = int((self._locked_until - self.till.now()).total_seconds() + 0.999)
        if left <= 0:
            self.message = ""
            self._locked_until = None
            if self._countdown is not None:
                self._countdown.cancel()
            return
        self.tell(tr("locked", name=self.selected_name, seconds=left), "error")
