"""Bar charts drawn server-side as inline SVG: the geometry, no drawing library, no script.

A chart of a time axis (days, weeks, months, hours) stands its bars up and, when the
labels are too many to fit, names every n-th one. A chart of names (products, cashiers,
categories) that would not fit standing lays its bars down instead, one row each, so
that every bar keeps its name (cut short with an ellipsis when long; the full name is
in the bar's tooltip). A chart with nothing above zero draws one axis at 0 and says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from shared.money import format_rupiah

EMPTY_NOTE = "Belum ada data"
"""What a chart whose values are all zero says across its plot."""

CHAR_WIDTH = 7.0
"""About how wide one character of an axis label is, in the SVG's units (11 px font)."""
NAME_CHAR_WIDTH = 11.5
"""The same for a lying bar's name: room enough for the phone's larger font (20 px in the
SVG's units, web.css), as the picture shrinks to a phone's width."""
LABEL_CHARS = 22
"""The longest name a lying bar shows in full; longer ones end with an ellipsis."""
ROW_HEIGHT = 26.0
"""The height of one lying bar's row."""


def number(value: int | None) -> str:
    """``12500`` → ``12.500``, Indonesian thousands."""
    return f"{int(value or 0):,}".replace(",", ".")


@dataclass(frozen=True)
class ChartPoint:
    """One bar of a chart, already placed in the SVG's coordinates."""

    label: str
    value: int
    x: float
    y: float
    width: float
    height: float
    title: str
    short_label: str = ""
    """The label as drawn (``label`` cut short with an ellipsis when too long)."""
    label_x: float = 0.0
    label_y: float = 0.0


@dataclass(frozen=True)
class Chart:
    """A bar chart drawn server-side as inline SVG (no script, works offline).

    ``horizontal``: bars lie along rows (a chart of names), the gridlines are vertical and
    ``gridlines`` holds their x; otherwise bars stand and ``gridlines`` holds their y.
    """

    width: int
    height: int
    points: list[ChartPoint]
    gridlines: list[tuple[float, str]] = field(default_factory=list)
    baseline: float = 0.0
    label_every: int = 1
    horizontal: bool = False
    plot_left: float = 64.0
    plot_right: float = 0.0
    plot_top: float = 12.0
    all_zero: bool = False
    """Every value is zero (or below): the plot shows :data:`EMPTY_NOTE`."""
    note: str = ""

    @property
    def empty(self) -> bool:
        """True when there is nothing to draw."""
        return not self.points

    @property
    def note_x(self) -> float:
        """Where the empty note is centred across."""
        return round((self.plot_left + self.plot_right) / 2, 2)

    @property
    def note_y(self) -> float:
        """Where the empty note sits down the plot."""
        bottom = self.baseline if not self.horizontal else self.height - 24.0
        return round((self.plot_top + bottom) / 2 + 4, 2)


def _nice_step(value: float) -> int:
    """The smallest of 1, 2, 2.5, 5 × 10ⁿ (a whole number) at least ``value``."""
    if value <= 1:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * magnitude
        if candidate >= value and candidate == int(candidate):
            return int(candidate)
    return 10 * magnitude


def _scale(peak: int) -> tuple[int, list[int]]:
    """The axis's top and its gridline values (0 first, at most 5 lines, whole steps)."""
    if peak <= 0:
        return 1, [0]
    step = _nice_step(peak / 4)
    top = step * math.ceil(peak / step)
    return top, list(range(0, top + 1, step))


def _short_rupiah(value: int) -> str:
    def one_decimal(amount: float, unit: str) -> str:
        text = f"{amount:.1f}".removesuffix(".0").replace(".", ",")
        return f"{text} {unit}"

    if value >= 1_000_000_000:
        return one_decimal(value / 1_000_000_000, "M")
    if value >= 1_000_000:
        return one_decimal(value / 1_000_000, "jt")
    if value >= 1_000:
        return one_decimal(value / 1_000, "rb")
    return str(value)


def _axis_text(value: int, money: bool) -> str:
    return _short_rupiah(value) if money else number(value)


def shorten(label: str, limit: int = LABEL_CHARS) -> str:
    """``label`` cut to ``limit`` characters, the last one an ellipsis when it was longer."""
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _names(labels: Sequence[str]) -> bool:
    """True for a chart of names: a time axis's labels (``01/03``, ``Mg 9``, ``Mar '25``,
    ``08``, ``Sen 3``) are short and carry a number."""
    return any(len(label) > 7 or not any(ch.isdigit() for ch in label) for label in labels)


