"""Same id, other content: a ``conflict`` kept on the till and shown to the manager, never
a silent ``duplicate``; event ids in their one spelling; and no pushed or pulled input
makes the server answer 500."""

from __future__ import annotations

import copy
import json
import typing
from datetime import datetime
from pathlib import Path
from uuid import UUID

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import select

import shared.models as wire
from pos_client.store import LocalStore
from pos_client.sync.client import SyncClient
from pos_client.sync.worker import SyncWorker
from shared.models import MAX_BIGINT, MAX_INT, MAX_RUPIAH
from sync_server.auth.models import User
from sync_server.core.database import Database
from sync_server.sync.models import RejectedEvent, Sale, SyncEvent
from tests.server.conftest import World
from tests.server.sync_helpers import (
    CatalogProduct,
    add_products,
    envelope,
    push,
    row_counts,
    sale_event,
    shift_open_event,
    statuses,
)


def _sale(world: World, product: CatalogProduct, qty: int = 1, terminal: int = 0) -> dict:
    return sale_event(
        terminal_code=f"T0{terminal + 1}",
        cashier_id=world.cashier_ids[0],
        items=[(product, qty)],
    )


def _answers(resp) -> list[tuple[str, str | None]]:
    assert resp.status_code == 200, resp.text
    return [(r["status"], r["code"]) for r in resp.json()["results"]]


def _records(db: Database) -> list[RejectedEvent]:
    with db.session() as s:
        return list(s.scalars(select(RejectedEvent).order_by(RejectedEvent.id)))


def _error(resp) -> dict:
    body = resp.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def _one_sale_applied(
    client: TestClient, db: Database, world: World
) -> tuple[CatalogProduct, dict[str, str], dict]:
    """A product, terminal 0's headers and a sale of that product terminal 0 pushed."""
    (product,) = add_products(db)
    headers = world.terminal_headers(0)
    first = _sale(world, product)
    assert statuses(push(client, headers, [first])) == ["applied"]
    return product, headers, first


# --- same id, other content ----------------------------------------------------------


def test_same_id_with_other_content_is_a_conflict_not_a_duplicate(
    client: TestClient, db: Database, world: World
) -> None:
    product, headers, first = _one_sale_applied(client, db, world)

    other = _sale(world, product, qty=5)
    other["id"] = first["id"]
    before = row_counts(db)
    (answer,) = push(client, headers, [other]).json()["results"]
    assert (answer["id"], answer["status"], answer["code"]) == (first["id"], "conflict", "conflict")
    assert row_counts(db) == before  # the second sale is not applied over the first
    with db.session() as s:
        assert s.get(Sale, UUID(other["payload"]["id"])) is None
    (record,) = _records(db)
    assert (record.event_id, record.terminal_id, record.code) == (
        UUID(first["id"]),
        world.terminal_ids[0],
        "conflict",
    )
    assert json.loads(record.payload)["payload"]["lines"][0]["quantity"] == 5
    assert record.resolved_at is None

    # The very same content again is still a duplicate, and a retried conflict stays one.
    assert statuses(push(client, headers, [first])) == ["duplicate"]
    assert statuses(push(client, headers, [other])) == ["conflict"]
    (record,) = _records(db)
    assert record.attempts == 2 and record.resolved_at is None


def test_a_refused_event_applied_when_pushed_again_is_resolved_and_others_stay_open(
    client: TestClient, db: Database, world: World
) -> None:
    (product,) = add_products(db)
    headers = world.terminal_headers(0)
    sales = [_sale(world, product, qty=q) for q in (1, 2)]
    with db.session() as s:
        cashier = s.get(User, world.cashier_ids[0])
        assert cashier is not None
        cashier.active = False
    assert _answers(push(client, headers, sales)) == [("rejected", "unknown_cashier")] * 2
    with db.session() as s:
        cashier = s.get(User, world.cashier_ids[0])
        assert cashier is not None
        cashier.active = True

    # The first is sent again once the cashier is back: applied, and its record resolved.
    assert statuses(push(client, headers, [sales[0]])) == ["applied"]
    first, second = sorted(_records(db), key=lambda r: r.event_id != UUID(sales[0]["id"]))
    assert first.event_id == UUID(sales[0]["id"]) and first.resolved_at is not None
    assert first.resolution == "applied when pushed again"
    assert second.resolved_at is None  # not pushed again: still the manager's to see

    # A batch whose ids were never refused leaves every record as it was.
    assert statuses(push(client, headers, [_sale(world, product, qty=3)])) == ["applied"]
    resolved = {r.event_id: r.resolved_at is not None for r in _records(db)}
    assert resolved == {UUID(sales[0]["id"]): True, UUID(sales[1]["id"]): False}


