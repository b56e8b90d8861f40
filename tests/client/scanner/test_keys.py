"""Key-down codes to characters, and the wedge's suffixes, prefix and flush (no window)."""

from __future__ import annotations

import pytest

from pos_client.scanner.keys import key_char, terminator
from pos_client.scanner.wedge import WedgeBuffer
from tests.client.scanner.test_wedge import FakeClock, type_keys


@pytest.mark.parametrize(
    ("key", "mods", "char"),
    [
        (49, [], "1"),
        (49, ["shift"], "!"),
        (97, [], "a"),
        (97, ["shift"], "A"),
        (97, ["capslock"], "A"),
        (97, ["shift", "capslock"], "a"),
        (45, [], "-"),
        (257, ["numlock"], "1"),  # keypad 1, as xdotool KP_1 arrives in Kivy
        (265, [], "9"),
        (97, ["ctrl"], None),
        (8, [], None),  # Backspace
        (13, [], None),
        (304, ["shift"], None),  # Shift itself
        # Kivy 2.3 reports keypad 0 (256 = KMOD_LALT) with "alt" and "@" (64 =
        # KMOD_LCTRL) with "ctrl" though neither is held: still the characters.
        (256, ["numlock", "alt"], "0"),
        (256, ["alt"], "0"),
        (64, ["ctrl"], "@"),
        (257, ["numlock", "alt"], None),  # a real Alt with keypad 1 is still a shortcut
        (256, ["ctrl"], None),
    ],
)
def test_key_char(key: int, mods: list[str], char: str | None) -> None:
    assert key_char(key, mods) == char


def test_both_enters_and_tab_are_terminators() -> None:
    assert (terminator(13), terminator(271), terminator(9), terminator(49)) == (
        "enter",
        "enter",
        "tab",
        None,
    )


def test_tab_suffix_and_prefix() -> None:
    clock = FakeClock()
    wedge = WedgeBuffer(clock, suffixes=("enter", "tab"), prefix="~")
    assert type_keys(wedge, clock, [*"~8991234567891", "tab"], gap=0.01)[-1] == "8991234567891"
    clock.advance(1)
    # no prefix: fast, but not the scanner's
    assert type_keys(wedge, clock, [*"8991234567891", "enter"], gap=0.01)[-1] is None
    assert wedge.take_typed() == "8991234567891"


def test_tab_not_configured_ends_a_burst_as_typing() -> None:
    clock = FakeClock()
    wedge = WedgeBuffer(clock, suffixes=("enter",))
    assert type_keys(wedge, clock, [*"8991234567891", "\t"], gap=0.01)[-1] is None
    assert wedge.take_typed() == "8991234567891"


def test_flush_and_amend_last() -> None:
    clock = FakeClock()
    wedge = WedgeBuffer(clock)
    type_keys(wedge, clock, list("ab"), gap=0.01)
    wedge.amend_last("é")
    assert wedge.flush() == "aé" and wedge.buffered == ""


def test_bad_suffix_or_prefix_is_refused() -> None:
    with pytest.raises(ValueError):
        WedgeBuffer(FakeClock(), suffixes=("space",))
    with pytest.raises(ValueError):
        WedgeBuffer(FakeClock(), prefix="ab")


def test_a_keypad_scan_with_zeros_as_kivy_reports_it_is_one_scan() -> None:
    """xdotool KP_8 … KP_Enter under Kivy: Num Lock around each key, "alt" on keypad 0."""
    clock = FakeClock()
    wedge = WedgeBuffer(clock)
    for digit in "8999999000028":
        clock.advance(0.01)
        char = key_char(256 + int(digit), ["numlock", "alt"] if digit == "0" else ["numlock"])
        assert char == digit
        wedge.feed(char)
    clock.advance(0.01)
    assert wedge.feed("enter") == "8999999000028"
