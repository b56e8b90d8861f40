"""Shelf and product barcode labels laid out on A4 sheets, as PNG pages or one PDF.

Each label carries the product name, its price the Indonesian way ("Rp 3.500") and
its barcode drawn by python-barcode's ``ImageWriter``: EAN-13, EAN-8 or UPC-A when
the code is one (check digit verified first, because python-barcode would quietly
print a corrected, different code), Code128 otherwise. Bars are a whole number of
pixels wide at the sheet's resolution so that scanners read them cleanly.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

import barcode
from barcode.writer import ImageWriter
from PIL import Image, ImageDraw, ImageFont

from shared.barcodes import barcode_error
from shared.models import ProductOut
from shared.money import format_rupiah
from sync_server.core.errors import Invalid

MM_PER_INCH = 25.4

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


class LabelTooLong(Invalid, ValueError):
    """A barcode with more bars than a label is wide: 422 ``label_too_long``, not a crash."""


@dataclass(frozen=True)
class LabelItem:
    """What one label shows: a product's name, price in rupiah and barcode text."""

    name: str
    price: int
    barcode: str

    @classmethod
    def from_product(cls, product: ProductOut) -> LabelItem:
        """The label of a catalog product; a product without a barcode cannot have one."""
        if not product.barcode:
            raise ValueError(f"{product.name} ({product.sku}) has no barcode")
        return cls(name=product.name, price=product.price, barcode=product.barcode)


@dataclass(frozen=True)
class SheetLayout:
    """A sheet of labels in millimetres; the default is A4 with 3 × 8 labels of 70 × 37 mm."""

    page_width_mm: float = 210.0
    page_height_mm: float = 297.0
    columns: int = 3
    rows: int = 8
    margin_top_mm: float = 0.5
    margin_left_mm: float = 0.0
    label_width_mm: float = 70.0
    label_height_mm: float = 37.0
    padding_mm: float = 2.5
    dpi: int = 300

    def px(self, mm: float) -> int:
        """Millimetres to whole pixels at this layout's resolution."""
        return round(mm * self.dpi / MM_PER_INCH)

    @property
    def per_page(self) -> int:
        """Labels on one sheet."""
        return self.columns * self.rows

    def cell(self, index: int) -> tuple[int, int, int, int]:
        """The pixel box (left, top, right, bottom) of label ``index`` on its page."""
        row, column = divmod(index % self.per_page, self.columns)
        left = self.px(self.margin_left_mm + column * self.label_width_mm)
        top = self.px(self.margin_top_mm + row * self.label_height_mm)
        return left, top, left + self.px(self.label_width_mm), top + self.px(self.label_height_mm)


A4_3X8 = SheetLayout()


def symbology(code: str) -> str:
    """The python-barcode name for ``code``: ean13, ean8, upca or code128.

    Raises ``ValueError`` with the reason when the code is not a valid barcode.
    """
    error = barcode_error(code)
    if error is not None:
        raise ValueError(f"{code!r}: {error}")
    if code.isdigit():
        kind = {13: "ean13", 8: "ean8", 12: "upca"}.get(len(code))
        if kind is not None:
            return kind
    return "code128"


def barcode_image(code: str, *, dpi: int, max_width: int, max_height: int) -> Image.Image:
    """The barcode of ``code`` with its digits underneath, fitting the box in pixels.

    Modules are as many whole pixels wide as fit (at most 4); raises
    :class:`LabelTooLong` (a 422, and a ``ValueError``) when no width fits.
    """
    kind = symbology(code)
    modules: int | None = None
    for module_px in (4, 3, 2, 1):
        text_mm = 5.0
        options = {
            "module_width": module_px * MM_PER_INCH / dpi,
            "module_height": max(max_height * MM_PER_INCH / dpi - text_mm, 4.0),
            "quiet_zone": 10 * module_px * MM_PER_INCH / dpi,
            "font_size": 9,
            "text_distance": 3.5,
            "dpi": dpi,
            "background": "white",
            "foreground": "black",
        }
        symbol = barcode.get(kind, code, writer=ImageWriter(mode="L"))
        if symbol.get_fullcode() != code:  # never print a code other than the one stored
            raise ValueError(f"{code!r} would print as {symbol.get_fullcode()!r}")
        modules = modules or len(symbol.build()[0])
        if (modules + 2 * 10) * module_px > max_width:
            continue  # bars and quiet zones would not fit: try thinner bars
        try:
            image: Image.Image = symbol.render(options)
        except ValueError:
            continue  # the writer cannot draw bars this thin at this resolution
        if image.width > max_width:
            continue
        if image.height > max_height:
            # Squash bars only vertically: widths, which carry the data, stay exact.
            image = image.resize((image.width, max_height), Image.Resampling.NEAREST)
        return image
    width_mm = round(max_width * MM_PER_INCH / dpi)
    raise LabelTooLong(
        "label_too_long",
        code="label_too_long",
        details={"barcode": code, "max_width_mm": width_mm},
        barcode=code,
        width_mm=width_mm,
    )


