"""Camera scanning: frames from OpenCV, barcodes from pyzbar, in a worker thread.

:class:`CameraScanner` reads frames from a :class:`FrameSource` in its own thread,
decodes them with :class:`BarcodeDecoder` (pyzbar restricted to the symbologies the
shop's products carry: EAN-13, EAN-8, UPC-A and Code128), drops codes whose check
digit is wrong, ignores the same code for 1.5 s (:class:`Deduper`), and hands codes
and preview frames to callbacks. It never imports Kivy: the UI wraps the callbacks in
``Clock.schedule_once``.

A video file or a folder of images stands in for the camera (tests, the demo); with
no camera at all :func:`open_source` raises :class:`CameraUnavailable` with a sentence
for the cashier, and the USB scanner keeps working.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
from pyzbar import pyzbar
from pyzbar.pyzbar import ZBarSymbol

from shared.barcodes import barcode_error

log = logging.getLogger("kasir.camera")

Frame = np.ndarray[Any, Any]
"""A BGR image as OpenCV gives it (height × width × 3, uint8)."""

PRODUCT_SYMBOLS: tuple[ZBarSymbol, ...] = (
    ZBarSymbol.EAN13,
    ZBarSymbol.EAN8,
    ZBarSymbol.UPCA,
    ZBarSymbol.CODE128,
)
"""What product labels carry; restricting pyzbar to these roughly halves decode time."""

RECEIPT_SYMBOLS: tuple[ZBarSymbol, ...] = (*PRODUCT_SYMBOLS, ZBarSymbol.QRCODE)
"""On the refund screen the receipt's QR code (its number) is read as well."""

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp"})
DEDUPE_SECONDS = 1.5


class CameraUnavailable(Exception):
    """No camera (or stand-in) could be opened; ``str()`` is a sentence for the cashier."""


class FrameSource(Protocol):
    """Where frames come from: a camera, a video file, or a folder of images."""

    def read(self) -> Frame | None:
        """The next frame, or None when the source has no more (or lost the camera)."""
        ...

    def close(self) -> None:
        """Release the device or file."""
        ...


class CaptureSource:
    """A camera by index, or a video file, through ``cv2.VideoCapture``."""

    def __init__(self, capture: cv2.VideoCapture, *, loop: bool = False) -> None:
        """Read from an opened ``capture``; ``loop`` rewinds a video file at its end."""
        self._capture = capture
        self._loop = loop

    def read(self) -> Frame | None:
        """The next frame; a looping video starts again at its end."""
        ok, frame = self._capture.read()
        if not ok and self._loop:
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self._capture.read()
        return frame if ok else None

    def close(self) -> None:
        """Release the camera or file."""
        self._capture.release()


class ImageFolderSource:
    """Every image in a folder, in name order, as if a camera saw them one after another."""

    def __init__(self, folder: Path, *, loop: bool = False) -> None:
        """Read the images in ``folder`` (read again on each pass, so new files show up)."""
        self.folder = folder
        self._loop = loop
        self._queue: list[Path] = []
        self._seen: set[Path] = set()
        self._failures: dict[Path, int] = {}

    def _refill(self) -> None:
        files = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if self._loop:
            self._queue = files
        else:
            self._queue = [p for p in files if p not in self._seen]

    def read(self) -> Frame | None:
        """The next image not yet read (or again from the first when looping)."""
        if not self._queue:
            self._refill()
        while self._queue:
            path = self._queue.pop(0)
            frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if frame is not None:
                self._seen.add(path)
                return frame
            # Maybe still being written: try again on the next pass, but not forever.
            self._failures[path] = self._failures.get(path, 0) + 1
            if self._failures[path] >= 3:
                self._seen.add(path)
        return None

    def close(self) -> None:
        """Nothing to release."""


def open_source(spec: str, *, loop: bool = False) -> FrameSource:
    """Open what the settings name: a camera number ("0"), a video file, or an image folder.

    Raises :class:`CameraUnavailable` with a plain sentence when nothing can be opened.
    """
    spec = spec.strip()
    if not spec:
        raise CameraUnavailable("No camera is chosen in the settings.")
    if spec.isdigit():
        capture = cv2.VideoCapture(int(spec))
        if not capture.isOpened():
            capture.release()
            raise CameraUnavailable(
                f"Camera {spec} cannot be opened; use the USB scanner or choose another camera."
            )
        return CaptureSource(capture)
    path = Path(spec).expanduser()
    if path.is_dir():
        return ImageFolderSource(path, loop=loop)
    if path.is_file():
        capture = cv2.VideoCapture(str(path))
        if not capture.isOpened():
            capture.release()
            raise CameraUnavailable(f"The video {path.name} cannot be read.")
        return CaptureSource(capture, loop=loop)
    raise CameraUnavailable(f"There is no camera or file at {spec}.")


class Deduper:
    """Says whether a decoded code is new: the same code within ``window`` s is ignored.

    A code held in front of the camera is seen in every frame; it counts once until it
    has been out of sight (not decoded) for ``window`` seconds.
    """

    def __init__(
        self, window: float = DEDUPE_SECONDS, now: Callable[[], float] = time.monotonic
    ) -> None:
        """``now`` gives monotonic seconds (injectable for tests)."""
        self.window = window
        self._now = now
        self._last_seen: dict[str, float] = {}

    def accept(self, code: str) -> bool:
        """True when ``code`` should go to the cart; every sighting extends the quiet time."""
        at = self._now()
        last = self._last_seen.get(code)
        self._last_seen[code] = at
        if len(self._last_seen) > 64:  # forget codes long out of sight
            self._last_seen = {c: t for c, t in self._last_seen.items() if at - t <= self.window}
        return last is None or at - last > self.window


