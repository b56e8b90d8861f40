"""What the till's two HTTP clients share: one seam, the headers, and one error mapping.

:class:`ServerClient` takes an injected ``httpx.Client`` (tests pass
``httpx.MockTransport``, integration tests a real server), sends each request with the
device token and the protocol version, and turns every failure into a
:class:`SyncError`: retry later (:class:`Offline`), stop and ask for an upgrade
(:class:`ProtocolMismatch`), stop and re-enroll (:class:`AuthRevoked`), or the server's
refusal (:class:`ServerRejected`). :class:`~pos_client.sync.client.SyncClient` (sync
protocol v1) and :class:`~pos_client.sync.payments_client.PaymentsClient` (QRIS) build
on it; the payments client names one more failure through :meth:`ServerClient._refusal`.

Every error carries a code and parameters like the rest of the till
(:class:`~shared.errors.CodedError`): an answer in the server's one error shape keeps
the server's ``code`` and ``details``, and the cashier reads the message of that code
when the tables have one, otherwise a sentence about the kind of failure with the
server's own words. ``message`` and ``str()`` stay the server's (or the transport's)
English sentence, for logs and the sync status.
"""

from __future__ import annotations

from typing import Any, NoReturn, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from shared.errors import CodedError
from shared.messages import has_message
from shared.models import PROTOCOL_HEADER, PROTOCOL_VERSION, ErrorResponse

RETRYABLE_4XX = frozenset({408, 425, 429})
"""Statuses that mean "the server is there but cannot take this now": retry later."""

_M = TypeVar("_M", bound=BaseModel)


class SyncError(CodedError):
    """Base of every error the till's HTTP clients raise.

    ``code`` is the server's error code when it answered with one (else the class's),
    ``details`` the server's details, ``message`` the sentence for logs.
    """

    code = "sync_error"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        params = dict(details) if isinstance(details, dict) else {}
        params.setdefault("message", message)
        super().__init__(code, **params)
        self.details = details
        self._message = message
        # The server's code reads as its own message when the tables have one; otherwise
        # the kind of failure (the class's code) says it, with the server's words.
        if not has_message(self.code, "en"):
            self.message_code = type(self).code

    @property
    def message(self) -> str:
        """The server's (or the transport's) sentence, in English, for logs."""
        return self._message

    def __str__(self) -> str:
        return self._message


class Offline(SyncError):
    """The server could not be reached or answered 5xx: retry later with backoff.

    ``status_code`` is the server's HTTP status when it answered, None when it could not
    be reached (so the sync worker can tell a failing event from a missing network).
    """

    code = "sync_offline"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: Any = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message, code=code, details=details)
        self.status_code = status_code


class ProtocolMismatch(SyncError):
    """The server speaks another protocol version (426): stop syncing, update the app."""

    code = "sync_protocol_mismatch"


class AuthRevoked(SyncError):
    """The device token is missing, wrong or revoked (401): stop syncing, re-enroll."""

    code = "sync_auth_revoked"


class ServerRejected(SyncError):
    """The server refused the request (a 4xx other than 401/426) with its error code."""

    code = "server_refused"

    def __init__(self, message: str, *, status_code: int, code: str, details: Any = None) -> None:
        super().__init__(message, code=code, details=details)
        self.status_code = status_code


def error_of(response: httpx.Response) -> tuple[str, str, Any]:
    """The (code, message, details) of an error answer, tolerating non-JSON bodies."""
    try:
        body = ErrorResponse.model_validate_json(response.content).error
    except ValidationError:
        text = response.text.strip()[:200] or response.reason_phrase
        return "http_" + str(response.status_code), f"HTTP {response.status_code}: {text}", None
    return body.code, body.message, body.details


def parse(response: httpx.Response, model: type[_M]) -> _M:
    """Parse a success body; a wrong shape (say, a captive portal's page) is retryable."""
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        raise Offline(
            f"Unexpected answer from {response.request.url.path} "
            f"(HTTP {response.status_code}, not a {model.__name__})"
        ) from exc


def join_url(base_url: str, path: str) -> str:
    """``path`` on the server at ``base_url``."""
    return base_url.rstrip("/") + path


def protocol_headers(token: str | None = None) -> dict[str, str]:
    """The headers of every request: protocol version, JSON, and the device token if any."""
    headers = {PROTOCOL_HEADER: str(PROTOCOL_VERSION), "Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def raise_refusal(status: int, code: str, message: str, details: Any) -> NoReturn:
    """The :class:`SyncError` for an error answer of the server."""
    if status >= 500 or status in RETRYABLE_4XX:
        # A proxy's 502 or the server's own 5xx: the server is not usable right now.
        raise Offline(
            f"Server error {status}: {message}", code=code, details=details, status_code=status
        )
    if status == 426:
        raise ProtocolMismatch(message, code=code, details=details)
    if status == 401:
        raise AuthRevoked(message, code=code, details=details)
    raise ServerRejected(message, status_code=status, code=code, details=details)


class ServerClient:
    """Requests to the server on behalf of one enrolled terminal (a base for clients)."""

    def __init__(self, http: httpx.Client, *, base_url: str, token: str | None) -> None:
        """Use ``http`` (its transport and timeouts) to reach ``base_url`` with ``token``."""
        self._http = http
        self.base_url = base_url.rstrip("/")
        self._headers = protocol_headers(token)

    def _refusal(self, status: int, code: str, message: str, details: Any) -> NoReturn:
        """Raise the error for an error answer (subclasses name their own first)."""
        raise_refusal(status, code, message, details)

    def _send(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` and turn every failure into a :class:`SyncError`."""
        try:
            response = self._http.send(request)
        except httpx.TransportError as exc:  # connect errors, timeouts, dropped connections
            raise Offline(f"Server unreachable: {type(exc).__name__}: {exc}") from exc
        if response.status_code < 400:
            return response
        code, message, details = error_of(response)
        self._refusal(response.status_code, code, message, details)

    def get(self, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        """GET ``path`` with query ``params``; failures raise :class:`SyncError`."""
        request = self._http.build_request(
            "GET", join_url(self.base_url, path), params=params, headers=self._headers
        )
        return self._send(request)

    def post(self, path: str, body: str) -> httpx.Response:
        """POST the JSON ``body`` to ``path``; failures raise :class:`SyncError`."""
        request = self._http.build_request(
            "POST",
            join_url(self.base_url, path),
            content=body.encode(),
            headers={**self._headers, "Content-Type": "application/json"},
        )
        return self._send(request)

    def close(self) -> None:
        """Close the underlying ``httpx.Client``."""
        self._http.close()
