"""ESC/POS bytes for a receipt (through python-escpos) and the transports that print them.

The bytes come from python-escpos's ``Dummy`` printer with a printer profile, so
alignment and QR support follow the real model. Transports only move bytes; every
failure of theirs is a :class:`PrinterError` with a sentence a cashier can act on.

The cash drawer hangs off the receipt printer: its kick is the ESC/POS pulse
``ESC p m t1 t2`` (python-escpos ``cashdraw``), sent at the top of the original
receipt of a sale that took cash, or alone when a supervisor opens the drawer.
Slips (the Z report, a test page) are label/amount rows laid out like the receipt.
"""

from __future__ import annotations

import errno
import os
import socket
import termios
import tty
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from escpos.printer import Dummy

from shared.receipt_text import Line, ReceiptData, receipt_lines, two_columns
from shared.timezones import format_local

DEFAULT_PROFILE = "TM-T88V"
ESC_INIT = b"\x1b@"
"""ESC @: reset the printer to its defaults."""
DRAWER_PIN = 2
"""Most drawers are wired to pin 2 of the printer's drawer port."""
CASH = "cash"


class PrinterError(Exception):
    """The receipt could not be printed; ``str()`` says why in plain words."""


def escpos_bytes(
    receipt: ReceiptData,
    *,
    width: int = 48,
    profile: str = DEFAULT_PROFILE,
    reprint: bool = False,
    qr_size: int = 6,
    qr: bool = True,
) -> bytes:
    """The receipt as ESC/POS: init, the same lines as the text, a QR code, a cut.

    The QR code is the e-receipt link when the receipt has one (the customer's phone
    opens the digital receipt; the link is also printed as text above it), else the
    receipt number as before (a till with no receipt key yet), so a refund can start
    from a scan; the receipt number is printed under it either way. It is the
    printer's native QR command (``GS ( k``) when the profile supports it, a raster
    image otherwise; ``qr=False`` prints none, for a printer that prints text only.
    The original receipt of a sale that took cash opens the drawer first; a reprint or
    a QRIS-only sale never does.
    """
    return lines_bytes(
        receipt_lines(receipt, width=width, reprint=reprint),
        qr_text=(receipt.link or receipt.receipt_number) if qr else None,
        qr_caption=receipt.receipt_number,
        profile=profile,
        qr_size=qr_size,
        drawer_pin=DRAWER_PIN if not reprint and opens_drawer(receipt) else None,
    )


def lines_bytes(
    lines: Sequence[Line],
    *,
    qr_text: str | None = None,
    profile: str = DEFAULT_PROFILE,
    qr_size: int = 6,
    drawer_pin: int | None = None,
    qr_caption: str | None = None,
) -> bytes:
    """Laid-out lines (a receipt, a refund slip) as ESC/POS, then a QR of ``qr_text`` and
    ``qr_caption`` (by default that text) under it when given, then a cut. With
    ``drawer_pin`` the drawer is kicked right after the init, so it opens while the
    paper prints."""
    printer = Dummy(profile=profile)
    printer.hw("INIT")
    if drawer_pin is not None:
        printer.cashdraw(drawer_pin)
    for line in lines:
        printer.set(
            align=line.align,
            bold=line.bold,
            double_width=line.big,
            double_height=line.big,
            normal_textsize=not line.big,
        )
        text = line.text.strip() if line.align == "center" else line.text
        printer.text(text + "\n")
    printer.set(align="center", bold=False, normal_textsize=True)
    if qr_text:
        native = bool(printer.profile.supports("qrCode"))
        printer.qr(qr_text, size=qr_size, native=native, center=not native)
        printer.text((qr_caption if qr_caption is not None else qr_text) + "\n")
    printer.set(align="left")
    printer.cut()
    return bytes(printer.output)


def opens_drawer(receipt: ReceiptData) -> bool:
    """True when the sale took cash, so the drawer must open for the change."""
    return any(p.method == CASH and p.amount > 0 for p in receipt.payments)


