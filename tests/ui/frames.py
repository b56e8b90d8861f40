"""Camera frames made from python-barcode images: noisy, rotated, blurred, 640×480."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from barcode import EAN13, Code128
from barcode.writer import ImageWriter

Frame = np.ndarray[Any, Any]


def barcode_image(code: str, *, symbology: str = "ean13") -> Frame:
    """A clean python-barcode rendering of ``code`` as a BGR image."""
    cls = EAN13 if symbology == "ean13" else Code128
    buffer = io.BytesIO()
    # EAN13 recomputes the check digit from 12 digits; give it 12 so a wrong 13th survives.
    value = code[:12] if symbology == "ean13" else code
    kwargs: dict[str, Any] = {"no_checksum": True} if symbology == "ean13" else {}
    obj = cls(value if symbology != "ean13" else code, writer=ImageWriter(), **kwargs)
    obj.write(
        buffer,
        options={
            "module_width": 0.33,
            "module_height": 12,
            "quiet_zone": 4,
            "font_size": 8,
            "text_distance": 3,
            "dpi": 400,
        },
    )
    data = np.frombuffer(buffer.getvalue(), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    assert image is not None
    return image


def camera_frame(
    code: str,
    *,
    angle: float = 0.0,
    noise: float = 0.0,
    blur: int = 0,
    symbology: str = "ean13",
    seed: int = 0,
    size: tuple[int, int] = (640, 480),
    scale: float = 0.7,
) -> Frame:
    """``code`` on a grey desk as a camera sees it: scaled, rotated, blurred, noisy."""
    width, height = size
    rng = np.random.default_rng(seed)
    label = barcode_image(code, symbology=symbology)
    lh, lw = label.shape[:2]
    factor = min(width * scale / lw, height * scale / lh)
    label = cv2.resize(label, (int(lw * factor), int(lh * factor)), interpolation=cv2.INTER_AREA)
    frame: Frame = np.full((height, width, 3), 110, dtype=np.uint8)
    lh, lw = label.shape[:2]
    y, x = (height - lh) // 2, (width - lw) // 2
    frame[y : y + lh, x : x + lw] = label
    if angle:
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
        frame = cv2.warpAffine(frame, matrix, (width, height), borderValue=(110, 110, 110))
    if blur:
        k = blur if blur % 2 else blur + 1
        frame = cv2.GaussianBlur(frame, (k, k), 0)
    if noise:
        jitter = rng.normal(0, noise, frame.shape)
        frame = np.clip(frame.astype(np.float64) + jitter, 0, 255).astype(np.uint8)
    return frame


def save_frame(frame: Frame, path: Path) -> Path:
    """Write ``frame`` as PNG at ``path`` (folders made) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, data = cv2.imencode(".png", frame)
    assert ok
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data.tobytes())
    partial.replace(path)  # a watching camera source never sees half a file
    return path
