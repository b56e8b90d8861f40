"""The back office's Transaksi and Shift & kas pages on both databases: what they show,
in Indonesian with dd/mm/yyyy and rupiah, their filters, paging, downloads and refusals."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shared.ids import new_id
from sync_server.core.database import Database
from tests.server.conftest import StoreStaff, World, other_staff  # noqa: F401 - a fixture
from tests.server.sync_helpers import (
    add_products,
    cash_move_event,
    one_minute_apart,
    push,
    refund_event,
    sale_event,
    shift_close_event,
    shift_open_event,
    statuses,
    void_event,
)
from tests.web.conftest import WebClient

ISO_DAY = re.compile(r">\s*\d{4}-\d{2}-\d{2}")


def _db(client: TestClient) -> Database:
    db: Database = client.app.state.db  # type: ignore[attr-defined]
    return db


@pytest.fixture
def pushed(manager_web: WebClient, world: World) -> dict[str, Any]:
    """A closed shift on T01 with sales, a refund, a void, cash moves; a QRIS sale on T02."""
    client = manager_web.http
    [product] = add_products(_db(client), 1, price=12_500)
    cashier = world.cashier_ids[0]
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    at = one_minute_apart(base)

    shift = at(shift_open_event(user_id=cashier, opening_float=150_000))
    sid = shift["payload"]["id"]
    sold = at(
        sale_event(
            terminal_code="T01",
            cashier_id=cashier,
            items=[(product, 2)],
            tendered=30_000,
            shift_id=sid,
        )
    )
    refunded = at(
        sale_event(
            terminal_code="T01",
            cashier_id=cashier,
            items=[(product, 3)],
            tendered=40_000,
            shift_id=sid,
        )
    )
    voided = at(
        sale_event(terminal_code="T01", cashier_id=cashier, items=[(product, 1)], shift_id=sid)
    )
    refund = at(refund_event(refunded, lines=[(0, 1)], approved_by=world.manager_id))
    refund["payload"]["shift_id"] = sid
    void = at(void_event(voided, approved_by=world.manager_id))
    move = at(cash_move_event(shift, user_id=cashier, amount=-40_000, reason="setor bank"))
    expected = 150_000 + 25_000 + 37_500 + 12_500 - 12_500 - 12_500 - 40_000
    close = at(
        shift_close_event(
            shift, user_id=cashier, counted_cash=expected - 2_000, expected_cash=expected
        )
    )
    t01 = [shift, sold, refunded, voided, refund, void, move, close]
    assert statuses(push(client, world.terminal_headers(0), t01)) == ["applied"] * len(t01)
    qris = at(
        sale_event(
            terminal_code="T02",
            cashier_id=world.cashier_ids[1],
            items=[(product, 1)],
            method="qris",
        )
    )
    assert statuses(push(client, world.terminal_headers(1), [qris])) == ["applied"]
    return {
        "shift": shift,
        "sold": sold,
        "refunded": refunded,
        "voided": voided,
        "qris": qris,
        "expected": expected,
        "local_day": (base + timedelta(hours=7)).date(),
    }


def test_sales_list_filters_and_pages(manager_web: WebClient, world: World, pushed: dict) -> None:
    http = manager_web.http
    page = http.get("/web/sales")
    assert page.status_code == 200
    html = page.text
    assert "Transaksi" in html and 'aria-current="page">Transaksi' in html
    for event in ("sold", "refunded", "voided", "qris"):
        assert pushed[event]["payload"]["receipt_number"] in html
    assert "Rp 25.000" in html and "Tunai" in html and "QRIS" in html
    assert "Dibatalkan" in html and "Diretur" in html and "1 tanda" in html
    assert not ISO_DAY.search(html.split("<main", 1)[1].replace('value="', "")), "ISO date shown"
    assert re.search(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", html)
    only_t2 = http.get("/web/sales", params={"terminal_id": world.terminal_ids[1]}).text
    assert pushed["qris"]["payload"]["receipt_number"] in only_t2
    assert pushed["sold"]["payload"]["receipt_number"] not in only_t2
    voided = http.get("/web/sales", params={"status": "voided"}).text
    assert pushed["voided"]["payload"]["receipt_number"] in voided
    assert pushed["sold"]["payload"]["receipt_number"] not in voided
    # junk in the form never breaks the page
    junk = http.get("/web/sales", params={"min_total": "abc", "terminal_id": "-1"})
    assert junk.status_code == 200
    # ...but a date that is no date is refused in words, not ignored (tests below)
    bad_cursor = http.get("/web/sales", params={"cursor": "nonsense"})
    assert bad_cursor.status_code == 422 and "Penanda halaman" in bad_cursor.text
    # the download links work with the session cookie
    csv_link = re.search(r'id="csv-link" href="([^"]+)"', html)
    assert csv_link
    csv = http.get(csv_link.group(1).replace("&amp;", "&"))
    assert csv.status_code == 200 and csv.text.startswith("receipt_number,")
    assert len(csv.text.splitlines()) == 5


def test_more_link_pages_through_every_sale(manager_web: WebClient, world: World) -> None:
    http = manager_web.http
    [product] = add_products(_db(http), 1, price=1_000)
    moment = datetime.now(UTC).replace(microsecond=0).isoformat()
    events = [
        sale_event(
            terminal_code="T01",
            cashier_id=world.cashier_ids[0],
            items=[(product, 1)],
            created_at=moment,
        )
        for _ in range(53)
    ]
    assert set(statuses(push(http, world.terminal_headers(0), events))) == {"applied"}
    first = http.get("/web/sales").text
    more = re.search(r'href="([^"]+)" id="more"', first)
    assert more and "Muat lagi" in first
    second = http.get(more.group(1).replace("&amp;", "&")).text
    assert 'id="more"' not in second and "Ke awal" in second
    shown = re.findall(r'data-sale="([^"]+)"', first) + re.findall(r'data-sale="([^"]+)"', second)
    assert sorted(shown) == sorted(e["payload"]["id"] for e in events)


def test_sale_detail_page(
    manager_web: WebClient,
    world: World,
    pushed: dict,
    other_staff: StoreStaff,  # noqa: F811
) -> None:
    http = manager_web.http
    refunded = http.get(f"/web/sales/{pushed['refunded']['payload']['id']}")
    assert refunded.status_code == 200
    text = refunded.text
    assert "Retur 1" in text and "Disetujui" in text and "Manager" in text
    assert "Tunai dari laci" in text and "Rp 37.500" in text and "Kembalian" in text
    voided = http.get(f"/web/sales/{pushed['voided']['payload']['id']}").text
    assert "Pembatalan" in voided and "salah input" in voided
    flagged = http.get(f"/web/sales/{pushed['qris']['payload']['id']}").text
    assert "Tanda" in flagged and 'class="card flag' in flagged
    assert http.get(f"/web/sales/{new_id()}").status_code == 404
    assert http.get("/web/sales/not-a-uuid").status_code == 422
    [product] = add_products(_db(http), 1)
    headers = {"Authorization": f"Bearer {other_staff.terminal_token}", "X-Kasir-Protocol": "1"}
    theirs = sale_event(
        terminal_code="S02T1", cashier_id=other_staff.cashier_id, items=[(product, 1)]
    )
    assert statuses(push(http, headers, [theirs])) == ["applied"]
    other = http.get(f"/web/sales/{theirs['payload']['id']}")
    assert other.status_code == 404 and theirs["payload"]["receipt_number"] not in other.text


def test_shift_pages_and_cash_reconciliation(
    manager_web: WebClient, world: World, pushed: dict
) -> None:
    http = manager_web.http
    listing = http.get("/web/shifts")
    assert listing.status_code == 200
    assert "Shift &amp; kas" in listing.text and "Kas seharusnya" in listing.text
    assert "Rp 160.000" in listing.text  # the server's expected cash
    assert "-Rp 2.000" in listing.text  # counted 2.000 short
    shift_id = pushed["shift"]["payload"]["id"]
    detail = http.get(f"/web/shifts/{shift_id}")
    assert detail.status_code == 200
    for text in (
        "Laci kas",
        "Modal awal",
        "Rp 150.000",
        "setor bank",
        "-Rp 40.000",
        "Batal tunai",
        "Selisih",
    ):
        assert text in detail.text, text
    assert http.get(f"/web/shifts/{new_id()}").status_code == 404
    cash = http.get("/web/cash", params={"day": pushed["local_day"].isoformat()})
    assert cash.status_code == 200
    assert "Rekap kas" in cash.text and pushed["local_day"].strftime("%d/%m/%Y") in cash.text
    assert 'id="totals"' in cash.text and "Rp 160.000" in cash.text
    empty = http.get("/web/cash", params={"day": "2020-01-01"})
    assert "Tidak ada shift" in empty.text
    assert http.get("/web/cash", params={"day": "nonsense"}).status_code == 422


def test_cashiers_and_strangers_are_refused(client: TestClient, world: World) -> None:
    assert client.get("/web/sales", follow_redirects=False).status_code == 303
    client.cookies.set("kasir_session", world.cashier_token)
    for url in ("/web/sales", "/web/shifts", "/web/cash", f"/web/sales/{new_id()}"):
        assert client.get(url).status_code == 403, url


# ---------------------------------------------------------------- typed dates (dd/mm/yyyy)


def _main(html: str) -> str:
    """The page's main content without its date fields (they show what was typed)."""
    return re.sub(r"<input[^>]*>", "", html.split("<main", 1)[1])


