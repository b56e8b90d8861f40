"""The sync worker against FakeServer (MockTransport) and FakeSyncStore."""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime

import pytest

from pos_client.sync.client import Offline
from pos_client.sync.worker import SyncReport, SyncWorker, fit_push_bytes
from tests.client.fakes import T0, FakeServer, FakeSyncStore, json_of, make_event


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

    def fake_sleep(seconds: float) -> None:
        delays.append(seconds)
        if len(delays) == 8:
            workers[0].stop(timeout=0)
            eight_rounds.set()

    worker, reports = make_worker(
        store, server, base_delay=1.0, max_delay=10.0, interval=5.0, rng=rng, sleep=fake_sleep
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

    def sleep(seconds: float) -> None:
        delays.append(seconds)
        if len(delays) >= 3:
            stop.set()
            stop_worker()

    worker, _ = make_worker(store, server, sleep=sleep, rng=FixedRng(1.0), base_delay=2.0)

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


def test_stop_returns_promptly_while_waiting() -> None:
    store, server = FakeSyncStore(), FakeServer()
    done = threading.Event()
    worker = SyncWorker(store.factory, server.client, on_result=lambda r: done.set(), interval=3600)
    worker.start()
    assert done.wait(5)
    started = datetime.now(UTC)
    worker.stop(timeout=5)
    assert not worker.running and (datetime.now(UTC) - started).total_seconds() < 2


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
