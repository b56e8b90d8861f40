"""Refunds given back outside the till: ``external`` on the wire, in the refunds table and
apart in the reports; refunds sent before ``external`` existed keep their digest."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from shared.models import EventType, RefundIn, RefundMethod
from sync_server.core.database import Database
from sync_server.reports import service
from sync_server.sync.ingest.parse import event_digest
from sync_server.sync.models import Refund
from tests.server.conftest import World
from tests.server.sync_helpers import add_products, push, refund_event, sale_event, statuses


def test_a_qris_sale_refunded_outside_the_till_is_external_in_the_reports(
    client: TestClient, db: Database, world: World
) -> None:
    teh, indomie = add_products(db, 2)
    cashier = world.cashier_ids[0]
    qris_sale = sale_event(terminal_code="T01", cashier_id=cashier, items=[(teh, 2)], method="qris")
    cash_sale = sale_event(terminal_code="T01", cashier_id=cashier, items=[(indomie, 1)])
    outside = refund_event(qris_sale, lines=[(0, 1)], approved_by=world.manager_id)
    outside["payload"]["method"] = "external"
    in_cash = refund_event(cash_sale, lines=[(0, 1)], approved_by=world.manager_id)
    headers = world.terminal_headers(0)
    assert (
        statuses(push(client, headers, [qris_sale, cash_sale, outside, in_cash])) == ["applied"] * 4
    )
    assert statuses(push(client, headers, [outside])) == ["duplicate"]

    with db.session() as s:
        methods = dict(s.execute(select(Refund.id, Refund.method)).all())
    assert sorted(methods.values()) == ["cash", "external"]

    today = service.store_today(db, store_id=world.store_id)
    rows = {
        r.method: r
        for r in service.by_payment_method(db, store_id=world.store_id, start=today, end=today)
    }
    ext = rows["external"]
    assert (ext.label, ext.payments_count, ext.amount) == ("Di luar kasir", 0, 0)
    assert (ext.refunds_count, ext.refunds_amount) == (1, outside["payload"]["total"])
    assert (rows["qris"].refunds_count, rows["qris"].amount) == (0, qris_sale["payload"]["total"])
    assert (rows["cash"].refunds_count, rows["cash"].label) == (1, "Tunai")

    report = service.refunds_voids_discounts(db, store_id=world.store_id, start=today, end=today)
    assert [(r.method, r.label, r.refunds_count) for r in report.refunds_by_method] == [
        ("cash", "Tunai", 1),
        ("external", "Di luar kasir", 1),
    ]
    assert report.totals.refunds_count == 2

    resp = client.get(
        "/api/v1/reports/payment-methods",
        params={"store_id": world.store_id, "start": str(today), "end": str(today)},
        headers=world.manager_headers(),
    )
    assert resp.status_code == 200, resp.text
    assert {r["method"]: r["label"] for r in resp.json()}["external"] == "Di luar kasir"


def test_an_unknown_refund_method_is_refused(
    client: TestClient, db: Database, world: World
) -> None:
    (teh,) = add_products(db)
    sale = sale_event(terminal_code="T01", cashier_id=world.cashier_ids[0], items=[(teh, 1)])
    refund = refund_event(sale, lines=[(0, 1)], approved_by=world.manager_id)
    refund["payload"]["method"] = "giro"
    resp = push(client, world.terminal_headers(0), [sale, refund])
    assert resp.status_code == 200, resp.text
    assert [(r["status"], r["code"]) for r in resp.json()["results"]] == [
        ("applied", None),
        ("rejected", "invalid_payload"),
    ]


def test_refund_digests_of_existing_methods_are_unchanged() -> None:
    """A refund applied before ``external`` existed and pushed again after an upgrade keeps
    its digest: the canonical form is written out here by hand, as it always was."""
    created = datetime(2025, 6, 15, 3, 0, tzinfo=UTC)
    for method in (None, "cash", "qris", "qris_static"):
        payload = {
            "id": "0190f3c2-0000-7000-8000-000000000001",
            "sale_id": "0190f3c2-0000-7000-8000-000000000002",
            "cashier_id": 3,
            "approved_by": 2,
            "reason": "transfer balik",
            "created_at": "2025-06-15T10:00:00+07:00",
            "lines": [
                {
                    "id": "0190f3c2-0000-7000-8000-000000000003",
                    "sale_line_id": "0190f3c2-0000-7000-8000-000000000004",
                    "quantity": 1,
                    "amount": 5000,
                }
            ],
            "total": 5000,
        }
        if method is not None:
            payload["method"] = method
        refund = RefundIn.model_validate(payload)
        assert refund.method is RefundMethod(method or "cash")
        canonical = {
            "type": "refund",
            "created_at": "2025-06-15T03:00:00+00:00",
            "payload": {
                **{k: v for k, v in payload.items() if k != "method"},
                "created_at": "2025-06-15T03:00:00+00:00",
                "shift_id": None,
                "method": method or "cash",
            },
        }
        text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        expected = hashlib.sha256(text.encode("utf-8")).hexdigest()
        assert event_digest(EventType.REFUND, created, refund) == expected
