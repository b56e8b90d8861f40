"""``kasir export-unsynced``: the waiting events to a file, the outbox left as it was."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path

import pytest

from pos_client.cli import main
from pos_client.config import ClientSettings
from pos_client.store import LocalStore
from pos_client.store.export import ExportRefused, export_unsynced
from pos_client.store.ports import PushFailure
from shared.models import EventResult, EventStatus
from tests.client.conftest import (
    CASHIER,
    INDOMIE,
    PINS,
    STORE_ID,
    TEH,
    FakeClock,
    Till,
    make_till,
    ring,
    seed,
)


def outbox_rows(store: LocalStore) -> list[tuple[object, ...]]:
    return store.conn.execute("SELECT * FROM outbox ORDER BY seq").fetchall()


def read_export(path: Path) -> tuple[dict, list[dict], str]:
    """Header, event lines and the sha256 line, after checking the sha256."""
    data = path.read_bytes()
    body, _, last = data.rstrip(b"\n").rpartition(b"\n")
    digest = json.loads(last)["sha256"]
    assert hashlib.sha256(body + b"\n").hexdigest() == digest
    lines = [json.loads(line) for line in body.split(b"\n")]
    return lines[0], lines[1:], digest


def test_export_writes_pending_and_stuck_events_and_leaves_the_outbox(
    till: Till, tmp_path: Path
) -> None:
    store = till.store
    first = ring(till, INDOMIE)
    second = ring(till, TEH, TEH)
    third = ring(till, INDOMIE, TEH)
    pending = store.pending_events(100)
    shift_event, first_event, second_event, third_event = pending
    assert first_event.payload["id"] == str(first.id)
    # One stuck (the server kept failing on it), one rejected (not waiting any more).
    store.mark_stuck(
        second_event.id,
        PushFailure(status_code=500, code="internal_error", message="boom"),
        at=till.clock.moment,
        retry_at=till.clock.moment + timedelta(minutes=5),
    )
    store.acknowledge(
        [EventResult(id=third_event.id, status=EventStatus.REJECTED, code="x", reason="no")]
    )
    before = outbox_rows(store)

    summary = export_unsynced(store, tmp_path / "out" / "t01.jsonl")

    assert outbox_rows(store) == before
    header, lines, digest = read_export(summary.path)
    assert (summary.events, summary.pending, summary.stuck) == (3, 2, 1)
    assert summary.sha256 == digest
    assert header["format"] == "kasir-till-export" and header["version"] == 1
    assert (header["terminal_id"], header["terminal_code"], header["store_id"]) == (
        1,
        "T01",
        STORE_ID,
    )
    assert (header["events"], header["pending"], header["stuck"]) == (3, 2, 1)
    assert [line["event"]["id"] for line in lines] == [
        str(e.id) for e in (shift_event, first_event, second_event)
    ]
    assert [line["stuck"] for line in lines] == [False, False, True]
    # Each event exactly as the till would push it.
    assert lines[1]["event"] == first_event.model_dump(mode="json")
    assert lines[2]["event"]["payload"]["receipt_number"] == second.receipt_number
    assert str(third.id) not in summary.path.read_text()
    assert not list(summary.path.parent.glob(".*partial"))


def test_an_empty_outbox_exports_a_header_only(till: Till, tmp_path: Path) -> None:
    store = till.store
    store.acknowledge(
        [EventResult(id=e.id, status=EventStatus.APPLIED) for e in store.pending_events(100)]
    )
    summary = export_unsynced(store, tmp_path / "empty.jsonl")
    header, lines, _ = read_export(summary.path)
    assert summary.events == 0 and header["events"] == 0 and lines == []


def test_a_till_that_is_not_enrolled_exports_nothing(tmp_path: Path) -> None:
    store = LocalStore.memory()
    try:
        with pytest.raises(ExportRefused, match="not enrolled"):
            export_unsynced(store, tmp_path / "x.jsonl")
    finally:
        store.close()
    assert not (tmp_path / "x.jsonl").exists()


def test_kasir_export_unsynced_command(
    tmp_path: Path, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = ClientSettings(data_dir=tmp_path / "till", terminal_code="T01")
    store = seed(LocalStore.open(settings))
    till = make_till(store, settings, clock)
    till.auth.login(CASHIER, PINS[CASHIER])
    till.shifts.open(200_000)
    ring(till, INDOMIE)
    waiting = store.pending_count()
    target = tmp_path / "usb" / "t01.jsonl"

    code = main(["export-unsynced", "--data-dir", str(settings.data_dir), "--to", str(target)])

    assert code == 0, capsys.readouterr().err
    assert "wrote 2 events" in capsys.readouterr().out
    header, lines, _ = read_export(target)
    assert header["terminal_code"] == "T01" and len(lines) == 2
    assert store.pending_count() == waiting
    store.close()

    missing = tmp_path / "nowhere"
    assert main(["export-unsynced", "--data-dir", str(missing), "--to", str(target)]) == 1
    assert "no till database" in capsys.readouterr().err
    assert not missing.exists()
