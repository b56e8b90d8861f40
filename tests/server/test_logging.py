"""The server's logs: one JSON line per request (request id, route template, status,
duration, who called), plain text for a console, and no secret in them anywhere — a whole
day's scenario (login, enrolling a till, pushing sales, a QRIS payment with its signed
callback, a PIN and password change) is run with every log line captured and grepped.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shared.models import PROTOCOL_HEADER, PROTOCOL_VERSION
from sync_server.core.config import Settings
from sync_server.core.database import Database
from sync_server.core.logs import configure_logging, make_handler
from sync_server.core.middleware import request_id_var
from sync_server.payments.tripay import callback_signature
from tests.server.conftest import TEST_SECRET, World
from tests.server.sync_helpers import add_products, push, sale_event, statuses
from tests.server.test_payments import (  # noqa: F401 - fixtures reused by name
    API_KEY,
    PRIVATE_KEY,
    app,
    callback_body,
    order_row,
    post_callback,
    sandbox_app,
)

NEW_PIN = "482913"
NEW_PASSWORD = "Kopi-Susu-Gula-Aren-77"
WRONG_PASSWORD = "Salah-Sandi-Sekali-42"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Every line the ``kasir`` loggers write (at DEBUG), and warnings from any logger."""
    stream = io.StringIO()
    handler = make_handler("json", stream)
    kasir = logging.getLogger("kasir")
    level = kasir.level
    kasir.addHandler(handler)
    kasir.setLevel(logging.DEBUG)
    root_handler = make_handler("json", stream)
    root_handler.setLevel(logging.WARNING)
    logging.getLogger().addHandler(root_handler)
    try:
        yield stream
    finally:
        kasir.removeHandler(handler)
        kasir.setLevel(level)
        logging.getLogger().removeHandler(root_handler)


def access_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    return [line for line in lines if line["logger"] == "kasir.access"]


