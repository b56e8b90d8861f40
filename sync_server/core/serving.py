"""Running the server under uvicorn with several workers and metrics summed across them.

``kasir-server serve`` calls :func:`serve`. Before any worker starts, the parent points
``PROMETHEUS_MULTIPROC_DIR`` at a directory and deletes the sample files a previous run
left there (counters would otherwise carry on from old figures); the workers inherit the
variable, so prometheus-client writes their samples into that directory and ``/metrics``
sums them. When a worker exits — stopped, crashed and replaced by uvicorn, or at
shutdown — the parent marks it dead, so its live gauges (requests in progress, pool
connections in use) stop counting.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import uvicorn
from uvicorn.supervisors import Multiprocess

from sync_server.core.metrics import MULTIPROC_ENV, mark_process_dead

log = logging.getLogger("kasir.server")

MAX_DEFAULT_WORKERS = 8
"""The default never goes past this many workers, however many cores there are."""

APP = "sync_server.main:create_app"


def default_workers() -> int:
    """One worker per core this process may use, at most :data:`MAX_DEFAULT_WORKERS`.

    Not gunicorn's ``2 × cores + 1``: that rule is for workers that block on IO one
    request at a time, while each uvicorn worker already serves many requests at once
    (an event loop and a thread pool). Ingest is CPU-bound, so one worker per core uses
    the machine; each worker also holds its own database pool (``KASIR_DB_POOL_SIZE`` +
    ``KASIR_DB_MAX_OVERFLOW`` connections), which the cap keeps within MariaDB's
    default ``max_connections``.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_WORKERS))


def prepare_multiproc_dir(directory: Path | None = None) -> Path:
    """The metrics directory for this run, emptied of old sample files, and exported.

    ``directory``, else ``$PROMETHEUS_MULTIPROC_DIR``, else a new temporary directory.
    Only prometheus-client's ``*.db`` files are deleted, never anything else there.
    """
    chosen = directory or (
        Path(os.environ[MULTIPROC_ENV]) if os.environ.get(MULTIPROC_ENV) else None
    )
    if chosen is None:
        chosen = Path(tempfile.mkdtemp(prefix="kasir-metrics-"))
    chosen.mkdir(parents=True, exist_ok=True)
    for old in chosen.glob("*.db"):
        old.unlink()
    os.environ[MULTIPROC_ENV] = str(chosen)
    return chosen


class _Supervisor(Multiprocess):
    """uvicorn's worker supervisor, marking each worker that went away as dead."""

    def _forget_gone(self, before: set[int | None]) -> None:
        alive = {process.pid for process in self.processes}
        for pid in before - alive:
            if pid is not None:
                mark_process_dead(pid)

    def keep_subprocess_alive(self) -> None:
        before = {process.pid for process in self.processes}
        super().keep_subprocess_alive()
        self._forget_gone(before)

    def restart_all(self) -> None:
        before = {process.pid for process in self.processes}
        super().restart_all()
        self._forget_gone(before)

    def join_all(self) -> None:
        super().join_all()
        self._forget_gone({process.pid for process in self.processes} | {None})


def serve(
    *,
    host: str,
    port: int,
    workers: int,
    log_level: str,
    metrics_dir: Path | None = None,
) -> None:
    """Serve the app with ``workers`` processes (1: in this process) until stopped."""
    directory = prepare_multiproc_dir(metrics_dir)
    log.info("serving on %s:%d with %d worker(s); metrics in %s", host, port, workers, directory)
    config = uvicorn.Config(
        APP,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level.lower(),
        access_log=False,  # the app logs one line per request itself (kasir.access)
    )
    if workers > 1:
        sock = config.bind_socket()
        try:
            _Supervisor(config, sockets=[sock]).run()
        finally:
            sock.close()
        return
    try:
        uvicorn.Server(config).run()
    finally:
        mark_process_dead(os.getpid())
