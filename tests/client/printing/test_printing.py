"""Receipts: rupiah formatting, text at 32/42/48 columns, ESC/POS bytes, printer transports."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image, ImageOps
from pyzbar.pyzbar import decode

from pos_client.printing.escpos import (
    ESC_INIT,
    DevicePrinter,
    NetworkPrinter,
    PrinterError,
    escpos_bytes,
    print_receipt,
)
from shared.models import StoreOut
from shared.money import format_rupiah
from shared.receipt_text import (
    REPRINT_MARK,
    ReceiptData,
    ReceiptLine,
    ReceiptPayment,
    ReceiptStore,
    render_receipt,
    two_columns,
)

GS_CUT = b"\x1dV"
GS_QR = b"\x1d(k"


def make_receipt(**overrides: object) -> ReceiptData:
    store = ReceiptStore.from_store_out(
        StoreOut(
            id=1,
            code="JKT1",
            name="Toko Makmur Jaya Sentosa Abadi Sejahtera",
            address="Jl. Jenderal Sudirman Kav. 52-53, Senayan, Kebayoran Baru, Jakarta Selatan",
            npwp="01.234.567.8-901.000",
            phone="021-5550123",
            receipt_header="Selamat datang! Belanja hemat setiap hari",
            receipt_footer="Terima kasih atas kunjungan Anda. Barang yang sudah dibeli "
            "tidak dapat ditukar kecuali dengan struk ini.",
        )
    )
    fields: dict[str, object] = {
        "store": store,
        "receipt_number": "T01-20240501-0007",
        # 07:03 UTC is 14:03 in Jakarta
        "created_at": datetime(2024, 5, 1, 7, 3, tzinfo=UTC),
        "cashier_name": "Budi Santoso",
        "lines": (
            ReceiptLine("Indomie Goreng 85g", 2, 3500, 0, 7000),
            ReceiptLine(
                "Minyak Goreng Bimoli Spesial Pouch Isi Ulang 2 Liter Kemasan Hemat",
                1,
                38500,
                3500,
                35000,
            ),
            ReceiptLine("Beras Premium 25kg", 40, 1_250_000, 0, 50_000_000),
        ),
        "subtotal": 50_045_500,
        "discount_total": 3500,
        "tax_total": 4_959_545,
        "tax_inclusive": True,
        "total": 50_042_000,
        "payments": (
            ReceiptPayment("qris", 42_000),
            ReceiptPayment("cash", 50_000_000, tendered=50_000_000, change=0),
        ),
    }
    fields.update(overrides)
    return ReceiptData(**fields)  # type: ignore[arg-type]


# -- money -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (0, "Rp 0"),
        (500, "Rp 500"),
        (12500, "Rp 12.500"),
        (1_000_000, "Rp 1.000.000"),
        (1_234_567_890, "Rp 1.234.567.890"),
        (-3500, "-Rp 3.500"),
    ],
)
def test_format_rupiah(amount: int, text: str) -> None:
    assert format_rupiah(amount) == text


@pytest.mark.parametrize("bad", [12.5, True, "100"])
def test_format_rupiah_refuses_non_int(bad: object) -> None:
    with pytest.raises(TypeError):
        format_rupiah(bad)  # type: ignore[arg-type]


# -- text --------------------------------------------------------------------------


@pytest.mark.parametrize("width", [32, 42, 48])
def test_no_line_is_longer_than_the_paper(width: int) -> None:
    for reprint in (False, True):
        text = render_receipt(make_receipt(), width=width, reprint=reprint)
        too_long = [line for line in text.splitlines() if len(line) > width]
        assert too_long == []
        assert max(len(line) for line in text.splitlines()) == width  # rules fill it


@pytest.mark.parametrize("width", [32, 42, 48])
def test_receipt_shows_what_the_customer_needs(width: int) -> None:
    text = render_receipt(make_receipt(), width=width)
    squashed = " ".join(text.split())
    for expected in (
        "Toko Makmur Jaya",
        "NPWP 01.234.567.8-901.000",
        "Telp. 021-5550123",
        "Selamat datang!",
        "T01-20240501-0007",
        "01/05/2024 14:03",  # Jakarta time
        "Budi Santoso",
        "Indomie Goreng 85g",
        "2 x Rp 3.500 Rp 7.000",
        "Diskon -Rp 3.500",
        "Jumlah Rp 35.000",
        "40 x Rp 1.250.000 Rp 50.000.000",
        "Subtotal Rp 50.045.500",
        "Total diskon -Rp 3.500",
        "PPN (termasuk) Rp 4.959.545",
        "TOTAL Rp 50.042.000",
        "QRIS Rp 42.000",
        "Tunai Rp 50.000.000",
        "dengan struk ini.",
    ):
        assert expected in squashed, expected
    assert REPRINT_MARK not in text
    # Amounts sit at the right edge.
    assert any(
        line.endswith("Rp 50.042.000") and line.startswith("TOTAL") for line in text.splitlines()
    )


def test_cash_change_and_tax_added_on_top() -> None:
    receipt = make_receipt(
        lines=(ReceiptLine("Kopi", 1, 10000, 0, 10000),),
        subtotal=10000,
        discount_total=0,
        tax_total=1100,
        tax_inclusive=False,
        total=11100,
        payments=(ReceiptPayment("cash", 11100, tendered=20000, change=8900),),
    )
    lines = render_receipt(receipt, width=32).splitlines()
    assert f"{'PPN':<24}Rp 1.100" in lines
    assert "Tunai" + " " * 18 + "Rp 20.000" in lines
    assert "Kembali" + " " * 17 + "Rp 8.900" in lines
    assert not any("diskon" in line.lower() for line in lines)


def test_reprint_is_marked() -> None:
    text = render_receipt(make_receipt(), width=42, reprint=True)
    assert text.count(REPRINT_MARK) == 2


def test_unsupported_width_is_refused() -> None:
    with pytest.raises(ValueError, match="32, 42, 48"):
        render_receipt(make_receipt(), width=40)


def test_two_columns_wraps_the_label_and_keeps_the_amount_right() -> None:
    assert two_columns("Gula", "Rp 15.000", 20) == ["Gula       Rp 15.000"]
    lines = two_columns("Gula Pasir Putih Kristal 1 kg", "Rp 15.000", 20)
    assert lines[-1].endswith("Rp 15.000") and all(len(line) <= 20 for line in lines)


# -- ESC/POS -----------------------------------------------------------------------


@pytest.mark.parametrize("width", [32, 42, 48])
def test_escpos_has_init_text_qr_and_cut(width: int) -> None:
    data = escpos_bytes(make_receipt(), width=width)
    assert data.startswith(ESC_INIT)
    assert b"Indomie Goreng 85g" in data and b"Rp 50.042.000" in data
    qr_at = data.index(GS_QR)
    assert b"T01-20240501-0007" in data[qr_at : qr_at + 200]  # the number is in the QR data
    assert GS_CUT in data[-8:]
    assert b"\x1ba\x01" in data  # centered header (the profile knows alignment)


def test_escpos_reprint_and_raster_qr_for_printers_without_native_qr() -> None:
    # POS-5890: a cheap 58 mm printer common in Indonesian shops, no native QR command.
    data = escpos_bytes(make_receipt(), width=32, profile="POS-5890", reprint=True)
    assert REPRINT_MARK.encode() in data
    assert GS_QR not in data and b"\x1dv0" in data  # the QR goes as a raster image
    assert decode_raster_qr(data) == ["T01-20240501-0007"]
    assert data.startswith(ESC_INIT)
    assert data.endswith(b"\x1bd\x06")  # it has no cutter: the paper is fed out to tear


def decode_raster_qr(data: bytes) -> list[str]:
    """Rebuild the first GS v 0 raster image in ``data`` and decode it like a scanner."""
    at = data.index(b"\x1dv0")
    x_lo, x_hi, y_lo, y_hi = data[at + 4 : at + 8]
    row_bytes, rows = x_lo + x_hi * 256, y_lo + y_hi * 256
    bits = data[at + 8 : at + 8 + row_bytes * rows]
    image = Image.frombytes("1", (row_bytes * 8, rows), bits)  # 1 = black dot on paper
    paper = ImageOps.expand(ImageOps.invert(image.convert("L")), border=20, fill=255)
    return [symbol.data.decode() for symbol in decode(paper)]


# -- transports --------------------------------------------------------------------


class ReceivingPrinter:
    """A fake network printer on 127.0.0.1 that keeps everything it receives."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.received = b""
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            while chunk := conn.recv(65536):
                self.received += chunk
        self.sock.close()


