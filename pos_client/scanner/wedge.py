"""Tell a keyboard-wedge barcode scanner apart from a person typing.

USB and Bluetooth scanners pretend to be keyboards: they "type" the code very fast
and press Enter. :class:`WedgeBuffer` watches the time between keys. A burst of at
least ``min_length`` characters, each within ``max_gap`` seconds of the one before,
ended by an Enter just as fast, is a scan. Anything slower is typing, and belongs
to whatever field has the focus.

Pure logic with an injected clock, so it is tested without a keyboard or Kivy. The
app feeds it from key-down events (:mod:`pos_client.scanner.keys`), which SDL sends on
every screen whether or not a field has focus, holds the characters back, and hands
:meth:`WedgeBuffer.take_typed` / :meth:`WedgeBuffer.poll` to the focused field.

Scanners are set up to end a code with Enter or Tab, and some to start it with a prefix
character; ``suffixes`` and ``prefix`` say which (``ClientSettings.scanner_*``).

An app reads keys in batches, once a frame, and stamps them when it reads them: after
a slow frame (a cart redraw on a busy till) keys a scanner sent 10 ms apart are read
60 ms apart, or all at once. So an app that calls :meth:`WedgeBuffer.caught_up` each
time it has read every waiting key has the gap before a key measured from the previous
key to the last such moment -- time the app really waited with no key coming -- and a
slow frame no longer splits a scan.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from shared.barcodes import barcode_error
from shared.errors import CodedError

ENTER_KEYS = frozenset({"\n", "\r", "enter", "numpadenter"})
"""What counts as Enter: the characters, or Kivy's key names for the two Enter keys."""
TAB_KEYS = frozenset({"\t", "tab"})
"""What counts as Tab."""
SUFFIXES = {"enter": ENTER_KEYS, "tab": TAB_KEYS}
"""The keys a scanner may end a code with, by name."""


class WedgeBuffer:
    """Collects keys and says when a fast burst ending in Enter was a scan."""

    def __init__(
        self,
        now: Callable[[], float],
        *,
        max_gap: float = 0.05,
        min_length: int = 6,
        suffixes: Iterable[str] = ("enter",),
        prefix: str = "",
    ) -> None:
        """``now`` gives monotonic seconds (``time.monotonic`` in the app).

        ``suffixes`` names the keys that end a scan (``"enter"``, ``"tab"``); ``prefix``
        is a character the scanner sends first (empty for none), taken off the code.
        """
        if max_gap <= 0 or min_length < 1:
            raise ValueError("max_gap must be positive and min_length at least 1")
        unknown = set(suffixes) - set(SUFFIXES)
        if unknown or not set(suffixes):
            raise ValueError(f"suffixes must be some of {sorted(SUFFIXES)}, not {unknown}")
        if len(prefix) > 1:
            raise ValueError("prefix must be one character or empty")
        self._now = now
        self.max_gap = max_gap
        self.min_length = min_length
        self.suffixes = frozenset(suffixes)
        self.prefix = prefix
        self._ends = frozenset(key for name in self.suffixes for key in SUFFIXES[name])
        self._burst: list[str] = []
        self._last: float | None = None
        self._caught_up: float | None = None
        self._typed: list[str] = []

    @property
    def buffered(self) -> str:
        """The characters of the burst being read (not yet known to be scan or typing)."""
        return "".join(self._burst)

    def caught_up(self) -> None:
        """The app has just read every key that was waiting: none is queued right now.

        A key read later was pressed after this moment. Once this is called (each frame,
        right after the app read its input), the gap before a key is the time from the
        previous key to the latest such moment: a lower bound of the real gap that does
        not grow when the app is slow to read. Without it, the gap is the time between
        reads, which is right only for an app that reads each key as it comes.
        """
        self._caught_up = self._now()

    def _gap(self, at: float) -> float | None:
        """Seconds between the previous key and key read at ``at`` (None: no previous key)."""
        if self._last is None:
            return None
        if self._caught_up is None:
            return at - self._last
        # A key read in the same batch as the previous one: no wait between them.
        return max(0.0, min(at, self._caught_up) - self._last)

    def ends_scan(self, key: str) -> bool:
        """True when ``key`` is one of the configured suffixes (Enter, Tab)."""
        return key in self._ends

    def feed(self, key: str) -> str | None:
        """Feed one character, or a suffix; return the scanned code when a suffix ends a scan.

        Returns None for every other key, and for a suffix that ends typing (the held
        characters then move to :meth:`take_typed` and the key is the field's). An Enter
        or Tab that is not a configured suffix ends any burst like :meth:`flush`.
        """
        at = self._now()
        gap = self._gap(at)
        fast = gap is not None and gap <= self.max_gap
        if key in self._ends:
            code = self.buffered
            if self.prefix:
                fast = fast and code.startswith(self.prefix)
                code = code[len(self.prefix) :]
            is_scan = fast and len(code) >= self.min_length
            if not is_scan:
                self._typed.extend(self._burst)
            self._burst.clear()
            self._last = None
            return code if is_scan else None
        if key in ENTER_KEYS or key in TAB_KEYS:
            self._typed.extend(self._burst)  # the held characters stay the field's
            self._burst.clear()
            self._last = None
            return None
        if len(key) != 1:
            raise ValueError(f"feed one character or Enter, not {key!r}")
        if not fast:
            # A pause ends any burst: what came before was typed by a person.
            self._typed.extend(self._burst)
            self._burst.clear()
        self._burst.append(key)
        self._last = at
        return None

    def amend_last(self, text: str) -> None:
        """The window says the last key fed typed ``text`` (its real keyboard layout):
        use that instead of the character worked out from the key code."""
        if self._burst:
            self._burst[-1:] = list(text)
        elif self._typed:
            self._typed[-1:] = list(text)

    def flush(self) -> str:
        """A key that types nothing (Backspace, an arrow, a shortcut) ends any burst:
        what was held is typing; return all typing not yet handed over."""
        self._typed.extend(self._burst)
        self._burst.clear()
        self._last = None
        return self.take_typed()

    def take_typed(self) -> str:
        """Characters known to be typing, in order, for the focused field (then forgotten)."""
        typed = "".join(self._typed)
        self._typed.clear()
        return typed

    def poll(self) -> str:
        """Call now and then (each frame, after :meth:`caught_up`): a burst that went
        quiet is typing; return typing.

        With :meth:`caught_up` in use, quiet means the app had read every waiting key more
        than ``max_gap`` after the last one: keys still waiting in a slow app's queue do
        not make a scan look finished.
        """
        gap = self._gap(self._now())
        if gap is not None and gap > self.max_gap:
            self._typed.extend(self._burst)
            self._burst.clear()
            self._last = None
        return self.take_typed()

    def reset(self) -> None:
        """Forget everything (on a screen change, say)."""
        self._burst.clear()
        self._typed.clear()
        self._last = None


