"""Run blocking work off the UI thread and bring the answer back with ``Clock.schedule_once``.

Widgets are only ever touched on the UI thread: :func:`run_in_worker` calls ``job`` in a
daemon thread and ``on_done(result)`` or ``on_error(exc)`` on the UI thread's next frame.
:func:`on_ui` wraps any callback a worker calls (sync reports, camera codes) the same way.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from kivy.clock import Clock

log = logging.getLogger("kasir.ui")

T = TypeVar("T")

_active: set[threading.Thread] = set()
_active_lock = threading.Lock()


def on_ui(callback: Callable[..., Any]) -> Callable[..., None]:
    """A thread-safe version of ``callback``: it runs on the UI thread's next frame."""

    def hop(*args: Any) -> None:
        Clock.schedule_once(lambda _dt: callback(*args), 0)

    return hop


def run_in_worker(
    job: Callable[[], T],
    on_done: Callable[[T], None] | None = None,
    on_error: Callable[[Exception], None] | None = None,
    *,
    name: str = "kasir-worker",
) -> threading.Thread:
    """Run ``job`` in a daemon thread; deliver its result or exception on the UI thread."""

    def body() -> None:
        try:
            result = job()
        except Exception as exc:  # handed to the UI, which shows a sentence
            log.warning("worker %s failed: %s", name, exc)
            if on_error is not None:
                Clock.schedule_once(lambda _dt, error=exc: on_error(error), 0)
        else:
            if on_done is not None:
                Clock.schedule_once(lambda _dt: on_done(result), 0)
        finally:
            with _active_lock:
                _active.discard(threading.current_thread())

    thread = threading.Thread(target=body, name=name, daemon=True)
    with _active_lock:
        _active.add(thread)
    thread.start()
    return thread


def busy_workers() -> int:
    """How many worker threads are still running (tests wait for zero)."""
    with _active_lock:
        return sum(1 for t in _active if t.is_alive())
