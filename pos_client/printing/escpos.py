"""ESC/POS bytes for a receipt (through python-escpos) and the transports that print them.

The bytes come from python-escpos's ``Dummy`` printer with a printer profile, so
alignment and QR support follow the real model. Transports only move bytes; every
failure of theirs is a :class:`PrinterError` with a sentence a cashier can act on.
"""

from __future__ import annotations

import errno
import os
import socket
from typing import Protocol

from escpos.printer import Dummy

from shared.receipt_text import ReceiptData, receipt_lines

DEFAULT_PROFILE = "TM-T88V"
ESC_INIT = b"\x1b@"
"""ESC @: reset the printer to its defaults."""


class PrinterError(Exception):
    """The receipt could not be printed; ``str()`` says why in plain words."""


def escpos_bytes(
    receipt: ReceiptData,
    *,
    width: int = 48,
    profile: str = DEFAULT_PROFILE,
    reprint: bool = False,
    qr_size: int = 6,
) -> bytes:
    """The receipt as ESC/POS: init, the same lines as the text, a QR of the number, a cut.

    The QR code carries the receipt number so a refund can start from a scan. It is
    the printer's native QR command when the profile supports it, a raster image
    otherwise.
    """
    printer = Dummy(profile=profile)
    printer.hw("INIT")
    for line in receipt_lines(receipt, width=width, reprint=reprint):
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
    native = bool(printer.profile.supports("qrCode"))
    printer.qr(receipt.receipt_number, size=qr_size, native=native, center=not native)
    printer.text(receipt.receipt_number + "\n")
    printer.set(align="left")
    printer.cut()
    return bytes(printer.output)


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
            fd = os.open(self.path, os.O_WRONLY)
            try:
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
            finally:
                os.close(fd)
        except OSError as exc:
            raise PrinterError(self._explain(exc)) from exc
        except Exception as exc:
            raise PrinterError(f"Cannot print to {self.path}: {exc}") from exc

    def _explain(self, exc: OSError) -> str:
        if exc.errno in (errno.ENOENT, errno.ENODEV, errno.ENXIO):
            return f"No printer at {self.path}; is it plugged in and switched on?"
        if exc.errno in (errno.EACCES, errno.EPERM):
            return f"No permission to write to {self.path} (add this user to the lp group)"
        return f"Cannot print to {self.path}: {exc.strerror or exc}"


def print_receipt(
    transport: PrinterTransport,
    receipt: ReceiptData,
    *,
    width: int = 48,
    profile: str = DEFAULT_PROFILE,
    reprint: bool = False,
) -> None:
    """Render ``receipt`` to ESC/POS and send it; any failure is a :class:`PrinterError`."""
    try:
        data = escpos_bytes(receipt, width=width, profile=profile, reprint=reprint)
    except Exception as exc:  # an unknown profile or a rendering bug is still a print failure
        raise PrinterError(f"Cannot prepare the receipt for printing: {exc}") from exc
    transport.send(data)
