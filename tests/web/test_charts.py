"""The server-drawn SVG bar charts: every bar of a chart of names keeps its name, and a
chart of zeros draws one axis at 0 with a note instead of "1, 0, 0, 0"."""

from __future__ import annotations

import itertools
import re

from sync_server.web import charts
from sync_server.web.deps import templates

PRODUCTS = [
    ("Indomie Goreng Rendang Jumbo 129g", 1_250_000),
    ("Aqua Botol 600ml", 980_000),
    ("Teh Botol Sosro Kotak 250ml", 760_000),
    ("Kopi Kapal Api Special Mix 10x24g", 540_000),
    ("Gula Pasir Gulaku Premium 1kg", 500_000),
    ("Minyak Goreng Bimoli Klasik Pouch 2L", 410_000),
    ("Susu Ultra Milk Full Cream 1L", 300_000),
    ("Roti Tawar Sari Roti Kupas", 210_000),
    ("Sabun Lifebuoy Total 10 85g", 150_000),
    ("Pepsodent Pencegah Gigi Berlubang 190g", 120_000),
    ("Beras Pandan Wangi 5kg", 100_000),
    ("Telur Ayam Negeri 1kg", 90_000),
    ("Rinso Anti Noda Deterjen Bubuk 770g", 60_000),
    ("Baterai ABC Alkaline AA isi 2", 30_000),
    ("Kecap Manis Bango 220ml", 10_000),
]


def _svg(chart: charts.Chart, label: str = "Grafik") -> str:
    macros = templates.env.get_template("macros.html").module
    return str(macros.bar_chart(chart, label))  # type: ignore[attr-defined]


def _drawn_labels(svg: str) -> list[str]:
    """The text under or beside each bar (the axis values are outside the points)."""
    found = []
    for point in re.findall(r'<g class="point".*?</g>', svg, flags=re.S):
        text = re.search(r"<text[^>]*>(?:<title>[^<]*</title>)?([^<]*)</text>", point)
        if text:
            found.append(text.group(1))
    return found


def test_every_product_of_the_best_sellers_keeps_its_name() -> None:
    chart = charts.bar_chart(PRODUCTS)
    assert chart.horizontal
    svg = _svg(chart, "Pendapatan produk terlaris")
    labels = _drawn_labels(svg)
    assert len(labels) == len(PRODUCTS)  # no name skipped
    for (name, _), shown in zip(PRODUCTS, labels, strict=True):
        assert shown == name or (shown.endswith("…") and name.startswith(shown[:-1]))
        assert len(shown) <= charts.LABEL_CHARS
        assert f"<title>{name}: Rp " in svg  # the full name is in the tooltip
    # one row each, inside the picture, widest first, names clear of the bars
    ys = [p.y for p in chart.points]
    assert ys == sorted(ys) and len(set(ys)) == len(ys)
    assert all(p.y + p.height <= chart.height for p in chart.points)
    widths = [p.width for p in chart.points]
    assert widths == sorted(widths, reverse=True)
    assert all(p.label_x < p.x for p in chart.points)
    assert max(p.x + p.width for p in chart.points) <= chart.width


def test_a_time_axis_stands_and_names_every_nth_bar() -> None:
    days = [(f"{d:02d}/11", 1_000 * d) for d in range(1, 31)]
    chart = charts.bar_chart(days)
    assert not chart.horizontal and chart.label_every >= 2
    assert len(_drawn_labels(_svg(chart))) == -(-30 // chart.label_every)
    week = charts.bar_chart([(f"Sen {d}", d) for d in range(1, 8)], height=240)
    assert not week.horizontal and week.label_every == 1
    assert len(_drawn_labels(_svg(week))) == 7


def test_a_few_short_names_stand_up() -> None:
    chart = charts.bar_chart([("Tunai", 100_000), ("QRIS", 50_000)])
    assert not chart.horizontal and chart.label_every == 1
    assert _drawn_labels(_svg(chart)) == ["Tunai", "QRIS"]


def test_a_chart_of_zeros_draws_one_axis_at_zero_and_says_so() -> None:
    for data in (
        [("Sen 1", 0), ("Sel 2", 0), ("Rab 3", 0)],
        [("Indomie Goreng Rendang Jumbo 129g", 0), ("Aqua Botol 600ml", -5)],
    ):
        chart = charts.bar_chart(data)
        assert [text for _, text in chart.gridlines] == ["0"]
        assert chart.all_zero
        svg = _svg(chart)
        axis = re.findall(r'<text[^>]*class="axis"[^>]*>([^<]*)</text>', svg)
        assert "1" not in axis and axis.count("0") == 1
        assert charts.EMPTY_NOTE in svg
        assert all(p.height == 0 or p.width == 0 for p in chart.points)


def test_gridlines_are_whole_even_steps_labelled_truly() -> None:
    for peak in (1, 3, 7, 10, 99, 100, 2_500, 12_345, 7_654_321):
        chart = charts.bar_chart([("a", peak)], money=False)
        values = [int(text.replace(".", "")) for _, text in chart.gridlines]
        assert values[0] == 0 and values[-1] >= peak and 2 <= len(values) <= 6
        steps = {b - a for a, b in itertools.pairwise(values)}
        assert len(steps) == 1, (peak, values)
        assert len(set(values)) == len(values)
    money = charts.bar_chart([("a", 7_500)])
    assert [text for _, text in money.gridlines] == ["0", "2 rb", "4 rb", "6 rb", "8 rb"]


def test_a_chart_with_values_says_nothing_about_missing_data() -> None:
    chart = charts.bar_chart([("Sen 1", 0), ("Sel 2", 5_000)])
    assert not chart.all_zero and charts.EMPTY_NOTE not in _svg(chart)