def test_the_same_instant_written_another_way_is_the_same_event(
    client: TestClient, db: Database, world: World
) -> None:
    (product,) = add_products(db)
    headers = world.terminal_headers(0)
    sale = _sale(world, product)
    sale["created_at"] = sale["payload"]["created_at"] = "2024-05-01T03:00:00+00:00"
    assert statuses(push(client, headers, [sale])) == ["applied"]
    again = copy.deepcopy(sale)
    again["created_at"] = again["payload"]["created_at"] = "2024-05-01T10:00:00+07:00"
    again["payload"]["order_discount"] = 0  # the default, written out
    assert statuses(push(client, headers, [again])) == ["duplicate"]


def test_events_applied_before_digests_count_as_duplicates(
    client: TestClient, db: Database, world: World
) -> None:
    product, headers, first = _one_sale_applied(client, db, world)
    with db.session() as s:
        stored = s.get(SyncEvent, UUID(first["id"]))
        assert stored is not None and stored.digest is not None and len(stored.digest) == 64
        stored.digest = None  # as a row migrated from before this revision
    other = _sale(world, product, qty=2)
    other["id"] = first["id"]
    assert statuses(push(client, headers, [other])) == ["duplicate"]


def test_one_id_twice_in_a_batch(client: TestClient, db: Database, world: World) -> None:
    (product,) = add_products(db)
    headers = world.terminal_headers(0)
    sale = _sale(world, product)
    different = _sale(world, product, qty=3)
    different["id"] = sale["id"]
    assert _answers(push(client, headers, [sale, copy.deepcopy(sale), different])) == [
        ("applied", None),
        ("duplicate", None),
        ("conflict", "conflict"),
    ]
    assert row_counts(db)["sales"] == 1
    (record,) = _records(db)
    # Recorded for the manager, and not marked resolved by its twin being applied.
    assert record.code == "conflict" and record.resolved_at is None
    assert json.loads(record.payload)["payload"]["lines"][0]["quantity"] == 3


def test_an_id_of_another_terminal_is_a_conflict_that_reveals_nothing(
    client: TestClient, db: Database, world: World
) -> None:
    (product,) = add_products(db)
    mine = _sale(world, product)
    assert statuses(push(client, world.terminal_headers(0), [mine])) == ["applied"]

    # Even an identical copy from another terminal is not "duplicate": T02 never sent it.
    theirs = _sale(world, product, terminal=1)
    theirs["id"] = mine["id"]
    answers = [
        push(client, world.terminal_headers(1), [event]).json()["results"][0]
        for event in (copy.deepcopy(mine), theirs)
    ]
    assert [(a["status"], a["code"]) for a in answers] == [("conflict", "conflict")] * 2
    assert answers[0]["reason"] == answers[1]["reason"]
    for word in ("T01", mine["payload"]["receipt_number"], mine["payload"]["id"]):
        assert word not in answers[0]["reason"]
    assert row_counts(db)["sales"] == 1
    (record,) = _records(db)
    assert record.terminal_id == world.terminal_ids[1]


def test_a_terminal_never_overwrites_another_terminals_record(
    client: TestClient, db: Database, world: World
) -> None:
    (product,) = add_products(db)
    mine = _sale(world, product)
    mine["payload"]["lines"][0]["product_id"] = 777_001
    assert _answers(push(client, world.terminal_headers(0), [mine])) == [
        ("rejected", "unknown_product")
    ]
    intruder = envelope("teleport", {"anything": 1})
    intruder["id"] = mine["id"]
    assert _answers(push(client, world.terminal_headers(1), [intruder])) == [
        ("rejected", "unknown_event_type")
    ]
    records = {r.terminal_id: r for r in _records(db)}
    assert set(records) == set(world.terminal_ids)
    own = records[world.terminal_ids[0]]
    assert (own.type, own.code, own.attempts) == ("sale", "unknown_product", 1)
    assert json.loads(own.payload)["payload"]["lines"][0]["product_id"] == 777_001


