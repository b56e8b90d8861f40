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
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from shared.barcodes import barcode_error

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
        self._typed: list[str] = []

    @property
    def buffered(self) -> str:
        """The characters of the burst being read (not yet known to be scan or typing)."""
        return "".join(self._burst)

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
        fast = self._last is not None and at - self._last <= self.max_gap
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
        """Call now and then (every ~0.1 s): a burst that went quiet is typing; return typing."""
        if self._last is not None and self._now() - self._last > self.max_gap:
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
