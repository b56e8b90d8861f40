"""What ``/metrics`` tells Prometheus: requests by route template, sync pushes (batch size,
last push, events waiting, flagged claims), QRIS orders by status, the database pool,
and that it answers only with the metrics token once one is set.

Counters are process-wide, so each test compares a figure before and after.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from sync_server.core.database import Database
from sync_server.main import create_app
from tests.server.conftest import World, make_settings
from tests.server.sync_helpers import add_products, push, sale_event, statuses
from tests.server.test_payments import (  # noqa: F401 - fixtures reused by name
    app,
    callback_body,
    new_order,
    open_qr,
    order_row,
    post_callback,
    sandbox_app,
)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def exposed(client: TestClient, **headers: str) -> str:
    answer = client.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.text


def _sale(world: World, items: list[Any], terminal: int = 0) -> dict[str, Any]:
    return sale_event(
        terminal_code=f"T0{terminal + 1}", cashier_id=world.cashier_ids[0], items=items
    )


def test_requests_are_labelled_by_route_template_never_by_raw_path(
    client: TestClient, world: World, db: Database
) -> None:
    (product,) = add_products(db)
    assert statuses(push(client, world.terminal_headers(0), [_sale(world, [(product, 1)])])) == [
        "applied"
    ]
    client.get(f"/api/v1/stock/levels/{product.id}", headers=world.manager_headers())
    client.get("/api/v1/no-such-thing/12345")
    client.patch(f"/api/v1/users/{world.cashier_ids[0]}", json={}, headers=world.manager_headers())
    text = exposed(client)
    # Routers included in routers: the template carries every prefix.
    assert 'method="PATCH",route="/api/v1/users/{user_id}"' in text
    # A route of an included router: its template, with the method and status.
    assert (
        'kasir_http_request_duration_seconds_count{method="POST",'
        'route="/api/v1/sync/push",status="200"}'
    ) in text
    assert 'route="?"' not in text
    assert 'route="unmatched",status="404"' in text
    assert "no-such-thing" not in text and "12345" not in text
    routes = set(re.findall(r'route="([^"]*)"', text))
    assert all(r == "unmatched" or r.startswith("/") for r in routes), routes


def test_a_strange_method_gets_a_bounded_label(client: TestClient) -> None:
    client.request("BREW", "/health")
    text = exposed(client)
    assert 'method="BREW"' not in text
    assert 'method="other"' in text


def test_a_push_counts_its_batch_size_last_push_waiting_events_and_flags(
    client: TestClient, world: World, db: Database
) -> None:
    (product,) = add_products(db, price=3_500)
    batches_before = sample("kasir_sync_push_batch_size_count")
    in_batches_before = sample("kasir_sync_push_batch_size_sum")
    flags_before = sample("kasir_sync_flags_total", kind="price_mismatch")
    applied_before = sample("kasir_sync_events_total", type="sale", status="applied")
    started = time.time()

    honest = _sale(world, [(product, 1)])
    cheap = _sale(world, [(replace(product, price=1), 1)])  # applied, flagged price_mismatch
    answer = push(client, world.terminal_headers(0), [honest, cheap], waiting=7)
    assert statuses(answer) == ["applied", "applied"]
    # The same events again: duplicates, so no flag is counted twice.
    assert statuses(push(client, world.terminal_headers(0), [honest, cheap])) == [
        "duplicate",
        "duplicate",
    ]

    assert sample("kasir_sync_push_batch_size_count") == batches_before + 2
    assert sample("kasir_sync_push_batch_size_sum") == in_batches_before + 4
    assert sample("kasir_sync_flags_total", kind="price_mismatch") == flags_before + 1
    assert sample("kasir_sync_events_total", type="sale", status="applied") == applied_before + 2
    assert sample("kasir_sync_events_waiting", terminal="T01") == 7
    assert sample("kasir_sync_last_push_timestamp_seconds", terminal="T01") >= started - 1
    text = exposed(client)
    assert 'kasir_sync_flags_total{kind="price_mismatch"}' in text
    assert 'kasir_sync_last_push_timestamp_seconds{terminal="T01"}' in text


def test_the_pool_and_requests_in_progress_are_exposed(client: TestClient) -> None:
    text = exposed(client)
    assert re.search(r'^kasir_db_pool_connections_in_use\{database="main"\} ', text, re.M)
    # The scrape itself is a request in progress while the text is made.
    assert re.search(r'^kasir_http_requests_in_progress\{method="GET"\} [1-9]', text, re.M)


def test_qris_orders_count_every_status_they_take(
    client: TestClient, world: World, db: Database
) -> None:
    created, paid = (sample("kasir_payments_total", status=s) for s in ("created", "PAID"))
    assert new_order(client, world).status_code == 201
    assert new_order(client, world).status_code in (200, 201)  # the same order again
    assert sample("kasir_payments_total", status="created") == created + 1
    assert open_qr(client, world).status_code == 200
    order = order_row(db)
    assert post_callback(client, callback_body(order)).status_code == 200
    assert post_callback(client, callback_body(order)).status_code == 200  # a duplicate
    assert sample("kasir_payments_total", status="PAID") == paid + 1

    refunded = sample("kasir_payments_total", status="REFUND")
    assert post_callback(client, callback_body(order, status="REFUND")).status_code == 200
    assert sample("kasir_payments_total", status="REFUND") == refunded + 1
    assert 'kasir_payments_total{status="PAID"}' in exposed(client)


@pytest.fixture
def guarded(db_url: str) -> Iterator[TestClient]:
    application: FastAPI = create_app(make_settings(db_url, metrics_token="s3cret-scrape-token"))
    with TestClient(application) as c:
        yield c
    application.state.db.dispose()


def test_with_a_token_set_metrics_answer_only_with_it(guarded: TestClient) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "s3cret-scrape-token"},
    ):
        answer = guarded.get("/metrics", headers=headers)
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "metrics_token_required"
        assert answer.json()["error"]["message"]
    text = exposed(guarded, Authorization="Bearer s3cret-scrape-token")
    assert "kasir_http_request_duration_seconds" in text