def drawer_bytes(*, pin: int = DRAWER_PIN, profile: str = DEFAULT_PROFILE) -> bytes:
    """Init and the drawer pulse alone: opening the drawer with no sale."""
    printer = Dummy(profile=profile)
    printer.hw("INIT")
    printer.cashdraw(pin)
    return bytes(printer.output)


def slip_lines(
    title: str,
    rows: Sequence[tuple[str, str]],
    *,
    width: int = 48,
    heading: Sequence[str] = (),
    footer: Sequence[str] = (),
) -> list[Line]:
    """A slip (Z report, test page) as lines: a big centred title, heading lines, a rule,
    label/value rows with the value at the right edge, a rule and footer lines."""
    lines = [Line(title, align="center", bold=True, big=True)]
    lines += [Line(text, align="center") for text in heading]
    lines.append(Line("-" * width))
    for label, value in rows:
        lines += [Line(text) for text in two_columns(label, value, width)]
    lines.append(Line("-" * width))
    lines += [Line(text, align="center") for text in footer]
    return lines


def check_page_heading(width: int, printed_at: datetime, zone: str | None) -> list[str]:
    """What a test page shows under its title: the time it printed, in the store's local
    time (``zone``, like a receipt), and a ruler as wide as the paper, so a wrong width
    setting shows at a glance."""
    return [format_local(printed_at, zone), ("1234567890" * 5)[:width]]


class PrinterTransport(Protocol):
    """Anything that can deliver ESC/POS bytes to a printer."""

    def send(self, data: bytes) -> None:
        """Deliver ``data``; raise :class:`PrinterError` (and nothing else) on failure."""
        ...


class NetworkPrinter:
    """A receipt printer on the shop's network (raw TCP, port 9100 on most models)."""

    def __init__(self, host: str, port: int = 9100, timeout: float = 5.0) -> None:
        """Print to ``host:port``, giving up after ``timeout`` seconds of silence."""
        self.host = host
        self.port = port
        self.timeout = timeout

    def send(self, data: bytes) -> None:
        """Open a connection, write all of ``data``, close. Failures are :class:`PrinterError`."""
        where = f"{self.host}:{self.port}"
        try:
            with socket.create_connection((self.host, self.port), timeout=self.timeout) as conn:
                conn.sendall(data)
                conn.shutdown(socket.SHUT_WR)
        except ConnectionRefusedError as exc:
            raise PrinterError(f"Printer at {where} refused the connection; is it on?") from exc
        except TimeoutError as exc:
            raise PrinterError(f"Printer at {where} did not answer in {self.timeout:g} s") from exc
        except OSError as exc:
            raise PrinterError(f"Cannot print to {where}: {exc.strerror or exc}") from exc
        except Exception as exc:  # a bad host or port must not escape as anything else
            raise PrinterError(f"Cannot print to {where}: {exc}") from exc


class DevicePrinter:
    """A USB receipt printer seen as a device file, e.g. ``/dev/usb/lp0``.

    Writes block while the printer is busy (paper out blocks too), so call
    :meth:`send` from a worker thread, never the UI thread.
    """

    def __init__(self, path: str = "/dev/usb/lp0") -> None:
        """Print by writing to the device file at ``path``."""
        self.path = path

    def send(self, data: bytes) -> None:
        """Write all of ``data`` to the device. Failures are :class:`PrinterError`."""
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_NOCTTY)
            try:
                if os.isatty(fd):  # a serial/Bluetooth port typed into the device field
                    _setup_serial(fd, 9600)
                _write_all(fd, data)
            finally:
                os.close(fd)
        except OSError as exc:
            raise PrinterError(_explain_device(self.path, exc)) from exc
        except Exception as exc:
            raise PrinterError(f"Cannot print to {self.path}: {exc}") from exc


_BAUDS = {
    1200: termios.B1200,
    2400: termios.B2400,
    4800: termios.B4800,
    9600: termios.B9600,
    19200: termios.B19200,
    38400: termios.B38400,
    57600: termios.B57600,
    115200: termios.B115200,
}
SERIAL_BAUDRATES = tuple(_BAUDS)