@cache
def _font(size: int) -> Font:
    return ImageFont.load_default(size=size)


def _fit_text(
    draw: ImageDraw.ImageDraw, text: str, font: Font, width: int, lines: int
) -> list[str]:
    """Wrap ``text`` into at most ``lines`` lines of ``width`` pixels, ending with … if cut."""
    words, out = text.split(), []
    current = ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if draw.textlength(candidate, font=font) <= width:
            current = candidate
            continue
        if current:
            out.append(current)
        current = word
        while draw.textlength(current, font=font) > width and len(current) > 1:
            current = current[:-1]
    if current:
        out.append(current)
    if len(out) > lines:
        last = out[lines - 1]
        while last and draw.textlength(last + "…", font=font) > width:
            last = last[:-1]
        out = [*out[: lines - 1], last + "…"]
    return out


def render_label(item: LabelItem, layout: SheetLayout = A4_3X8) -> Image.Image:
    """One label as a greyscale image the size of a label cell."""
    width, height = layout.px(layout.label_width_mm), layout.px(layout.label_height_mm)
    pad = layout.px(layout.padding_mm)
    label = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(label)
    name_font, price_font = _font(layout.px(3.0)), _font(layout.px(4.5))
    y = pad
    for line in _fit_text(draw, item.name, name_font, width - 2 * pad, 2):
        draw.text((pad, y), line, font=name_font, fill=0)
        y += layout.px(3.6)
    price = format_rupiah(item.price)
    draw.text((pad, y), price, font=price_font, fill=0, stroke_width=1, stroke_fill=0)
    y += layout.px(5.8)
    bars = barcode_image(
        item.barcode, dpi=layout.dpi, max_width=width - 2 * pad, max_height=height - y - pad
    )
    label.paste(bars, ((width - bars.width) // 2, y))
    return label


def label_sheets(
    items: Iterable[LabelItem], *, layout: SheetLayout = A4_3X8, copies: int = 1
) -> list[Image.Image]:
    """Pages of labels, each item ``copies`` times in a row, filling sheets left to right."""
    if copies < 1:
        raise ValueError("copies must be at least 1")
    labels = [item for item in items for _ in range(copies)]
    if not labels:
        raise ValueError("choose at least one product to print labels for")
    page_size = (layout.px(layout.page_width_mm), layout.px(layout.page_height_mm))
    pages: list[Image.Image] = []
    cache_by_item: dict[LabelItem, Image.Image] = {}
    for index, item in enumerate(labels):
        if index % layout.per_page == 0:
            pages.append(Image.new("L", page_size, 255))
        image = cache_by_item.get(item) or cache_by_item.setdefault(
            item, render_label(item, layout)
        )
        left, top, _, _ = layout.cell(index)
        pages[-1].paste(image, (left, top))
    return pages


def label_sheets_png(
    items: Sequence[LabelItem], *, layout: SheetLayout = A4_3X8, copies: int = 1
) -> list[bytes]:
    """Each sheet as PNG bytes (with the resolution recorded so it prints at true size)."""
    out = []
    for page in label_sheets(items, layout=layout, copies=copies):
        buffer = io.BytesIO()
        page.save(buffer, "PNG", dpi=(layout.dpi, layout.dpi))
        out.append(buffer.getvalue())
    return out


def label_sheets_pdf(
    items: Sequence[LabelItem], *, layout: SheetLayout = A4_3X8, copies: int = 1
) -> bytes:
    """All sheets as one PDF, one A4 page per sheet."""
    pages = label_sheets(items, layout=layout, copies=copies)
    buffer = io.BytesIO()
    pages[0].save(
        buffer, "PDF", resolution=float(layout.dpi), save_all=True, append_images=pages[1:]
    )
    return buffer.getvalue()
