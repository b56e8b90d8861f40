"""One contract, two stores: the sync tests' FakeSyncStore behaves as the real LocalStore.

The sync worker's tests run against :class:`tests.client.fakes.FakeSyncStore`; they
prove something about the till only if the fake does what :class:`LocalStore` does.
Every case here runs against both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from pos_client.store import LocalStore
from pos_client.store.ports import SyncStore
from shared.models import EventResult, EventStatus, OutboxEvent, PullResponse
from tests.client.fakes import T0, FakeSyncStore, make_event, product


@dataclass
class Backend:
    """A store under test and the way a checkout would queue events in it."""

    store: SyncStore
    add: Callable[[OutboxEvent], None]


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
    events = [make_event(n) for n in range(5)]
    for event in events:
        backend.add(event)
    assert [e.id for e in backend.store.pending_events(3)] == [e.id for e in events[:3]]
    assert [e.id for e in backend.store.pending_events(10)] == [e.id for e in events]
    assert backend.store.pending_count() == 5
    first = backend.store.pending_events(1)[0]
    assert (first.type, first.payload, first.created_at) == ("sale", {"n": 0}, T0)


def test_acknowledge_drops_applied_and_duplicate_and_keeps_rejected(backend: Backend) -> None:
    a, b, c, d = (make_event(n) for n in range(4))
    for event in (a, b, c, d):
        backend.add(event)
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
    a, b = make_event(0), make_event(1)
    backend.add(a)
    backend.add(b)
    backend.store.acknowledge(_results((a, EventStatus.REJECTED)))
    backend.store.retry_rejected(a.id)
    assert {e.id for e in backend.store.pending_events(10)} == {a.id, b.id}
    assert backend.store.rejected_events() == []


def test_results_for_unknown_ids_change_nothing(backend: Backend) -> None:
    a = make_event(0)
    backend.add(a)
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
    a, b, c = (make_event(n) for n in range(3))
    for event in (a, b, c):
        backend.add(event)
    backend.store.acknowledge(_results((a, EventStatus.REJECTED)))
    assert [e.id for e in backend.store.pending_events(1)] == [b.id]
    assert backend.store.pending_count() == 2


def test_a_retried_event_keeps_its_place_and_then_goes_like_any_other(backend: Backend) -> None:
    a, b = make_event(0), make_event(1)
    backend.add(a)
    backend.add(b)
    backend.store.acknowledge(_results((a, EventStatus.REJECTED)))
    backend.store.retry_rejected(a.id)
    assert [e.id for e in backend.store.pending_events(10)] == [a.id, b.id]  # oldest first
    backend.store.acknowledge(_results((a, EventStatus.APPLIED)))
    assert [e.id for e in backend.store.pending_events(10)] == [b.id]
    assert backend.store.rejected_events() == []


def test_only_a_rejected_event_can_be_retried(backend: Backend) -> None:
    a = make_event(0)
    backend.add(a)
    with pytest.raises(LookupError):
        backend.store.retry_rejected(a.id)  # pending, not rejected
    with pytest.raises(LookupError):
        backend.store.retry_rejected(make_event(9).id)  # never queued
    assert [e.id for e in backend.store.pending_events(10)] == [a.id]


def test_acknowledging_the_same_answers_twice_changes_nothing_more(backend: Backend) -> None:
    # A push whose answer was lost is sent again; the server then says `duplicate`.
    a, b, c = make_event(0), make_event(1), make_event(2)
    for event in (a, b, c):
        backend.add(event)
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
    a, b = make_event(0), make_event(1)
    backend.add(a)
    backend.add(b)
    backend.store.acknowledge(
        [EventResult(id=a.id, status=EventStatus.CONFLICT, code="conflict", reason="other")]
    )
    assert [e.id for e in backend.store.pending_events(10)] == [b.id]
    assert [(r.id, r.code) for r in backend.store.rejected_events()] == [(a.id, "conflict")]