def test_network_printer_delivers_all_bytes() -> None:
    printer = ReceivingPrinter()
    data = escpos_bytes(make_receipt(), width=48)
    print_receipt(NetworkPrinter("127.0.0.1", printer.port, timeout=5), make_receipt(), width=48)
    printer.thread.join(5)
    assert printer.received == data


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_refused_port_is_a_printer_error() -> None:
    with pytest.raises(PrinterError, match="refused"):
        NetworkPrinter("127.0.0.1", free_port(), timeout=2).send(b"\x1b@")


@pytest.mark.parametrize(
    ("host", "port"), [("127.0.0.1", 70000), ("", -1), ("bad host name!", 9100)]
)
def test_bad_address_is_a_printer_error_only(host: str, port: int) -> None:
    with pytest.raises(PrinterError):
        NetworkPrinter(host, port, timeout=1).send(b"x")


def test_device_printer_writes_to_the_device(tmp_path: Path) -> None:
    device = tmp_path / "lp0"
    device.touch()  # the kernel makes /dev/usb/lp0; here a file stands in
    DevicePrinter(str(device)).send(b"\x1b@hello")
    assert device.read_bytes() == b"\x1b@hello"


def test_missing_device_is_a_printer_error_and_creates_nothing(tmp_path: Path) -> None:
    device = tmp_path / "usb" / "lp0"
    with pytest.raises(PrinterError, match="plugged in"):
        DevicePrinter(str(device)).send(b"x")
    assert not device.exists()


def test_device_that_is_not_writable_is_a_printer_error(tmp_path: Path) -> None:
    with pytest.raises(PrinterError):
        DevicePrinter(str(tmp_path)).send(b"x")  # a directory


def test_unknown_profile_is_a_printer_error() -> None:
    class Never:
        def send(self, data: bytes) -> None:
            raise AssertionError("nothing should be sent")

    with pytest.raises(PrinterError, match="prepare"):
        print_receipt(Never(), make_receipt(), profile="NO-SUCH-PRINTER")
