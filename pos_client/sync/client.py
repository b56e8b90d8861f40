"""The till's only network seam: a typed client for sync protocol v1.

It takes an ``httpx.Client`` so tests pass ``httpx.MockTransport`` and integration
tests a real server. Every failure becomes one of four exceptions, which tell the
worker what to do next: retry later (:class:`Offline`), stop and ask for an upgrade
(:class:`ProtocolMismatch`), stop and re-enroll (:class:`AuthRevoked`), or report
the server's refusal (:class:`ServerRejected`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from shared.models import (
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    EnrollOut,
    EnrollRequest,
    ErrorResponse,
    OutboxEvent,
    PullResponse,
    PushRequest,
    PushResponse,
)

PUSH_PATH = "/api/v1/sync/push"
PULL_PATH = "/api/v1/sync/pull"
ENROLL_PATH = "/api/v1/terminals/enroll"

# Statuses that mean "the server is there but cannot take this now": retry later.
_RETRYABLE_4XX = frozenset({408, 425, 429})

_M = TypeVar("_M", bound=BaseModel)


class SyncError(Exception):
    """Base of every error the sync client raises; ``message`` is a sentence for people."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Offline(SyncError):
    """The server could not be reached or answered 5xx: retry later with backoff."""


class ProtocolMismatch(SyncError):
    """The server speaks another protocol version (426): stop syncing, update the app."""


class AuthRevoked(SyncError):
    """The device token is missing, wrong or revoked (401): stop syncing, re-enroll."""


class ServerRejected(SyncError):
    """The server refused the request (a 4xx other than 401/426) with its error code."""

    def __init__(self, message: str, *, status_code: int, code: str, details: Any = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.details = details


def _error_of(response: httpx.Response) -> tuple[str, str, Any]:
    """The (code, message, details) of an error answer, tolerating non-JSON bodies."""
    try:
        body = ErrorResponse.model_validate_json(response.content).error
    except ValidationError:
        text = response.text.strip()[:200] or response.reason_phrase
        return "http_" + str(response.status_code), f"HTTP {response.status_code}: {text}", None
    return body.code, body.message, body.details


def _send(http: httpx.Client, request: httpx.Request) -> httpx.Response:
    """Send ``request`` and turn every failure into a :class:`SyncError`."""
    try:
        response = http.send(request)
    except httpx.TransportError as exc:  # connect errors, timeouts, dropped connections
        raise Offline(f"Server unreachable: {type(exc).__name__}: {exc}") from exc
    status = response.status_code
    if status < 400:
        return response
    code, message, details = _error_of(response)
    if status >= 500 or status in _RETRYABLE_4XX:
        raise Offline(f"Server error {status}: {message}")
    if status == 426:
        raise ProtocolMismatch(message)
    if status == 401:
        raise AuthRevoked(message)
    raise ServerRejected(message, status_code=status, code=code, details=details)


def _parse(response: httpx.Response, model: type[_M]) -> _M:
    """Parse a success body; a wrong shape (say, a captive portal's page) is retryable."""
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        raise Offline(
            f"Unexpected answer from {response.request.url.path} "
            f"(HTTP {response.status_code}, not a {model.__name__})"
        ) from exc


def _url(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path


class SyncClient:
    """Talks sync protocol v1 to the server on behalf of one enrolled terminal."""

    def __init__(self, http: httpx.Client, *, base_url: str, token: str) -> None:
        """Use ``http`` (its transport and timeouts) to reach ``base_url`` with ``token``."""
        self._http = http
        self.base_url = base_url.rstrip("/")
        self._headers = {
            "Authorization": f"Bearer {token}",
            PROTOCOL_HEADER: str(PROTOCOL_VERSION),
            "Accept": "application/json",
        }

    def push(self, events: Sequence[OutboxEvent], waiting: int | None = None) -> PushResponse:
        """Send a batch of outbox events (oldest first); one result per event comes back.

        ``waiting`` is how many events the till still holds, for the server's sync health.
        """
        body = PushRequest(events=list(events), waiting=waiting).model_dump_json()
        request = self._http.build_request(
            "POST",
            _url(self.base_url, PUSH_PATH),
            content=body.encode(),
            headers={**self._headers, "Content-Type": "application/json"},
        )
        return _parse(_send(self._http, request), PushResponse)

    def pull(self, cursor: int, limit: int) -> PullResponse:
        """Fetch one page of changes with change numbers above ``cursor``."""
        request = self._http.build_request(
            "GET",
            _url(self.base_url, PULL_PATH),
            params={"cursor": cursor, "limit": limit},
            headers=self._headers,
        )
        return _parse(_send(self._http, request), PullResponse)

    def close(self) -> None:
        """Close the underlying ``httpx.Client``."""
        self._http.close()

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
    request = http.build_request(
        "POST",
        _url(base_url, ENROLL_PATH),
        content=body.encode(),
        headers={
            PROTOCOL_HEADER: str(PROTOCOL_VERSION),
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
    )
    return _parse(_send(http, request), EnrollOut)
