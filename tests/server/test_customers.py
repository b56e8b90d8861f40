"""The customers API: phone numbers in every spelling, one error shape for bad input,
who may do what, the tills' changes with a cursor, history and top customers (each test
on SQLite and MariaDB)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from shared.models.customers import local_phone, normalise_email, normalise_phone
from sync_server.core.database import Database
from sync_server.customers import service
from tests.server.conftest import World
from tests.server.sync_helpers import add_products, push, refund_event, statuses, void_event
from tests.server.test_points_ledger import RULE, customer_sale


def _create(client: TestClient, world: World, **body: object) -> dict:
    resp = client.post(
        "/api/v1/customers",
        json={"name": "Budi Santoso", "phone": "0812-1111-2222", **body},
        headers=world.manager_headers(),
    )
    assert resp.status_code == 201, resp.text
    return resp.json()


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("081234567890", "+6281234567890"),
        ("0812-3456-7890", "+6281234567890"),
        ("+62 812 3456 7890", "+6281234567890"),
        ("6281234567890", "+6281234567890"),
        ("(021) 555-1234", "+62215551234"),
    ],
)
def test_phone_spellings_are_one_number(typed: str, canonical: str) -> None:
    assert normalise_phone(typed) == canonical
    assert local_phone(canonical) == "0" + canonical[3:]


@pytest.mark.parametrize(
    "bad", ["", "12345", "8123456789", "0812", "+1 555 1234 567", "0812345678901234", "08ab1234567"]
)
def test_bad_phones_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        normalise_phone(bad)


def test_emails() -> None:
    assert normalise_email("  Sari@Example.co.id ") == "sari@example.co.id"
    assert normalise_email("") is None
    for bad in ("sari", "sari@", "@x.id", "a b@x.id", "sari@x"):
        with pytest.raises(ValueError):
            normalise_email(bad)


def test_create_find_edit(client: TestClient, world: World) -> None:
    made = _create(client, world, email="Budi@Example.com")
    assert made["phone"] == "+6281211112222"
    assert made["email"] == "budi@example.com"
    assert made["points"] == 0
    for spelling in ("081211112222", "+62 812-1111-2222", "6281211112222"):
        found = client.get(
            "/api/v1/customers", params={"phone": spelling}, headers=world.terminal_headers(0)
        )
        assert found.status_code == 200, found.text
        assert [c["id"] for c in found.json()["items"]] == [made["id"]]
    none = client.get(
        "/api/v1/customers", params={"phone": "0899 9999 9999"}, headers=world.terminal_headers(0)
    )
    assert none.json()["items"] == []
    edited = client.put(
        f"/api/v1/customers/{made['id']}",
        json={"name": "Budi S.", "phone": "0813 0000 1111"},
        headers=world.manager_headers(),
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["phone"] == "+6281300001111"
    assert edited.json()["email"] is None
    page = client.get("/api/v1/customers?q=budi", headers=world.manager_headers()).json()
    assert page["total"] == 1
    page = client.get("/api/v1/customers?q=0813000", headers=world.manager_headers()).json()
    assert page["total"] == 1
    page = client.get("/api/v1/customers?q=siti", headers=world.manager_headers()).json()
    assert page["total"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"name": "Sari", "phone": "12345"},
        {"name": "Sari", "phone": "0812 3456 7890", "email": "bukan-email"},
        {"name": "", "phone": "0812 3456 7890"},
        {"name": "Sari\x00", "phone": "0812 3456 7890"},
        {"name": "Sari", "phone": 81234567890},
        {"name": "Sari", "phone": "0" * 500},
        {"name": "Sari", "phone": "0812 3456 7890", "vip": True},
    ],
)
def test_bad_customers_are_422_in_the_one_shape(
    client: TestClient, world: World, body: dict
) -> None:
    resp = client.post("/api/v1/customers", json=body, headers=world.manager_headers())
    assert resp.status_code == 422, resp.text
    error = resp.json()["error"]
    assert error["code"] == "invalid"
    assert error["message"]
    assert error["details"]


def test_bad_lookups_and_adjustments(client: TestClient, world: World) -> None:
    made = _create(client, world)
    for query in ("phone=abc", "phone=" + "9" * 40, "limit=0", "limit=100000", "offset=-1"):
        resp = client.get(f"/api/v1/customers?{query}", headers=world.manager_headers())
        assert resp.status_code in (200, 422), (query, resp.text)
        if resp.status_code == 200:
            assert resp.json()["items"] == []
    resp = client.get("/api/v1/customers/not-a-uuid", headers=world.manager_headers())
    assert resp.status_code == 422
    for body in (
        {"points": 0, "reason": "x"},
        {"points": 10**12, "reason": "x"},
        {"points": 5, "reason": ""},
        {"points": 5.5, "reason": "x"},
        {"points": 5, "reason": "   "},
    ):
        resp = client.post(
            f"/api/v1/customers/{made['id']}/points", json=body, headers=world.manager_headers()
        )
        assert resp.status_code == 422, (body, resp.text)
        assert resp.json()["error"]["code"] == "invalid"
    for body in (
        {**RULE, "earn_per_rupiah": 0},
        {**RULE, "point_value": -1},
        {**RULE, "earn_points": 10**13},
        {**RULE, "enabled": "maybe"},
    ):
        resp = client.put("/api/v1/loyalty", json=body, headers=world.admin_headers())
        assert resp.status_code == 422, (body, resp.text)


def test_a_taken_phone_is_409(client: TestClient, world: World) -> None:
    first = _create(client, world)
    resp = client.post(
        "/api/v1/customers",
        json={"name": "Orang Lain", "phone": "+62 812 1111 2222"},
        headers=world.manager_headers(),
    )
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "customer_phone_taken"
    other = _create(client, world, name="Siti", phone="0857 1234 5678")
    resp = client.put(
        f"/api/v1/customers/{other['id']}",
        json={"name": "Siti", "phone": "081211112222"},
        headers=world.manager_headers(),
    )
    assert resp.status_code == 409
    assert first["id"] != other["id"]


def test_who_may_do_what(client: TestClient, world: World) -> None:
    made = _create(client, world)
    cashier, till = world.cashier_headers(), world.terminal_headers(0)
    assert client.get("/api/v1/customers", headers=cashier).status_code == 403
    assert client.get(f"/api/v1/customers/{made['id']}", headers=till).status_code == 403
    assert client.get("/api/v1/customers", headers=till).status_code == 422  # phone only
    assert client.get("/api/v1/customers/changes", headers=cashier).status_code == 403
    assert (
        client.get("/api/v1/customers/changes", headers=world.manager_headers()).status_code == 403
    )
    assert client.put("/api/v1/loyalty", json=RULE, headers=till).status_code == 403
    assert client.get("/api/v1/customers/top", headers=cashier).status_code == 403
    resp = client.post(
        f"/api/v1/customers/{made['id']}/points",
        json={"points": 5, "reason": "x"},
        headers=cashier,
    )
    assert resp.status_code == 403
    no_protocol = {"Authorization": till["Authorization"]}
    assert client.get("/api/v1/customers/changes", headers=no_protocol).status_code == 426
    made_by_till = client.post(
        "/api/v1/customers", json={"name": "Ani", "phone": "0811 2222 3333"}, headers=till
    )
    assert made_by_till.status_code == 201, made_by_till.text


def test_changes_page_with_a_cursor(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "SETTLE", timedelta(0))
    till = world.terminal_headers(0)
    first = client.get("/api/v1/customers/changes", headers=till).json()
    assert first == {
        "cursor": 0,
        "has_more": False,
        "customers": [],
        "loyalty": {
            "enabled": False,
            "earn_points": 1,
            "earn_per_rupiah": 10000,
            "point_value": 100,
        },
    }
    made = [
        _create(client, world, name=f"Pelanggan {i}", phone=f"0812 0000 00{i:02d}")
        for i in range(5)
    ]
    page = client.get("/api/v1/customers/changes?cursor=0&limit=3", headers=till).json()
    assert [c["id"] for c in page["customers"]] == [m["id"] for m in made[:3]]
    assert page["has_more"] is True
    rest = client.get(f"/api/v1/customers/changes?cursor={page['cursor']}&limit=3", headers=till)
    assert [c["id"] for c in rest.json()["customers"]] == [m["id"] for m in made[3:]]
    assert rest.json()["has_more"] is False
    cursor = rest.json()["cursor"]
    client.post(
        f"/api/v1/customers/{made[1]['id']}/points",
        json={"points": 7, "reason": "hadiah"},
        headers=world.manager_headers(),
    )
    later = client.get(f"/api/v1/customers/changes?cursor={cursor}", headers=till).json()
    assert [(c["id"], c["points"]) for c in later["customers"]] == [(made[1]["id"], 7)]
    for bad in ("cursor=-1", "cursor=abc", "limit=0", "limit=5000", f"cursor={2**63}"):
        resp = client.get(f"/api/v1/customers/changes?{bad}", headers=till)
        assert resp.status_code == 422, bad


def test_young_changes_are_sent_again(client: TestClient, world: World) -> None:
    _create(client, world)
    till = world.terminal_headers(0)
    page = client.get("/api/v1/customers/changes", headers=till).json()
    assert len(page["customers"]) == 1
    assert page["cursor"] == 0  # younger than SETTLE: the cursor waits for it
    again = client.get(f"/api/v1/customers/changes?cursor={page['cursor']}", headers=till).json()
    assert len(again["customers"]) == 1


def test_history_and_top_customers(client: TestClient, db: Database, world: World) -> None:
    client.put("/api/v1/loyalty", json=RULE, headers=world.admin_headers())
    product = add_products(db, 1, price=10_000)[0]
    sari = customer_sale(world, product, 4, phone="0812 1111 0001", name="Sari")
    sari2 = customer_sale(
        world,
        product,
        1,
        phone="0812 1111 0001",
        name="Sari",
        customer_id=sari["payload"]["customer"]["id"],
    )
    budi = customer_sale(world, product, 2, phone="0812 1111 0002", name="Budi")
    budi_void = customer_sale(world, product, 9, phone="0812 1111 0002", name="Budi")
    events = [sari, sari2, budi, budi_void]
    assert statuses(push(client, world.terminal_headers(0), events)) == ["applied"] * 4
    refund = refund_event(sari, lines=[(0, 1)], approved_by=world.manager_id)
    void = void_event(budi_void, approved_by=world.manager_id)
    assert statuses(push(client, world.terminal_headers(0), [refund, void])) == ["applied"] * 2

    cid = sari["payload"]["customer"]["id"]
    history = client.get(f"/api/v1/customers/{cid}", headers=world.manager_headers())
    assert history.status_code == 200, history.text
    body = history.json()
    assert body["customer"]["points"] == 4  # 4 + 1 earned, 1 taken back
    assert body["spend"] == 40_000  # 50.000 less the 10.000 refund
    assert body["visits"] == 2
    assert [m["kind"] for m in body["moves"]] == ["refund", "earn", "earn"]
    assert body["moves"][0]["receipt_number"] == sari["payload"]["receipt_number"]
    assert {s["refunded"] for s in body["sales"]} == {0, 10_000}

    top = client.get("/api/v1/customers/top", headers=world.manager_headers())
    assert top.status_code == 200, top.text
    rows = top.json()
    assert [(r["name"], r["spend"], r["visits"]) for r in rows] == [
        ("Sari", 40_000, 2),
        ("Budi", 20_000, 1),
    ]
    assert rows[1]["points"] == 2
    # Another store's manager sees none of it; an admin names the store.
    other = client.get(
        f"/api/v1/customers/top?store_id={world.other_store_id}", headers=world.manager_headers()
    )
    assert other.status_code == 403
    admin = client.get(
        f"/api/v1/customers/top?store_id={world.other_store_id}", headers=world.admin_headers()
    )
    assert admin.json() == []

    csv = client.get("/api/v1/customers/top?format=csv", headers=world.manager_headers())
    assert csv.status_code == 200
    lines = csv.text.strip().splitlines()
    assert lines[0] == "name,phone,spend,visits,points_earned,points_redeemed,points"
    assert lines[1].startswith("Sari,+6281211110001,40000,2,")
    xlsx = client.get("/api/v1/customers/top?format=xlsx", headers=world.manager_headers())
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert table[0][:3] == ["Pelanggan", "Telepon", "Belanja"]
    assert table[1][:4] == ["Sari", "+6281211110001", 40_000, 2]
    assert sheet.cell(row=2, column=3).number_format == '"Rp "#,##0'
    # Every figure of the file is the JSON report's.
    keys = ["name", "phone", "spend", "visits", "points_earned", "points_redeemed", "points"]
    assert [list(r) for r in table[1:]] == [[row[k] for k in keys] for row in rows]
    empty = client.get(
        "/api/v1/customers/top?format=xlsx&day_from=2001-01-01&day_to=2001-01-31",
        headers=world.manager_headers(),
    )
    assert [
        list(r) for r in load_workbook(io.BytesIO(empty.content)).active.iter_rows(values_only=True)
    ] == [table[0]]
