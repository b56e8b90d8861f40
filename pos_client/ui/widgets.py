"""Shared widgets: big buttons, fields, the numeric keypad, the status bar, a QR image.

Layout lives in ``kv/common.kv`` and ``kv/statusbar.kv``; behaviour here.
"""

from __future__ import annotations

import io
from typing import Any

import qrcode
from kivy.core.image import Image as CoreImage
from kivy.graphics.texture import Texture
from kivy.lang import Builder
from kivy.metrics import dp
from kivy.properties import BooleanProperty, NumericProperty, OptionProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout

from pos_client.ui.paths import KV_DIR

Builder.load_file(str(KV_DIR / "common.kv"))
Builder.load_file(str(KV_DIR / "statusbar.kv"))


class Keypad(GridLayout):
    """Digits 0–9, 000, clear and backspace; edits its ``value`` string.

    ``max_length`` keeps PINs and amounts sane.
    """

    value = StringProperty("")
    max_length = NumericProperty(12)
    leading_zero = BooleanProperty(False)
    """True for PINs ("0427"); amounts never start with 0."""

    def press(self, key: str) -> None:
        """Apply one key: a digit, ``"000"``, ``"C"`` (clear) or ``"⌫"`` (backspace)."""
        if key == "C":
            self.value = ""
        elif key == "⌫":
            self.value = self.value[:-1]
        elif key.isdigit():
            if not self.value and key.startswith("0") and not self.leading_zero:
                return
            self.value = (self.value + key)[: int(self.max_length)]


class StatusBar(BoxLayout):
    """Online/offline, events waiting, rejected and stuck events, last sync, who is logged
    in, news.

    One row on a wide screen; on a narrow (portrait) one the news, the user's name and
    the stuck events (when there are any) move to a second row so nothing is squeezed off
    the edge.
    """

    online_text = StringProperty("")
    waiting_text = StringProperty("")
    last_sync_text = StringProperty("")
    rejected_text = StringProperty("")
    stuck_text = StringProperty("")
    user_text = StringProperty("")
    message = StringProperty("")
    tone = OptionProperty("info", options=["info", "ok", "error"])
    """The news line's colour: plain, green for something done, red for a problem."""
    is_online = BooleanProperty(False)
    has_rejected = BooleanProperty(False)
    has_stuck = BooleanProperty(False)
    wide = BooleanProperty(True)

    def on_message(self, *_: Any) -> None:
        """News set directly is plain; a screen's ``toast`` sets the tone after it."""
        self.tone = "info"

    def on_width(self, _instance: Any, width: float) -> None:
        """Move the news, user and stuck labels between the rows as the width changes."""
        wide = width >= dp(1000)
        message, user, stuck = self.ids.message, self.ids.user, self.ids.stuck
        row1, row2 = self.ids.row1, self.ids.row2
        target = row1 if wide else row2
        self.wide = wide
        if message.parent is target:
            return
        for label in (message, user, stuck):
            if label.parent is not None:
                label.parent.remove_widget(label)
        index = 1 if wide else 0  # in row 1: just before the sync button
        target.add_widget(message, index=index)
        target.add_widget(user, index=index)
        if wide:  # between the rejected count and the last sync time
            row1.add_widget(stuck, index=row1.children.index(self.ids.last_sync) + 1)
        else:  # first in row 2
            row2.add_widget(stuck, index=len(row2.children))


def qr_texture(data: str, *, box_size: int = 8, border: int = 2) -> Texture:
    """A texture of the QR code for ``data`` drawn with the ``qrcode`` package."""
    qr = qrcode.QRCode(box_size=box_size, border=border)
    qr.add_data(data)
    qr.make(fit=True)
    image = qr.make_image(fill_color="black", back_color="white")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    buffer.seek(0)
    texture: Texture = CoreImage(buffer, ext="png").texture
    texture.mag_filter = "nearest"
    return texture
