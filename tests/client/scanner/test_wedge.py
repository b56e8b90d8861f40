"""The keyboard-wedge buffer: scanner bursts versus a person typing (fake clock)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos_client.scanner.wedge import ScannerSetupError, WedgeBuffer, scan_error, wedge_setup
from shared.messages import has_message, render


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def type_keys(
    buffer: WedgeBuffer, clock: FakeClock, keys: list[str], gap: float
) -> list[str | None]:
    out = []
    for key in keys:
        clock.advance(gap)
        out.append(buffer.feed(key))
    return out


def scanner_burst(code: str) -> list[str]:
    return [*code, "\r"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def wedge(clock: FakeClock) -> WedgeBuffer:
    return WedgeBuffer(clock, max_gap=0.05, min_length=6)


def test_fast_burst_ending_in_enter_is_a_scan(wedge: WedgeBuffer, clock: FakeClock) -> None:
    results = type_keys(wedge, clock, scanner_burst("8991234567891"), gap=0.008)
    assert results[:-1] == [None] * 13
    assert results[-1] == "8991234567891"
    assert wedge.take_typed() == "" and wedge.buffered == ""


def test_gap_exactly_at_the_limit_still_counts_as_fast(clock: FakeClock) -> None:
    wedge = WedgeBuffer(clock, max_gap=0.0625)  # a binary fraction: the sums stay exact
    assert type_keys(wedge, clock, scanner_burst("ABC123"), gap=0.0625)[-1] == "ABC123"


def test_slow_typing_is_not_a_scan_and_goes_to_the_field(
    wedge: WedgeBuffer, clock: FakeClock
) -> None:
    results = type_keys(wedge, clock, [*"indomie", "\n"], gap=0.2)
    assert results == [None] * 8
    assert wedge.take_typed() == "indomie"
    assert wedge.take_typed() == ""  # handed over once


def test_short_fast_burst_is_typing(wedge: WedgeBuffer, clock: FakeClock) -> None:
    # Two keys rolled quickly then Enter (a cashier typing a quantity "12").
    assert type_keys(wedge, clock, ["1", "2", "\r"], gap=0.01) == [None, None, None]
    assert wedge.take_typed() == "12"


def test_min_length_is_the_boundary(clock: FakeClock) -> None:
    wedge = WedgeBuffer(clock, min_length=6)
    assert type_keys(wedge, clock, scanner_burst("12345"), gap=0.01)[-1] is None
    assert wedge.take_typed() == "12345"
    clock.advance(1)
    assert type_keys(wedge, clock, scanner_burst("123456"), gap=0.01)[-1] == "123456"


def test_slow_enter_after_a_fast_burst_is_not_a_scan(wedge: WedgeBuffer, clock: FakeClock) -> None:
    type_keys(wedge, clock, list("8991234567891"), gap=0.01)
    clock.advance(0.5)
    assert wedge.feed("enter") is None
    assert wedge.take_typed() == "8991234567891"


def test_one_slow_key_inside_a_burst_breaks_it(wedge: WedgeBuffer, clock: FakeClock) -> None:
    type_keys(wedge, clock, list("899123"), gap=0.01)
    clock.advance(0.3)  # a pause: what came before was a person
    result = type_keys(wedge, clock, [*"4567891", "\r"], gap=0.01)
    assert result[-1] == "4567891"
    assert wedge.take_typed() == "899123"


def test_typing_then_a_scan_separates_both(wedge: WedgeBuffer, clock: FakeClock) -> None:
    type_keys(wedge, clock, list("gula"), gap=0.25)
    clock.advance(1.0)
    assert type_keys(wedge, clock, scanner_burst("96385074"), gap=0.005)[-1] == "96385074"
    assert wedge.take_typed() == "gula"


def test_back_to_back_scans(wedge: WedgeBuffer, clock: FakeClock) -> None:
    first = type_keys(wedge, clock, scanner_burst("8991234567891"), gap=0.005)[-1]
    second = type_keys(wedge, clock, scanner_burst("96385074"), gap=0.005)[-1]
    assert (first, second) == ("8991234567891", "96385074")


def test_enter_on_its_own_is_the_fields(wedge: WedgeBuffer, clock: FakeClock) -> None:
    clock.advance(1)
    assert wedge.feed("\n") is None and wedge.take_typed() == ""


def test_poll_releases_a_burst_that_went_quiet(wedge: WedgeBuffer, clock: FakeClock) -> None:
    type_keys(wedge, clock, list("ab"), gap=0.01)
    assert wedge.poll() == ""  # still within the gap: could be a scan
    assert wedge.buffered == "ab"
    clock.advance(0.06)
    assert wedge.poll() == "ab" and wedge.buffered == ""


def read_in_frames(
    wedge: WedgeBuffer,
    clock: FakeClock,
    frames: list[tuple[float, list[str]]],
    typed: list[str] | None = None,
) -> list[str | None]:
    """An app that reads keys once a frame: each frame is (seconds it took, keys read
    right after it), then the app has caught up (its event queue is empty) and polls;
    what the poll hands over as typing goes to ``typed``."""
    out = []
    for took, keys in frames:
        clock.advance(took)
        for key in keys:
            out.append(wedge.feed(key))
        wedge.caught_up()
        released = wedge.poll()
        if typed is not None:
            typed.append(released)
    return out


def test_a_slow_frame_in_the_middle_of_a_scan_does_not_split_it(
    wedge: WedgeBuffer, clock: FakeClock
) -> None:
    # Keys sent 10 ms apart; a 120 ms redraw holds the second half back in the queue.
    results = read_in_frames(
        wedge, clock, [(0.016, list("899999")), (0.12, list("9000028")), (0.016, ["\r"])]
    )
    assert results[-1] == "8999999000028"
    assert wedge.take_typed() == ""


def test_poll_waits_for_keys_a_slow_app_has_not_read_yet(
    wedge: WedgeBuffer, clock: FakeClock
) -> None:
    read_in_frames(wedge, clock, [(0.016, list("899999"))])
    clock.advance(0.2)  # a long frame: the app has not looked at its queue since
    assert wedge.poll() == "" and wedge.buffered == "899999"
    assert read_in_frames(wedge, clock, [(0.0, [*"9000028", "\r"])])[-1] == "8999999000028"


def test_with_caught_up_a_real_pause_still_ends_a_burst(
    wedge: WedgeBuffer, clock: FakeClock
) -> None:
    # A person at 150 ms a key, the app reading every 16 ms: never a scan.
    frames = []
    for key in [*"8999999000028", "\r"]:
        frames += [(0.016, [])] * 9 + [(0.006, [key])]
    typed: list[str] = []
    results = read_in_frames(wedge, clock, frames, typed)
    assert results == [None] * 14
    assert "".join(typed) + wedge.take_typed() == "8999999000028"


def test_poll_after_caught_up_releases_a_quiet_burst(wedge: WedgeBuffer, clock: FakeClock) -> None:
    typed: list[str] = []
    read_in_frames(wedge, clock, [(0.016, list("ab"))], typed)
    read_in_frames(wedge, clock, [(0.016, [])] * 3, typed)  # 48 ms of empty queue
    assert wedge.buffered == "ab" and "".join(typed) == ""
    read_in_frames(wedge, clock, [(0.016, [])], typed)
    assert "".join(typed) == "ab" and wedge.buffered == ""


def test_reset_forgets_everything(wedge: WedgeBuffer, clock: FakeClock) -> None:
    type_keys(wedge, clock, list("abc"), gap=0.3)
    wedge.reset()
    assert wedge.take_typed() == "" and wedge.buffered == ""


def test_multi_character_keys_are_refused(wedge: WedgeBuffer) -> None:
    with pytest.raises(ValueError):
        wedge.feed("shift")


def test_bad_settings_are_refused(clock: FakeClock) -> None:
    with pytest.raises(ValueError):
        WedgeBuffer(clock, max_gap=0)
    with pytest.raises(ValueError):
        WedgeBuffer(clock, min_length=0)


@given(
    code=st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=6, max_size=40),
    gap=st.floats(min_value=0.0, max_value=0.049),  # clear of float rounding at 0.05
)
def test_any_fast_burst_comes_back_whole(code: str, gap: float) -> None:
    clock = FakeClock()
    wedge = WedgeBuffer(clock)
    assert type_keys(wedge, clock, scanner_burst(code), gap=gap)[-1] == code
    assert wedge.take_typed() == ""


@given(
    text=st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
    gap=st.floats(min_value=0.051, max_value=2.0),
)
def test_typing_slower_than_the_gap_is_never_a_scan_and_never_lost(text: str, gap: float) -> None:
    clock = FakeClock()
    wedge = WedgeBuffer(clock)
    results = type_keys(wedge, clock, [*text, "\r"], gap=gap)
    assert results == [None] * (len(text) + 1)
    assert wedge.take_typed() == text


@pytest.mark.parametrize(
    ("code", "ok"),
    [
        ("8991234567891", True),
        (" 8991234567891\r\n", True),
        ("8991234567890", False),  # wrong check digit
        ("96385074", True),
        ("036000291452", True),
        ("RT-0001", True),
        ("", False),
        ("89912345678912", False),  # 14 digits
    ],
)
def test_scan_error(code: str, ok: bool) -> None:
    assert (scan_error(code) is None) is ok


# -- the scanner's setup, as the settings screen edits it -----------------------------------
def test_a_setup_from_the_form_reads_a_tab_ended_scan_only_when_tab_is_chosen() -> None:
    clock = FakeClock()
    enter_only = wedge_setup(suffix="enter", prefix="", max_gap_ms="50", min_length="6")
    assert enter_only.suffix_choice == "enter"
    buffer = enter_only.buffer(clock)
    assert type_keys(buffer, clock, [*"8999999000019", "\t"], 0.01)[-1] is None
    assert buffer.take_typed() == "8999999000019", "a Tab it does not know leaves typing"

    tab = wedge_setup(suffix="tab", prefix="~", max_gap_ms="30", min_length="8")
    assert (tab.suffixes, tab.prefix, tab.max_gap_ms, tab.min_length) == (("tab",), "~", 30, 8)
    buffer = tab.buffer(clock)
    assert type_keys(buffer, clock, [*"~8999999000019", "\t"], 0.01)[-1] == "8999999000019"
    assert wedge_setup(suffix="enter_tab", prefix="", max_gap_ms="50", min_length="6").suffixes == (
        "enter",
        "tab",
    )


@pytest.mark.parametrize(
    ("form", "code", "params"),
    [
        ({"suffix": "space"}, "scanner_suffix_unknown", {"suffix": "space"}),
        ({"prefix": "ab"}, "scanner_prefix_invalid", {"prefix": "ab"}),
        ({"prefix": " "}, "scanner_prefix_invalid", {"prefix": " "}),
        ({"max_gap_ms": "4"}, "scanner_gap_out_of_range", {"low": 5, "high": 500}),
        ({"max_gap_ms": "501"}, "scanner_gap_out_of_range", {"low": 5, "high": 500}),
        ({"max_gap_ms": ""}, "scanner_gap_out_of_range", {"low": 5, "high": 500}),
        ({"min_length": "0"}, "scanner_length_out_of_range", {"low": 1, "high": 64}),
        ({"min_length": "x"}, "scanner_length_out_of_range", {"low": 1, "high": 64}),
    ],
)
def test_a_setup_the_wedge_cannot_use_is_refused_in_a_sentence(
    form: dict[str, str], code: str, params: dict[str, object]
) -> None:
    values = {"suffix": "enter", "prefix": "", "max_gap_ms": "50", "min_length": "6", **form}
    with pytest.raises(ScannerSetupError) as refused:
        wedge_setup(**values)
    assert (refused.value.code, refused.value.params) == (code, params)
    for language in ("id", "en"):
        assert has_message(code, language)
    assert "{" not in render(code, refused.value.params, "id")