def bar_chart(
    data: Sequence[tuple[str, int]],
    *,
    width: int = 720,
    height: int = 260,
    money: bool = True,
    horizontal: bool | None = None,
) -> Chart:
    """Lay out bars for ``(label, value)`` pairs; negative values are drawn as zero.

    ``horizontal`` None decides: lying bars for a chart of names whose labels would not
    fit under standing bars, standing bars otherwise (``height`` is then the rows' own).
    """
    left, right, top, bottom = 64.0, 8.0, 12.0, 28.0
    slot = (width - left - right) / max(len(data), 1)
    widest = max((len(label) for label, _ in data), default=1) * CHAR_WIDTH + 10
    if horizontal is None:
        horizontal = widest > slot and _names([label for label, _ in data])
    if horizontal:
        return _lying_bars(data, width=width, money=money)
    plot_h = height - top - bottom
    peak, ticks = _scale(max((max(v, 0) for _, v in data), default=0))
    bar_w = max(slot * 0.7, 1.0)
    points = []
    for i, (label, value) in enumerate(data):
        h = plot_h * max(value, 0) / peak
        shown = format_rupiah(int(value)) if money else number(int(value))
        x = round(left + i * slot + (slot - bar_w) / 2, 2)
        points.append(
            ChartPoint(
                label=label,
                value=int(value),
                x=x,
                y=round(top + plot_h - h, 2),
                width=round(bar_w, 2),
                height=round(h, 2),
                title=f"{label}: {shown}",
                short_label=label,
                label_x=round(x + bar_w / 2, 2),
                label_y=round(top + plot_h + 16, 2),
            )
        )
    gridlines = [
        (round(top + plot_h - plot_h * tick / peak, 2), _axis_text(tick, money)) for tick in ticks
    ]
    all_zero = bool(data) and ticks == [0]
    # Show every n-th label so that labels (about 7 px a character) never overlap.
    return Chart(
        width=width,
        height=height,
        points=points,
        gridlines=gridlines,
        baseline=top + plot_h,
        label_every=max(1, math.ceil(widest / slot)),
        plot_left=left,
        plot_right=width - right,
        plot_top=top,
        all_zero=all_zero,
        note=EMPTY_NOTE if all_zero else "",
    )


def _lying_bars(data: Sequence[tuple[str, int]], *, width: int, money: bool) -> Chart:
    """One row per label: its (shortened) name on the left, the bar to its right."""
    names = [shorten(label) for label, _ in data]
    label_w = min(max((len(n) for n in names), default=1), LABEL_CHARS) * NAME_CHAR_WIDTH + 14
    left = max(64.0, min(label_w, width * 0.42))
    right, top, bottom = 16.0, 8.0, 24.0
    plot_w = width - left - right
    height = int(top + ROW_HEIGHT * max(len(data), 1) + bottom)
    baseline = top + ROW_HEIGHT * len(data)
    peak, ticks = _scale(max((max(v, 0) for _, v in data), default=0))
    bar_h = ROW_HEIGHT * 0.7
    points = []
    for i, ((label, value), name) in enumerate(zip(data, names, strict=True)):
        w = plot_w * max(value, 0) / peak
        shown = format_rupiah(int(value)) if money else number(int(value))
        y = round(top + i * ROW_HEIGHT + (ROW_HEIGHT - bar_h) / 2, 2)
        points.append(
            ChartPoint(
                label=label,
                value=int(value),
                x=left,
                y=y,
                width=round(w, 2),
                height=round(bar_h, 2),
                title=f"{label}: {shown}",
                short_label=name,
                label_x=round(left - 6, 2),
                label_y=round(y + bar_h / 2 + 4, 2),
            )
        )
    gridlines = [(round(left + plot_w * tick / peak, 2), _axis_text(tick, money)) for tick in ticks]
    all_zero = bool(data) and ticks == [0]
    return Chart(
        width=width,
        height=height,
        points=points,
        gridlines=gridlines,
        baseline=baseline,
        horizontal=True,
        plot_left=left,
        plot_right=width - right,
        plot_top=top,
        all_zero=all_zero,
        note=EMPTY_NOTE if all_zero else "",
    )
