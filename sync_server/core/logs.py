"""Logs: one JSON object per line (or plain text for a console), one line per request.

Every record carries the request id. The access line (logger ``kasir.access``) says
what was asked — method, route *template*, status, duration, and who asked (terminal id
or user id) — and never the raw path, query, headers or body, so tokens, PINs and
passwords have no way into the logs through it.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any, Literal

from starlette.types import Scope

from sync_server.core.metrics import ObservedRequests, method_label, route_label
from sync_server.core.middleware import RequestIdFilter, request_id_var

access_log = logging.getLogger("kasir.access")

CALLER_KEY = "kasir.caller"
"""Where the auth dependency leaves who called, in the ASGI scope: a dict with
``terminal_id`` or ``user_id`` (see :func:`note_caller`)."""

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


class JsonFormatter(logging.Formatter):
    """A record as one JSON object: time, level, logger, request id, message, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """Time, level, request id, logger, message, then the extras as ``key=value``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = " ".join(
            f"{key}={value}"
            for key, value in vars(record).items()
            if key not in _STANDARD and not key.startswith("_")
        )
        return f"{line} {extras}" if extras else line


def make_handler(
    log_format: Literal["json", "text"], stream: IO[str] | None = None
) -> logging.Handler:
    """A handler on ``stream`` (stderr) with the request-id filter and the chosen format."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    return handler


def configure_logging(level: str, log_format: Literal["json", "text"] = "text") -> None:
    """Send the ``kasir`` loggers (and uvicorn's own) to stderr in ``log_format``."""
    handler = make_handler(log_format)
    for name in ("kasir", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.propagate = False
    logging.getLogger("kasir").setLevel(level)


def note_caller(scope: Scope, *, terminal_id: int | None, user_id: int | None) -> None:
    """Remember who is calling, for the request's access line."""
    caller = scope.get(CALLER_KEY)
    if isinstance(caller, dict):
        caller.update(terminal_id=terminal_id, user_id=user_id)


class AccessLogMiddleware(ObservedRequests[dict[str, int | None]]):
    """One log line per HTTP request, after it was answered."""

    def started(self, scope: Scope) -> dict[str, int | None]:
        """A place in the scope for :func:`note_caller` to say who called."""
        caller: dict[str, int | None] = {}
        scope[CALLER_KEY] = caller
        return caller

    def answered(
        self, scope: Scope, started: dict[str, int | None], *, status: int, seconds: float
    ) -> None:
        """Log the request: method, route template, status, duration and caller."""
        fields: dict[str, Any] = {
            "method": method_label(scope),
            "route": route_label(scope),
            "status": status,
            "duration_ms": round(seconds * 1000, 1),
        }
        fields.update({k: v for k, v in started.items() if v is not None})
        access_log.info("request", extra=fields)


__all__ = [
    "AccessLogMiddleware",
    "JsonFormatter",
    "TextFormatter",
    "configure_logging",
    "note_caller",
    "request_id_var",
]
