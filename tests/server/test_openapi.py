"""The published OpenAPI documents the headless API: event payloads, headers, error answers."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from shared.models import PAYLOAD_SCHEMAS, PROTOCOL_HEADER, EventType

ERROR_REF = "#/components/schemas/ErrorResponse"


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    ]


def _resolve(spec: dict[str, Any], ref: str) -> dict[str, Any]:
    schema: dict[str, Any] = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return schema


def test_push_body_is_a_union_of_every_event_type(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    push = spec["paths"]["/api/v1/sync/push"]["post"]
    body_ref = push["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    events = _resolve(spec, body_ref)["properties"]["events"]["items"]
    event = _resolve(spec, events["$ref"])
    assert event["discriminator"]["propertyName"] == "type"
    mapping = event["discriminator"]["mapping"]
    assert set(mapping) == {t.value for t in EventType}
    assert sorted(v["$ref"] for v in event["oneOf"]) == sorted(mapping.values())
    for event_type, ref in mapping.items():
        shape = _resolve(spec, ref)
        assert shape["properties"]["type"]["const"] == event_type
        payload = _resolve(spec, shape["properties"]["payload"]["$ref"])
        assert payload["title"] == PAYLOAD_SCHEMAS[EventType(event_type)].__name__


def test_sync_and_till_routes_declare_the_protocol_header(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    needing = [
        ("/api/v1/sync/push", "post"),
        ("/api/v1/sync/pull", "get"),
        ("/api/v1/terminals/enroll", "post"),
        ("/api/v1/terminals/me", "get"),
        ("/api/v1/payment/create-payment", "post"),
    ]
    for path, method in needing:
        operation = spec["paths"][path][method]
        headers = [p for p in operation["parameters"] if p["in"] == "header"]
        assert [(h["name"], h["required"]) for h in headers] == [(PROTOCOL_HEADER, True)], path
        assert "426" in operation["responses"], path
    for path, method, operation in _operations(spec):
        if (path, method) in needing or path == "/api/v1/payment/callback":
            continue
        names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        if PROTOCOL_HEADER not in names:
            continue
        assert path.startswith(
            ("/api/v1/sync", "/api/v1/payment", "/api/v1/terminals", "/api/v1/customers")
        ), path


def test_every_route_lists_its_error_answers_in_the_error_shape(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path, method, operation in _operations(spec):
        answers = operation["responses"]
        expected = {"422", "503"}
        if operation.get("security"):
            expected |= {"401", "403"}
        if "requestBody" in operation:
            expected.add("413")
        assert expected <= set(answers), (method, path, sorted(answers))
        if path == "/api/v1/payment/callback":
            continue  # Tripay is the caller there: it answers Tripay's own shape
        for status in expected:
            schema = answers[status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": ERROR_REF}, (method, path, status)
    secured = [op for _, _, op in _operations(spec) if op.get("security")]
    assert len(secured) > 40  # the catalog, stock, reports, users, sync...
    error = spec["components"]["schemas"]["ErrorResponse"]
    assert error["required"] == ["error"]