def _setup_serial(fd: int, baudrate: int) -> None:
    """Raw 8N1 at ``baudrate``: no echo, no newline translation, bytes as they are."""
    tty.setraw(fd)
    attrs = termios.tcgetattr(fd)
    attrs[4] = attrs[5] = _BAUDS[baudrate]  # ispeed, ospeed
    attrs[2] = (attrs[2] & ~(termios.PARENB | termios.CSTOPB | termios.CSIZE)) | termios.CS8
    attrs[2] |= termios.CLOCAL | termios.CREAD
    termios.tcsetattr(fd, termios.TCSANOW, attrs)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class SerialPrinter:
    """A serial or Bluetooth receipt printer: ``/dev/ttyUSB0``, ``/dev/ttyS0``, or a
    paired Bluetooth printer bound to ``/dev/rfcomm0`` (``rfcomm bind``).

    The port is set to raw 8N1 at ``baudrate`` (9600 is the usual factory setting;
    Bluetooth ignores it). Like :class:`DevicePrinter`, writes may block while the
    printer is busy, so call :meth:`send` from a worker thread.
    """

    def __init__(self, path: str = "/dev/ttyUSB0", baudrate: int = 9600) -> None:
        """Print to the serial device ``path`` at ``baudrate`` bits per second."""
        if baudrate not in _BAUDS:
            rates = ", ".join(str(b) for b in SERIAL_BAUDRATES)
            raise PrinterError(f"Baud rate {baudrate} is not one of {rates}")
        self.path = path
        self.baudrate = baudrate

    def send(self, data: bytes) -> None:
        """Open the port, set it up, write all of ``data``, wait until it left, close."""
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_NOCTTY)
            try:
                if not os.isatty(fd):
                    raise PrinterError(f"{self.path} is not a serial port")
                _setup_serial(fd, self.baudrate)
                _write_all(fd, data)
                termios.tcdrain(fd)
            finally:
                os.close(fd)
        except PrinterError:
            raise
        except OSError as exc:
            raise PrinterError(_explain_device(self.path, exc)) from exc
        except Exception as exc:  # termios errors and the like are still print failures
            raise PrinterError(f"Cannot print to {self.path}: {exc}") from exc


def _explain_device(path: str, exc: OSError) -> str:
    if exc.errno in (errno.ENOENT, errno.ENODEV, errno.ENXIO):
        return f"No printer at {path}; is it plugged in (or paired) and switched on?"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"No permission to write to {path} (add this user to the lp or dialout group)"
    return f"Cannot print to {path}: {exc.strerror or exc}"


def open_drawer(transport: PrinterTransport, *, pin: int = DRAWER_PIN) -> None:
    """Kick the cash drawer through the receipt printer; failures are :class:`PrinterError`."""
    transport.send(drawer_bytes(pin=pin))


def print_receipt(
    transport: PrinterTransport,
    receipt: ReceiptData,
    *,
    width: int = 48,
    profile: str = DEFAULT_PROFILE,
    reprint: bool = False,
    qr: bool = True,
) -> None:
    """Render ``receipt`` to ESC/POS and send it; any failure is a :class:`PrinterError`.
    ``qr=False`` prints no QR code (a printer that prints text only; the e-receipt link
    is still printed as text)."""
    try:
        data = escpos_bytes(receipt, width=width, profile=profile, reprint=reprint, qr=qr)
    except Exception as exc:  # an unknown profile or a rendering bug is still a print failure
        raise PrinterError(f"Cannot prepare the receipt for printing: {exc}") from exc
    transport.send(data)


def print_lines(
    transport: PrinterTransport,
    lines: Sequence[Line],
    *,
    qr_text: str | None = None,
    profile: str = DEFAULT_PROFILE,
) -> None:
    """Send laid-out lines (a refund slip) to the printer; any failure is a
    :class:`PrinterError`."""
    try:
        data = lines_bytes(lines, qr_text=qr_text, profile=profile)
    except Exception as exc:  # as print_receipt: a rendering problem is a print failure
        raise PrinterError(f"Cannot prepare the slip for printing: {exc}") from exc
    transport.send(data)