def test_a_whole_day_leaves_no_secret_in_the_logs(
    client: TestClient, world: World, db: Database, captured: io.StringIO
) -> None:
    # The manager signs in (and once mistypes the password).
    wrong = client.post(
        "/api/v1/auth/login", json={"username": "manager", "password": WRONG_PASSWORD}
    )
    assert wrong.status_code == 401
    login = client.post(
        "/api/v1/auth/login", json={"username": "manager", "password": "password123"}
    )
    assert login.status_code == 200, login.text
    manager_token = login.json()["access_token"]
    manager = {"Authorization": f"Bearer {manager_token}"}

    # A new till is enrolled with a one-time code.
    minted = client.post(
        "/api/v1/terminals/enrollment-codes",
        json={"store_id": world.store_id, "terminal_code": "T09"},
        headers=manager,
    )
    assert minted.status_code == 201, minted.text
    enrollment_code = minted.json()["code"]
    enrolled = client.post(
        "/api/v1/terminals/enroll",
        json={"code": enrollment_code, "device_name": "Kasir depan"},
        headers={PROTOCOL_HEADER: str(PROTOCOL_VERSION)},
    )
    assert enrolled.status_code == 200, enrolled.text
    device_token = enrolled.json()["device_token"]
    till = {"Authorization": f"Bearer {device_token}", PROTOCOL_HEADER: str(PROTOCOL_VERSION)}

    # It pushes sales (and a forged token is refused).
    (product,) = add_products(db)
    sales = [
        sale_event(terminal_code="T09", cashier_id=world.cashier_ids[0], items=[(product, 1)])
        for _ in range(3)
    ]
    assert statuses(push(client, till, sales, waiting=0)) == ["applied"] * 3
    forged = {**till, "Authorization": "Bearer forged-device-token-0000"}
    assert push(client, forged, sales).status_code == 401

    # A QRIS payment: order, QR, Tripay's signed callback (and a forged one).
    created = client.post(
        "/api/v1/payment/create-transaction",
        json={
            "order_id": "T01-LOG-1",
            "amount": 25_000,
            "items": [{"sku": "899", "name": "Kopi", "price": 25_000, "quantity": 1}],
        },
        headers=world.terminal_headers(0),
    )
    assert created.status_code == 201, created.text
    opened = client.post(
        "/api/v1/payment/create-payment",
        json={"order_id": "T01-LOG-1"},
        headers=world.terminal_headers(0),
    )
    assert opened.status_code == 200, opened.text
    body = callback_body(order_row(db, "T01-LOG-1"))
    raw = json.dumps(body).encode()
    signature = callback_signature(private_key=PRIVATE_KEY, raw_body=raw)
    assert post_callback(client, raw).status_code == 200
    assert post_callback(client, raw, key="not-the-key").status_code == 401

    # The manager changes a cashier's PIN and password.
    changed = client.patch(
        f"/api/v1/users/{world.cashier_ids[0]}",
        json={"pin": NEW_PIN, "password": NEW_PASSWORD},
        headers=manager,
    )
    assert changed.status_code == 200, changed.text

    logs = captured.getvalue()
    assert logs.count("\n") >= 12
    secrets = {
        "manager password": "password123",
        "mistyped password": WRONG_PASSWORD,
        "new password": NEW_PASSWORD,
        "new PIN": NEW_PIN,
        "manager bearer token": manager_token,
        "enrollment code": enrollment_code,
        "device token": device_token,
        "forged device token": "forged-device-token-0000",
        "a fixture's token": world.terminal_tokens[0],
        "Tripay API key": API_KEY,
        "Tripay private key": PRIVATE_KEY,
        "callback signature": signature,
        "secret key": TEST_SECRET,
    }
    leaked = {what for what, value in secrets.items() if value in logs}
    assert not leaked, f"secrets in the logs: {leaked}"

    # ... while each request has its line, saying what it needs to.
    lines = access_lines(captured)
    pushes = [line for line in lines if line["route"] == "/api/v1/sync/push"]
    assert [line["status"] for line in pushes] == [200, 401]
    assert pushes[0]["terminal_id"] == enrolled.json()["terminal_id"]
    assert "terminal_id" not in pushes[1] and "user_id" not in pushes[1]
    patch = next(line for line in lines if line["route"] == "/api/v1/users/{user_id}")
    assert patch["user_id"] == world.manager_id
    assert patch["method"] == "PATCH" and patch["status"] == 200
    for line in lines:
        assert line["request_id"] not in ("", "-")
        assert isinstance(line["duration_ms"], int | float)
        assert line["route"].startswith("/") or line["route"] == "unmatched"


def test_the_request_id_of_the_caller_is_on_its_line(
    client: TestClient, captured: io.StringIO
) -> None:
    client.get("/health", headers={"X-Request-ID": "kasir-req-77"})
    client.get("/api/v1/not/a/route")
    health, missing = access_lines(captured)[-2:]
    assert (health["request_id"], health["route"], health["status"]) == (
        "kasir-req-77",
        "/health",
        200,
    )
    assert (missing["route"], missing["status"]) == ("unmatched", 404)


def test_the_format_is_json_in_production_and_text_on_a_console(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def settings(**values: Any) -> Settings:
        return Settings(secret_key=TEST_SECRET, **values)

    assert settings(environment="production").effective_log_format == "json"
    assert settings(environment="development").effective_log_format == "text"
    assert settings(environment="production", log_format="text").effective_log_format == "text"

    kasir = logging.getLogger("kasir")
    saved = kasir.handlers[:], kasir.level
    token = request_id_var.set("rid-1")
    try:
        configure_logging("INFO", "text")
        logging.getLogger("kasir.test").info("hello", extra={"route": "/health"})
        configure_logging("INFO", "json")
        logging.getLogger("kasir.test").info("hello", extra={"route": "/health"})
    finally:
        request_id_var.reset(token)
        kasir.handlers[:], _ = saved
        kasir.setLevel(saved[1])
    text_line, json_line = capsys.readouterr().err.strip().splitlines()[-2:]
    assert "[rid-1] kasir.test: hello route=/health" in text_line
    entry = json.loads(json_line)
    assert entry["message"] == "hello" and entry["request_id"] == "rid-1"
    assert entry["route"] == "/health" and entry["level"] == "INFO"