def _rows(html: str) -> list[str]:
    """The page's main content without its date fields (they show what was typed)."""
    main = html.split("<main", 1)[1]
    return re.findall(r"<tr\b.*?</tr>", re.sub(r"<input[^>]*>", "", main), flags=re.S)


def test_a_typed_dd_mm_yyyy_filter_shows_the_same_rows_as_iso(
    manager_web: WebClient, pushed: dict
) -> None:
    http = manager_web.http
    day = pushed["local_day"]
    week_ago = day - timedelta(days=6)
    typed = {
        "dd/mm/yyyy": (f"{week_ago:%d/%m/%Y}", f"{day:%d/%m/%Y}"),
        "d/m/yyyy": (
            f"{week_ago.day}/{week_ago.month}/{week_ago.year}",
            f"{day.day}/{day.month}/{day.year}",
        ),
        "dd-mm-yyyy": (f"{week_ago:%d-%m-%Y}", f"{day:%d-%m-%Y}"),
    }
    for path, first, last in (("/web/sales", "start", "end"), ("/web/shifts", "start", "end")):
        iso = http.get(path, params={first: week_ago.isoformat(), last: day.isoformat()})
        assert iso.status_code == 200
        assert _rows(iso.text), path
        for shape, (a, b) in typed.items():
            page = http.get(path, params={first: a, last: b})
            assert page.status_code == 200, (path, shape)
            assert _rows(page.text) == _rows(iso.text), (path, shape)
            # the form shows the period back the shop's way
            assert f'value="{week_ago:%d/%m/%Y}"' in page.text, (path, shape)
            assert f'value="{day:%d/%m/%Y}"' in page.text, (path, shape)
    flags_iso = http.get("/web/flags", params={"day_from": day.isoformat(), "status": "all"})
    flags_typed = http.get("/web/flags", params={"day_from": f"{day:%d/%m/%Y}", "status": "all"})
    assert flags_iso.status_code == flags_typed.status_code == 200
    assert _main(flags_typed.text) == _main(flags_iso.text)
    assert f'value="{day:%d/%m/%Y}"' in flags_iso.text
    cash_iso = http.get("/web/cash", params={"day": day.isoformat()})
    cash_typed = http.get("/web/cash", params={"day": f"{day:%d/%m/%Y}"})
    assert cash_iso.status_code == cash_typed.status_code == 200
    assert _rows(cash_typed.text) == _rows(cash_iso.text) and _rows(cash_iso.text)
    report_iso = http.get(
        "/web/reports/sales", params={"start": week_ago.isoformat(), "end": day.isoformat()}
    )
    report_typed = http.get(
        "/web/reports/sales", params={"start": f"{week_ago:%d/%m/%Y}", "end": f"{day:%d/%m/%Y}"}
    )
    assert report_iso.status_code == report_typed.status_code == 200
    assert _rows(report_typed.text) == _rows(report_iso.text)
    assert "Rp 62.500" in report_typed.text
    customers_iso = http.get(
        "/web/customers", params={"start": week_ago.isoformat(), "end": day.isoformat()}
    )
    customers_typed = http.get(
        "/web/customers", params={"start": f"{week_ago:%d/%m/%Y}", "end": f"{day:%d/%m/%Y}"}
    )
    assert customers_iso.status_code == customers_typed.status_code == 200
    assert _rows(customers_typed.text) == _rows(customers_iso.text)


