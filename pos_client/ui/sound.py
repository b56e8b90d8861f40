"""The scan beep: a short 2 kHz tone in ``assets/beep.wav`` (made here with :mod:`wave`)."""

from __future__ import annotations

import logging
import math
import struct
import wave
from pathlib import Path
from typing import Any

from pos_client.ui.paths import ASSETS_DIR as ASSETS

log = logging.getLogger("kasir.ui")

BEEP_PATH = ASSETS / "beep.wav"


def make_beep(path: Path, *, hz: int = 2000, seconds: float = 0.12, rate: int = 22050) -> Path:
    """Write a mono 16-bit tone with 5 ms/10 ms fades (no click) to ``path``."""
    n = int(rate * seconds)
    samples = bytearray()
    for i in range(n):
        envelope = min(1.0, i / (rate * 0.005), (n - i) / (rate * 0.01))
        value = 0.5 * 32767 * envelope * math.sin(2 * math.pi * hz * i / rate)
        samples += struct.pack("<h", int(value))
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(samples))
    return path


class Beeper:
    """Plays the beep if the machine has sound; silent (and harmless) otherwise."""

    def __init__(self, path: Path = BEEP_PATH) -> None:
        """Load ``path`` lazily on the first beep."""
        self.path = path
        self._sound: Any = None
        self._loaded = False
        self.count = 0

    def beep(self) -> None:
        """One beep (counted, so tests can see a good scan beeped)."""
        self.count += 1
        if not self._loaded:
            self._loaded = True
            try:
                from kivy.core.audio import SoundLoader

                self._sound = SoundLoader.load(str(self.path)) if self.path.exists() else None
            except Exception as exc:  # no audio device is not an error at a till
                log.info("ui: no sound (%s)", exc)
        if self._sound is not None:
            try:
                self._sound.play()
            except Exception as exc:
                log.info("ui: beep failed (%s)", exc)
