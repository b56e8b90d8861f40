"""The worker fetches the next pull page while it stores the one before, and still stores
pages in order, one cursor at a time, refusing a damaged page; the garbage collector
pauses while a page is decoded or stored."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable

import httpx
import pytest

from pos_client.sync.client import DamagedAnswer, SyncClient
from pos_client.sync.http import collector_paused
from pos_client.sync.worker import SyncWorker
from shared.models import PullResponse
from tests.client.fakes import BASE_URL, T0, TOKEN, FakeServer, FakeSyncStore

BOUND = 30.0
"""Longest a step waits for the other thread (a hang fails the test, never stalls it)."""


class Watched:
    """``server`` behind a transport that notes each pull's cursor and signals it."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.asked: dict[int, threading.Event] = {}
        self._lock = threading.Lock()

    def asked_for(self, cursor: int) -> threading.Event:
        with self._lock:
            return self.asked.setdefault(cursor, threading.Event())

    def handle(self, request: httpx.Request) -> httpx.Response:
        answer = self.server.handle(request)
        if request.url.path.endswith("/sync/pull"):
            self.asked_for(int(request.url.params["cursor"])).set()
        return answer

    def client(self) -> SyncClient:
        http = httpx.Client(transport=httpx.MockTransport(self.handle))
        return SyncClient(http, base_url=BASE_URL, token=TOKEN)


class SlowStore(FakeSyncStore):
    """Stores the page with cursor ``hold_at`` only once the server was asked for the
    page after it (or gives up after :data:`BOUND`), noting whether it was."""

    def __init__(self, watched: Watched, hold_at: int) -> None:
        super().__init__()
        self.watched, self.hold_at = watched, hold_at
        self.asked_while_storing: bool | None = None

    def apply_pull_page(self, page: PullResponse) -> None:
        if page.cursor == self.hold_at:
            self.asked_while_storing = self.watched.asked_for(page.cursor).wait(BOUND)
        super().apply_pull_page(page)


def _fetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("kasir-pull-")]


def test_the_next_page_is_fetched_while_the_page_before_is_stored() -> None:
    server = FakeServer()
    server.add_products(12)
    watched = Watched(server)
    store = SlowStore(watched, hold_at=4)
    worker = SyncWorker(store.factory, watched.client, pull_limit=4, clock=lambda: T0)

    calls: list[tuple[int, int]] = []
    assert worker.initial_download(lambda done, total: calls.append((done, total))) == 12

    assert store.asked_while_storing is True  # page 5-8 was asked for during page 1-4's store
    assert store.cursors_saved == [4, 8, 12]  # still stored in order, one cursor at a time
    assert server.pull_cursors == [0, 4, 8]  # each page asked for once
    assert calls == [(4, 12), (8, 12), (12, 12)]
    assert not _fetch_threads()


def test_a_damaged_page_fetched_ahead_is_refused_and_fetched_again() -> None:
    # The first page arrives whole, the second cut: the first is stored, the cursor stays
    # at it (never past rows not stored), and the second is fetched again from there.
    store, server = FakeSyncStore(), FakeServer(failures=["none", "cut"])
    server.add_products(10)
    worker = SyncWorker(
        store.factory, server.client, pull_limit=4, base_delay=0.0, clock=lambda: T0
    )

    assert worker.initial_download(lambda done, total: None) == 10

    assert server.pull_cursors == [0, 4, 8]  # the cut answer to 4 was never parsed
    assert [r.url.params["cursor"] for r in server.requests] == ["0", "4", "4", "8"]
    assert store.cursors_saved == [4, 8, 10]
    assert sorted(store.catalog["products"]) == list(range(1, 11))
    assert not _fetch_threads()


class Rewritten:
    """``server`` with the answer to the ``nth`` pull rewritten by ``rewrite``."""

    def __init__(self, server: FakeServer, nth: int, rewrite: Callable[[bytes], bytes]) -> None:
        self.server, self.nth, self.rewrite, self.pulls = server, nth, rewrite, 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        answer = self.server.handle(request)
        if request.url.path.endswith("/sync/pull"):
            self.pulls += 1
            if self.pulls == self.nth:
                return httpx.Response(answer.status_code, content=self.rewrite(answer.content))
        return answer

    def client(self) -> SyncClient:
        http = httpx.Client(transport=httpx.MockTransport(self.handle))
        return SyncClient(http, base_url=BASE_URL, token=TOKEN)