BAD_DATES = ("x", "31/02/2025", "2025/12/31", "12-31", "1/1/25", "2025-1-1", "32/01/2025")


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/web/sales", "start"),
        ("/web/sales", "end"),
        ("/web/shifts", "start"),
        ("/web/cash", "day"),
        ("/web/flags", "day_from"),
        ("/web/flags", "day_to"),
        ("/web/customers", "end"),
        ("/web/reports/sales", "start"),
        ("/web/payments", "end"),
    ],
)
def test_a_bad_date_is_refused_in_words(manager_web: WebClient, path: str, field: str) -> None:
    for bad in BAD_DATES:
        page = manager_web.http.get(path, params={field: bad})
        assert page.status_code == 422, (path, field, bad, page.status_code)
        assert page.headers["content-type"].startswith("text/html")
        assert f"Tanggal {bad} tidak dikenali: tulis dd/mm/yyyy" in page.text, (path, bad)
    blank = manager_web.http.get(path, params={field: ""})
    assert blank.status_code == 200, (path, field)


def test_the_date_fields_are_text_boxes_showing_dd_mm_yyyy(manager_web: WebClient) -> None:
    http = manager_web.http
    for path in (
        "/web/sales",
        "/web/shifts",
        "/web/cash",
        "/web/flags",
        "/web/customers",
        "/web/reports/sales",
        "/web/payments",
    ):
        html = http.get(path).text
        assert 'type="date"' not in html, path
        boxes = re.findall(r'<input[^>]*placeholder="dd/mm/yyyy"[^>]*>', html)
        assert boxes, path
        for box in boxes:
            assert (
                'type="text"' in box
                and 'inputmode="numeric"' in box
                and 'autocomplete="off"' in box
            )
            assert "pattern=" in box
            value = re.search(r'value="([^"]*)"', box)
            assert value is not None
            assert value.group(1) == "" or re.fullmatch(r"\d{2}/\d{2}/\d{4}", value.group(1)), (
                path,
                box,
            )
