"""Bar charts drawn server-side as inline SVG: the geometry, no drawing library, no script."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from shared.money import format_rupiah


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


@dataclass(frozen=True)
class Chart:
    """A bar chart drawn server-side as inline SVG (no script, works offline)."""

    width: int
    height: int
    points: list[ChartPoint]
    gridlines: list[tuple[float, str]] = field(default_factory=list)
    baseline: float = 0.0
    label_every: int = 1

    @property
    def empty(self) -> bool:
        """True when there is nothing to draw."""
        return not self.points


def _nice_ceiling(value: int) -> int:
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 2.5, 5, 10):
        top = int(step * magnitude)
        if top >= value:
            return top
    return 10 * magnitude


def _short_rupiah(value: int) -> str:
    if value >= 1_000_000_000:
        return f"{value / 1_000_000_000:.1f} M".replace(".", ",")
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f} jt".replace(".", ",")
    if value >= 1_000:
        return f"{value // 1_000} rb"
    return str(value)


def bar_chart(
    data: Sequence[tuple[str, int]],
    *,
    width: int = 720,
    height: int = 260,
    money: bool = True,
) -> Chart:
    """Lay out bars for ``(label, value)`` pairs; negative values are drawn as zero."""
    left, right, top, bottom = 64.0, 8.0, 12.0, 28.0
    plot_w = width - left - right
    plot_h = height - top - bottom
    peak = _nice_ceiling(max((max(v, 0) for _, v in data), default=0))
    slot = plot_w / max(len(data), 1)
    bar_w = max(slot * 0.7, 1.0)
    points = []
    for i, (label, value) in enumerate(data):
        h = plot_h * max(value, 0) / peak
        shown = format_rupiah(int(value)) if money else number(int(value))
        points.append(
            ChartPoint(
                label=label,
                value=int(value),
                x=round(left + i * slot + (slot - bar_w) / 2, 2),
                y=round(top + plot_h - h, 2),
                width=round(bar_w, 2),
                height=round(h, 2),
                title=f"{label}: {shown}",
            )
        )
    gridlines = []
    for k in range(5):
        value = peak * k // 4
        text = _short_rupiah(value) if money else number(value)
        gridlines.append((round(top + plot_h - plot_h * k / 4, 2), text))
    # Show every n-th label so that labels (about 7 px a character) never overlap.
    widest = max((len(label) for label, _ in data), default=1) * 7.0 + 10
    return Chart(
        width=width,
        height=height,
        points=points,
        gridlines=gridlines,
        baseline=top + plot_h,
        label_every=max(1, math.ceil(widest / slot)),
    )
