"""Files written whole or not at all: beside the target, fsynced, then renamed over it."""

from __future__ import annotations

import os
from pathlib import Path


def write_atomically(path: Path, data: bytes | bytearray) -> None:
    """Write ``data`` to ``path`` so a reader sees the old file or the new one, never half.

    The bytes go to ``.<name>.partial`` beside ``path``, are fsynced, and the partial file
    is renamed over ``path`` (a rename within one directory is atomic).
    """
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(path)