# --- event ids ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "spell",
    [
        pytest.param(lambda i: "{" + i + "}", id="braces"),
        pytest.param(str.upper, id="upper-case"),
        pytest.param(lambda i: i.replace("-", ""), id="no-dashes"),
        pytest.param(lambda i: "urn:uuid:" + i, id="urn"),
        pytest.param(lambda i: "00000000-0000-0000-0000-000000000000", id="all-zero"),
    ],
)
def test_event_ids_must_be_canonical(
    client: TestClient, db: Database, world: World, spell: typing.Callable[[str], str]
) -> None:
    (product,) = add_products(db)
    odd = _sale(world, product)
    odd["id"] = spell(odd["id"])
    fine = _sale(world, product)
    results = push(client, world.terminal_headers(0), [odd, fine]).json()["results"]
    assert [(r["status"], r["code"]) for r in results] == [
        ("rejected", "invalid_event_id"),
        ("applied", None),
    ]
    assert results[0]["id"] == str(UUID(odd["id"]))
    assert row_counts(db)["sales"] == 1
    (record,) = _records(db)
    assert record.code == "invalid_event_id"


def test_an_id_that_is_no_uuid_at_all_refuses_the_batch(
    client: TestClient, db: Database, world: World
) -> None:
    (product,) = add_products(db)
    broken = _sale(world, product)
    broken["id"] = "not-a-uuid"
    resp = push(client, world.terminal_headers(0), [broken, _sale(world, product)])
    assert resp.status_code == 422 and _error(resp)["code"] == "invalid"
    assert row_counts(db)["sync_events"] == 0


# --- nothing answers 500 ------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "moment"),
    [
        ("envelope", "0001-01-01T00:00:00+07:00"),
        ("envelope", "9999-12-31T23:59:59-05:00"),
        ("payload", "0001-01-01T00:00:00+00:00"),
        ("payload", "9999-12-31T23:00:00+00:00"),
        ("payload", "0001-01-01T00:30:00+01:00"),
    ],
)
def test_times_beyond_the_calendar_are_refused_per_event(
    client: TestClient, db: Database, world: World, where: str, moment: str
) -> None:
    (product,) = add_products(db)
    odd = _sale(world, product)
    if where == "envelope":
        odd["created_at"] = moment
    else:
        odd["payload"]["created_at"] = moment
    shift = shift_open_event(user_id=world.cashier_ids[0])
    shift["payload"]["opened_at"] = moment
    results = push(client, world.terminal_headers(0), [odd, shift, _sale(world, product)])
    assert results.status_code == 200, results.text
    answers = [(r["status"], r["code"]) for r in results.json()["results"]]
    assert answers == [
        ("rejected", "time_out_of_range"),
        ("rejected", "time_out_of_range"),
        ("applied", None),
    ]
    assert "created_at" in results.json()["results"][0]["reason"]
    assert row_counts(db)["sales"] == 1 and row_counts(db)["shifts"] == 0


def test_push_waiting_and_pull_cursor_are_bounded(
    client: TestClient, db: Database, world: World
) -> None:
    (product,) = add_products(db)
    headers = world.terminal_headers(0)
    for waiting in (2**31, 2**63, 10**30):
        resp = push(client, headers, [_sale(world, product)], waiting=waiting)
        assert resp.status_code == 422, resp.text
        assert _error(resp)["code"] == "invalid"
    assert statuses(push(client, headers, [_sale(world, product)], waiting=MAX_INT)) == ["applied"]
    for cursor in (2**63, 2**64, 10**40, -1):
        resp = client.get("/api/v1/sync/pull", params={"cursor": cursor}, headers=headers)
        assert resp.status_code == 422, resp.text
        assert _error(resp)["code"] == "invalid"
    last = client.get("/api/v1/sync/pull", params={"cursor": MAX_BIGINT}, headers=headers)
    assert last.status_code == 200, last.text
    assert last.json()["cursor"] == MAX_BIGINT and last.json()["has_more"] is False


