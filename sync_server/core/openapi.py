"""The OpenAPI page documents the answers every route can give, in the one error shape.

Routers list the errors particular to them (404, 409, 502...). What follows from how a
route is built is added here, once, from its dependencies, so no route can forget it:

* every route: 422 (input that breaks the schema or a rule) and 503 (the database is
  unavailable; nothing was saved, ``Retry-After`` says when to try again);
* a route with a body: 413 (the body is over the server's limit);
* a route behind a bearer token: 401 (missing, invalid or revoked) and 403 (the
  caller's role or kind may not do this);
* a route that needs the sync protocol: the ``X-Kasir-Protocol`` header and 426.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator
from typing import Any, cast

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from shared.models import PROTOCOL_HEADER, PROTOCOL_VERSION, ErrorResponse

_MEANING = {
    401: "Missing, invalid, expired or revoked token (`missing_token`, `invalid_token`, "
    "`token_revoked`...).",
    403: "The caller may not do this: a role too low, another store's data, a user on a "
    "terminal route (`terminal_required`) or a terminal on a user route.",
    413: "The body is larger than the server accepts (`payload_too_large`).",
    422: "The input does not match the schema (`invalid`, with the fields in `details`) "
    "or breaks a rule.",
    426: "The till speaks another sync protocol version (`protocol_mismatch`); update the app.",
    503: "The database is unavailable; nothing was saved. Retry after `Retry-After` seconds.",
}


_ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}


def _protocol_operations(
    app: FastAPI, protocol_checks: Collection[Callable[..., Any]]
) -> set[tuple[str, str]]:
    """(path, method) of every route that depends on one of ``protocol_checks``."""

    def calls(dependant: Dependant) -> Iterator[Any]:
        for dependency in dependant.dependencies:
            yield dependency.call
            yield from calls(dependency)

    found: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute):
            continue
        route = cast(APIRoute, context)  # a context answers like the route it stands for
        if any(call in protocol_checks for call in calls(route.dependant)):
            found.update((route.path_format, method.lower()) for method in route.methods or ())
    return found


_FRAMEWORK_422 = {"$ref": "#/components/schemas/HTTPValidationError"}


def _document(operation: dict[str, Any], status: int) -> None:
    answer = operation.setdefault("responses", {}).setdefault(str(status), {})
    content = answer.setdefault("content", {"application/json": {"schema": _ERROR_REF}})
    if content.get("application/json", {}).get("schema") == _FRAMEWORK_422:
        # FastAPI's own 422 shape is not what the server answers (see core.errors).
        content["application/json"]["schema"] = _ERROR_REF
        answer["description"] = _MEANING[status]
    answer.setdefault("description", _MEANING[status])


def document_errors(app: FastAPI, *, protocol_checks: Collection[Callable[..., Any]]) -> None:
    """Make ``app.openapi()`` list the answers each route can give (see the module).

    ``protocol_checks`` are the dependencies that refuse another protocol version:
    routes that use one declare the ``X-Kasir-Protocol`` header and 426.
    """

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = FastAPI.openapi(app)
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        if "ErrorResponse" not in schemas:
            defs = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(defs.pop("$defs", {}))
            schemas["ErrorResponse"] = defs
        protocol = _protocol_operations(app, protocol_checks)
        for path, item in schema.get("paths", {}).items():
            for method, operation in item.items():
                statuses = [422, 503]
                if "requestBody" in operation:
                    statuses.append(413)
                if operation.get("security"):
                    statuses += [401, 403]
                if (path, method) in protocol:
                    statuses.append(426)
                    operation.setdefault("parameters", []).append(_protocol_parameter())
                for status in statuses:
                    _document(operation, status)
        if "HTTPValidationError" not in json.dumps(schema["paths"]):
            for unused in ("HTTPValidationError", "ValidationError"):
                schemas.pop(unused, None)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _protocol_parameter() -> dict[str, Any]:
    return {
        "name": PROTOCOL_HEADER,
        "in": "header",
        "required": True,
        "description": "The sync protocol version the till speaks; another value is 426 "
        "`protocol_mismatch`.",
        "schema": {"type": "string", "enum": [str(PROTOCOL_VERSION)]},
    }
