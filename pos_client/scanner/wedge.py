"""Tell a keyboard-wedge barcode scanner apart from a person typing.

USB and Bluetooth scanners pretend to be keyboards: they "type" the code very fast
and press Enter. :class:`WedgeBuffer` watches the time between keys. A burst of at
least ``min_length`` characters, each within ``max_gap`` seconds of the one before,
ended by an Enter just as fast, is a scan. Anything slower is typing, and belongs
to whatever field has the focus.

Pure logic with an injected clock, so it is tested without a keyboard or Kivy. The
UI may either let keys reach the field and, on a scan, take the code back out of it;
or hold keys back and hand :meth:`WedgeBuffer.take_typed` / :meth:`WedgeBuffer.poll`
to the field.
"""

from __future__ import annotations

from collections.abc import Callable

from shared.barcodes import barcode_error

ENTER_KEYS = frozenset({"\n", "\r", "enter", "numpadenter"})
"""What counts as Enter: the characters, or Kivy's key names for the two Enter keys."""


class WedgeBuffer:
    """Collects keys and says when a fast burst ending in Enter was a scan."""

    def __init__(
        self, now: Callable[[], float], *, max_gap: float = 0.05, min_length: int = 6
    ) -> None:
        """``now`` gives monotonic seconds (``time.monotonic`` in the app)."""
        if max_gap <= 0 or min_length < 1:
            raise ValueError("max_gap must be positive and min_length at least 1")
        self._now = now
        self.max_gap = max_gap
        self.min_length = min_length
        self._burst: list[str] = []
        self._last: float | None = None
        self._typed: list[str] = []

    @property
    def buffered(self) -> str:
        """The characters of the burst being read (not yet known to be scan or typing)."""
        return "".join(self._burst)

    def feed(self, key: str) -> str | None:
        """Feed one character, or Enter; return the scanned code when Enter ends a scan.

        Returns None for every other key, and for an Enter that ends typing (the
        held characters then move to :meth:`take_typed` and the Enter is the field's).
        """
        at = self._now()
        fast = self._last is not None and at - self._last <= self.max_gap
        if key in ENTER_KEYS:
            code = self.buffered
            is_scan = fast and len(code) >= self.min_length
            if not is_scan:
                self._typed.extend(self._burst)
            self._burst.clear()
            self._last = None
            return code if is_scan else None
        if len(key) != 1:
            raise ValueError(f"feed one character or Enter, not {key!r}")
        if not fast:
            # A pause ends any burst: what came before was typed by a person.
            self._typed.extend(self._burst)
            self._burst.clear()
        self._burst.append(key)
        self._last = at
        return None

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
