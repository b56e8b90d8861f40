"""Camera decode throughput: 640×480 frames per second on one core.

Measures the app's path (3×3 smoothing, pyzbar restricted to EAN-13/EAN-8/UPC-A/Code128,
check digits, dedupe, and the preview copy the UI gets) against the plain baseline of
pyzbar with every symbology on the raw grey frame. Goal: ≥ 30 frames/s. Prints figures.
Run: ``.venv/bin/python benches/camera_decode.py``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyzbar import pyzbar

from pos_client.scanner.camera import BarcodeDecoder, CameraScanner, Deduper
from shared.barcodes import make_ean13
from tests.ui.frames import camera_frame

SECONDS = 3.0


def frames() -> list[Any]:
    """A mix a real counter sees: clean, noisy, rotated, blurred, and empty desk."""
    out = []
    for n in range(12):
        code = make_ean13(f"8999999{n:05d}")
        out.append(
            camera_frame(
                code, angle=(n % 5) * 7 - 14, noise=8 + 2 * n, blur=3 if n % 3 == 0 else 0, seed=n
            )
        )
    out += [camera_frame(make_ean13("899999900001")) * 0 + 110] * 4  # nothing in view
    return out


def rate(step: Callable[[Any], object], batch: list[Any]) -> tuple[float, float]:
    """Frames per second of ``step`` over ``batch`` for about ``SECONDS``; share read."""
    done = hits = 0
    start = time.perf_counter()
    while time.perf_counter() - start < SECONDS:
        for frame in batch:
            if step(frame):
                hits += 1
            done += 1
    return done / (time.perf_counter() - start), hits / done


def main() -> None:
    """Pin to one core, then measure the app path and the baseline."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    cv2.setNumThreads(1)
    batch = frames()
    previews: list[int] = []
    scanner = CameraScanner(
        source=None,  # type: ignore[arg-type]  # frames are fed by hand
        on_code=lambda _code: None,
        on_preview=lambda rgb, _w, _h: previews.append(len(rgb)),
        decoder=BarcodeDecoder(),
        deduper=Deduper(0.0),  # count every read, the dedupe bookkeeping still runs
    )
    app_fps, app_hits = rate(lambda f: scanner.process(f, preview=True), batch)
    restricted = BarcodeDecoder(smooth=False)
    raw_fps, raw_hits = rate(restricted.decode, batch)

    def baseline(frame: Any) -> object:
        return pyzbar.decode(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))

    base_fps, base_hits = rate(baseline, batch)
    share = 12 / len(batch)
    print(f"camera decode, 640x480, one core, {len(batch)} frames ({share:.0%} with a code)")
    print(
        f"  app path (smooth + 4 symbologies + dedupe + preview): {app_fps:6.1f} frames/s"
        f"  read {app_hits:.0%} of frames  (goal >= 30)"
    )
    print(
        f"  4 symbologies, no smoothing:                           {raw_fps:6.1f} frames/s"
        f"  read {raw_hits:.0%} of frames"
    )
    print(
        f"  baseline: pyzbar, all symbologies, raw grey:           {base_fps:6.1f} frames/s"
        f"  read {base_hits:.0%} of frames"
    )
    print(f"  previews handed to the UI: {len(previews)}")


if __name__ == "__main__":
    main()
