"""Key-down events to characters, for the keyboard-wedge buffer.

SDL (and so Kivy) sends text-input events only while a text field has started text
input; after a field loses focus they stop, but key-down events keep coming. A USB
scanner must work on every screen, so the wedge reads key-down events: a key code plus
the held modifiers, turned here into the character a US keyboard would type (scanners
are configured for a US layout almost everywhere). Where the window also sends the
text for a key, the app prefers that text (it knows the real layout).

Key codes are Kivy's (``kivy.core.window.Keyboard.keycodes``): printable ASCII keys
have their character's code, lower case; the keypad digits are 256–265. No Kivy import
here, so this is tested without a window.
"""

from __future__ import annotations

from collections.abc import Iterable

KEYPAD = {
    **{256 + n: str(n) for n in range(10)},
    266: ".",
    267: "/",
    268: "*",
    269: "-",
    270: "+",
}
"""Keypad keys that type a character (with Num Lock on, which is how scanners send them)."""

TERMINATORS = {13: "enter", 271: "enter", 9: "tab"}
"""Keys a scanner may send after a code, by the suffix name settings use."""

MODIFIER_KEYS = frozenset(range(300, 314))
"""Num/Caps/Scroll Lock, Shift, Ctrl, Alt, Alt Gr, Super, Compose: they type nothing and
do not end a scan (a scanner holds Shift for the capitals of a Code128 label)."""

PHANTOM_MODIFIERS = {256: "alt", 64: "ctrl"}
"""A modifier Kivy 2.3 reports for a key although nobody holds it. Its SDL2 window checks
the key code itself against SDL's modifier masks (``WindowSDL._update_modifiers``):
keypad 0 is 256 = ``KMOD_LALT``, so it comes with "alt"; "@" is 64 = ``KMOD_LCTRL``, so
it comes with "ctrl". Read as shortcuts, they cut every keypad scan with a 0 in two.
:func:`key_char` ignores that one modifier for that key (a real Alt + keypad 0 then
types 0; no shortcut of the till uses it)."""

_US_SHIFTED = dict(zip("`1234567890-=[]\\;',./", '~!@#$%^&*()_+{}|:"<>?', strict=True))

_CHORD_MODIFIERS = frozenset({"ctrl", "alt", "meta", "super", "lctrl", "rctrl"})


def key_char(key: int, modifiers: Iterable[str] = ()) -> str | None:
    """The character key-down ``key`` types with ``modifiers`` held, or None.

    None for keys that type nothing (arrows, Backspace, F-keys, Enter, Tab, modifiers)
    and for shortcuts (a key pressed with Ctrl, Alt or Meta; not the modifier Kivy makes
    up for keypad 0 and "@", :data:`PHANTOM_MODIFIERS`).
    """
    held = set(modifiers)
    phantom = PHANTOM_MODIFIERS.get(key)
    if phantom is not None:
        held.discard(phantom)
    if held & _CHORD_MODIFIERS:
        return None
    if key in KEYPAD:
        return KEYPAD[key]
    if not 32 <= key <= 126:
        return None
    char = chr(key)
    shift = "shift" in held
    if char.isalpha():
        upper = shift != ("capslock" in held) or char.isupper()
        return char.upper() if upper else char.lower()
    if shift:
        return _US_SHIFTED.get(char, char)
    return char


def terminator(key: int) -> str | None:
    """``"enter"`` or ``"tab"`` when ``key`` is one (both Enter keys are Enter), else None."""
    return TERMINATORS.get(key)
