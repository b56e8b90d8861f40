"""The sync worker against FakeServer (MockTransport) and FakeSyncStore."""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from pos_client.store import LocalStore
from pos_client.store.ports import PushFailure, SyncStore
from pos_client.sync.client import DamagedAnswer, Offline, SyncClient
from pos_client.sync.worker import (
    DAMAGED_PAGE_RETRIES,
    SyncReport,
    SyncWorker,
    fit_push_bytes,
    stuck_delay,
)
from shared.ids import new_id
from shared.models import OutboxEvent
from tests.client.fakes import (
    BASE_URL,
    T0,
    TOKEN,
    FakeServer,
    FakeSyncStore,
    json_of,
    make_event,
)


class FakeTime:
    """One fake time for the worker's clock, its monotonic clock and its sleep.

    ``sleep`` moves time on by what it was asked (or by ``step`` at most, as if a
    wake-up cut it short) and then calls ``on_sleep`` (say, a sale's ``sync_now()``).
    """

    def __init__(self, step: float | None = None) -> None:
        self.elapsed = 0.0
        self.step = step
        self.sleeps: list[float] = []
        self.on_sleep: Callable[[float], None] | None = None

    def now(self) -> datetime:
        return T0 + timedelta(seconds=self.elapsed)

    def monotonic(self) -> float:
        return self.elapsed

    def advance(self, seconds: float) -> None:
        self.elapsed += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.elapsed += seconds if self.step is None else min(seconds, self.step)
        if self.on_sleep is not None:
            self.on_sleep(self.elapsed)


class FixedRng(random.Random):
    """An rng whose uniform() returns the top of the range times ``fraction``."""

    def __init__(self, fraction: float) -> None:
        super().__init__(0)
        self.fraction = fraction
        self.ranges: list[tuple[float, float]] = []

    def uniform(self, a: float, b: float) -> float:
        self.ranges.append((a, b))
        return a + (b - a) * self.fraction


def make_worker(
    store: FakeSyncStore, server: FakeServer, **kwargs: object
) -> tuple[SyncWorker, list[SyncReport]]:
    reports: list[SyncReport] = []
    kwargs.setdefault("clock", lambda: T0)
    worker = SyncWorker(
        store.factory,
        server.client,
        on_result=reports.append,
        **kwargs,  # type: ignore[arg-type]
    )
    return worker, reports


def test_pushes_all_pending_in_batches_and_deletes_acknowledged() -> None:
    store, server = FakeSyncStore(), FakeServer()
    events = [make_event(i) for i in range(7)]
    store.add(*events)
    worker, reports = make_worker(store, server, batch_size=3)

    report = worker.run_once()

    assert server.push_sizes == [3, 3, 1]
    assert list(server.applied) == [e.id for e in events]  # oldest first
    assert store.outbox_ids == []
    assert report.online is True and report.pending == 0 and report.pushed == 7
    assert report.last_success_at == T0 and report.last_error is None
    assert reports == [report] and worker.status() == report


def test_waiting_count_is_sent_with_each_batch() -> None:
    store, server = FakeSyncStore(), FakeServer()
    store.add(*[make_event(i) for i in range(5)])
    make_worker(store, server, batch_size=2)[0].run_once()
    waiting = [json_of(r)["waiting"] for r in server.requests if r.url.path.endswith("push")]
    assert waiting == [5, 3, 1]


def test_rejected_events_are_kept_listed_and_do_not_block_the_queue() -> None:
    store, server = FakeSyncStore(), FakeServer(reject_types={"bogus"})
    bad = make_event(0, "bogus")
    good = [make_event(i) for i in range(1, 6)]
    store.add(bad, *good)
    worker, _ = make_worker(store, server, batch_size=2)

    report = worker.run_once()

    assert set(server.applied) == {e.id for e in good}
    assert [r.id for r in store.rejected_events()] == [bad.id]
    rejected = store.rejected_events()[0]
    assert (rejected.code, rejected.type, rejected.payload) == ("unknown_type", "bogus", {"n": 0})
    assert report.pending == 0 and report.rejected == 1 and report.rejected_now == 1
    # The next round does not send it again, and it stays listed.
    sent_before = len(server.requests)
    worker.run_once()
    assert all(not r.url.path.endswith("push") for r in server.requests[sent_before:])
    assert store.sync_status().rejected == 1