def test_money_beyond_the_maximum_is_refused(
    client: TestClient, db: Database, world: World
) -> None:
    (product,) = add_products(db)
    too_much = _sale(world, product)
    too_much["payload"]["lines"][0]["unit_price"] = MAX_RUPIAH + 1
    cash_in = shift_open_event(user_id=world.cashier_ids[0], opening_float=MAX_RUPIAH + 1)
    results = push(client, world.terminal_headers(0), [too_much, cash_in]).json()["results"]
    assert [(r["status"], r["code"]) for r in results] == [("rejected", "invalid_payload")] * 2
    assert "unit_price" in results[0]["reason"] and "opening_float" in results[1]["reason"]


def _nested(levels: int) -> dict:
    value: dict = {"bottom": True}
    for _ in range(levels):
        value = {"x": value}
    return value


def test_a_deeply_nested_or_huge_rejected_event_is_still_recorded(
    client: TestClient, db: Database, world: World
) -> None:
    (product,) = add_products(db)
    deep = envelope("sale", _nested(500))
    deep_unknown = envelope("teleport", _nested(500))
    huge = _sale(world, product)
    huge["payload"]["note"] = "ü" * 100_000  # an unknown field, far beyond a TEXT column
    batch = [deep, deep_unknown, huge, _sale(world, product)]
    resp = push(client, world.terminal_headers(0), batch)
    assert _answers(resp) == [
        ("rejected", "invalid_payload"),
        ("rejected", "unknown_event_type"),
        ("rejected", "invalid_payload"),
        ("applied", None),
    ]
    records = {str(r.event_id): r for r in _records(db)}
    assert set(records) == {deep["id"], deep_unknown["id"], huge["id"]}
    for event in (deep, deep_unknown, huge):
        kept = json.loads(records[event["id"]].payload)  # always JSON, clipped when needed
        assert (kept["id"], kept["type"]) == (event["id"], event["type"])
    assert len(records[huge["id"]].payload.encode()) <= 65_535
    # Pushed again, the same records count another attempt.
    assert _answers(push(client, world.terminal_headers(0), batch[:3]))[0][0] == "rejected"
    assert {r.attempts for r in _records(db)} == {2}


def _integer_fields() -> list[tuple[str, str, object]]:
    found = []
    for name in wire.__all__:
        model = getattr(wire, name)
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            continue
        for field_name, field in model.model_fields.items():
            args = typing.get_args(field.annotation) or (field.annotation,)
            if int in args:
                found.append((name, field_name, field))
    return found


def test_every_wire_integer_is_bounded() -> None:
    fields = _integer_fields()
    assert len(fields) > 40
    unbounded = []
    for model, name, field in fields:
        low = [m for m in field.metadata if hasattr(m, "ge") or hasattr(m, "gt")]  # type: ignore[attr-defined]
        high = [m for m in field.metadata if hasattr(m, "le") or hasattr(m, "lt")]  # type: ignore[attr-defined]
        if not (low and high):
            unbounded.append(f"{model}.{name}")
        for bound in high:
            assert getattr(bound, "le", None) or getattr(bound, "lt", 0) <= MAX_BIGINT
    assert unbounded == []
    price = wire.ProductIn.model_fields["price"]
    assert str(MAX_RUPIAH) in (price.description or "")


# --- the till keeps a conflict ------------------------------------------------------


def test_the_till_keeps_a_conflict_and_shows_it(
    app: FastAPI, client: TestClient, db: Database, world: World, tmp_path: Path
) -> None:
    (product,) = add_products(db)
    applied = _sale(world, product)
    assert statuses(push(client, world.terminal_headers(0), [applied])) == ["applied"]
    clash = _sale(world, product, qty=4)
    path = tmp_path / "till.sqlite3"
    till = LocalStore(path)
    with till._write():
        till._insert_outbox(
            applied["id"], "sale", datetime.fromisoformat(clash["created_at"]), clash["payload"]
        )
    till.close()

    worker = SyncWorker(
        lambda: LocalStore(path),
        lambda: SyncClient(
            TestClient(app), base_url="http://testserver", token=world.terminal_tokens[0]
        ),
    )
    report = worker.run_once()
    assert report.rejected_now == 1 and report.pending == 0

    till = LocalStore(path)
    try:
        (kept,) = till.rejected_events()
        assert (str(kept.id), kept.code) == (applied["id"], "conflict")
        assert kept.payload["lines"][0]["quantity"] == 4
        assert till.pending_count() == 0
    finally:
        till.close()
