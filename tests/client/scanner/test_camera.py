"""Camera scanning without a window: decoding hard frames, dedupe, check digits, sources."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import pytest

from pos_client.scanner.camera import (
    RECEIPT_SYMBOLS,
    BarcodeDecoder,
    CameraScanner,
    CameraUnavailable,
    Deduper,
    ImageFolderSource,
    open_source,
)
from shared.barcodes import make_ean13
from tests.ui.frames import camera_frame, save_frame

CODE = make_ean13("899999900001")


@pytest.mark.parametrize(
    "how",
    [
        {"noise": 25.0},
        {"angle": 12.0, "noise": 15.0},
        {"angle": -25.0},
        {"angle": 90.0, "noise": 10.0},
        {"blur": 5, "noise": 10.0},
        {"angle": -8.0, "blur": 3, "noise": 20.0},
    ],
    ids=["noisy", "rotated-12", "rotated-25", "rotated-90", "blurred", "all-three"],
)
def test_decodes_hard_frames(how: dict[str, float]) -> None:
    frame = camera_frame(CODE, seed=7, **how)  # type: ignore[arg-type]
    assert frame.shape == (480, 640, 3)
    assert BarcodeDecoder().decode(frame) == [CODE]


def test_code128_is_read() -> None:
    frame = camera_frame("T01-20250615-0007", symbology="code128", noise=10)
    assert BarcodeDecoder().decode(frame) == ["T01-20250615-0007"]


def test_a_wrong_check_digit_is_ignored() -> None:
    bad = CODE[:12] + str((int(CODE[12]) + 1) % 10)
    frame = camera_frame(bad, noise=10)
    assert BarcodeDecoder(smooth=True).decode(frame) == []
    # a frame with nothing in it is simply nothing
    assert BarcodeDecoder().decode(camera_frame(CODE) * 0 + 110) == []


def test_receipt_qr_is_read_only_when_asked() -> None:
    import numpy as np
    import qrcode

    image = qrcode.make("T01-20250615-0001").convert("L")
    qr = cv2.resize(np.array(image), (300, 300), interpolation=cv2.INTER_NEAREST)
    frame = np.full((480, 640), 200, dtype=np.uint8)
    frame[90:390, 170:470] = qr
    assert BarcodeDecoder().decode(frame) == []
    assert BarcodeDecoder(RECEIPT_SYMBOLS).decode(frame) == ["T01-20250615-0001"]


def test_dedupe_ignores_the_same_code_for_one_and_a_half_seconds() -> None:
    now = [100.0]
    dedupe = Deduper(1.5, now=lambda: now[0])
    assert dedupe.accept(CODE)
    now[0] += 0.5
    assert not dedupe.accept(CODE)  # still in front of the camera
    assert dedupe.accept("12345670")  # another code is new at once
    now[0] += 1.4
    assert not dedupe.accept(CODE)  # seen 1.4 s ago: each sighting extends the quiet
    now[0] += 1.6
    assert dedupe.accept(CODE)  # out of sight for 1.6 s: counts again


def test_scanner_thread_reports_each_code_once(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    for n in range(4):  # four frames of the same can within a fraction of a second
        save_frame(camera_frame(CODE, angle=3 * n, noise=12, seed=n), folder / f"f{n}.png")
    save_frame(camera_frame(make_ean13("899999900002"), noise=12), folder / "f9.png")
    codes: list[str] = []
    previews: list[tuple[int, int]] = []
    ended = threading.Event()
    scanner = CameraScanner(
        ImageFolderSource(folder),
        on_code=codes.append,
        on_preview=lambda _rgb, w, h: previews.append((w, h)),
        on_error=lambda _sentence: ended.set(),
        preview_fps=1000,
    )
    scanner.start()
    assert ended.wait(10)
    scanner.stop()
    assert codes == [CODE, make_ean13("899999900002")]
    assert scanner.frames == 5
    assert previews and previews[0] == (320, 240)


def test_no_camera_is_a_sentence(tmp_path: Path) -> None:
    with pytest.raises(CameraUnavailable, match="no camera or file"):
        open_source(str(tmp_path / "missing"))
    with pytest.raises(CameraUnavailable, match="cannot be opened"):
        open_source("57")  # no /dev/video57 here
    with pytest.raises(CameraUnavailable, match="No camera is chosen"):
        open_source("  ")


def test_a_video_file_stands_in_for_the_camera(tmp_path: Path) -> None:
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (640, 480))
    for n in range(3):
        writer.write(camera_frame(CODE, noise=8, seed=n))
    writer.release()
    source = open_source(str(path))
    decoder = BarcodeDecoder()
    found = []
    started = time.monotonic()
    while (frame := source.read()) is not None and time.monotonic() - started < 10:
        found += decoder.decode(frame)
    source.close()
    assert found == [CODE] * 3
