"""The exceptions page "Perlu perhatian": list, filter, resolve (SQLite and MariaDB).

Flags are made the real way: suspicious sales pushed by the world's tills.
"""

from __future__ import annotations

import re
from dataclasses import replace

from fastapi.testclient import TestClient
from sqlalchemy import select

from sync_server.auth.models import User
from sync_server.core.database import Database
from sync_server.flags.models import Flag
from tests.server.conftest import World
from tests.server.sync_helpers import add_products, push, sale_event, statuses
from tests.web.conftest import WebClient


def _flag_some(client: TestClient, db: Database, world: World) -> dict[str, dict]:
    """A price flag from T01 and a tax flag from T02; the two sale events."""
    (product,) = add_products(db, price=3_500)
    cheap = sale_event(
        terminal_code="T01",
        cashier_id=world.cashier_ids[0],
        items=[(replace(product, price=1_000), 2)],
    )
    untaxed = sale_event(
        terminal_code="T02",
        cashier_id=world.cashier_ids[1],
        items=[(replace(product, tax_rate_bp=0), 1)],
    )
    assert statuses(push(client, world.terminal_headers(0), [cheap])) == ["applied"]
    assert statuses(push(client, world.terminal_headers(1), [untaxed])) == ["applied"]
    return {"price": cheap, "tax": untaxed}


def _flag_ids(db: Database) -> dict[str, int]:
    with db.session() as s:
        return {f.kind: f.id for f in s.scalars(select(Flag))}


def _ids_on(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<article class="card flag[^"]*" id="flag-(\d+)"', html)]


def test_the_page_lists_flags_in_plain_indonesian(
    manager_web: WebClient, client: TestClient, db: Database, world: World
) -> None:
    events = _flag_some(client, db, world)
    page = manager_web.http.get("/web/flags")
    assert page.status_code == 200
    html = page.text
    assert "Harga tidak cocok" in html and "PPN tidak cocok" in html
    assert "harga di kasir Rp 1.000, seharusnya Rp 3.500" in html
    assert "PPN di kasir 0%, seharusnya 11%" in html
    assert events["price"]["payload"]["receipt_number"] in html
    with db.session() as s:
        cashier = s.get(User, world.cashier_ids[0])
        assert cashier is not None
        assert cashier.full_name in html
    assert "T01" in html and "T02" in html
    assert len(_ids_on(html)) == 2
    # The navigation and the dashboard lead here, with the count.
    assert 'href="/web/flags"' in html
    board = manager_web.http.get("/web/").text
    assert re.search(r'id="open-flags" href="/web/flags\?store_id=\d+">Perlu perhatian: 2<', board)


def test_filters_narrow_the_list(
    manager_web: WebClient, client: TestClient, db: Database, world: World
) -> None:
    _flag_some(client, db, world)
    ids = _flag_ids(db)
    get = manager_web.http.get
    assert _ids_on(get("/web/flags?kind=tax_mismatch").text) == [ids["tax_mismatch"]]
    by_till = get(f"/web/flags?terminal_id={world.terminal_ids[0]}").text
    assert _ids_on(by_till) == [ids["price_mismatch"]]
    by_cashier = get(f"/web/flags?cashier_id={world.cashier_ids[1]}").text
    assert _ids_on(by_cashier) == [ids["tax_mismatch"]]
    assert _ids_on(get("/web/flags?day_from=2001-01-01&day_to=2001-01-31").text) == []
    assert 'id="no-flags"' in get("/web/flags?day_from=2001-01-01&day_to=2001-01-31").text
    assert _ids_on(get("/web/flags?status=resolved").text) == []
    # A form sends empty values for "all": they mean no filter, not an error.
    everything = get("/web/flags?kind=&terminal_id=&cashier_id=&day_from=&day_to=&status=all")
    assert everything.status_code == 200 and len(_ids_on(everything.text)) == 2