def test_a_page_whose_head_says_another_cursor_is_refused_and_fetched_again() -> None:
    # The next page is asked for from the head of a page's JSON before the page is
    # parsed; a page that then says otherwise (JSON keeps the last of two keys) is
    # damaged: nothing after it is stored, and the download goes on from the last page.
    server = FakeServer()
    server.add_products(12)
    lying = Rewritten(server, 2, lambda body: b'{"cursor":10,"has_more":true,' + body[1:])
    store = FakeSyncStore()
    worker = SyncWorker(store.factory, lying.client, pull_limit=4, base_delay=0.0, clock=lambda: T0)

    assert worker.initial_download(lambda done, total: None) == 12

    assert server.pull_cursors == [0, 4, 10, 4, 8]  # 10 from the head; 4 again after
    assert store.cursors_saved == [4, 8, 12]
    assert sorted(store.catalog["products"]) == list(range(1, 13))
    assert not _fetch_threads()


def test_pages_written_otherwise_than_the_server_does_still_download() -> None:
    # A page whose JSON does not start as the server writes it is parsed before the next
    # one is asked for.
    server = FakeServer()
    server.add_products(12)
    spaced = Rewritten(server, 2, lambda body: b"{ " + body[1:])
    store = FakeSyncStore()
    worker = SyncWorker(store.factory, spaced.client, pull_limit=4, clock=lambda: T0)

    assert worker.initial_download(lambda done, total: None) == 12
    assert store.cursors_saved == [4, 8, 12]
    assert server.pull_cursors == [0, 4, 8]


def test_a_download_that_gives_up_keeps_only_whole_pages_stored() -> None:
    store, server = FakeSyncStore(), FakeServer(failures=["none"] + ["cut"] * 10)
    server.add_products(10)
    worker = SyncWorker(
        store.factory, server.client, pull_limit=4, base_delay=0.0, clock=lambda: T0
    )

    with pytest.raises(DamagedAnswer):
        worker.initial_download(lambda done, total: None)

    assert store.cursor == 4 and store.cursors_saved == [4]
    assert sorted(store.catalog["products"]) == [1, 2, 3, 4]
    assert not _fetch_threads()


def test_a_store_failure_stops_the_fetching_and_the_next_round_resumes() -> None:
    store, server = FakeSyncStore(), FakeServer()
    server.add_products(20)
    store.fail_apply_at_cursor = 8
    worker = SyncWorker(store.factory, server.client, pull_limit=4, clock=lambda: T0)

    with pytest.raises(OSError, match="disk full"):
        worker.run_once()
    assert store.cursor == 4
    assert not _fetch_threads()  # the thread fetching ahead ended with the round

    store.fail_apply_at_cursor = None
    report = worker.run_once()
    assert store.cursor == 20 and report.pulled == 16
    assert store.cursors_saved == [4, 8, 12, 16, 20]


class CollectorWatchingStore(FakeSyncStore):
    """Notes whether the garbage collector ran automatically while each page was stored."""

    def __init__(self) -> None:
        super().__init__()
        self.collecting_while_storing: list[bool] = []

    def apply_pull_page(self, page: PullResponse) -> None:
        self.collecting_while_storing.append(gc.isenabled())
        super().apply_pull_page(page)


def test_pages_are_stored_with_the_collector_paused_and_it_is_back_after() -> None:
    store, server = CollectorWatchingStore(), FakeServer()
    server.add_products(10)
    store.fail_apply_at_cursor = 8
    worker = SyncWorker(store.factory, server.client, pull_limit=4, clock=lambda: T0)
    assert gc.isenabled()

    with pytest.raises(OSError, match="disk full"):
        worker.run_once()
    assert gc.isenabled()  # back on after a page that failed to store
    store.fail_apply_at_cursor = None
    worker.run_once()

    assert store.collecting_while_storing == [False, False, False, False]
    assert gc.isenabled()


def test_the_collector_pause_is_counted_across_threads_and_keeps_an_app_setting() -> None:
    first_in, first_may_end = threading.Event(), threading.Event()
    seen: list[bool] = []

    def first() -> None:
        with collector_paused():
            first_in.set()
            assert first_may_end.wait(BOUND)
            seen.append(gc.isenabled())

    thread = threading.Thread(target=first)
    thread.start()
    assert first_in.wait(BOUND)
    with collector_paused():
        seen.append(gc.isenabled())
    seen.append(gc.isenabled())  # the first pause still runs
    first_may_end.set()
    thread.join(BOUND)
    assert seen == [False, False, False]
    assert gc.isenabled()

    gc.disable()  # an app that runs without the collector keeps it off
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
