"""A numeric keypad with OK: digits, 00, backspace, clear and a tall OK key.

Quantities, whole-cart discounts and supervisor PINs are typed on it. It edits its
``value`` string and fires ``on_ok`` with it; what the digits mean is the caller's.
Layout in ``kv/keypad.kv``. (The PIN and cash keypads of the login and payment screens
are :class:`pos_client.ui.widgets.Keypad`, which has no OK key; this one is separate
because that class's kv rule would also lay out any subclass.)
"""

from __future__ import annotations

from typing import Any

from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from pos_client.ui import widgets  # noqa: F401  (the K* button styles the keys use)
from pos_client.ui.paths import KV_DIR

BACKSPACE = "⌫"
CLEAR = "C"
OK = "OK"
COMMA = ","
"""The decimal comma (a weight: ``0,75`` kg); only on a pad with ``decimal`` on."""


def edit(
    value: str,
    key: str,
    *,
    max_length: int = 12,
    leading_zero: bool = False,
    decimal: bool = False,
) -> str:
    """``value`` after one key: a digit, ``"00"``, :data:`CLEAR` or :data:`BACKSPACE`,
    and with ``decimal`` one :data:`COMMA` (an empty value then reads ``0,``).

    Without ``leading_zero`` an empty value takes no 0 or 00 (a quantity or amount never
    starts with 0; ``0,75`` is typed ``,75``); keys past ``max_length`` are ignored.
    """
    if key == CLEAR:
        return ""
    if key == BACKSPACE:
        return value[:-1]
    if key == COMMA and decimal and COMMA not in value and len(value) < max_length:
        return (value or "0") + COMMA
    if not key.isascii() or not key.isdigit():
        return value
    if not value and key.startswith("0") and not leading_zero:
        return value  # a weight under 1 kg starts with the comma: "0," is written for it
    if len(value) + len(key) > max_length:
        return value
    return value + key


class NumberPad(BoxLayout):
    """Digits 0–9 and 00, backspace, clear and OK, each at least 64 dp tall."""

    value = StringProperty("")
    max_length = NumericProperty(9)
    leading_zero = BooleanProperty(False)
    decimal = BooleanProperty(False)
    """Show the comma key and take a decimal value (a quantity of goods sold by weight)."""
    ok_text = StringProperty(OK)

    __events__ = ("on_ok",)

    def press(self, key: str) -> None:
        """Apply one key (OK fires ``on_ok`` with the value)."""
        if key == OK:
            self.dispatch("on_ok", self.value)
            return
        self.value = edit(
            self.value,
            key,
            max_length=int(self.max_length),
            leading_zero=self.leading_zero,
            decimal=self.decimal,
        )

    def type_keys(self, text: str) -> None:
        """Keys from a hardware keyboard: digits edit the value, Enter is OK, a comma or
        a point is the decimal comma."""
        for char in text:
            if char in "\r\n":
                self.press(OK)
            elif char in ",.":
                self.press(COMMA)
            elif char.isdigit():
                self.press(char)

    def button(self, key: str) -> Any:
        """The button of ``key`` ("7", "00", "C", "⌫", "OK"); tests tap it."""
        for widget in self.walk(restrict=True):
            if widget is not self and getattr(widget, "pad_key", None) == key:
                return widget
        raise LookupError(key)

    def on_ok(self, value: str) -> None:
        """OK was tapped (bind to it)."""


_KV = str(KV_DIR / "keypad.kv")
if _KV not in Builder.files:
    Builder.load_file(_KV)