def test_resolving_needs_a_note_and_records_who_when_why(
    manager_web: WebClient, client: TestClient, db: Database, world: World
) -> None:
    _flag_some(client, db, world)
    flag_id = _flag_ids(db)["price_mismatch"]
    empty = manager_web.post(f"/web/flags/{flag_id}/resolve", {"note": "  "})
    assert empty.status_code == 422 and "tulis catatan" in empty.text
    refused = manager_web.http.post(
        f"/web/flags/{flag_id}/resolve", data={"note": "x"}, follow_redirects=False
    )
    assert refused.status_code == 403 and "CSRF" in refused.text
    with db.session() as s:
        assert s.get(Flag, flag_id).resolved_at is None  # type: ignore[union-attr]

    done = manager_web.post(
        f"/web/flags/{flag_id}/resolve",
        {"note": "harga promo lama, sudah dicek", "back_to": "/web/flags?status=open"},
    )
    assert done.status_code == 303
    assert done.headers["location"].startswith("/web/flags?status=open")
    with db.session() as s:
        row = s.get(Flag, flag_id)
        assert row is not None and row.resolved_at is not None
        assert (row.resolved_by, row.resolution) == (
            world.manager_id,
            "harga promo lama, sudah dicek",
        )
        manager = s.get(User, world.manager_id)
        assert manager is not None
        manager_name = manager.full_name
    after = manager_web.http.get(done.headers["location"]).text
    assert f"Tanda #{flag_id} diselesaikan." in after
    assert flag_id not in _ids_on(after)
    resolved = manager_web.http.get("/web/flags?status=resolved").text
    assert _ids_on(resolved) == [flag_id]
    assert f"Diselesaikan oleh <strong>{manager_name}</strong>" in resolved
    assert "harga promo lama, sudah dicek" in resolved
    assert 'action="/web/flags/' not in resolved  # no form on a resolved flag
    again = manager_web.post(f"/web/flags/{flag_id}/resolve", {"note": "lagi"})
    assert again.status_code == 409
    assert "Perlu perhatian: 1<" in manager_web.http.get("/web/").text


def test_cashiers_get_403_and_other_stores_flags_stay_hidden(
    manager_web: WebClient, client: TestClient, db: Database, world: World
) -> None:
    _flag_some(client, db, world)
    flag_id = _flag_ids(db)["price_mismatch"]
    manager_web.http.cookies.clear()
    client.cookies.set("kasir_session", world.cashier_token)
    assert client.get("/web/flags").status_code == 403
    assert client.post(f"/web/flags/{flag_id}/resolve", data={"note": "x"}).status_code == 403
    client.cookies.clear()
    # A manager naming another store still sees their own store's flags.
    client.cookies.set("kasir_session", world.manager_token)
    mine = client.get(f"/web/flags?store_id={world.other_store_id}").text
    assert len(_ids_on(mine)) == 2


def test_the_sales_report_toggles_flagged_sales_and_shows_recomputed_ppn(
    manager_web: WebClient, client: TestClient, db: Database, world: World
) -> None:
    _flag_some(client, db, world)
    page = manager_web.http.get("/web/reports/sales?preset=7d").text
    assert 'id="flagged-note"' in page and "2 transaksi bertanda" in page
    assert 'id="tax-note"' in page
    # 2 × 1.000 at 11% inclusive holds Rp 198 of PPN; the untaxed 3.500 should hold Rp 347.
    assert "menurut kasir <strong>Rp 198</strong>" in page
    assert "seharusnya <strong>Rp 545</strong>" in page
    without = manager_web.http.get("/web/reports/sales?preset=7d&exclude_flagged=true").text
    assert "tidak dihitung" in without
    assert re.search(r'id="exclude-flagged"[^>]*aria-current="page"', without)
    assert 'id="csv-link" href="/api/v1/reports/sales?granularity=day&amp;exclude_flagged=true' in (
        without
    )
    # Both flagged sales left out: no sales at all in the chart.
    assert "Belum ada data untuk grafik." in without or 'data-value="0"' in without
    board = manager_web.http.get("/web/?exclude_flagged=true").text
    assert re.search(r'id="exclude-flagged"[^>]*aria-current="page"', board)
