"""One contract, two stores: the sync tests' FakeSyncStore behaves as the real LocalStore.

The sync worker's tests run against :class:`tests.client.fakes.FakeSyncStore`; they
prove something about the till only if the fake does what :class:`LocalStore` does.
Every case here runs against both.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from pos_client.store import LocalStore
from pos_client.store.migrations import MIGRATIONS, migrate
from pos_client.store.ports import PushFailure, SyncStore
from shared.models import EventResult, EventStatus, OutboxEvent, PullResponse
from tests.client.fakes import T0, FakeSyncStore, make_event, product


@dataclass
class Backend:
    """A store under test and the way a checkout would queue events in it."""

    store: SyncStore
    add: Callable[[OutboxEvent], None]

    def queue(self, count: int) -> list[OutboxEvent]:
        """Queue ``count`` events (``make_event(0)`` onwards), oldest first."""
        events = [make_event(n) for n in range(count)]
        for event in events:
            self.add(event)
        return events


def _local() -> Iterator[Backend]:
    store = LocalStore.memory()

    def add(event: OutboxEvent) -> None:
        with store._write():
            store._insert_outbox(str(event.id), event.type, event.created_at, event.payload)

    try:
        yield Backend(store, add)
    finally:
        store.close()


def _fake() -> Iterator[Backend]:
    store = FakeSyncStore()
    yield Backend(store, lambda event: store.add(event))


@pytest.fixture(params=["LocalStore", "FakeSyncStore"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """The real store and the fake, in turn."""
    yield from (_local() if request.param == "LocalStore" else _fake())


def _results(*pairs: tuple[OutboxEvent, EventStatus]) -> list[EventResult]:
    return [
        EventResult(
            id=event.id,
            status=status,
            code="bad" if status is EventStatus.REJECTED else None,
            reason="nope" if status is EventStatus.REJECTED else None,
        )
        for event, status in pairs
    ]


def test_pending_events_come_oldest_first_up_to_the_limit(backend: Backend) -> None:
    events = backend.queue(5)
    assert [e.id for e in backend.store.pending_events(3)] == [e.id for e in events[:3]]
    assert [e.id for e in backend.store.pending_events(10)] == [e.id for e in events]
    assert backend.store.pending_count() == 5
    first = backend.store.pending_events(1)[0]
    assert (first.type, first.payload, first.created_at) == ("sale", {"n": 0}, T0)


def test_acknowledge_drops_applied_and_duplicate_and_keeps_rejected(backend: Backend) -> None:
    a, b, c, d = backend.queue(4)
    backend.store.acknowledge(
        _results((a, EventStatus.APPLIED), (b, EventStatus.DUPLICATE), (c, EventStatus.REJECTED))
    )
    assert [e.id for e in backend.store.pending_events(10)] == [d.id]
    assert backend.store.pending_count() == 1
    rejected = backend.store.rejected_events()
    assert [(r.id, r.code, r.reason, r.payload) for r in rejected] == [
        (c.id, "bad", "nope", {"n": 2})
    ]
    status = backend.store.sync_status()
    assert (status.pending, status.rejected) == (1, 1)


def test_a_rejected_event_can_be_put_back_in_the_queue(backend: Backend) -> None:
    a, b = backend.queue(2)
    backend.store.acknowledge(_results((a, EventStatus.REJECTED)))
    backend.store.retry_rejected(a.id)
    assert {e.id for e in backend.store.pending_events(10)} == {a.id, b.id}
    assert backend.store.rejected_events() == []


def test_results_for_unknown_ids_change_nothing(backend: Backend) -> None:
    (a,) = backend.queue(1)
    backend.store.acknowledge(_results((make_event(9), EventStatus.APPLIED)))
    assert [e.id for e in backend.store.pending_events(10)] == [a.id]


def test_a_pull_page_moves_the_cursor_with_its_rows(backend: Backend) -> None:
    assert backend.store.pull_cursor() == 0
    page = PullResponse(cursor=7, has_more=False, remaining=0, products=[product(1, 7)])
    backend.store.apply_pull_page(page)
    assert backend.store.pull_cursor() == 7
    assert backend.store.sync_status().cursor == 7


def test_the_last_sync_result_keeps_the_last_success_through_failures(backend: Backend) -> None:
    status = backend.store.sync_status()
    assert (status.last_success_at, status.last_error) == (None, None)
    backend.store.record_sync_result(ok=True, error=None, at=T0)
    backend.store.record_sync_result(ok=False, error="offline", at=T0 + timedelta(minutes=1))
    status = backend.store.sync_status()
    assert (status.last_success_at, status.last_error) == (T0, "offline")
    backend.store.record_sync_result(ok=True, error=None, at=T0 + timedelta(minutes=2))
    status = backend.store.sync_status()
    assert (status.last_success_at, status.last_error) == (T0 + timedelta(minutes=2), None)


def test_a_rejected_event_never_blocks_the_ones_behind_it(backend: Backend) -> None:
    a, b, _ = backend.queue(3)
    backend.store.acknowledge(_results((a, EventStatus.REJECTED)))
    assert [e.id for e in backend.store.pending_events(1)] == [b.id]
    assert backend.store.pending_count() == 2


def test_a_retried_event_keeps_its_place_and_then_goes_like_any_other(backend: Backend) -> None:
    a, b = backend.queue(2)
    backend.store.acknowledge(_results((a, EventStatus.REJECTED)))
    backend.store.retry_rejected(a.id)
    assert [e.id for e in backend.store.pending_events(10)] == [a.id, b.id]  # oldest first
    backend.store.acknowledge(_results((a, EventStatus.APPLIED)))
    assert [e.id for e in backend.store.pending_events(10)] == [b.id]
    assert backend.store.rejected_events() == []


def test_only_a_rejected_event_can_be_retried(backend: Backend) -> None:
    (a,) = backend.queue(1)
    with pytest.raises(LookupError):
        backend.store.retry_rejected(a.id)  # pending, not rejected
    with pytest.raises(LookupError):
        backend.store.retry_rejected(make_event(9).id)  # never queued
    assert [e.id for e in backend.store.pending_events(10)] == [a.id]


def test_acknowledging_the_same_answers_twice_changes_nothing_more(backend: Backend) -> None:
    # A push whose answer was lost is sent again; the server then says `duplicate`.
    a, b, c = backend.queue(3)
    backend.store.acknowledge(_results((a, EventStatus.APPLIED), (b, EventStatus.REJECTED)))
    backend.store.acknowledge(_results((a, EventStatus.DUPLICATE), (b, EventStatus.REJECTED)))
    assert [e.id for e in backend.store.pending_events(10)] == [c.id]
    assert [r.id for r in backend.store.rejected_events()] == [b.id]
    status = backend.store.sync_status()
    assert (status.pending, status.rejected) == (1, 1)


def test_pages_move_the_cursor_forward_one_after_another(backend: Backend) -> None:
    for cursor in (3, 7, 12):
        page = PullResponse(
            cursor=cursor,
            has_more=cursor < 12,
            remaining=12 - cursor,
            products=[product(1, cursor)],
        )
        backend.store.apply_pull_page(page)
        assert backend.store.pull_cursor() == cursor


def test_a_failure_before_any_success_has_no_success_time(backend: Backend) -> None:
    backend.store.record_sync_result(ok=False, error="server unreachable", at=T0)
    status = backend.store.sync_status()
    assert (status.last_success_at, status.last_error) == (None, "server unreachable")


def test_a_conflict_is_kept_like_a_rejection_never_deleted(backend: Backend) -> None:
    a, b = backend.queue(2)
    backend.store.acknowledge(
        [EventResult(id=a.id, status=EventStatus.CONFLICT, code="conflict", reason="other")]
    )
    assert [e.id for e in backend.store.pending_events(10)] == [b.id]
    assert [(r.id, r.code) for r in backend.store.rejected_events()] == [(a.id, "conflict")]


FAILURE = PushFailure(status_code=500, code="internal_error", message="Server error 500")


def test_a_stuck_event_leaves_the_queue_with_the_servers_answer(backend: Backend) -> None:
    a, b = backend.queue(2)
    backend.store.mark_stuck(a.id, FAILURE, at=T0, retry_at=T0 + timedelta(minutes=1))
    assert [e.id for e in backend.store.pending_events(10)] == [b.id]
    assert backend.store.pending_count() == 1
    (stuck,) = backend.store.stuck_events()
    assert (stuck.event.id, stuck.event.payload, stuck.failure, stuck.attempts) == (
        a.id,
        {"n": 0},
        FAILURE,
        1,
    )
    assert (stuck.stuck_since, stuck.retry_at) == (T0, T0 + timedelta(minutes=1))
    status = backend.store.sync_status()
    assert (status.pending, status.stuck, status.rejected) == (1, 1, 0)
    assert status.next_stuck_retry_at == T0 + timedelta(minutes=1)


def test_stuck_events_are_due_at_their_retry_time(backend: Backend) -> None:
    a, b = backend.queue(2)
    backend.store.mark_stuck(a.id, FAILURE, at=T0, retry_at=T0 + timedelta(minutes=2))
    backend.store.mark_stuck(b.id, FAILURE, at=T0, retry_at=T0 + timedelta(minutes=1))
    due = backend.store.stuck_events
    assert due(due_by=T0) == []
    assert [s.event.id for s in due(due_by=T0 + timedelta(minutes=1))] == [b.id]
    assert [s.event.id for s in due(due_by=T0 + timedelta(minutes=2))] == [a.id, b.id]
    assert backend.store.sync_status().next_stuck_retry_at == T0 + timedelta(minutes=1)


def test_a_failed_retry_counts_and_keeps_when_it_first_got_stuck(backend: Backend) -> None:
    (a,) = backend.queue(1)
    backend.store.mark_stuck(a.id, FAILURE, at=T0, retry_at=T0 + timedelta(minutes=1))
    later = PushFailure(status_code=422, code="invalid_payload", message="bad")
    backend.store.mark_stuck(
        a.id, later, at=T0 + timedelta(minutes=1), retry_at=T0 + timedelta(minutes=3)
    )
    (stuck,) = backend.store.stuck_events()
    assert (stuck.failure, stuck.attempts, stuck.stuck_since) == (later, 2, T0)
    assert stuck.retry_at == T0 + timedelta(minutes=3)


def test_an_answer_releases_a_stuck_event(backend: Backend) -> None:
    a, b = backend.queue(2)
    for event in (a, b):
        backend.store.mark_stuck(event.id, FAILURE, at=T0, retry_at=T0)
    backend.store.acknowledge(_results((a, EventStatus.APPLIED), (b, EventStatus.REJECTED)))
    assert backend.store.stuck_events() == []
    assert [(r.id, r.code) for r in backend.store.rejected_events()] == [(b.id, "bad")]
    status = backend.store.sync_status()
    assert (status.pending, status.stuck, status.rejected) == (0, 0, 1)
    assert status.next_stuck_retry_at is None
    backend.store.retry_rejected(b.id)  # put back by the manager: in the queue, not stuck
    assert [e.id for e in backend.store.pending_events(10)] == [b.id]


def test_only_a_queued_event_can_get_stuck(backend: Backend) -> None:
    (a,) = backend.queue(1)
    backend.store.acknowledge(_results((a, EventStatus.REJECTED)))
    with pytest.raises(LookupError):
        backend.store.mark_stuck(a.id, FAILURE, at=T0, retry_at=T0)  # rejected
    with pytest.raises(LookupError):
        backend.store.mark_stuck(make_event(9).id, FAILURE, at=T0, retry_at=T0)  # unknown
    assert backend.store.stuck_events() == []


def test_a_till_from_before_stuck_events_keeps_its_queue(tmp_path: Path) -> None:
    # LocalStore only: a database of schema 1 with a queued event, then the upgrade.
    path = tmp_path / "till.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, MIGRATIONS[:1])
    event = make_event(0)
    conn.execute(
        "INSERT INTO outbox (id, type, created_at, payload) VALUES (?, ?, ?, ?)",
        (str(event.id), event.type, event.created_at.isoformat(), json.dumps(event.payload)),
    )
    conn.close()
    store = LocalStore(path)
    try:
        assert [e.id for e in store.pending_events(10)] == [event.id]
        assert store.stuck_events() == [] and store.sync_status().stuck == 0
    finally:
        store.close()