def test_retried_rejected_event_goes_out_again() -> None:
    store, server = FakeSyncStore(), FakeServer(reject_types={"refund"})
    event = make_event(0, "refund")
    store.add(event)
    worker, _ = make_worker(store, server)
    worker.run_once()
    server.reject_types.clear()  # the manager fixed the cause on the server
    store.retry_rejected(event.id)
    report = worker.run_once()
    assert event.id in server.applied and report.rejected == 0 and store.outbox_ids == []


def test_connection_dropped_after_commit_causes_no_duplicate() -> None:
    store, server = FakeSyncStore(), FakeServer(failures=["drop_after_commit"])
    event = make_event()
    store.add(event)
    worker, _ = make_worker(store, server)

    first = worker.run_once()
    assert first.online is False and "ReadError" in (first.last_error or "")
    assert event.id in server.applied  # the server committed...
    assert store.outbox_ids == [event.id]  # ...but the till kept it, unacknowledged

    second = worker.run_once()
    assert second.online is True and second.pushed == 1
    assert store.outbox_ids == []
    assert server.apply_count == {event.id: 1}  # applied exactly once
    pushes = [r for r in server.requests if r.url.path.endswith("push")]
    assert len(pushes) == 2  # re-sent once, answered duplicate


def test_partial_answer_keeps_unanswered_events_and_stops_the_round() -> None:
    store, server = FakeSyncStore(), FakeServer()
    events = [make_event(i) for i in range(3)]
    store.add(*events)
    original = server._push

    def drop_last(body):
        response = original(body)
        data = response.json()
        data["results"] = data["results"][:-1]
        import httpx

        return httpx.Response(200, json=data)

    server._push = drop_last  # type: ignore[method-assign]
    report = make_worker(store, server)[0].run_once()
    assert store.outbox_ids == [events[2].id]
    assert report.pending == 1 and "incomplete_answer" in (report.last_error or "")


def test_pull_pages_until_done_saving_the_cursor_per_page() -> None:
    store, server = FakeSyncStore(), FakeServer()
    server.add_products(12)
    report = make_worker(store, server, pull_limit=5)[0].run_once()
    assert server.pull_cursors == [0, 5, 10]
    assert store.cursors_saved == [5, 10, 12]
    assert len(store.catalog["products"]) == 12
    assert report.pulled == 12 and report.cursor == 12


def test_pull_resumes_from_the_saved_cursor_after_a_failure() -> None:
    store, server = FakeSyncStore(), FakeServer()
    server.add_products(10)
    store.fail_apply_at_cursor = 8
    worker, _ = make_worker(store, server, pull_limit=4)
    with pytest.raises(OSError, match="disk full"):  # run_once lets store failures through
        worker.run_once()
    assert store.cursor == 4  # the page that failed left nothing behind
    store.fail_apply_at_cursor = None
    worker.run_once()
    assert server.pull_cursors[-2:] == [4, 8] and store.cursor == 10


def test_initial_download_reports_progress_to_total() -> None:
    store, server = FakeSyncStore(), FakeServer()
    server.add_products(11)
    calls: list[tuple[int, int]] = []
    worker, reports = make_worker(store, server, pull_limit=4)

    pulled = worker.initial_download(lambda done, total: calls.append((done, total)))

    assert pulled == 11
    assert calls == [(4, 11), (8, 11), (11, 11)]
    assert store.cursor == 11 and len(store.catalog["products"]) == 11
    assert reports[-1].pulled == 11 and reports[-1].last_success_at == T0


