"""The one error shape: ``{"error": {"code", "message", "details"}}`` with the right status.

Server errors are :class:`shared.errors.CodedError`\\ s: ``NotFound("product_not_found",
product_id=5)``. The class keeps its broad ``code`` for the API (``not_found``), the
first argument names the message (``message_code``) and the keyword arguments are its
parameters; the sentence comes from the table of each language in
:mod:`shared.messages` (the API's ``message`` is the English one). Only ``code``,
``status_code`` and ``details`` are reserved keywords, so a parameter is never named
after them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from sqlalchemy.exc import DataError, InterfaceError, OperationalError, StatementError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from shared.errors import CodedError
from shared.messages import Language, render
from shared.models import ErrorResponse

log = logging.getLogger("kasir.errors")

_MESSAGE_CODE = re.compile(r"[A-Za-z0-9_]+")


class AppError(CodedError):
    """An error a client caused or should hear about, with a stable code.

    ``AppError("message_code", code=..., status_code=..., details=..., **params)``.
    ``code`` (the API's code) defaults to the class's; ``message_code`` defaults to
    ``code``. A first argument that is not a message code (it has spaces, capitals or
    punctuation) is taken as a finished English sentence: the old call style, kept
    working until every raise site names a code.
    """

    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message_code: str | None = None,
        /,
        *,
        code: str | None = None,
        status_code: int | None = None,
        details: Any = None,
        **params: Any,
    ) -> None:
        super().__init__(code, **params)
        self._literal: str | None = None
        if message_code is not None:
            if _MESSAGE_CODE.fullmatch(message_code):
                self.message_code = message_code
            else:
                self._literal = message_code
        if status_code is not None:
            self.status_code = status_code
        self.details = details

    def __str__(self) -> str:
        return self._literal if self._literal is not None else super().__str__()

    def text(self, language: Language = "id") -> str:
        """The sentence in ``language`` (a literal sentence is the same in every one)."""
        if self._literal is not None:
            return self._literal
        return render(self.message_code, self.params, language)


class NotFound(AppError):
    """The thing asked for does not exist."""

    status_code = 404
    code = "not_found"


class Conflict(AppError):
    """The change clashes with what is stored (a duplicate SKU, say)."""

    status_code = 409
    code = "conflict"


class Unauthorized(AppError):
    """No valid credentials."""

    status_code = 401
    code = "unauthorized"


class Forbidden(AppError):
    """Valid credentials that may not do this."""

    status_code = 403
    code = "forbidden"


class Invalid(AppError):
    """Well-formed input that breaks a rule."""

    status_code = 422
    code = "invalid"


class Unavailable(AppError):
    """The server could not finish (the database is busy or gone); nothing was saved."""

    status_code = 503
    code = "database_unavailable"


class Overloaded(AppError):
    """Too many pushes and pulls at once: refused before anything ran; try again later."""

    status_code = 503
    code = "overloaded"


def overloaded_response(retry_after: int = 0) -> JSONResponse:
    """The admission gate's 503: ``overloaded`` with ``Retry-After`` (nothing was done)."""
    wait = retry_after or RETRY_AFTER_SECONDS
    error = Overloaded(
        "overloaded", retry_after=wait, details={"retryable": True, "retry_after": wait}
    )
    return error_response(
        error.status_code,
        error.code,
        error.message,
        error.details,
        headers={"Retry-After": str(wait)},
    )


def documented_errors(
    meaning: Mapping[int, str],
) -> Callable[..., dict[int | str, dict[str, Any]]]:
    """A router's ``responses=`` maker: ``errors(403, 404)`` documents those statuses in the
    OpenAPI schema with the one error shape and what each means on that router."""

    def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
        return {code: {"model": ErrorResponse, "description": meaning[code]} for code in codes}

    return errors


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """Build the one error shape."""
    return {"error": {"code": code, "message": message, "details": details}}


def error_response(
    status_code: int,
    code: str,
    message: str,
    details: Any = None,
    *,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A JSON response in the one error shape (401 adds ``WWW-Authenticate``, 503
    ``Retry-After``, unless ``headers`` says otherwise)."""
    extra: dict[str, str] = {}
    if status_code == 401:
        extra["WWW-Authenticate"] = "Bearer"
    if status_code == 503:
        extra["Retry-After"] = str(RETRY_AFTER_SECONDS)
    extra.update(headers or {})
    return JSONResponse(
        status_code=status_code,
        content=error_body(code, message, details),
        headers=extra or None,
    )


RETRY_AFTER_SECONDS = 5
"""What a 503 asks the caller to wait before trying again (the till backs off anyway)."""


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    426: "upgrade_required",
    429: "too_many_requests",
}


def _allowed_methods(request: Request) -> str:
    """Every method some route takes at this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):
        match, _ = route.matches(request.scope)
        if match == Match.PARTIAL:
            methods.update(getattr(route, "methods", None) or ())
    return ", ".join(sorted(methods))


def _en(message_code: str) -> str:
    return render(message_code, {}, "en")


def install_error_handlers(app: FastAPI) -> None:
    """Make every failure, ours or the framework's, answer in the one shape."""

    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        return error_response(exc.status_code, exc.code, exc.message, exc.details)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
        return error_response(exc.status_code, code, str(exc.detail), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        malformed = any(e["type"] == "json_invalid" for e in errors)
        if malformed:
            return error_response(400, "malformed_json", _en("malformed_json"), errors)
        return error_response(422, "invalid", _en("request_invalid"), errors)

    def _unavailable(request: Request, exc: Exception) -> JSONResponse:
        # A lock that outlasted the retries, a lost or refused connection, an exhausted
        # pool, a failed COMMIT: the transaction was rolled back, so the caller hears
        # that nothing was saved and when to try again.
        log.error("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        error = Unavailable("database_unavailable", details={"retryable": True})
        return error_response(error.status_code, error.code, error.message, error.details)

    for unavailable in (OperationalError, InterfaceError, PoolTimeout):
        app.add_exception_handler(unavailable, _unavailable)

    def _out_of_range(request: Request, exc: Exception) -> JSONResponse:
        # A value the schema let through but the column cannot hold (an integer beyond
        # 64 bits, a string past its column): the statement failed, nothing was written.
        if not isinstance(exc, (DataError, OverflowError)) and not (
            isinstance(exc, StatementError) and isinstance(exc.orig, OverflowError)
        ):  # another statement failure: a bug
            return internal_error_response(request.method, request.url.path, exc)
        log.warning("value out of range on %s %s: %s", request.method, request.url.path, exc)
        error = Invalid("value_out_of_range", code="value_out_of_range")
        return error_response(error.status_code, error.code, error.message, error.details)

    for out_of_range in (DataError, OverflowError, StatementError):
        app.add_exception_handler(out_of_range, _out_of_range)

    # The catch-all for the rest is :class:`~sync_server.core.middleware.CatchAllMiddleware`,
    # not an ``Exception`` handler: Starlette re-raises after such a handler, which makes
    # the server drop the keep-alive connection.


def internal_error_response(method: str, path: str, exc: BaseException) -> JSONResponse:
    """The 500 answer for an exception nothing else handled (logged with its traceback)."""
    log.error("unhandled error on %s %s", method, path, exc_info=exc)
    return error_response(500, "internal_error", _en("internal_error"))
