"""The till's unsynced events written to a file a manager can carry to the server.

``kasir export-unsynced --to FILE`` writes every event still waiting in the outbox
(pending and stuck, oldest first) as JSON lines:

* line 1, the header: ``{"format": "kasir-till-export", "version": 1, "terminal_id",
  "terminal_code", "store_id", "exported_at", "events", "pending", "stuck"}``;
* one line per event: ``{"event": {"id", "type", "created_at", "payload"}, "stuck"}``
  (the event exactly as the till would push it);
* the last line: ``{"sha256": "<hex>"}``, the sha256 of every byte before that line.

The server applies the file with ``kasir-server import-till-export FILE`` through its
push ingest. The outbox is only read, never changed: the till pushes the same events
later and the server answers ``duplicate``, which removes them as any push would.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pos_client.store.sync import SyncMixin, _event_of
from shared.files import write_atomically

EXPORT_FORMAT = "kasir-till-export"
EXPORT_VERSION = 1


class ExportRefused(Exception):
    """The till cannot export (not enrolled yet): nothing was written."""


@dataclass(frozen=True, slots=True)
class ExportSummary:
    """What an export wrote."""

    path: Path
    events: int
    pending: int
    stuck: int
    sha256: str


def _line(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def export_unsynced(
    store: SyncMixin, target: Path, *, now: datetime | None = None
) -> ExportSummary:
    """Write the outbox's pending and stuck events to ``target``; the outbox is untouched.

    The file appears complete or not at all (written beside it, fsynced, renamed).
    Raises :class:`ExportRefused` before enrollment: a file without the terminal's
    identity could not be checked by the server.
    """
    identity = store.terminal_identity()
    if identity.terminal_id is None or identity.terminal_code is None or identity.store_id is None:
        raise ExportRefused("this till is not enrolled, so its events cannot be exported")
    # One SELECT is one read snapshot, even while the sync worker writes.
    rows = store.conn.execute(
        "SELECT id, type, created_at, payload, stuck_until IS NOT NULL FROM outbox "
        "WHERE status = 'pending' ORDER BY seq"
    ).fetchall()
    stuck = sum(1 for row in rows if row[4])
    content = bytearray(
        _line(
            {
                "format": EXPORT_FORMAT,
                "version": EXPORT_VERSION,
                "terminal_id": identity.terminal_id,
                "terminal_code": identity.terminal_code,
                "store_id": identity.store_id,
                "exported_at": (now or datetime.now(UTC)).isoformat(),
                "events": len(rows),
                "pending": len(rows) - stuck,
                "stuck": stuck,
            }
        )
    )
    for row in rows:
        event = _event_of(row)
        content += _line({"event": event.model_dump(mode="json"), "stuck": bool(row[4])})
    digest = hashlib.sha256(content).hexdigest()
    content += _line({"sha256": digest})

    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(target, content)
    return ExportSummary(
        path=target, events=len(rows), pending=len(rows) - stuck, stuck=stuck, sha256=digest
    )