def test_initial_download_fetches_a_damaged_page_again() -> None:
    store, server = FakeSyncStore(), FakeServer(failures=["cut", "cut"])
    server.add_products(6)
    worker, _ = make_worker(store, server, pull_limit=4, base_delay=0.0)

    pulled = worker.initial_download(lambda done, total: None)

    assert pulled == 6 and store.cursor == 6
    assert len(store.catalog["products"]) == 6


def test_initial_download_gives_up_after_damaged_pages_in_a_row() -> None:
    store, server = FakeSyncStore(), FakeServer(failures=["cut"] * (DAMAGED_PAGE_RETRIES + 1))
    server.add_products(6)
    worker, _ = make_worker(store, server, pull_limit=4, base_delay=0.0)
    with pytest.raises(DamagedAnswer):
        worker.initial_download(lambda done, total: None)
    assert store.cursor == 0 and not store.catalog.get("products")


def test_initial_download_raises_when_offline() -> None:
    store, server = FakeSyncStore(), FakeServer(failures=["connect"])
    worker, _ = make_worker(store, server)
    with pytest.raises(Offline):
        worker.initial_download(lambda done, total: None)


def test_protocol_mismatch_stops_with_the_servers_message() -> None:
    store, server = FakeSyncStore(), FakeServer(failures=["426"])
    store.add(make_event())
    worker, _ = make_worker(store, server)
    report = worker.run_once()
    assert report.stopped
    assert report.stopped_reason == "Sync stopped: Server speaks protocol 2. Update Kasir."
    assert store.outbox_ids  # nothing lost
    # A stopped worker does not call the server again.
    count = len(server.requests)
    assert worker.run_once().stopped and len(server.requests) == count


def test_revoked_token_stops_sync() -> None:
    store, server = FakeSyncStore(), FakeServer(token="rotated")
    report = make_worker(store, server)[0].run_once()
    assert report.stopped and "enroll it again" in (report.stopped_reason or "")
    assert report.last_error == report.stopped_reason


def test_backoff_grows_with_full_jitter_capped_and_resets_after_success() -> None:
    store = FakeSyncStore()
    server = FakeServer(failures=["connect", "503", "timeout", "connect", "503", "connect"])
    store.add(make_event())
    rng = FixedRng(0.5)
    delays: list[float] = []
    workers: list[SyncWorker] = []
    eight_rounds = threading.Event()
    fake = FakeTime()

    def fake_sleep(seconds: float) -> None:
        delays.append(seconds)
        fake.sleep(seconds)
        if len(delays) == 8:
            workers[0].stop(timeout=0)
            eight_rounds.set()

    worker, reports = make_worker(
        store,
        server,
        base_delay=1.0,
        max_delay=10.0,
        interval=5.0,
        rng=rng,
        sleep=fake_sleep,
        clock=fake.now,
        monotonic=fake.monotonic,
    )
    workers.append(worker)
    worker.start()
    assert eight_rounds.wait(5)
    worker.stop()

    assert not worker.running
    assert rng.ranges[:6] == [(0, 1), (0, 2), (0, 4), (0, 8), (0, 10), (0, 10)]
    assert delays[:6] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    assert delays[6:] == [5.0, 5.0]  # online again: the normal interval, no backoff
    assert reports[0].online is None and reports[0].pending == 1  # before the first round
    rounds = reports[1:]
    assert [r.online for r in rounds[:7]] == [False] * 6 + [True]
    assert rounds[0].retry_in == 0.5 and rounds[6].retry_in is None
    assert server.applied and store.outbox_ids == []
    # After the success the failure count reset: the next failure starts small again.
    server.failures.append("connect")
    worker.run_once()
    assert rng.ranges[-1] == (0, 1)


