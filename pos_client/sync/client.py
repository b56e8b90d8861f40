"""The till's client for sync protocol v1: push the outbox, pull changes, enroll.

It is a :class:`~pos_client.sync.http.ServerClient` (an injected ``httpx.Client``, so
tests pass ``httpx.MockTransport`` and integration tests a real server). Every failure
becomes one of four exceptions, which tell the worker what to do next: retry later
(:class:`Offline`), stop and ask for an upgrade (:class:`ProtocolMismatch`), stop and
re-enroll (:class:`AuthRevoked`), or report the server's refusal
(:class:`ServerRejected`, with the server's code and details). A pull page that arrives
damaged is a :class:`DamagedAnswer`, a kind of :class:`Offline`: fetched again, never
stored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import httpx

from pos_client.sync.http import (
    AuthRevoked,
    DamagedAnswer,
    Offline,
    ProtocolMismatch,
    ServerClient,
    ServerRejected,
    SyncError,
    parse,
)
from shared.models import (
    EnrollOut,
    EnrollRequest,
    OutboxEvent,
    PullResponse,
    PushRequest,
    PushResponse,
)

__all__ = [
    "ENROLL_PATH",
    "PULL_PATH",
    "PUSH_PATH",
    "AuthRevoked",
    "DamagedAnswer",
    "Offline",
    "ProtocolMismatch",
    "ServerRejected",
    "SyncClient",
    "SyncError",
    "enroll",
    "pull_head",
]

PUSH_PATH = "/api/v1/sync/push"
PULL_PATH = "/api/v1/sync/pull"
ENROLL_PATH = "/api/v1/terminals/enroll"


_PAGE_HEAD = re.compile(rb'\{"cursor":(\d+),"has_more":(true|false),')


def pull_head(body: bytes) -> tuple[int, bool] | None:
    """A pull page's ``cursor`` and ``has_more`` read from the head of its JSON, before
    the page is parsed, when it starts as the server writes it; else None.

    Only a hint for asking for the next page early: the parsed page must agree.
    """
    head = _PAGE_HEAD.match(body, 0, 64)
    return None if head is None else (int(head[1]), head[2] == b"true")


class SyncClient(ServerClient):
    """Talks sync protocol v1 to the server on behalf of one enrolled terminal."""

    def __init__(self, http: httpx.Client, *, base_url: str, token: str) -> None:
        """Use ``http`` (its transport and timeouts) to reach ``base_url`` with ``token``."""
        super().__init__(http, base_url=base_url, token=token)

    def push(
        self, events: Sequence[OutboxEvent], waiting: int | None = None, stuck: int | None = None
    ) -> PushResponse:
        """Send a batch of outbox events (oldest first); one result per event comes back.

        ``waiting`` is how many events the till still holds and ``stuck`` how many it set
        aside because the server kept failing on them, for the server's sync health.
        """
        body = PushRequest(events=list(events), waiting=waiting, stuck=stuck).model_dump_json()
        return parse(self.post(PUSH_PATH, body), PushResponse)

    def pull(self, cursor: int, limit: int) -> PullResponse:
        """Fetch one page of changes with change numbers above ``cursor`` (gzip asked).

        A page that arrives cut, corrupt or not a valid :class:`PullResponse` raises
        :class:`DamagedAnswer` with code ``pull_page_damaged`` (an :class:`Offline`): the
        store never sees it, the cursor stays where it was and the worker asks again.
        The two halves are :meth:`pull_body` and :meth:`parse_pull`.
        """
        return self.parse_pull(self.pull_body(cursor, limit), cursor)

    def pull_body(self, cursor: int, limit: int) -> bytes:
        """The page above ``cursor`` as its whole, checked JSON bytes, not parsed yet (a
        cut or corrupt answer raises :class:`DamagedAnswer`, as :meth:`pull`)."""
        return self.get_verified_body(
            PULL_PATH,
            {"cursor": cursor, "limit": limit},
            code="pull_page_damaged",
            details={"cursor": cursor},
        )

    def parse_pull(self, body: bytes, cursor: int) -> PullResponse:
        """The page of :meth:`pull_body` (asked for above ``cursor``), validated."""
        return self.parse_verified(
            PULL_PATH, body, PullResponse, code="pull_page_damaged", details={"cursor": cursor}
        )

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def enroll(http: httpx.Client, base_url: str, code: str, device_name: str = "") -> EnrollOut:
    """Trade a manager's one-time code for this till's device token (shown once).

    A module function rather than a :class:`SyncClient` method because there is no
    token yet. Raises the same typed errors as the client (a wrong or used code is
    :class:`ServerRejected` or :class:`AuthRevoked`, depending on the server's status).
    """
    body = EnrollRequest(code=code, device_name=device_name).model_dump_json()
    anonymous = ServerClient(http, base_url=base_url, token=None)
    return parse(anonymous.post(ENROLL_PATH, body), EnrollOut)