class BarcodeDecoder:
    """pyzbar over a grayscale frame, restricted to ``symbols``; bad check digits dropped."""

    def __init__(
        self, symbols: Sequence[ZBarSymbol] = PRODUCT_SYMBOLS, *, smooth: bool = True
    ) -> None:
        """Decode only ``symbols`` (see :data:`PRODUCT_SYMBOLS`).

        ``smooth`` runs a 3×3 Gaussian blur first: camera noise makes zbar chase false
        edges, and the blur both rescues noisy frames and cuts decode time by about 2/3.
        (Never binarize: thresholding breaks rotated codes.)
        """
        self.symbols = list(symbols)
        self.smooth = smooth

    def decode(self, frame: Frame) -> list[str]:
        """Codes found in ``frame``, in pyzbar's order, without duplicates or misreads."""
        gray = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        if self.smooth:
            gray = cv2.GaussianBlur(gray, (3, 3), 0)
        found: list[str] = []
        for result in pyzbar.decode(gray, symbols=self.symbols):
            code = result.data.decode("ascii", errors="replace").strip()
            if result.type == "QRCODE":
                # A receipt number, not a product code: no check digit to verify.
                valid = bool(code) and code.isprintable()
            else:
                valid = barcode_error(code) is None
            if valid and code not in found:
                found.append(code)
            elif not valid:
                log.debug("camera: dropped misread %r", code)
        return found


def preview_rgb(frame: Frame, max_width: int = 320) -> tuple[bytes, int, int]:
    """A small, upside-down RGB copy of ``frame`` for a Kivy texture (bytes, width, height).

    Kivy textures start at the bottom row, hence the flip; shrinking keeps the copy to
    the UI thread cheap.
    """
    height, width = frame.shape[:2]
    if width > max_width:
        scale = max_width / width
        frame = cv2.resize(
            frame, (max_width, max(1, int(height * scale))), interpolation=cv2.INTER_AREA
        )
    rgb = cv2.cvtColor(cv2.flip(frame, 0), cv2.COLOR_BGR2RGB)
    return rgb.tobytes(), rgb.shape[1], rgb.shape[0]


class CameraScanner:
    """Reads, decodes and dedupes frames in a daemon thread; reports through callbacks.

    ``on_code(code)`` gets each new code, ``on_preview(rgb, w, h)`` a preview at most
    ``preview_fps`` times a second, ``on_error(sentence)`` a problem (the source ended or
    failed). Callbacks run in the worker thread: the UI must hop to its own thread.
    """

    def __init__(
        self,
        source: FrameSource,
        on_code: Callable[[str], None],
        *,
        on_preview: Callable[[bytes, int, int], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        decoder: BarcodeDecoder | None = None,
        deduper: Deduper | None = None,
        preview_fps: float = 10.0,
        idle_sleep: float = 0.01,
        stop_at_end: bool = True,
    ) -> None:
        """Scan ``source``; nothing runs until :meth:`start`."""
        self.source = source
        self.on_code = on_code
        self.on_preview = on_preview
        self.on_error = on_error
        self.decoder = decoder or BarcodeDecoder()
        self.deduper = deduper or Deduper()
        self._preview_every = 1.0 / preview_fps if preview_fps > 0 else float("inf")
        self._idle_sleep = idle_sleep
        self._stop_at_end = stop_at_end
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.frames = 0

    def start(self) -> None:
        """Start the worker thread."""
        self._thread = threading.Thread(target=self._run, name="kasir-camera", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the thread and release the source."""
        self._stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        """True while the worker thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def process(self, frame: Frame, *, preview: bool = True) -> list[str]:
        """Decode one frame, call ``on_code`` for new codes and return them (also the bench's)."""
        self.frames += 1
        if preview and self.on_preview is not None:
            self.on_preview(*preview_rgb(frame))
        fresh = [code for code in self.decoder.decode(frame) if self.deduper.accept(code)]
        for code in fresh:
            self.on_code(code)
        return fresh

    def _run(self) -> None:
        last_preview = 0.0
        try:
            while not self._stopping.is_set():
                try:
                    frame = self.source.read()
                except Exception as exc:  # a camera unplugged mid-read must not kill the app
                    log.exception("camera: read failed")
                    self._report(f"The camera stopped: {exc}")
                    return
                if frame is None:
                    if self._stop_at_end:
                        self._report("The camera gives no more pictures.")
                        return
                    time.sleep(self._idle_sleep)
                    continue
                now = time.monotonic()
                show = now - last_preview >= self._preview_every
                if show:
                    last_preview = now
                self.process(frame, preview=show)
        finally:
            self.source.close()

    def _report(self, sentence: str) -> None:
        if self.on_error is not None:
            self.on_error(sentence)


def decode_all(frames: Iterable[Frame], decoder: BarcodeDecoder | None = None) -> list[str]:
    """Every valid code in ``frames`` (no dedupe): a helper for tests and the demo."""
    decoder = decoder or BarcodeDecoder()
    codes: list[str] = []
    for frame in frames:
        codes.extend(decoder.decode(frame))
    return codes