def test_sleep_is_injectable_through_the_constructor() -> None:
    store, server = FakeSyncStore(), FakeServer(failures=["connect", "connect"])
    delays: list[float] = []
    stop = threading.Event()
    fake = FakeTime()

    def sleep(seconds: float) -> None:
        delays.append(seconds)
        fake.sleep(seconds)
        if len(delays) >= 3:
            stop.set()
            stop_worker()

    worker, _ = make_worker(
        store,
        server,
        sleep=sleep,
        rng=FixedRng(1.0),
        base_delay=2.0,
        clock=fake.now,
        monotonic=fake.monotonic,
    )

    def stop_worker() -> None:
        worker.stop(timeout=0)

    worker.start()
    assert stop.wait(5)
    worker.stop()
    assert delays == [2.0, 4.0, 5.0]


def wait_for(reports: list[SyncReport], check: object, seconds: float = 5.0) -> SyncReport:
    """The first report (arriving from the worker thread) for which ``check`` is true."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for report in list(reports):
            if check(report):  # type: ignore[operator]
                return report
        time.sleep(0.005)
    raise AssertionError(f"no such report in {reports}")


def test_thread_opens_its_own_store_and_on_result_runs_in_it() -> None:
    store, server = FakeSyncStore(), FakeServer()
    store.add(make_event())
    reports: list[SyncReport] = []
    threads: list[str] = []

    def on_result(report: SyncReport) -> None:
        threads.append(threading.current_thread().name)
        reports.append(report)

    worker = SyncWorker(store.factory, server.client, on_result=on_result, interval=60)
    worker.start()
    first = wait_for(reports, lambda r: True)
    assert first.pending == 1 and first.online is None  # shown before the network answers
    wait_for(reports, lambda r: r.pushed == 1)
    worker.stop()
    assert store.opened_in == ["kasir-sync"] and set(threads) == {"kasir-sync"}
    assert store.closed == 1 and not worker.running
    assert worker.status().pending == 0 and worker.status().online is True


def test_sync_now_wakes_the_sleeping_worker() -> None:
    store, server = FakeSyncStore(), FakeServer()
    reports: list[SyncReport] = []
    worker = SyncWorker(store.factory, server.client, on_result=reports.append, interval=3600)
    worker.start()
    wait_for(reports, lambda r: r.online is True)  # first round done; now asleep for an hour
    event = make_event()
    store.add(event)
    worker.sync_now()
    wait_for(reports, lambda r: r.pushed == 1)
    worker.stop()
    assert event.id in server.applied and store.outbox_ids == []


def test_the_thread_checkpoints_the_wal_after_every_round() -> None:
    store, server = FakeSyncStore(), FakeServer()
    reports: list[SyncReport] = []
    worker = SyncWorker(store.factory, server.client, on_result=reports.append, interval=3600)
    worker.start()
    wait_for(reports, lambda r: r.online is True)  # first round done
    store.add(make_event())
    worker.sync_now()
    wait_for(reports, lambda r: r.pushed == 1)
    worker.stop()
    assert store.checkpoints == 2  # one per round, none inside a round


def test_a_failing_checkpoint_does_not_stop_sync() -> None:
    store, server = FakeSyncStore(), FakeServer()

    def broken() -> None:
        raise OSError("disk I/O error")

    store.checkpoint = broken  # type: ignore[method-assign]
    reports: list[SyncReport] = []
    worker = SyncWorker(store.factory, server.client, on_result=reports.append, interval=3600)
    worker.start()
    wait_for(reports, lambda r: r.online is True)
    event = make_event()
    store.add(event)
    worker.sync_now()
    wait_for(reports, lambda r: r.pushed == 1)
    worker.stop()
    assert event.id in server.applied and not worker.status().stopped


def test_stop_returns_promptly_while_waiting() -> None:
    store, server = FakeSyncStore(), FakeServer()
    done = threading.Event()
    worker = SyncWorker(store.factory, server.client, on_result=lambda r: done.set(), interval=3600)
    worker.start()
    assert done.wait(5)
    # Asleep for an hour: only a stop that wakes the wait lets the thread end within
    # the join's timeout (no clock is read: an unwoken thread is still running after it).
    worker.stop(timeout=5)
    assert not worker.running


def test_thread_stops_by_itself_on_protocol_mismatch() -> None:
    store, server = FakeSyncStore(), FakeServer(failures=["426"])
    worker = SyncWorker(store.factory, server.client, interval=0.01)
    worker.start()
    worker._thread.join(5)  # type: ignore[union-attr]
    assert not worker.running and worker.status().stopped
    assert len(server.requests) == 1


def test_a_failing_callback_or_store_does_not_kill_the_thread() -> None:
    store, server = FakeSyncStore(), FakeServer()
    server.add_products(3)
    store.fail_apply_at_cursor = 1
    calls = threading.Semaphore(0)

    def on_result(report: SyncReport) -> None:
        calls.release()
        raise RuntimeError("widget gone")

    worker = SyncWorker(
        store.factory,
        server.client,
        on_result=on_result,
        interval=0.01,
        base_delay=0.01,
        max_delay=0.01,
    )
    worker.start()
    assert calls.acquire(timeout=5) and calls.acquire(timeout=5)
    assert worker.running
    assert "disk full" in (worker.status().last_error or "")
    store.fail_apply_at_cursor = None
    worker.sync_now()
    for _ in range(50):
        if store.cursor == 3:
            break
        calls.acquire(timeout=1)
    worker.stop()
    assert store.cursor == 3


def test_fit_push_bytes_trims_a_batch_that_would_be_too_big() -> None:
    events = [make_event(i) for i in range(10)]
    one = len(events[0].model_dump_json()) + 1
    assert fit_push_bytes(events, max_bytes=4096 + one * 3) == 3
    assert fit_push_bytes(events, max_bytes=10) == 1
    assert fit_push_bytes(events) == 10


# -- one event the server fails on never stalls the queue ------------------------------


class FailingOn:
    """A transport in front of a FakeServer that fails any push carrying a ``bad`` id.

    The answer is ``status`` in the server's error shape (a real 500 by default), as a
    server whose ingest raised for that one event would answer. ``fail_all`` fails every
    push; ``pushes`` lists the ids each push carried.
    """

    def __init__(self, server: FakeServer, *bad: UUID, status: int = 500) -> None:
        self.server = server
        self.bad = set(bad)
        self.status = status
        self.fail_all = False
        self.pushes: list[list[UUID]] = []
        self.drops_after_failing = False  # like uvicorn after an unhandled error
        self._dropped = True

    def handle(self, request: httpx.Request) -> httpx.Response:
        if not self._dropped:
            self._dropped = True  # the next request met the closed connection
            raise httpx.ReadError("connection reset by peer", request=request)
        if request.url.path.endswith("/push"):
            ids = [UUID(e["id"]) for e in json_of(request)["events"]]
            self.pushes.append(ids)
            if self.fail_all or self.bad & set(ids):
                self.server.requests.append(request)
                self._dropped = not self.drops_after_failing
                code = "internal_error" if self.status >= 500 else "invalid_batch"
                return httpx.Response(
                    self.status,
                    json={"error": {"code": code, "message": "it broke", "details": None}},
                )
        return self.server.handle(request)

    def client(self) -> SyncClient:
        http = httpx.Client(transport=httpx.MockTransport(self.handle))
        return SyncClient(http, base_url=BASE_URL, token=TOKEN)

    def sent(self, event_id: UUID) -> int:
        """How many pushes carried ``event_id``."""
        return sum(event_id in ids for ids in self.pushes)


def stuck_worker(
    store_factory: Callable[[], SyncStore], front: FailingOn, fake: FakeTime, **kw: object
) -> SyncWorker:
    """A worker on ``fake`` time whose pushes go through ``front``."""
    return SyncWorker(
        store_factory,
        front.client,
        clock=fake.now,
        monotonic=fake.monotonic,
        sleep=fake.sleep,
        **kw,  # type: ignore[arg-type]
    )


def test_an_event_the_server_fails_on_is_set_aside_and_the_rest_go_through() -> None:
    store, server, fake = FakeSyncStore(), FakeServer(), FakeTime()
    events = [make_event(i) for i in range(7)]
    bad = events[3]
    store.add(*events)
    front = FailingOn(server, bad.id)
    worker = stuck_worker(store.factory, front, fake, batch_size=10)

    first = worker.run_once()  # the first failure may be passing: retried whole later
    assert first.online is True and first.retry_in is not None and first.stuck == 0
    assert "500" in (first.last_error or "") and server.applied == {}

    second = worker.run_once()  # failed again: cut down to the one event
    others = [e.id for e in events if e is not bad]
    assert list(server.applied) == others  # oldest first, each once
    assert set(server.apply_count.values()) == {1}
    assert (second.stuck, second.stuck_now, second.pending, second.pushed) == (1, 1, 0, 6)
    assert second.last_error is None and second.retry_in is None
    (stuck,) = store.stuck_events()
    assert stuck.event.id == bad.id and stuck.attempts == 1
    assert stuck.failure == PushFailure(500, "internal_error", "Server error 500: it broke")
    assert stuck.retry_at == T0 + timedelta(minutes=1) == second.next_stuck_retry_at

    sent = front.sent(bad.id)
    worker.run_once()  # not due yet: not sent
    fake.advance(59)
    assert worker.run_once().stuck == 1 and front.sent(bad.id) == sent

    fake.advance(1)  # due: tried alone, still failing, next try in 2 minutes
    report = worker.run_once()
    assert front.pushes[-1] == [bad.id] and report.stuck == 1 and report.last_error is None
    (stuck,) = store.stuck_events()
    assert stuck.attempts == 2 and stuck.retry_at == fake.now() + timedelta(minutes=2)
    assert stuck.stuck_since == T0

    front.bad.clear()  # the server is fixed
    fake.advance(120)
    released = worker.run_once()
    assert (released.stuck, released.unstuck_now, released.pushed) == (0, 1, 1)
    assert server.apply_count[bad.id] == 1 and store.outbox_ids == []


def test_a_connection_dropped_after_a_500_does_not_stop_the_isolation() -> None:
    store, server, fake = FakeSyncStore(), FakeServer(), FakeTime()
    events = [make_event(i) for i in range(4)]
    store.add(*events)
    front = FailingOn(server, events[3].id)
    front.drops_after_failing = True  # the next request after each 500 is reset
    worker = stuck_worker(store.factory, front, fake, isolate_after=1)
    report = worker.run_once()
    assert report.retry_in is None and report.stuck == 1 and report.pushed == 3
    assert list(server.applied) == [e.id for e in events[:3]]


def test_a_stuck_event_the_server_then_rejects_is_kept_as_rejected() -> None:
    store, server, fake = FakeSyncStore(), FakeServer(reject_types={"refund"}), FakeTime()
    bad, good = make_event(0, "refund"), make_event(1)
    store.add(bad, good)
    front = FailingOn(server, bad.id)
    worker = stuck_worker(store.factory, front, fake, isolate_after=1)

    assert worker.run_once().stuck == 1 and good.id in server.applied
    front.bad.clear()
    fake.advance(60)
    report = worker.run_once()
    assert (report.stuck, report.unstuck_now, report.rejected, report.rejected_now) == (0, 1, 1, 1)
    assert [(r.id, r.code) for r in store.rejected_events()] == [(bad.id, "unknown_type")]


def test_stuck_delay_doubles_from_a_minute_to_an_hour() -> None:
    assert [stuck_delay(n) for n in range(1, 9)] == [
        60.0,
        120.0,
        240.0,
        480.0,
        960.0,
        1920.0,
        3600.0,
        3600.0,
    ]


def _sale(n: int, sale_id: UUID) -> OutboxEvent:
    return OutboxEvent(
        id=new_id(), type="sale", created_at=T0 + timedelta(seconds=n), payload={"id": str(sale_id)}
    )


def test_events_that_refer_to_a_stuck_event_wait_for_it() -> None:
    store, server, fake = FakeSyncStore(), FakeServer(), FakeTime()
    sale_id = new_id()
    bad = _sale(0, sale_id)
    refund = OutboxEvent(
        id=new_id(),
        type="refund",
        created_at=T0 + timedelta(seconds=1),
        payload={"id": str(new_id()), "sale_id": str(sale_id)},
    )
    good = _sale(2, new_id())
    store.add(bad, refund, good)
    front = FailingOn(server, bad.id)
    worker = stuck_worker(store.factory, front, fake, isolate_after=1)

    report = worker.run_once()
    assert list(server.applied) == [good.id]
    assert front.sent(refund.id) == 1  # only inside the first, whole batch
    assert (report.stuck, report.pending) == (1, 1)  # the refund waits in the queue
    worker.run_once()
    assert front.sent(refund.id) == 1

    front.bad.clear()
    fake.advance(60)
    report = worker.run_once()
    assert list(server.applied) == [good.id, bad.id, refund.id]  # the sale before its refund
    assert (report.stuck, report.pending) == (0, 0)


@pytest.mark.parametrize("status", [413, 422])
def test_a_4xx_about_one_event_sets_that_event_aside(status: int) -> None:
    store, server, fake = FakeSyncStore(), FakeServer(), FakeTime()
    events = [make_event(i) for i in range(4)]
    store.add(*events)
    front = FailingOn(server, events[0].id, status=status)
    worker = stuck_worker(store.factory, front, fake, isolate_after=1)
    report = worker.run_once()
    assert report.stuck == 1 and list(server.applied) == [e.id for e in events[1:]]
    assert store.stuck_events()[0].failure.status_code == status


@pytest.mark.parametrize("failure", ["connect", "timeout", "503"])
def test_the_network_or_an_unavailable_server_never_sets_an_event_aside(failure: str) -> None:
    store, server, fake = FakeSyncStore(), FakeServer(failures=[failure] * 5), FakeTime()
    store.add(*[make_event(i) for i in range(4)])
    worker = stuck_worker(store.factory, FailingOn(server), fake)
    for _ in range(5):
        report = worker.run_once()
        assert report.retry_in is not None and report.stuck == 0
    assert all(len(json_of(r)["events"]) == 4 for r in server.requests)  # never cut
    assert worker.run_once().pushed == 4 and store.stuck_events() == []


def test_an_overloaded_server_is_left_alone_for_its_retry_after_plus_jitter() -> None:
    store, server = FakeSyncStore(), FakeServer(failures=["overloaded"] * 20)
    event = make_event()
    store.add(event)
    waits = []
    for seed in range(20):
        worker, _ = make_worker(store, server, base_delay=2.0, rng=random.Random(seed))
        report = worker.run_once()
        assert report.retry_in is not None
        waits.append(report.retry_in)
    assert all(7.0 <= w <= 9.0 for w in waits)  # Retry-After plus up to one base delay
    assert len(set(waits)) > 10  # spread out, not all back at the same moment
    assert worker.run_once().pushed == 1 and list(server.applied) == [event.id]


def test_a_server_failing_on_everything_stops_isolating_and_backs_off() -> None:
    store, server, fake = FakeSyncStore(), FakeServer(), FakeTime()
    events = [make_event(i) for i in range(16)]
    store.add(*events)
    front = FailingOn(server)
    front.fail_all = True
    worker = stuck_worker(store.factory, front, fake, max_alone_in_a_row=3)

    worker.run_once()
    report = worker.run_once()
    # 16, 8, 4, 2, 1 (stuck), 1 (stuck), 2, 1 (stuck): three alone in a row, then stop.
    assert [len(p) for p in front.pushes] == [16, 16, 8, 4, 2, 1, 1, 2, 1]
    assert report.retry_in is not None and report.stuck == 3 and report.pending == 13
    worker.run_once()  # next time the whole batch is tried first, then a backoff
    assert [len(p) for p in front.pushes[9:]] == [13] and store.sync_status().stuck == 3


def test_stuck_events_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "till.sqlite3"
    till = LocalStore(path)
    events = [make_event(i) for i in range(3)]
    with till._write():
        for event in events:
            till._insert_outbox(str(event.id), event.type, event.created_at, event.payload)
    till.close()
    server, fake = FakeServer(), FakeTime()
    front = FailingOn(server, events[1].id)
    worker = stuck_worker(lambda: LocalStore(path), front, fake, isolate_after=1)
    assert worker.run_once().stuck == 1
    sent = front.sent(events[1].id)

    fake.advance(30)  # the app restarts: a new worker, the same database
    again = stuck_worker(lambda: LocalStore(path), front, fake, isolate_after=1)
    report = again.run_once()
    assert report.stuck == 1 and front.sent(events[1].id) == sent  # not due yet
    assert report.next_stuck_retry_at == T0 + timedelta(minutes=1)
    front.bad.clear()
    fake.advance(30)
    report = again.run_once()
    assert (report.stuck, report.unstuck_now, report.pending) == (0, 1, 0)
    assert server.apply_count == {e.id: 1 for e in events}


# -- sync_now() during an outage ------------------------------------------------------


def _outage_attempts(manual: bool, seconds: float = 600.0) -> tuple[list[float], list[SyncReport]]:
    """Run the thread through ``seconds`` of fake outage with sync_now() every second;
    the fake times of the connection attempts, and the reports."""
    fake = FakeTime(step=1.0)  # every wait is cut after a second by the next sale
    attempts: list[float] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        attempts.append(fake.elapsed)
        raise httpx.ConnectError("connection refused", request=request)

    def client() -> SyncClient:
        return SyncClient(
            httpx.Client(transport=httpx.MockTransport(refuse)), base_url=BASE_URL, token=TOKEN
        )

    store = FakeSyncStore()
    store.add(make_event())
    reports: list[SyncReport] = []
    worker = SyncWorker(
        store.factory,
        client,
        on_result=reports.append,
        base_delay=1.0,
        max_delay=60.0,
        rng=FixedRng(1.0),
        clock=fake.now,
        monotonic=fake.monotonic,
        sleep=fake.sleep,
    )

    over = threading.Event()

    def a_sale_every_second(now: float) -> None:
        if now >= seconds:
            worker.stop(timeout=0)
            over.set()
        else:
            worker.sync_now(manual=manual)

    fake.on_sleep = a_sale_every_second
    worker.start()
    assert over.wait(10)
    worker.stop(timeout=10)
    assert not worker.running
    return attempts, [r for r in reports if r.retry_in is not None]


def test_sync_now_after_each_sale_does_not_cut_the_backoff_short() -> None:
    attempts, failed = _outage_attempts(manual=False)
    # Exactly the backoff schedule: 0, 1, 3, 7, 15, 31, 63, then every 60 s.
    schedule = [0.0, 1.0, 3.0, 7.0, 15.0, 31.0] + [63.0 + 60 * k for k in range(9)]
    assert attempts == schedule
    for (at, next_at), report in zip(itertools.pairwise(attempts), failed, strict=False):
        assert next_at - at == report.retry_in


def test_a_cashiers_taps_try_at_most_once_per_ten_seconds() -> None:
    attempts, failed = _outage_attempts(manual=True)
    pairs = list(itertools.pairwise(attempts))
    # An attempt before its backoff ended was a tap's; those are 10 s apart at least.
    tapped = [
        b for (a, b), report in zip(pairs, failed, strict=False) if b - a < (report.retry_in or 0)
    ]
    assert tapped  # a tap does try while the backoff runs...
    assert all(b - a >= 10.0 for a, b in itertools.pairwise(tapped))  # ...but not every tap
    assert len(tapped) <= 60 and len(attempts) <= 15 + 60
