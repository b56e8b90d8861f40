"""The cash drawer pulse, slips (Z report, test page) and serial/Bluetooth printers."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from escpos.constants import CD_KICK_2

from pos_client.printing.escpos import (
    ESC_INIT,
    DevicePrinter,
    PrinterError,
    SerialPrinter,
    check_page_heading,
    drawer_bytes,
    escpos_bytes,
    lines_bytes,
    open_drawer,
    print_lines,
    slip_lines,
)
from shared.receipt_text import ReceiptLine, ReceiptPayment
from tests.client.printing.test_printing import make_receipt

DRAWER_PULSE = b"\x1bp"  # ESC p m t1 t2
GS_CUT = b"\x1dV"


def kopi_receipt(payment: ReceiptPayment) -> object:
    """A one-coffee (Rp10.000) receipt paid by ``payment``."""
    return make_receipt(
        lines=(ReceiptLine("Kopi", 1, 10000, 0, 10000),),
        subtotal=10000,
        discount_total=0,
        tax_total=0,
        total=10000,
        payments=(payment,),
    )


def cash_receipt() -> object:
    return kopi_receipt(ReceiptPayment("cash", 10000, tendered=20000, change=10000))


def qris_receipt() -> object:
    return kopi_receipt(ReceiptPayment("qris", 10000))


def test_a_cash_sale_kicks_the_drawer_right_after_init() -> None:
    data = escpos_bytes(cash_receipt(), width=32)  # type: ignore[arg-type]
    assert CD_KICK_2.startswith(b"\x1bp\x00")  # ESC p, pin 2 is m = 0
    assert data.startswith(ESC_INIT + CD_KICK_2)
    assert data.count(DRAWER_PULSE) == 1


def test_split_tender_with_cash_kicks_the_drawer() -> None:
    data = escpos_bytes(make_receipt(), width=48)  # QRIS + cash
    assert data.count(CD_KICK_2) == 1


def test_a_qris_only_sale_and_a_reprint_never_open_the_drawer() -> None:
    assert DRAWER_PULSE not in escpos_bytes(qris_receipt(), width=32)  # type: ignore[arg-type]
    reprint = escpos_bytes(cash_receipt(), width=32, reprint=True)  # type: ignore[arg-type]
    assert DRAWER_PULSE not in reprint
    assert b"Kopi" in reprint


def test_opening_the_drawer_alone_is_init_and_the_pulse() -> None:
    assert drawer_bytes() == ESC_INIT + CD_KICK_2
    sent: list[bytes] = []

    class Capture:
        def send(self, data: bytes) -> None:
            sent.append(data)

    open_drawer(Capture())
    assert sent == [ESC_INIT + CD_KICK_2]


@pytest.mark.parametrize("width", [32, 42, 48])
def test_a_slip_keeps_amounts_at_the_right_edge(width: int) -> None:
    rows = [("Penjualan bersih", "Rp 80.475"), ("Kas seharusnya", "Rp 281.975")]
    lines = slip_lines("Laporan Z", rows, width=width, heading=["T01 · 15/06/2025 10:00"])
    texts = [line.text for line in lines]
    assert texts[0] == "Laporan Z" and lines[0].big
    assert f"Penjualan bersih{'Rp 80.475':>{width - 16}}" in texts
    assert all(len(t) <= width for t in texts)
    data = lines_bytes(lines)
    assert data.startswith(ESC_INIT) and GS_CUT in data[-8:]
    assert b"Rp 281.975" in data and DRAWER_PULSE not in data


def test_the_test_page_shows_a_ruler_as_wide_as_the_paper_and_the_local_time() -> None:
    # 23:30 UTC on 15 June is 06:30 on 16 June in Jakarta, 07:30 in Makassar.
    late = datetime(2025, 6, 15, 23, 30, tzinfo=UTC)
    heading = check_page_heading(42, late, "Asia/Jakarta")
    assert heading == ["16/06/2025 06:30", ("1234567890" * 5)[:42]]
    assert check_page_heading(32, late, "Asia/Makassar")[0] == "16/06/2025 07:30"
    assert check_page_heading(32, late, None)[0] == "16/06/2025 06:30", "no zone: WIB"


def read_all(fd: int, into: bytearray, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the other side closed
            return
        if not chunk:
            return
        into.extend(chunk)


@pytest.mark.parametrize("printer", ["serial", "device"])
def test_a_serial_printer_on_a_pty_receives_the_bytes(printer: str) -> None:
    master, slave = os.openpty()
    path = os.ttyname(slave)
    received = bytearray()
    stop = threading.Event()
    reader = threading.Thread(target=read_all, args=(master, received, stop), daemon=True)
    reader.start()
    data = escpos_bytes(cash_receipt(), width=32)  # type: ignore[arg-type]
    try:
        transport = SerialPrinter(path, baudrate=19200) if printer == "serial" else None
        if transport is not None:
            print_lines(transport, slip_lines("Tes", [("a", "b")], width=32))
            transport.send(data)
        else:
            DevicePrinter(path).send(data)  # a tty typed into the device field works too
        expected = (
            data
            if transport is None
            else lines_bytes(slip_lines("Tes", [("a", "b")], width=32)) + data
        )
        for _ in range(200):
            if len(received) >= len(expected):
                break
            stop.wait(0.01)
        assert bytes(received) == expected  # raw: no newline translation, nothing added
    finally:
        stop.set()
        os.close(slave)
        os.close(master)
        reader.join(timeout=2)


def test_serial_failures_are_printer_errors(tmp_path: Path) -> None:
    with pytest.raises(PrinterError, match="No printer at /dev/rfcomm-none"):
        SerialPrinter("/dev/rfcomm-none").send(b"x")
    plain = tmp_path / "not-a-port"
    plain.write_bytes(b"")
    with pytest.raises(PrinterError, match="not a serial port"):
        SerialPrinter(str(plain)).send(b"x")
    with pytest.raises(PrinterError, match="Baud rate 12345"):
        SerialPrinter("/dev/ttyUSB0", baudrate=12345)
