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

Big answers (the pull's pages) are asked for gzip-compressed and read with
:meth:`ServerClient.get_verified_body` and :meth:`ServerClient.parse_verified`, which
take nothing they could not check whole: a body
cut short (the connection closed before ``Content-Length``, or a gzip stream without its
end), a corrupt one (bad deflate data, a wrong CRC) or one that is not the expected JSON
raises :class:`DamagedAnswer`, a kind of :class:`Offline`, so it is simply fetched again.
"""

from __future__ import annotations

import zlib
from typing import Any, NoReturn, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from shared.collector import collector_paused
from shared.errors import CodedError
from shared.messages import has_message
from shared.models import PROTOCOL_HEADER, PROTOCOL_VERSION, ErrorResponse

RETRYABLE_4XX = frozenset({408, 425, 429})
"""Statuses that mean "the server is there but cannot take this now": retry later."""

_M = TypeVar("_M", bound=BaseModel)

MAX_DECODED_BYTES = 128 * 1024 * 1024
"""The most a compressed answer may grow to (a 5,000-row page is a few MB): no bomb."""

CUT, CORRUPT, INVALID = "cut", "corrupt", "invalid"
"""How an answer can arrive damaged (the ``fault`` of :class:`DamagedAnswer`; each names
the message ``answer_fault_<fault>``)."""


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
        self.retry_after: float | None = None
        """Seconds the server asked to wait (its ``Retry-After``), when it said."""


MAX_RETRY_AFTER_SECONDS = 600.0
"""The longest ``Retry-After`` a till honours; a larger or absurd one is capped."""


def retry_after_of(response: httpx.Response) -> float | None:
    """The seconds of a ``Retry-After: <seconds>`` header, capped; None when absent or bad."""
    raw = response.headers.get("Retry-After", "").strip()
    if not raw.isdigit():
        return None  # absent, or an HTTP date: the till's own backoff decides
    return min(float(raw), MAX_RETRY_AFTER_SECONDS)


class DamagedAnswer(Offline):
    """A success answer arrived cut short, corrupt or unreadable: none of it is used.

    An :class:`Offline` (the network spoiled it, the server is fine): the worker fetches
    it again on its normal retry path. ``fault`` is :data:`CUT`, :data:`CORRUPT` or
    :data:`INVALID`; ``details`` carry it, the path and whatever the caller adds.
    """

    code = "answer_damaged"

    def __init__(
        self, message: str, *, fault: str, code: str | None = None, details: Any = None
    ) -> None:
        super().__init__(message, code=code, details={**(details or {}), "fault": fault})
        self.fault = fault


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


def decode_body(raw: bytes, content_encoding: str | None) -> bytes:
    """The body as sent before compression; raises ``ValueError(fault)`` when damaged.

    Identity passes as is. gzip must be one whole member: its deflate data intact, its
    CRC-32 and length trailer present and right, nothing after it, at most
    :data:`MAX_DECODED_BYTES` once decoded. Any other coding was not asked for.
    """
    coding = (content_encoding or "identity").strip().lower()
    if coding in ("", "identity"):
        return raw
    if coding not in ("gzip", "x-gzip"):
        raise ValueError(INVALID)
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        body = decoder.decompress(raw, MAX_DECODED_BYTES)
    except zlib.error:
        raise ValueError(CORRUPT) from None
    if decoder.unconsumed_tail:
        raise ValueError(INVALID)  # larger than any page
    if not decoder.eof:
        raise ValueError(CUT)  # the stream stops before its end (and its checksum)
    if decoder.unused_data:
        raise ValueError(CORRUPT)  # bytes after the gzip member
    return body


def damaged_answer(
    path: str, fault: str, why: str, *, code: str | None, details: dict[str, Any] | None
) -> DamagedAnswer:
    """The :class:`DamagedAnswer` for an answer from ``path`` with ``fault``."""
    return DamagedAnswer(
        f"The answer from {path} arrived damaged ({fault}): {why}",
        fault=fault,
        code=code,
        details={"path": path, **(details or {})},
    )


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
        except httpx.DecodingError as exc:  # a compressed body that does not decompress
            raise DamagedAnswer(
                f"The answer from {request.url.path} does not decompress: {exc}",
                fault=CORRUPT,
                details={"path": request.url.path},
            ) from exc
        if response.status_code < 400:
            return response
        code, message, details = error_of(response)
        try:
            self._refusal(response.status_code, code, message, details)
        except Offline as exc:
            exc.retry_after = retry_after_of(response)
            raise

    def get_verified_body(
        self,
        path: str,
        params: dict[str, Any] | None,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> bytes:
        """The whole, checked body of GET ``path`` (asking for gzip), decoded, not parsed.

        The raw bytes are read to the end (``Content-Length`` enforced) and decoded here
        (:func:`decode_body`); a body cut short or corrupt raises :class:`DamagedAnswer`
        with ``code`` (``answer_damaged`` by default) and ``details`` plus the fault.
        Error answers raise as in :meth:`get`. :meth:`parse_verified` validates it.
        """
        request = self._http.build_request(
            "GET",
            join_url(self.base_url, path),
            params=params,
            headers={**self._headers, "Accept-Encoding": "gzip"},
        )
        try:
            response = self._http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise Offline(f"Server unreachable: {type(exc).__name__}: {exc}") from exc
        try:
            if response.status_code >= 400:
                try:
                    response.read()
                except (httpx.TransportError, httpx.DecodingError) as exc:
                    raise Offline(
                        f"Server error {response.status_code}, its answer unreadable: {exc}",
                        status_code=response.status_code,
                    ) from exc
                self._refusal(response.status_code, *error_of(response))
            if response.is_stream_consumed:
                # An answer made in memory (a test's MockTransport): httpx read and
                # decoded it already.
                return response.content
            try:
                raw = b"".join(response.iter_raw())
            except httpx.TransportError as exc:  # closed before Content-Length, stalled
                why = f"{type(exc).__name__}: {exc}"
                raise damaged_answer(path, CUT, why, code=code, details=details) from exc
            encoding = response.headers.get("content-encoding")
            try:
                return decode_body(raw, encoding)
            except ValueError as exc:
                why = f"{len(raw)} bytes of {encoding}"
                raise damaged_answer(path, str(exc), why, code=code, details=details) from None
        finally:
            response.close()

    def parse_verified(
        self,
        path: str,
        body: bytes,
        model: type[_M],
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> _M:
        """``body`` (from :meth:`get_verified_body`) validated as ``model``; anything else
        raises :class:`DamagedAnswer` (fault :data:`INVALID`)."""
        try:
            with collector_paused():
                return model.model_validate_json(body)
        except ValidationError as exc:
            why = f"not a {model.__name__}: {exc.error_count()} errors"
            raise damaged_answer(path, INVALID, why, code=code, details=details) from exc

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