def scan_error(code: str) -> str | None:
    """Why a scanned ``code`` cannot be a product barcode, or None when it can.

    Surrounding whitespace is ignored; the rules are the catalog's own
    (:func:`shared.barcodes.barcode_error`: check digits for EAN/UPC, printable
    ASCII for Code128).
    """
    return barcode_error(code.strip())


MIN_GAP_MS, MAX_GAP_MS = 5, 500
"""The burst threshold a cashier may set: scanners send a key every 8–15 ms, and the
window reads keys once a frame (~17 ms), so below 5 ms no scan is fast enough and above
half a second fast typing reads as a scan."""
MIN_CODE_LENGTH, MAX_CODE_LENGTH = 1, 64
SUFFIX_CHOICES = {"enter": ("enter",), "tab": ("tab",), "enter_tab": ("enter", "tab")}
"""What the settings screen offers as the scanner's suffix, by name."""


class ScannerSetupError(CodedError, ValueError):
    """A scanner setting the cashier typed that the wedge cannot use."""


@dataclass(frozen=True, slots=True)
class WedgeSetup:
    """How this till's USB scanner is set up: its suffix keys, prefix and pace."""

    suffixes: tuple[str, ...] = ("enter", "tab")
    prefix: str = ""
    max_gap_ms: int = 50
    min_length: int = 6

    @property
    def suffix_choice(self) -> str:
        """The name of :data:`SUFFIX_CHOICES` these suffixes are."""
        wanted = set(self.suffixes)
        return next(name for name, keys in SUFFIX_CHOICES.items() if set(keys) == wanted)

    def buffer(self, now: Callable[[], float]) -> WedgeBuffer:
        """A :class:`WedgeBuffer` set up this way."""
        return WedgeBuffer(
            now,
            max_gap=self.max_gap_ms / 1000,
            min_length=self.min_length,
            suffixes=self.suffixes,
            prefix=self.prefix,
        )


def wedge_setup(*, suffix: str, prefix: str, max_gap_ms: str, min_length: str) -> WedgeSetup:
    """The setup the settings form shows, checked; :class:`ScannerSetupError` says what is
    wrong in a sentence (its code and parameters)."""
    if suffix not in SUFFIX_CHOICES:
        raise ScannerSetupError("scanner_suffix_unknown", suffix=suffix)
    if len(prefix) > 1 or (prefix and (not prefix.isprintable() or prefix.isspace())):
        raise ScannerSetupError("scanner_prefix_invalid", prefix=prefix)
    gap = max_gap_ms.strip()
    if not (gap.isascii() and gap.isdigit()) or not MIN_GAP_MS <= int(gap) <= MAX_GAP_MS:
        raise ScannerSetupError("scanner_gap_out_of_range", low=MIN_GAP_MS, high=MAX_GAP_MS)
    length = min_length.strip()
    if not (length.isascii() and length.isdigit()) or not (
        MIN_CODE_LENGTH <= int(length) <= MAX_CODE_LENGTH
    ):
        raise ScannerSetupError(
            "scanner_length_out_of_range", low=MIN_CODE_LENGTH, high=MAX_CODE_LENGTH
        )
    return WedgeSetup(
        suffixes=SUFFIX_CHOICES[suffix],
        prefix=prefix,
        max_gap_ms=int(gap),
        min_length=int(length),
    )
